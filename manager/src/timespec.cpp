#include "timespec.hpp"

#include "history.hpp"

#include "base/errors.hpp"
#include "base/number.hpp"
#include "base/output.hpp"

#include "deltalog/errors.hpp"
#include "deltalog/records.hpp"
#include "deltalog/resolve.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>
#include <vector>

namespace deltalogctl {

namespace {

using std::chrono::year_month_day;

constexpr std::uint64_t ns_per_s = 1'000'000'000;
constexpr std::int64_t s_per_day = 86400;

// Quotes the text and lists the forms it could have taken.
[[noreturn]] void refuse(std::string_view text, std::string_view why = {})
{
	throw UsageError(
		fmt::format("'{}' is not a time{}: use HH:MM[:SS], 'YYYY-MM-DD HH:MM[:SS]', "
			    "-30s, -15min, -2h, -1d, @mark, #seq or now",
			    text, why.empty() ? "" : fmt::format(" ({})", why)));
}

std::string date_text(const year_month_day &date)
{
	return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()),
			   static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

[[noreturn]] void refuse_gap(std::string_view text, const year_month_day &date)
{
	throw UsageError(fmt::format("'{}' does not exist on {}: the clocks skipped it at the "
				     "daylight-saving change",
				     text, date_text(date)));
}

bool all_digits(std::string_view s)
{
	return !s.empty() &&
	       std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Plain decimal digits: no sign, no spaces.
std::uint64_t number(std::string_view digits, std::string_view text)
{
	const auto v = parse_decimal(digits);
	if (!v)
		refuse(text, all_digits(digits) ? "number too large" : "");
	return *v;
}

struct ClockTime {
	unsigned hour = 0, minute = 0, second = 0;
	std::int64_t seconds() const { return hour * 3600 + minute * 60 + second; }
};

// H:MM or H:MM:SS; the hour may have one digit, minutes and seconds two.
ClockTime parse_clock(std::string_view s, std::string_view text)
{
	const std::size_t colon = s.find(':');
	if (colon == 0 || colon > 2)	// npos too
		refuse(text);
	const std::string_view rest = s.substr(colon + 1);
	if (rest.size() != 2 && (rest.size() != 5 || rest[2] != ':'))
		refuse(text);
	ClockTime c;
	c.hour = static_cast<unsigned>(number(s.substr(0, colon), text));
	c.minute = static_cast<unsigned>(number(rest.substr(0, 2), text));
	if (rest.size() == 5)
		c.second = static_cast<unsigned>(number(rest.substr(3), text));
	if (c.hour > 23)
		refuse(text, "hours go from 00 to 23");
	if (c.minute > 59)
		refuse(text, "minutes go from 00 to 59");
	if (c.second > 59)
		refuse(text, "seconds go from 00 to 59");
	return c;
}

// YYYY-MM-DD followed by a space or a T and a clock time.
std::pair<year_month_day, ClockTime> parse_date_time(std::string_view text)
{
	if (text.size() < 11 || text[4] != '-' || text[7] != '-' ||
	    (text[10] != ' ' && text[10] != 'T'))
		refuse(text);
	const year_month_day date{
		std::chrono::year{static_cast<int>(number(text.substr(0, 4), text))},
		std::chrono::month{static_cast<unsigned>(number(text.substr(5, 2), text))},
		std::chrono::day{static_cast<unsigned>(number(text.substr(8, 2), text))}};
	if (!date.ok())
		refuse(text, fmt::format("{} is not a date", text.substr(0, 10)));
	return {date, parse_clock(text.substr(11), text)};
}

// The local date and clock time as a count of seconds, as if it were UTC.
std::int64_t wall_seconds(const year_month_day &date, const ClockTime &c)
{
	const std::chrono::seconds day_start = std::chrono::sys_days{date}.time_since_epoch();
	return day_start.count() + c.seconds();
}

std::tm local_tm(std::int64_t t)
{
	const std::time_t tt = t;
	std::tm tm{};
	localtime_r(&tt, &tm);
	return tm;
}

// The moments (seconds since the epoch) at which the local clock reads
// `wall`, in order: none in a spring-forward gap, two in a fall-back
// overlap. mktime() would return one of them only. Each candidate uses the
// UTC offset in force a day before, at, or a day after `wall`, and counts
// if that offset is really the one in force at the moment it gives.
std::vector<std::int64_t> local_moments(std::int64_t wall)
{
	std::vector<std::int64_t> found;
	for (const std::int64_t probe : {wall - s_per_day, wall, wall + s_per_day}) {
		const std::int64_t t = wall - local_tm(probe).tm_gmtoff;
		if (t + local_tm(t).tm_gmtoff == wall &&
		    std::find(found.begin(), found.end(), t) == found.end())
			found.push_back(t);
	}
	std::sort(found.begin(), found.end());
	return found;
}

std::uint64_t to_ns(std::int64_t t, std::string_view text)
{
	if (t < 0)
		refuse(text, "before 1970");
	if (static_cast<std::uint64_t>(t) > std::numeric_limits<std::uint64_t>::max() / ns_per_s)
		refuse(text, "too far in the future");
	return static_cast<std::uint64_t>(t) * ns_per_s;
}

// Of two moments with the same clock time, the later one unless it is still
// to come; a time wholly in the future stays so (resolution refuses it).
std::uint64_t date_time_ns(const year_month_day &date, const ClockTime &c, std::uint64_t now_ns,
			   std::string_view text)
{
	const std::vector<std::int64_t> at = local_moments(wall_seconds(date, c));
	if (at.empty())
		refuse_gap(text, date);
	const std::uint64_t later = to_ns(at.back(), text);
	return later <= now_ns ? later : to_ns(at.front(), text);
}

// The most recent past moment whose local clock reads c: today, or on the
// calendar day before (not now - 24 h, which is another day next to a
// 23- or 25-hour day).
std::uint64_t clock_time_ns(const ClockTime &c, std::uint64_t now_ns, std::string_view text)
{
	const std::tm now = local_tm(static_cast<std::int64_t>(now_ns / ns_per_s));
	const year_month_day today{std::chrono::year{now.tm_year + 1900},
				   std::chrono::month{static_cast<unsigned>(now.tm_mon + 1)},
				   std::chrono::day{static_cast<unsigned>(now.tm_mday)}};
	const std::vector<std::int64_t> at = local_moments(wall_seconds(today, c));
	for (auto it = at.rbegin(); it != at.rend(); ++it)
		if (const std::uint64_t ns = to_ns(*it, text); ns <= now_ns)
			return ns;
	// Skipped today, and already behind the clock: the user means today.
	if (at.empty() && c.seconds() <= now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec)
		refuse_gap(text, today);
	const year_month_day yesterday{std::chrono::sys_days{today} - std::chrono::days{1}};
	const std::vector<std::int64_t> before = local_moments(wall_seconds(yesterday, c));
	if (before.empty())
		refuse_gap(text, yesterday);
	return to_ns(before.back(), text);	// the whole of yesterday is past
}

// -N followed by a unit, no space: N s, min or h are exact, and a day is
// 86400 s even across a daylight-saving change.
std::uint64_t relative_ns(std::string_view text, std::uint64_t now_ns)
{
	static constexpr struct {
		std::string_view name;
		std::uint64_t seconds;
	} units[] = {{"s", 1}, {"sec", 1}, {"m", 60}, {"min", 60}, {"h", 3600}, {"d", 86400}};

	const std::string_view body = text.substr(1);
	const std::size_t unit_at = body.find_first_not_of("0123456789");
	if (unit_at == 0 || unit_at == std::string_view::npos)
		refuse(text);
	const std::uint64_t n = number(body.substr(0, unit_at), text);
	const std::string_view unit = body.substr(unit_at);
	const auto u = std::find_if(std::begin(units), std::end(units),
				    [&](const auto &x) { return x.name == unit; });
	if (u == std::end(units))
		refuse(text, "units are s, sec, m, min, h, d");
	const std::uint64_t unit_ns = u->seconds * ns_per_s;
	if (n > now_ns / unit_ns)
		refuse(text, "before 1970");
	return now_ns - n * unit_ns;
}

using deltalog::LogState;
using deltalog::Record;
using deltalog::RecordKind;
using deltalog::RecordStatus;

// The record with that seq, whatever its status.
const Record *find_record(const LogState &log, std::uint64_t seq)
{
	for (const deltalog::LogRecord &r : log.records)
		if (r.rec.seq == seq)
			return &r.rec;
	return nullptr;
}

const Record *oldest_live(const LogState &log)
{
	for (const deltalog::LogRecord &r : log.records)
		if (r.status == RecordStatus::live)
			return &r.rec;
	return nullptr;
}

ResolvedTime resolved(const LogState &log, std::uint64_t seq)
{
	if (seq == 0)
		return {0, 0, "the origin as it was before any logged write (seq 0)"};
	const Record *r = find_record(log, seq);
	// Only a merge frees the block of a record that resolution accepts.
	if (!r)
		return {seq, 0, fmt::format("the origin as committed up to seq {}", seq)};
	const std::string mark = r->kind == RecordKind::mark ? ", mark " + r->label : "";
	return {seq, r->time_ns, fmt::format("{} (seq {}{})", local_time(r->time_ns), seq, mark)};
}

// "seq 12 to 40": the seqs that name a state.
std::string held_seqs(const LogState &log)
{
	const std::uint64_t oldest = log.sb.merged_seq, newest = log.newest_seq();
	return oldest == newest ? fmt::format("only seq {}", oldest)
				: fmt::format("seq {} to {}", oldest, newest);
}

Failure time_failure(const TimeSpec &spec, const LogState &log, std::uint64_t now_ns,
		     const std::string &object, deltalog::ResolveError::Reason reason)
{
	const std::string at = local_time(spec.time_ns);
	const std::string what =
		spec.text.empty() || spec.text == at ? at : fmt::format("{} ({})", spec.text, at);
	if (reason == deltalog::ResolveError::Reason::after_newest)
		return Failure(
			object,
			fmt::format("{} is in the future (now is {})", what, local_time(now_ns)),
			fmt::format("The newest state is {}; 'now' names it.",
				    resolved(log, log.newest_seq()).description));
	if (log.sb.merged_seq == 0)
		return Failure(object,
			       fmt::format("{} is before the oldest history in the log: the oldest "
					   "state is seq 0, the origin as it was when the log "
					   "was created at {}",
					   what, local_time(log.sb.format_time_ns)));
	const Record *oldest = oldest_live(log);
	if (!oldest)
		return Failure(
			object,
			fmt::format("{} names no state in the log: everything up to seq {} was "
				    "committed to the origin and nothing was written since",
				    what, log.sb.merged_seq),
			"'now' names the origin as it is.");
	return Failure(object,
		       fmt::format("{} is before the oldest history in the log: the oldest state "
				   "is seq {} at {} (earlier history was committed to the "
				   "origin)",
				   what, oldest->seq, local_time(oldest->time_ns)));
}

Failure seq_failure(const TimeSpec &spec, const LogState &log, const std::string &object,
		    deltalog::ResolveError::Reason reason)
{
	if (reason == deltalog::ResolveError::Reason::before_oldest)
		return Failure(object,
			       fmt::format("seq {} is before the oldest history in the log: it "
					   "holds {} (earlier history was committed to the origin)",
					   spec.seq, held_seqs(log)));
	return Failure(object,
		       fmt::format("seq {} is after the newest state in the log: it holds {}",
				   spec.seq, held_seqs(log)));
}

std::string marks_hint(const LogState &log)
{
	constexpr std::size_t shown = 5;
	const std::vector<std::string> labels = mark_labels(log);
	if (labels.empty())
		return "The log has no marks.";
	if (labels.size() <= shown)
		return fmt::format("Marks in the log, newest first: {}.", fmt::join(labels, ", "));
	return fmt::format("Marks in the log, newest first: {} and {} more.",
			   fmt::join(labels.begin(), labels.begin() + shown, ", "),
			   labels.size() - shown);
}

Failure mark_failure(const TimeSpec &spec, const LogState &log, const std::string &object,
		     deltalog::ResolveError::Reason reason)
{
	if (reason == deltalog::ResolveError::Reason::before_oldest)
		return Failure(object,
			       fmt::format("mark '{}' is before the oldest history in the log: it "
					   "was committed to the origin with everything up to "
					   "seq {}",
					   spec.label, log.sb.merged_seq));
	return Failure(object, fmt::format("no mark '{}' in the log", spec.label), marks_hint(log));
}

} // namespace

TimeSpec parse_time_spec(std::string_view text, std::uint64_t now_ns)
{
	// localtime_r need not read TZ again (glibc's does not).
	tzset();
	TimeSpec spec;
	spec.text = text;
	if (text.empty())
		refuse(text);
	if (text == "now") {
		spec.kind = TimeSpec::Kind::now;
	} else if (text[0] == '@') {
		spec.kind = TimeSpec::Kind::mark;
		spec.label = text.substr(1);
		if (!deltalog::valid_label(spec.label))
			refuse(text, "a mark label is 1 to 63 characters of A-Z a-z 0-9 . _ : -");
	} else if (text[0] == '#') {
		spec.kind = TimeSpec::Kind::seq;
		spec.seq = number(text.substr(1), text);
	} else if (text[0] == '-') {
		spec.kind = TimeSpec::Kind::time;
		spec.time_ns = relative_ns(text, now_ns);
	} else if (text.size() > 4 && text[4] == '-') {
		spec.kind = TimeSpec::Kind::time;
		const auto [date, clock] = parse_date_time(text);
		spec.time_ns = date_time_ns(date, clock, now_ns, text);
	} else {
		spec.kind = TimeSpec::Kind::time;
		spec.time_ns = clock_time_ns(parse_clock(text, text), now_ns, text);
	}
	return spec;
}

ResolvedTime resolve_time_spec(const TimeSpec &spec, const LogState &log, std::uint64_t now_ns,
			       const std::string &object)
{
	using Kind = TimeSpec::Kind;
	std::uint64_t seq = 0;
	try {
		switch (spec.kind) {
		case Kind::now:
			seq = log.newest_seq();
			break;
		case Kind::time:
			seq = deltalog::resolve_time(log, spec.time_ns, now_ns);
			break;
		case Kind::mark:
			seq = deltalog::resolve_mark(log, spec.label);
			break;
		case Kind::seq:
			seq = deltalog::resolve_seq(log, spec.seq);
			break;
		}
	} catch (const deltalog::ResolveError &e) {
		if (spec.kind == Kind::time)
			throw time_failure(spec, log, now_ns, object, e.reason());
		if (spec.kind == Kind::mark)
			throw mark_failure(spec, log, object, e.reason());
		throw seq_failure(spec, log, object, e.reason());
	}
	return resolved(log, seq);
}

std::uint64_t wall_clock_ns()
{
	struct timespec ts {};
	clock_gettime(CLOCK_REALTIME, &ts);
	return static_cast<std::uint64_t>(ts.tv_sec) * ns_per_s +
	       static_cast<std::uint64_t>(ts.tv_nsec);
}

} // namespace deltalogctl
