// Records of the metadata log (FORMAT.md 4.2): a host-order Record for every
// kind, pack/unpack to the 48-byte slots of struct dlog_io_record,
// dlog_mark_record and dlog_rollback_record, and the per-record validity
// rules. Rules that span records (seq and time order) live in meta_block.
#pragma once

#include "deltalog/format.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace deltalog {

enum class RecordKind : std::uint16_t {
	write = DLOG_REC_WRITE,
	zero = DLOG_REC_ZERO,
	mark = DLOG_REC_MARK,
	rollback = DLOG_REC_ROLLBACK,
};

const char *kind_name(RecordKind kind);	// "WRITE", "ZERO", "MARK", "ROLLBACK"

struct Record {
	std::uint64_t seq = 0;
	std::uint64_t time_ns = 0;
	RecordKind kind = RecordKind::write;
	std::uint16_t flags = 0;

	// WRITE and ZERO.
	std::uint32_t nr_sectors = 0;
	std::uint64_t origin_sector = 0;
	std::uint64_t data_pos = 0;	// WRITE
	std::uint32_t data_csum = 0;	// WRITE with DLOG_RF_DATA_CSUM
	// MARK.
	std::string label;
	// ROLLBACK.
	std::uint64_t to_seq = 0;

	unsigned slots() const { return kind == RecordKind::mark ? DLOG_MARK_SLOTS : 1u; }
	bool has_data_csum() const
	{
		return kind == RecordKind::write && (flags & DLOG_RF_DATA_CSUM);
	}
	bool is_io() const { return kind == RecordKind::write || kind == RecordKind::zero; }
	std::uint64_t origin_end() const { return origin_sector + nr_sectors; }

	bool operator==(const Record &) const = default;

	static Record write(std::uint64_t seq, std::uint64_t time_ns, std::uint64_t origin_sector,
			    std::uint32_t nr_sectors, std::uint64_t data_pos,
			    std::optional<std::uint32_t> data_csum);
	static Record zero(std::uint64_t seq, std::uint64_t time_ns, std::uint64_t origin_sector,
			   std::uint32_t nr_sectors, bool discard);
	static Record mark(std::uint64_t seq, std::uint64_t time_ns, std::string label);
	static Record rollback(std::uint64_t seq, std::uint64_t time_ns, std::uint64_t to_seq);
};

// 1..63 characters of [A-Za-z0-9._:-].
bool valid_label(std::string_view label);

// What a record may refer to: from the superblock.
struct RecordLimits {
	std::uint64_t origin_sectors = 0;
	std::uint32_t origin_lbs = 512;
	std::uint64_t data_sectors = 0;
};

// Writes rec into out (rec.slots() * 48 bytes). The record must be valid.
void pack_record(const Record &rec, std::span<std::byte> out);

struct UnpackedRecord {
	Record rec;
	unsigned slots = 1;		// slots it takes (1 for an unknown kind)
	std::optional<std::string> problem;	// why it is malformed, if it is
};

// Unpacks the record starting at slot number slot_nr of a block with
// nr_slots used slots; `from` spans the used slots from slot_nr on.
UnpackedRecord unpack_record(std::span<const std::byte> from, unsigned slot_nr,
			     unsigned nr_slots, const RecordLimits &limits);

} // namespace deltalog
