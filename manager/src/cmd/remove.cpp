// deltalogctl remove NAME [--yes]
#include "base/command.hpp"
#include "base/lock.hpp"
#include "base/confirm.hpp"
#include "base/errors.hpp"
#include "base/output.hpp"
#include "history.hpp"
#include "offline.hpp"

#include "deltalog/superblock.hpp"

#include <fmt/format.h>

#include <array>

namespace deltalogctl {

namespace {

void declare(po::options_description &options)
{
	options.add_options()("yes,y", po::bool_switch(), "do not ask");
}

int run(const Args &args)
{
	const CommandLock lock;
	const std::string &name = args.pos(0);
	OfflineDevice dev(name, "remove");
	dev.refuse_if_merging("remove");
	const HistorySummary h = summarize(dev.log());
	fmt::print("{} protects {} with its log on {}.\n", name, dev.device().origin_path,
		   dev.device().delta_path);
	if (h.records)
		fmt::print("Removing it throws away {} records ({} of writes, {} to {}) that were never committed:\n"
			   "the origin stays as it is now, without them.\n",
			   h.records, human_size(h.write_bytes), local_time(h.oldest_ns), local_time(h.newest_ns));
	else
		fmt::print("Its log holds no history that is not in the origin.\n");
	if (!args.flag("yes") && !confirm(name, fmt::format("Remove {} and erase its log?", name))) {
		fmt::print("Nothing changed.\n");
		return 1;
	}
	dev.quiesce();
	dev.take_down();
	// Erasing both superblock copies is what makes the delta blank: nothing
	// can activate the old log by mistake.
	const std::array<std::byte, 2 * DLOG_SB_SIZE> zeros{};
	dev.delta().write(0, zeros);
	dev.delta().flush();
	dev.forget();
	fmt::print("Removed {}: {} is unprotected and unchanged; {} is blank.\n", name, dev.device().origin_path,
		   dev.device().delta_path);
	return 0;
}

} // namespace

extern const Command remove_command = {
	"remove",
	"remove NAME [--yes]",
	"stop protecting: take NAME down and erase its log (uncommitted history is lost)",
	R"(Ends the protection of an origin: removes /dev/mapper/NAME and erases the
log on its delta. The origin keeps what it holds now, which is its state
at the last commit: writes that were never committed are thrown away. To
keep them, commit first ('deltalogctl merge NAME --until now').

remove prints what will be thrown away and asks, unless --yes. It refuses
while the device is mounted or open.

Examples:
  deltalogctl merge box --until now --yes && deltalogctl remove box --yes
)",
	{"NAME"},
	declare,
	run,
};

} // namespace deltalogctl
