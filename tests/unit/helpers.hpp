// Shared helpers of the unit tests: temporary files (on tmpfs when there is
// one, so flushes cost nothing), small geometries whose rings wrap quickly,
// and byte-level access to images.
#pragma once

#include "deltalog/device.hpp"
#include "deltalog/superblock.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace dlt {

using Bytes = std::vector<std::byte>;

class TempDir {
public:
	TempDir();
	~TempDir();
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;
	std::string path(const std::string &name) const;

private:
	std::filesystem::path dir_;
};

// A file of `sectors` zero sectors (sparse).
void create_file(const std::string &path, std::uint64_t sectors);
// A file of `sectors` sectors of pseudo-random bytes from seed.
void create_random_file(const std::string &path, std::uint64_t sectors, std::uint32_t seed);
Bytes read_file(const std::string &path);
void write_file(const std::string &path, std::span<const std::byte> bytes);
// Read or overwrite bytes at a byte offset of a file.
Bytes read_at(const std::string &path, std::uint64_t offset, std::size_t len);
void write_at(const std::string &path, std::uint64_t offset, std::span<const std::byte> bytes);
void flip_bit(const std::string &path, std::uint64_t offset, unsigned bit = 0);

deltalog::Device open_rw(const std::string &path);
deltalog::Device open_ro(const std::string &path);

Bytes pattern(std::size_t len, std::uint32_t seed);
Bytes sector_bytes(std::uint64_t sectors, std::uint8_t value);

// A layout with a small metadata ring and the smallest data ring.
dlog_layout small_layout(std::uint64_t meta_blocks = 8, std::uint32_t block_size = 512,
			 std::uint64_t data_sectors = DLOG_MIN_DATA_SECTORS);
std::uint64_t layout_end(const dlog_layout &l);

constexpr deltalog::Uuid test_uuid = {0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0x4c, 0xde,
				      0x8f, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd};

// A delta (small layout) and an origin (random contents) in a temp dir,
// formatted with test_uuid at time 1'000'000'000.
struct PairOptions {
	std::uint64_t origin_sectors = 512;
	std::uint64_t meta_blocks = 8;
	std::uint32_t block_size = 512;
	std::uint64_t data_sectors = DLOG_MIN_DATA_SECTORS;
	std::uint32_t origin_lbs = 0;	// 0: the file's, 512
};
struct Pair {
	std::string delta;
	std::string origin;
	deltalog::Superblock sb;
};
Pair make_pair(const TempDir &dir, const PairOptions &opts = {});

} // namespace dlt

#include "deltalog/log.hpp"
#include "deltalog/writer.hpp"

#include <memory>

namespace dlt {

// A clock the test sets.
struct FakeClock {
	std::shared_ptr<std::uint64_t> now = std::make_shared<std::uint64_t>(2'000'000'000);
	deltalog::Clock fn() const
	{
		auto n = now;
		return [n] { return *n; };
	}
	void set(std::uint64_t t) { *now = t; }
	void advance(std::uint64_t by = 1000) { *now += by; }
};

// A formatted pair, open, with a writer on a fake clock.
struct Env {
	explicit Env(const PairOptions &opts = {});
	TempDir dir;
	Pair pair;
	deltalog::Device delta;
	deltalog::Device origin;
	FakeClock clock;
	std::unique_ptr<deltalog::Writer> writer;

	deltalog::Writer &w() { return *writer; }
	void reopen();	// a new writer (recovery)
	deltalog::LogState recover() const;
	// The device image at seq, from a fresh recovery.
	Bytes image(std::uint64_t seq) const;
	Bytes origin_bytes() const { return read_file(pair.origin); }
	// Byte offset of the metadata block with ring index i.
	std::uint64_t block_offset(std::uint64_t index) const;
	Bytes block_bytes(std::uint64_t index) const;
	// Byte offset of data ring position pos.
	std::uint64_t data_offset(std::uint64_t pos) const;
};

} // namespace dlt
