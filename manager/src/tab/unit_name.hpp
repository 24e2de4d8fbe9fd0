// systemd's names for things, as the generator writes them: unit names
// escaped the way `systemd-escape` and `systemd-escape --path` do
// (systemd's unit_name_escape() and unit_name_path_escape()), the udev
// /dev/disk/by-* link of a UUID=, LABEL=, ... tag, and the quoting of
// unit file values (specifiers, command lines).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace deltalogctl::tab {

// `systemd-escape STRING`: '/' becomes '-'; a leading '.' and every byte
// that is not a letter, digit, ':', '_' or '.' (so '-' and '\\' too) become
// \xNN (lower-case hex). Multi-byte UTF-8 is escaped byte by byte.
std::string unit_name_escape(std::string_view text);

// `systemd-escape --path PATH`: repeated slashes and "." components are
// dropped, leading and trailing slashes removed, then escaped as above;
// "/" alone is "-". A path that is not absolute or has a ".." component
// gives nullopt (systemd refuses those too).
std::optional<std::string> unit_name_path_escape(std::string_view path);

// The .device unit systemd has for a device node path:
// dev-disk-by\x2duuid-1234.device for /dev/disk/by-uuid/1234.
std::optional<std::string> device_unit(std::string_view path);

// The name udev gives a tag value in its /dev/disk/by-* links (udev's
// encode_devnode_name()): letters, digits, valid UTF-8 sequences and
// "#+-.:=@_" stay; every other byte becomes \xNN; "My Disk" -> My\x20Disk.
std::string udev_encode(std::string_view value);

// A value for a unit file line where specifiers are expanded (Description=,
// ExecStart= ...): '%' doubled.
std::string specifier_escape(std::string_view text);

// One word of an ExecStart= command line: as it is when it is made of
// letters, digits and "/._:=@+,-" only; otherwise in double quotes with '\\'
// and '"' escaped. '%' is doubled and '$' doubled in both cases (systemd
// expands specifiers and environment variables in command lines).
std::string exec_word(std::string_view word);

} // namespace deltalogctl::tab
