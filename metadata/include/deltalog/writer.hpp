// A userspace appender and the offline operations on a delta: append
// (FORMAT.md 4.3, 5, 7.1), rollback (7.2), merge (7.3), clean stop (7.4).
// Used by the tests, dlog-tool, and offline commands of deltalogctl. The
// delta must not be in use by a kernel target at the same time.
//
// Opening a Writer recovers the log (section 6). Before its first append
// the writer clears clean_seq (7.4) and, if recovery cut the log (6.4),
// writes the ROLLBACK that step 6.6 requires.
#pragma once

#include "deltalog/device.hpp"
#include "deltalog/log.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

namespace deltalog {

// The wall clock, in ns since the epoch; injectable for tests.
using Clock = std::function<std::uint64_t()>;

// Test hooks of merge(): called after each extent is copied to the origin
// with the number copied so far; throwing from it simulates a crash.
struct MergeHooks {
	std::function<void(std::size_t copied)> after_copy;
};

class Writer {
public:
	// delta must be open read-write and outlive the writer. Throws what
	// recover() throws.
	explicit Writer(Device &delta, Clock clock = {});

	const LogState &log() const { return log_; }
	const Superblock &superblock() const { return log_.sb; }

	// Appends a WRITE of data (whole sectors) at origin_sector. With
	// data_csum the record carries DLOG_RF_DATA_CSUM and data and record
	// are written without a flush in between (recovery verifies the data);
	// without it the data is flushed before the record is written.
	// Returns the record's seq. Throws LogFullError when a ring is full,
	// std::invalid_argument for an extent outside the origin or not aligned
	// to its logical block.
	std::uint64_t append_write(std::uint64_t origin_sector, std::span<const std::byte> data,
				   bool data_csum = true);
	std::uint64_t append_zero(std::uint64_t origin_sector, std::uint32_t nr_sectors,
				  bool discard = false);
	std::uint64_t append_mark(std::string_view label);

	// Makes everything appended durable: flush, then record the new
	// durable_seq in the newest block.
	void sync();

	// 7.2: the device goes back to its state at seq to_seq. Returns the
	// ROLLBACK record's seq. Throws RollbackError (before merged_seq or an
	// unfinished merge's target, nothing after to_seq, metadata ring full).
	std::uint64_t rollback(std::uint64_t to_seq);

	// 7.3: copies the state at seq up_to into origin, then frees the log up
	// to it. Resumable: an interrupted merge (MERGING set) must be finished
	// by a merge to at least its target (resume_merge()). Throws MergeError,
	// OriginMismatchError.
	void merge(Device &origin, std::uint64_t up_to, const MergeHooks &hooks = {});
	void resume_merge(Device &origin);

	// 7.4: a clean stop; a later append clears clean_seq again.
	void stop();

private:
	std::uint64_t now();
	void refresh();
	void activate();
	void update_superblock();
	void write_block(const MetaBlock &mb);
	void write_rollback_block(std::uint64_t after_block, std::uint64_t to_seq);
	std::uint64_t append(Record rec, std::span<const std::byte> data);
	void check_extent(std::uint64_t origin_sector, std::uint64_t nr_sectors) const;
	MetaBlock newest_block() const;

	Device &delta_;
	Clock clock_;
	LogState log_;
	std::uint64_t durable_seq_ = 0;	// newest seq whose data is known durable
	std::uint64_t data_cursor_ = 0;	// allocation point when the data ring is empty
	std::uint32_t last_csum_ = 0;	// csum of block head - 1 as last written
	bool active_ = false;		// clean_seq is 0 on disk
};

} // namespace deltalog
