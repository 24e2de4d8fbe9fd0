// deltalogctl log NAME|DELTA [--since T] [--until T] [--json]
#include "base/command.hpp"
#include "base/errors.hpp"
#include "base/output.hpp"
#include "history.hpp"
#include "target.hpp"
#include "timespec.hpp"

#include "deltalog/device.hpp"
#include "deltalog/json.hpp"
#include "deltalog/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace deltalogctl {

namespace {

void declare(po::options_description &options)
{
	options.add_options()
		("since", po::value<std::string>()->value_name("T"), "only records after T")
		("until", po::value<std::string>()->value_name("T"), "only records up to T")
		("json", po::bool_switch(), "print the records as JSON");
}

// The live records a bound keeps: times compare by time, marks and seqs by
// the seq they name.
struct Bounds {
	std::uint64_t after_seq = 0, up_to_seq = std::numeric_limits<std::uint64_t>::max();
	std::uint64_t from_ns = 0, to_ns = std::numeric_limits<std::uint64_t>::max();
	bool keeps(const deltalog::Record &r) const
	{
		return r.seq > after_seq && r.seq <= up_to_seq && r.time_ns >= from_ns && r.time_ns <= to_ns;
	}
};

Bounds bounds(const std::optional<TimeSpec> &since, const std::optional<TimeSpec> &until,
	      const deltalog::LogState &log, std::uint64_t now, const std::string &object)
{
	Bounds b;
	if (since) {
		if (since->kind == TimeSpec::Kind::time)
			b.from_ns = since->time_ns;
		else
			b.after_seq = resolve_time_spec(*since, log, now, object).seq;
	}
	if (until) {
		if (until->kind == TimeSpec::Kind::time)
			b.to_ns = until->time_ns;
		else
			b.up_to_seq = resolve_time_spec(*until, log, now, object).seq;
	}
	return b;
}

std::string what(const deltalog::Record &r)
{
	switch (r.kind) {
	case deltalog::RecordKind::mark:
		return "@" + r.label;
	case deltalog::RecordKind::rollback:
		return fmt::format("back to #{}", r.to_seq);
	default:
		return fmt::format("{} at {}", human_size(std::uint64_t{r.nr_sectors} * 512),
				   r.origin_sector * 512);
	}
}

const char *kind_word(const deltalog::Record &r)
{
	switch (r.kind) {
	case deltalog::RecordKind::write:
		return "write";
	case deltalog::RecordKind::zero:
		return (r.flags & DLOG_RF_DISCARD) ? "discard" : "zero";
	case deltalog::RecordKind::mark:
		return "mark";
	case deltalog::RecordKind::rollback:
		return "rollback";
	}
	return "?";
}

void print_json(const std::string &object, const std::vector<deltalog::Record> &records,
		const HistorySummary &h)
{
	deltalog::JsonWriter j;
	j.begin_object().field("device", object).key("records").begin_array();
	for (const auto &r : records) {
		j.begin_object()
			.field("seq", r.seq)
			.field("time_ns", r.time_ns)
			.field("time", local_time(r.time_ns, true))
			.field("kind", kind_word(r));
		if (r.is_io())
			j.field("offset", r.origin_sector * 512).field("bytes", std::uint64_t{r.nr_sectors} * 512);
		if (r.kind == deltalog::RecordKind::mark)
			j.field("label", r.label);
		j.end_object();
	}
	j.end_array()
		.key("totals")
		.begin_object()
		.field("records", h.records)
		.field("writes", h.writes)
		.field("write_bytes", h.write_bytes)
		.field("zeroes", h.zeroes)
		.field("zero_bytes", h.zero_bytes)
		.field("marks", h.marks)
		.end_object()
		.end_object();
	fmt::print("{}\n", j.str());
}

int run(const Args &args)
{
	const std::string &object = args.pos(0);
	// Times are checked before any device is looked at: bad usage is exit 2.
	const std::uint64_t now = wall_clock_ns();
	std::optional<TimeSpec> since, until;
	if (auto v = args.opt("since"))
		since = parse_time_spec(*v, now);
	if (auto v = args.opt("until"))
		until = parse_time_spec(*v, now);
	std::string delta_path = object;
	if (object.find('/') == std::string::npos) {
		delta_path = active_device(object).delta_path;
		flush_device(object);
	}
	const deltalog::Device delta = deltalog::Device::open(delta_path, deltalog::Device::Access::read_only);
	const deltalog::LogState log = deltalog::recover(delta);
	const Bounds b = bounds(since, until, log, now, object);

	std::vector<deltalog::Record> shown;
	for (const deltalog::Record &r : log.live())
		if (b.keeps(r) && r.kind != deltalog::RecordKind::rollback)
			shown.push_back(r);
	HistorySummary h;
	for (const auto &r : shown)
		add(h, r);
	if (args.flag("json")) {
		print_json(object, shown, h);
		return 0;
	}

	Table t({"TIME", "SEQ", "KIND", "WHAT"}, {false, true, false, false});
	for (auto it = shown.rbegin(); it != shown.rend(); ++it)
		t.add({local_time(it->time_ns, true), fmt::format("#{}", it->seq), kind_word(*it), what(*it)});
	if (!t.empty())
		fmt::print("{}", t.render());
	fmt::print("{}{}\n", shown.empty() ? "" : "\n", describe(h));
	if (log.sb.merged_seq)
		fmt::print("History up to #{} was committed to the origin.\n", log.sb.merged_seq);
	return 0;
}

} // namespace

extern const Command log_command = {
	"log",
	"log NAME|DELTA [--since T] [--until T] [--json]",
	"list the writes and marks of the history, newest first, with their times",
	R"(Lists the history the log holds, newest first, one line per record like
'git log --oneline': its local time, sequence number (#SEQ, which rollback,
merge and view accept), kind (write, zero, discard, mark) and what it did
(size and byte offset on the device, or the mark's @LABEL), then totals.
Records undone by a rollback are not shown; history that was committed into
the origin is gone from the log and only counted.

NAME is an active device (it is flushed first, so the newest writes are
listed too); a path (anything with a '/') reads the delta device directly,
active or not, as it is on the disk.

--since T shows the records after T, --until T those up to T (T as for
rollback: HH:MM, a date, -2h, @LABEL, #SEQ, now).

Examples:
  deltalogctl log box --since 09:00
  deltalogctl log box --since @before-upgrade --json
)",
	{"NAME|DELTA"},
	declare,
	run,
};

} // namespace deltalogctl
