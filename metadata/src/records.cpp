#include "deltalog/records.hpp"

#include <algorithm>
#include <cstring>
#include <endian.h>
#include <stdexcept>

#include <fmt/format.h>

namespace deltalog {
namespace {

bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '-';
}

template <typename T> bool all_zero(const T &bytes)
{
	return std::all_of(std::begin(bytes), std::end(bytes), [](auto b) { return b == 0; });
}

std::optional<std::string> check_extent(const Record &r, const RecordLimits &l)
{
	const std::uint64_t lbs_sectors = l.origin_lbs >> DLOG_SECTOR_SHIFT;

	if (!r.nr_sectors)
		return "empty extent";
	if (r.origin_sector > l.origin_sectors || r.nr_sectors > l.origin_sectors - r.origin_sector)
		return fmt::format("extent {}+{} past the end of the origin ({} sectors)",
				   r.origin_sector, r.nr_sectors, l.origin_sectors);
	if (lbs_sectors > 1 && ((r.origin_sector | r.nr_sectors) & (lbs_sectors - 1)))
		return fmt::format("extent {}+{} not aligned to the origin's {}-byte blocks",
				   r.origin_sector, r.nr_sectors, l.origin_lbs);
	if (r.kind == RecordKind::write && r.data_pos >= (std::uint64_t{1} << 63))
		return fmt::format("data position {} is not below 2^63", r.data_pos);
	if (r.kind == RecordKind::write && r.nr_sectors > l.data_sectors)
		return fmt::format("extent of {} sectors larger than the data ring ({})",
				   r.nr_sectors, l.data_sectors);
	return std::nullopt;
}

} // namespace

const char *kind_name(RecordKind kind)
{
	switch (kind) {
	case RecordKind::write:
		return "WRITE";
	case RecordKind::zero:
		return "ZERO";
	case RecordKind::mark:
		return "MARK";
	case RecordKind::rollback:
		return "ROLLBACK";
	}
	return "UNKNOWN";
}

Record Record::write(std::uint64_t seq, std::uint64_t time_ns, std::uint64_t origin_sector,
		     std::uint32_t nr_sectors, std::uint64_t data_pos,
		     std::optional<std::uint32_t> data_csum)
{
	Record r;
	r.seq = seq;
	r.time_ns = time_ns;
	r.kind = RecordKind::write;
	r.flags = data_csum ? DLOG_RF_DATA_CSUM : 0;
	r.origin_sector = origin_sector;
	r.nr_sectors = nr_sectors;
	r.data_pos = data_pos;
	r.data_csum = data_csum.value_or(0);
	return r;
}

Record Record::zero(std::uint64_t seq, std::uint64_t time_ns, std::uint64_t origin_sector,
		    std::uint32_t nr_sectors, bool discard)
{
	Record r;
	r.seq = seq;
	r.time_ns = time_ns;
	r.kind = RecordKind::zero;
	r.flags = discard ? DLOG_RF_DISCARD : 0;
	r.origin_sector = origin_sector;
	r.nr_sectors = nr_sectors;
	return r;
}

Record Record::mark(std::uint64_t seq, std::uint64_t time_ns, std::string label)
{
	Record r;
	r.seq = seq;
	r.time_ns = time_ns;
	r.kind = RecordKind::mark;
	r.label = std::move(label);
	return r;
}

Record Record::rollback(std::uint64_t seq, std::uint64_t time_ns, std::uint64_t to_seq)
{
	Record r;
	r.seq = seq;
	r.time_ns = time_ns;
	r.kind = RecordKind::rollback;
	r.to_seq = to_seq;
	return r;
}

bool valid_label(std::string_view label)
{
	return !label.empty() && label.size() <= DLOG_LABEL_MAX &&
	       std::all_of(label.begin(), label.end(), label_char);
}

void pack_record(const Record &r, std::span<std::byte> out)
{
	if (out.size() < r.slots() * DLOG_SLOT_SIZE)
		throw std::invalid_argument("record does not fit");
	std::fill(out.begin(), out.begin() + r.slots() * DLOG_SLOT_SIZE, std::byte{0});

	switch (r.kind) {
	case RecordKind::write:
	case RecordKind::zero: {
		struct dlog_io_record d;
		std::memset(&d, 0, sizeof(d));
		d.seq = htole64(r.seq);
		d.time_ns = htole64(r.time_ns);
		d.kind = htole16(static_cast<std::uint16_t>(r.kind));
		d.flags = htole16(r.flags);
		d.nr_sectors = htole32(r.nr_sectors);
		d.origin_sector = htole64(r.origin_sector);
		d.data_pos = htole64(r.data_pos);
		d.data_csum = htole32(r.data_csum);
		std::memcpy(out.data(), &d, sizeof(d));
		break;
	}
	case RecordKind::mark: {
		if (!valid_label(r.label))
			throw std::invalid_argument(fmt::format("invalid mark label '{}'", r.label));
		struct dlog_mark_record d;
		std::memset(&d, 0, sizeof(d));
		d.seq = htole64(r.seq);
		d.time_ns = htole64(r.time_ns);
		d.kind = htole16(DLOG_REC_MARK);
		d.flags = htole16(r.flags);
		d.label_len = htole32(static_cast<std::uint32_t>(r.label.size()));
		std::memcpy(d.label, r.label.data(), r.label.size());
		std::memcpy(out.data(), &d, sizeof(d));
		break;
	}
	case RecordKind::rollback: {
		struct dlog_rollback_record d;
		std::memset(&d, 0, sizeof(d));
		d.seq = htole64(r.seq);
		d.time_ns = htole64(r.time_ns);
		d.kind = htole16(DLOG_REC_ROLLBACK);
		d.flags = htole16(r.flags);
		d.to_seq = htole64(r.to_seq);
		std::memcpy(out.data(), &d, sizeof(d));
		break;
	}
	}
}

UnpackedRecord unpack_record(std::span<const std::byte> from, unsigned slot_nr,
			     unsigned nr_slots, const RecordLimits &limits)
{
	UnpackedRecord u;
	Record &r = u.rec;
	struct dlog_record_head head;

	std::memcpy(&head, from.data(), sizeof(head));
	r.seq = le64toh(head.seq);
	r.time_ns = le64toh(head.time_ns);
	const std::uint16_t kind = le16toh(head.kind);
	r.flags = le16toh(head.flags);

	auto fail = [&](std::string why) {
		u.problem = std::move(why);
		return u;
	};

	switch (kind) {
	case DLOG_REC_WRITE:
	case DLOG_REC_ZERO: {
		struct dlog_io_record d;
		std::memcpy(&d, from.data(), sizeof(d));
		r.kind = static_cast<RecordKind>(kind);
		r.nr_sectors = le32toh(d.nr_sectors);
		r.origin_sector = le64toh(d.origin_sector);
		r.data_pos = le64toh(d.data_pos);
		r.data_csum = le32toh(d.data_csum);
		if (d.reserved)
			return fail("reserved bytes not zero");
		if (kind == DLOG_REC_WRITE && (r.flags & ~DLOG_RF_DATA_CSUM))
			return fail(fmt::format("unknown WRITE flags {:#x}", r.flags));
		if (kind == DLOG_REC_ZERO) {
			if (r.flags & ~DLOG_RF_DISCARD)
				return fail(fmt::format("unknown ZERO flags {:#x}", r.flags));
			if (r.data_pos || r.data_csum)
				return fail("ZERO record with a data position or checksum");
		}
		break;
	}
	case DLOG_REC_MARK: {
		r.kind = RecordKind::mark;
		u.slots = DLOG_MARK_SLOTS;
		if (slot_nr + DLOG_MARK_SLOTS > nr_slots)
			return fail("MARK record split across blocks");
		struct dlog_mark_record d;
		std::memcpy(&d, from.data(), sizeof(d));
		const std::uint32_t len = le32toh(d.label_len);
		if (r.flags)
			return fail(fmt::format("unknown MARK flags {:#x}", r.flags));
		if (len < 1 || len > DLOG_LABEL_MAX)
			return fail(fmt::format("MARK label length {} out of range 1..{}", len,
						DLOG_LABEL_MAX));
		for (std::uint32_t i = 0; i < sizeof(d.label); i++)
			if (i < len ? !label_char(d.label[i]) : d.label[i] != 0)
				return fail("MARK label not [A-Za-z0-9._:-] then NUL bytes");
		r.label.assign(d.label, len);
		if (!all_zero(d.reserved))
			return fail("reserved bytes not zero");
		break;
	}
	case DLOG_REC_ROLLBACK: {
		r.kind = RecordKind::rollback;
		struct dlog_rollback_record d;
		std::memcpy(&d, from.data(), sizeof(d));
		r.to_seq = le64toh(d.to_seq);
		if (slot_nr != 0)
			return fail("ROLLBACK record not first in its block");
		if (r.flags)
			return fail(fmt::format("unknown ROLLBACK flags {:#x}", r.flags));
		if (d.reserved0 || !all_zero(d.reserved))
			return fail("reserved bytes not zero");
		if (r.to_seq >= r.seq)
			return fail(fmt::format("ROLLBACK to seq {} not below its own seq {}", r.to_seq,
						r.seq));
		break;
	}
	default:
		return fail(fmt::format("unknown record kind {}", kind));
	}

	if (!r.seq)
		return fail("seq 0");
	if (r.seq >= (std::uint64_t{1} << 63))
		return fail(fmt::format("seq {} is not below 2^63", r.seq));
	if (r.is_io())
		if (auto why = check_extent(r, limits))
			return fail(*why);
	return u;
}

} // namespace deltalog
