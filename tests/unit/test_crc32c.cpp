// CRC-32C golden vectors (FORMAT.md; the kernel is tested against the same).
#include "deltalog/crc32c.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using deltalog::Crc32c;
using deltalog::crc32c;

TEST(Crc32c, Check123456789)
{
	EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
}

TEST(Crc32c, ThirtyTwoZeroBytes)
{
	std::vector<unsigned char> b(32, 0);
	EXPECT_EQ(crc32c(b.data(), b.size()), 0x8A9136AAu);
}

TEST(Crc32c, ThirtyTwoOnesBytes)
{
	std::vector<unsigned char> b(32, 0xff);
	EXPECT_EQ(crc32c(b.data(), b.size()), 0x62A8AB43u);
}

TEST(Crc32c, AscendingBytes)
{
	std::vector<unsigned char> b(32);
	for (unsigned i = 0; i < b.size(); i++)
		b[i] = static_cast<unsigned char>(i);
	EXPECT_EQ(crc32c(b.data(), b.size()), 0x46DD794Eu);
}

TEST(Crc32c, EmptyIsZero)
{
	EXPECT_EQ(crc32c(nullptr, 0), 0u);
}

// Streaming in pieces of every size and alignment gives the one-shot value.
TEST(Crc32c, StreamingMatchesOneShot)
{
	std::vector<unsigned char> b(1000);
	for (unsigned i = 0; i < b.size(); i++)
		b[i] = static_cast<unsigned char>(i * 7 + 3);
	const std::uint32_t whole = crc32c(b.data(), b.size());
	for (std::size_t piece = 1; piece < 40; piece++) {
		Crc32c c;
		for (std::size_t off = 0; off < b.size(); off += piece)
			c.update(b.data() + off, std::min(piece, b.size() - off));
		EXPECT_EQ(c.value(), whole) << "piece " << piece;
	}
	// Unaligned starts.
	for (std::size_t start = 0; start < 9; start++) {
		Crc32c c;
		c.update(b.data(), start).update(b.data() + start, b.size() - start);
		EXPECT_EQ(c.value(), whole);
	}
}
