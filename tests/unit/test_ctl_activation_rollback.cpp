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

TEST(CtlActivationRollback, RefusedWhileACommitIsUnfinished)
{
	dlt::Env e;
	write_history(e);
	deltalog::MergeHooks crash;
	crash.after_copy = [](std::size_t) { throw std::runtime_error("power cut"); };
	EXPECT_THROW(e.w().merge(e.origin, 3, crash), std::runtime_error);
	e.reopen();
	try {
		plan_activation_rollback(e.recover(), std::nullopt, far_future, "lab");
		FAIL() << "no error";
	} catch (const Failure &f) {
		EXPECT_STREQ(f.what(), "cannot roll back before activating: a commit up to #3 was interrupted and "
				       "the origin may hold part of it");
		EXPECT_EQ(f.hint(), "Activate without rolling back (the kernel finishes the commit), then roll "
				    "back: deltalogctl rollback lab --to T");
	}
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
