// deltalogctl mark NAME LABEL
#include "base/command.hpp"
#include "base/lock.hpp"
#include "base/errors.hpp"
#include "base/output.hpp"
#include "target.hpp"
#include "timespec.hpp"

#include "deltalog/records.hpp"

#include <fmt/format.h>

#include <charconv>

namespace deltalogctl {

namespace {

int run(const Args &args)
{
	const CommandLock lock;
	const std::string &name = args.pos(0);
	const std::string &label = args.pos(1);
	if (!deltalog::valid_label(label))
		throw UsageError(fmt::format("'{}' is not a valid label: use 1-63 letters, digits and ._:-", label));
	const ActiveDevice dev = active_device(name);
	if (dev.table.options.view_seq)
		throw Failure(name, "is a read-only view: marks go on the protected device");
	if (dev.status.state == "failed")
		throw Failure(name, "the device has failed (a write to its delta failed): no new records",
			      "'deltalogctl status " + name + "' and the kernel log say more.");

	std::string reply;
	{
		// Frozen (lockfs) and drained, the filesystem is clean at the mark.
		dm::Suspended frozen(name, true);
		reply = dm::message(name, "mark " + label);
		frozen.resume();
	}
	std::uint64_t seq = 0;
	std::from_chars(reply.data(), reply.data() + reply.size(), seq);
	fmt::print("Marked {} as @{} at {}{}.\n", name, label, local_time(wall_clock_ns()),
		   seq ? fmt::format(" (seq {})", seq) : "");
	return 0;
}

} // namespace

extern const Command mark_command = {
	"mark",
	"mark NAME LABEL",
	"name this moment of the device (@LABEL), a clean point to come back to",
	R"(Records a mark in the log: a name for the device's state at this moment,
which rollback, merge and view accept as @LABEL. The filesystem on the
device is frozen for the mark (the device is suspended with lockfs, so
everything written before is on the device and the filesystem is clean,
then resumed at once): rolling back to a mark gives a filesystem that
mounts without a journal replay.

LABEL is 1-63 characters of letters, digits and ._:- . Labels need not be
unique: @LABEL means the newest mark with that label.

Examples:
  deltalogctl mark box before-upgrade
  deltalogctl rollback box --to @before-upgrade
)",
	{"NAME", "LABEL"},
	nullptr,
	run,
};

} // namespace deltalogctl
