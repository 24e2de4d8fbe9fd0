// deltalogctl's reading of the target's table and status lines
// (manager/src/target.cpp), against docs/dm-deltalog.rst.
#include "base/errors.hpp"
#include "target.hpp"

#include <gtest/gtest.h>

using namespace deltalogctl;

namespace {

dm::Target target(std::string params, std::string type = "deltalog")
{
	return dm::Target{0, 2048, std::move(type), std::move(params)};
}

} // namespace

TEST(CtlTarget, TableWithoutOptions)
{
	const TableLine t = parse_table("box", target("8:16 8:32"));
	EXPECT_EQ(t.length, 2048u);
	EXPECT_EQ(t.origin, "8:16");
	EXPECT_EQ(t.delta, "8:32");
	EXPECT_FALSE(t.options.view_seq);
	EXPECT_EQ(t.options.on_full, "error");
	EXPECT_EQ(t.options.commit_ms, 1000u);
	EXPECT_EQ(t.options.low_water, 0u);
}

TEST(CtlTarget, TableWithEveryOption)
{
	const TableLine t =
		parse_table("box", target("8:16 8:32 10 view 12 on_full merge_oldest commit_ms 50 low_water 9 "
					  "merge_rate 0"));
	EXPECT_EQ(t.options.view_seq, 12u);
	EXPECT_EQ(t.options.on_full, "merge_oldest");
	EXPECT_EQ(t.options.commit_ms, 50u);
	EXPECT_EQ(t.options.low_water, 9u);
	EXPECT_EQ(t.options.merge_rate, 0u);
}

TEST(CtlTarget, MakeTargetPrintsWhatTheKernelPrintsBack)
{
	// The kernel prints only options that differ from the defaults, in this
	// order (deltalog_status, STATUSTYPE_TABLE): make_target must match so
	// that a device brought back has the same table.
	for (const std::string params : {"8:16 8:32", "8:16 8:32 2 view 7", "8:16 8:32 2 on_full merge_oldest",
					 "8:16 8:32 4 commit_ms 20 low_water 5",
					 "8:16 8:32 6 view 3 commit_ms 20 low_water 5",
					 "8:16 8:32 4 low_water 5 merge_rate 1024"}) {
		const TableLine t = parse_table("box", target(params));
		const dm::Target back = make_target(t);
		EXPECT_EQ(back.params, params);
		EXPECT_EQ(back.type, "deltalog");
		EXPECT_EQ(back.length, 2048u);
		EXPECT_EQ(back.start, 0u);
	}
}

TEST(CtlTarget, RefusesOtherTargetsAndUnknownLines)
{
	EXPECT_THROW(parse_table("box", target("8:16 0", "linear")), Failure);
	EXPECT_THROW(parse_table("box", target("8:16")), Failure);
	EXPECT_THROW(parse_table("box", target("8:16 8:32 2 view")), Failure);
	EXPECT_THROW(parse_table("box", target("8:16 8:32 2 frobnicate 1")), Failure);
	EXPECT_THROW(parse_table("box", target("8:16 8:32 2 view x")), Failure);
}

TEST(CtlTarget, Status)
{
	const TargetStatus s = parse_status("box", target("10/100 3/50 4 9 8 2 active 5 4096 0 0/0 none"));
	EXPECT_EQ(s.data_used, 10u);
	EXPECT_EQ(s.data_total, 100u);
	EXPECT_EQ(s.meta_used, 3u);
	EXPECT_EQ(s.meta_total, 50u);
	EXPECT_EQ(s.oldest_seq, 4u);
	EXPECT_EQ(s.newest_seq, 9u);
	EXPECT_EQ(s.durable_seq, 8u);
	EXPECT_EQ(s.merged_seq, 2u);
	EXPECT_EQ(s.state, "active");
	EXPECT_EQ(s.index_extents, 5u);
	EXPECT_EQ(s.index_bytes, 4096u);
	EXPECT_EQ(s.merge_target, 0u);
	EXPECT_EQ(s.merge_activity, "none");

	const TargetStatus m = parse_status("box", target("10/100 3/50 4 9 8 2 merging 5 4096 7 30/120 running"));
	EXPECT_EQ(m.state, "merging");
	EXPECT_EQ(m.merge_target, 7u);
	EXPECT_EQ(m.merge_copied, 30u);
	EXPECT_EQ(m.merge_total, 120u);
	EXPECT_EQ(m.merge_activity, "running");
	// Fields appended by a newer module are ignored (the contract only appends).
	EXPECT_EQ(parse_status("box", target("10/100 3/50 4 9 8 2 full 5 4096 0 0/0 none 77 x")).state, "full");
	EXPECT_THROW(parse_status("box", target("10/100 3/50 4 9 8 2 active")), Failure);
	EXPECT_THROW(parse_status("box", target("10/100 3/50 4 9 8 2 active 5 4096")), Failure);
	EXPECT_THROW(parse_status("box", target("10-100 3/50 4 9 8 2 active 5 4096 0 0/0 none")), Failure);
	EXPECT_THROW(parse_status("box", target("10/100 3/50 4 9 8 2 active 5 4096 0 0-0 none")), Failure);
}

TEST(CtlTarget, DeviceNames)
{
	EXPECT_NO_THROW(check_device_name("box"));
	EXPECT_NO_THROW(check_device_name("root_2.snap-1@x"));
	EXPECT_THROW(check_device_name(""), UsageError);
	EXPECT_THROW(check_device_name("a/b"), UsageError);
	EXPECT_THROW(check_device_name(".."), UsageError);
	EXPECT_THROW(check_device_name("a b"), UsageError);
	EXPECT_THROW(check_device_name(std::string(128, 'a')), UsageError);
}

TEST(CtlTarget, UuidsCarryThePrefixUdevMatches)
{
	const deltalog::Uuid u = {0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0x4c, 0xde,
				  0x8f, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd};
	EXPECT_EQ(device_uuid(u), "DELTALOG-10325476-98ba-4cde-8f01-23456789abcd");
	EXPECT_EQ(view_uuid(u, "then"), "DELTALOG-10325476-98ba-4cde-8f01-23456789abcd-view-then");
}
