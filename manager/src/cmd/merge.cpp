// deltalogctl merge NAME --until T|--newest-mark [--wait] [--yes]
#include "base/command.hpp"
#include "base/confirm.hpp"
#include "base/errors.hpp"
#include "base/lock.hpp"
#include "base/output.hpp"
#include "base/progress.hpp"
#include "base/signals.hpp"
#include "history.hpp"
#include "target.hpp"
#include "timespec.hpp"

#include "deltalog/device.hpp"
#include "deltalog/log.hpp"
#include "deltalog/state.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <chrono>
#include <ctime>
#include <optional>
#include <thread>
#include <vector>

namespace deltalogctl {

namespace {

void declare(po::options_description &options)
{
	options.add_options()
		("until", po::value<std::string>()->value_name("T"), "commit the history up to T")
		("newest-mark", po::bool_switch(), "commit up to the newest mark, whatever its label (instead of --until)")
		("wait", po::bool_switch(), "show progress and return when the commit is done")
		("yes,y", po::bool_switch(), "do not ask");
}

// What the kernel was asked to merge, decided under the command lock; seq 0
// when nothing was started (exit_status says why: nothing to do, or no).
struct MergePlan {
	std::uint64_t seq = 0;
	std::string description;
	int exit_status = 0;
};

std::string finish_hint(const std::string &name, std::uint64_t seq)
{
	return fmt::format("Finish it: deltalogctl merge {} --until '#{}'", name, seq);
}

// The commit the kernel has unfinished (running, or stopped by a cancel, an
// error or a crash), 0 if none.
std::uint64_t unfinished_target(const TargetStatus &s)
{
	return s.merge_activity == "none" ? 0 : s.merge_target;
}

// Views show history: a merge past one would take it away (the kernel
// refuses too, but only with a line in its log).
void refuse_views_before(const ActiveDevice &dev, std::uint64_t seq)
{
	std::vector<std::string> names;
	std::string first;
	for (const OpenView &v : open_views(dev))
		if (v.seq < seq) {
			names.push_back(fmt::format("'{}' (at #{})", v.name, v.seq));
			if (first.empty())
				first = v.name;
		}
	if (!names.empty())
		throw Failure(dev.info.name,
			      fmt::format("cannot commit past #{}: views show history before it: {}", seq,
					  fmt::join(names, ", ")),
			      fmt::format("Remove them first (deltalogctl deactivate {}), or commit up to their point.",
					  first));
}

// A label for the mark a freeze records: merge-20261124-013500.
std::string freeze_label()
{
	const std::time_t t = std::time(nullptr);
	std::tm tm{};
	localtime_r(&t, &tm);
	char buf[32];
	std::strftime(buf, sizeof(buf), "merge-%Y%m%d-%H%M%S", &tm);
	return buf;
}

// Freezes the filesystem (suspend with lockfs: in-flight I/O drained), marks
// the merge point, resumes at once. Returns the mark's seq.
std::uint64_t freeze_and_mark(const std::string &name, const std::string &label)
{
	std::string reply;
	{
		dm::Suspended frozen(name, true);
		reply = dm::message(name, "mark " + label);
		frozen.resume();
	}
	std::uint64_t seq = 0;
	std::from_chars(reply.data(), reply.data() + reply.size(), seq);
	if (!seq)
		throw Failure(name, fmt::format("the kernel answered the mark with '{}', not a seq", reply));
	return seq;
}

// spec nullopt: up to the newest mark (--newest-mark).
MergePlan plan_and_start(const std::string &name, const std::optional<TimeSpec> &until, bool yes)
{
	const CommandLock lock;
	const ActiveDevice dev = active_device(name);
	if (dev.table.options.view_seq)
		throw Failure(name, "cannot commit a view", "Name the protected device, not one of its views.");
	if (dev.status.state == "failed")
		throw Failure(name, "the device has failed (a write to its delta failed): it cannot commit",
			      "'deltalogctl status " + name + "' and the kernel log say more.");

	// The whole history: pending records flushed, the log read from the delta.
	flush_device(name);
	const deltalog::LogState log = [&] {
		const deltalog::Device delta =
			deltalog::Device::open(dev.delta_path, deltalog::Device::Access::read_only);
		return deltalog::recover(delta);
	}();
	const std::uint64_t now = wall_clock_ns();
	TimeSpec spec;
	if (until) {
		spec = *until;
	} else if (const auto mark = newest_mark(log)) {
		spec.kind = TimeSpec::Kind::mark;
		spec.label = mark->label;
		spec.text = "@" + mark->label;
	} else {
		fmt::print("Nothing to commit: the log of {} holds no mark.\n", name);
		return {};
	}
	const ResolvedTime target = resolve_time_spec(spec, log, now, name);

	const std::uint64_t unfinished = std::max(unfinished_target(dev.status),
						  log.sb.merging() ? log.sb.merge_target_seq : 0);
	if (unfinished && target.seq < unfinished)
		throw Failure(name,
			      fmt::format("a commit up to #{} is unfinished: it must be finished before anything "
					  "else, and {} is before it",
					  unfinished, target.description),
			      finish_hint(name, unfinished));
	if (dev.status.merge_activity == "running" && dev.status.merge_target != target.seq)
		throw Failure(name, fmt::format("a commit up to #{} is running", dev.status.merge_target),
			      fmt::format("Wait for it ('deltalogctl status {}' shows its progress), then commit again.",
					  name));
	// Nothing logged after T: the state at T is the state now, and a freeze
	// makes it a clean point of the filesystem (a mark after every view).
	const bool freeze = spec.kind == TimeSpec::Kind::now || target.seq == log.newest_seq();
	refuse_views_before(dev, freeze ? log.newest_seq() + 1 : target.seq);
	const std::uint64_t merged = log.sb.merged_seq;
	const HistorySummary to_merge = summarize(log, merged, target.seq);
	const HistorySummary kept = summarize(log, target.seq);
	if (!to_merge.records && !unfinished) {
		fmt::print("Nothing to commit: the origin already holds {} as of {}.\n", name, target.description);
		return {};
	}
	std::uint64_t bytes = 0;
	for (const deltalog::Extent &e : deltalog::state_at(log, target.seq).extents())
		bytes += e.length * 512;

	fmt::print("Committing {} up to {}.\n", name, target.description);
	fmt::print("It writes {} into {}: the result of {}.\n"
		   "That history can no longer be rolled back afterwards.\n",
		   human_size(bytes), dev.origin_path, describe(to_merge));
	if (freeze)
		fmt::print("The filesystem is frozen for a moment to mark a clean point to commit up to.\n");
	if (kept.records)
		fmt::print("Later history stays in the log: {}.\n", describe(kept));
	fmt::print("The device stays in use while the kernel copies.\n");
	if (!yes && !confirm(name, fmt::format("Write them into {}?", dev.origin_path))) {
		fmt::print("Nothing changed.\n");
		return {0, {}, 1};
	}

	MergePlan plan{target.seq, target.description, 0};
	if (freeze) {
		const std::string label = freeze_label();
		plan.seq = freeze_and_mark(name, label);
		plan.description = fmt::format("@{} (seq {})", label, plan.seq);
		fmt::print("Marked the commit point @{} (seq {}).\n", label, plan.seq);
	}
	dm::message(name, fmt::format("merge {}", plan.seq));
	return plan;
}

// Polls the status until the kernel's merge is done; ^C stops waiting, not
// the merge.
int wait_for(const std::string &name, const MergePlan &plan)
{
	const SignalsHeld signals;
	std::optional<Progress> progress;
	for (;;) {
		const TargetStatus s = active_device(name).status;
		if (s.merged_seq >= plan.seq && s.merge_activity == "none")
			break;
		if (s.merge_activity == "stopped")
			throw Failure(name,
				      fmt::format("the commit up to #{} stopped after {} of {} (cancelled, or an I/O "
						  "error: the kernel log says which); the log is intact",
						  plan.seq, human_size(s.merge_copied * 4096),
						  human_size(s.merge_total * 4096)),
				      finish_hint(name, plan.seq));
		if (s.merge_total && !progress)
			progress.emplace("committing", s.merge_total * 4096);
		if (progress)
			progress->update(s.merge_copied * 4096);
		if (SignalsHeld::take_pending()) {
			progress.reset();
			fmt::print("Stopped waiting: the commit goes on in the background; 'deltalogctl status {}' "
				   "shows its progress.\n",
				   name);
			return 1;
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	}
	progress.reset();
	fmt::print("Committed: the origin now holds {} as of {}.\n", name, plan.description);
	return 0;
}

int run(const Args &args)
{
	const std::string &name = args.pos(0);
	const auto until = args.opt("until");
	const bool newest = args.flag("newest-mark");
	if (until && newest)
		throw UsageError("--until and --newest-mark exclude each other");
	if (!until && !newest)
		throw UsageError("--until T (or --newest-mark) is required");
	const std::optional<TimeSpec> spec =
		until ? std::optional<TimeSpec>(parse_time_spec(*until, wall_clock_ns())) : std::nullopt;
	const MergePlan plan = plan_and_start(name, spec, args.flag("yes"));
	if (!plan.seq)
		return plan.exit_status;
	if (args.flag("wait"))
		return wait_for(name, plan);
	fmt::print("Committing in the background: 'deltalogctl status {}' shows the progress.\n", name);
	return 0;
}

} // namespace

extern const Command merge_command = {
	"merge",
	"merge NAME --until T|--newest-mark [--wait] [--yes]",
	"commit the history up to time T into the origin, while the device is in use",
	R"(Writes the state of /dev/mapper/NAME at T into its origin and frees that
part of the log. Writes after T stay in the log: the device itself does not
change. Afterwards the origin on its own is what the device was at T, and
history up to T can no longer be rolled back.

T takes the same forms as for 'deltalogctl rollback' (HH:MM, a date and
time, -2h, @LABEL, #SEQ, now). merge prints the time and sequence number it
resolved T to, what it will write into the origin, and asks unless --yes.

The merge runs online, in the kernel: the device stays mounted and in use,
reads stay correct throughout, and new writes go to the log as always. For
'now' (or a time after the newest write), the filesystem is frozen for a
moment (the device is suspended with lockfs, which drains the I/O in
flight) and a mark records the commit point, so that the origin gets a
clean filesystem. Without --wait, merge returns once the kernel has
started and 'deltalogctl status NAME' shows the progress; with --wait it
shows a progress bar and returns when the commit is done (^C stops
waiting, not the commit).

While the device is in use, the kernel copies at most the table's
merge_rate (16 MiB/s unless set), so the device keeps its speed; when it
is idle, the copy runs at full speed.

A commit is crash-safe: the origin is flushed before the log records the
new commit point, and only then is log space freed. After a crash or power
cut, the next activation finishes the commit in the background. A commit
past a view's point is refused while the view is open ('deltalogctl view'
pins the history it shows).

--newest-mark, instead of --until, commits up to the newest mark whatever
its label, and does nothing (exit 0) when the log holds no mark: what the
commit= timers of deltalogtab(5) run.

Examples:
  deltalogctl merge box --until @before-upgrade
  deltalogctl merge box --until now --wait --yes
  deltalogctl merge box --newest-mark --wait --yes
)",
	{"NAME"},
	declare,
	run,
};

} // namespace deltalogctl
