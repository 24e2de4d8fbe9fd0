#include "deltalog/log.hpp"

#include "deltalog/xxh64.hpp"
#include "deltalog/errors.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace deltalog {
namespace {

constexpr std::uint64_t data_chunk_sectors = 2048;	// 1 MiB

} // namespace

const char *status_name(RecordStatus status)
{
	switch (status) {
	case RecordStatus::live:
		return "live";
	case RecordStatus::dead:
		return "dead";
	case RecordStatus::voided:
		return "void";
	case RecordStatus::dropped:
		return "dropped";
	}
	return "?";
}

std::vector<Record> LogState::live() const
{
	std::vector<Record> v;
	for (const LogRecord &r : records)
		if (r.status == RecordStatus::live)
			v.push_back(r.rec);
	return v;
}

std::size_t LogState::nr_live() const
{
	return static_cast<std::size_t>(std::count_if(records.begin(), records.end(), [](auto &r) {
		return r.status == RecordStatus::live;
	}));
}

std::uint64_t LogState::newest_seq() const
{
	for (auto it = records.rbegin(); it != records.rend(); ++it)
		if (it->status == RecordStatus::live)
			return it->rec.seq;
	return sb.merged_seq;
}

std::uint64_t LogState::oldest_seq() const
{
	for (const LogRecord &r : records)
		if (r.status == RecordStatus::live)
			return r.rec.seq;
	return 0;
}

const LogBlock *LogState::block(std::uint64_t index) const
{
	if (blocks.empty() || index < blocks.front().index || index > blocks.back().index)
		return nullptr;
	return &blocks[index - blocks.front().index];
}

std::string block_location(const Superblock &sb, std::uint64_t index)
{
	return fmt::format("metadata block {} (ring slot {}, sector {})", index,
			   sb.ring_slot(index), sb.block_sector(index));
}

void read_data(const Device &delta, const Superblock &sb, std::uint64_t pos,
	       std::span<std::byte> out)
{
	while (!out.empty()) {
		const std::uint64_t off = pos % sb.data_sectors;
		const std::uint64_t n = std::min<std::uint64_t>(out.size() >> DLOG_SECTOR_SHIFT,
								 sb.data_sectors - off);
		delta.read(sb.data_start + off, out.first(n << DLOG_SECTOR_SHIFT));
		out = out.subspan(n << DLOG_SECTOR_SHIFT);
		pos += n;
	}
}

std::uint32_t read_data_csum(const Device &delta, const Superblock &sb, std::uint64_t pos,
			     std::uint64_t nr_sectors)
{
	std::vector<std::byte> buf(std::min(nr_sectors, data_chunk_sectors) << DLOG_SECTOR_SHIFT);
	DataCsum csum;
	while (nr_sectors) {
		const std::uint64_t n = std::min(nr_sectors, data_chunk_sectors);
		auto chunk = std::span(buf).first(n << DLOG_SECTOR_SHIFT);
		read_data(delta, sb, pos, chunk);
		csum.update(chunk);
		pos += n;
		nr_sectors -= n;
	}
	return csum.value();
}

ChainScan scan_chain(const Device &delta, const Superblock &sb)
{
	ChainScan scan;
	const RecordLimits limits = record_limits(sb);
	std::vector<std::byte> buf(sb.meta_block_size);
	LogOrder order;
	std::optional<std::uint32_t> prev;

	const std::uint64_t end = sb.meta_tail + sb.meta_blocks;
	std::uint64_t i = sb.meta_tail;
	for (; i < end; i++) {
		delta.read(sb.block_sector(i), buf);
		BlockStatus st = classify_block(buf, sb.uuid, i, prev);
		if (st != BlockStatus::ok) {
			scan.end_status = st;
			break;
		}
		scan.blocks.push_back(parse_block(buf, limits, order));
		prev = unpack_block_header(buf).csum;
		scan.csums.push_back(*prev);
	}
	scan.end = i;
	return scan;
}

LogState assemble_log(const Device &delta, const SuperblockChoice &choice, const ChainScan &scan,
		      std::vector<std::string> &problems)
{
	LogState log;
	log.sb = choice.sb;
	log.sb_copy = choice.copy;
	log.scan_end = scan.end;
	log.end_status = scan.end_status;
	log.head = scan.end;
	log.trusted_seq = log.sb.clean_seq;

	// The blocks and their records (6.2).
	for (std::size_t b = 0; b < scan.blocks.size(); b++) {
		const ParsedBlock &pb = scan.blocks[b];
		LogBlock lb;
		lb.index = pb.header.index;
		lb.csum = scan.csums[b];
		lb.prev_csum = pb.header.prev_csum;
		lb.durable_seq = pb.header.durable_seq;
		lb.nr_slots = pb.header.nr_slots;
		lb.first_record = log.records.size();
		lb.nr_records = pb.block.records.size();
		for (std::size_t r = 0; r < pb.block.records.size(); r++) {
			const Record &rec = pb.block.records[r];
			log.records.push_back({rec, lb.index, pb.record_slot[r], RecordStatus::live});
			log.max_seq_seen = std::max(log.max_seq_seen, rec.seq);
			log.max_time_seen = std::max(log.max_time_seen, rec.time_ns);
		}
		log.trusted_seq = std::max(log.trusted_seq, lb.durable_seq);
		log.blocks.push_back(lb);
	}

	// 6.3: dead and void records.
	for (std::size_t b = 0; b < log.blocks.size(); b++) {
		const LogBlock &lb = log.blocks[b];
		for (std::size_t r = lb.first_record; r < lb.first_record + lb.nr_records; r++)
			if (log.records[r].rec.seq <= log.sb.merged_seq)
				log.records[r].status = RecordStatus::dead;
		if (b == 0 || !lb.nr_records)
			continue;
		const Record &first = log.records[lb.first_record].rec;
		if (first.kind != RecordKind::rollback)
			continue;
		const LogBlock &before = log.blocks[b - 1];
		for (std::size_t r = before.first_record; r < before.first_record + before.nr_records; r++) {
			LogRecord &v = log.records[r];
			if (v.status == RecordStatus::live && v.rec.seq > first.to_seq &&
			    v.rec.seq < first.seq)
				v.status = RecordStatus::voided;
		}
	}

	// 6.4: verify untrusted data; cut at the first mismatch.
	std::uint64_t last_kept = log.sb.merged_seq;
	for (std::size_t r = 0; r < log.records.size(); r++) {
		LogRecord &lr = log.records[r];
		if (lr.status != RecordStatus::live)
			continue;
		if (lr.rec.has_data_csum() && lr.rec.seq > log.trusted_seq &&
		    read_data_csum(delta, log.sb, lr.rec.data_pos, lr.rec.nr_sectors) != lr.rec.data_csum) {
			log.cut = true;
			log.cut_seq = lr.rec.seq;
			log.cut_to_seq = last_kept;
			log.cut_block = lr.block;
			log.head = lr.block + 1;
			for (std::size_t d = r; d < log.records.size(); d++)
				log.records[d].status = RecordStatus::dropped;
			break;
		}
		last_kept = lr.rec.seq;
	}

	// Section 5: the live data.
	for (const LogRecord &lr : log.records) {
		if (lr.status != RecordStatus::live || lr.rec.kind != RecordKind::write)
			continue;
		const std::uint64_t end = lr.rec.data_pos + lr.rec.nr_sectors;
		if (!log.has_data) {
			log.has_data = true;
			log.data_tail = lr.rec.data_pos;
			log.data_head = end;
		} else {
			log.data_tail = std::min(log.data_tail, lr.rec.data_pos);
			log.data_head = std::max(log.data_head, end);
		}
	}
	if (log.has_data && log.data_head - log.data_tail > log.sb.data_sectors)
		problems.push_back(fmt::format("live data spans positions {}..{}, more than the "
					       "{}-sector data ring",
					       log.data_tail, log.data_head, log.sb.data_sectors));

	// 6.5: floors.
	log.next_seq = std::max(log.sb.next_seq, log.max_seq_seen + 1);
	log.time_floor_ns = std::max(log.sb.time_floor_ns, log.max_time_seen);

	// 6.7: blocks durable at a clean stop must still be there.
	if (log.sb.clean_seq && log.sb.clean_seq > log.sb.merged_seq &&
	    log.sb.clean_seq > log.max_seq_seen)
		problems.push_back(fmt::format("stopped cleanly at seq {} but the log ends at seq {} "
					       "(before {}): blocks are missing",
					       log.sb.clean_seq, log.max_seq_seen,
					       block_location(log.sb, log.scan_end)));
	return log;
}

LogState recover(const Device &delta)
{
	SuperblockChoice choice = read_superblock(delta);
	check_delta_fits(choice.sb, delta);
	ChainScan scan = scan_chain(delta, choice.sb);
	for (const ParsedBlock &pb : scan.blocks)
		if (!pb.ok())
			throw CorruptLogError(pb.header.index, choice.sb.ring_slot(pb.header.index),
					      choice.sb.block_sector(pb.header.index),
					      pb.problems.front().slot, pb.problems.front().what);
	std::vector<std::string> problems;
	LogState log = assemble_log(delta, choice, scan, problems);
	if (!problems.empty())
		throw CorruptLogError(problems.front());
	return log;
}

} // namespace deltalog
