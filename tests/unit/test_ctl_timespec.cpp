// deltalogctl's time specs (manager/src/timespec.cpp): parsing against a
// fixed now under POSIX TZ rules (no tzdata needed), daylight-saving changes,
// and resolution against logs written with a fake clock.
#include "timespec.hpp"

#include "base/errors.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

using namespace deltalogctl;

namespace {

constexpr std::uint64_t sec = 1'000'000'000;

// Central European rules: 02:00 CET -> 03:00 CEST on the last Sunday of
// March (2026-03-29), 03:00 CEST -> 02:00 CET on the last Sunday of October
// (2026-10-25).
constexpr const char *cet = "CET-1CEST,M3.5.0,M10.5.0/3";

// ns since the epoch of a UTC date and time.
std::uint64_t utc(int y, int mo, int d, int h, int mi, int s = 0)
{
	using namespace std::chrono;
	const sys_seconds t = sys_days{year{y} / mo / d} + hours{h} + minutes{mi} + seconds{s};
	return static_cast<std::uint64_t>(t.time_since_epoch().count()) * sec;
}

// TZ for one test, restored after.
class ScopedTz {
public:
	explicit ScopedTz(const char *tz)
	{
		const char *old = std::getenv("TZ");
		had_ = old != nullptr;
		old_ = old ? old : "";
		setenv("TZ", tz, 1);
		tzset();
	}
	~ScopedTz()
	{
		if (had_)
			setenv("TZ", old_.c_str(), 1);
		else
			unsetenv("TZ");
		tzset();
	}
	ScopedTz(const ScopedTz &) = delete;
	ScopedTz &operator=(const ScopedTz &) = delete;

private:
	bool had_ = false;
	std::string old_;
};

std::uint64_t at(std::string_view text, std::uint64_t now)
{
	const TimeSpec spec = parse_time_spec(text, now);
	EXPECT_EQ(spec.kind, TimeSpec::Kind::time) << text;
	EXPECT_EQ(spec.text, text);
	return spec.time_ns;
}

std::string refusal(std::string_view text, std::uint64_t now)
{
	try {
		const TimeSpec spec = parse_time_spec(text, now);
		ADD_FAILURE() << "'" << text << "' was accepted as " << spec.time_ns;
	} catch (const UsageError &e) {
		return e.what();
	}
	return {};
}

ResolvedTime resolve(const deltalog::LogState &log, std::string_view text, std::uint64_t now)
{
	return resolve_time_spec(parse_time_spec(text, now), log, now, "box");
}

Failure failure_of(const std::function<void()> &f)
{
	try {
		f();
	} catch (const Failure &e) {
		return e;
	}
	ADD_FAILURE() << "no Failure";
	return Failure("", "");
}

Failure refused(const deltalog::LogState &log, std::string_view text, std::uint64_t now)
{
	Failure f = failure_of([&] { resolve(log, text, now); });
	EXPECT_EQ(f.object(), "box");
	return f;
}

} // namespace

TEST(CtlTimeSpec, NowMarksAndSeqs)
{
	const std::uint64_t now = utc(2026, 11, 23, 10, 0);
	TimeSpec t = parse_time_spec("now", now);
	EXPECT_EQ(t.kind, TimeSpec::Kind::now);
	EXPECT_EQ(t.text, "now");

	t = parse_time_spec("@before-upgrade", now);
	EXPECT_EQ(t.kind, TimeSpec::Kind::mark);
	EXPECT_EQ(t.label, "before-upgrade");
	EXPECT_EQ(parse_time_spec("@Az09._:-", now).label, "Az09._:-");
	EXPECT_EQ(parse_time_spec("@" + std::string(63, 'x'), now).label, std::string(63, 'x'));

	t = parse_time_spec("#1234", now);
	EXPECT_EQ(t.kind, TimeSpec::Kind::seq);
	EXPECT_EQ(t.seq, 1234u);
	EXPECT_EQ(parse_time_spec("#0", now).seq, 0u);
	EXPECT_EQ(parse_time_spec("#18446744073709551615", now).seq, 18446744073709551615u);
}

TEST(CtlTimeSpec, RelativeTimesAreExactDurations)
{
	const std::uint64_t now = utc(2026, 11, 23, 10, 0) + 500'000'000;
	EXPECT_EQ(at("-30s", now), now - 30 * sec);
	EXPECT_EQ(at("-30sec", now), now - 30 * sec);
	EXPECT_EQ(at("-15min", now), now - 900 * sec);
	EXPECT_EQ(at("-15m", now), now - 900 * sec);
	EXPECT_EQ(at("-90m", now), now - 5400 * sec);
	EXPECT_EQ(at("-2h", now), now - 7200 * sec);
	EXPECT_EQ(at("-1d", now), now - 86400 * sec);
	EXPECT_EQ(at("-0s", now), now);

	// A day back from the day after the spring change is still 86400 s.
	const ScopedTz tz(cet);
	const std::uint64_t monday = utc(2026, 3, 30, 8, 0);
	EXPECT_EQ(at("-1d", monday), monday - 86400 * sec);
}

TEST(CtlTimeSpec, ClockTimeAlreadyPastIsToday)
{
	const ScopedTz tz("UTC0");
	const std::uint64_t now = utc(2026, 11, 23, 10, 0) + 500'000'000;
	EXPECT_EQ(at("09:36", now), utc(2026, 11, 23, 9, 36));
	EXPECT_EQ(at("9:36", now), utc(2026, 11, 23, 9, 36));
	EXPECT_EQ(at("09:36:12", now), utc(2026, 11, 23, 9, 36, 12));
	EXPECT_EQ(at("10:00", now), utc(2026, 11, 23, 10, 0));	// this very second
	EXPECT_EQ(at("00:00", now), utc(2026, 11, 23, 0, 0));
}

TEST(CtlTimeSpec, ClockTimeStillToComeIsYesterday)
{
	const ScopedTz tz("UTC0");
	const std::uint64_t now = utc(2026, 11, 23, 10, 0) + 500'000'000;
	EXPECT_EQ(at("10:00:01", now), utc(2026, 11, 22, 10, 0, 1));
	EXPECT_EQ(at("23:59:59", now), utc(2026, 11, 22, 23, 59, 59));
	EXPECT_EQ(at("23:00", utc(2027, 1, 1, 0, 10)), utc(2026, 12, 31, 23, 0));
	EXPECT_EQ(at("12:00", utc(2028, 3, 1, 0, 10)), utc(2028, 2, 29, 12, 0));
}

TEST(CtlTimeSpec, ClockTimeIsLocal)
{
	const ScopedTz tz(cet);
	// 11:00 CET.
	EXPECT_EQ(at("10:30", utc(2026, 11, 23, 10, 0)), utc(2026, 11, 23, 9, 30));
	EXPECT_EQ(at("11:30", utc(2026, 11, 23, 10, 0)), utc(2026, 11, 22, 10, 30));
	// 00:30 CET on the 23rd is 23:30 UTC on the 22nd: today is the 23rd.
	EXPECT_EQ(at("00:15", utc(2026, 11, 22, 23, 30)), utc(2026, 11, 22, 23, 15));
	// Summer time.
	EXPECT_EQ(at("10:30", utc(2026, 7, 1, 10, 0)), utc(2026, 7, 1, 8, 30));
}

TEST(CtlTimeSpec, DateAndTime)
{
	const std::uint64_t now = utc(2026, 11, 23, 10, 0);
	{
		const ScopedTz tz("UTC0");
		EXPECT_EQ(at("2026-11-23 09:36", now), utc(2026, 11, 23, 9, 36));
		EXPECT_EQ(at("2026-11-23 9:36", now), utc(2026, 11, 23, 9, 36));
		EXPECT_EQ(at("2026-11-23T09:36:12", now), utc(2026, 11, 23, 9, 36, 12));
		// The future parses; resolution refuses it.
		EXPECT_EQ(at("2028-02-29 00:00", now), utc(2028, 2, 29, 0, 0));
		EXPECT_EQ(at("1970-01-01 00:00", now), 0u);
	}
	const ScopedTz tz(cet);
	EXPECT_EQ(at("2026-01-15 12:00", now), utc(2026, 1, 15, 11, 0));
	EXPECT_EQ(at("2026-07-15 12:00", now), utc(2026, 7, 15, 10, 0));
}

TEST(CtlTimeSpec, RefusesEverythingElse)
{
	const ScopedTz tz("UTC0");
	const std::uint64_t now = utc(2026, 11, 23, 10, 0);
	const std::vector<std::string> bad = {
		"", " now", "now ", "Now", "yesterday", "noww",
		"25:00", "24:00", "12:60", "12:00:60", "9:7", "09:7", "123:00", ":30", "12:",
		"12:00:", "12:00:0", "12:00:00:00", "12", "12h30", "12:3a", "-1:00", "+12:00",
		"2026-02-30 10:00", "2026-13-01 10:00", "2026-00-10 10:00", "2026-11-00 10:00",
		"2026-11-23", "2026-11-23 ", "2026-11-23  10:00", "2026-11-23x10:00",
		"2026-11-23 10:00 x", "2026-11-23 10:00:00.5", "26-11-23 10:00", "2026-1-23 10:00",
		"2026/11/23 10:00", "1969-12-31 23:59", "2600-01-01 00:00", "9999-12-31 23:59",
		"+2h", "2h", "-2", "-h", "-2x", "-2hours", "-2 h", "- 2h", "--2h", "-2H", "-1.5h",
		"-2h ", "-2h3m", "-99999999999999999999s", "-18446744073709551615d", "-200000d",
		"#", "#-1", "#+1", "#1a", "# 1", "#0x10", "#99999999999999999999",
		"@", "@bad label", "@a/b", "@é", "@" + std::string(64, 'x'), "@@a",
	};
	for (const std::string &text : bad) {
		const std::string msg = refusal(text, now);
		EXPECT_NE(msg.find("'" + text + "'"), std::string::npos) << msg;
		EXPECT_NE(msg.find("use HH:MM[:SS], 'YYYY-MM-DD HH:MM[:SS]', -30s, -15min, -2h, "
				   "-1d, @mark, #seq or now"),
			  std::string::npos)
			<< msg;
	}
}

TEST(CtlTimeSpec, RefusalsSayWhy)
{
	const ScopedTz tz("UTC0");
	const std::uint64_t now = utc(2026, 11, 23, 10, 0);
	EXPECT_EQ(refusal("25:00", now),
		  "'25:00' is not a time (hours go from 00 to 23): use HH:MM[:SS], "
		  "'YYYY-MM-DD HH:MM[:SS]', -30s, -15min, -2h, -1d, @mark, #seq or now");
	EXPECT_EQ(refusal("9:7", now),
		  "'9:7' is not a time: use HH:MM[:SS], 'YYYY-MM-DD HH:MM[:SS]', "
		  "-30s, -15min, -2h, -1d, @mark, #seq or now");
	EXPECT_NE(refusal("12:60", now).find("(minutes go from 00 to 59)"), std::string::npos);
	EXPECT_NE(refusal("12:00:60", now).find("(seconds go from 00 to 59)"), std::string::npos);
	EXPECT_NE(refusal("2026-02-30 10:00", now).find("(2026-02-30 is not a date)"),
		  std::string::npos);
	EXPECT_NE(refusal("-2hours", now).find("(units are s, sec, m, min, h, d)"),
		  std::string::npos);
	EXPECT_NE(refusal("-200000d", now).find("(before 1970)"), std::string::npos);
	EXPECT_NE(refusal("1969-12-31 23:59", now).find("(before 1970)"), std::string::npos);
	EXPECT_NE(refusal("2600-01-01 00:00", now).find("(too far in the future)"),
		  std::string::npos);
	EXPECT_NE(refusal("#99999999999999999999", now).find("(number too large)"),
		  std::string::npos);
	EXPECT_NE(refusal("@bad label", now).find("(a mark label is 1 to 63 characters of A-Z a-z "
						   "0-9 . _ : -)"),
		  std::string::npos);
}

TEST(CtlTimeSpec, SpringForwardGapIsRefused)
{
	const ScopedTz tz(cet);
	const std::uint64_t noon = utc(2026, 3, 29, 10, 0);	// 12:00 CEST
	EXPECT_EQ(refusal("02:30", noon),
		  "'02:30' does not exist on 2026-03-29: the clocks skipped it "
		  "at the daylight-saving change");
	EXPECT_EQ(refusal("2026-03-29 02:30", noon),
		  "'2026-03-29 02:30' does not exist on 2026-03-29: the clocks skipped it at the "
		  "daylight-saving change");
	EXPECT_NE(refusal("2026-03-29 02:00", noon).find("does not exist"), std::string::npos);
	EXPECT_NE(refusal("2026-03-29 02:59:59", noon).find("does not exist"), std::string::npos);
	EXPECT_NE(refusal("2026-03-29 02:30", utc(2026, 3, 1, 0, 0)).find("does not exist"),
		  std::string::npos);
	// Either side of the gap.
	EXPECT_EQ(at("2026-03-29 01:59:59", noon), utc(2026, 3, 29, 0, 59, 59));
	EXPECT_EQ(at("2026-03-29 03:00", noon), utc(2026, 3, 29, 1, 0));
	EXPECT_EQ(at("01:59", noon), utc(2026, 3, 29, 0, 59));
	EXPECT_EQ(at("03:00", noon), utc(2026, 3, 29, 1, 0));
	// At 01:30 CET the gap is still to come: 02:30 is yesterday's.
	EXPECT_EQ(at("02:30", utc(2026, 3, 29, 0, 30)), utc(2026, 3, 28, 1, 30));
	// At 02:00 CEST on the 30th, 02:30 is yesterday's, which did not exist.
	EXPECT_EQ(refusal("02:30", utc(2026, 3, 30, 0, 0)),
		  "'02:30' does not exist on 2026-03-29: the clocks skipped it at the "
		  "daylight-saving change");
}

TEST(CtlTimeSpec, FallBackOverlapTakesTheLaterPastOccurrence)
{
	const ScopedTz tz(cet);
	// 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
	const std::uint64_t first = utc(2026, 10, 25, 0, 30), second = utc(2026, 10, 25, 1, 30);
	EXPECT_EQ(at("2026-10-25 02:30", utc(2026, 10, 25, 12, 0)), second);
	EXPECT_EQ(at("02:30", utc(2026, 10, 25, 12, 0)), second);
	EXPECT_EQ(at("02:30", second), second);
	// Between the two: the later is still to come.
	EXPECT_EQ(at("2026-10-25 02:30", utc(2026, 10, 25, 1, 0)), first);
	EXPECT_EQ(at("02:30", utc(2026, 10, 25, 1, 15)), first);	// 02:15 CET
	EXPECT_EQ(at("02:30", utc(2026, 10, 25, 0, 45)), first);	// 02:45 CEST
	// Both to come (02:15 CEST): yesterday's.
	EXPECT_EQ(at("02:30", utc(2026, 10, 25, 0, 15)), utc(2026, 10, 24, 0, 30));
	// Both in the future: the earlier, which resolution refuses all the same.
	EXPECT_EQ(at("2026-10-25 02:30", utc(2026, 10, 1, 0, 0)), first);
	// Either side of the overlap.
	EXPECT_EQ(at("2026-10-25 01:59:59", utc(2026, 10, 25, 12, 0)),
		  utc(2026, 10, 24, 23, 59, 59));
	EXPECT_EQ(at("2026-10-25 03:00", utc(2026, 10, 25, 12, 0)), utc(2026, 10, 25, 2, 0));
}

TEST(CtlTimeSpec, ClockTimesAcrossADaylightSavingChange)
{
	const ScopedTz tz(cet);
	// On the 23-hour day, 12:00 is CEST: not midnight + 12 h.
	EXPECT_EQ(at("12:00", utc(2026, 3, 29, 16, 0)), utc(2026, 3, 29, 10, 0));
	// On the 25-hour day, 12:00 is CET.
	EXPECT_EQ(at("12:00", utc(2026, 10, 25, 17, 0)), utc(2026, 10, 25, 11, 0));
	// 00:30 CEST on the 30th: yesterday is the 29th, though 24 h ago was
	// the 28th (23:30 CET).
	EXPECT_EQ(at("12:00", utc(2026, 3, 29, 22, 30)), utc(2026, 3, 29, 10, 0));
	// 23:30 CET on the 25th: yesterday is the 24th, though 24 h ago was
	// still the 25th (00:30 CEST).
	EXPECT_EQ(at("23:45", utc(2026, 10, 25, 22, 30)), utc(2026, 10, 24, 21, 45));
	// The day before the change is in the other offset.
	EXPECT_EQ(at("13:00", utc(2026, 3, 29, 10, 0)), utc(2026, 3, 28, 12, 0));
	EXPECT_EQ(at("13:00", utc(2026, 10, 25, 11, 0)), utc(2026, 10, 24, 11, 0));
}

TEST(CtlTimeSpec, ResolvesTimesToTheNewestRecordAtOrBefore)
{
	const ScopedTz tz("UTC0");
	dlt::Env env;
	env.clock.set(utc(2026, 11, 23, 10, 0));
	env.w().append_zero(0, 1);			// 1
	env.clock.set(utc(2026, 11, 23, 10, 5));
	env.w().append_zero(1, 1);			// 2
	env.w().append_mark("before-upgrade");		// 3, same time
	env.clock.set(utc(2026, 11, 23, 10, 10));
	env.w().append_zero(2, 1);			// 4
	const deltalog::LogState log = env.recover();
	const std::uint64_t now = utc(2026, 11, 23, 12, 0);

	ResolvedTime r = resolve(log, "10:02", now);
	EXPECT_EQ(r.seq, 1u);
	EXPECT_EQ(r.time_ns, utc(2026, 11, 23, 10, 0));
	EXPECT_EQ(r.description, "2026-11-23 10:00:00 (seq 1)");
	EXPECT_EQ(resolve(log, "10:04:59", now).seq, 1u);

	r = resolve(log, "10:05", now);	// of equal times, the last
	EXPECT_EQ(r.seq, 3u);
	EXPECT_EQ(r.time_ns, utc(2026, 11, 23, 10, 5));
	EXPECT_EQ(r.description, "2026-11-23 10:05:00 (seq 3, mark before-upgrade)");

	EXPECT_EQ(resolve(log, "-1h", now).seq, 4u);		// after the newest
	EXPECT_EQ(resolve(log, "12:00", now).seq, 4u);		// now itself
	EXPECT_EQ(resolve(log, "now", now).description, "2026-11-23 10:10:00 (seq 4)");

	r = resolve(log, "2026-11-23 09:00", now);	// before any write, after the format
	EXPECT_EQ(r.seq, 0u);
	EXPECT_EQ(r.time_ns, 0u);
	EXPECT_EQ(r.description, "the origin as it was before any logged write (seq 0)");

	r = resolve(log, "#2", now);
	EXPECT_EQ(r.seq, 2u);
	EXPECT_EQ(r.time_ns, utc(2026, 11, 23, 10, 5));
	EXPECT_EQ(r.description, "2026-11-23 10:05:00 (seq 2)");
	EXPECT_EQ(resolve(log, "#0", now).description,
		  "the origin as it was before any logged write (seq 0)");
	EXPECT_EQ(resolve(log, "@before-upgrade", now).seq, 3u);
}

TEST(CtlTimeSpec, TimeInTheFutureIsRefused)
{
	const ScopedTz tz("UTC0");
	dlt::Env env;
	env.clock.set(utc(2026, 11, 23, 10, 10));
	env.w().append_zero(0, 1);
	const deltalog::LogState log = env.recover();
	const std::uint64_t now = utc(2026, 11, 23, 12, 0);

	Failure f = refused(log, "2026-11-23 12:00:01", now);
	EXPECT_STREQ(f.what(), "2026-11-23 12:00:01 is in the future (now is 2026-11-23 12:00:00)");
	EXPECT_EQ(f.hint(), "The newest state is 2026-11-23 10:10:00 (seq 1); 'now' names it.");
	f = refused(log, "2026-11-24 09:36", now);
	EXPECT_STREQ(f.what(), "2026-11-24 09:36 (2026-11-24 09:36:00) is in the future (now is "
			       "2026-11-23 12:00:00)");
}

TEST(CtlTimeSpec, TimeBeforeTheLogWasCreatedIsRefused)
{
	const ScopedTz tz("UTC0");
	dlt::Env env;	// formatted at 1 s after the epoch
	env.clock.set(utc(2026, 11, 23, 10, 0));
	env.w().append_zero(0, 1);
	const deltalog::LogState log = env.recover();

	const Failure f = refused(log, "1970-01-01 00:00", utc(2026, 11, 23, 12, 0));
	EXPECT_STREQ(f.what(),
		     "1970-01-01 00:00 (1970-01-01 00:00:00) is before the oldest history in "
		     "the log: the oldest state is seq 0, the origin as it was when the log "
		     "was created at 1970-01-01 00:00:01");
	EXPECT_EQ(f.hint(), "");
	EXPECT_EQ(resolve(log, "1970-01-01 00:00:01", utc(2026, 11, 23, 12, 0)).seq, 0u);
}

TEST(CtlTimeSpec, MergedHistoryIsRefusedAsCommitted)
{
	const ScopedTz tz("UTC0");
	dlt::Env env;
	const std::uint64_t times[] = {utc(2026, 11, 23, 9, 0), utc(2026, 11, 23, 9, 30),
				       utc(2026, 11, 23, 10, 2, 11), utc(2026, 11, 23, 10, 30),
				       utc(2026, 11, 23, 11, 0)};
	for (std::uint64_t i = 0; i < 5; i++) {
		env.clock.set(times[i]);
		env.w().append_zero(i, 1);	// seq i + 1
	}
	env.w().merge(env.origin, 2);
	deltalog::LogState log = env.recover();
	const std::uint64_t now = utc(2026, 11, 23, 12, 0);

	Failure f = refused(log, "09:36", now);
	EXPECT_STREQ(f.what(),
		     "09:36 (2026-11-23 09:36:00) is before the oldest history in the log: the "
		     "oldest state is seq 3 at 2026-11-23 10:02:11 (earlier history was "
		     "committed to the origin)");
	EXPECT_EQ(resolve(log, "10:02:11", now).seq, 3u);

	f = refused(log, "#1", now);
	EXPECT_STREQ(f.what(), "seq 1 is before the oldest history in the log: it holds seq 2 to 5 "
			       "(earlier history was committed to the origin)");
	EXPECT_EQ(resolve(log, "#2", now).seq, 2u);

	env.w().merge(env.origin, 5);
	log = env.recover();
	f = refused(log, "11:30", now);
	EXPECT_STREQ(f.what(),
		     "11:30 (2026-11-23 11:30:00) names no state in the log: everything up to "
		     "seq 5 was committed to the origin and nothing was written since");
	EXPECT_EQ(f.hint(), "'now' names the origin as it is.");
	const ResolvedTime r = resolve(log, "now", now);
	EXPECT_EQ(r.seq, 5u);
	EXPECT_EQ(r.time_ns, 0u);
	EXPECT_EQ(r.description, "the origin as committed up to seq 5");
}

TEST(CtlTimeSpec, SeqsOutOfRangeSayTheRange)
{
	const ScopedTz tz("UTC0");
	dlt::Env env;
	const std::uint64_t now = utc(2026, 11, 23, 12, 0);
	EXPECT_STREQ(refused(env.recover(), "#1", now).what(),
		     "seq 1 is after the newest state in the log: it holds only seq 0");
	EXPECT_EQ(resolve(env.recover(), "now", now).seq, 0u);
	for (std::uint64_t i = 0; i < 5; i++)
		env.w().append_zero(i, 1);
	const deltalog::LogState log = env.recover();
	EXPECT_STREQ(refused(log, "#6", now).what(),
		     "seq 6 is after the newest state in the log: it holds seq 0 to 5");
	EXPECT_EQ(resolve(log, "#5", now).seq, 5u);
}

TEST(CtlTimeSpec, MarksNewestWinsAndUnknownOnesListTheLabels)
{
	const ScopedTz tz("UTC0");
	dlt::PairOptions opts;
	opts.meta_blocks = 32;
	dlt::Env env(opts);
	const std::uint64_t now = utc(2026, 11, 23, 12, 0);
	EXPECT_EQ(refused(env.recover(), "@a", now).hint(), "The log has no marks.");

	env.clock.set(utc(2026, 11, 23, 10, 0));
	for (const char *label : {"a", "b", "c"}) {
		env.clock.advance(60 * sec);
		env.w().append_mark(label);	// 1 to 3
	}
	EXPECT_EQ(refused(env.recover(), "@z", now).hint(),
		  "Marks in the log, newest first: c, b, a.");
	for (const char *label : {"a", "d", "e", "f", "g"}) {
		env.clock.advance(60 * sec);
		env.w().append_mark(label);	// 4 to 8
	}
	env.w().append_mark("gone");		// 9
	env.w().rollback(8);			// 10: voids 9
	deltalog::LogState log = env.recover();

	const ResolvedTime r = resolve(log, "@a", now);
	EXPECT_EQ(r.seq, 4u);
	EXPECT_EQ(r.description, "2026-11-23 10:04:00 (seq 4, mark a)");
	EXPECT_EQ(resolve(log, "@b", now).seq, 2u);

	Failure f = refused(log, "@nope", now);
	EXPECT_STREQ(f.what(), "no mark 'nope' in the log");
	EXPECT_EQ(f.hint(), "Marks in the log, newest first: g, f, e, d, a and 2 more.");
	f = refused(log, "@gone", now);
	EXPECT_STREQ(f.what(), "no mark 'gone' in the log");

	env.w().merge(env.origin, 3);
	log = env.recover();
	f = refused(log, "@b", now);
	EXPECT_STREQ(f.what(),
		     "mark 'b' is before the oldest history in the log: it was committed to "
		     "the origin with everything up to seq 3");
	EXPECT_EQ(resolve(log, "@a", now).seq, 4u);
	EXPECT_EQ(refused(log, "@x", now).hint(), "Marks in the log, newest first: g, f, e, d, a.");
}

TEST(CtlTimeSpec, WallClockIsTheRealtimeClock)
{
	const auto before = std::chrono::system_clock::now();
	const std::uint64_t t = wall_clock_ns();
	const auto after = std::chrono::system_clock::now();
	auto ns = [](std::chrono::system_clock::time_point p) {
		using std::chrono::nanoseconds;
		return static_cast<std::uint64_t>(
			std::chrono::duration_cast<nanoseconds>(p.time_since_epoch()).count());
	};
	EXPECT_LE(ns(before), t);
	EXPECT_LE(t, ns(after));
}
