// The userspace writer: block rewrite in place, rings that wrap, full
// detection, time floors, seqs never reused, rollback (7.2), merge (7.3),
// clean stop (7.4), the ROLLBACK after a recovery cut (6.6).
#include "deltalog/errors.hpp"
#include "deltalog/meta_block.hpp"
#include "deltalog/state.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace deltalog;

namespace {

std::vector<std::uint64_t> live_seqs(const LogState &log)
{
	std::vector<std::uint64_t> v;
	for (const Record &r : log.live())
		v.push_back(r.seq);
	return v;
}

// The image bytes of origin sectors [s, s + n) at the current newest state.
dlt::Bytes sectors_of(const dlt::Bytes &image, std::uint64_t s, std::uint64_t n)
{
	return dlt::Bytes(image.begin() + static_cast<std::ptrdiff_t>(s * 512),
			  image.begin() + static_cast<std::ptrdiff_t>((s + n) * 512));
}

} // namespace

TEST(Writer, RewritesTheNewestBlockInPlace)
{
	dlt::Env env;
	env.w().append_zero(0, 1);
	BlockHeader h1 = unpack_block_header(env.block_bytes(0));
	env.w().append_zero(1, 1);
	env.w().append_zero(2, 1);
	BlockHeader h3 = unpack_block_header(env.block_bytes(0));
	EXPECT_EQ(h1.nr_slots, 1u);
	EXPECT_EQ(h3.nr_slots, 3u);
	EXPECT_EQ(h3.index, h1.index);
	EXPECT_EQ(h3.prev_csum, h1.prev_csum);
	EXPECT_NE(h3.csum, h1.csum);
	// Nothing in block 1 yet.
	EXPECT_EQ(env.block_bytes(1), dlt::Bytes(512));
	EXPECT_EQ(env.recover().head, 1u);
}

TEST(Writer, StartsANewBlockChainedToTheFullOne)
{
	dlt::Env env;
	for (int i = 0; i < 11; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	BlockHeader b0 = unpack_block_header(env.block_bytes(0));
	BlockHeader b1 = unpack_block_header(env.block_bytes(1));
	EXPECT_EQ(b0.nr_slots, 10u);
	EXPECT_EQ(b1.nr_slots, 1u);
	EXPECT_EQ(b1.index, 1u);
	EXPECT_EQ(b1.prev_csum, b0.csum);
}

TEST(Writer, MarkIsNeverSplit)
{
	dlt::Env env;
	for (int i = 0; i < 9; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	env.w().append_mark("after-nine");
	EXPECT_EQ(unpack_block_header(env.block_bytes(0)).nr_slots, 9u);
	EXPECT_EQ(unpack_block_header(env.block_bytes(1)).nr_slots, 2u);
	LogState log = env.recover();
	EXPECT_EQ(log.records.back().rec.label, "after-nine");
	EXPECT_EQ(log.records.back().block, 1u);
}

TEST(Writer, KeepsTheFourKiBAlignmentOfWrites)
{
	dlt::Env env;
	std::mt19937 rng(5);
	for (int i = 0; i < 40; i++) {
		std::uint64_t s = rng() % 500;
		std::uint64_t n = 1 + rng() % 12;
		env.w().append_write(s, dlt::pattern(n * 512, i));
	}
	for (const Record &r : env.recover().live())
		EXPECT_EQ(r.data_pos % 8, r.origin_sector % 8) << r.seq;
}

TEST(Writer, DataRingWrapsAndWrappedDataReadsBack)
{
	dlt::PairOptions o;
	o.origin_sectors = 4096;
	dlt::Env env(o);
	// 50-sector writes (56 with the alignment padding): 36 fill the ring;
	// merge most of each round, keep writing.
	std::map<std::uint64_t, dlt::Bytes> written;
	std::uint64_t seq = 0;
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 15; i++) {
			std::uint64_t s = static_cast<std::uint64_t>((round * 15 + i) % 60) * 64 + 3;
			auto data = dlt::pattern(50 * 512, round * 100 + i);
			seq = env.w().append_write(s, data);
			written[s] = data;
		}
		env.w().merge(env.origin, seq - 10);
	}
	LogState log = env.recover();
	bool wrapped = false;
	for (const Record &r : log.live())
		wrapped |= r.kind == RecordKind::write &&
			   r.data_pos / log.sb.data_sectors !=
				   (r.data_pos + r.nr_sectors - 1) / log.sb.data_sectors;
	EXPECT_TRUE(wrapped) << "no record straddles the end of the ring";
	EXPECT_GT(log.data_head, 3 * log.sb.data_sectors);
	dlt::Bytes image = env.image(log.newest_seq());
	for (auto &[s, data] : written)
		EXPECT_EQ(sectors_of(image, s, 50), data) << s;
}

TEST(Writer, MetadataRingWrapsAndReusesSlots)
{
	dlt::PairOptions o;
	o.origin_sectors = 4096;
	dlt::Env env(o);
	std::uint64_t seq = 0;
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 60; i++)
			seq = env.w().append_zero(static_cast<std::uint64_t>(i), 1);
		env.w().merge(env.origin, seq - 5);
	}
	LogState log = env.recover();
	EXPECT_GT(log.head, 3 * log.sb.meta_blocks);
	EXPECT_EQ(log.newest_seq(), seq);
	EXPECT_EQ(live_seqs(log).size(), 5u);
	EXPECT_EQ(log.live(), env.w().log().live());
}

TEST(Writer, FullMetadataRingIsATypedErrorAndChangesNothing)
{
	dlt::Env env;
	for (int i = 0; i < 80; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	dlt::Bytes before = dlt::read_file(env.pair.delta);
	try {
		env.w().append_zero(0, 1);
		FAIL();
	} catch (const LogFullError &e) {
		EXPECT_EQ(e.ring(), LogFullError::Ring::meta);
	}
	EXPECT_THROW(env.w().append_write(0, dlt::pattern(512, 1)), LogFullError);
	EXPECT_EQ(dlt::read_file(env.pair.delta), before);
	EXPECT_EQ(env.w().log().next_seq, 81u);
}

TEST(Writer, FullDataRingIsATypedErrorAndChangesNothing)
{
	dlt::PairOptions o;
	o.origin_sectors = 4096;
	dlt::Env env(o);
	env.w().append_write(0, dlt::pattern(2000 * 512, 1));
	dlt::Bytes before = dlt::read_file(env.pair.delta);
	try {
		env.w().append_write(0, dlt::pattern(49 * 512, 2));
		FAIL();
	} catch (const LogFullError &e) {
		EXPECT_EQ(e.ring(), LogFullError::Ring::data);
	}
	EXPECT_EQ(dlt::read_file(env.pair.delta), before);
	env.w().append_write(0, dlt::pattern(48 * 512, 2));	// exactly fills
	EXPECT_EQ(env.recover().used_data_sectors(), 2048u);
}

TEST(Writer, RefusesBadExtents)
{
	dlt::Env env;
	EXPECT_THROW(env.w().append_write(510, dlt::pattern(3 * 512, 1)), std::invalid_argument);
	EXPECT_THROW(env.w().append_write(0, dlt::pattern(100, 1)), std::invalid_argument);
	EXPECT_THROW(env.w().append_zero(0, 0), std::invalid_argument);
	EXPECT_THROW(env.w().append_mark("no spaces"), std::invalid_argument);
	EXPECT_THROW(env.w().append_write(0, dlt::pattern(2056 * 512, 1)), std::invalid_argument);

	dlt::PairOptions o;
	o.origin_lbs = 4096;
	dlt::Env env4k(o);
	EXPECT_THROW(env4k.w().append_write(4, dlt::pattern(4096, 1)), std::invalid_argument);
	EXPECT_THROW(env4k.w().append_zero(8, 4), std::invalid_argument);
	EXPECT_NO_THROW(env4k.w().append_write(8, dlt::pattern(4096, 1)));
}

TEST(Writer, TimesNeverGoBackEvenWhenTheClockDoes)
{
	dlt::Env env;
	std::vector<std::uint64_t> clock = {5'000, 3'000'000'000, 2'500'000'000, 4'000'000'000,
					    1'000};
	std::vector<std::uint64_t> expect = {1'000'000'000, 3'000'000'000, 3'000'000'000,
					     4'000'000'000, 4'000'000'000};
	for (std::size_t i = 0; i < clock.size(); i++) {
		env.clock.set(clock[i]);
		env.w().append_zero(i, 1);
	}
	LogState log = env.recover();
	ASSERT_EQ(log.records.size(), clock.size());
	for (std::size_t i = 0; i < clock.size(); i++)
		EXPECT_EQ(log.records[i].rec.time_ns, expect[i]) << i;
	// Across a clean stop and a reopen, from time_floor_ns.
	env.w().stop();
	env.reopen();
	env.clock.set(10);
	env.w().append_zero(0, 1);
	EXPECT_EQ(env.recover().records.back().rec.time_ns, 4'000'000'000u);
}

TEST(Writer, SyncRecordsDurableSeq)
{
	dlt::Env env;
	env.w().append_write(0, dlt::pattern(512, 1));
	env.w().append_write(8, dlt::pattern(512, 2));
	EXPECT_EQ(unpack_block_header(env.block_bytes(0)).durable_seq, 0u);
	env.w().sync();
	EXPECT_EQ(unpack_block_header(env.block_bytes(0)).durable_seq, 2u);
	env.w().append_write(0, dlt::pattern(512, 3), false);	// ordered
	EXPECT_EQ(unpack_block_header(env.block_bytes(0)).durable_seq, 3u);
}

TEST(Writer, SeqsAreNeverReusedAfterRollback)
{
	dlt::Env env;
	for (int i = 0; i < 5; i++)
		env.w().append_write(static_cast<std::uint64_t>(i) * 8, dlt::pattern(4096, i));
	EXPECT_EQ(env.w().rollback(3), 6u);
	EXPECT_EQ(env.w().append_zero(0, 1), 7u);
	EXPECT_EQ(env.w().append_zero(0, 1), 8u);
	env.reopen();
	EXPECT_EQ(env.w().log().next_seq, 9u);
	EXPECT_EQ(live_seqs(env.w().log()), (std::vector<std::uint64_t>{1, 2, 3, 6, 7, 8}));
	// Roll back over the rollback: the new writes go, seqs keep rising.
	EXPECT_EQ(env.w().rollback(6), 9u);
	env.reopen();
	EXPECT_EQ(env.w().append_zero(0, 1), 10u);
	LogState log = env.recover();
	std::uint64_t prev = 0;
	for (const LogRecord &r : log.records) {
		EXPECT_GT(r.rec.seq, prev);
		prev = r.rec.seq;
	}
}

TEST(Writer, RollbackRestoresTheStateExactly)
{
	dlt::Env env;
	std::uint64_t t = 0;
	for (int i = 0; i < 25; i++) {
		std::uint64_t s = env.w().append_write(static_cast<std::uint64_t>(i * 13 % 400),
						       dlt::pattern(8 * 512, i));
		if (i == 11)
			t = s;
	}
	dlt::Bytes at_t = env.image(t);
	env.w().rollback(t);
	LogState log = env.recover();
	EXPECT_EQ(env.image(log.newest_seq()), at_t);
	// Data of the voided records is free again.
	EXPECT_EQ(log.data_head, env.recover().data_head);
	std::uint64_t head_before = log.data_head;
	env.w().append_write(0, dlt::pattern(512, 99));
	EXPECT_LE(env.recover().data_head, head_before + 8);
}

TEST(Writer, RollbackOverARollbackKeepsVoidRecordsVoid)
{
	// Block 0: 1..5; rollback to 3 voids 4, 5 (ROLLBACK 6 in block 1);
	// then 7; rolling back to 4 (a void seq) must not bring 4 back.
	dlt::Env env;
	for (int i = 0; i < 5; i++)
		env.w().append_write(static_cast<std::uint64_t>(i) * 8, dlt::pattern(4096, i));
	dlt::Bytes at3 = env.image(3);
	env.w().rollback(3);
	env.w().append_write(100, dlt::pattern(512, 50));
	std::uint64_t rb = env.w().rollback(4);
	LogState log = env.recover();
	EXPECT_EQ(live_seqs(log), (std::vector<std::uint64_t>{1, 2, 3, rb}));
	EXPECT_EQ(log.records.back().rec.to_seq, 3u);
	EXPECT_EQ(env.image(rb), at3);
}

TEST(Writer, RollbackBeforeMergedIsRefused)
{
	dlt::Env env;
	for (int i = 0; i < 6; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	env.w().merge(env.origin, 4);
	try {
		env.w().rollback(3);
		FAIL();
	} catch (const RollbackError &e) {
		EXPECT_EQ(e.reason(), RollbackError::Reason::before_merged);
	}
	EXPECT_EQ(env.w().rollback(4), 7u);	// back to exactly the merged state
	LogState log = env.recover();
	EXPECT_EQ(log.tail(), 0u);
	EXPECT_EQ(live_seqs(log), (std::vector<std::uint64_t>{7}));
	EXPECT_EQ(env.image(7), env.origin_bytes());
}

TEST(Writer, RollbackToAMergedStateWithNoLiveRecordLeft)
{
	dlt::Env env;
	for (int i = 0; i < 12; i++)	// blocks 0 and 1
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	env.w().merge(env.origin, 10);	// tail = 1
	ASSERT_EQ(env.recover().tail(), 1u);
	std::uint64_t rb = env.w().rollback(10);
	LogState log = env.recover();
	EXPECT_EQ(log.records.front().rec.seq, rb);	// written at the tail
	EXPECT_EQ(log.records.front().block, 1u);
	EXPECT_EQ(live_seqs(log), (std::vector<std::uint64_t>{rb}));
}

TEST(Writer, RollbackWithAFullRingIntoItsNewestBlockIsRefused)
{
	dlt::Env env;
	for (int i = 0; i < 80; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	try {
		env.w().rollback(75);	// in block 7, the newest; block 8 is block 0's slot
		FAIL();
	} catch (const RollbackError &e) {
		EXPECT_EQ(e.reason(), RollbackError::Reason::ring_full);
	}
	EXPECT_EQ(env.w().rollback(65), 81u);	// block 6: block 7 is rewritten
	EXPECT_EQ(env.recover().head, 8u);
}

TEST(Writer, NothingToRollBack)
{
	dlt::Env env;
	env.w().append_zero(0, 1);
	EXPECT_THROW(env.w().rollback(1), RollbackError);
	EXPECT_THROW(env.w().rollback(5), RollbackError);
}

TEST(Writer, RollbackBracketsItsBlockWithCleanSeq)
{
	dlt::Env env;
	for (int i = 0; i < 4; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	std::uint64_t rb = env.w().rollback(2);
	EXPECT_EQ(env.recover().sb.clean_seq, rb);
	EXPECT_EQ(env.recover().sb.next_seq, rb + 1);
	// A rollback torn before its block: clean_seq 0, the old log intact.
	dlt::Env env2;
	for (int i = 0; i < 4; i++)
		env2.w().append_zero(static_cast<std::uint64_t>(i), 1);
	env2.w().stop();
	Superblock sb = env2.recover().sb;
	unsigned copy = env2.recover().sb_copy;
	sb.clean_seq = 0;
	write_superblock(env2.delta, sb, copy);
	dlt::write_at(env2.pair.delta, env2.block_offset(1), dlt::pattern(200, 1));	// torn block
	LogState log = env2.recover();
	EXPECT_EQ(live_seqs(log), (std::vector<std::uint64_t>{1, 2, 3, 4}));
}

TEST(Writer, MergeCopiesTheStateAndFreesTheLog)
{
	dlt::Env env;
	for (int i = 0; i < 30; i++) {
		std::uint64_t s = static_cast<std::uint64_t>(i * 37 % 480);
		if (i % 5 == 4)
			env.w().append_zero(s, 9);
		else
			env.w().append_write(s, dlt::pattern(((i % 7) + 1) * 512, i));
	}
	dlt::Bytes at20 = env.image(20);
	dlt::Bytes at30 = env.image(30);
	env.w().merge(env.origin, 20);
	EXPECT_EQ(env.origin_bytes(), at20);
	LogState log = env.recover();
	EXPECT_EQ(log.sb.merged_seq, 20u);
	EXPECT_EQ(log.tail(), 2u);	// block 1 holds 11..20, block 2 holds 21..30
	EXPECT_EQ(log.sb.origin_fingerprint, origin_fingerprint(env.origin));
	EXPECT_NO_THROW(check_origin(log.sb, env.origin));
	EXPECT_FALSE(log.sb.merging());
	EXPECT_EQ(env.image(30), at30);	// later writes are kept
	EXPECT_THROW(env.image(19), ResolveError);
}

TEST(Writer, MergeEverythingThenAppendAgain)
{
	dlt::Env env;
	for (int i = 0; i < 13; i++)
		env.w().append_write(static_cast<std::uint64_t>(i) * 8, dlt::pattern(4096, i));
	dlt::Bytes at13 = env.image(13);
	env.w().merge(env.origin, 13);
	EXPECT_EQ(env.origin_bytes(), at13);
	env.reopen();
	LogState log = env.w().log();
	EXPECT_EQ(log.tail(), 2u);
	EXPECT_EQ(log.head, 2u);
	EXPECT_EQ(log.next_seq, 14u);
	EXPECT_EQ(env.w().append_zero(0, 8), 14u);
	log = env.recover();
	EXPECT_EQ(log.records.front().block, 2u);
	EXPECT_EQ(live_seqs(log), (std::vector<std::uint64_t>{14}));
}

TEST(Writer, MergeRefusals)
{
	dlt::Env env;
	for (int i = 0; i < 5; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	EXPECT_THROW(env.w().merge(env.origin, 6), MergeError);
	env.w().merge(env.origin, 3);
	EXPECT_THROW(env.w().merge(env.origin, 2), MergeError);
	EXPECT_NO_THROW(env.w().merge(env.origin, 3));	// no-op
	dlt::create_random_file(env.dir.path("other"), 512, 77);
	Device other = dlt::open_rw(env.dir.path("other"));
	EXPECT_THROW(env.w().merge(other, 5), OriginMismatchError);
}

namespace {

// 20 writes, then a merge up to seq 15 that a power cut stops after 4
// extents, and recovery. Returns the image at 15, taken before the merge.
dlt::Bytes cut_merge_to_15(dlt::Env &env)
{
	for (int i = 0; i < 20; i++)
		env.w().append_write(static_cast<std::uint64_t>(i * 24 % 500),
				     dlt::pattern(16 * 512, i));
	dlt::Bytes at15 = env.image(15);
	MergeHooks crash;
	crash.after_copy = [](std::size_t copied) {
		if (copied == 4)
			throw std::runtime_error("power cut");
	};
	EXPECT_THROW(env.w().merge(env.origin, 15, crash), std::runtime_error);
	env.reopen();
	return at15;
}

} // namespace

TEST(Writer, InterruptedMergeIsFinishedByTheNextOne)
{
	dlt::Env env;
	const dlt::Bytes at15 = cut_merge_to_15(env);
	LogState log = env.w().log();
	EXPECT_TRUE(log.sb.merging());
	EXPECT_EQ(log.sb.merge_target_seq, 15u);
	EXPECT_EQ(log.sb.merged_seq, 0u);
	EXPECT_NE(env.origin_bytes(), at15);	// part way
	// The fingerprint no longer matches, but each sampled sector is as it
	// was or as the merge writes it: the origin is still recognised.
	EXPECT_TRUE(log.sb.has_merge_samples());
	EXPECT_NE(origin_fingerprint(env.origin), log.sb.origin_fingerprint);
	EXPECT_NO_THROW(check_origin(log.sb, env.origin));
	// Another disk of the same size is not, nor the origin with a sampled
	// sector (the last sample, at 504) written by someone else.
	dlt::create_random_file(env.dir.path("other"), 512, 99);
	EXPECT_THROW(check_origin(log.sb, dlt::open_ro(env.dir.path("other"))), OriginMismatchError);
	const dlt::Bytes kept = dlt::read_at(env.pair.origin, 504 * 512, 512);
	dlt::write_at(env.pair.origin, 504 * 512, dlt::pattern(512, 7));
	EXPECT_THROW(check_origin(log.sb, env.origin), OriginMismatchError);
	dlt::write_at(env.pair.origin, 504 * 512, kept);
	EXPECT_THROW(env.w().merge(env.origin, 10), MergeError);
	// Records up to 15 may be in the origin already: no rollback below it.
	try {
		env.w().rollback(12);
		ADD_FAILURE() << "a rollback under an unfinished merge was accepted";
	} catch (const RollbackError &e) {
		EXPECT_EQ(e.reason(), RollbackError::Reason::merge_unfinished);
	}
	env.w().rollback(17);	// above the target: fine
	const dlt::Bytes at17 = env.image(17);
	env.w().resume_merge(env.origin);
	EXPECT_EQ(env.origin_bytes(), at15);
	EXPECT_EQ(env.image(20), at17);
	// Running it again changes nothing.
	env.w().merge(env.origin, 15);
	EXPECT_EQ(env.origin_bytes(), at15);
}

// What a boot with boot=rollback does after a power cut during a merge: the
// log goes back to the merge's target, and the merge is still there to
// resume (its target, its samples), with the records up to it intact.
TEST(Writer, RollbackToAnUnfinishedMergesTargetKeepsTheMerge)
{
	dlt::Env env;
	const dlt::Bytes at15 = cut_merge_to_15(env);
	const Superblock cut = env.w().superblock();
	ASSERT_TRUE(cut.merging());

	env.w().rollback(15);
	env.reopen();
	const LogState log = env.w().log();
	EXPECT_TRUE(log.sb.merging());
	EXPECT_EQ(log.sb.merge_target_seq, 15u);
	EXPECT_EQ(log.sb.merged_seq, 0u);
	EXPECT_TRUE(log.sb.has_merge_samples());
	EXPECT_EQ(log.sb.merge_samples, cut.merge_samples);
	EXPECT_EQ(log.sb.origin_fingerprint, cut.origin_fingerprint);
	EXPECT_NO_THROW(check_origin(log.sb, env.origin));
	// 1 to 15 intact, 16 to 20 void, 21 the ROLLBACK.
	EXPECT_EQ(live_seqs(log), (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
								14, 15, 21}));
	EXPECT_EQ(env.image(log.newest_seq()), at15);

	env.w().resume_merge(env.origin);
	EXPECT_FALSE(env.w().superblock().merging());
	EXPECT_EQ(env.w().superblock().merged_seq, 15u);
	EXPECT_EQ(env.origin_bytes(), at15);
	EXPECT_EQ(env.image(env.recover().newest_seq()), at15);
}

TEST(Writer, InterruptedMergeCanBeFinishedFurther)
{
	dlt::Env env;
	for (int i = 0; i < 20; i++)
		env.w().append_write(static_cast<std::uint64_t>(i * 24 % 500),
				     dlt::pattern(16 * 512, i));
	dlt::Bytes at18 = env.image(18);
	MergeHooks crash;
	crash.after_copy = [](std::size_t) { throw std::runtime_error("power cut"); };
	EXPECT_THROW(env.w().merge(env.origin, 12, crash), std::runtime_error);
	env.reopen();
	env.w().merge(env.origin, 18);
	EXPECT_EQ(env.origin_bytes(), at18);
}

TEST(Writer, CleanStopAndTheFirstWriteAfterIt)
{
	dlt::Env env;
	for (int i = 0; i < 3; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	env.clock.set(9'000'000'000);
	env.w().stop();
	Superblock sb = env.recover().sb;
	EXPECT_EQ(sb.clean_seq, 3u);
	EXPECT_EQ(sb.next_seq, 4u);
	EXPECT_EQ(sb.time_floor_ns, 2'000'000'000u);
	env.reopen();
	env.w().append_zero(5, 1);
	EXPECT_EQ(env.recover().sb.clean_seq, 0u);	// cleared before the record
	env.w().stop();
	EXPECT_EQ(env.recover().sb.clean_seq, 4u);
}

TEST(Writer, RecoveryCutIsSealedByARollbackRecord)
{
	dlt::Env env;
	for (int i = 0; i < 4; i++)
		env.w().append_write(static_cast<std::uint64_t>(i) * 8, dlt::pattern(4096, i));
	env.w().sync();
	for (int i = 4; i < 16; i++)	// 5..16, blocks 0 and 1, not synced
		env.w().append_write(static_cast<std::uint64_t>(i) * 8, dlt::pattern(4096, i));
	// Seq 7's data never reached the delta.
	LogState log = env.recover();
	dlt::flip_bit(env.pair.delta, env.data_offset(log.records[6].rec.data_pos) + 100);
	dlt::Bytes at6 = env.image(6);

	env.reopen();
	ASSERT_TRUE(env.w().log().cut);
	EXPECT_EQ(env.w().log().cut_to_seq, 6u);
	EXPECT_EQ(env.w().log().next_seq, 17u);
	// The first append writes ROLLBACK(seq 17, to 6) as block 1 first.
	EXPECT_EQ(env.w().append_zero(0, 1), 18u);
	log = env.recover();
	EXPECT_FALSE(log.cut);
	EXPECT_EQ(live_seqs(log), (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 17, 18}));
	EXPECT_EQ(log.records[6].status, RecordStatus::voided);
	EXPECT_EQ(log.records[10].rec.kind, RecordKind::rollback);
	EXPECT_EQ(log.records[10].rec.to_seq, 6u);
	EXPECT_EQ(log.records[10].block, 1u);
	EXPECT_EQ(env.image(17), at6);
	// Even if seq 7's data is repaired by chance, it stays void.
	dlt::flip_bit(env.pair.delta, env.data_offset(log.records[6].rec.data_pos) + 100);
	EXPECT_EQ(live_seqs(env.recover()), live_seqs(log));
}

TEST(Writer, StopAfterACutSealsItToo)
{
	dlt::Env env;
	for (int i = 0; i < 6; i++)
		env.w().append_write(static_cast<std::uint64_t>(i) * 8, dlt::pattern(4096, i));
	LogState log = env.recover();
	dlt::flip_bit(env.pair.delta, env.data_offset(log.records[3].rec.data_pos));
	env.reopen();
	env.w().stop();
	log = env.recover();
	EXPECT_FALSE(log.cut);
	EXPECT_EQ(live_seqs(log), (std::vector<std::uint64_t>{1, 2, 3, 7}));
	EXPECT_EQ(log.sb.clean_seq, 7u);
}

TEST(Writer, SequenceNumbersRunOutCleanly)
{
	dlt::Env env;
	env.w().append_zero(0, 1);
	Superblock sb = env.w().log().sb;
	unsigned copy = env.w().log().sb_copy;
	sb.next_seq = 1ull << 63;
	write_superblock(env.delta, sb, copy);
	env.reopen();
	EXPECT_THROW(env.w().append_zero(0, 1), LogFullError);
	EXPECT_THROW(env.w().rollback(0), LogFullError);
	EXPECT_EQ(env.recover().nr_live(), 1u);
}
