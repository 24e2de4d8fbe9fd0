// libFuzzer target: the input is the beginning of a delta image (the rest is
// zeros, up to the size its superblock claims, capped). It is opened,
// recovered, checked, dumped and resolved against; none of it may crash,
// leak, hang, or hit undefined behaviour, and damage must surface only as
// deltalog::Error from recover() and as findings from check(). When the
// log recovers, a writer appends to it and the log must recover again with
// that record as its newest.
//
// Each input is tried twice: as it is, and "resealed" (superblock and
// metadata block checksums and the prev_csum chain recomputed), so that
// mutations get past the checksums and reach record validation, voiding,
// the data checksum cut and the writer.
#include "deltalog/check.hpp"
#include "deltalog/crc32c.hpp"
#include "deltalog/meta_block.hpp"
#include "deltalog/dump.hpp"
#include "deltalog/errors.hpp"
#include "deltalog/log.hpp"
#include "deltalog/resolve.hpp"
#include "deltalog/state.hpp"
#include "deltalog/writer.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <endian.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace deltalog;

namespace {

constexpr std::uint64_t max_image = 4u << 20;	// bytes

[[noreturn]] void die(const char *what)
{
	std::fprintf(stderr, "fuzz_log: %s\n", what);
	std::abort();
}

// A memfd holding the input, zero-extended to the larger delta_sectors of
// the two superblock copies when that is plausible.
Device image(const std::uint8_t *data, std::size_t size, Device::Access access)
{
	UniqueFd fd(memfd_create("delta", MFD_CLOEXEC));
	if (!fd)
		die("memfd_create");
	std::uint64_t want = std::max<std::uint64_t>((size + 511) & ~std::uint64_t{511}, 2 * DLOG_SB_SIZE);
	for (std::size_t off : {std::size_t{56}, std::size_t{DLOG_SB_SIZE + 56}}) {
		if (size >= off + 8) {
			std::uint64_t sectors;
			std::memcpy(&sectors, data + off, 8);
			sectors = le64toh(sectors);
			if (sectors <= max_image / DLOG_SECTOR_SIZE)
				want = std::max(want, sectors * DLOG_SECTOR_SIZE);
		}
	}
	if (ftruncate(fd.get(), static_cast<off_t>(want)) ||
	    (size && pwrite(fd.get(), data, size, 0) != static_cast<ssize_t>(size)))
		die("memfd write");
	return Device::adopt(std::move(fd), "fuzz", access);
}

void explore(const LogState &log)
{
	volatile std::size_t sink = 0;
	sink = sink + dump_text(log, "fuzz").size() + dump_json(log, "fuzz").size();
	const std::uint64_t newest = log.newest_seq();
	sink = sink + state_at(log, newest).size();
	if (newest > log.sb.merged_seq)
		sink = sink + state_at(log, log.sb.merged_seq + (newest - log.sb.merged_seq) / 2).size();
	for (const LogRecord &r : log.records) {
		try {
			sink = sink + resolve_time(log, r.rec.time_ns);
			if (r.rec.kind == RecordKind::mark)
				sink = sink + resolve_mark(log, r.rec.label);
		} catch (const ResolveError &) {
		}
	}
	try {
		sink = sink + resolve_seq(log, newest);
	} catch (const ResolveError &) {
		die("resolve_seq(newest) failed");
	}
}

void append_and_recover(const std::uint8_t *data, std::size_t size, const LogState &before)
{
	Device dev = image(data, size, Device::Access::read_write);
	const std::uint32_t n = before.sb.origin_lbs >> DLOG_SECTOR_SHIFT;
	std::uint64_t seq = 0;
	try {
		Writer w(dev, [] { return std::uint64_t{1}; });
		seq = w.append_zero(0, n);
	} catch (const Error &) {
		return;	// full, say
	}
	LogState after;
	try {
		after = recover(dev);
	} catch (const Error &e) {
		std::fprintf(stderr, "fuzz_log: the log no longer recovers after an append: %s\n",
			     e.what());
		std::abort();
	}
	if (after.newest_seq() != seq)
		die("the appended record is not the newest after recovery");
}

// Recomputes the checksums of the input: both superblock copies that have
// the right magic, then, from the current copy's meta_tail, every block with
// the right magic, chaining prev_csum. Returns false if nothing changed.
bool reseal(std::vector<std::uint8_t> &img)
{
	if (img.size() < 2 * DLOG_SB_SIZE)
		return false;
	const std::vector<std::uint8_t> before = img;
	for (std::size_t c = 0; c < 2; c++) {
		std::uint8_t *sb = img.data() + c * DLOG_SB_SIZE;
		std::uint32_t magic;
		std::memcpy(&magic, sb + 4, 4);
		if (le32toh(magic) != DLOG_SB_MAGIC)
			continue;
		const std::uint32_t csum = htole32(crc32c(sb + 4, DLOG_SB_SIZE - 4));
		std::memcpy(sb, &csum, 4);
	}
	Superblock sb;
	try {
		sb = choose_superblock(std::span<const std::byte, 2 * DLOG_SB_SIZE>(
					       reinterpret_cast<const std::byte *>(img.data()), 2 * DLOG_SB_SIZE))
			     .sb;
	} catch (const Error &) {
		return img != before;
	}
	std::optional<std::uint32_t> prev;
	for (std::uint64_t i = sb.meta_tail; i < sb.meta_tail + sb.meta_blocks; i++) {
		const std::uint64_t off = sb.block_sector(i) * DLOG_SECTOR_SIZE;
		if (off + sb.meta_block_size > img.size())
			break;
		std::span<std::byte> blk(reinterpret_cast<std::byte *>(img.data() + off),
					 sb.meta_block_size);
		BlockHeader h = unpack_block_header(blk);
		if (h.magic != DLOG_MB_MAGIC || h.index != i)
			break;
		if (prev) {
			const std::uint32_t p = htole32(*prev);
			std::memcpy(blk.data() + 16, &p, 4);
		}
		const std::uint32_t c = block_csum(blk, sb.uuid);
		const std::uint32_t le = htole32(c);
		std::memcpy(blk.data(), &le, 4);
		prev = c;
	}
	return img != before;
}

void one_image(const std::uint8_t *data, std::size_t size)
{
	Device dev = image(data, size, Device::Access::read_only);

	bool recovered = false;
	LogState log;
	try {
		log = recover(dev);
		recovered = true;
	} catch (const Error &) {
	}
	if (recovered)
		explore(log);

	CheckReport report = check(dev);
	volatile std::size_t sink = check_text(report, "fuzz").size() + check_json(report, "fuzz").size();
	(void)sink;
	if (recovered && report.log && report.log->live() != log.live())
		die("check and recover disagree about the live log");

	if (recovered)
		append_and_recover(data, size, log);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	if (size > max_image)
		return 0;
	one_image(data, size);
	std::vector<std::uint8_t> sealed(data, data + size);
	if (reseal(sealed))
		one_image(sealed.data(), sealed.size());
	return 0;
}
