// The rollback `deltalogctl activate --rollback-to T | --rollback-all` does
// before the device comes up: the boot policies of deltalogtab(5)
// (boot=rollback, boot=rollback-to=@MARK, deltalog.rollback= on the kernel
// command line). The device is not active yet, so nothing can have it open:
// the log is rolled back on the delta directly, as `rollback` does once it
// has taken the device down.
#pragma once

#include "history.hpp"
#include "timespec.hpp"

#include "deltalog/device.hpp"
#include "deltalog/log.hpp"

#include <optional>
#include <string>

namespace deltalogctl {

struct ActivationRollback {
	ResolvedTime target;
	HistorySummary undone;	// what goes; no records: nothing to do
	std::uint64_t unfinished_commit = 0;	// its target (rollback_floor.hpp); 0: none
};

// Where a rollback to spec goes: nullopt for all the history in the log
// (back to rollback_floor(): the target of a commit a crash interrupted,
// which the kernel then finishes, or the last commit, or the origin as it
// was before any write). Throws Failure (object name) when spec does not
// resolve (an unknown mark, a time before the oldest history ...) or lies
// before the end of an interrupted commit.
ActivationRollback plan_activation_rollback(const deltalog::LogState &log, const std::optional<TimeSpec> &spec,
					    std::uint64_t now_ns, const std::string &name);

// Rolls delta's log back as planned (a delta opened read-write, with no
// writer on it); nothing when nothing is undone.
void roll_back_log(deltalog::Device &delta, const ActivationRollback &plan);

} // namespace deltalogctl
