// Metadata blocks: header layout, uuid-seeded checksum, belonging to the
// log (checksum, magic, index, chain), contents validation (FORMAT.md 4.1,
// 4.2, 6.2).
#include "deltalog/crc32c.hpp"
#include "deltalog/meta_block.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <endian.h>

using namespace deltalog;

namespace {

const RecordLimits limits{1000, 512, 2048};

MetaBlock sample_block(std::uint64_t index = 12, std::uint64_t first_seq = 30)
{
	MetaBlock mb;
	mb.index = index;
	mb.prev_csum = 0x12345678;
	mb.durable_seq = first_seq - 1;
	mb.records.push_back(Record::write(first_seq, 100, 8, 8, 8, 0x1111));
	mb.records.push_back(Record::zero(first_seq + 1, 100, 0, 4, false));
	mb.records.push_back(Record::mark(first_seq + 2, 101, "m1"));
	mb.records.push_back(Record::write(first_seq + 3, 102, 3, 1, 19, std::nullopt));
	return mb;
}

// Re-seal a block after editing its bytes (fix the checksum).
void reseal(std::vector<std::byte> &b, const Uuid &uuid = dlt::test_uuid)
{
	std::uint32_t c = htole32(block_csum(b, uuid));
	std::memcpy(b.data(), &c, 4);
}

ParsedBlock parse(const std::vector<std::byte> &b)
{
	LogOrder order;
	return parse_block(b, limits, order);
}

} // namespace

TEST(MetaBlock, HeaderLayoutMatchesFormatMd)
{
	EXPECT_EQ(offsetof(dlog_meta_header, csum), 0u);
	EXPECT_EQ(offsetof(dlog_meta_header, magic), 4u);
	EXPECT_EQ(offsetof(dlog_meta_header, index), 8u);
	EXPECT_EQ(offsetof(dlog_meta_header, prev_csum), 16u);
	EXPECT_EQ(offsetof(dlog_meta_header, nr_slots), 20u);
	EXPECT_EQ(offsetof(dlog_meta_header, flags), 22u);
	EXPECT_EQ(offsetof(dlog_meta_header, durable_seq), 24u);
}

TEST(MetaBlock, PackParseRoundTrip)
{
	for (std::uint32_t size : {512u, 1024u, 4096u}) {
		MetaBlock mb = sample_block();
		PackedBlock p = pack_block(mb, dlt::test_uuid, size);
		ASSERT_EQ(p.bytes.size(), size);
		BlockHeader h = unpack_block_header(p.bytes);
		EXPECT_EQ(h.csum, p.csum);
		EXPECT_EQ(h.magic, DLOG_MB_MAGIC);
		EXPECT_EQ(h.index, 12u);
		EXPECT_EQ(h.prev_csum, 0x12345678u);
		EXPECT_EQ(h.nr_slots, 5u);	// the MARK takes two
		EXPECT_EQ(h.durable_seq, 29u);
		ParsedBlock pb = parse(p.bytes);
		ASSERT_TRUE(pb.ok()) << pb.problems[0].what;
		EXPECT_EQ(pb.block.records, mb.records);
		EXPECT_EQ(pb.record_slot, (std::vector<unsigned>{0, 1, 2, 4}));
		// Packing what was parsed gives the same bytes.
		EXPECT_EQ(pack_block(pb.block, dlt::test_uuid, size).bytes, p.bytes);
	}
}

TEST(MetaBlock, ChecksumIsSeededWithTheUuid)
{
	PackedBlock p = pack_block(sample_block(), dlt::test_uuid, 512);
	Crc32c c;
	c.update(dlt::test_uuid.data(), 16).update(p.bytes.data() + 4, 508);
	EXPECT_EQ(p.csum, c.value());
	Uuid other = dlt::test_uuid;
	other[0] ^= 1;
	EXPECT_EQ(classify_block(p.bytes, dlt::test_uuid, 12, std::nullopt), BlockStatus::ok);
	EXPECT_EQ(classify_block(p.bytes, other, 12, std::nullopt), BlockStatus::bad_csum);
}

TEST(MetaBlock, CapacityIsEnforced)
{
	MetaBlock mb;
	mb.index = 1;
	for (unsigned i = 0; i < 10; i++)
		mb.records.push_back(Record::zero(i + 1, 1, 0, 1, false));
	EXPECT_NO_THROW(pack_block(mb, dlt::test_uuid, 512));
	mb.records.push_back(Record::zero(11, 1, 0, 1, false));
	EXPECT_THROW(pack_block(mb, dlt::test_uuid, 512), std::invalid_argument);
	mb.records.clear();
	EXPECT_THROW(pack_block(mb, dlt::test_uuid, 512), std::invalid_argument);
}

TEST(MetaBlock, EveryBitFlipBreaksTheChecksum)
{
	PackedBlock p = pack_block(sample_block(), dlt::test_uuid, 512);
	for (std::size_t off = 0; off < p.bytes.size(); off++) {
		auto b = p.bytes;
		b[off] ^= std::byte{0x80};
		ASSERT_EQ(classify_block(b, dlt::test_uuid, 12, std::nullopt), BlockStatus::bad_csum)
			<< "byte " << off;
	}
}

TEST(MetaBlock, EveryBitFlipOfARollbackBlockBreaksTheChecksum)
{
	MetaBlock mb;
	mb.index = 5;
	mb.prev_csum = 0xabcdef;
	mb.durable_seq = 3;
	mb.records.push_back(Record::rollback(40, 100, 30));
	mb.records.push_back(Record::write(41, 100, 0, 8, 0, 7));
	PackedBlock p = pack_block(mb, dlt::test_uuid, 512);
	ASSERT_TRUE(parse(p.bytes).ok());
	for (std::size_t off = 0; off < p.bytes.size(); off++) {
		auto b = p.bytes;
		b[off] ^= std::byte{static_cast<unsigned char>(1u << (off % 8))};
		ASSERT_EQ(classify_block(b, dlt::test_uuid, 5, std::nullopt), BlockStatus::bad_csum)
			<< "byte " << off;
	}
}

TEST(MetaBlock, TornBlockIsDetected)
{
	// Half of the new version over half of the old one.
	MetaBlock old_mb = sample_block();
	MetaBlock new_mb = old_mb;
	new_mb.records.push_back(Record::zero(40, 200, 0, 8, false));
	new_mb.durable_seq = 33;
	auto old_b = pack_block(old_mb, dlt::test_uuid, 512).bytes;
	auto new_b = pack_block(new_mb, dlt::test_uuid, 512).bytes;
	auto torn = new_b;
	std::memcpy(torn.data() + 256, old_b.data() + 256, 256);
	EXPECT_EQ(classify_block(torn, dlt::test_uuid, 12, std::nullopt), BlockStatus::bad_csum);
	torn = old_b;
	std::memcpy(torn.data() + 256, new_b.data() + 256, 256);
	EXPECT_EQ(classify_block(torn, dlt::test_uuid, 12, std::nullopt), BlockStatus::bad_csum);
}

TEST(MetaBlock, WrongMagic)
{
	auto b = pack_block(sample_block(), dlt::test_uuid, 512).bytes;
	b[4] = std::byte{'X'};
	reseal(b);
	EXPECT_EQ(classify_block(b, dlt::test_uuid, 12, std::nullopt), BlockStatus::bad_magic);
}

TEST(MetaBlock, StaleOrMisdirectedIndex)
{
	auto b = pack_block(sample_block(12), dlt::test_uuid, 512).bytes;
	EXPECT_EQ(classify_block(b, dlt::test_uuid, 12 + 8, std::nullopt), BlockStatus::bad_index);
	EXPECT_EQ(classify_block(b, dlt::test_uuid, 13, std::nullopt), BlockStatus::bad_index);
}

TEST(MetaBlock, ChainIsCheckedUnlessFirst)
{
	auto b = pack_block(sample_block(), dlt::test_uuid, 512).bytes;
	EXPECT_EQ(classify_block(b, dlt::test_uuid, 12, 0x12345678u), BlockStatus::ok);
	EXPECT_EQ(classify_block(b, dlt::test_uuid, 12, 0x12345679u), BlockStatus::broken_chain);
	EXPECT_EQ(classify_block(b, dlt::test_uuid, 12, std::nullopt), BlockStatus::ok);
}

TEST(MetaBlock, ZeroBlockDoesNotBelong)
{
	std::vector<std::byte> z(512);
	EXPECT_EQ(classify_block(z, dlt::test_uuid, 0, std::nullopt), BlockStatus::bad_csum);
}

TEST(MetaBlockContents, HeaderFlags)
{
	auto b = pack_block(sample_block(), dlt::test_uuid, 512).bytes;
	b[22] = std::byte{1};
	auto pb = parse(b);
	ASSERT_FALSE(pb.ok());
	EXPECT_EQ(pb.problems[0].slot, -1);
	EXPECT_NE(pb.problems[0].what.find("header flags"), std::string::npos);
}

TEST(MetaBlockContents, SlotCount)
{
	auto b = pack_block(sample_block(), dlt::test_uuid, 512).bytes;
	b[20] = std::byte{0};
	EXPECT_NE(parse(b).problems.at(0).what.find("slot count 0"), std::string::npos);
	b[20] = std::byte{11};
	EXPECT_NE(parse(b).problems.at(0).what.find("slot count 11 out of range 1..10"),
		  std::string::npos);
}

TEST(MetaBlockContents, UnusedSlotsMustBeZero)
{
	auto b = pack_block(sample_block(), dlt::test_uuid, 512).bytes;
	b[511] = std::byte{1};
	auto pb = parse(b);
	ASSERT_EQ(pb.problems.size(), 1u);
	EXPECT_NE(pb.problems[0].what.find("unused but not zero"), std::string::npos);
}

TEST(MetaBlockContents, SeqMustIncreaseWithinAndAcrossBlocks)
{
	MetaBlock mb = sample_block();
	mb.records[1].seq = mb.records[0].seq;
	auto pb = parse(pack_block(mb, dlt::test_uuid, 512).bytes);
	ASSERT_EQ(pb.problems.size(), 1u);
	EXPECT_EQ(pb.problems[0].slot, 1);
	EXPECT_NE(pb.problems[0].what.find("not above the previous"), std::string::npos);

	LogOrder order{100, 0};
	pb = parse_block(pack_block(sample_block(), dlt::test_uuid, 512).bytes, limits, order);
	EXPECT_EQ(pb.problems.size(), 4u);	// every record is at or below 100
}

TEST(MetaBlockContents, TimeMustNotDecrease)
{
	MetaBlock mb = sample_block();
	mb.records[3].time_ns = 50;
	auto pb = parse(pack_block(mb, dlt::test_uuid, 512).bytes);
	ASSERT_EQ(pb.problems.size(), 1u);
	EXPECT_EQ(pb.problems[0].slot, 4);
	EXPECT_NE(pb.problems[0].what.find("before the previous"), std::string::npos);
	// Equal times are fine.
	mb.records[3].time_ns = 101;
	EXPECT_TRUE(parse(pack_block(mb, dlt::test_uuid, 512).bytes).ok());
	LogOrder order;
	auto ok = parse_block(pack_block(sample_block(), dlt::test_uuid, 512).bytes, limits, order);
	EXPECT_EQ(order.last_seq, 33u);
	EXPECT_EQ(order.last_time, 102u);
}

TEST(MetaBlockContents, MarkSplitAcrossTheBlockEnd)
{
	MetaBlock mb;
	mb.index = 0;
	for (unsigned i = 0; i < 8; i++)
		mb.records.push_back(Record::zero(i + 1, 1, 0, 1, false));
	mb.records.push_back(Record::mark(9, 1, "m"));	// slots 8 and 9: fits
	auto b = pack_block(mb, dlt::test_uuid, 512).bytes;
	EXPECT_TRUE(parse(b).ok());
	// Claim only 9 slots: the MARK's second half is outside.
	b[20] = std::byte{9};
	std::memset(b.data() + 32 + 9 * 48, 0, 48);
	auto pb = parse(b);
	ASSERT_EQ(pb.problems.size(), 1u);
	EXPECT_EQ(pb.problems[0].slot, 8);
	EXPECT_EQ(pb.problems[0].what, "MARK record split across blocks");
}

TEST(MetaBlockContents, RollbackFirstOnly)
{
	MetaBlock mb;
	mb.index = 3;
	mb.records.push_back(Record::rollback(10, 1, 5));
	mb.records.push_back(Record::write(11, 1, 0, 8, 0, 1));
	EXPECT_TRUE(parse(pack_block(mb, dlt::test_uuid, 512).bytes).ok());
	std::swap(mb.records[0], mb.records[1]);
	mb.records[0].seq = 10;
	mb.records[1].seq = 11;
	auto pb = parse(pack_block(mb, dlt::test_uuid, 512).bytes);
	ASSERT_EQ(pb.problems.size(), 1u);
	EXPECT_EQ(pb.problems[0].slot, 1);
	EXPECT_EQ(pb.problems[0].what, "ROLLBACK record not first in its block");
}

TEST(MetaBlockContents, SeveralBadRecordsAreAllReported)
{
	auto b = pack_block(sample_block(), dlt::test_uuid, 512).bytes;
	b[32 + 16] = std::byte{9};		// slot 0: unknown kind
	b[32 + 48 + 44] = std::byte{1};		// slot 1: reserved
	b[32 + 2 * 48 + 90] = std::byte{1};	// slots 2-3: MARK reserved
	auto pb = parse(b);
	ASSERT_EQ(pb.problems.size(), 3u);
	EXPECT_EQ(pb.problems[0].slot, 0);
	EXPECT_EQ(pb.problems[1].slot, 1);
	EXPECT_EQ(pb.problems[2].slot, 2);
	EXPECT_EQ(pb.block.records.size(), 1u);	// the last WRITE is fine
}
