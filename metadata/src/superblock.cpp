#include "deltalog/superblock.hpp"

#include "deltalog/crc32c.hpp"
#include "deltalog/errors.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <endian.h>
#include <sys/random.h>

#include <fmt/format.h>

namespace deltalog {
namespace {

std::uint32_t sb_csum(std::span<const std::byte, DLOG_SB_SIZE> bytes)
{
	return crc32c(bytes.subspan(sizeof(std::uint32_t)));
}

bool power_of_two(std::uint64_t v)
{
	return v && !(v & (v - 1));
}

} // namespace

std::string uuid_string(const Uuid &u)
{
	return fmt::format("{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
			   "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
			   u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
			   u[11], u[12], u[13], u[14], u[15]);
}

Uuid random_uuid()
{
	Uuid u;
	std::size_t got = 0;
	while (got < u.size()) {
		ssize_t r = getrandom(u.data() + got, u.size() - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			throw IoError("getrandom failed", errno);
		}
		got += static_cast<std::size_t>(r);
	}
	u[6] = static_cast<std::uint8_t>((u[6] & 0x0f) | 0x40);
	u[8] = static_cast<std::uint8_t>((u[8] & 0x3f) | 0x80);
	return u;
}

std::uint64_t realtime_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u +
	       static_cast<std::uint64_t>(ts.tv_nsec);
}

char copy_name(unsigned copy)
{
	return copy ? 'B' : 'A';
}

SuperblockBytes pack_superblock(const Superblock &sb, unsigned copy)
{
	struct dlog_superblock d;
	std::memset(&d, 0, sizeof(d));

	d.magic = htole32(DLOG_SB_MAGIC);
	d.blocknr = htole64(copy);
	d.version = htole32(DLOG_VERSION);
	d.flags = htole32(sb.flags);
	d.generation = htole64(sb.generation);
	std::memcpy(d.uuid, sb.uuid.data(), sizeof(d.uuid));
	d.format_time_ns = htole64(sb.format_time_ns);

	d.delta_sectors = htole64(sb.delta_sectors);
	d.meta_block_size = htole32(sb.meta_block_size);
	d.meta_start = htole64(sb.meta_start);
	d.meta_blocks = htole64(sb.meta_blocks);
	d.data_start = htole64(sb.data_start);
	d.data_sectors = htole64(sb.data_sectors);

	d.origin_sectors = htole64(sb.origin_sectors);
	d.origin_lbs = htole32(sb.origin_lbs);
	d.origin_fingerprint = htole32(sb.origin_fingerprint);
	if (sb.origin_fs_uuid.size() > DLOG_FS_UUID_LEN)
		throw std::invalid_argument(
			fmt::format("filesystem UUID '{}' longer than {} bytes",
				    sb.origin_fs_uuid, DLOG_FS_UUID_LEN));
	std::memcpy(d.origin_fs_uuid, sb.origin_fs_uuid.data(), sb.origin_fs_uuid.size());

	d.next_seq = htole64(sb.next_seq);
	d.merged_seq = htole64(sb.merged_seq);
	d.meta_tail = htole64(sb.meta_tail);
	d.time_floor_ns = htole64(sb.time_floor_ns);
	d.clean_seq = htole64(sb.clean_seq);
	d.merge_target_seq = htole64(sb.merge_target_seq);
	if (sb.has_merge_samples())
		for (unsigned w = 0; w < 2; w++)
			for (unsigned i = 0; i < DLOG_FP_SECTORS; i++)
				d.merge_samples[w][i] = htole32(sb.merge_samples[w][i]);

	SuperblockBytes bytes;
	std::memcpy(bytes.data(), &d, sizeof(d));
	std::uint32_t csum = htole32(sb_csum(bytes));
	std::memcpy(bytes.data(), &csum, sizeof(csum));
	return bytes;
}

Superblock unpack_superblock(std::span<const std::byte, DLOG_SB_SIZE> bytes)
{
	struct dlog_superblock d;
	std::memcpy(&d, bytes.data(), sizeof(d));

	Superblock sb;
	sb.flags = le32toh(d.flags);
	sb.generation = le64toh(d.generation);
	std::memcpy(sb.uuid.data(), d.uuid, sizeof(d.uuid));
	sb.format_time_ns = le64toh(d.format_time_ns);

	sb.delta_sectors = le64toh(d.delta_sectors);
	sb.meta_block_size = le32toh(d.meta_block_size);
	sb.meta_start = le64toh(d.meta_start);
	sb.meta_blocks = le64toh(d.meta_blocks);
	sb.data_start = le64toh(d.data_start);
	sb.data_sectors = le64toh(d.data_sectors);

	sb.origin_sectors = le64toh(d.origin_sectors);
	sb.origin_lbs = le32toh(d.origin_lbs);
	sb.origin_fingerprint = le32toh(d.origin_fingerprint);
	sb.origin_fs_uuid.assign(d.origin_fs_uuid,
				 strnlen(d.origin_fs_uuid, sizeof(d.origin_fs_uuid)));

	sb.next_seq = le64toh(d.next_seq);
	sb.merged_seq = le64toh(d.merged_seq);
	sb.meta_tail = le64toh(d.meta_tail);
	sb.time_floor_ns = le64toh(d.time_floor_ns);
	sb.clean_seq = le64toh(d.clean_seq);
	sb.merge_target_seq = le64toh(d.merge_target_seq);
	for (unsigned w = 0; w < 2; w++)
		for (unsigned i = 0; i < DLOG_FP_SECTORS; i++)
			sb.merge_samples[w][i] = le32toh(d.merge_samples[w][i]);
	return sb;
}

std::vector<std::string> superblock_field_problems(const Superblock &sb)
{
	std::vector<std::string> p;
	const std::uint32_t mbs = sb.meta_block_size;
	const std::uint64_t delta = sb.delta_sectors;
	bool geometry_ok = true;

	if (sb.flags & ~DLOG_SBF_ALL)
		p.push_back(fmt::format("unknown flags {:#x}", sb.flags & ~DLOG_SBF_ALL));
	if (sb.has_merge_samples() && !sb.merging())
		p.push_back("MERGE_SAMPLES flag without MERGING");

	if (mbs < DLOG_MIN_META_BLOCK || mbs > DLOG_MAX_META_BLOCK || !power_of_two(mbs)) {
		p.push_back(fmt::format("meta_block_size {} is not a power of two in {}..{}", mbs,
					DLOG_MIN_META_BLOCK, DLOG_MAX_META_BLOCK));
		geometry_ok = false;
	}
	if (sb.meta_start < DLOG_META_START) {
		p.push_back(fmt::format("meta_start {} overlaps the superblocks (below {})",
					sb.meta_start, DLOG_META_START));
		geometry_ok = false;
	}
	if (sb.meta_blocks < 8) {
		p.push_back(fmt::format("meta_blocks {} is below 8", sb.meta_blocks));
		geometry_ok = false;
	}
	if (sb.data_start % 8 || sb.data_sectors % 8) {
		p.push_back(fmt::format("data ring {}+{} is not 4 KiB aligned", sb.data_start,
					sb.data_sectors));
		geometry_ok = false;
	}
	if (sb.data_sectors < DLOG_MIN_DATA_SECTORS) {
		p.push_back(fmt::format("data_sectors {} is below {}", sb.data_sectors,
					DLOG_MIN_DATA_SECTORS));
		geometry_ok = false;
	}
	if (sb.data_start < DLOG_META_START) {
		p.push_back(fmt::format("data_start {} overlaps the superblocks", sb.data_start));
		geometry_ok = false;
	}
	if (geometry_ok) {
		const std::uint64_t bs = mbs >> DLOG_SECTOR_SHIFT;
		bool fits = true;
		if (sb.meta_start > delta || sb.meta_blocks > (delta - sb.meta_start) / bs) {
			p.push_back(fmt::format("metadata ring {}+{} blocks of {} bytes exceeds the "
						"delta ({} sectors)",
						sb.meta_start, sb.meta_blocks, mbs, delta));
			fits = false;
		}
		if (sb.data_start > delta || sb.data_sectors > delta - sb.data_start) {
			p.push_back(fmt::format("data ring {}+{} exceeds the delta ({} sectors)",
						sb.data_start, sb.data_sectors, delta));
			fits = false;
		}
		if (fits) {
			std::uint64_t meta_end = sb.meta_start + sb.meta_blocks * bs;
			std::uint64_t data_end = sb.data_start + sb.data_sectors;
			if (sb.data_start < meta_end && sb.meta_start < data_end)
				p.push_back(fmt::format("metadata ring {}..{} and data ring {}..{} "
							"overlap",
							sb.meta_start, meta_end, sb.data_start,
							data_end));
		}
	}

	if (sb.origin_sectors < DLOG_MIN_ORIGIN_SECTORS)
		p.push_back(fmt::format("origin_sectors {} is below {}", sb.origin_sectors,
					DLOG_MIN_ORIGIN_SECTORS));
	if (sb.origin_lbs != 512 && sb.origin_lbs != 4096)
		p.push_back(fmt::format("origin_lbs {} is not 512 or 4096", sb.origin_lbs));
	if (sb.meta_tail >= position_limit)
		p.push_back(fmt::format("meta_tail {} is not below 2^63", sb.meta_tail));
	if (sb.next_seq > position_limit)
		p.push_back(fmt::format("next_seq {} is above 2^63", sb.next_seq));
	if (sb.next_seq <= sb.merged_seq)
		p.push_back(fmt::format("next_seq {} is not above merged_seq {}", sb.next_seq,
					sb.merged_seq));
	if (sb.merging() != (sb.merge_target_seq != 0))
		p.push_back(fmt::format("MERGING flag {} but merge_target_seq {}",
					sb.merging() ? "set" : "clear", sb.merge_target_seq));
	if (sb.merge_target_seq && sb.merge_target_seq <= sb.merged_seq)
		p.push_back(fmt::format("merge_target_seq {} is not above merged_seq {}",
					sb.merge_target_seq, sb.merged_seq));
	return p;
}

std::vector<std::string> superblock_problems(std::span<const std::byte, DLOG_SB_SIZE> bytes,
					     unsigned copy)
{
	struct dlog_superblock d;
	std::memcpy(&d, bytes.data(), sizeof(d));

	if (std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; }))
		return {"all zeros"};
	if (le32toh(d.magic) != DLOG_SB_MAGIC)
		return {fmt::format("bad magic {:#010x} (not a deltalog superblock)",
				    le32toh(d.magic))};
	std::uint32_t stored = le32toh(d.csum), computed = sb_csum(bytes);
	if (stored != computed)
		return {fmt::format("checksum mismatch (stored {:#010x}, computed {:#010x})",
				    stored, computed)};

	std::vector<std::string> p;
	if (le64toh(d.blocknr) != copy)
		p.push_back(fmt::format("blocknr {} in copy {} (misdirected write)",
					le64toh(d.blocknr), copy_name(copy)));
	if (le32toh(d.version) != DLOG_VERSION)
		p.push_back(fmt::format("unsupported format version {} (this reader knows {})",
					le32toh(d.version), DLOG_VERSION));
	auto fields = superblock_field_problems(unpack_superblock(bytes));
	p.insert(p.end(), fields.begin(), fields.end());
	return p;
}

SuperblockChoice choose_superblock(std::span<const std::byte, 2 * DLOG_SB_SIZE> bytes)
{
	SuperblockChoice c;
	for (unsigned i = 0; i < DLOG_SB_COPIES; i++) {
		auto copy = bytes.subspan(i * DLOG_SB_SIZE).first<DLOG_SB_SIZE>();
		c.problems[i] = superblock_problems(copy, i);
		c.all_zero[i] = std::all_of(copy.begin(), copy.end(),
					    [](std::byte b) { return b == std::byte{0}; });
		c.generation[i] = unpack_superblock(copy).generation;
	}

	if (!c.valid(0) && !c.valid(1)) {
		if (c.all_zero[0])
			throw UnformattedError("delta is not formatted (superblock copy A is all "
					       "zeros, copy B is not valid)");
		throw SuperblockError(c.problems[0].front(), c.problems[1].front());
	}
	if (!c.valid(0))
		c.copy = 1;
	else if (!c.valid(1))
		c.copy = 0;
	else
		c.copy = c.generation[1] > c.generation[0] ? 1 : 0;
	c.sb = unpack_superblock(bytes.subspan(c.copy * DLOG_SB_SIZE).first<DLOG_SB_SIZE>());
	return c;
}

SuperblockChoice read_superblock(const Device &delta)
{
	std::array<std::byte, 2 * DLOG_SB_SIZE> bytes;
	if (delta.sectors() < 2 * DLOG_SB_SECTORS)
		throw GeometryError(fmt::format("{}: {} sectors, too small to hold a superblock",
						delta.name(), delta.sectors()));
	delta.read(0, bytes);
	return choose_superblock(bytes);
}

void write_superblock(Device &delta, Superblock &sb, unsigned &copy)
{
	unsigned target = copy ^ 1u;
	sb.generation++;
	SuperblockBytes bytes = pack_superblock(sb, target);
	delta.write(superblock_sector(target), bytes);
	delta.flush();
	copy = target;
}

std::vector<std::byte> origin_samples(const Device &origin)
{
	if (origin.sectors() < DLOG_MIN_ORIGIN_SECTORS)
		throw GeometryError(fmt::format("{}: origin of {} sectors is below the minimum of {}",
						origin.name(), origin.sectors(),
						DLOG_MIN_ORIGIN_SECTORS));
	std::vector<std::byte> buf(DLOG_FP_SAMPLES * DLOG_FP_SAMPLE_SIZE);
	for (std::uint32_t i = 0; i < DLOG_FP_SAMPLES; i++)
		origin.read(dlog_fp_sample_sector(origin.sectors(), i),
			    std::span(buf).subspan(i * DLOG_FP_SAMPLE_SIZE, DLOG_FP_SAMPLE_SIZE));
	return buf;
}

std::array<std::uint32_t, DLOG_FP_SECTORS> sample_sector_csums(std::span<const std::byte> samples)
{
	std::array<std::uint32_t, DLOG_FP_SECTORS> c{};
	for (unsigned i = 0; i < DLOG_FP_SECTORS; i++)
		c[i] = crc32c(samples.subspan(i * DLOG_SECTOR_SIZE, DLOG_SECTOR_SIZE));
	return c;
}

std::uint32_t origin_fingerprint(const Device &origin)
{
	return crc32c(origin_samples(origin));
}

void check_origin(const Superblock &sb, const Device &origin)
{
	if (origin.sectors() != sb.origin_sectors)
		throw OriginMismatchError(fmt::format(
			"{}: origin has {} sectors, the delta was made for one of {} sectors",
			origin.name(), origin.sectors(), sb.origin_sectors));
	if (origin.is_block_device() && origin.logical_block_size() != sb.origin_lbs)
		throw OriginMismatchError(fmt::format(
			"{}: origin has {}-byte logical blocks, the delta was made for {}",
			origin.name(), origin.logical_block_size(), sb.origin_lbs));
	if (sb.merging()) {
		if (!sb.has_merge_samples())
			return;
		const auto now = sample_sector_csums(origin_samples(origin));
		for (unsigned i = 0; i < DLOG_FP_SECTORS; i++)
			if (now[i] != sb.merge_samples[0][i] && now[i] != sb.merge_samples[1][i])
				throw OriginMismatchError(fmt::format(
					"{}: origin sector {} is neither as it was before the interrupted merge "
					"up to seq {} nor as the merge writes it (another origin?)",
					origin.name(),
					dlog_fp_sample_sector(origin.sectors(), i / DLOG_FP_SAMPLE_SECTORS) +
						i % DLOG_FP_SAMPLE_SECTORS,
					sb.merge_target_seq));
		return;
	}
	std::uint32_t fp = origin_fingerprint(origin);
	if (fp != sb.origin_fingerprint)
		throw OriginMismatchError(fmt::format(
			"{}: origin fingerprint {:#010x}, the delta was made for {:#010x} "
			"(another origin, or the origin was written)",
			origin.name(), fp, sb.origin_fingerprint));
}

void check_delta_fits(const Superblock &sb, const Device &delta)
{
	if (delta.sectors() < sb.delta_sectors)
		throw GeometryError(fmt::format("{}: delta has {} sectors, it was formatted with {}",
						delta.name(), delta.sectors(), sb.delta_sectors));
	if (delta.logical_block_size() > sb.meta_block_size)
		throw GeometryError(fmt::format(
			"{}: delta has {}-byte logical blocks, its metadata blocks are {} bytes",
			delta.name(), delta.logical_block_size(), sb.meta_block_size));
}

Superblock format_delta(Device &delta, const Device &origin, const FormatOptions &opts)
{
	std::uint32_t mbs = opts.meta_block_size;
	if (!mbs)
		mbs = std::clamp(std::max(delta.logical_block_size(), delta.physical_block_size()),
				 DLOG_MIN_META_BLOCK, DLOG_MAX_META_BLOCK);
	if (mbs < delta.logical_block_size())
		throw GeometryError(fmt::format("{}: metadata block size {} is below the delta's "
						"logical block size {}",
						delta.name(), mbs, delta.logical_block_size()));

	dlog_layout layout;
	if (opts.layout) {
		layout = *opts.layout;
	} else if (dlog_default_layout(delta.sectors(), mbs, &layout)) {
		throw GeometryError(fmt::format("{}: delta of {} sectors is too small to format "
						"(at least {})",
						delta.name(), delta.sectors(),
						DLOG_MIN_DELTA_SECTORS));
	}

	Superblock sb;
	sb.uuid = opts.uuid ? *opts.uuid : random_uuid();
	sb.format_time_ns = opts.time_ns ? *opts.time_ns : realtime_ns();
	sb.delta_sectors = delta.sectors();
	sb.meta_block_size = mbs;
	sb.meta_start = layout.meta_start;
	sb.meta_blocks = layout.meta_blocks;
	sb.data_start = layout.data_start;
	sb.data_sectors = layout.data_sectors;
	sb.origin_sectors = origin.sectors();
	sb.origin_lbs = opts.origin_lbs ? opts.origin_lbs : origin.logical_block_size();
	sb.origin_fs_uuid = opts.origin_fs_uuid;
	sb.next_seq = 1;
	sb.time_floor_ns = sb.format_time_ns;
	if (sb.origin_fs_uuid.size() > DLOG_FS_UUID_LEN)
		throw std::invalid_argument("filesystem UUID too long");

	auto problems = superblock_field_problems(sb);
	if (!problems.empty())
		throw GeometryError(fmt::format("{}: cannot format: {}", delta.name(),
						fmt::join(problems, "; ")));
	if (sb.origin_sectors % (sb.origin_lbs >> DLOG_SECTOR_SHIFT))
		throw GeometryError(fmt::format("{}: origin size {} is not a multiple of its "
						"{}-byte logical block",
						origin.name(), sb.origin_sectors, sb.origin_lbs));
	sb.origin_fingerprint = origin_fingerprint(origin);

	sb.generation = 1;
	delta.write(superblock_sector(0), pack_superblock(sb, 0));
	delta.flush();
	sb.generation = 2;
	delta.write(superblock_sector(1), pack_superblock(sb, 1));
	delta.flush();
	return sb;
}

} // namespace deltalog
