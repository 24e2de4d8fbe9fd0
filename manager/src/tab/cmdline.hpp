// The kernel command line's say over deltalogtab, modelled on
// systemd-cryptsetup-generator's luks.* / rd.luks.* (the manual is
// docs/deltalogtab.5, KERNEL COMMAND LINE):
//
//   deltalog=0                       no units at all (1, yes, true, on: the default)
//   deltalog.tab=0                   ignore /etc/deltalogtab (deltalog.entry= still counts)
//   deltalog.entry="NAME ORIGIN DELTA [OPTIONS]"
//                                    a tab line; it replaces the tab's line of that NAME
//   deltalog.rollback=[NAME:]T       roll NAME back to T at this boot (T: @mark, #seq,
//                                    -2h, 2026-11-24T09:36, ... as deltalogctl takes it)
//   deltalog.boot=[NAME:]POLICY      keep, rollback or rollback-to=@MARK for this boot
//
// Without NAME (or when the text before the first ':' names no entry, as in
// deltalog.rollback=09:36) the value is for the entry with the option root.
// Each key also comes as rd.deltalog...: honoured in the initramfs only,
// while deltalog... is honoured in both. A later parameter overrides an
// earlier one. Values may be double-quoted, as systemd reads the command line.
#pragma once

#include "tab/deltalogtab.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace deltalogctl::tab {

// The command line split into words as systemd does: blanks separate,
// double quotes group (and are removed): a="b c" -> a=b c.
std::vector<std::string> split_cmdline(std::string_view cmdline);

struct CmdlineOverride {
	std::string value;	// "[NAME:]VALUE" as given
	std::string where;	// "deltalog.rollback=box:@x", for messages
};

struct CmdlineConfig {
	bool enabled = true;
	bool use_tab = true;
	std::vector<CmdlineOverride> entries;	// deltalog.entry= lines
	std::vector<CmdlineOverride> rollbacks;
	std::vector<CmdlineOverride> boots;
	std::vector<std::string> errors;	// "kernel command line: ..." messages
};

// The deltalog parameters of cmdline; rd.* ones only when in_initrd. Other
// parameters are ignored; unknown deltalog.* ones are errors.
CmdlineConfig parse_cmdline(std::string_view cmdline, bool in_initrd);

// Applies config to the tab's entries (tab_entries is ignored when
// deltalog.tab=0): deltalog.entry= lines added or replacing, then
// deltalog.boot= and deltalog.rollback= (which wins over boot for its
// device). Bad values are appended to errors and skipped.
std::vector<TabEntry> apply_cmdline(std::vector<TabEntry> tab_entries, const CmdlineConfig &config,
				    std::vector<std::string> &errors);

} // namespace deltalogctl::tab
