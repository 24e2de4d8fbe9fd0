// How far back a rollback may go. Committed history is in the origin: a
// rollback stops at the last commit (merged_seq). A commit that a crash
// interrupted (the superblock says MERGING, target S) was asked for, and
// the kernel finishes it at the next activation; part of it may be in the
// origin already. So the history up to S counts as committed: a rollback
// may go back to S, not before. Writer::rollback keeps the merge in the
// superblock, so the kernel then finishes it (FORMAT.md 7.2).
#pragma once

#include "timespec.hpp"

#include "deltalog/log.hpp"

#include <cstdint>
#include <string>

namespace deltalogctl {

// The target of the commit a crash interrupted; 0 when there is none.
std::uint64_t unfinished_commit(const deltalog::LogState &log);

// The oldest state a rollback may go back to: the target of an unfinished
// commit, or else the last commit (or the origin before any write).
ResolvedTime rollback_floor(const deltalog::LogState &log, const std::string &object);

// Throws Failure (object) when target lies before the end of an unfinished
// commit, naming the oldest state left; retry ("deltalogctl rollback box
// --to", or "" for none) is the command the hint shows with that state.
void refuse_below_unfinished_commit(const deltalog::LogState &log, const ResolvedTime &target,
				    const std::string &object, const std::string &retry);

} // namespace deltalogctl
