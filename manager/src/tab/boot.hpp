// What the initramfs brings up before it mounts the root: the deltalogtab
// lines with the option root or x-initrd.attach, after the kernel command
// line had its say, and the `deltalogctl activate` of each (the same
// arguments deltalog-generator puts in deltalog@NAME.service). Used by
// `deltalogctl boot-root` (initramfs-tools) and by the generator (dracut
// and the main system).
#pragma once

#include "tab/deltalogtab.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace deltalogctl::tab {

// `activate NAME ORIGIN DELTA [--on-full X] [--commit-ms MS]
// [--rollback-all | --rollback-to T]`: deltalogctl's arguments for e,
// with its boot policy.
std::vector<std::string> activate_args(const TabEntry &e);

struct InitramfsPlan {
	bool enabled = true;			// false: deltalog=0
	std::vector<TabEntry> entries;		// the root line first, then x-initrd.attach lines
	std::vector<std::string> errors;	// bad lines and parameters, each skipped
};

// The devices the initramfs activates, from the tab file's text (tab_path
// for messages; an empty text for a missing file) and the kernel command
// line, its rd.deltalog.* parameters included.
InitramfsPlan plan_initramfs(std::string_view tab_text, const std::string &tab_path, std::string_view cmdline);

} // namespace deltalogctl::tab
