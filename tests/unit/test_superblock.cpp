// Superblock: layout, pack/unpack, every validity rule, the choice between
// the copies, updates, format and the origin's identity (FORMAT.md 3).
#include "deltalog/crc32c.hpp"
#include "deltalog/errors.hpp"
#include "deltalog/superblock.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <endian.h>
#include <fmt/format.h>
#include <functional>

using namespace deltalog;

namespace {

Superblock sample()
{
	Superblock sb;
	sb.flags = DLOG_SBF_MERGING;
	sb.generation = 0x1122334455667788ull;
	sb.uuid = dlt::test_uuid;
	sb.format_time_ns = 1'700'000'000'123'456'789ull;
	sb.delta_sectors = 1 << 20;
	sb.meta_block_size = 4096;
	sb.meta_start = 16;
	sb.meta_blocks = 1024;
	sb.data_start = 16 + 1024 * 8;
	sb.data_sectors = (1 << 20) - sb.data_start;
	sb.origin_sectors = 123456;
	sb.origin_lbs = 4096;
	sb.origin_fingerprint = 0xdeadbeef;
	sb.origin_fs_uuid = "0f2c3b4a-1111-2222-3333-444455556666";
	sb.next_seq = 1000;
	sb.merged_seq = 500;
	sb.meta_tail = 77;
	sb.time_floor_ns = 1'700'000'001'000'000'000ull;
	sb.clean_seq = 999;
	sb.merge_target_seq = 700;
	return sb;
}

Superblock sample_with_merge_samples()
{
	Superblock sb = sample();
	sb.flags |= DLOG_SBF_MERGE_SAMPLES;
	for (unsigned i = 0; i < DLOG_FP_SECTORS; i++) {
		sb.merge_samples[0][i] = 0x10000000u + i;
		sb.merge_samples[1][i] = 0x20000000u + i;
	}
	return sb;
}

template <typename T> T le_at(const SuperblockBytes &b, std::size_t off)
{
	T v;
	std::memcpy(&v, b.data() + off, sizeof(v));
	if constexpr (sizeof(T) == 8)
		return le64toh(v);
	else if constexpr (sizeof(T) == 4)
		return le32toh(v);
	else
		return v;
}

// Bytes of a valid copy after changing fields through the host struct.
SuperblockBytes with(const std::function<void(Superblock &)> &change, unsigned copy = 0)
{
	Superblock sb = sample();
	change(sb);
	return pack_superblock(sb, copy);
}

std::string first_problem(const SuperblockBytes &b, unsigned copy = 0)
{
	auto p = superblock_problems(b, copy);
	return p.empty() ? "" : p.front();
}

} // namespace

TEST(Superblock, HeaderLayoutMatchesFormatMd)
{
	EXPECT_EQ(offsetof(dlog_superblock, csum), 0u);
	EXPECT_EQ(offsetof(dlog_superblock, magic), 4u);
	EXPECT_EQ(offsetof(dlog_superblock, blocknr), 8u);
	EXPECT_EQ(offsetof(dlog_superblock, version), 16u);
	EXPECT_EQ(offsetof(dlog_superblock, flags), 20u);
	EXPECT_EQ(offsetof(dlog_superblock, generation), 24u);
	EXPECT_EQ(offsetof(dlog_superblock, uuid), 32u);
	EXPECT_EQ(offsetof(dlog_superblock, format_time_ns), 48u);
	EXPECT_EQ(offsetof(dlog_superblock, delta_sectors), 56u);
	EXPECT_EQ(offsetof(dlog_superblock, meta_block_size), 64u);
	EXPECT_EQ(offsetof(dlog_superblock, reserved0), 68u);
	EXPECT_EQ(offsetof(dlog_superblock, meta_start), 72u);
	EXPECT_EQ(offsetof(dlog_superblock, meta_blocks), 80u);
	EXPECT_EQ(offsetof(dlog_superblock, data_start), 88u);
	EXPECT_EQ(offsetof(dlog_superblock, data_sectors), 96u);
	EXPECT_EQ(offsetof(dlog_superblock, origin_sectors), 104u);
	EXPECT_EQ(offsetof(dlog_superblock, origin_lbs), 112u);
	EXPECT_EQ(offsetof(dlog_superblock, origin_fingerprint), 116u);
	EXPECT_EQ(offsetof(dlog_superblock, origin_fs_uuid), 120u);
	EXPECT_EQ(offsetof(dlog_superblock, next_seq), 160u);
	EXPECT_EQ(offsetof(dlog_superblock, merged_seq), 168u);
	EXPECT_EQ(offsetof(dlog_superblock, meta_tail), 176u);
	EXPECT_EQ(offsetof(dlog_superblock, time_floor_ns), 184u);
	EXPECT_EQ(offsetof(dlog_superblock, clean_seq), 192u);
	EXPECT_EQ(offsetof(dlog_superblock, merge_target_seq), 200u);
	EXPECT_EQ(offsetof(dlog_superblock, merge_samples), 208u);
	EXPECT_EQ(offsetof(dlog_superblock, padding), 1232u);
	EXPECT_EQ(sizeof(dlog_superblock), 4096u);
}

TEST(Superblock, PackWritesFieldsAtTheirOffsets)
{
	const Superblock sb = sample();
	const SuperblockBytes b = pack_superblock(sb, 1);
	const unsigned char magic[4] = {0x44, 0x4c, 0x4c, 0x42};	// "DLLB"
	EXPECT_EQ(std::memcmp(b.data() + 4, magic, 4), 0);
	EXPECT_EQ(le_at<std::uint64_t>(b, 8), 1u);
	EXPECT_EQ(le_at<std::uint32_t>(b, 16), 2u);
	EXPECT_EQ(le_at<std::uint32_t>(b, 20), DLOG_SBF_MERGING);
	EXPECT_EQ(le_at<std::uint64_t>(b, 24), sb.generation);
	EXPECT_EQ(std::memcmp(b.data() + 32, sb.uuid.data(), 16), 0);
	EXPECT_EQ(le_at<std::uint64_t>(b, 48), sb.format_time_ns);
	EXPECT_EQ(le_at<std::uint64_t>(b, 56), sb.delta_sectors);
	EXPECT_EQ(le_at<std::uint32_t>(b, 64), sb.meta_block_size);
	EXPECT_EQ(le_at<std::uint64_t>(b, 72), sb.meta_start);
	EXPECT_EQ(le_at<std::uint64_t>(b, 80), sb.meta_blocks);
	EXPECT_EQ(le_at<std::uint64_t>(b, 88), sb.data_start);
	EXPECT_EQ(le_at<std::uint64_t>(b, 96), sb.data_sectors);
	EXPECT_EQ(le_at<std::uint64_t>(b, 104), sb.origin_sectors);
	EXPECT_EQ(le_at<std::uint32_t>(b, 112), sb.origin_lbs);
	EXPECT_EQ(le_at<std::uint32_t>(b, 116), sb.origin_fingerprint);
	EXPECT_EQ(std::string(reinterpret_cast<const char *>(b.data()) + 120), sb.origin_fs_uuid);
	EXPECT_EQ(le_at<std::uint64_t>(b, 160), sb.next_seq);
	EXPECT_EQ(le_at<std::uint64_t>(b, 168), sb.merged_seq);
	EXPECT_EQ(le_at<std::uint64_t>(b, 176), sb.meta_tail);
	EXPECT_EQ(le_at<std::uint64_t>(b, 184), sb.time_floor_ns);
	EXPECT_EQ(le_at<std::uint64_t>(b, 192), sb.clean_seq);
	EXPECT_EQ(le_at<std::uint64_t>(b, 200), sb.merge_target_seq);
	for (std::size_t i = 208; i < 4096; i++)
		ASSERT_EQ(b[i], std::byte{0}) << "padding byte " << i;
	// csum covers bytes 4..4095.
	EXPECT_EQ(le_at<std::uint32_t>(b, 0), crc32c(b.data() + 4, 4092));

	// With MERGE_SAMPLES: before at 208, after at 720, 128 of each.
	const Superblock ms = sample_with_merge_samples();
	const SuperblockBytes m = pack_superblock(ms, 0);
	EXPECT_EQ(le_at<std::uint32_t>(m, 20), DLOG_SBF_MERGING | DLOG_SBF_MERGE_SAMPLES);
	EXPECT_EQ(le_at<std::uint32_t>(m, 208), 0x10000000u);
	EXPECT_EQ(le_at<std::uint32_t>(m, 208 + 4 * 127), 0x10000000u + 127);
	EXPECT_EQ(le_at<std::uint32_t>(m, 720), 0x20000000u);
	EXPECT_EQ(le_at<std::uint32_t>(m, 720 + 4 * 127), 0x20000000u + 127);
	for (std::size_t i = 1232; i < 4096; i++)
		ASSERT_EQ(m[i], std::byte{0}) << "padding byte " << i;
	EXPECT_EQ(unpack_superblock(m), ms);
	EXPECT_TRUE(superblock_problems(m, 0).empty()) << first_problem(m, 0);

	// Samples without a merge are refused.
	Superblock bad = ms;
	bad.flags = DLOG_SBF_MERGE_SAMPLES;
	bad.merge_target_seq = 0;
	EXPECT_FALSE(superblock_problems(pack_superblock(bad, 0), 0).empty());
}

TEST(Superblock, RoundTrip)
{
	const Superblock sb = sample();
	for (unsigned copy = 0; copy < 2; copy++) {
		SuperblockBytes b = pack_superblock(sb, copy);
		EXPECT_EQ(unpack_superblock(b), sb);
		EXPECT_TRUE(superblock_problems(b, copy).empty()) << first_problem(b, copy);
	}
	Superblock no_uuid = sample();
	no_uuid.origin_fs_uuid.clear();
	EXPECT_EQ(unpack_superblock(pack_superblock(no_uuid, 0)), no_uuid);
	Superblock full_uuid = sample();
	full_uuid.origin_fs_uuid = std::string(DLOG_FS_UUID_LEN, 'x');	// no NUL room needed
	EXPECT_EQ(unpack_superblock(pack_superblock(full_uuid, 0)), full_uuid);
	full_uuid.origin_fs_uuid += 'y';
	EXPECT_THROW(pack_superblock(full_uuid, 0), std::invalid_argument);
}

TEST(Superblock, EveryBitFlipIsDetectedInBothCopies)
{
	for (unsigned copy = 0; copy < 2; copy++) {
		const SuperblockBytes good = pack_superblock(sample(), copy);
		for (std::size_t off = 0; off < DLOG_SB_SIZE; off++) {
			SuperblockBytes b = good;
			b[off] ^= std::byte{static_cast<unsigned char>(1u << (off % 8))};
			ASSERT_FALSE(superblock_problems(b, copy).empty())
				<< "copy " << copy << ", flip at byte " << off;
		}
	}
}

TEST(Superblock, WrongMagicIsReportedAlone)
{
	SuperblockBytes b = pack_superblock(sample(), 0);
	b[4] = std::byte{'X'};
	auto p = superblock_problems(b, 0);
	ASSERT_EQ(p.size(), 1u);
	EXPECT_NE(p[0].find("bad magic"), std::string::npos);
}

TEST(Superblock, ChecksumMismatchIsReportedAlone)
{
	SuperblockBytes b = pack_superblock(sample(), 0);
	b[300] ^= std::byte{1};
	auto p = superblock_problems(b, 0);
	ASSERT_EQ(p.size(), 1u);
	EXPECT_NE(p[0].find("checksum mismatch"), std::string::npos);
}

TEST(Superblock, MisdirectedCopyIsInvalid)
{
	SuperblockBytes a = pack_superblock(sample(), 0);
	EXPECT_NE(first_problem(a, 1).find("blocknr 0 in copy B"), std::string::npos);
	SuperblockBytes b = pack_superblock(sample(), 1);
	EXPECT_NE(first_problem(b, 0).find("blocknr 1 in copy A"), std::string::npos);
}

TEST(Superblock, WrongVersionIsInvalid)
{
	SuperblockBytes b = pack_superblock(sample(), 0);
	for (std::uint32_t version : {1u, 3u}) {
		std::uint32_t v = htole32(version);
		std::memcpy(b.data() + 16, &v, 4);
		std::uint32_t c = htole32(crc32c(b.data() + 4, 4092));
		std::memcpy(b.data(), &c, 4);
		EXPECT_NE(first_problem(b).find(fmt::format("unsupported format version {}", version)),
			  std::string::npos);
	}
}

// One test per geometry and state rule of FORMAT.md 3.
struct Rule {
	const char *name;
	std::function<void(Superblock &)> change;
	const char *expect;
};

void PrintTo(const Rule &r, std::ostream *os)
{
	*os << r.name;
}

class SuperblockRule : public ::testing::TestWithParam<Rule> {};

TEST_P(SuperblockRule, IsEnforced)
{
	const Rule &r = GetParam();
	SuperblockBytes b = with(r.change);
	auto p = superblock_problems(b, 0);
	ASSERT_FALSE(p.empty());
	bool found = false;
	for (auto &s : p)
		found |= s.find(r.expect) != std::string::npos;
	EXPECT_TRUE(found) << p.front();
}

INSTANTIATE_TEST_SUITE_P(
	Validity, SuperblockRule,
	::testing::Values(
		Rule{"UnknownFlags", [](Superblock &s) { s.flags |= 4; }, "unknown flags"},
		Rule{"BlockSizeNotPowerOfTwo", [](Superblock &s) { s.meta_block_size = 1536; },
		     "meta_block_size 1536"},
		Rule{"BlockSizeTooSmall", [](Superblock &s) { s.meta_block_size = 256; },
		     "meta_block_size 256"},
		Rule{"BlockSizeTooLarge", [](Superblock &s) { s.meta_block_size = 8192; },
		     "meta_block_size 8192"},
		Rule{"MetaOverlapsSuperblocks", [](Superblock &s) { s.meta_start = 15; },
		     "overlaps the superblocks"},
		Rule{"FewerThanEightBlocks", [](Superblock &s) { s.meta_blocks = 7; },
		     "meta_blocks 7 is below 8"},
		Rule{"DataStartUnaligned", [](Superblock &s) { s.data_start += 1; },
		     "not 4 KiB aligned"},
		Rule{"DataSectorsUnaligned", [](Superblock &s) { s.data_sectors -= 4; },
		     "not 4 KiB aligned"},
		Rule{"DataRingTooSmall", [](Superblock &s) { s.data_sectors = 2040; },
		     "data_sectors 2040 is below 2048"},
		Rule{"DataOverlapsSuperblocks", [](Superblock &s) { s.data_start = 8; },
		     "overlaps the superblocks"},
		Rule{"MetaRingPastEnd", [](Superblock &s) { s.meta_blocks = 1 << 20; },
		     "exceeds the delta"},
		Rule{"DataRingPastEnd", [](Superblock &s) { s.data_sectors += 8; },
		     "exceeds the delta"},
		Rule{"RingsOverlap", [](Superblock &s) { s.data_start -= 8; s.data_sectors = 4096; },
		     "overlap"},
		Rule{"OriginTooSmall", [](Superblock &s) { s.origin_sectors = 7; },
		     "origin_sectors 7 is below 8"},
		Rule{"OriginLbs", [](Superblock &s) { s.origin_lbs = 1024; },
		     "origin_lbs 1024"},
		Rule{"TailNearTheEndOfIndexes", [](Superblock &s) { s.meta_tail = 1ull << 63; },
		     "meta_tail 9223372036854775808 is not below 2^63"},
		Rule{"NextSeqAboveTheLimit", [](Superblock &s) { s.next_seq = (1ull << 63) + 1; },
		     "next_seq 9223372036854775809 is above 2^63"},
		Rule{"NextSeqNotAboveMerged", [](Superblock &s) { s.next_seq = s.merged_seq; },
		     "next_seq"},
		Rule{"MergingWithoutTarget", [](Superblock &s) { s.merge_target_seq = 0; },
		     "MERGING flag set but merge_target_seq 0"},
		Rule{"TargetWithoutMerging", [](Superblock &s) { s.flags = 0; },
		     "MERGING flag clear but merge_target_seq 700"},
		Rule{"TargetNotAboveMerged",
		     [](Superblock &s) { s.merge_target_seq = s.merged_seq; },
		     "merge_target_seq 500 is not above merged_seq 500"}),
	[](const ::testing::TestParamInfo<Rule> &i) { return std::string(i.param.name); });

TEST(Superblock, SeveralProblemsAreAllReported)
{
	SuperblockBytes b = with([](Superblock &s) {
		s.origin_lbs = 1000;
		s.next_seq = 1;
		s.meta_blocks = 3;
	});
	EXPECT_EQ(superblock_problems(b, 0).size(), 3u);
}

namespace {

std::array<std::byte, 2 * DLOG_SB_SIZE> both(const SuperblockBytes &a, const SuperblockBytes &b)
{
	std::array<std::byte, 2 * DLOG_SB_SIZE> r;
	std::memcpy(r.data(), a.data(), DLOG_SB_SIZE);
	std::memcpy(r.data() + DLOG_SB_SIZE, b.data(), DLOG_SB_SIZE);
	return r;
}

Superblock gen(std::uint64_t g, std::uint64_t next_seq = 1000)
{
	Superblock s = sample();
	s.generation = g;
	s.next_seq = next_seq;
	s.merged_seq = 0;
	s.flags = 0;
	s.merge_target_seq = 0;
	return s;
}

SuperblockBytes zeros()
{
	SuperblockBytes z;
	z.fill(std::byte{0});
	return z;
}

} // namespace

TEST(SuperblockChoice, ANewer)
{
	auto c = choose_superblock(both(pack_superblock(gen(7, 2000), 0), pack_superblock(gen(6), 1)));
	EXPECT_EQ(c.copy, 0u);
	EXPECT_EQ(c.sb.next_seq, 2000u);
}

TEST(SuperblockChoice, BNewer)
{
	auto c = choose_superblock(both(pack_superblock(gen(7), 0), pack_superblock(gen(8, 3000), 1)));
	EXPECT_EQ(c.copy, 1u);
	EXPECT_EQ(c.sb.next_seq, 3000u);
}

TEST(SuperblockChoice, TornNewerCopyFallsBackToOlder)
{
	SuperblockBytes a = pack_superblock(gen(9, 5000), 0);
	a[2000] ^= std::byte{4};	// torn update of A
	auto c = choose_superblock(both(a, pack_superblock(gen(8, 3000), 1)));
	EXPECT_EQ(c.copy, 1u);
	EXPECT_EQ(c.sb.next_seq, 3000u);
	EXPECT_FALSE(c.valid(0));

	SuperblockBytes b = pack_superblock(gen(10), 1);
	SuperblockBytes old_b = pack_superblock(gen(8, 3000), 1);
	std::memcpy(b.data() + 100, old_b.data() + 100, 100);	// B partly written
	c = choose_superblock(both(pack_superblock(gen(9, 5000), 0), b));
	EXPECT_EQ(c.copy, 0u);
	EXPECT_EQ(c.sb.next_seq, 5000u);
}

TEST(SuperblockChoice, StaleGenerationIsIgnored)
{
	// Both valid: the older one is ignored whatever it says.
	auto c = choose_superblock(both(pack_superblock(gen(2, 10), 0), pack_superblock(gen(3, 20), 1)));
	EXPECT_EQ(c.sb.next_seq, 20u);
	EXPECT_TRUE(c.valid(0));
	EXPECT_EQ(c.generation[0], 2u);
}

TEST(SuperblockChoice, AllZerosIsUnformatted)
{
	EXPECT_THROW(choose_superblock(both(zeros(), zeros())), UnformattedError);
	SuperblockBytes junk = zeros();
	junk[100] = std::byte{1};
	EXPECT_THROW(choose_superblock(both(zeros(), junk)), UnformattedError);
}

TEST(SuperblockChoice, ZeroedAWithValidBUsesB)
{
	// FORMAT.md 3: unformatted only if copy B is not valid either.
	auto c = choose_superblock(both(zeros(), pack_superblock(gen(4), 1)));
	EXPECT_EQ(c.copy, 1u);
	EXPECT_TRUE(c.all_zero[0]);
}

TEST(SuperblockChoice, BothCorruptIsRefusedWithBothReasons)
{
	SuperblockBytes a = pack_superblock(gen(3), 0);
	SuperblockBytes b = pack_superblock(gen(4), 1);
	a[500] ^= std::byte{1};
	b[4] = std::byte{0};
	try {
		choose_superblock(both(a, b));
		FAIL();
	} catch (const SuperblockError &e) {
		EXPECT_NE(e.why_a().find("checksum mismatch"), std::string::npos);
		EXPECT_NE(e.why_b().find("bad magic"), std::string::npos);
	}
}

TEST(SuperblockChoice, ForeignDataIsCorruptNotUnformatted)
{
	SuperblockBytes a = zeros(), b = zeros();
	std::memcpy(a.data(), "\x7f" "ELF", 4);
	EXPECT_THROW(choose_superblock(both(a, b)), SuperblockError);
}

TEST(SuperblockChoice, CopyAInBsPlaceIsNotUsed)
{
	// A copy written to the wrong place (blocknr mismatch) never counts.
	auto c = choose_superblock(both(pack_superblock(gen(5, 111), 0), pack_superblock(gen(9, 999), 0)));
	EXPECT_EQ(c.copy, 0u);
	EXPECT_EQ(c.sb.next_seq, 111u);
}

TEST(Format, WritesBothCopiesAsSpecified)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("delta"), 8192);
	dlt::create_random_file(dir.path("origin"), 1000, 5);
	Device delta = dlt::open_rw(dir.path("delta"));
	Device origin = dlt::open_ro(dir.path("origin"));
	FormatOptions o;
	o.origin_fs_uuid = "abcd-1234";
	o.time_ns = 42;
	Superblock sb = format_delta(delta, origin, o);

	dlog_layout l;
	ASSERT_EQ(dlog_default_layout(8192, 512, &l), 0);
	EXPECT_EQ(sb.meta_block_size, 512u);
	EXPECT_EQ(sb.meta_start, l.meta_start);
	EXPECT_EQ(sb.meta_blocks, l.meta_blocks);
	EXPECT_EQ(sb.data_start, l.data_start);
	EXPECT_EQ(sb.data_sectors, l.data_sectors);
	EXPECT_EQ(sb.delta_sectors, 8192u);
	EXPECT_EQ(sb.origin_sectors, 1000u);
	EXPECT_EQ(sb.origin_lbs, 512u);
	EXPECT_EQ(sb.origin_fingerprint, origin_fingerprint(origin));
	EXPECT_EQ(sb.next_seq, 1u);
	EXPECT_EQ(sb.merged_seq, 0u);
	EXPECT_EQ(sb.time_floor_ns, 42u);
	EXPECT_EQ(sb.origin_fs_uuid, "abcd-1234");

	auto c = read_superblock(delta);
	EXPECT_TRUE(c.valid(0));
	EXPECT_TRUE(c.valid(1));
	EXPECT_EQ(c.generation[0], 1u);
	EXPECT_EQ(c.generation[1], 2u);
	EXPECT_EQ(c.copy, 1u);
	EXPECT_EQ(c.sb, sb);
	// Identical apart from blocknr, generation and checksum.
	Superblock a = unpack_superblock(
		std::span<const std::byte, DLOG_SB_SIZE>(dlt::read_at(dir.path("delta"), 0, 4096).data(), 4096));
	a.generation = 2;
	EXPECT_EQ(a, sb);
}

TEST(Format, RandomUuidsDiffer)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("delta"), 4096);
	dlt::create_file(dir.path("origin"), 64);
	Device delta = dlt::open_rw(dir.path("delta"));
	Device origin = dlt::open_ro(dir.path("origin"));
	Uuid u1 = format_delta(delta, origin).uuid;
	Uuid u2 = format_delta(delta, origin).uuid;
	EXPECT_NE(u1, u2);
	EXPECT_EQ(u1[6] >> 4, 4);		// version 4
	EXPECT_EQ(u1[8] & 0xc0, 0x80);	// RFC 4122 variant
	EXPECT_EQ(uuid_string(dlt::test_uuid), "10325476-98ba-4cde-8f01-23456789abcd");
}

TEST(Format, TooSmallDeltaIsRefused)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("delta"), DLOG_MIN_DELTA_SECTORS);
	dlt::create_file(dir.path("origin"), 64);
	Device delta = dlt::open_rw(dir.path("delta"));
	Device origin = dlt::open_ro(dir.path("origin"));
	EXPECT_THROW(format_delta(delta, origin), GeometryError);
}

TEST(Format, TooSmallOriginIsRefused)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("delta"), 8192);
	dlt::create_file(dir.path("origin"), 7);
	Device delta = dlt::open_rw(dir.path("delta"));
	Device origin = dlt::open_ro(dir.path("origin"));
	EXPECT_THROW(format_delta(delta, origin), GeometryError);
}

TEST(Format, BadExplicitLayoutIsRefused)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("delta"), 8192);
	dlt::create_file(dir.path("origin"), 64);
	Device delta = dlt::open_rw(dir.path("delta"));
	Device origin = dlt::open_ro(dir.path("origin"));
	FormatOptions o;
	o.layout = dlt::small_layout(8, 512, 8192);	// data ring past the end
	EXPECT_THROW(format_delta(delta, origin, o), GeometryError);
}

TEST(SuperblockUpdate, AlternatesCopiesAndSurvivesATornUpdate)
{
	dlt::TempDir dir;
	auto p = dlt::make_pair(dir);
	Device delta = dlt::open_rw(p.delta);
	auto c = read_superblock(delta);
	Superblock sb = c.sb;
	unsigned copy = c.copy;
	ASSERT_EQ(copy, 1u);

	sb.next_seq = 50;
	write_superblock(delta, sb, copy);
	EXPECT_EQ(copy, 0u);
	EXPECT_EQ(sb.generation, 3u);
	c = read_superblock(delta);
	EXPECT_EQ(c.copy, 0u);
	EXPECT_EQ(c.sb.next_seq, 50u);

	sb.next_seq = 60;
	write_superblock(delta, sb, copy);
	EXPECT_EQ(copy, 1u);
	EXPECT_EQ(read_superblock(delta).sb.next_seq, 60u);

	// A torn third update (only the start of copy A written) leaves B
	// current.
	sb.next_seq = 70;
	sb.generation++;
	SuperblockBytes torn = pack_superblock(sb, 0);
	dlt::write_at(p.delta, 0, std::span(torn).first(30));
	c = read_superblock(delta);
	EXPECT_EQ(c.copy, 1u);
	EXPECT_EQ(c.sb.next_seq, 60u);
}

TEST(Fingerprint, SamplePositions)
{
	// 16 samples, spread evenly, 4 KiB aligned, the last one at the end.
	EXPECT_EQ(dlog_fp_sample_sector(1 << 20, 0), 0u);
	EXPECT_EQ(dlog_fp_sample_sector(1 << 20, 15), (1u << 20) - 8);
	EXPECT_EQ(dlog_fp_sample_sector(1 << 20, 1), (((1u << 20) - 8) / 15) & ~7u);
	for (std::uint64_t size : {8ull, 9ull, 15ull, 16ull, 17ull, 100ull, 4096ull, 123457ull}) {
		std::uint64_t prev = 0;
		for (std::uint32_t i = 0; i < DLOG_FP_SAMPLES; i++) {
			std::uint64_t s = dlog_fp_sample_sector(size, i);
			EXPECT_EQ(s % 8, 0u) << size;
			EXPECT_LE(s + 8, size) << size;
			EXPECT_GE(s, prev) << size;
			prev = s;
		}
	}
	// Small origins: samples overlap.
	for (std::uint32_t i = 0; i < DLOG_FP_SAMPLES; i++)
		EXPECT_EQ(dlog_fp_sample_sector(8, i), 0u);
	for (std::uint32_t i = 0; i < DLOG_FP_SAMPLES - 1; i++)
		EXPECT_EQ(dlog_fp_sample_sector(16, i), 0u);
	EXPECT_EQ(dlog_fp_sample_sector(16, 15), 8u);
	EXPECT_EQ(dlog_fp_sample_sector(24, 7), 0u);
	EXPECT_EQ(dlog_fp_sample_sector(24, 8), 8u);
	EXPECT_EQ(dlog_fp_sample_sector(24, 15), 16u);
}

TEST(Fingerprint, IsTheCrcOfTheConcatenatedSamples)
{
	dlt::TempDir dir;
	for (std::uint64_t size : {8ull, 17ull, 1000ull}) {
		dlt::create_random_file(dir.path("o"), size, static_cast<std::uint32_t>(size));
		dlt::Bytes all = dlt::read_file(dir.path("o"));
		Crc32c c;
		for (std::uint32_t i = 0; i < DLOG_FP_SAMPLES; i++)
			c.update(all.data() + dlog_fp_sample_sector(size, i) * 512, 4096);
		EXPECT_EQ(origin_fingerprint(dlt::open_ro(dir.path("o"))), c.value()) << size;
	}
}

TEST(Fingerprint, ChangesWithASampledSectorOnly)
{
	dlt::TempDir dir;
	dlt::create_random_file(dir.path("o"), 1000, 9);
	const std::uint32_t fp = origin_fingerprint(dlt::open_ro(dir.path("o")));
	const std::uint64_t sampled = dlog_fp_sample_sector(1000, 3) + 5;
	const std::uint64_t unsampled = dlog_fp_sample_sector(1000, 3) + 20;	// gap of ~66 sectors
	dlt::flip_bit(dir.path("o"), unsampled * 512 + 17);
	EXPECT_EQ(origin_fingerprint(dlt::open_ro(dir.path("o"))), fp);
	dlt::flip_bit(dir.path("o"), sampled * 512 + 17);
	EXPECT_NE(origin_fingerprint(dlt::open_ro(dir.path("o"))), fp);
}

TEST(OriginIdentity, SizeAndFingerprintAreChecked)
{
	dlt::TempDir dir;
	auto p = dlt::make_pair(dir);
	EXPECT_NO_THROW(check_origin(p.sb, dlt::open_ro(p.origin)));

	dlt::create_random_file(dir.path("other"), 512, 99);
	EXPECT_THROW(check_origin(p.sb, dlt::open_ro(dir.path("other"))), OriginMismatchError);
	dlt::create_random_file(dir.path("bigger"), 520, 1234);
	EXPECT_THROW(check_origin(p.sb, dlt::open_ro(dir.path("bigger"))), OriginMismatchError);

	// While MERGING the fingerprint is not checked, the size still is.
	Superblock merging = p.sb;
	merging.flags = DLOG_SBF_MERGING;
	merging.merge_target_seq = 5;
	EXPECT_NO_THROW(check_origin(merging, dlt::open_ro(dir.path("other"))));
	EXPECT_THROW(check_origin(merging, dlt::open_ro(dir.path("bigger"))), OriginMismatchError);
}

TEST(DeltaFit, ShrunkDeltaIsRefused)
{
	dlt::TempDir dir;
	auto p = dlt::make_pair(dir);
	EXPECT_NO_THROW(check_delta_fits(p.sb, dlt::open_ro(p.delta)));
	dlt::create_file(dir.path("small"), p.sb.delta_sectors - 8);
	EXPECT_THROW(check_delta_fits(p.sb, dlt::open_ro(dir.path("small"))), GeometryError);
}
