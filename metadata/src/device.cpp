#include "deltalog/device.hpp"

#include "deltalog/errors.hpp"
#include "deltalog/format.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <memory>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace deltalog {
namespace {

constexpr std::size_t bounce_size = 1u << 20;
constexpr std::size_t bounce_align = 4096;

struct FreeDeleter {
	void operator()(std::byte *p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<std::byte[], FreeDeleter>;

AlignedBuffer aligned_buffer(std::size_t size)
{
	void *p = nullptr;
	if (posix_memalign(&p, bounce_align, size))
		throw std::bad_alloc();
	return AlignedBuffer(static_cast<std::byte *>(p));
}

// The bounce buffer for direct I/O of [begin, end): at most bounce_size, so
// that a sector's I/O does not allocate 1 MiB.
AlignedBuffer bounce_for(std::uint64_t begin, std::uint64_t end)
{
	return aligned_buffer(static_cast<std::size_t>(std::min<std::uint64_t>(end - begin, bounce_size)));
}

[[noreturn]] void throw_errno(const std::string &what, int err)
{
	throw IoError(fmt::format("{}: {}", what, std::strerror(err)), err);
}

} // namespace

UniqueFd &UniqueFd::operator=(UniqueFd &&other) noexcept
{
	if (this != &other)
		reset(other.release());
	return *this;
}

UniqueFd::~UniqueFd()
{
	reset();
}

int UniqueFd::release()
{
	int fd = fd_;
	fd_ = -1;
	return fd;
}

void UniqueFd::reset(int fd)
{
	if (fd_ >= 0)
		::close(fd_);
	fd_ = fd;
}

Device::Device(UniqueFd fd, std::string name, Access access)
	: fd_(std::move(fd)), name_(std::move(name)), access_(access)
{
	struct stat st;
	if (fstat(fd_.get(), &st))
		throw_errno(fmt::format("{}: stat", name_), errno);

	if (S_ISBLK(st.st_mode)) {
		std::uint64_t bytes = 0;
		int lbs = 0;
		unsigned int pbs = 0;
		if (ioctl(fd_.get(), BLKGETSIZE64, &bytes))
			throw_errno(fmt::format("{}: BLKGETSIZE64", name_), errno);
		if (ioctl(fd_.get(), BLKSSZGET, &lbs))
			throw_errno(fmt::format("{}: BLKSSZGET", name_), errno);
		if (ioctl(fd_.get(), BLKPBSZGET, &pbs))
			throw_errno(fmt::format("{}: BLKPBSZGET", name_), errno);
		block_ = true;
		sectors_ = bytes >> DLOG_SECTOR_SHIFT;
		lbs_ = static_cast<std::uint32_t>(lbs);
		pbs_ = std::max<std::uint32_t>(pbs, lbs_);
		if (lbs_ < DLOG_SECTOR_SIZE || (lbs_ & (lbs_ - 1)) || lbs_ > bounce_align)
			throw IoError(fmt::format("{}: unsupported logical block size {}", name_,
						  lbs_),
				      EINVAL);
	} else if (S_ISREG(st.st_mode)) {
		sectors_ = static_cast<std::uint64_t>(st.st_size) >> DLOG_SECTOR_SHIFT;
	} else {
		throw IoError(fmt::format("{}: not a block device or regular file", name_),
			      EINVAL);
	}
}

Device Device::open(const std::string &path, Access access)
{
	int flags = O_CLOEXEC | (access == Access::read_write ? O_RDWR : O_RDONLY);
	struct stat st;

	if (::stat(path.c_str(), &st))
		throw_errno(path, errno);
	if (S_ISBLK(st.st_mode)) {
		flags |= O_DIRECT;
		if (access == Access::read_write)
			flags |= O_EXCL;
	}
	UniqueFd fd(::open(path.c_str(), flags));
	if (!fd)
		throw_errno(fmt::format("{}: open", path), errno);
	return Device(std::move(fd), path, access);
}

Device Device::adopt(UniqueFd fd, std::string name, Access access)
{
	return Device(std::move(fd), std::move(name), access);
}

void Device::check_range(const char *op, std::uint64_t sector, std::size_t len) const
{
	if (len % DLOG_SECTOR_SIZE)
		throw std::invalid_argument(
			fmt::format("{}: {} of {} bytes is not whole sectors", name_, op, len));
	std::uint64_t n = len >> DLOG_SECTOR_SHIFT;
	if (sector > sectors_ || n > sectors_ - sector)
		throw IoError(fmt::format("{}: {} of sectors {}..{} past the end ({} sectors)",
					  name_, op, sector, sector + n, sectors_),
			      EIO);
}

void Device::raw_read(std::uint64_t offset, std::span<std::byte> buf) const
{
	while (!buf.empty()) {
		ssize_t r = ::pread(fd_.get(), buf.data(), buf.size(), static_cast<off_t>(offset));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			throw_errno(fmt::format("{}: read at byte {}", name_, offset), errno);
		}
		if (r == 0)
			throw IoError(fmt::format("{}: unexpected end of file at byte {}", name_,
						  offset),
				      EIO);
		buf = buf.subspan(static_cast<std::size_t>(r));
		offset += static_cast<std::uint64_t>(r);
	}
}

void Device::raw_write(std::uint64_t offset, std::span<const std::byte> buf)
{
	while (!buf.empty()) {
		ssize_t r = ::pwrite(fd_.get(), buf.data(), buf.size(), static_cast<off_t>(offset));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			throw_errno(fmt::format("{}: write at byte {}", name_, offset), errno);
		}
		if (r == 0)
			throw IoError(fmt::format("{}: short write at byte {}", name_, offset), EIO);
		buf = buf.subspan(static_cast<std::size_t>(r));
		offset += static_cast<std::uint64_t>(r);
	}
}

// O_DIRECT: whole logical blocks from an aligned buffer.
void Device::direct_read(std::uint64_t offset, std::span<std::byte> buf) const
{
	std::uint64_t begin = offset & ~std::uint64_t{lbs_ - 1};
	std::uint64_t end = (offset + buf.size() + lbs_ - 1) & ~std::uint64_t{lbs_ - 1};
	AlignedBuffer bounce = bounce_for(begin, end);

	for (std::uint64_t pos = begin; pos < end;) {
		std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(end - pos, bounce_size));
		raw_read(pos, {bounce.get(), n});
		std::uint64_t from = std::max(pos, offset);
		std::uint64_t to = std::min(pos + n, offset + buf.size());
		std::memcpy(buf.data() + (from - offset), bounce.get() + (from - pos), to - from);
		pos += n;
	}
}

void Device::direct_write(std::uint64_t offset, std::span<const std::byte> buf)
{
	std::uint64_t begin = offset & ~std::uint64_t{lbs_ - 1};
	std::uint64_t end = (offset + buf.size() + lbs_ - 1) & ~std::uint64_t{lbs_ - 1};
	AlignedBuffer bounce = bounce_for(begin, end);

	for (std::uint64_t pos = begin; pos < end;) {
		std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(end - pos, bounce_size));
		std::uint64_t from = std::max(pos, offset);
		std::uint64_t to = std::min(pos + n, offset + buf.size());
		if (from != pos || to != pos + n)
			raw_read(pos, {bounce.get(), n});	/* read-modify-write */
		std::memcpy(bounce.get() + (from - pos), buf.data() + (from - offset), to - from);
		raw_write(pos, {bounce.get(), n});
		pos += n;
	}
}

void Device::read(std::uint64_t sector, std::span<std::byte> buf) const
{
	check_range("read", sector, buf.size());
	if (block_)
		direct_read(sector << DLOG_SECTOR_SHIFT, buf);
	else
		raw_read(sector << DLOG_SECTOR_SHIFT, buf);
}

void Device::write(std::uint64_t sector, std::span<const std::byte> buf)
{
	if (access_ != Access::read_write)
		throw IoError(fmt::format("{}: opened read-only", name_), EBADF);
	check_range("write", sector, buf.size());
	if (block_)
		direct_write(sector << DLOG_SECTOR_SHIFT, buf);
	else
		raw_write(sector << DLOG_SECTOR_SHIFT, buf);
}

void Device::flush()
{
	if (access_ != Access::read_write)
		return;
	if (::fsync(fd_.get()))
		throw_errno(fmt::format("{}: flush", name_), errno);
}

} // namespace deltalog
