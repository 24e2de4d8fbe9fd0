// deltalogctl udev-probe DEVNODE: for the udev rules, not for people.
#include "base/command.hpp"
#include "udev.hpp"

#include <fmt/format.h>

namespace deltalogctl {

namespace {

int run(const Args &args)
{
	// Whatever happens, udev gets exit status 0: a device that is not
	// ours has no properties, and a rule must not log an error for it.
	try {
		for (const std::string &line : udev::probe(args.pos(0)))
			fmt::print("{}\n", line);
	} catch (const std::exception &) {
	}
	return 0;
}

} // namespace

extern const Command udev_probe_command = {
	"udev-probe",
	"udev-probe DEVNODE",
	"print the udev properties of a block device (for the udev rules)",
	R"(Prints KEY=VALUE lines for udev's IMPORT{program} (63-deltalog.rules):
for a delta (it holds a dm-deltalog log), DELTALOG_ROLE=delta,
DELTALOG_SUPERBLOCK=ok|damaged, DELTALOG_UUID, DELTALOG_NAME (its active
device), ID_FS_TYPE=deltalog_delta, ID_FS_USAGE=other, UDISKS_IGNORE=1; for
the origin of an active dm-deltalog device, DELTALOG_ROLE=origin,
DELTALOG_NAME, UDISKS_IGNORE=1; nothing for any other device. It reads the
two superblock copies and sysfs, takes no lock, writes nothing, and always
exits 0. Not listed by 'deltalogctl --help': the udev rules run it.

Example:
  deltalogctl udev-probe /dev/sdc1
)",
	{"DEVNODE"},
	nullptr,
	run,
};

} // namespace deltalogctl
