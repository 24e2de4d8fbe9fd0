// The superblock (FORMAT.md section 3): pack/unpack between struct
// dlog_superblock (little-endian, the shared header) and a host-order
// Superblock, validation with precise reasons, the choice between the two
// copies, updates, format, and the origin's identity (3.1).
#pragma once

#include "deltalog/device.hpp"
#include "deltalog/format.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace deltalog {

using Uuid = std::array<std::uint8_t, 16>;

// Seqs, ring indexes and data positions only grow and stay below this
// (FORMAT.md 3, 4.2), so that seq + 1, index + meta_blocks and data_pos +
// nr_sectors never overflow.
constexpr std::uint64_t position_limit = std::uint64_t{1} << 63;

std::string uuid_string(const Uuid &uuid);	// 8-4-4-4-12 lower-case hex
Uuid random_uuid();				// version 4

// Host-order superblock: the fields of struct dlog_superblock without the
// ones that only describe a copy (csum, magic, blocknr, version, padding).
struct Superblock {
	std::uint32_t flags = 0;
	std::uint64_t generation = 0;
	Uuid uuid{};
	std::uint64_t format_time_ns = 0;

	std::uint64_t delta_sectors = 0;
	std::uint32_t meta_block_size = 0;
	std::uint64_t meta_start = 0;
	std::uint64_t meta_blocks = 0;
	std::uint64_t data_start = 0;
	std::uint64_t data_sectors = 0;

	std::uint64_t origin_sectors = 0;
	std::uint32_t origin_lbs = 0;
	std::uint32_t origin_fingerprint = 0;
	std::string origin_fs_uuid;	// at most DLOG_FS_UUID_LEN bytes, no NUL

	std::uint64_t next_seq = 1;
	std::uint64_t merged_seq = 0;
	std::uint64_t meta_tail = 0;
	std::uint64_t time_floor_ns = 0;
	std::uint64_t clean_seq = 0;
	std::uint64_t merge_target_seq = 0;
	// With DLOG_SBF_MERGE_SAMPLES: the sample sectors' checksums before the
	// merge ([0]) and after it ([1]); all zero otherwise.
	std::array<std::array<std::uint32_t, DLOG_FP_SECTORS>, 2> merge_samples{};

	bool merging() const { return flags & DLOG_SBF_MERGING; }
	bool has_merge_samples() const { return flags & DLOG_SBF_MERGE_SAMPLES; }
	std::uint64_t block_sectors() const { return meta_block_size >> DLOG_SECTOR_SHIFT; }
	std::uint32_t slots_per_block() const { return dlog_slots_per_block(meta_block_size); }
	// Ring slot and first sector of the metadata block with ring index i.
	std::uint64_t ring_slot(std::uint64_t index) const { return index % meta_blocks; }
	std::uint64_t block_sector(std::uint64_t index) const
	{
		return meta_start + ring_slot(index) * block_sectors();
	}
	// Sector of data ring position pos.
	std::uint64_t data_sector(std::uint64_t pos) const
	{
		return data_start + pos % data_sectors;
	}

	bool operator==(const Superblock &) const = default;
};

using SuperblockBytes = std::array<std::byte, DLOG_SB_SIZE>;

// Copy 0 is A (sector 0), copy 1 is B (sector 8).
constexpr std::uint64_t superblock_sector(unsigned copy) { return copy * DLOG_SB_SECTORS; }
char copy_name(unsigned copy);	// 'A' or 'B'

SuperblockBytes pack_superblock(const Superblock &sb, unsigned copy);
Superblock unpack_superblock(std::span<const std::byte, DLOG_SB_SIZE> bytes);

// Problems of the layout and log state of a host-order superblock (the
// validity rules of FORMAT.md 3 that do not concern one copy's bytes).
std::vector<std::string> superblock_field_problems(const Superblock &sb);
// Every reason why the bytes are not a valid copy number `copy`; empty if
// valid. A wrong magic or checksum is reported alone (the rest is noise).
std::vector<std::string> superblock_problems(std::span<const std::byte, DLOG_SB_SIZE> bytes,
					     unsigned copy);

// The outcome of reading both copies.
struct SuperblockChoice {
	Superblock sb;			// the current copy
	unsigned copy = 0;		// which copy it is
	std::array<std::vector<std::string>, 2> problems;	// per copy; empty: valid
	std::array<bool, 2> all_zero{};
	std::array<std::uint64_t, 2> generation{};	// as stored, valid or not

	bool valid(unsigned c) const { return problems[c].empty(); }
};

// Chooses per FORMAT.md 3 from the first 8 KiB of a delta. Throws
// UnformattedError or SuperblockError.
SuperblockChoice choose_superblock(std::span<const std::byte, 2 * DLOG_SB_SIZE> bytes);
SuperblockChoice read_superblock(const Device &delta);

// An update: generation + 1, written whole to the copy that is not `copy`,
// flushed; `copy` then names the copy just written.
void write_superblock(Device &delta, Superblock &sb, unsigned &copy);

// Origin identity (3.1).
std::uint32_t origin_fingerprint(const Device &origin);
// The origin's sample blocks, one after the other (DLOG_FP_SAMPLES of
// DLOG_FP_SAMPLE_SIZE bytes), and the checksum of each of their sectors.
std::vector<std::byte> origin_samples(const Device &origin);
std::array<std::uint32_t, DLOG_FP_SECTORS> sample_sector_csums(std::span<const std::byte> samples);
// Throws OriginMismatchError if origin is not the superblock's origin (size,
// logical block size, fingerprint; while MERGING, each sample sector as it
// was before the merge or as the merge leaves it, unchecked without
// MERGE_SAMPLES).
void check_origin(const Superblock &sb, const Device &origin);
// Throws GeometryError if the delta no longer fits the superblock (smaller
// than at format, logical block larger than a metadata block).
void check_delta_fits(const Superblock &sb, const Device &delta);

struct FormatOptions {
	// 0: the larger of the delta's logical and physical block size,
	// clamped to 512..4096.
	std::uint32_t meta_block_size = 0;
	// Default: dlog_default_layout(). Tests use small rings.
	std::optional<dlog_layout> layout;
	std::optional<Uuid> uuid;		// default random
	std::optional<std::uint64_t> time_ns;	// default CLOCK_REALTIME
	std::uint32_t origin_lbs = 0;		// 0: the origin's logical block size
	std::string origin_fs_uuid;
};

// Writes both copies (A generation 1, B generation 2) of a new, empty log.
// Returns the superblock now current (copy B). Throws GeometryError.
Superblock format_delta(Device &delta, const Device &origin, const FormatOptions &opts = {});

// CLOCK_REALTIME in ns.
std::uint64_t realtime_ns();

} // namespace deltalog
