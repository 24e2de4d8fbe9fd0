// XXH64 golden vectors (from the reference implementation's xxhsum -H1) and
// the data checksum built on it (FORMAT.md 6.2).
#include "deltalog/xxh64.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

using deltalog::data_csum;
using deltalog::Xxh64;
using deltalog::xxh64;

namespace {

std::span<const std::byte> bytes_of(std::string_view s)
{
	return std::as_bytes(std::span(s.data(), s.size()));
}

// i * 7 + (i >> 9), truncated to a byte: no period a bug could hide in.
std::vector<std::byte> pattern(std::size_t n)
{
	std::vector<std::byte> b(n);
	for (std::size_t i = 0; i < n; i++)
		b[i] = static_cast<std::byte>(i * 7 + (i >> 9));
	return b;
}

} // namespace

TEST(Xxh64, Strings)
{
	EXPECT_EQ(xxh64(bytes_of("")), 0xEF46DB3751D8E999ull);
	EXPECT_EQ(xxh64(bytes_of("a")), 0xD24EC4F1A98C6E5Bull);
	EXPECT_EQ(xxh64(bytes_of("abc")), 0x44BC2CF5AD770999ull);
	EXPECT_EQ(xxh64(bytes_of("message digest")), 0x066ED728FCEEB3BEull);
	EXPECT_EQ(xxh64(bytes_of("abcdefghijklmnopqrstuvwxyz0123456789")), 0x64F23ECF1609B766ull);
}

// Lengths around the 32-byte stripe and a 4 KiB block.
TEST(Xxh64, PatternLengths)
{
	const auto b = pattern(4096 * 3 + 17);
	const std::span<const std::byte> s(b);
	EXPECT_EQ(xxh64(s.first(31)), 0x0F187C62B1E722B7ull);
	EXPECT_EQ(xxh64(s.first(32)), 0x91B0CB0931A8C629ull);
	EXPECT_EQ(xxh64(s.first(1000)), 0x7D536EF702ED8191ull);
	EXPECT_EQ(xxh64(s.first(4096)), 0x35E8D1E3ECCBCA8Eull);
	EXPECT_EQ(xxh64(s), 0x00EC26B1BEABE93Full);
}

// Streaming in pieces of every size gives the one-shot value.
TEST(Xxh64, StreamingMatchesOneShot)
{
	const auto b = pattern(1000);
	const std::span<const std::byte> s(b);
	const std::uint64_t whole = xxh64(s);
	for (std::size_t piece = 1; piece < 70; piece++) {
		Xxh64 h;
		for (std::size_t off = 0; off < s.size(); off += piece)
			h.update(s.subspan(off, std::min(piece, s.size() - off)));
		EXPECT_EQ(h.value(), whole) << "pieces of " << piece;
	}
}

TEST(Xxh64, Seed)
{
	EXPECT_NE(xxh64(bytes_of("abc"), 1), xxh64(bytes_of("abc")));
	EXPECT_EQ(Xxh64(0).update(bytes_of("abc")).value(), xxh64(bytes_of("abc")));
}

TEST(DataCsum, IsTheLow32BitsOfXxh64)
{
	const auto b = pattern(4096);
	EXPECT_EQ(data_csum(b), 0xECCBCA8Eu);
	// A 512-byte sector read back from an older lap of the ring is seen.
	auto torn = b;
	torn[4000] ^= std::byte{1};
	EXPECT_NE(data_csum(torn), data_csum(b));
}
