// Time specs (the contract's T) and their resolution against a log.
//
//   HH:MM[:SS]               the most recent past moment with that local
//                            clock time: today, or the calendar day before
//                            if that is still to come (H alone is allowed:
//                            9:05; minutes and seconds take two digits)
//   YYYY-MM-DD HH:MM[:SS]    a local date and time (or YYYY-MM-DDTHH:MM[:SS])
//   -30s -15min -2h -1d      relative to now: a number and a unit (s, sec,
//                            m, min, h, d) with no space between; exact
//                            durations, a day is 86400 s even across a
//                            daylight-saving change
//   @label                   the newest mark with that label (1 to 63 of
//                            A-Z a-z 0-9 . _ : -, as the kernel takes them)
//   #1234                    a sequence number
//   now                      the newest state
//
// Nothing else: no spaces around, no other words or units, no '+'.
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

// Parses text with now_ns as the present. Throws UsageError with a message
// that quotes text and names the accepted forms. A date and time may be in
// the future: resolution refuses it with what the log holds.
TimeSpec parse_time_spec(std::string_view text, std::uint64_t now_ns);

// A state of the log: seq (0: the origin as it was before any write) and
// the time of that record (0 for seq 0, and for the merged-up-to seq once
// its record has left the log with the merge).
struct ResolvedTime {
	std::uint64_t seq = 0;
	std::uint64_t time_ns = 0;
	// For messages: "2026-11-23 09:35:58 (seq 1234)", with ", mark
	// before-upgrade" inside the parentheses when the record is a mark;
	// "the origin as it was before any logged write (seq 0)";
	// "the origin as committed up to seq 12".
	std::string description;
};

// Resolves spec against log with deltalog's resolve_*; `now` is the newest
// seq. A time before the oldest state still in the log, after now_ns, an
// unknown or merged mark or a seq out of range throws Failure (object =
// object) with a message that says what the log holds (the oldest state,
// the range of seqs, the marks) and, where it helps, a hint.
ResolvedTime resolve_time_spec(const TimeSpec &spec, const deltalog::LogState &log,
			       std::uint64_t now_ns, const std::string &object);

// ns since the epoch, from CLOCK_REALTIME.
std::uint64_t wall_clock_ns();

} // namespace deltalogctl
