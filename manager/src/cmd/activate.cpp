// deltalogctl activate NAME ORIGIN DELTA [--on-full ...] [--commit-ms MS]
#include "base/command.hpp"
#include "base/errors.hpp"
#include "base/output.hpp"
#include "base/progress.hpp"
#include "protect.hpp"

#include "deltalog/device.hpp"
#include "deltalog/errors.hpp"
#include "deltalog/log.hpp"
#include "deltalog/superblock.hpp"
#include "deltalog/writer.hpp"

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
	const deltalog::Device delta = deltalog::Device::open(delta_path, deltalog::Device::Access::read_only);
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

// The filesystem UUID check of the contract: the origin must still hold the
// filesystem the log was made over (a merge may have changed it; the kernel
// checks size and fingerprint).
void check_origin_identity(const DevicePair &devs, const deltalog::Superblock &sb,
			   const std::string &origin_path)
{
	const deltalog::Device origin = deltalog::Device::open(origin_path, deltalog::Device::Access::read_only);
	if (!sb.merging())
		deltalog::check_origin(sb, origin);
	const auto uuid = filesystem_uuid(devs.origin);
	if (!sb.origin_fs_uuid.empty() && uuid && *uuid != sb.origin_fs_uuid)
		throw Failure(origin_path,
			      fmt::format("holds the filesystem {}, but the log was made for the filesystem {}",
					  *uuid, sb.origin_fs_uuid),
			      "Give the origin the log was created with.");
}

// An offline merge that was cut short (a crash, ^C) is finished before the
// device comes up: the origin holds part of it.
void finish_interrupted_merge(const std::string &origin_path, const std::string &delta_path)
{
	deltalog::Device delta = deltalog::Device::open(delta_path, deltalog::Device::Access::read_write);
	deltalog::Writer writer(delta);
	if (!writer.superblock().merging())
		return;
	fmt::print("Finishing the commit up to seq {} that was interrupted.\n",
		   writer.superblock().merge_target_seq);
	deltalog::Device origin = deltalog::Device::open(origin_path, deltalog::Device::Access::read_write);
	writer.resume_merge(origin);
	writer.stop();
}

int run(const Args &args)
{
	const std::string &name = args.pos(0);
	const TargetOptions options = target_options(args);
	require_free_name(name);
	dm::require_deltalog(module_minimum);
	const DevicePair devs = check_devices(args.pos(1), args.pos(2));
	deltalog::Superblock sb = read_log_superblock(devs, args.pos(2));
	check_origin_identity(devs, sb, args.pos(1));
	if (sb.merging()) {
		finish_interrupted_merge(args.pos(1), args.pos(2));
		sb = read_log_superblock(devs, args.pos(2));
	}
	{
		// The whole log, as the kernel will read it: damage gets the
		// library's message and a pointer to check, not an ioctl error.
		const deltalog::Device delta = deltalog::Device::open(args.pos(2), deltalog::Device::Access::read_only);
		deltalog::recover(delta);
	}
	bring_up(name, devs, sb, options);

	const auto dev = active_device(name);
	fmt::print("Activated {}: {} over {}, log on {} ({} of {} used, newest seq {}).\n", name,
		   dm::device_path(name), args.pos(1), args.pos(2), human_size(dev.status.data_used * 4096),
		   human_size(dev.status.data_total * 4096), dev.status.newest_seq);
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
made for another origin (its size, a fingerprint of its contents and the
filesystem UUID must match), and devices that are in use. A commit
(merge) that was interrupted is finished first.

Examples:
  deltalogctl activate box /dev/sdb1 /dev/sdc1
)",
	{"NAME", "ORIGIN", "DELTA"},
	declare,
	run,
};

} // namespace deltalogctl
