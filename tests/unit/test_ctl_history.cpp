// deltalogctl's summaries of a log (manager/src/history.cpp): what rollback,
// merge, remove and status say they will throw away or commit.
#include "history.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

using namespace deltalogctl;

namespace {

// WRITE 8 KiB (seq 1), MARK a (2), ZERO 4 KiB (3), WRITE 4 KiB (4), MARK b (5),
// rolled back to 4: the MARK b and the ROLLBACK are not history.
void write_history(dlt::Env &e)
{
	e.w().append_write(0, dlt::pattern(8192, 1));
	e.w().append_mark("a");
	e.w().append_zero(16, 8, true);
	e.w().append_write(8, dlt::pattern(4096, 2));
	e.w().append_mark("b");
	e.w().rollback(4);
	e.w().sync();
}

} // namespace

TEST(CtlHistory, CountsTheLiveHistory)
{
	dlt::Env e;
	write_history(e);
	const HistorySummary h = summarize(e.recover());
	EXPECT_EQ(h.records, 4u);
	EXPECT_EQ(h.writes, 2u);
	EXPECT_EQ(h.write_bytes, 12288u);
	EXPECT_EQ(h.zeroes, 1u);
	EXPECT_EQ(h.zero_bytes, 4096u);
	EXPECT_EQ(h.marks, 1u);
	EXPECT_EQ(h.oldest_seq, 1u);
	EXPECT_EQ(h.newest_seq, 4u);
	EXPECT_LE(h.oldest_ns, h.newest_ns);
}

TEST(CtlHistory, RangesAreAfterExclusiveUpToInclusive)
{
	dlt::Env e;
	write_history(e);
	const auto log = e.recover();
	const HistorySummary after_mark = summarize(log, 2);	// what rollback --to #2 throws away
	EXPECT_EQ(after_mark.records, 2u);
	EXPECT_EQ(after_mark.oldest_seq, 3u);
	EXPECT_EQ(after_mark.write_bytes, 4096u);
	const HistorySummary up_to_mark = summarize(log, 0, 2);	// what merge --until #2 commits
	EXPECT_EQ(up_to_mark.records, 2u);
	EXPECT_EQ(up_to_mark.newest_seq, 2u);
	EXPECT_EQ(up_to_mark.write_bytes, 8192u);
	EXPECT_EQ(summarize(log, 4).records, 0u);
	EXPECT_EQ(describe(summarize(log, 4)), "no records");
}

TEST(CtlHistory, DescribeSaysWhatAndWhen)
{
	dlt::Env e;
	write_history(e);
	const std::string d = describe(summarize(e.recover()));
	EXPECT_NE(d.find("4 records (12.0 KiB of writes, 4.0 KiB zeroed or discarded, 1 mark) from "), std::string::npos) << d;
}

TEST(CtlHistory, MarkLabelsNewestFirstWithoutRolledBackOnes)
{
	dlt::Env e;
	write_history(e);
	e.w().append_mark("c");
	e.w().sync();
	EXPECT_EQ(mark_labels(e.recover()), (std::vector<std::string>{"c", "a"}));
}

TEST(CtlHistory, MarkLabelsEachOnceWhereTheNewestIs)
{
	dlt::Env e;
	write_history(e);
	e.w().append_mark("c");
	e.w().append_mark("a");
	e.w().sync();
	EXPECT_EQ(mark_labels(e.recover()), (std::vector<std::string>{"a", "c"}));
}

TEST(CtlHistory, NewestMarkWhateverItsLabel)
{
	dlt::Env e;
	EXPECT_FALSE(newest_mark(e.recover()));
	write_history(e);	// mark b was rolled back: a is the newest
	auto m = newest_mark(e.recover());
	ASSERT_TRUE(m);
	EXPECT_EQ(m->label, "a");
	EXPECT_EQ(m->seq, 2u);
	e.w().append_mark("z");
	e.w().append_write(0, dlt::pattern(4096, 3));
	e.w().append_mark("a");
	e.w().append_write(0, dlt::pattern(4096, 4));
	e.w().sync();
	m = newest_mark(e.recover());
	ASSERT_TRUE(m);
	EXPECT_EQ(m->label, "a");
	EXPECT_EQ(m->seq, 9u);
}
