#include "deltalog/errors.hpp"

#include <fmt/format.h>

namespace deltalog {

SuperblockError::SuperblockError(const std::string &why_a, const std::string &why_b)
	: Error(fmt::format("no valid superblock (copy A: {}; copy B: {})", why_a, why_b)),
	  why_a_(why_a), why_b_(why_b)
{
}

CorruptLogError::CorruptLogError(const std::string &reason)
	: Error(fmt::format("corrupt log: {}", reason)), reason_(reason)
{
}

CorruptLogError::CorruptLogError(std::uint64_t index, std::uint64_t ring_slot,
				 std::uint64_t sector, int record_slot,
				 const std::string &reason)
	: Error(record_slot < 0
			? fmt::format("corrupt metadata block {} (ring slot {}, sector {}): {}",
				      index, ring_slot, sector, reason)
			: fmt::format("corrupt metadata block {} (ring slot {}, sector {}), "
				      "record slot {}: {}",
				      index, ring_slot, sector, record_slot, reason)),
	  index_(index), ring_slot_(ring_slot), sector_(sector), record_slot_(record_slot),
	  reason_(reason)
{
}

} // namespace deltalog
