// XXH64 (Yann Collet's xxHash, 64-bit variant), seed 0 unless given, and the
// data checksum of WRITE records built on it (FORMAT.md 6.2: the low 32 bits
// of XXH64 of the extent's data). The kernel's equivalent is xxh64() from
// <linux/xxhash.h>. XXH64 is used for data rather than CRC-32C because it
// reads 32 bytes per round without tables: several times faster where
// CRC-32C has no instruction of its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace deltalog {

// Streaming: update() any number of times, then value().
class Xxh64 {
public:
	explicit Xxh64(std::uint64_t seed = 0);
	Xxh64 &update(std::span<const std::byte> bytes);
	Xxh64 &update(const void *data, std::size_t len);
	std::uint64_t value() const;

private:
	std::array<std::uint64_t, 4> acc_;
	std::uint64_t seed_;
	std::uint64_t total_ = 0;
	std::array<std::byte, 32> pending_{};	// input not yet a whole stripe
	std::size_t pending_len_ = 0;
};

std::uint64_t xxh64(std::span<const std::byte> bytes, std::uint64_t seed = 0);

// The data checksum of a WRITE record with DLOG_RF_DATA_CSUM.
class DataCsum {
public:
	DataCsum &update(std::span<const std::byte> bytes)
	{
		h_.update(bytes);
		return *this;
	}
	std::uint32_t value() const { return static_cast<std::uint32_t>(h_.value()); }

private:
	Xxh64 h_;
};

std::uint32_t data_csum(std::span<const std::byte> bytes);

} // namespace deltalog
