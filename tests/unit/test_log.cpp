// Recovery (FORMAT.md section 6): the chain, the end of the log, dead and
// void records, the data checksum cut, floors, clean_seq.
#include "deltalog/errors.hpp"
#include "deltalog/log.hpp"
#include "deltalog/meta_block.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <endian.h>

using namespace deltalog;

namespace {

// Writes a block (sealed with the test uuid) at its ring slot.
void put_block(const dlt::Env &env, const MetaBlock &mb, const Uuid &uuid = dlt::test_uuid)
{
	auto p = pack_block(mb, uuid, env.pair.sb.meta_block_size);
	dlt::write_at(env.pair.delta, env.block_offset(mb.index), p.bytes);
}

// Fills `n` blocks of ten one-sector ZERO records each.
void fill_blocks(dlt::Env &env, unsigned n)
{
	for (unsigned i = 0; i < n * 10; i++)
		env.w().append_zero(i % 100, 1);
}

std::vector<std::uint64_t> live_seqs(const LogState &log)
{
	std::vector<std::uint64_t> v;
	for (const Record &r : log.live())
		v.push_back(r.seq);
	return v;
}

} // namespace

TEST(Recovery, EmptyLogAfterFormat)
{
	dlt::Env env;
	LogState log = env.recover();
	EXPECT_EQ(log.head, 0u);
	EXPECT_EQ(log.tail(), 0u);
	EXPECT_EQ(log.scan_end, 0u);
	EXPECT_EQ(log.end_status, BlockStatus::bad_csum);
	EXPECT_TRUE(log.records.empty());
	EXPECT_EQ(log.next_seq, 1u);
	EXPECT_EQ(log.time_floor_ns, 1'000'000'000u);
	EXPECT_FALSE(log.has_data);
	EXPECT_EQ(log.newest_seq(), 0u);
	EXPECT_EQ(log.oldest_seq(), 0u);
}

TEST(Recovery, ReadsWhatTheWriterAppended)
{
	dlt::Env env;
	auto data = dlt::pattern(8 * 512, 1);
	env.w().append_write(16, data);
	env.w().append_zero(100, 4, true);
	env.w().append_mark("m1");
	env.w().append_write(3, dlt::pattern(512, 2), false);
	env.w().sync();
	LogState log = env.recover();
	ASSERT_EQ(log.nr_live(), 4u);
	EXPECT_EQ(log.live(), env.w().log().live());
	EXPECT_EQ(log.records[0].rec.kind, RecordKind::write);
	EXPECT_EQ(log.records[0].rec.data_pos, 0u);
	EXPECT_EQ(log.records[2].rec.label, "m1");
	EXPECT_EQ(log.records[2].slot, 2u);
	EXPECT_EQ(log.records[3].slot, 4u);
	EXPECT_EQ(log.head, 1u);
	EXPECT_EQ(log.next_seq, 5u);
	EXPECT_TRUE(log.has_data);
	EXPECT_EQ(log.data_tail, 0u);
	EXPECT_EQ(log.data_head, 12u);	// 8 sectors, then sector 3 at position 11
	EXPECT_EQ(log.records[3].rec.data_pos, 11u);
	dlt::Bytes back(8 * 512);
	read_data(dlt::open_ro(env.pair.delta), log.sb, 0, back);
	EXPECT_EQ(back, data);
}

TEST(Recovery, NextSeqIsTheHigherOfSuperblockAndLog)
{
	dlt::Env env;
	fill_blocks(env, 1);
	EXPECT_EQ(env.recover().next_seq, 11u);
	// The superblock says more (seqs handed out by a rollback, say).
	Superblock sb = env.w().log().sb;
	unsigned copy = env.w().log().sb_copy;
	sb.next_seq = 500;
	write_superblock(env.delta, sb, copy);
	EXPECT_EQ(env.recover().next_seq, 500u);
}

TEST(Recovery, EndsAtTheFirstBadBlockWhateverFollows)
{
	dlt::Env env;
	fill_blocks(env, 4);
	env.w().sync();
	ASSERT_EQ(env.recover().head, 4u);
	dlt::flip_bit(env.pair.delta, env.block_offset(2) + 100);
	LogState log = env.recover();
	EXPECT_EQ(log.head, 2u);
	EXPECT_EQ(log.end_status, BlockStatus::bad_csum);
	EXPECT_EQ(log.nr_live(), 20u);
	// Blocks 3 (valid, but after the end) are ignored; their seqs too.
	EXPECT_EQ(log.next_seq, 21u);
}

TEST(Recovery, BlockOfAnotherLogEndsTheLog)
{
	dlt::Env env;
	fill_blocks(env, 2);
	MetaBlock foreign;
	foreign.index = 2;
	foreign.prev_csum = env.w().log().blocks.back().csum;
	foreign.records.push_back(Record::zero(100, 5'000'000'000, 0, 1, false));
	Uuid other = dlt::test_uuid;
	other[15] ^= 0xff;
	put_block(env, foreign, other);
	LogState log = env.recover();
	EXPECT_EQ(log.head, 2u);
	EXPECT_EQ(log.end_status, BlockStatus::bad_csum);
	put_block(env, foreign);	// the same block of this log does chain
	EXPECT_EQ(env.recover().head, 3u);
}

TEST(Recovery, StaleBlockFromThePreviousLapEndsTheLog)
{
	dlt::PairOptions o;
	o.origin_sectors = 4096;
	dlt::Env env(o);
	// Eight blocks: the ring is full; merge them, then write one more block.
	fill_blocks(env, 8);
	EXPECT_THROW(env.w().append_zero(0, 1), LogFullError);
	env.w().merge(env.origin, 80);
	fill_blocks(env, 1);
	LogState log = env.recover();
	EXPECT_EQ(log.tail(), 8u);
	EXPECT_EQ(log.head, 9u);
	// Slot 1 still holds index 1 from the previous lap.
	EXPECT_EQ(log.end_status, BlockStatus::bad_index);
	EXPECT_EQ(unpack_block_header(env.block_bytes(9)).index, 1u);
}

TEST(Recovery, MisdirectedBlockEndsTheLog)
{
	dlt::Env env;
	fill_blocks(env, 3);
	// Block 1's contents written where block 2 lives.
	dlt::write_at(env.pair.delta, env.block_offset(2), env.block_bytes(1));
	LogState log = env.recover();
	EXPECT_EQ(log.head, 2u);
	EXPECT_EQ(log.end_status, BlockStatus::bad_index);
}

TEST(Recovery, ChainBreakEndsTheLog)
{
	dlt::Env env;
	fill_blocks(env, 2);
	MetaBlock next;
	next.index = 2;
	next.prev_csum = env.w().log().blocks.back().csum ^ 1;
	next.records.push_back(Record::zero(21, 5'000'000'000, 0, 1, false));
	put_block(env, next);
	LogState log = env.recover();
	EXPECT_EQ(log.head, 2u);
	EXPECT_EQ(log.end_status, BlockStatus::broken_chain);
	next.prev_csum ^= 1;
	put_block(env, next);
	EXPECT_EQ(env.recover().head, 3u);
}

TEST(Recovery, WrongMagicEndsTheLog)
{
	dlt::Env env;
	fill_blocks(env, 2);
	dlt::Bytes b = env.block_bytes(1);
	b[4] = std::byte{'Z'};
	std::uint32_t c = htole32(block_csum(b, dlt::test_uuid));
	std::memcpy(b.data(), &c, 4);
	dlt::write_at(env.pair.delta, env.block_offset(1), b);
	LogState log = env.recover();
	EXPECT_EQ(log.head, 1u);
	EXPECT_EQ(log.end_status, BlockStatus::bad_magic);
}

TEST(Recovery, MalformedBlockInTheLogIsCorruptAndNamed)
{
	dlt::Env env;
	fill_blocks(env, 2);
	MetaBlock bad;
	bad.index = 2;
	bad.prev_csum = env.w().log().blocks.back().csum;
	bad.records.push_back(Record::zero(21, 5'000'000'000, 0, 1, false));
	bad.records.push_back(Record::zero(22, 5'000'000'000, 0, 1, false));
	auto p = pack_block(bad, dlt::test_uuid, 512);
	p.bytes[32 + 48 + 16] = std::byte{9};	// slot 1: unknown kind
	std::uint32_t c = htole32(block_csum(p.bytes, dlt::test_uuid));
	std::memcpy(p.bytes.data(), &c, 4);
	dlt::write_at(env.pair.delta, env.block_offset(2), p.bytes);
	try {
		env.recover();
		FAIL() << "no error";
	} catch (const CorruptLogError &e) {
		EXPECT_EQ(e.index(), 2u);
		EXPECT_EQ(e.ring_slot(), 2u);
		EXPECT_EQ(e.sector(), 18u);
		EXPECT_EQ(e.record_slot(), 1);
		EXPECT_EQ(e.reason(), "unknown record kind 9");
		EXPECT_STREQ(e.what(), "corrupt metadata block 2 (ring slot 2, sector 18), record "
				       "slot 1: unknown record kind 9");
	}
}

TEST(Recovery, SeqGoingBackAcrossBlocksIsCorrupt)
{
	dlt::Env env;
	fill_blocks(env, 1);
	MetaBlock next;
	next.index = 1;
	next.prev_csum = env.w().log().blocks.back().csum;
	next.records.push_back(Record::zero(5, 5'000'000'000, 0, 1, false));
	put_block(env, next);
	EXPECT_THROW(env.recover(), CorruptLogError);
}

TEST(Recovery, ExtentPastTheOriginIsCorrupt)
{
	dlt::Env env;
	MetaBlock mb;
	mb.index = 0;
	mb.records.push_back(Record::zero(1, 5'000'000'000, 510, 4, false));
	put_block(env, mb);
	EXPECT_THROW(env.recover(), CorruptLogError);
}

TEST(Recovery, MalformedBlockPastTheEndIsIgnored)
{
	dlt::Env env;
	fill_blocks(env, 1);
	MetaBlock bad;
	bad.index = 2;	// block 1 is missing: never reached
	bad.records.push_back(Record::zero(1, 1, 0, 1, false));
	auto p = pack_block(bad, dlt::test_uuid, 512);
	p.bytes[32 + 16] = std::byte{9};
	dlt::write_at(env.pair.delta, env.block_offset(2), p.bytes);
	EXPECT_EQ(env.recover().head, 1u);
}

TEST(Recovery, DeadRecordsAreSkipped)
{
	dlt::Env env;
	for (int i = 0; i < 5; i++)
		env.w().append_write(static_cast<std::uint64_t>(i) * 8, dlt::pattern(4096, i));
	env.w().merge(env.origin, 3);
	LogState log = env.recover();
	EXPECT_EQ(log.sb.merged_seq, 3u);
	EXPECT_EQ(log.tail(), 0u);	// seqs 4 and 5 share block 0
	ASSERT_EQ(log.records.size(), 5u);
	EXPECT_EQ(log.records[0].status, RecordStatus::dead);
	EXPECT_EQ(log.records[2].status, RecordStatus::dead);
	EXPECT_EQ(live_seqs(log), (std::vector<std::uint64_t>{4, 5}));
	// Dead data is free: the ring starts at seq 4's data.
	EXPECT_EQ(log.data_tail, 24u);
	EXPECT_EQ(log.data_head, 40u);
}

TEST(Recovery, RollbackVoidsRecordsOfTheBlockBefore)
{
	dlt::Env env;
	for (int i = 0; i < 6; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	std::uint64_t rb = env.w().rollback(3);
	EXPECT_EQ(rb, 7u);
	LogState log = env.recover();
	EXPECT_EQ(live_seqs(log), (std::vector<std::uint64_t>{1, 2, 3, 7}));
	EXPECT_EQ(log.records[3].status, RecordStatus::voided);
	EXPECT_EQ(log.records[5].status, RecordStatus::voided);
	EXPECT_EQ(log.records[6].rec.kind, RecordKind::rollback);
	EXPECT_EQ(log.records[6].rec.to_seq, 3u);
	EXPECT_EQ(log.records[6].block, 1u);
	EXPECT_EQ(log.records[6].slot, 0u);
	EXPECT_EQ(log.next_seq, 8u);
}

namespace {

// Appends n one-sector WRITEs with DATA_CSUM; returns their seqs.
std::vector<std::uint64_t> csum_writes(dlt::Env &env, int n, int seed = 0)
{
	std::vector<std::uint64_t> seqs;
	for (int i = 0; i < n; i++)
		seqs.push_back(env.w().append_write(static_cast<std::uint64_t>(i) * 8,
						   dlt::pattern(4096, seed + i)));
	return seqs;
}

void damage_data(dlt::Env &env, const LogState &log, std::uint64_t seq)
{
	for (const LogRecord &r : log.records)
		if (r.rec.seq == seq)
			dlt::flip_bit(env.pair.delta, env.data_offset(r.rec.data_pos) + 7);
}

} // namespace

TEST(Recovery, DataChecksumCutDropsTheRecordAndEverythingAfter)
{
	dlt::Env env;
	csum_writes(env, 3);
	env.w().sync();				// 1..3 durable
	csum_writes(env, 14, 100);		// 4..17 not yet: blocks 0 and 1
	LogState before = env.recover();
	ASSERT_FALSE(before.cut);
	EXPECT_EQ(before.trusted_seq, 3u);
	damage_data(env, before, 12);		// in block 1 (slots 1..)
	LogState log = env.recover();
	EXPECT_TRUE(log.cut);
	EXPECT_EQ(log.cut_seq, 12u);
	EXPECT_EQ(log.cut_to_seq, 11u);
	EXPECT_EQ(log.cut_block, 1u);
	EXPECT_EQ(log.head, 2u);
	EXPECT_EQ(log.newest_seq(), 11u);
	for (const LogRecord &r : log.records)
		EXPECT_EQ(r.status, r.rec.seq >= 12 ? RecordStatus::dropped : RecordStatus::live);
	EXPECT_EQ(log.next_seq, 18u);	// dropped seqs are not handed out again
	EXPECT_EQ(log.data_head, 11u * 8);
}

TEST(Recovery, TrustedRecordsAreNotChecked)
{
	dlt::Env env;
	csum_writes(env, 5);
	env.w().sync();
	damage_data(env, env.recover(), 2);
	LogState log = env.recover();
	EXPECT_FALSE(log.cut);
	EXPECT_EQ(log.nr_live(), 5u);
}

TEST(Recovery, CleanStopTrustsEverything)
{
	dlt::Env env;
	csum_writes(env, 5);
	env.w().stop();
	EXPECT_EQ(env.recover().sb.clean_seq, 5u);
	damage_data(env, env.recover(), 5);
	LogState log = env.recover();
	EXPECT_EQ(log.trusted_seq, 5u);
	EXPECT_FALSE(log.cut);
}

TEST(Recovery, OrderedWritesAreNeverChecked)
{
	dlt::Env env;
	env.w().append_write(0, dlt::pattern(4096, 1), false);
	env.w().append_write(8, dlt::pattern(4096, 2), true);
	LogState log = env.recover();
	EXPECT_EQ(log.trusted_seq, 1u);	// the ordered write flushed first
	damage_data(env, log, 1);
	EXPECT_FALSE(env.recover().cut);
	damage_data(env, log, 2);
	EXPECT_TRUE(env.recover().cut);
}

TEST(Recovery, CleanSeqNewerThanTheLogMeansLostBlocks)
{
	dlt::Env env;
	fill_blocks(env, 3);
	env.w().stop();
	std::vector<std::byte> zero(512);
	dlt::write_at(env.pair.delta, env.block_offset(2), zero);
	try {
		env.recover();
		FAIL() << "no error";
	} catch (const CorruptLogError &e) {
		EXPECT_NE(e.reason().find("stopped cleanly at seq 30 but the log ends at seq 20"),
			  std::string::npos)
			<< e.what();
	}
}

TEST(Recovery, CleanSeqCoveredByMergeIsFine)
{
	dlt::Env env;
	fill_blocks(env, 2);
	env.w().stop();
	env.w().merge(env.origin, 20);
	LogState log = env.recover();
	EXPECT_EQ(log.tail(), 2u);
	EXPECT_EQ(log.head, 2u);
	EXPECT_EQ(log.sb.clean_seq, 20u);
	EXPECT_EQ(log.next_seq, 21u);
}

TEST(Recovery, LiveDataLargerThanTheRingIsCorrupt)
{
	dlt::Env env;
	MetaBlock mb;
	mb.index = 0;
	mb.records.push_back(Record::write(1, 5'000'000'000, 0, 8, 0, std::nullopt));
	mb.records.push_back(Record::write(2, 5'000'000'000, 8, 8, 2048, std::nullopt));
	put_block(env, mb);
	EXPECT_THROW(env.recover(), CorruptLogError);
}

TEST(Recovery, TimeFloorComesFromSuperblockAndRecords)
{
	dlt::Env env;
	env.clock.set(7'000'000'000);
	env.w().append_zero(0, 1);
	EXPECT_EQ(env.recover().time_floor_ns, 7'000'000'000u);
	Superblock sb = env.w().log().sb;
	unsigned copy = env.w().log().sb_copy;
	sb.time_floor_ns = 9'000'000'000;
	write_superblock(env.delta, sb, copy);
	EXPECT_EQ(env.recover().time_floor_ns, 9'000'000'000u);
}

TEST(Recovery, UnformattedAndShrunkDeltas)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("zero"), 4096);
	EXPECT_THROW(recover(dlt::open_ro(dir.path("zero"))), UnformattedError);
	auto p = dlt::make_pair(dir);
	EXPECT_NO_THROW(recover(dlt::open_ro(p.delta)));
	dlt::Bytes all = dlt::read_file(p.delta);
	all.resize(all.size() - 4096);
	dlt::write_file(dir.path("short"), all);
	EXPECT_THROW(recover(dlt::open_ro(dir.path("short"))), GeometryError);
}
