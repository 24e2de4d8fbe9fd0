// Naming a state of the log: a seq, a time or a mark label resolves to the
// seq whose state (section 8) it means.
#pragma once

#include "deltalog/log.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace deltalog {

// seq itself, if its state still exists: merged_seq <= seq <= newest live
// seq. Throws ResolveError before_oldest / after_newest.
std::uint64_t resolve_seq(const LogState &log, std::uint64_t seq);

// The newest live record with time_ns <= time_ns (of records with equal
// times, the last one). A time before the oldest live record resolves to
// seq 0 (the untouched origin) while nothing was ever merged and the time is
// not before the format; otherwise it is before_oldest. With now_ns, a time
// after it is after_newest (a time in the future names no state yet).
// Throws ResolveError.
std::uint64_t resolve_time(const LogState &log, std::uint64_t time_ns,
			   std::optional<std::uint64_t> now_ns = std::nullopt);

// The newest live MARK with that label. Throws ResolveError unknown_mark (or
// before_oldest if the only such mark was merged).
std::uint64_t resolve_mark(const LogState &log, std::string_view label);

} // namespace deltalog
