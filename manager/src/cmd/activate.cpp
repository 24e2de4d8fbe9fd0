// deltalogctl activate NAME ORIGIN DELTA [--on-full ...] [--commit-ms MS]
#include "base/command.hpp"
#include "base/lock.hpp"
#include "base/errors.hpp"
#include "base/output.hpp"
#include "protect.hpp"

#include "deltalog/device.hpp"
#include "deltalog/errors.hpp"
#include "deltalog/log.hpp"
#include "deltalog/superblock.hpp"

#include <fmt/format.h>

namespace deltalogctl {

namespace {

void declare(po::options_description &options)
{
	declare_target_options(options);
}

// Reads DELTA's superblock; anything but a dm-deltalog log is refused with
// what it holds instead.
deltalog::Superblock read_log_superblock(const DevicePair &devs, const std::string &delta_path)
{
	const deltalog::Device delta =
		deltalog::Device::open(node_path(devs.delta), deltalog::Device::Access::read_only);
	try {
		return deltalog::read_superblock(delta).sb;
	} catch (const deltalog::UnformattedError &) {
		throw Failure(delta_path, "holds no dm-deltalog log (it is blank)",
			      "'deltalogctl create NAME ORIGIN DELTA' sets up a new log.");
	} catch (const deltalog::SuperblockError &) {
		const auto what = signature(devs.delta);
		const bool ours = what && what->rfind("a dm-deltalog delta", 0) == 0;
		throw Failure(delta_path,
			      ours ? std::string("holds a dm-deltalog log this version cannot use: both "
						 "superblock copies are damaged or of another format version")
			      : what ? fmt::format("is not a dm-deltalog delta: it holds {}", *what)
				     : std::string("is not a dm-deltalog delta, or its superblocks are damaged"),
			      "'deltalogctl check " + delta_path + "' shows the details.");
	}
}

// The origin must be the one the log was made for. The kernel checks size
// and a fingerprint of sampled sectors (while a merge is unfinished: each
// sampled sector as it was before the merge or as the merge writes it). The
// filesystem UUID is checked only while nothing was ever committed: a
// commit may change it (a new mkfs, an install).
void check_origin_identity(const DevicePair &devs, const deltalog::Superblock &sb,
			   const std::string &origin_path)
{
	const deltalog::Device origin =
		deltalog::Device::open(node_path(devs.origin), deltalog::Device::Access::read_only);
	deltalog::check_origin(sb, origin);
	if (sb.merging() || sb.merged_seq || sb.origin_fs_uuid.empty())
		return;
	const auto uuid = filesystem_uuid(devs.origin);
	if (uuid && *uuid != sb.origin_fs_uuid)
		throw Failure(origin_path,
			      fmt::format("holds the filesystem {}, but the log was made for the filesystem {}",
					  *uuid, sb.origin_fs_uuid),
			      "Give the origin the log was created with.");
}

int run(const Args &args)
{
	const CommandLock lock;
	const std::string &name = args.pos(0);
	const TargetOptions options = target_options(args);
	require_free_name(name);
	dm::require_deltalog(module_minimum);
	const DevicePair devs = check_devices(args.pos(1), args.pos(2));
	const deltalog::Superblock sb = read_log_superblock(devs, args.pos(2));
	check_origin_identity(devs, sb, args.pos(1));
	{
		// The whole log, as the kernel will read it: damage gets the
		// library's message and a pointer to check, not an ioctl error.
		const deltalog::Device delta =
			deltalog::Device::open(node_path(devs.delta), deltalog::Device::Access::read_only);
		deltalog::recover(delta);
	}
	bring_up(name, devs, sb, options);

	const auto dev = active_device(name);
	fmt::print("Activated {}: {} over {}, log on {} ({} of {} used, newest seq {}).\n", name,
		   dm::device_path(name), args.pos(1), args.pos(2), human_size(dev.status.data_used * 4096),
		   human_size(dev.status.data_total * 4096), dev.status.newest_seq);
	if (sb.merging())
		fmt::print("A commit up to #{} into {} was interrupted: the kernel finishes it in the background\n"
			   "('deltalogctl status {}' shows the progress).\n",
			   sb.merge_target_seq, args.pos(1), name);
	return 0;
}

} // namespace

extern const Command activate_command = {
	"activate",
	"activate NAME ORIGIN DELTA [--on-full error|merge-oldest] [--commit-ms MS]",
	"bring up /dev/mapper/NAME over ORIGIN with the log already on DELTA",
	R"(Activates the protected device /dev/mapper/NAME from an existing log: after
a reboot, or after 'deltalogctl deactivate'. The device shows ORIGIN with
every write of the log applied, exactly as it was when it was last
deactivated (or, after a crash, as of the last flush).

activate refuses a DELTA that holds no log (use 'deltalogctl create'), a log
made for another origin (its size and a fingerprint of its contents must
match, and its filesystem UUID while nothing was committed yet), and devices
that are in use. If a commit (merge) was interrupted by a crash, the
device comes up (it reads correctly) and the kernel finishes the commit in
the background.

Examples:
  deltalogctl activate box /dev/sdb1 /dev/sdc1
)",
	{"NAME", "ORIGIN", "DELTA"},
	declare,
	run,
};

} // namespace deltalogctl
