// deltalogctl view NAME --at T VIEWNAME
#include "base/command.hpp"
#include "base/lock.hpp"
#include "base/errors.hpp"
#include "protect.hpp"
#include "target.hpp"
#include "timespec.hpp"
#include "udev.hpp"

#include "deltalog/device.hpp"
#include "deltalog/log.hpp"

#include <fmt/format.h>

namespace deltalogctl {

namespace {

void declare(po::options_description &options)
{
	options.add_options()("at", po::value<std::string>()->value_name("T"), "the time to look at (required)");
}

int run(const Args &args)
{
	const CommandLock lock;
	const std::string &name = args.pos(0);
	const std::string &view_name = args.pos(1);
	const auto at = args.opt("at");
	if (!at)
		throw UsageError("--at T is required");
	const std::uint64_t now = wall_clock_ns();
	const TimeSpec spec = parse_time_spec(*at, now);
	require_free_name(view_name);

	const ActiveDevice dev = active_device(name);
	if (dev.table.options.view_seq)
		throw Failure(name, "is a view itself: make views of the protected device");
	flush_device(name);	// the newest records too: 'now' means now
	const deltalog::Device delta = deltalog::Device::open(dev.delta_path, deltalog::Device::Access::read_only);
	const deltalog::LogState log = deltalog::recover(delta);
	const ResolvedTime t = resolve_time_spec(spec, log, now, name);

	TableLine line = dev.table;
	line.options = TargetOptions{};
	line.options.view_seq = t.seq;
	dm::create(view_name, view_uuid(log.sb.uuid, view_name), make_target(line), true);
	udev::devices_changed({line.origin, line.delta});
	fmt::print("{} shows {} as it was at {}, read-only.\n"
		   "Remove it with 'deltalogctl deactivate {}' when done; while it exists, {} cannot be "
		   "rolled back, committed or removed.\n",
		   dm::device_path(view_name), name, t.description, view_name, name);
	return 0;
}

} // namespace

extern const Command view_command = {
	"view",
	"view NAME --at T VIEWNAME",
	"open a read-only device that shows NAME as it was at time T",
	R"(Creates /dev/mapper/VIEWNAME, a read-only device that shows NAME exactly as
it was at T, without rolling anything back: NAME keeps working, and the
view stays as it is while NAME changes. Mount a filesystem from it with
'-o ro' (ext4 may also need '-o ro,noload' if the view is not at a mark),
copy files out, compare.

T takes the same forms as for 'deltalogctl rollback'. Remove the view with
'deltalogctl deactivate VIEWNAME'. While a view is open it pins the
history it shows: rollback and remove of NAME are refused, and so is a
merge past T.

Examples:
  deltalogctl view box --at @before-upgrade box-then
  mount -o ro /dev/mapper/box-then /mnt/then
)",
	{"NAME", "VIEWNAME"},
	declare,
	run,
};

} // namespace deltalogctl
