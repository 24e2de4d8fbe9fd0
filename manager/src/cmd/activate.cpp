// deltalogctl activate NAME ORIGIN DELTA [--on-full ...] [--commit-ms MS]
//                      [--rollback-to T | --rollback-all]
#include "activation_rollback.hpp"
#include "base/command.hpp"
#include "base/lock.hpp"
#include "base/errors.hpp"
#include "base/output.hpp"
#include "history.hpp"
#include "protect.hpp"
#include "timespec.hpp"

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
	options.add_options()
		("rollback-to", po::value<std::string>()->value_name("T"),
		 "first roll the log back to T, before anything can use the device")
		("rollback-all", po::bool_switch(),
		 "first throw away all the history not committed: the device starts as the origin "
		 "(as an interrupted commit leaves it)");
}

// --rollback-to T, --rollback-all: what to roll back to before activating
// (nullopt inside: all the history); nullopt when neither is given.
std::optional<std::optional<TimeSpec>> rollback_request(const Args &args, std::uint64_t now)
{
	const auto to = args.opt("rollback-to");
	if (to && args.flag("rollback-all"))
		throw UsageError("--rollback-to and --rollback-all exclude each other");
	if (to)
		return std::optional<TimeSpec>(parse_time_spec(*to, now));
	if (args.flag("rollback-all"))
		return std::optional<TimeSpec>();
	return std::nullopt;
}

// The rollback before activation: the log read read-write, the target
// resolved in it, what goes said, and done (no question: the boot policy
// or the person who typed the option asked for it).
void roll_back_first(const std::string &name, const DevicePair &devs, const std::optional<TimeSpec> &spec,
		     std::uint64_t now)
{
	deltalog::Device delta =
		deltalog::Device::open(node_path(devs.delta), deltalog::Device::Access::read_write);
	const ActivationRollback plan = plan_activation_rollback(deltalog::recover(delta), spec, now, name);
	if (plan.unfinished_commit)
		fmt::print("A commit up to #{} was interrupted: it is finished first, so the rollback goes back no "
			   "further than #{}.\n",
			   plan.unfinished_commit, plan.unfinished_commit);
	if (!plan.undone.records) {
		fmt::print("Nothing was written after {}: no rollback needed.\n", plan.target.description);
		return;
	}
	fmt::print("Rolling {} back to {} before activating: throwing away {}.\n", name,
		   plan.target.description, describe(plan.undone));
	roll_back_log(delta, plan);
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
	const std::uint64_t now = wall_clock_ns();
	const auto rollback = rollback_request(args, now);
	require_free_name(name);
	dm::require_deltalog(module_minimum);
	const DevicePair devs = check_devices(args.pos(1), args.pos(2));
	deltalog::Superblock sb = read_log_superblock(devs, args.pos(2));
	check_origin_identity(devs, sb, args.pos(1));
	{
		// The whole log, as the kernel will read it: damage gets the
		// library's message and a pointer to check, not an ioctl error.
		const deltalog::Device delta =
			deltalog::Device::open(node_path(devs.delta), deltalog::Device::Access::read_only);
		deltalog::recover(delta);
	}
	if (rollback) {
		roll_back_first(name, devs, *rollback, now);
		sb = read_log_superblock(devs, args.pos(2));
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
	"activate NAME ORIGIN DELTA [--on-full error|merge-oldest] [--commit-ms MS] [--rollback-to T|--rollback-all]",
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

--rollback-to T first rolls the log back to T (the forms of 'deltalogctl
rollback'), --rollback-all throws away all the history in the log (back to
the last commit): the device then comes up in that state. Nothing can have
the device open yet, so this is what a boot policy uses (deltalogtab(5):
boot=rollback, boot=rollback-to=@MARK). activate says what it throws away
and does not ask.

A commit that a crash interrupted (up to seq S) counts as done: the kernel
finishes it once the device is up. --rollback-all then goes back to S, not
to the commit before it, and --rollback-to takes S or a later T. A T that
is before S, or not in the log, is refused; the device is then not
activated.

Examples:
  deltalogctl activate box /dev/sdb1 /dev/sdc1
  deltalogctl activate lab /dev/sdb1 /dev/sdc1 --rollback-to @clean
)",
	{"NAME", "ORIGIN", "DELTA"},
	declare,
	run,
};

} // namespace deltalogctl
