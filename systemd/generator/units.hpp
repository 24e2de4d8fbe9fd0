// What deltalog-generator writes for deltalogtab's entries: unit files and
// the .wants/.requires links that pull them in, as data, so that tests can
// compare them with files kept in the tree (tests/unit/generator/).
//
// Per entry NAME (in unit names escaped as `systemd-escape NAME` does):
//   deltalog@NAME.service          activates the device (deltalogctl activate),
//                                  applying the boot policy; ExecStop deactivates
//   deltalog-mark-boot@NAME.service  (mark-boot) marks last-good-boot once
//                                  multi-user.target is reached
//   deltalog-commit@NAME.service,  (commit=SPEC) commits up to the newest mark
//   deltalog-commit@NAME.timer     on the calendar SPEC
//   deltalog.target                what deltalog@*.service are wanted by
//                                  (required by, without nofail); wanted by
//                                  sysinit.target
// In the main system, devices the initramfs activates (root,
// x-initrd.attach) get no deltalog@NAME.service, only their mark and commit
// units. In the initramfs only those devices get units: the root device's
// service is required by initrd-root-device.target and has no ExecStop.
#pragma once

#include "tab/deltalogtab.hpp"

#include <string>
#include <vector>

namespace deltalogctl::generator {

struct GeneratedFile {
	std::string path;	// relative to the generator's output directory
	std::string text;	// the file's contents, when it is not a link
	std::string link_to;	// a symbolic link to this, when not empty
};

struct GeneratorInput {
	std::vector<tab::TabEntry> entries;
	bool in_initrd = false;
	std::string tab_path;		// for SourcePath= of the tab's entries
	std::string deltalogctl;	// absolute path of deltalogctl
};

// Files in a stable order: for each entry its units then its links, then
// deltalog.target and its link when an entry needs it.
std::vector<GeneratedFile> generate_units(const GeneratorInput &input);

} // namespace deltalogctl::generator
