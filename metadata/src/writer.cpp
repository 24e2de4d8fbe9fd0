#include "deltalog/writer.hpp"

#include "deltalog/xxh64.hpp"
#include "deltalog/errors.hpp"
#include "deltalog/state.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace deltalog {
namespace {

constexpr std::uint64_t copy_chunk_sectors = 2048;

} // namespace

Writer::Writer(Device &delta, Clock clock) : delta_(delta), clock_(std::move(clock))
{
	if (!delta_.writable())
		throw IoError(fmt::format("{}: the writer needs the delta open read-write",
					  delta_.name()),
			      EBADF);
	if (!clock_)
		clock_ = realtime_ns;
	refresh();
}

// (Re)reads the log from the delta: after open, rollback, merge.
void Writer::refresh()
{
	log_ = recover(delta_);
	active_ = log_.sb.clean_seq == 0;
	durable_seq_ = log_.cut ? log_.cut_to_seq : log_.newest_seq();
	if (!log_.has_data) {
		// An empty ring: start past every position ever seen, so that
		// positions keep growing where they can.
		for (const LogRecord &r : log_.records)
			if (r.rec.kind == RecordKind::write)
				data_cursor_ = std::max(data_cursor_, r.rec.data_pos + r.rec.nr_sectors);
	}
	const LogBlock *last = log_.block(log_.head - 1);
	last_csum_ = last ? last->csum : 0;
}

std::uint64_t Writer::now()
{
	return std::max(clock_(), log_.time_floor_ns);
}

void Writer::update_superblock()
{
	log_.sb.next_seq = log_.next_seq;
	log_.sb.time_floor_ns = log_.time_floor_ns;
	write_superblock(delta_, log_.sb, log_.sb_copy);
}

// Before the first append of an activation: clean_seq = 0 (7.4), and the
// ROLLBACK that makes a recovery cut permanent (6.6).
void Writer::activate()
{
	if (!active_) {
		log_.sb.clean_seq = 0;
		update_superblock();
		active_ = true;
	}
	if (log_.cut) {
		if (log_.cut_block + 1 >= log_.tail() + log_.sb.meta_blocks)
			throw LogFullError(LogFullError::Ring::meta,
					   fmt::format("{}: metadata ring full: no room for the "
						       "ROLLBACK after the cut at seq {}; merge first",
						       delta_.name(), log_.cut_seq));
		write_rollback_block(log_.cut_block, log_.cut_to_seq);
		delta_.flush();
		refresh();
	}
}

void Writer::write_block(const MetaBlock &mb)
{
	PackedBlock p = pack_block(mb, log_.sb.uuid, log_.sb.meta_block_size);
	delta_.write(log_.sb.block_sector(mb.index), p.bytes);
	last_csum_ = p.csum;

	// Keep the in-memory log in step: the block is the newest one.
	LogBlock lb;
	lb.index = mb.index;
	lb.csum = p.csum;
	lb.prev_csum = mb.prev_csum;
	lb.durable_seq = mb.durable_seq;
	lb.nr_slots = mb.slots_used();
	lb.nr_records = mb.records.size();
	if (!log_.blocks.empty() && log_.blocks.back().index == mb.index) {
		lb.first_record = log_.blocks.back().first_record;
		log_.blocks.back() = lb;
	} else {
		lb.first_record = log_.records.size();
		log_.blocks.push_back(lb);
	}
	log_.head = log_.scan_end = mb.index + 1;
	log_.trusted_seq = std::max(log_.trusted_seq, mb.durable_seq);
}

// The newest block of the live log, to be rewritten with more records.
MetaBlock Writer::newest_block() const
{
	const LogBlock &lb = log_.blocks.back();
	MetaBlock mb;
	mb.index = lb.index;
	mb.prev_csum = lb.prev_csum;
	mb.durable_seq = lb.durable_seq;
	for (std::size_t i = 0; i < lb.nr_records; i++)
		mb.records.push_back(log_.records[lb.first_record + i].rec);
	return mb;
}

void Writer::write_rollback_block(std::uint64_t after_block, std::uint64_t to_seq)
{
	const std::uint64_t seq = log_.next_seq;
	const std::uint64_t t = now();
	MetaBlock mb;
	mb.index = after_block + 1;
	const LogBlock *before = log_.block(after_block);
	mb.prev_csum = before && after_block >= log_.tail() ? before->csum : 0;
	mb.durable_seq = std::min(durable_seq_, to_seq);
	mb.records.push_back(Record::rollback(seq, t, to_seq));
	PackedBlock p = pack_block(mb, log_.sb.uuid, log_.sb.meta_block_size);
	delta_.write(log_.sb.block_sector(mb.index), p.bytes);
	log_.next_seq = seq + 1;
	log_.time_floor_ns = t;
}

void Writer::check_extent(std::uint64_t origin_sector, std::uint64_t nr_sectors) const
{
	const Superblock &sb = log_.sb;
	const std::uint64_t lbs_sectors = sb.origin_lbs >> DLOG_SECTOR_SHIFT;
	if (!nr_sectors || nr_sectors > std::numeric_limits<std::uint32_t>::max())
		throw std::invalid_argument(fmt::format("extent of {} sectors", nr_sectors));
	if (origin_sector > sb.origin_sectors || nr_sectors > sb.origin_sectors - origin_sector)
		throw std::invalid_argument(fmt::format("extent {}+{} past the end of the origin "
							"({} sectors)",
							origin_sector, nr_sectors,
							sb.origin_sectors));
	if ((origin_sector | nr_sectors) & (lbs_sectors - 1))
		throw std::invalid_argument(fmt::format("extent {}+{} not aligned to the origin's "
							"{}-byte logical blocks",
							origin_sector, nr_sectors, sb.origin_lbs));
}

std::uint64_t Writer::append(Record rec, std::span<const std::byte> data)
{
	if (log_.next_seq >= position_limit)
		throw LogFullError(LogFullError::Ring::meta, "sequence numbers are exhausted");
	activate();
	const Superblock &sb = log_.sb;

	// Where the record goes: the newest block while it has room (4.3).
	const bool have_newest = log_.head > log_.tail();
	bool in_place = false;
	if (have_newest) {
		const LogBlock &lb = log_.blocks.back();
		in_place = lb.nr_slots + rec.slots() <= sb.slots_per_block();
	}
	if (!in_place && log_.head - log_.tail() >= sb.meta_blocks)
		throw LogFullError(LogFullError::Ring::meta,
				   fmt::format("{}: metadata ring full ({} blocks); merge or roll "
					       "back first",
					       delta_.name(), sb.meta_blocks));

	// Data positions (5): keep the 4 KiB alignment of the origin extent.
	if (rec.kind == RecordKind::write) {
		const std::uint64_t cursor = log_.has_data ? log_.data_head : data_cursor_;
		const std::uint64_t pos = cursor + ((rec.origin_sector - cursor) & 7);
		const std::uint64_t tail = log_.has_data ? log_.data_tail : pos;
		if (pos + rec.nr_sectors - tail > sb.data_sectors)
			throw LogFullError(LogFullError::Ring::data,
					   fmt::format("{}: data ring full ({} of {} sectors used, "
						       "{} more needed); merge or roll back first",
						       delta_.name(), log_.used_data_sectors(),
						       sb.data_sectors, rec.nr_sectors));
		rec.data_pos = pos;
	}

	rec.seq = log_.next_seq;
	rec.time_ns = now();

	if (rec.kind == RecordKind::write) {
		// The data first, wrapping at the end of the ring.
		std::uint64_t pos = rec.data_pos;
		auto left = data;
		while (!left.empty()) {
			const std::uint64_t off = pos % sb.data_sectors;
			const std::uint64_t n = std::min<std::uint64_t>(left.size() >> DLOG_SECTOR_SHIFT,
									 sb.data_sectors - off);
			delta_.write(sb.data_start + off, left.first(n << DLOG_SECTOR_SHIFT));
			left = left.subspan(n << DLOG_SECTOR_SHIFT);
			pos += n;
		}
		if (!rec.has_data_csum()) {
			// Ordered: the data (and all before it) is durable before
			// the record that points at it is written.
			delta_.flush();
			durable_seq_ = rec.seq;
		}
	}

	MetaBlock mb;
	if (in_place) {
		mb = newest_block();
	} else {
		mb.index = log_.head;
		mb.prev_csum = have_newest ? last_csum_ : 0;
	}
	mb.durable_seq = durable_seq_;
	mb.records.push_back(rec);
	write_block(mb);

	log_.records.push_back({rec, mb.index,
				static_cast<unsigned>(mb.slots_used() - rec.slots()),
				RecordStatus::live});
	log_.blocks.back().nr_records = mb.records.size();
	log_.next_seq = rec.seq + 1;
	log_.max_seq_seen = rec.seq;
	log_.time_floor_ns = log_.max_time_seen = rec.time_ns;
	if (rec.kind == RecordKind::write) {
		const std::uint64_t end = rec.data_pos + rec.nr_sectors;
		if (!log_.has_data) {
			log_.has_data = true;
			log_.data_tail = rec.data_pos;
			log_.data_head = end;
		} else {
			log_.data_tail = std::min(log_.data_tail, rec.data_pos);
			log_.data_head = std::max(log_.data_head, end);
		}
		data_cursor_ = log_.data_head;
	}
	return rec.seq;
}

std::uint64_t Writer::append_write(std::uint64_t origin_sector, std::span<const std::byte> data,
				   bool data_csum)
{
	if (data.size() % DLOG_SECTOR_SIZE)
		throw std::invalid_argument(fmt::format("write of {} bytes is not whole sectors",
							data.size()));
	const std::uint64_t n = data.size() >> DLOG_SECTOR_SHIFT;
	check_extent(origin_sector, n);
	// The data must be whole logical blocks of the delta where it lands
	// (data_pos % 8 == origin_sector % 8), or the kernel cannot read it.
	const std::uint64_t delta_lbs = delta_.logical_block_size() >> DLOG_SECTOR_SHIFT;
	if ((origin_sector | n) & (delta_lbs - 1))
		throw std::invalid_argument(fmt::format("write {}+{} not aligned to the delta's "
							"{}-byte logical blocks",
							origin_sector, n,
							delta_.logical_block_size()));
	if (n > log_.sb.data_sectors)
		throw std::invalid_argument(fmt::format("write of {} sectors is larger than the "
							"data ring ({})",
							n, log_.sb.data_sectors));
	std::optional<std::uint32_t> csum;
	if (data_csum)
		csum = deltalog::data_csum(data);
	return append(Record::write(0, 0, origin_sector, static_cast<std::uint32_t>(n), 0, csum),
		      data);
}

std::uint64_t Writer::append_zero(std::uint64_t origin_sector, std::uint32_t nr_sectors,
				  bool discard)
{
	check_extent(origin_sector, nr_sectors);
	return append(Record::zero(0, 0, origin_sector, nr_sectors, discard), {});
}

std::uint64_t Writer::append_mark(std::string_view label)
{
	if (!valid_label(label))
		throw std::invalid_argument(fmt::format("invalid mark label '{}': 1-63 characters "
							"of [A-Za-z0-9._:-]",
							label));
	return append(Record::mark(0, 0, std::string(label)), {});
}

void Writer::sync()
{
	delta_.flush();
	const std::uint64_t newest = log_.cut ? log_.cut_to_seq : log_.newest_seq();
	if (durable_seq_ >= newest)
		return;
	durable_seq_ = newest;
	if (log_.head > log_.tail() && !log_.cut) {
		MetaBlock mb = newest_block();
		if (mb.durable_seq < durable_seq_) {
			mb.durable_seq = durable_seq_;
			write_block(mb);
			delta_.flush();
		}
	}
}

std::uint64_t Writer::rollback(std::uint64_t to_seq)
{
	const Superblock &sb = log_.sb;
	if (log_.next_seq >= position_limit)
		throw LogFullError(LogFullError::Ring::meta, "sequence numbers are exhausted");
	if (to_seq < sb.merged_seq)
		throw RollbackError(RollbackError::Reason::before_merged,
				    fmt::format("cannot roll back to seq {}: everything up to seq {} "
						"was merged into the origin",
						to_seq, sb.merged_seq));
	// Part of that merge may be in the origin already: the records up to its
	// target are committed, whatever merged_seq says yet.
	if (sb.merging() && to_seq < sb.merge_target_seq)
		throw RollbackError(RollbackError::Reason::merge_unfinished,
				    fmt::format("cannot roll back to seq {}: a merge up to seq {} is "
						"unfinished (the origin may hold part of it); finish it first",
						to_seq, sb.merge_target_seq));
	if (to_seq >= log_.newest_seq())
		throw RollbackError(RollbackError::Reason::nothing_to_undo,
				    fmt::format("nothing to roll back: seq {} is not older than the "
						"newest record (seq {})",
						to_seq, log_.newest_seq()));

	// B: the block of the newest live record with seq <= to_seq; the
	// ROLLBACK keeps exactly that record's seq, so that records a previous
	// ROLLBACK voided in B stay void.
	std::uint64_t b = log_.tail() - 1;
	std::uint64_t keep = to_seq;
	for (const LogRecord &r : log_.records) {
		if (r.status == RecordStatus::live && r.rec.seq <= to_seq) {
			b = r.block;
			keep = r.rec.seq;
		}
	}
	if (b + 1 >= log_.tail() + sb.meta_blocks)
		throw RollbackError(RollbackError::Reason::ring_full,
				    fmt::format("cannot roll back to seq {}: the metadata ring is "
						"full and seq {} is in its newest block; merge some "
						"history first",
						to_seq, keep));

	sync();
	log_.sb.clean_seq = 0;
	update_superblock();
	write_rollback_block(b, keep);
	delta_.flush();
	const std::uint64_t rb_seq = log_.next_seq - 1;
	log_.sb.clean_seq = rb_seq;
	update_superblock();
	refresh();
	return rb_seq;
}

void Writer::merge(Device &origin, std::uint64_t up_to, const MergeHooks &hooks)
{
	check_origin(log_.sb, origin);
	if (log_.sb.merging() && up_to < log_.sb.merge_target_seq)
		throw MergeError(fmt::format("a merge up to seq {} is unfinished; merge up to at "
					     "least seq {}",
					     log_.sb.merge_target_seq, log_.sb.merge_target_seq));
	if (up_to < log_.sb.merged_seq)
		throw MergeError(fmt::format("seq {} is already merged (merged up to seq {})", up_to,
					     log_.sb.merged_seq));
	if (up_to > log_.newest_seq())
		throw MergeError(fmt::format("cannot merge up to seq {}: the newest record is seq {}",
					     up_to, log_.newest_seq()));
	if (up_to == log_.sb.merged_seq && !log_.sb.merging())
		return;

	sync();
	// Announced with the sample sectors as they are and as the merge leaves
	// them, so that the origin is still recognised after a crash (3.1).
	const ExtentMap map = state_at(log_, up_to);
	const std::vector<std::byte> before = origin_samples(origin);
	std::vector<std::byte> after(before.size());
	for (std::uint32_t i = 0; i < DLOG_FP_SAMPLES; i++)
		read_image(log_, map, delta_, origin, dlog_fp_sample_sector(origin.sectors(), i),
			   std::span(after).subspan(i * DLOG_FP_SAMPLE_SIZE, DLOG_FP_SAMPLE_SIZE));
	log_.sb.merge_samples = {sample_sector_csums(before), sample_sector_csums(after)};
	log_.sb.flags |= DLOG_SBF_MERGING | DLOG_SBF_MERGE_SAMPLES;
	log_.sb.merge_target_seq = up_to;
	update_superblock();

	// Copy the newest version <= up_to of every logged sector, by origin
	// address.
	std::vector<std::byte> buf;
	std::size_t copied = 0;
	for (const Extent &e : map.extents()) {
		for (std::uint64_t done = 0; done < e.length;) {
			const std::uint64_t n = std::min(e.length - done, copy_chunk_sectors);
			buf.resize(n << DLOG_SECTOR_SHIFT);
			if (e.source == Source::data)
				read_data(delta_, log_.sb, e.data_pos + done, buf);
			else
				std::fill(buf.begin(), buf.end(), std::byte{0});
			origin.write(e.start + done, buf);
			done += n;
		}
		copied++;
		if (hooks.after_copy)
			hooks.after_copy(copied);
	}
	origin.flush();

	// Free the log up to it.
	std::uint64_t tail = log_.head;
	for (const LogBlock &lb : log_.blocks) {
		if (lb.index >= log_.head)
			break;
		bool newer = false;
		for (std::size_t i = 0; i < lb.nr_records; i++)
			newer |= log_.records[lb.first_record + i].rec.seq > up_to;
		if (newer) {
			tail = lb.index;
			break;
		}
	}
	log_.sb.merged_seq = up_to;
	log_.sb.meta_tail = tail;
	log_.sb.origin_fingerprint = origin_fingerprint(origin);
	log_.sb.flags &= ~(DLOG_SBF_MERGING | DLOG_SBF_MERGE_SAMPLES);
	log_.sb.merge_samples = {};
	log_.sb.merge_target_seq = 0;
	update_superblock();
	refresh();
}

void Writer::resume_merge(Device &origin)
{
	if (log_.sb.merging())
		merge(origin, log_.sb.merge_target_seq);
}

void Writer::stop()
{
	if (log_.cut && log_.cut_block + 1 < log_.tail() + log_.sb.meta_blocks)
		activate();	// writes the ROLLBACK of 6.6
	sync();
	log_.sb.clean_seq = log_.cut ? log_.cut_to_seq : log_.newest_seq();
	update_superblock();
	active_ = false;
}

} // namespace deltalog
