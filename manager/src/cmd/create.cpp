// deltalogctl create NAME ORIGIN DELTA [--force] [--on-full ...] [--commit-ms MS]
#include "base/command.hpp"
#include "base/lock.hpp"
#include "base/errors.hpp"
#include "base/output.hpp"
#include "protect.hpp"

#include "deltalog/device.hpp"
#include "deltalog/superblock.hpp"

#include <fmt/format.h>

namespace deltalogctl {

namespace {

void declare(po::options_description &options)
{
	options.add_options()("force", po::bool_switch(),
			      "use DELTA even if it holds a filesystem or other signature (wiped); "
			      "never overrides the in-use checks");
	declare_target_options(options);
}

int run(const Args &args)
{
	const CommandLock lock;
	const std::string &name = args.pos(0);
	const TargetOptions options = target_options(args);
	require_free_name(name);
	dm::require_deltalog(module_minimum);
	const DevicePair devs = check_devices(args.pos(1), args.pos(2));

	if (auto what = signature(devs.delta)) {
		if (!args.flag("force"))
			throw Failure(args.pos(2), fmt::format("the delta holds {}", *what),
				      "Everything on it would be lost. Add --force to use it anyway, or "
				      "'deltalogctl activate' if it is the log of this origin.");
		fmt::print("Wiping {} on {}.\n", *what, args.pos(2));
		wipe_signatures(devs.delta);
	}

	deltalog::FormatOptions format;
	format.origin_fs_uuid = filesystem_uuid(devs.origin).value_or("");
	deltalog::Superblock sb;
	{
		deltalog::Device delta =
			deltalog::Device::open(node_path(devs.delta), deltalog::Device::Access::read_write);
		const deltalog::Device origin =
			deltalog::Device::open(node_path(devs.origin), deltalog::Device::Access::read_only);
		sb = deltalog::format_delta(delta, origin, format);
	}
	bring_up(name, devs, sb, options);

	const std::uint64_t room = sb.data_sectors * 512;
	fmt::print("Created {}: {} now protects {} ({}).\n"
		   "Every write is logged on {} (room for {} of writes); {} is not written until you commit.\n",
		   name, dm::device_path(name), args.pos(1), human_size(devs.origin.size_bytes), args.pos(2),
		   human_size(room), args.pos(1));
	if (!format.origin_fs_uuid.empty())
		fmt::print("Mount {}, not {}: both hold the filesystem UUID {} until you deactivate it.\n",
			   dm::device_path(name), args.pos(1), format.origin_fs_uuid);
	return 0;
}

} // namespace

extern const Command create_command = {
	"create",
	"create NAME ORIGIN DELTA [--force] [--on-full error|merge-oldest] [--commit-ms MS]",
	"protect ORIGIN: set up a new log on DELTA and activate /dev/mapper/NAME",
	R"(Sets up DELTA as a new, empty log for ORIGIN and activates the protected
device /dev/mapper/NAME, which shows ORIGIN's contents. From then on every
write to /dev/mapper/NAME is logged on DELTA with its time, and ORIGIN is
never written until you commit ('deltalogctl merge').

Before it writes anything, create checks that:
  - ORIGIN and DELTA are block devices, different, and do not overlap
    (one a partition of the other);
  - neither is mounted, used as swap, held by another device-mapper or md
    device, or opened exclusively by another program;
  - DELTA holds no filesystem, partition table or other signature that
    libblkid knows, nor an existing log. --force wipes those signatures;
    it never overrides the in-use checks.
  - no device-mapper device is called NAME.

DELTA must be large enough for the history you want to keep: the data of
every write is stored there; about 3% of DELTA holds the log records.

Use the protected device, not ORIGIN: while it is active both show the same
filesystem UUID, and only /dev/mapper/NAME sees the writes.

Examples:
  deltalogctl create box /dev/sdb1 /dev/sdc1
  deltalogctl create root /dev/vda2 /dev/vdb --on-full merge-oldest
)",
	{"NAME", "ORIGIN", "DELTA"},
	declare,
	run,
};

} // namespace deltalogctl
