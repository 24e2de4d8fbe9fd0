// deltalogctl merge NAME --until T [--wait] [--yes]
#include "base/command.hpp"
#include "base/lock.hpp"
#include "base/confirm.hpp"
#include "base/errors.hpp"
#include "base/output.hpp"
#include "base/progress.hpp"
#include "base/signals.hpp"
#include "history.hpp"
#include "offline.hpp"
#include "timespec.hpp"

#include "deltalog/state.hpp"
#include "deltalog/writer.hpp"

#include <fmt/format.h>

#include <vector>

namespace deltalogctl {

namespace {

void declare(po::options_description &options)
{
	options.add_options()
		("until", po::value<std::string>()->value_name("T"), "commit the history up to T (required)")
		("wait", po::bool_switch(), "return only when the commit is done (offline it always is)")
		("yes,y", po::bool_switch(), "do not ask");
}

int run(const Args &args)
{
	const CommandLock lock;
	const std::string &name = args.pos(0);
	const auto until = args.opt("until");
	if (!until)
		throw UsageError("--until T is required");
	const std::uint64_t now = wall_clock_ns();
	const TimeSpec spec = parse_time_spec(*until, now);

	require_closed(active_device(name), "commit",
		       "This version commits offline only (online merge is not available yet): unmount it "
		       "(or stop the programs using it) and run the merge again.");
	OfflineDevice dev(name, "commit");
	const ResolvedTime target = resolve_time_spec(spec, dev.log(), now, name);
	const deltalog::Superblock &sb = dev.log().sb;
	if (sb.merging() && target.seq < sb.merge_target_seq)
		throw Failure(name,
			      fmt::format("a commit up to #{} was interrupted: it must be finished before anything "
					  "else, and {} is before it",
					  sb.merge_target_seq, target.description),
			      fmt::format("Finish it: deltalogctl merge {} --until '#{}'", name, sb.merge_target_seq));
	const HistorySummary merged = summarize(dev.log(), dev.log().sb.merged_seq, target.seq);
	const HistorySummary kept = summarize(dev.log(), target.seq);
	if (!merged.records && !sb.merging()) {
		fmt::print("Nothing to commit: the origin already holds {} as of {}.\n", name, target.description);
		return 0;
	}
	// What the merge copies: the extents of the state at the target that
	// come from the log (data and zeroed ranges).
	const std::vector<deltalog::Extent> to_copy = deltalog::state_at(dev.log(), target.seq).extents();
	std::uint64_t copy = 0;
	for (const deltalog::Extent &e : to_copy)
		copy += e.length * 512;
	fmt::print("Committing {} up to {}.\n", name, target.description);
	fmt::print("It writes {} into {}: the result of {}.\n"
		   "That history can no longer be rolled back afterwards.\n",
		   human_size(copy), dev.device().origin_path, describe(merged));
	if (kept.records)
		fmt::print("Later history stays in the log: {}.\n", describe(kept));
	if (!args.flag("yes") && !confirm(name, fmt::format("Write them into {}?", dev.device().origin_path))) {
		fmt::print("Nothing changed.\n");
		return 1;
	}

	dev.quiesce();
	dev.take_down();
	{
		deltalog::Writer writer(dev.delta());
		const std::size_t extents = to_copy.size();
		Progress progress("committing", extents, false);
		deltalog::MergeHooks hooks;
		hooks.after_copy = [&](std::size_t copied) {
			progress.update(copied);
			if (SignalsHeld::take_pending())
				throw Failure(name, fmt::format("interrupted after {} of {} extents: the commit up to "
								"#{} is unfinished (the log records it)",
								copied, extents, target.seq),
					      fmt::format("Finish it: deltalogctl merge {} --until '#{}'", name,
							  target.seq));
		};
		writer.merge(dev.origin(), target.seq, hooks);
		writer.stop();
	}
	dev.bring_back();
	fmt::print("Committed: {} now holds {} as of {}.\n", dev.device().origin_path, name, target.description);
	return 0;
}

} // namespace

extern const Command merge_command = {
	"merge",
	"merge NAME --until T [--wait] [--yes]",
	"commit the history up to time T into the origin",
	R"(Writes the state of /dev/mapper/NAME at T into its origin and frees that
part of the log. Writes after T stay in the log: the device itself does not
change. Afterwards the origin on its own is what the device was at T, and
history up to T can no longer be rolled back.

T takes the same forms as for 'deltalogctl rollback' (HH:MM, a date and
time, -2h, @LABEL, #SEQ, now). merge prints the time and sequence number it
resolved T to, what it will write into the origin, and asks unless --yes.

In this version the merge runs offline: the device must not be mounted or
open (online merge comes with the next kernel target). It is taken down,
the origin is written from userspace, and the device is brought back. The
merge is crash-safe: if it is interrupted, the origin holds part of it and
the log records that; running the merge again finishes it, and so does
'deltalogctl activate' if the device was down. ^C is held while the device
is taken down, and takes effect once it is back.
A progress bar shows on a terminal. A merge is refused while a view of NAME
is open ('deltalogctl view'): the view pins the history it shows.

Examples:
  deltalogctl merge box --until @before-upgrade
  deltalogctl merge box --until now --yes
)",
	{"NAME"},
	declare,
	run,
};

} // namespace deltalogctl
