// Time specs (the contract's T) and their resolution against a log.
//
//   HH:MM[:SS]               the most recent past moment with that local
//                            clock time (today, or yesterday if that is
//                            still to come)
//   YYYY-MM-DD HH:MM[:SS]    a local date and time
//   -15min -2h -1d -30s      relative to now (s, sec, min, h, d; also -90m)
//   @label                   the newest mark with that label
//   #1234                    a sequence number
//   now                      the newest state
//
// Local time follows the TZ environment variable as libc does, daylight
// saving changes included: a clock time that does not exist (skipped at a
// spring-forward change) is refused with a message that says so; one that
// happens twice (fall back) means the later of the two, unless that is
// still to come.
#pragma once

#include "deltalog/log.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace deltalogctl {

struct TimeSpec {
	enum class Kind { time, mark, seq, now };
	Kind kind = Kind::now;
	std::uint64_t time_ns = 0;	// Kind::time: the moment, ns since the epoch
	std::string label;		// Kind::mark
	std::uint64_t seq = 0;		// Kind::seq
	std::string text;		// as the user wrote it
};

// Parses text with `now` as the present. Throws UsageError with a message
// that names the accepted forms.
TimeSpec parse_time_spec(std::string_view text, std::uint64_t now_ns);

// A state of the log: seq (0: the origin as it was before any write) and
// the time of that record (0 for seq 0).
struct ResolvedTime {
	std::uint64_t seq = 0;
	std::uint64_t time_ns = 0;
	// "2026-11-23 09:35:58 (seq 1234, mark before-upgrade)" for messages.
	std::string description;
};

// Resolves spec against log. A time before the oldest state still in the
// log, after now, an unknown mark or a seq out of range throws Failure
// (object = object) with a message that says what the log holds (oldest and
// newest time and seq) and what to do.
ResolvedTime resolve_time_spec(const TimeSpec &spec, const deltalog::LogState &log,
			       std::uint64_t now_ns, const std::string &object);

// ns since the epoch, from CLOCK_REALTIME.
std::uint64_t wall_clock_ns();

} // namespace deltalogctl
