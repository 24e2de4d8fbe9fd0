// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and
// final XOR 0xFFFFFFFF, as FORMAT.md defines it. The kernel's equivalent is
// ~crc32c(~0, buf, len). Software implementation (slicing by 8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace deltalog {

// Streaming: update() any number of times, then value().
class Crc32c {
public:
	Crc32c &update(std::span<const std::byte> bytes);
	Crc32c &update(const void *data, std::size_t len);
	std::uint32_t value() const { return ~state_; }

private:
	std::uint32_t state_ = 0xFFFFFFFFu;
};

std::uint32_t crc32c(std::span<const std::byte> bytes);
std::uint32_t crc32c(const void *data, std::size_t len);

} // namespace deltalog
