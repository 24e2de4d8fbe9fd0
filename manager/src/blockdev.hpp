// Block devices as deltalogctl sees them before it touches one: what they
// are (libblkid), whether anything uses them (mounts, swap, dm and md
// holders, partitions in use), and whether two paths are the same device.
//
// The system's state is read from /proc and /sys through a SystemView, so
// that tests can point the checks at fake files and a fake sysfs tree.
// A check that cannot look (no sysfs entry, no mountinfo) throws rather
// than call a device free.
#pragma once

#include "deltalog/superblock.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deltalogctl {

struct BlockDevice {
	std::string path;		// as given
	std::string kernel_name;	// "sdb1", "dm-3", "loop0"
	dev_t devno = 0;
	std::uint64_t size_bytes = 0;
	std::uint32_t logical_block_size = 512;
};

// Where the checks read the system's state.
struct SystemView {
	std::string mountinfo_path = "/proc/self/mountinfo";
	std::string swaps_path = "/proc/swaps";
	std::string sys_root = "/sys";
};

// Resolves path (symlinks too: /dev/disk/by-uuid/..., /dev/mapper/...) to a
// block device: its kernel name (sysfs), size and logical block size (from a
// read-only open). Throws Failure (object = path) if it does not exist, is
// not a block device (with a hint for a regular file: losetup --find
// --show), cannot be opened (permission denied: hint to run as root), or
// has no sysfs entry. The root hint is only given to users who are not root.
BlockDevice block_device(const std::string &path, const SystemView &sys = {});

// What libblkid finds on the device (superblocks and partition tables, bad
// checksums included), and our own superblock, which libblkid does not
// know, for messages: "an ext4 filesystem (UUID 1234-..., LABEL root)",
// "a dos partition table", "swap space", "an LVM physical volume",
// "a dm-deltalog delta (created 2026-11-23 09:36:12, origin 2097152
// sectors)", "several signatures: ...". nullopt when nothing.
std::optional<std::string> signature(const BlockDevice &dev);
// The same for any path, image files too. Throws Failure (object = path) if
// it cannot be read or libblkid fails.
std::optional<std::string> probe_signature(const std::string &path);

// Our own superblock, which libblkid does not know, read past the page
// cache from a device or an image file: nullopt when neither copy has the
// magic (or the file is shorter than one copy). Otherwise sb is the
// current superblock, or nullopt when both copies are damaged or of another
// format version: still a delta, and still not free. Throws deltalog::Error
// when it cannot be opened or read.
struct DeltaSuperblock {
	std::optional<deltalog::Superblock> sb;
};
std::optional<DeltaSuperblock> read_delta_superblock(const std::string &path);

// Erases every signature libblkid finds (superblocks and partition tables,
// as wipefs --all does) and flushes. For create --force, after the checks.
void wipe_signatures(const BlockDevice &dev);

// The UUID of the filesystem on it as blkid reports it, or nullopt (no
// filesystem, a filesystem without UUID, or other signatures).
std::optional<std::string> filesystem_uuid(const BlockDevice &dev);
std::optional<std::string> probe_filesystem_uuid(const std::string &path);

// Why the device is in use, one reason per user, for messages:
// "mounted on /home" (all mount points of the device on one line),
// "in use as swap", "held by dm device 'box'", "held by md0",
// "its partition sdb1 is mounted on /mnt", "opened exclusively by another
// program" (only when nothing else explains it). Empty when free. Throws
// Failure (object = dev.path) when mountinfo or the device's sysfs entry
// cannot be read.
std::vector<std::string> users(const BlockDevice &dev, const SystemView &sys = {});

// Throws Failure (object = dev.path) unless users(dev) is empty:
// "the <role> is in use: <reasons joined by '; '>", with a hint that gives
// the commands that free it ("Free it first: umount /mnt; dmsetup remove
// box"). role is "origin" or "delta".
void require_unused(const BlockDevice &dev, const std::string &role,
		    const SystemView &sys = {});

// The dm device name of the device (dm-3 -> "box"), or nullopt for other
// devices.
std::optional<std::string> dm_name(const BlockDevice &dev, const SystemView &sys = {});

// What holds a device (sysfs holders/): its kernel name ("dm-3", "md0")
// and, for a dm device, its name and UUID ("" when none). Sorted by kernel
// name; empty when the device has no sysfs entry.
struct Holder {
	std::string kernel_name;
	std::string dm_name;
	std::string dm_uuid;
};
std::vector<Holder> holders(dev_t devno, const SystemView &sys = {});

// The disk of a partition, nullopt for anything else.
std::optional<dev_t> whole_disk(dev_t devno, const SystemView &sys = {});
// The partitions of a disk (none for anything else).
std::vector<dev_t> partitions(dev_t devno, const SystemView &sys = {});

// The kernel's name of a device ("sdb1", "dm-3"), from sysfs; "" if the
// kernel shows no such device.
std::string kernel_name(dev_t devno, const SystemView &sys = {});

// "major:minor"
std::string devno_string(dev_t devno);
// "8:17" (sysfs dev files, mountinfo, the kernel's table lines) back into a
// device number; nullopt unless both halves are plain decimal numbers.
std::optional<dev_t> parse_devno(std::string_view s);

// The same device (same device number, whatever the paths).
bool same_device(const BlockDevice &a, const BlockDevice &b);
// The two devices share sectors: the same device, one a partition of the
// other, or two partitions of one disk whose ranges overlap (sysfs). dm
// devices stacked on the other one are users(), not overlaps.
bool overlaps(const BlockDevice &a, const BlockDevice &b, const SystemView &sys = {});

} // namespace deltalogctl
