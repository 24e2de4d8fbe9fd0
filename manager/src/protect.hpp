// What create and activate share: the options of the table line, the
// checks of the two devices, and bringing the device up.
#pragma once

#include "base/command.hpp"
#include "blockdev.hpp"
#include "target.hpp"

#include "deltalog/device.hpp"
#include "deltalog/superblock.hpp"

#include <string>

namespace deltalogctl {

// The oldest module deltalogctl works with.
inline constexpr dm::Version module_minimum{0, 3, 0};

// --on-full, --commit-ms: declared by create and activate.
void declare_target_options(po::options_description &options);
TargetOptions target_options(const Args &args);

// The two devices, resolved and checked: block devices, not the same or
// overlapping, neither in use.
struct DevicePair {
	BlockDevice origin;
	BlockDevice delta;
};
// Where to open a checked device: its kernel node (/dev/sdb1, /dev/dm-3),
// which cannot be repointed the way /dev/disk/by-label links can (a wipe
// makes udev move them); the path as given if there is no such node.
std::string node_path(const BlockDevice &dev);
DevicePair check_devices(const std::string &origin_path, const std::string &delta_path);

// Creates the dm device NAME over the pair for the delta's superblock.
void bring_up(const std::string &name, const DevicePair &devs, const deltalog::Superblock &sb,
	      const TargetOptions &options);

// Refuses a name that is taken by any dm device.
void require_free_name(const std::string &name);

} // namespace deltalogctl
