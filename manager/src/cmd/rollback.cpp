// deltalogctl rollback NAME --to T [--yes]
#include "base/command.hpp"
#include "base/lock.hpp"
#include "base/confirm.hpp"
#include "base/errors.hpp"
#include "base/output.hpp"
#include "history.hpp"
#include "offline.hpp"
#include "rollback_floor.hpp"
#include "timespec.hpp"

#include "deltalog/writer.hpp"

#include <fmt/format.h>

namespace deltalogctl {

namespace {

void declare(po::options_description &options)
{
	options.add_options()
		("to", po::value<std::string>()->value_name("T"), "the time to go back to (required)")
		("yes,y", po::bool_switch(), "do not ask");
}

int run(const Args &args)
{
	const CommandLock lock;
	const std::string &name = args.pos(0);
	const auto to = args.opt("to");
	if (!to)
		throw UsageError("--to T is required");
	const std::uint64_t now = wall_clock_ns();
	const TimeSpec spec = parse_time_spec(*to, now);

	OfflineDevice dev(name, "roll back");
	const ResolvedTime target = resolve_time_spec(spec, dev.log(), now, name);
	refuse_below_unfinished_commit(dev.log(), target, name, fmt::format("deltalogctl rollback {} --to", name));
	const HistorySummary undone = summarize(dev.log(), target.seq);
	fmt::print("Rolling {} back to {}.\n", name, target.description);
	if (!undone.records) {
		fmt::print("Nothing was written after that: the device is already in that state.\n");
		return 0;
	}
	fmt::print("This throws away everything written after it: {}.\n", describe(undone));
	if (!args.flag("yes") && !confirm(name, "Roll back?")) {
		fmt::print("Nothing changed.\n");
		return 1;
	}

	dev.quiesce();
	dev.take_down();
	{
		deltalog::Writer writer(dev.delta());
		writer.rollback(target.seq);
		writer.stop();
	}
	dev.bring_back();
	fmt::print("{} is back at {}.\n", name, target.description);
	return 0;
}

} // namespace

extern const Command rollback_command = {
	"rollback",
	"rollback NAME --to T [--yes]",
	"put the device back in the state it had at time T, throwing away later writes",
	R"(Makes /dev/mapper/NAME byte for byte what it was at T: every write logged
after T is thrown away (its log records are voided; the space they used is
free again). Sequence numbers are never reused: the history after T is
gone, and new writes continue from there.

T is one of:
  HH:MM[:SS]              the most recent past moment with that local time
                          (yesterday's if today's is still to come)
  'YYYY-MM-DD HH:MM[:SS]' a local date and time
  -15min, -2h, -1d, -30s  relative to now
  @LABEL                  the newest mark with that label ('deltalogctl mark')
  #SEQ                    a sequence number ('deltalogctl log' shows them)
  now                     the newest state (nothing to do)

Before it changes anything, rollback prints the time and sequence number T
resolved to and what it will throw away, and asks unless --yes. It refuses
while the device is mounted or open (naming the mount point), a T before
the oldest history still in the log (committed history cannot be rolled
back: it is in the origin), a T before the end of a commit a crash
interrupted (that history is being committed), a T in the future, and any
rollback while a view of NAME is open ('deltalogctl view').

The device is taken down for the rollback and brought back with the same
table; it must not be in use, so unmount it first.

Examples:
  deltalogctl rollback box --to 09:36
  deltalogctl rollback box --to @before-upgrade --yes
  deltalogctl rollback box --to -2h
)",
	{"NAME"},
	declare,
	run,
};

} // namespace deltalogctl
