#include "deltalog/xxh64.hpp"

#include <bit>
#include <cstring>
#include <endian.h>

namespace deltalog {
namespace {

constexpr std::uint64_t prime1 = 0x9E3779B185EBCA87ull;
constexpr std::uint64_t prime2 = 0xC2B2AE3D27D4EB4Full;
constexpr std::uint64_t prime3 = 0x165667B19E3779F9ull;
constexpr std::uint64_t prime4 = 0x85EBCA77C2B2AE63ull;
constexpr std::uint64_t prime5 = 0x27D4EB2F165667C5ull;

std::uint64_t load64(const std::byte *p)
{
	std::uint64_t v;
	std::memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

std::uint32_t load32(const std::byte *p)
{
	std::uint32_t v;
	std::memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

std::uint64_t round(std::uint64_t acc, std::uint64_t input)
{
	acc += input * prime2;
	return std::rotl(acc, 31) * prime1;
}

std::uint64_t merge_round(std::uint64_t h, std::uint64_t acc)
{
	h ^= round(0, acc);
	return h * prime1 + prime4;
}

// Four lanes of 8 bytes each, for every whole 32-byte stripe.
void stripes(std::array<std::uint64_t, 4> &acc, const std::byte *p, std::size_t n)
{
	for (; n >= 32; p += 32, n -= 32)
		for (std::size_t lane = 0; lane < 4; lane++)
			acc[lane] = round(acc[lane], load64(p + 8 * lane));
}

} // namespace

Xxh64::Xxh64(std::uint64_t seed)
	: acc_{seed + prime1 + prime2, seed + prime2, seed, seed - prime1}, seed_(seed)
{
}

Xxh64 &Xxh64::update(const void *data, std::size_t len)
{
	auto p = static_cast<const std::byte *>(data);
	total_ += len;
	if (pending_len_) {
		const std::size_t n = std::min(len, pending_.size() - pending_len_);
		std::memcpy(pending_.data() + pending_len_, p, n);
		pending_len_ += n;
		p += n;
		len -= n;
		if (pending_len_ < pending_.size())
			return *this;
		stripes(acc_, pending_.data(), pending_.size());
		pending_len_ = 0;
	}
	const std::size_t whole = len & ~std::size_t{31};
	stripes(acc_, p, whole);
	std::memcpy(pending_.data(), p + whole, len - whole);
	pending_len_ = len - whole;
	return *this;
}

Xxh64 &Xxh64::update(std::span<const std::byte> bytes)
{
	return update(bytes.data(), bytes.size());
}

std::uint64_t Xxh64::value() const
{
	std::uint64_t h;
	if (total_ >= 32) {
		h = std::rotl(acc_[0], 1) + std::rotl(acc_[1], 7) + std::rotl(acc_[2], 12) +
		    std::rotl(acc_[3], 18);
		for (const std::uint64_t a : acc_)
			h = merge_round(h, a);
	} else {
		h = seed_ + prime5;
	}
	h += total_;

	const std::byte *p = pending_.data();
	std::size_t n = pending_len_;
	for (; n >= 8; p += 8, n -= 8)
		h = std::rotl(h ^ round(0, load64(p)), 27) * prime1 + prime4;
	if (n >= 4) {
		h = std::rotl(h ^ (std::uint64_t{load32(p)} * prime1), 23) * prime2 + prime3;
		p += 4;
		n -= 4;
	}
	for (; n; p++, n--)
		h = std::rotl(h ^ (std::to_integer<std::uint64_t>(*p) * prime5), 11) * prime1;

	h ^= h >> 33;
	h *= prime2;
	h ^= h >> 29;
	h *= prime3;
	h ^= h >> 32;
	return h;
}

std::uint64_t xxh64(std::span<const std::byte> bytes, std::uint64_t seed)
{
	return Xxh64(seed).update(bytes).value();
}

std::uint32_t data_csum(std::span<const std::byte> bytes)
{
	return DataCsum().update(bytes).value();
}

} // namespace deltalog
