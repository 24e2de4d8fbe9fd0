// Block devices as deltalogctl sees them before it touches one: what they
// are (libblkid), whether anything uses them (mounts, swap, dm and md
// holders, partitions in use), and whether two paths are the same device.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace deltalogctl {

struct BlockDevice {
	std::string path;		// as given
	std::string kernel_name;	// "sdb1", "dm-3", "loop0"
	dev_t devno = 0;
	std::uint64_t size_bytes = 0;
	std::uint32_t logical_block_size = 512;
};

// Resolves path (symlinks too: /dev/disk/by-uuid/..., /dev/mapper/...) to a
// block device. Throws Failure (object = path) if it does not exist or is
// not a block device, with a hint for a regular file (losetup --find --show).
BlockDevice block_device(const std::string &path);

// What libblkid finds on the device (superblocks and partition tables),
// for messages: "an ext4 filesystem (UUID 1234-..., LABEL root)",
// "a dos partition table", "a dm-deltalog delta". nullopt when nothing.
std::optional<std::string> signature(const BlockDevice &dev);
// The UUID of the filesystem on it as blkid reports it, or nullopt.
std::optional<std::string> filesystem_uuid(const BlockDevice &dev);

// Why the device is in use, one reason per user, for messages:
// "mounted on /home", "in use as swap", "held by dm device 'box'",
// "held by md0", "its partition sdb1 is mounted on /mnt". Empty when free.
std::vector<std::string> users(const BlockDevice &dev);

// Throws Failure (object = dev.path) unless users(dev) is empty; role is
// "origin" or "delta" and appears in the message.
void require_unused(const BlockDevice &dev, const std::string &role);

// The dm device name of the device (dm-3 -> "box"), or nullopt for other
// devices.
std::optional<std::string> dm_name(const BlockDevice &dev);

// "major:minor"
std::string devno_string(dev_t devno);

} // namespace deltalogctl
