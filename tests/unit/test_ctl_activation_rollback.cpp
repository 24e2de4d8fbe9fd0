// activate --rollback-to / --rollback-all (manager/src/activation_rollback.cpp):
// the boot policies' rollback, planned against a log and done on the delta
// before the device is active.
#include "activation_rollback.hpp"

#include "base/errors.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

using namespace deltalogctl;

namespace {

constexpr std::uint64_t far_future = std::uint64_t(4'000'000'000) * 1'000'000'000;

// WRITE (1), MARK clean (2), WRITE (3), WRITE (4).
void write_history(dlt::Env &e)
{
	e.w().append_write(0, dlt::pattern(8192, 1));
	e.w().append_mark("clean");
	e.w().append_write(16, dlt::pattern(4096, 2));
	e.w().append_write(32, dlt::pattern(4096, 3));
	e.w().sync();
}

TimeSpec mark(const std::string &label)
{
	return parse_time_spec("@" + label, far_future);
}

} // namespace

TEST(CtlActivationRollback, ToAMark)
{
	dlt::Env e;
	write_history(e);
	const auto before = e.image(2);
	const ActivationRollback plan = plan_activation_rollback(e.recover(), mark("clean"), far_future, "lab");
	EXPECT_EQ(plan.target.seq, 2u);
	EXPECT_EQ(plan.undone.records, 2u);
	e.writer.reset();
	roll_back_log(e.delta, plan);
	const auto log = e.recover();
	EXPECT_EQ(summarize(log).newest_seq, 2u);	// the history; the ROLLBACK record is not
	EXPECT_EQ(e.image(log.newest_seq()), before);
}

TEST(CtlActivationRollback, AllTheHistory)
{
	dlt::Env e;
	write_history(e);
	const ActivationRollback plan = plan_activation_rollback(e.recover(), std::nullopt, far_future, "lab");
	EXPECT_EQ(plan.target.seq, 0u);
	EXPECT_EQ(plan.undone.records, 4u);
	e.writer.reset();
	roll_back_log(e.delta, plan);
	const auto log = e.recover();
	EXPECT_EQ(summarize(log).records, 0u);
	EXPECT_EQ(e.image(log.newest_seq()), e.origin_bytes());
	// Sequence numbers are not reused: the next write comes after 4.
	EXPECT_GT(log.next_seq, 4u);
}

TEST(CtlActivationRollback, AllGoesBackToTheLastCommitOnly)
{
	dlt::Env e;
	write_history(e);
	e.w().merge(e.origin, 2);
	const ActivationRollback plan = plan_activation_rollback(e.recover(), std::nullopt, far_future, "lab");
	EXPECT_EQ(plan.target.seq, 2u);
	EXPECT_EQ(plan.undone.records, 2u);
}

// A power cut during a commit up to #3 (the mark is #2, #4 comes after).
void cut_commit_to_3(dlt::Env &e)
{
	deltalog::MergeHooks crash;
	crash.after_copy = [](std::size_t) { throw std::runtime_error("power cut"); };
	EXPECT_THROW(e.w().merge(e.origin, 3, crash), std::runtime_error);
	e.reopen();
	ASSERT_TRUE(e.recover().sb.merging());
}

// boot=rollback after the cut: back to the commit's target, which stays
// there for the kernel to finish.
TEST(CtlActivationRollback, AllGoesBackToAnInterruptedCommitsTarget)
{
	dlt::Env e;
	write_history(e);
	const auto at3 = e.image(3);
	cut_commit_to_3(e);
	const ActivationRollback plan = plan_activation_rollback(e.recover(), std::nullopt, far_future, "lab");
	EXPECT_EQ(plan.target.seq, 3u);
	EXPECT_EQ(plan.unfinished_commit, 3u);
	EXPECT_EQ(plan.undone.records, 1u);
	e.writer.reset();
	roll_back_log(e.delta, plan);
	const auto log = e.recover();
	EXPECT_TRUE(log.sb.merging());
	EXPECT_EQ(log.sb.merge_target_seq, 3u);
	EXPECT_EQ(summarize(log).newest_seq, 3u);
	EXPECT_EQ(e.image(log.newest_seq()), at3);
	e.reopen();
	e.w().resume_merge(e.origin);
	EXPECT_EQ(e.origin_bytes(), at3);
}

TEST(CtlActivationRollback, ToTheEndOfAnInterruptedCommitOrLater)
{
	dlt::Env e;
	write_history(e);
	cut_commit_to_3(e);
	const auto log = e.recover();
	EXPECT_EQ(plan_activation_rollback(log, parse_time_spec("#3", far_future), far_future, "lab").target.seq, 3u);
	const ActivationRollback later = plan_activation_rollback(log, parse_time_spec("#4", far_future), far_future, "lab");
	EXPECT_EQ(later.target.seq, 4u);
	EXPECT_EQ(later.undone.records, 0u);
}

TEST(CtlActivationRollback, RefusedBeforeTheEndOfAnInterruptedCommit)
{
	dlt::Env e;
	write_history(e);
	cut_commit_to_3(e);
	try {
		plan_activation_rollback(e.recover(), mark("clean"), far_future, "lab");
		FAIL() << "no error";
	} catch (const Failure &f) {
		EXPECT_EQ(f.object(), "lab");
		const std::string what = f.what();	// after the mark's local time
		EXPECT_TRUE(what.ends_with(" (seq 2, mark clean) is before the end of an interrupted commit: the "
					   "history up to seq 3 is being committed into the origin"))
			<< what;
		EXPECT_TRUE(f.hint().starts_with("The oldest state left to roll back to is ")) << f.hint();
		EXPECT_TRUE(f.hint().ends_with(" (seq 3).")) << f.hint();
	}
	EXPECT_EQ(e.recover().newest_seq(), 4u);
}

TEST(CtlActivationRollback, NothingToDo)
{
	dlt::Env e;
	const ActivationRollback plan = plan_activation_rollback(e.recover(), std::nullopt, far_future, "lab");
	EXPECT_EQ(plan.undone.records, 0u);
	e.writer.reset();
	roll_back_log(e.delta, plan);	// writes nothing
	EXPECT_EQ(e.recover().next_seq, 1u);
}

TEST(CtlActivationRollback, AnUnknownMarkChangesNothing)
{
	dlt::Env e;
	write_history(e);
	try {
		plan_activation_rollback(e.recover(), mark("nope"), far_future, "lab");
		FAIL() << "no error";
	} catch (const Failure &f) {
		EXPECT_EQ(f.object(), "lab");
		EXPECT_STREQ(f.what(), "no mark 'nope' in the log");
	}
	EXPECT_EQ(e.recover().newest_seq(), 4u);
}
