// Reading the log: recovery exactly as FORMAT.md section 6 describes it.
//
//   recover() = choose the superblock (6.1), walk the hash chain of
//   metadata blocks from meta_tail (6.2), mark dead and void records (6.3),
//   verify untrusted data and cut at the first mismatch (6.4), derive
//   next_seq, the time floor and the head (6.5), check clean_seq (6.7).
//
// The steps are also exposed one by one (scan_chain, assemble_log) so that
// the checker can run them without stopping at the first damage.
#pragma once

#include "deltalog/device.hpp"
#include "deltalog/meta_block.hpp"
#include "deltalog/records.hpp"
#include "deltalog/superblock.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace deltalog {

enum class RecordStatus {
	live,		// part of the device's history
	dead,		// seq <= merged_seq: already in the origin (6.3)
	voided,		// voided by a ROLLBACK (6.3)
	dropped,	// at or after the data checksum cut (6.4)
};
const char *status_name(RecordStatus status);	// "live", "dead", "void", "dropped"

struct LogRecord {
	Record rec;
	std::uint64_t block = 0;	// ring index of its block
	unsigned slot = 0;		// its first record slot in the block
	RecordStatus status = RecordStatus::live;
};

struct LogBlock {
	std::uint64_t index = 0;
	std::uint32_t csum = 0;
	std::uint32_t prev_csum = 0;
	std::uint64_t durable_seq = 0;
	unsigned nr_slots = 0;
	std::size_t first_record = 0;	// into LogState::records
	std::size_t nr_records = 0;
};

struct LogState {
	Superblock sb;
	unsigned sb_copy = 0;

	// Every block that belongs to the log (6.2), meta_tail up to scan_end,
	// and all their records in log order, each with its status.
	std::vector<LogBlock> blocks;
	std::vector<LogRecord> records;
	std::uint64_t scan_end = 0;	// first index that did not belong
	BlockStatus end_status = BlockStatus::ok;	// why; ok: the ring was full

	// The live log is blocks [meta_tail, head).
	std::uint64_t head = 0;
	std::uint64_t trusted_seq = 0;	// 6.4
	std::uint64_t max_seq_seen = 0;	// any scanned record, void or dropped too
	std::uint64_t max_time_seen = 0;
	std::uint64_t next_seq = 1;	// 6.5
	std::uint64_t time_floor_ns = 0;

	// 6.4: the data of seq cut_seq did not match; records from it on are
	// dropped; cut_to_seq is the last one kept. Step 6 then wants a ROLLBACK.
	bool cut = false;
	std::uint64_t cut_seq = 0;
	std::uint64_t cut_to_seq = 0;
	std::uint64_t cut_block = 0;

	// Live data ring positions [data_tail, data_head) (section 5).
	bool has_data = false;
	std::uint64_t data_tail = 0;
	std::uint64_t data_head = 0;

	std::uint64_t tail() const { return sb.meta_tail; }
	std::uint64_t used_meta_blocks() const { return head - sb.meta_tail; }
	std::uint64_t used_data_sectors() const { return has_data ? data_head - data_tail : 0; }

	// Live records in seq order.
	std::vector<Record> live() const;
	std::size_t nr_live() const;
	// Newest live seq, or merged_seq when nothing is live.
	std::uint64_t newest_seq() const;
	// Oldest live seq, or 0 when nothing is live.
	std::uint64_t oldest_seq() const;
	// The scanned block with ring index `index`, or nullptr.
	const LogBlock *block(std::uint64_t index) const;
};

// 6.2: the blocks that belong to the log, parsed (never throws on content).
struct ChainScan {
	std::vector<ParsedBlock> blocks;
	std::vector<std::uint32_t> csums;
	std::uint64_t end = 0;
	BlockStatus end_status = BlockStatus::ok;
};
ChainScan scan_chain(const Device &delta, const Superblock &sb);

// 6.3 to 6.7 over a scan. Problems of the log as a whole (clean_seq newer
// than the log, live data larger than the ring) are appended to `problems`.
// Malformed records of the scan are left out. Reads the data ring (6.4).
LogState assemble_log(const Device &delta, const SuperblockChoice &choice, const ChainScan &scan,
		      std::vector<std::string> &problems);

// The whole recovery. Throws UnformattedError, SuperblockError,
// GeometryError, CorruptLogError, IoError.
LogState recover(const Device &delta);

// The data ring (section 5): nr_sectors from position pos, wrapping.
void read_data(const Device &delta, const Superblock &sb, std::uint64_t pos,
	       std::span<std::byte> out);
// The data checksum (section 6.2) of what is there now.
std::uint32_t read_data_csum(const Device &delta, const Superblock &sb, std::uint64_t pos,
			     std::uint64_t nr_sectors);

// Where a block is, for messages: "metadata block 12 (ring slot 4, sector 48)".
std::string block_location(const Superblock &sb, std::uint64_t index);

} // namespace deltalog
