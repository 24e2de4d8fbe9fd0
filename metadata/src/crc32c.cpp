#include "deltalog/crc32c.hpp"

#include <array>
#include <cstring>
#include <endian.h>

namespace deltalog {
namespace {

constexpr std::uint32_t castagnoli_reflected = 0x82F63B78u;

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

// tables[0] is the byte-at-a-time table; tables[k] advances a byte through k
// further zero bytes, for slicing by 8.
constexpr Tables make_tables()
{
	Tables t{};
	for (std::uint32_t i = 0; i < 256; i++) {
		std::uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? castagnoli_reflected : 0);
		t[0][i] = c;
	}
	for (std::uint32_t i = 0; i < 256; i++)
		for (std::size_t s = 1; s < t.size(); s++)
			t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
	return t;
}

constexpr Tables tables = make_tables();

std::uint32_t crc_update(std::uint32_t crc, const unsigned char *p, std::size_t n)
{
	while (n && (reinterpret_cast<std::uintptr_t>(p) & 7)) {
		crc = (crc >> 8) ^ tables[0][(crc ^ *p++) & 0xff];
		n--;
	}
	while (n >= 8) {
		std::uint64_t v;
		std::memcpy(&v, p, sizeof(v));
		v = le64toh(v) ^ crc;
		crc = tables[7][v & 0xff] ^ tables[6][(v >> 8) & 0xff] ^
		      tables[5][(v >> 16) & 0xff] ^ tables[4][(v >> 24) & 0xff] ^
		      tables[3][(v >> 32) & 0xff] ^ tables[2][(v >> 40) & 0xff] ^
		      tables[1][(v >> 48) & 0xff] ^ tables[0][v >> 56];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ tables[0][(crc ^ *p++) & 0xff];
	return crc;
}

} // namespace

Crc32c &Crc32c::update(const void *data, std::size_t len)
{
	state_ = crc_update(state_, static_cast<const unsigned char *>(data), len);
	return *this;
}

Crc32c &Crc32c::update(std::span<const std::byte> bytes)
{
	return update(bytes.data(), bytes.size());
}

std::uint32_t crc32c(const void *data, std::size_t len)
{
	return Crc32c().update(data, len).value();
}

std::uint32_t crc32c(std::span<const std::byte> bytes)
{
	return crc32c(bytes.data(), bytes.size());
}

} // namespace deltalog
