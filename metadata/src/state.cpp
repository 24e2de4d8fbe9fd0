#include "deltalog/state.hpp"

#include "deltalog/errors.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace deltalog {
namespace {

constexpr std::uint64_t image_chunk_sectors = 2048;

} // namespace

const char *source_name(Source source)
{
	switch (source) {
	case Source::origin:
		return "origin";
	case Source::data:
		return "data";
	case Source::zero:
		return "zero";
	}
	return "?";
}

void ExtentMap::apply(const Record &rec)
{
	if (!rec.is_io() || !rec.nr_sectors)
		return;
	const std::uint64_t start = rec.origin_sector;
	const std::uint64_t end = rec.origin_end();
	auto shift = [](Piece p, std::uint64_t by) {
		if (p.source == Source::data)
			p.data_pos += by;
		return p;
	};

	auto it = pieces_.lower_bound(start);
	if (it != pieces_.begin()) {
		auto prev = std::prev(it);
		if (prev->second.end > start) {
			// Split the piece that straddles start.
			Piece right = shift(prev->second, start - prev->first);
			prev->second.end = start;
			it = pieces_.emplace_hint(it, start, right);
		}
	}
	while (it != pieces_.end() && it->first < end) {
		if (it->second.end > end) {
			Piece tail = shift(it->second, end - it->first);
			pieces_.emplace(end, tail);
		}
		it = pieces_.erase(it);
	}
	pieces_.emplace(start, Piece{end,
				     rec.kind == RecordKind::write ? Source::data : Source::zero,
				     rec.kind == RecordKind::write ? rec.data_pos : 0, rec.seq});
}

std::vector<Extent> ExtentMap::extents() const
{
	std::vector<Extent> v;
	v.reserve(pieces_.size());
	for (const auto &[start, p] : pieces_)
		v.push_back({start, p.end - start, p.source, p.data_pos, p.seq});
	return v;
}

std::vector<Extent> ExtentMap::lookup(std::uint64_t start, std::uint64_t length) const
{
	std::vector<Extent> v;
	const std::uint64_t end = start + length;
	std::uint64_t pos = start;

	auto it = pieces_.upper_bound(start);
	if (it != pieces_.begin() && std::prev(it)->second.end > start)
		--it;
	for (; it != pieces_.end() && it->first < end && pos < end; ++it) {
		const Piece &p = it->second;
		if (it->first > pos) {
			v.push_back({pos, it->first - pos, Source::origin, 0, 0});
			pos = it->first;
		}
		const std::uint64_t stop = std::min(p.end, end);
		Extent e{pos, stop - pos, p.source, p.data_pos, p.seq};
		if (p.source == Source::data)
			e.data_pos += pos - it->first;
		v.push_back(e);
		pos = stop;
	}
	if (pos < end)
		v.push_back({pos, end - pos, Source::origin, 0, 0});
	return v;
}

ExtentMap state_at(const LogState &log, std::uint64_t seq)
{
	if (seq < log.sb.merged_seq)
		throw ResolveError(ResolveError::Reason::before_oldest,
				   fmt::format("seq {} is before merged_seq {}: that state was "
					       "merged into the origin",
					       seq, log.sb.merged_seq));
	ExtentMap map;
	for (const LogRecord &r : log.records)
		if (r.status == RecordStatus::live && r.rec.seq <= seq)
			map.apply(r.rec);
	return map;
}

void read_image(const LogState &log, const ExtentMap &map, const Device &delta,
		const Device &origin, std::uint64_t sector, std::span<std::byte> out)
{
	const std::uint64_t n = out.size() >> DLOG_SECTOR_SHIFT;
	for (const Extent &e : map.lookup(sector, n)) {
		auto part = out.subspan((e.start - sector) << DLOG_SECTOR_SHIFT,
					e.length << DLOG_SECTOR_SHIFT);
		switch (e.source) {
		case Source::origin:
			origin.read(e.start, part);
			break;
		case Source::data:
			read_data(delta, log.sb, e.data_pos, part);
			break;
		case Source::zero:
			std::fill(part.begin(), part.end(), std::byte{0});
			break;
		}
	}
}

void write_image(const LogState &log, const ExtentMap &map, const Device &delta,
		 const Device &origin,
		 const std::function<void(std::span<const std::byte>)> &sink)
{
	const std::uint64_t total = log.sb.origin_sectors;
	std::vector<std::byte> buf(std::min(total, image_chunk_sectors) << DLOG_SECTOR_SHIFT);
	for (std::uint64_t s = 0; s < total;) {
		const std::uint64_t n = std::min(total - s, image_chunk_sectors);
		auto chunk = std::span(buf).first(n << DLOG_SECTOR_SHIFT);
		read_image(log, map, delta, origin, s, chunk);
		sink(chunk);
		s += n;
	}
}

} // namespace deltalog
