#include "deltalog/meta_block.hpp"

#include "deltalog/crc32c.hpp"

#include <algorithm>
#include <cstring>
#include <endian.h>
#include <stdexcept>

#include <fmt/format.h>

namespace deltalog {

BlockHeader unpack_block_header(std::span<const std::byte> block)
{
	struct dlog_meta_header d;
	if (block.size() < sizeof(d))
		throw std::invalid_argument("metadata block shorter than its header");
	std::memcpy(&d, block.data(), sizeof(d));

	BlockHeader h;
	h.csum = le32toh(d.csum);
	h.magic = le32toh(d.magic);
	h.index = le64toh(d.index);
	h.prev_csum = le32toh(d.prev_csum);
	h.nr_slots = le16toh(d.nr_slots);
	h.flags = le16toh(d.flags);
	h.durable_seq = le64toh(d.durable_seq);
	return h;
}

std::uint32_t block_csum(std::span<const std::byte> block, const Uuid &uuid)
{
	return Crc32c().update(uuid.data(), uuid.size()).update(block.subspan(4)).value();
}

const char *block_status_text(BlockStatus status)
{
	switch (status) {
	case BlockStatus::ok:
		return "belongs to the log";
	case BlockStatus::bad_csum:
		return "checksum mismatch (torn, never written, or from another log)";
	case BlockStatus::bad_magic:
		return "bad magic";
	case BlockStatus::bad_index:
		return "index does not match its place in the ring (stale or misdirected)";
	case BlockStatus::broken_chain:
		return "prev_csum does not chain to the block before it";
	}
	return "?";
}

BlockStatus classify_block(std::span<const std::byte> block, const Uuid &uuid,
			   std::uint64_t index, std::optional<std::uint32_t> prev_csum)
{
	BlockHeader h = unpack_block_header(block);
	if (h.csum != block_csum(block, uuid))
		return BlockStatus::bad_csum;
	if (h.magic != DLOG_MB_MAGIC)
		return BlockStatus::bad_magic;
	if (h.index != index)
		return BlockStatus::bad_index;
	if (prev_csum && h.prev_csum != *prev_csum)
		return BlockStatus::broken_chain;
	return BlockStatus::ok;
}

unsigned MetaBlock::slots_used() const
{
	unsigned n = 0;
	for (const Record &r : records)
		n += r.slots();
	return n;
}

PackedBlock pack_block(const MetaBlock &mb, const Uuid &uuid, std::uint32_t block_size)
{
	const unsigned capacity = dlog_slots_per_block(block_size);
	const unsigned used = mb.slots_used();
	if (used < 1 || used > capacity)
		throw std::invalid_argument(
			fmt::format("block of {} slots, capacity {}", used, capacity));

	PackedBlock p;
	p.bytes.assign(block_size, std::byte{0});

	struct dlog_meta_header d;
	std::memset(&d, 0, sizeof(d));
	d.magic = htole32(DLOG_MB_MAGIC);
	d.index = htole64(mb.index);
	d.prev_csum = htole32(mb.prev_csum);
	d.nr_slots = htole16(static_cast<std::uint16_t>(used));
	d.durable_seq = htole64(mb.durable_seq);
	std::memcpy(p.bytes.data(), &d, sizeof(d));

	std::size_t off = sizeof(d);
	for (const Record &r : mb.records) {
		pack_record(r, std::span(p.bytes).subspan(off, r.slots() * DLOG_SLOT_SIZE));
		off += r.slots() * DLOG_SLOT_SIZE;
	}
	p.csum = block_csum(p.bytes, uuid);
	std::uint32_t le = htole32(p.csum);
	std::memcpy(p.bytes.data(), &le, sizeof(le));
	return p;
}

RecordLimits record_limits(const Superblock &sb)
{
	return {sb.origin_sectors, sb.origin_lbs, sb.data_sectors};
}

ParsedBlock parse_block(std::span<const std::byte> block, const RecordLimits &limits,
			LogOrder &order)
{
	ParsedBlock p;
	p.header = unpack_block_header(block);
	p.block.index = p.header.index;
	p.block.prev_csum = p.header.prev_csum;
	p.block.durable_seq = p.header.durable_seq;

	const unsigned capacity =
		static_cast<unsigned>((block.size() - sizeof(struct dlog_meta_header)) / DLOG_SLOT_SIZE);
	const unsigned nr_slots = p.header.nr_slots;

	if (p.header.flags)
		p.problems.push_back({-1, fmt::format("header flags {:#x} not zero", p.header.flags)});
	if (nr_slots < 1 || nr_slots > capacity) {
		p.problems.push_back({-1, fmt::format("slot count {} out of range 1..{}", nr_slots,
						      capacity)});
		return p;
	}
	auto slots = block.subspan(sizeof(struct dlog_meta_header));
	auto unused = slots.subspan(nr_slots * DLOG_SLOT_SIZE);
	if (!std::all_of(unused.begin(), unused.end(), [](std::byte b) { return b == std::byte{0}; }))
		p.problems.push_back({-1, fmt::format("slots {}..{} are unused but not zero",
						      nr_slots, capacity - 1)});

	for (unsigned i = 0; i < nr_slots;) {
		auto from = slots.subspan(i * DLOG_SLOT_SIZE, (nr_slots - i) * DLOG_SLOT_SIZE);
		UnpackedRecord u = unpack_record(from, i, nr_slots, limits);
		const int slot = static_cast<int>(i);
		i += u.slots;
		if (u.problem) {
			p.problems.push_back({slot, *u.problem});
			continue;
		}
		const Record &r = u.rec;
		if (r.seq <= order.last_seq) {
			p.problems.push_back({slot, fmt::format("seq {} not above the previous "
								"record's seq {}",
								r.seq, order.last_seq)});
			continue;
		}
		if (r.time_ns < order.last_time) {
			p.problems.push_back({slot, fmt::format("time {} before the previous "
								"record's time {}",
								r.time_ns, order.last_time)});
			continue;
		}
		order.last_seq = r.seq;
		order.last_time = r.time_ns;
		p.block.records.push_back(u.rec);
		p.record_slot.push_back(static_cast<unsigned>(slot));
	}
	return p;
}

} // namespace deltalog
