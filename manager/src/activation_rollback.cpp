// activate's rollback before activation (see activation_rollback.hpp).
#include "activation_rollback.hpp"

#include "rollback_floor.hpp"

#include "deltalog/writer.hpp"

namespace deltalogctl {

ActivationRollback plan_activation_rollback(const deltalog::LogState &log, const std::optional<TimeSpec> &spec,
					    std::uint64_t now_ns, const std::string &name)
{
	ActivationRollback plan;
	plan.target = spec ? resolve_time_spec(*spec, log, now_ns, name) : rollback_floor(log, name);
	refuse_below_unfinished_commit(log, plan.target, name, "");
	plan.undone = summarize(log, plan.target.seq);
	plan.unfinished_commit = unfinished_commit(log);
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
