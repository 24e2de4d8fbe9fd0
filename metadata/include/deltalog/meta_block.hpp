// Metadata blocks (FORMAT.md 4.1): the 32-byte header, the uuid-seeded
// checksum, whether a block belongs to the log (6.2: checksum, magic, index,
// chain), and the validation of its contents with a problem per record slot.
#pragma once

#include "deltalog/records.hpp"
#include "deltalog/superblock.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace deltalog {

struct BlockHeader {
	std::uint32_t csum = 0;
	std::uint32_t magic = 0;
	std::uint64_t index = 0;
	std::uint32_t prev_csum = 0;
	std::uint16_t nr_slots = 0;
	std::uint16_t flags = 0;
	std::uint64_t durable_seq = 0;
};

BlockHeader unpack_block_header(std::span<const std::byte> block);

// CRC-32C of uuid followed by bytes 4..end of the block.
std::uint32_t block_csum(std::span<const std::byte> block, const Uuid &uuid);

// Why a block does or does not belong to the log (6.2), in check order.
enum class BlockStatus { ok, bad_csum, bad_magic, bad_index, broken_chain };
const char *block_status_text(BlockStatus status);

// prev_csum: the checksum of block index - 1, or nullopt for the first block
// of the scan (meta_tail), whose chain is not checked.
BlockStatus classify_block(std::span<const std::byte> block, const Uuid &uuid,
			   std::uint64_t index, std::optional<std::uint32_t> prev_csum);

// A block's contents, host order.
struct MetaBlock {
	std::uint64_t index = 0;
	std::uint32_t prev_csum = 0;
	std::uint64_t durable_seq = 0;
	std::vector<Record> records;

	unsigned slots_used() const;
};

struct PackedBlock {
	std::vector<std::byte> bytes;
	std::uint32_t csum = 0;
};

// Packs a block of block_size bytes (records must fit and be valid).
PackedBlock pack_block(const MetaBlock &block, const Uuid &uuid, std::uint32_t block_size);

// Order of records along the log (strictly increasing seq, non-decreasing
// time), carried from block to block.
struct LogOrder {
	std::uint64_t last_seq = 0;
	std::uint64_t last_time = 0;
};

struct BlockProblem {
	int slot = -1;		// record slot, -1 for the header
	std::string what;
};

struct ParsedBlock {
	BlockHeader header;
	MetaBlock block;		// the well-formed records
	std::vector<unsigned> record_slot;	// first slot of each of block.records
	std::vector<BlockProblem> problems;	// empty: the block is well-formed

	bool ok() const { return problems.empty(); }
};

// Validates the contents of a block that belongs to the log (4.1, 4.2, 6.2):
// header flags, slot count, unused slots zero, every record, and the order
// against `order`, which is advanced past the well-formed records. Collects
// every problem it can find; never throws on bad contents.
ParsedBlock parse_block(std::span<const std::byte> block, const RecordLimits &limits,
			LogOrder &order);

RecordLimits record_limits(const Superblock &sb);

} // namespace deltalog
