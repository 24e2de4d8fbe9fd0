// Typed errors of the format library. Everything it throws for bad input,
// damaged metadata or failed I/O derives from deltalog::Error; programming
// errors (bad arguments) are std::invalid_argument. The checker never throws
// on damage: it reports findings (check.hpp).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace deltalog {

class Error : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

// A read, write or flush failed, or went past the end of a device.
class IoError : public Error {
public:
	IoError(const std::string &what, int errnum) : Error(what), errnum_(errnum) {}
	int errnum() const { return errnum_; }

private:
	int errnum_;
};

// Copy A of the superblock is all zeros and copy B is not valid (FORMAT.md 3).
class UnformattedError : public Error {
public:
	using Error::Error;
};

// Neither superblock copy is valid: corrupt or foreign. Holds both reasons.
class SuperblockError : public Error {
public:
	SuperblockError(const std::string &why_a, const std::string &why_b);
	const std::string &why_a() const { return why_a_; }
	const std::string &why_b() const { return why_b_; }

private:
	std::string why_a_, why_b_;
};

// The devices do not fit the superblock, or a delta is too small to format.
class GeometryError : public Error {
public:
	using Error::Error;
};

// The origin is not the one the delta was made for (FORMAT.md 3.1).
class OriginMismatchError : public Error {
public:
	using Error::Error;
};

// A metadata block that belongs to the log has bad contents (FORMAT.md 6.2),
// or the log as a whole is inconsistent (lost blocks, data ring overflow).
class CorruptLogError : public Error {
public:
	static constexpr std::uint64_t no_block = ~std::uint64_t{0};

	// The log as a whole.
	explicit CorruptLogError(const std::string &reason);
	// One block: index, its ring slot and first sector, the record slot
	// (-1 for the header) and what is wrong.
	CorruptLogError(std::uint64_t index, std::uint64_t ring_slot, std::uint64_t sector,
			int record_slot, const std::string &reason);

	std::uint64_t index() const { return index_; }
	std::uint64_t ring_slot() const { return ring_slot_; }
	std::uint64_t sector() const { return sector_; }
	int record_slot() const { return record_slot_; }
	const std::string &reason() const { return reason_; }

private:
	std::uint64_t index_ = no_block, ring_slot_ = 0, sector_ = 0;
	int record_slot_ = -1;
	std::string reason_;
};

// An append does not fit: no free metadata block or not enough data ring.
class LogFullError : public Error {
public:
	enum class Ring { meta, data };
	LogFullError(Ring ring, const std::string &what) : Error(what), ring_(ring) {}
	Ring ring() const { return ring_; }

private:
	Ring ring_;
};

// A rollback that FORMAT.md 7.2 does not allow.
class RollbackError : public Error {
public:
	enum class Reason { before_merged, ring_full, nothing_to_undo, merge_unfinished };
	RollbackError(Reason reason, const std::string &what) : Error(what), reason_(reason) {}
	Reason reason() const { return reason_; }

private:
	Reason reason_;
};

// A merge that FORMAT.md 7.3 does not allow (target out of range, another
// merge unfinished).
class MergeError : public Error {
public:
	using Error::Error;
};

// A time, mark or seq that does not name a state of the log.
class ResolveError : public Error {
public:
	enum class Reason { before_oldest, after_newest, unknown_mark, empty_log };
	ResolveError(Reason reason, const std::string &what) : Error(what), reason_(reason) {}
	Reason reason() const { return reason_; }

private:
	Reason reason_;
};

} // namespace deltalog
