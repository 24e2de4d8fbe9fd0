// A delta or origin: a block device or a regular file, opened with RAII.
// I/O is in whole 512-byte sectors at sector offsets. Block devices are used
// with O_DIRECT (so that what a kernel target wrote behind the page cache is
// what is read) through an aligned bounce buffer that also handles I/O
// smaller than the device's logical block size; regular files use plain
// pread/pwrite and report 512-byte blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace deltalog {

// An owned file descriptor, closed on destruction.
class UniqueFd {
public:
	UniqueFd() = default;
	explicit UniqueFd(int fd) : fd_(fd) {}
	UniqueFd(UniqueFd &&other) noexcept : fd_(other.release()) {}
	UniqueFd &operator=(UniqueFd &&other) noexcept;
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;
	~UniqueFd();

	int get() const { return fd_; }
	explicit operator bool() const { return fd_ >= 0; }
	int release();
	void reset(int fd = -1);

private:
	int fd_ = -1;
};

class Device {
public:
	enum class Access { read_only, read_write };

	// Opens path; block devices opened read-write are opened O_EXCL, so a
	// device held by an active target or a mounted filesystem is refused.
	static Device open(const std::string &path, Access access);
	// Takes over an open descriptor (a memfd, a temporary file).
	static Device adopt(UniqueFd fd, std::string name, Access access);

	const std::string &name() const { return name_; }
	std::uint64_t sectors() const { return sectors_; }
	std::uint32_t logical_block_size() const { return lbs_; }
	std::uint32_t physical_block_size() const { return pbs_; }
	bool is_block_device() const { return block_; }
	bool writable() const { return access_ == Access::read_write; }

	// buf.size() must be a multiple of 512; the range must lie within the
	// device. Throws IoError.
	void read(std::uint64_t sector, std::span<std::byte> buf) const;
	void write(std::uint64_t sector, std::span<const std::byte> buf);
	// Makes every completed write durable (fsync).
	void flush();

private:
	Device(UniqueFd fd, std::string name, Access access);
	void check_range(const char *op, std::uint64_t sector, std::size_t len) const;
	void raw_read(std::uint64_t offset, std::span<std::byte> buf) const;
	void raw_write(std::uint64_t offset, std::span<const std::byte> buf);
	void direct_read(std::uint64_t offset, std::span<std::byte> buf) const;
	void direct_write(std::uint64_t offset, std::span<const std::byte> buf);

	UniqueFd fd_;
	std::string name_;
	Access access_;
	std::uint64_t sectors_ = 0;
	std::uint32_t lbs_ = 512;
	std::uint32_t pbs_ = 512;
	bool block_ = false;
};

} // namespace deltalog
