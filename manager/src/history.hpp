// The history a log holds, summed up for people: how many records, how many
// bytes of writes, over which times, in a range of seqs.
#pragma once

#include "deltalog/log.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace deltalogctl {

struct HistorySummary {
	std::uint64_t records = 0;	// WRITE, ZERO and MARK records
	std::uint64_t writes = 0, zeroes = 0, marks = 0;
	std::uint64_t write_bytes = 0;	// data of the WRITE records
	std::uint64_t zero_bytes = 0;	// ranges discarded or zeroed
	std::uint64_t oldest_seq = 0, newest_seq = 0;	// 0 when empty
	std::uint64_t oldest_ns = 0, newest_ns = 0;
};

// Counts one record in (ROLLBACK records are not history: ignored).
void add(HistorySummary &h, const deltalog::Record &r);
// The live records with after < seq <= up_to.
HistorySummary summarize(const deltalog::LogState &log, std::uint64_t after = 0,
			 std::uint64_t up_to = std::numeric_limits<std::uint64_t>::max());

// "12 records (8.0 MiB of writes, 1.0 MiB zeroed or discarded, 2 marks) from
// 2026-11-23 09:30:01 to 2026-11-23 09:36:12"
std::string describe(const HistorySummary &h);

// The newest live mark, whatever its label; nullopt when there is none.
std::optional<deltalog::Record> newest_mark(const deltalog::LogState &log);

// The labels of the live marks, newest first, each once.
std::vector<std::string> mark_labels(const deltalog::LogState &log);

} // namespace deltalogctl
