// activate's rollback before activation (see activation_rollback.hpp).
#include "activation_rollback.hpp"

#include "base/errors.hpp"

#include "deltalog/writer.hpp"

#include <fmt/format.h>

namespace deltalogctl {

ActivationRollback plan_activation_rollback(const deltalog::LogState &log, const std::optional<TimeSpec> &spec,
					    std::uint64_t now_ns, const std::string &name)
{
	if (log.sb.merging())
		throw Failure(name,
			      fmt::format("cannot roll back before activating: a commit up to #{} was interrupted "
					  "and the origin may hold part of it",
					  log.sb.merge_target_seq),
			      fmt::format("Activate without rolling back (the kernel finishes the commit), then roll "
					  "back: deltalogctl rollback {} --to T",
					  name));
	TimeSpec all;
	all.kind = TimeSpec::Kind::seq;
	all.seq = log.sb.merged_seq;
	all.text = fmt::format("#{}", log.sb.merged_seq);
	ActivationRollback plan;
	plan.target = resolve_time_spec(spec ? *spec : all, log, now_ns, name);
	plan.undone = summarize(log, plan.target.seq);
	return plan;
}

void roll_back_log(deltalog::Device &delta, const ActivationRollback &plan)
{
	if (!plan.undone.records)
		return;
	deltalog::Writer writer(delta);
	writer.rollback(plan.target.seq);
	writer.stop();
}

} // namespace deltalogctl
