#include "helpers.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <random>
#include <stdexcept>
#include <unistd.h>

#include <fmt/format.h>

namespace dlt {

using deltalog::Device;

TempDir::TempDir()
{
	std::filesystem::path base = "/dev/shm";
	if (access(base.c_str(), W_OK) != 0) {
		const char *tmp = std::getenv("TMPDIR");
		base = tmp ? tmp : "/tmp";
	}
	std::string templ = (base / "dlog-test-XXXXXX").string();
	if (!mkdtemp(templ.data()))
		throw std::runtime_error("mkdtemp failed");
	dir_ = templ;
}

TempDir::~TempDir()
{
	std::error_code ec;
	std::filesystem::remove_all(dir_, ec);
}

std::string TempDir::path(const std::string &name) const
{
	return (dir_ / name).string();
}

void create_file(const std::string &path, std::uint64_t sectors)
{
	deltalog::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
	if (!fd || ftruncate(fd.get(), static_cast<off_t>(sectors * 512)))
		throw std::runtime_error("cannot create " + path);
}

Bytes pattern(std::size_t len, std::uint32_t seed)
{
	Bytes b(len);
	std::mt19937 rng(seed);
	for (auto &x : b)
		x = static_cast<std::byte>(rng());
	return b;
}

Bytes sector_bytes(std::uint64_t sectors, std::uint8_t value)
{
	return Bytes(sectors * 512, static_cast<std::byte>(value));
}

void create_random_file(const std::string &path, std::uint64_t sectors, std::uint32_t seed)
{
	write_file(path, pattern(sectors * 512, seed));
}

void write_file(const std::string &path, std::span<const std::byte> bytes)
{
	deltalog::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
	if (!fd || ::write(fd.get(), bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
		throw std::runtime_error("cannot write " + path);
}

Bytes read_file(const std::string &path)
{
	std::error_code ec;
	auto size = std::filesystem::file_size(path);
	return read_at(path, 0, size);
}

Bytes read_at(const std::string &path, std::uint64_t offset, std::size_t len)
{
	deltalog::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	Bytes b(len);
	if (!fd || ::pread(fd.get(), b.data(), len, static_cast<off_t>(offset)) != static_cast<ssize_t>(len))
		throw std::runtime_error("cannot read " + path);
	return b;
}

void write_at(const std::string &path, std::uint64_t offset, std::span<const std::byte> bytes)
{
	deltalog::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
	if (!fd || ::pwrite(fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(offset)) !=
			   static_cast<ssize_t>(bytes.size()))
		throw std::runtime_error("cannot write " + path);
}

void flip_bit(const std::string &path, std::uint64_t offset, unsigned bit)
{
	Bytes b = read_at(path, offset, 1);
	b[0] ^= static_cast<std::byte>(1u << bit);
	write_at(path, offset, b);
}

Device open_rw(const std::string &path)
{
	return Device::open(path, Device::Access::read_write);
}

Device open_ro(const std::string &path)
{
	return Device::open(path, Device::Access::read_only);
}

dlog_layout small_layout(std::uint64_t meta_blocks, std::uint32_t block_size,
			 std::uint64_t data_sectors)
{
	dlog_layout l;
	l.meta_start = DLOG_META_START;
	l.meta_blocks = meta_blocks;
	l.data_start = (l.meta_start + meta_blocks * (block_size / 512) + 7) & ~7ull;
	l.data_sectors = data_sectors;
	return l;
}

std::uint64_t layout_end(const dlog_layout &l)
{
	return l.data_start + l.data_sectors;
}

Pair make_pair(const TempDir &dir, const PairOptions &po)
{
	const dlog_layout layout = small_layout(po.meta_blocks, po.block_size, po.data_sectors);
	Pair p;
	p.delta = dir.path("delta");
	p.origin = dir.path("origin");
	create_file(p.delta, layout_end(layout));
	create_random_file(p.origin, po.origin_sectors, 1234);
	Device delta = open_rw(p.delta);
	Device origin = open_ro(p.origin);
	deltalog::FormatOptions opts;
	opts.layout = layout;
	opts.meta_block_size = po.block_size;
	opts.uuid = test_uuid;
	opts.time_ns = 1'000'000'000;
	opts.origin_lbs = po.origin_lbs;
	p.sb = deltalog::format_delta(delta, origin, opts);
	return p;
}

} // namespace dlt

#include "deltalog/state.hpp"

namespace dlt {

Env::Env(const PairOptions &opts)
	: pair(make_pair(dir, opts)), delta(open_rw(pair.delta)), origin(open_rw(pair.origin))
{
	reopen();
}

void Env::reopen()
{
	writer.reset();
	writer = std::make_unique<deltalog::Writer>(delta, clock.fn());
}

deltalog::LogState Env::recover() const
{
	return deltalog::recover(open_ro(pair.delta));
}

Bytes Env::image(std::uint64_t seq) const
{
	deltalog::Device d = open_ro(pair.delta);
	deltalog::Device o = open_ro(pair.origin);
	deltalog::LogState log = deltalog::recover(d);
	deltalog::ExtentMap map = deltalog::state_at(log, seq);
	Bytes out;
	deltalog::write_image(log, map, d, o, [&](std::span<const std::byte> c) {
		out.insert(out.end(), c.begin(), c.end());
	});
	return out;
}

std::uint64_t Env::block_offset(std::uint64_t index) const
{
	return pair.sb.block_sector(index) * 512;
}

Bytes Env::block_bytes(std::uint64_t index) const
{
	return read_at(pair.delta, block_offset(index), pair.sb.meta_block_size);
}

std::uint64_t Env::data_offset(std::uint64_t pos) const
{
	return pair.sb.data_sector(pos) * 512;
}

} // namespace dlt
