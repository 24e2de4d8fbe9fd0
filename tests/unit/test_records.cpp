// Records: layout, round trips of every kind, every per-record validity
// rule of FORMAT.md 4.2.
#include "deltalog/records.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <endian.h>
#include <vector>

using namespace deltalog;

namespace {

const RecordLimits limits{1000, 512, 2048};

std::vector<std::byte> packed(const Record &r)
{
	std::vector<std::byte> b(r.slots() * DLOG_SLOT_SIZE);
	pack_record(r, b);
	return b;
}

UnpackedRecord unpack(const std::vector<std::byte> &b, unsigned slot = 0, unsigned nr_slots = 0,
		      const RecordLimits &l = limits)
{
	if (!nr_slots)
		nr_slots = slot + static_cast<unsigned>(b.size() / DLOG_SLOT_SIZE);
	return unpack_record(b, slot, nr_slots, l);
}

std::string problem(const std::vector<std::byte> &b, unsigned slot = 0, unsigned nr_slots = 0,
		    const RecordLimits &l = limits)
{
	return unpack(b, slot, nr_slots, l).problem.value_or("");
}

template <typename T> void put(std::vector<std::byte> &b, std::size_t off, T v)
{
	if constexpr (sizeof(T) == 8)
		v = htole64(v);
	else if constexpr (sizeof(T) == 4)
		v = htole32(v);
	else if constexpr (sizeof(T) == 2)
		v = htole16(v);
	std::memcpy(b.data() + off, &v, sizeof(v));
}

template <typename T> T get(const std::vector<std::byte> &b, std::size_t off)
{
	T v;
	std::memcpy(&v, b.data() + off, sizeof(v));
	if constexpr (sizeof(T) == 8)
		return le64toh(v);
	else if constexpr (sizeof(T) == 4)
		return le32toh(v);
	else
		return le16toh(v);
}

const Record a_write = Record::write(17, 1000, 100, 8, 4104, 0xabcdef01u);
const Record a_zero = Record::zero(18, 1001, 200, 16, true);
const Record a_mark = Record::mark(19, 1002, "before-upgrade_2:x.y");
const Record a_rollback = Record::rollback(20, 1003, 15);

} // namespace

TEST(Records, StructLayoutsMatchFormatMd)
{
	EXPECT_EQ(offsetof(dlog_io_record, seq), 0u);
	EXPECT_EQ(offsetof(dlog_io_record, time_ns), 8u);
	EXPECT_EQ(offsetof(dlog_io_record, kind), 16u);
	EXPECT_EQ(offsetof(dlog_io_record, flags), 18u);
	EXPECT_EQ(offsetof(dlog_io_record, nr_sectors), 20u);
	EXPECT_EQ(offsetof(dlog_io_record, origin_sector), 24u);
	EXPECT_EQ(offsetof(dlog_io_record, data_pos), 32u);
	EXPECT_EQ(offsetof(dlog_io_record, data_csum), 40u);
	EXPECT_EQ(offsetof(dlog_io_record, reserved), 44u);
	EXPECT_EQ(offsetof(dlog_mark_record, label_len), 20u);
	EXPECT_EQ(offsetof(dlog_mark_record, label), 24u);
	EXPECT_EQ(offsetof(dlog_mark_record, reserved), 88u);
	EXPECT_EQ(sizeof(dlog_mark_record), 96u);
	EXPECT_EQ(offsetof(dlog_rollback_record, reserved0), 20u);
	EXPECT_EQ(offsetof(dlog_rollback_record, to_seq), 24u);
	EXPECT_EQ(offsetof(dlog_rollback_record, reserved), 32u);
	EXPECT_EQ(sizeof(dlog_rollback_record), 48u);
	EXPECT_EQ(dlog_slots_per_block(512), 10u);
	EXPECT_EQ(dlog_slots_per_block(4096), 84u);
}

TEST(Records, WriteRoundTripAndOffsets)
{
	auto b = packed(a_write);
	EXPECT_EQ(get<std::uint64_t>(b, 0), 17u);
	EXPECT_EQ(get<std::uint64_t>(b, 8), 1000u);
	EXPECT_EQ(get<std::uint16_t>(b, 16), DLOG_REC_WRITE);
	EXPECT_EQ(get<std::uint16_t>(b, 18), DLOG_RF_DATA_CSUM);
	EXPECT_EQ(get<std::uint32_t>(b, 20), 8u);
	EXPECT_EQ(get<std::uint64_t>(b, 24), 100u);
	EXPECT_EQ(get<std::uint64_t>(b, 32), 4104u);
	EXPECT_EQ(get<std::uint32_t>(b, 40), 0xabcdef01u);
	EXPECT_EQ(get<std::uint32_t>(b, 44), 0u);
	auto u = unpack(b);
	ASSERT_FALSE(u.problem) << *u.problem;
	EXPECT_EQ(u.rec, a_write);
	EXPECT_EQ(u.slots, 1u);

	Record ordered = Record::write(3, 5, 0, 1, 0, std::nullopt);
	EXPECT_FALSE(ordered.has_data_csum());
	EXPECT_EQ(unpack(packed(ordered)).rec, ordered);
}

TEST(Records, ZeroRoundTrip)
{
	auto b = packed(a_zero);
	EXPECT_EQ(get<std::uint16_t>(b, 16), DLOG_REC_ZERO);
	EXPECT_EQ(get<std::uint16_t>(b, 18), DLOG_RF_DISCARD);
	auto u = unpack(b);
	ASSERT_FALSE(u.problem) << *u.problem;
	EXPECT_EQ(u.rec, a_zero);
	Record wz = Record::zero(4, 4, 0, 1000, false);
	EXPECT_EQ(unpack(packed(wz)).rec, wz);
}

TEST(Records, MarkRoundTripAndLayout)
{
	auto b = packed(a_mark);
	ASSERT_EQ(b.size(), 96u);
	EXPECT_EQ(get<std::uint16_t>(b, 16), DLOG_REC_MARK);
	EXPECT_EQ(get<std::uint32_t>(b, 20), a_mark.label.size());
	EXPECT_EQ(std::memcmp(b.data() + 24, a_mark.label.data(), a_mark.label.size()), 0);
	for (std::size_t i = 24 + a_mark.label.size(); i < 96; i++)
		ASSERT_EQ(b[i], std::byte{0});
	auto u = unpack(b);
	ASSERT_FALSE(u.problem) << *u.problem;
	EXPECT_EQ(u.rec, a_mark);
	EXPECT_EQ(u.slots, 2u);
	Record longest = Record::mark(5, 5, std::string(63, 'z'));
	EXPECT_EQ(unpack(packed(longest)).rec, longest);
}

TEST(Records, RollbackRoundTrip)
{
	auto b = packed(a_rollback);
	EXPECT_EQ(get<std::uint16_t>(b, 16), DLOG_REC_ROLLBACK);
	EXPECT_EQ(get<std::uint64_t>(b, 24), 15u);
	auto u = unpack(b);
	ASSERT_FALSE(u.problem) << *u.problem;
	EXPECT_EQ(u.rec, a_rollback);
}

TEST(Records, Labels)
{
	EXPECT_TRUE(valid_label("a"));
	EXPECT_TRUE(valid_label("A-z_0.9:"));
	EXPECT_TRUE(valid_label(std::string(63, 'x')));
	EXPECT_FALSE(valid_label(""));
	EXPECT_FALSE(valid_label(std::string(64, 'x')));
	EXPECT_FALSE(valid_label("a b"));
	EXPECT_FALSE(valid_label("a/b"));
	EXPECT_FALSE(valid_label("é"));
	EXPECT_THROW(packed(Record::mark(1, 1, "bad label")), std::invalid_argument);
}

TEST(RecordValidity, UnknownKind)
{
	auto b = packed(a_write);
	put<std::uint16_t>(b, 16, 5);
	EXPECT_EQ(problem(b), "unknown record kind 5");
	put<std::uint16_t>(b, 16, 0);
	EXPECT_EQ(problem(b), "unknown record kind 0");
}

TEST(RecordValidity, SeqRange)
{
	auto b = packed(a_write);
	put<std::uint64_t>(b, 0, 0);
	EXPECT_EQ(problem(b), "seq 0");
	put<std::uint64_t>(b, 0, (1ull << 63) - 1);
	EXPECT_EQ(problem(b), "");
	put<std::uint64_t>(b, 0, 1ull << 63);
	EXPECT_NE(problem(b).find("not below 2^63"), std::string::npos);
}

TEST(RecordValidity, WriteReservedAndFlags)
{
	auto b = packed(a_write);
	put<std::uint32_t>(b, 44, 1);
	EXPECT_EQ(problem(b), "reserved bytes not zero");
	b = packed(a_write);
	put<std::uint16_t>(b, 18, DLOG_RF_DISCARD);
	EXPECT_NE(problem(b).find("unknown WRITE flags"), std::string::npos);
}

TEST(RecordValidity, ZeroFlagsAndDataFields)
{
	auto b = packed(a_zero);
	put<std::uint16_t>(b, 18, DLOG_RF_DATA_CSUM);
	EXPECT_NE(problem(b).find("unknown ZERO flags"), std::string::npos);
	b = packed(a_zero);
	put<std::uint64_t>(b, 32, 8);
	EXPECT_EQ(problem(b), "ZERO record with a data position or checksum");
	b = packed(a_zero);
	put<std::uint32_t>(b, 40, 8);
	EXPECT_EQ(problem(b), "ZERO record with a data position or checksum");
	b = packed(a_zero);
	put<std::uint32_t>(b, 44, 8);
	EXPECT_EQ(problem(b), "reserved bytes not zero");
}

TEST(RecordValidity, Extents)
{
	auto b = packed(a_write);
	put<std::uint32_t>(b, 20, 0);
	EXPECT_EQ(problem(b), "empty extent");
	b = packed(a_write);
	put<std::uint64_t>(b, 24, 995);	// 995 + 8 > 1000
	EXPECT_NE(problem(b).find("past the end of the origin"), std::string::npos);
	b = packed(a_zero);
	put<std::uint64_t>(b, 24, ~0ull - 4);	// overflow
	EXPECT_NE(problem(b).find("past the end of the origin"), std::string::npos);
	b = packed(Record::write(1, 1, 0, 1000, 0, 5));
	EXPECT_EQ(problem(b, 0, 0, {1000, 512, 1000}), "");
	EXPECT_NE(problem(b, 0, 0, {1000, 512, 992}).find("larger than the data ring"),
		  std::string::npos);
	b = packed(Record::write(1, 1, 0, 8, (1ull << 63) - 8, 0));
	EXPECT_EQ(problem(b), "");
	b = packed(Record::write(1, 1, 0, 8, 1ull << 63, 0));
	EXPECT_NE(problem(b).find("not below 2^63"), std::string::npos);
	// ZERO may be larger than the data ring.
	EXPECT_EQ(problem(packed(Record::zero(1, 1, 0, 1000, false)), 0, 0, {1000, 512, 8}), "");
}

TEST(RecordValidity, ExtentsAlignedToTheOriginsLogicalBlock)
{
	const RecordLimits l4k{1000, 4096, 2048};
	EXPECT_EQ(problem(packed(Record::write(1, 1, 8, 16, 8, 0)), 0, 0, l4k), "");
	EXPECT_NE(problem(packed(Record::write(1, 1, 9, 8, 9, 0)), 0, 0, l4k).find("not aligned"),
		  std::string::npos);
	EXPECT_NE(problem(packed(Record::zero(1, 1, 8, 4, false)), 0, 0, l4k).find("not aligned"),
		  std::string::npos);
}

TEST(RecordValidity, MarkRules)
{
	auto b = packed(a_mark);
	EXPECT_EQ(problem(b, 0, 1), "MARK record split across blocks");
	EXPECT_EQ(problem(b, 9, 10), "MARK record split across blocks");
	b = packed(a_mark);
	put<std::uint16_t>(b, 18, 1);
	EXPECT_NE(problem(b).find("unknown MARK flags"), std::string::npos);
	b = packed(a_mark);
	put<std::uint32_t>(b, 20, 0);
	EXPECT_NE(problem(b).find("label length 0"), std::string::npos);
	b = packed(a_mark);
	put<std::uint32_t>(b, 20, 64);
	EXPECT_NE(problem(b).find("label length 64"), std::string::npos);
	b = packed(a_mark);
	b[24] = std::byte{' '};
	EXPECT_EQ(problem(b), "MARK label not [A-Za-z0-9._:-] then NUL bytes");
	b = packed(a_mark);
	b[24 + 40] = std::byte{'x'};	// after label_len: must be NUL
	EXPECT_EQ(problem(b), "MARK label not [A-Za-z0-9._:-] then NUL bytes");
	b = packed(a_mark);
	put<std::uint32_t>(b, 20, static_cast<std::uint32_t>(a_mark.label.size() + 1));	// covers a NUL
	EXPECT_EQ(problem(b), "MARK label not [A-Za-z0-9._:-] then NUL bytes");
	b = packed(a_mark);
	b[90] = std::byte{1};
	EXPECT_EQ(problem(b), "reserved bytes not zero");
}

TEST(RecordValidity, RollbackRules)
{
	auto b = packed(a_rollback);
	EXPECT_EQ(problem(b, 1, 2), "ROLLBACK record not first in its block");
	b = packed(a_rollback);
	put<std::uint16_t>(b, 18, 1);
	EXPECT_NE(problem(b).find("unknown ROLLBACK flags"), std::string::npos);
	b = packed(a_rollback);
	put<std::uint32_t>(b, 20, 1);
	EXPECT_EQ(problem(b), "reserved bytes not zero");
	b = packed(a_rollback);
	b[47] = std::byte{1};
	EXPECT_EQ(problem(b), "reserved bytes not zero");
	b = packed(a_rollback);
	put<std::uint64_t>(b, 24, 20);
	EXPECT_NE(problem(b).find("not below its own seq"), std::string::npos);
}
