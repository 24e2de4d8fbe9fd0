// What deltalogctl tells udev (udev/63-deltalog.rules.in; deltalogctl(8),
// section UDEV): the properties of a block device, printed by the hidden
// command 'deltalogctl udev-probe DEVNODE' for the rules' IMPORT{program},
// and the change uevents that make udev look at an origin again when a
// dm-deltalog device over it comes or goes (their holders change, and the
// kernel sends them no uevent for that).
//
// The probe is cheap and quiet: two superblock copies read (8 KiB) and a
// few sysfs files, no lock, no write, no libdevmapper, nothing on stderr,
// and no properties at all for a device that is neither a delta nor the
// origin of an active device.
#pragma once

#include "blockdev.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace deltalogctl::udev {

// The KEY=VALUE lines for a device, from what read_delta_superblock found
// on it and what holds it (and its disk, for a partition):
//   a delta (our superblock's magic in either copy):
//     DELTALOG_ROLE=delta, DELTALOG_SUPERBLOCK=ok|damaged, DELTALOG_UUID
//     (ok only), DELTALOG_NAME (its active device, if any),
//     ID_FS_TYPE=deltalog_delta, ID_FS_USAGE=other, UDISKS_IGNORE=1;
//   otherwise, held by a dm-deltalog device (dm UUID DELTALOG-...), the
//   origin: DELTALOG_ROLE=origin, DELTALOG_NAME, UDISKS_IGNORE=1;
//   otherwise nothing.
std::vector<std::string> properties(const std::optional<DeltaSuperblock> &delta,
				    const std::vector<Holder> &holders);

// properties() of the device or image file at path; devno (default: the
// node's device number, none for a file) says where to look in sysfs for
// holders. Never throws: what cannot be read counts as not ours.
std::vector<std::string> probe(const std::string &path, const SystemView &sys = {},
			       std::optional<dev_t> devno = std::nullopt);

// Sends a change uevent for the devices "major:minor" (as a table line names
// them: the origin and the delta) and their partitions, so that udev runs
// the rules on them again, when udev runs (dm::udev_running()). For the
// origin and the delta of a device that came or went, and for a delta
// whose superblock was written or erased. Best effort: never throws.
void devices_changed(const std::vector<std::string> &devnos, const SystemView &sys = {});

} // namespace deltalogctl::udev
