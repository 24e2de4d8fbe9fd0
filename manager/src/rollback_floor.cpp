#include "rollback_floor.hpp"

#include "base/errors.hpp"

#include <fmt/format.h>

namespace deltalogctl {

std::uint64_t unfinished_commit(const deltalog::LogState &log)
{
	return log.sb.merging() ? log.sb.merge_target_seq : 0;
}

ResolvedTime rollback_floor(const deltalog::LogState &log, const std::string &object)
{
	TimeSpec floor;
	floor.kind = TimeSpec::Kind::seq;
	floor.seq = log.sb.merging() ? log.sb.merge_target_seq : log.sb.merged_seq;
	floor.text = fmt::format("#{}", floor.seq);
	return resolve_time_spec(floor, log, 0, object);	// a seq: no clock needed
}

void refuse_below_unfinished_commit(const deltalog::LogState &log, const ResolvedTime &target,
				    const std::string &object, const std::string &retry)
{
	const std::uint64_t commit = unfinished_commit(log);
	if (target.seq >= commit)
		return;
	const ResolvedTime floor = rollback_floor(log, object);
	throw Failure(object,
		      fmt::format("{} is before the end of an interrupted commit: the history up to seq {} "
				  "is being committed into the origin",
				  target.description, commit),
		      fmt::format("The oldest state left to roll back to is {}{}.", floor.description,
				  retry.empty() ? "" : fmt::format(": {} '#{}'", retry, floor.seq)));
}

} // namespace deltalogctl
