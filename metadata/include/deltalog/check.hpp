// The checker: looks at everything on a delta and reports every problem it
// finds, never throwing on damage. Fatal findings mean the delta cannot be
// used as it is (no valid superblock, a corrupt block inside the log, data
// trusted durable that does not match its checksum, lost blocks, live data
// that overlaps); warnings are worth knowing (an invalid spare superblock
// copy, an interrupted merge, a recovery cut, blocks past the end that look
// newer than the log, misaligned data).
//
// It reads: both superblock copies; every block of the log and every record
// in it (not stopping at the first bad one); the rest of the ring, looking
// for valid blocks past the end; the data of every record with DATA_CSUM;
// clean_seq against the log; the geometry against the device; the live data
// positions for overlaps; and, if given, the origin's identity.
#pragma once

#include "deltalog/device.hpp"
#include "deltalog/log.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace deltalog {

enum class Severity { warning, fatal };
const char *severity_name(Severity severity);	// "warning", "fatal"

struct Finding {
	Severity severity = Severity::fatal;
	std::string where;	// "superblock A", "metadata block 3 (ring slot 3, sector 19) slot 2", "seq 17", "log", "data ring", "origin", "delta"
	std::string what;
};

struct CheckOptions {
	const Device *origin = nullptr;	// also check the origin's identity
	// Called while the data of the records is read (the long part of a
	// check): bytes read so far of the total.
	std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

struct CheckReport {
	std::vector<Finding> findings;
	std::optional<LogState> log;	// the log as recovery sees it, when it got that far

	bool fatal() const;
	std::size_t count(Severity severity) const;
};

CheckReport check(const Device &delta, const CheckOptions &opts = {});

} // namespace deltalog
