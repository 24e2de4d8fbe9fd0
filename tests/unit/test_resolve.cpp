// Resolving a seq, a time or a mark to the seq of a state.
#include "deltalog/errors.hpp"
#include "deltalog/resolve.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

using namespace deltalog;

namespace {

ResolveError::Reason reason_of(const std::function<void()> &f)
{
	try {
		f();
	} catch (const ResolveError &e) {
		return e.reason();
	}
	ADD_FAILURE() << "no ResolveError";
	return ResolveError::Reason::empty_log;
}

} // namespace

TEST(Resolve, TimeWithEqualTimestampsTakesTheLast)
{
	dlt::Env env;
	env.clock.set(2'000'000'000);
	env.w().append_zero(0, 1);		// 1 @ 2.0 s
	env.clock.set(3'000'000'000);
	env.w().append_zero(1, 1);		// 2 @ 3.0 s
	env.w().append_zero(2, 1);		// 3 @ 3.0 s
	env.w().append_zero(3, 1);		// 4 @ 3.0 s
	env.clock.set(4'000'000'000);
	env.w().append_zero(4, 1);		// 5 @ 4.0 s
	LogState log = env.recover();
	EXPECT_EQ(resolve_time(log, 2'000'000'000), 1u);
	EXPECT_EQ(resolve_time(log, 2'999'999'999), 1u);
	EXPECT_EQ(resolve_time(log, 3'000'000'000), 4u);
	EXPECT_EQ(resolve_time(log, 3'500'000'000), 4u);
	EXPECT_EQ(resolve_time(log, 4'000'000'000), 5u);
	EXPECT_EQ(resolve_time(log, 9'000'000'000), 5u);
}

TEST(Resolve, TimeWithAClockThatStepsBack)
{
	dlt::Env env;
	env.clock.set(5'000'000'000);
	env.w().append_zero(0, 1);		// 1 @ 5 s
	env.clock.set(4'000'000'000);		// NTP steps back
	env.w().append_zero(1, 1);		// 2 @ 5 s (floor)
	env.clock.set(6'000'000'000);
	env.w().append_zero(2, 1);		// 3 @ 6 s
	LogState log = env.recover();
	EXPECT_EQ(log.records[1].rec.time_ns, 5'000'000'000u);
	EXPECT_EQ(resolve_time(log, 4'500'000'000), 0u);	// before any write: the origin
	EXPECT_EQ(resolve_time(log, 5'000'000'000), 2u);
	EXPECT_EQ(resolve_time(log, 5'999'999'999), 2u);
	EXPECT_EQ(resolve_time(log, 6'000'000'000), 3u);
}

TEST(Resolve, TimeBeforeTheOldestRecord)
{
	dlt::Env env;	// formatted at 1 s
	env.clock.set(5'000'000'000);
	for (int i = 0; i < 12; i++) {
		env.clock.advance(1'000'000'000);
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);	// 6 s, 7 s ...
	}
	LogState log = env.recover();
	EXPECT_EQ(resolve_time(log, 1'000'000'000), 0u);	// nothing merged: the origin
	EXPECT_EQ(reason_of([&] { resolve_time(log, 999'999'999); }),
		  ResolveError::Reason::before_oldest);
	env.w().merge(env.origin, 11);
	log = env.recover();
	EXPECT_EQ(resolve_time(log, 17'000'000'000), 12u);
	EXPECT_EQ(reason_of([&] { resolve_time(log, 16'999'999'999); }),
		  ResolveError::Reason::before_oldest);
	env.w().merge(env.origin, 12);
	EXPECT_EQ(reason_of([&] { resolve_time(env.recover(), 20'000'000'000); }),
		  ResolveError::Reason::empty_log);
}

TEST(Resolve, TimeInTheFuture)
{
	dlt::Env env;
	env.w().append_zero(0, 1);
	LogState log = env.recover();
	EXPECT_EQ(resolve_time(log, 3'000'000'000, 3'000'000'000), 1u);
	EXPECT_EQ(reason_of([&] { resolve_time(log, 3'000'000'001, 3'000'000'000); }),
		  ResolveError::Reason::after_newest);
}

TEST(Resolve, Seqs)
{
	dlt::Env env;
	for (int i = 0; i < 5; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	env.w().merge(env.origin, 2);
	LogState log = env.recover();
	EXPECT_EQ(resolve_seq(log, 2), 2u);
	EXPECT_EQ(resolve_seq(log, 5), 5u);
	EXPECT_EQ(reason_of([&] { resolve_seq(log, 1); }), ResolveError::Reason::before_oldest);
	EXPECT_EQ(reason_of([&] { resolve_seq(log, 6); }), ResolveError::Reason::after_newest);
}

TEST(Resolve, MarksByLabelNewestWins)
{
	dlt::Env env;
	env.w().append_mark("a");		// 1
	env.w().append_zero(0, 1);		// 2
	env.w().append_mark("b");		// 3
	env.w().append_mark("a");		// 4
	env.w().append_zero(0, 1);		// 5
	env.w().append_mark("gone");		// 6
	env.w().rollback(5);			// 7: voids 6
	LogState log = env.recover();
	EXPECT_EQ(resolve_mark(log, "a"), 4u);
	EXPECT_EQ(resolve_mark(log, "b"), 3u);
	EXPECT_EQ(reason_of([&] { resolve_mark(log, "nope"); }), ResolveError::Reason::unknown_mark);
	EXPECT_EQ(reason_of([&] { resolve_mark(log, "gone"); }), ResolveError::Reason::unknown_mark);
	env.w().merge(env.origin, 3);
	EXPECT_EQ(reason_of([&] { resolve_mark(env.recover(), "b"); }),
		  ResolveError::Reason::before_oldest);
	EXPECT_EQ(resolve_mark(env.recover(), "a"), 4u);
}
