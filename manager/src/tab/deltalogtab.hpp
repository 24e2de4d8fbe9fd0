// /etc/deltalogtab: the devices to protect at boot, one a line (the manual
// is docs/deltalogtab.5):
//
//   # NAME   ORIGIN                DELTA                  OPTIONS
//   root     UUID=0b5e...          PARTLABEL=root-delta   root,on-full=merge-oldest,mark-boot,commit=daily
//   lab      /dev/sdb1             /dev/sdc1              boot=rollback
//
// Fields are separated by blanks; a field, or a value inside OPTIONS, may be
// double-quoted to hold blanks or commas (LABEL="My Disk",
// commit="Mon,Fri 03:00"). '#' starts a comment at the start of a line.
// A bad line is reported with FILE:LINE and skipped: the other lines still
// count, nothing is fatal.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace deltalogctl::tab {

// ORIGIN or DELTA as written: a path under /dev, or a tag that udev turns
// into a /dev/disk/by-* link.
struct DeviceSpec {
	enum class Kind { path, uuid, partuuid, label, partlabel };
	Kind kind = Kind::path;
	std::string value;	// the path, or the tag's value
	std::string text;	// as written (quotes removed): "UUID=0b5e..."

	// The device node units and commands use: the path itself, or
	// /dev/disk/by-uuid/<value> (by-partuuid, by-label, by-partlabel), the
	// value encoded as udev encodes it (My\x20Disk).
	std::string node() const;
};

// What happens to the history at boot, before the device is used.
struct BootPolicy {
	enum class Kind { keep, rollback, rollback_to };
	Kind kind = Kind::keep;
	// rollback_to: a time as deltalogctl takes it: "@MARK" from the tab,
	// any form from deltalog.rollback= on the kernel command line.
	std::string to;
	bool once = false;	// from the kernel command line, for this boot only
};

struct TabEntry {
	std::string name;
	DeviceSpec origin;
	DeviceSpec delta;
	std::string on_full;			// "", "error" or "merge-oldest"
	std::optional<std::uint32_t> commit_ms;
	BootPolicy boot;
	std::string commit;			// calendar spec, "" for none
	bool mark_boot = false;
	bool nofail = false;
	bool noauto = false;
	bool root = false;			// the root filesystem (the initramfs activates it)
	bool initrd = false;			// x-initrd.attach: activated in the initramfs
	std::string where;			// "/etc/deltalogtab:3", for messages
};

// A bad line: the message says what is wrong and what is expected.
class TabError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

// Why NAME cannot be the name of a protected device, nullopt if it can:
// device-mapper's rules (1 to 127 bytes, no '/', not "." or "..") and
// the tab's own (no ':', which separates names on the kernel command line;
// no leading '-', which deltalogctl would read as an option; no control
// characters).
std::optional<std::string> name_problem(std::string_view name);

// Why LABEL cannot be a mark label (1 to 63 of A-Z a-z 0-9 . _ : -), nullopt
// if it can.
std::optional<std::string> label_problem(std::string_view label);

// A boot= value: keep, rollback or rollback-to=@MARK; TabError if not.
BootPolicy parse_boot_policy(std::string_view value);

// One line. nullopt for a blank or comment line; a bad line throws
// TabError with the message alone (no file or line: the caller adds them).
// `where` is stored in the entry.
std::optional<TabEntry> parse_tab_line(std::string_view line, const std::string &where);

struct TabContents {
	std::vector<TabEntry> entries;
	std::vector<std::string> errors;	// "FILE:LINE: message", in line order
};

// The whole file. Later lines that repeat a name, or a second `root`,
// are errors of their own.
TabContents parse_tab(std::string_view text, const std::string &file);

} // namespace deltalogctl::tab
