// deltalogctl's block device checks (manager/src/blockdev.cpp): signatures
// probed on image files, users found in a fake mountinfo, a fake
// /proc/swaps and a fake sysfs tree. No loop device, no mount.
#include "blockdev.hpp"

#include "base/errors.hpp"
#include "base/output.hpp"
#include "fake_system.hpp"
#include "helpers.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>

using namespace deltalogctl;
namespace fs = std::filesystem;
using dlt::FakeSystem;
using dlt::write_text;

namespace {

// The Failure that fn throws; fails the test if it throws none.
Failure failure_of(const std::function<void()> &fn)
{
	try {
		fn();
	} catch (const Failure &f) {
		return f;
	}
	ADD_FAILURE() << "no Failure thrown";
	return Failure("", "");
}

// A node for a made-up device number: a block device to stat(), never
// opened. Needs CAP_MKNOD.
bool make_node(const std::string &path, dev_t devno)
{
	return ::mknod(path.c_str(), S_IFBLK | 0600, devno) == 0;
}

std::uint64_t sysfs_number(const std::string &path)
{
	std::uint64_t n = 0;
	std::ifstream(path) >> n;
	return n;
}

// The block devices of this machine (read only) that we can open (want_open)
// or that refuse us; ones with a size first (an unbound loop device has
// none). Sandboxes refuse some devices even to root.
struct RealDevice {
	std::string path;
	std::string name;
	dev_t devno = 0;
};

std::optional<RealDevice> real_device(bool want_open = true)
{
	std::error_code ec;
	std::vector<std::string> names;
	for (const auto &e : fs::directory_iterator("/sys/block", ec))
		names.push_back(e.path().filename().string());
	std::sort(names.begin(), names.end());
	std::optional<RealDevice> found;
	for (const auto &name : names) {
		struct stat st;
		const std::string path = "/dev/" + name;
		std::ifstream devfile("/sys/block/" + name + "/dev");
		std::string devno;
		devfile >> devno;
		if (::stat(path.c_str(), &st) || !S_ISBLK(st.st_mode) ||
		    devno_string(st.st_rdev) != devno)
			continue;
		const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		const bool refused = fd < 0 && (errno == EACCES || errno == EPERM);
		if (fd >= 0)
			::close(fd);
		if (want_open ? fd < 0 : !refused)
			continue;
		found = RealDevice{path, name, st.st_rdev};
		if (sysfs_number("/sys/block/" + name + "/size") > 0)
			break;
	}
	return found;
}

bool have(const char *program)
{
	return access(program, X_OK) == 0;
}

int run(const std::string &command)
{
	return std::system((command + " >/dev/null 2>&1").c_str());
}

constexpr const char *ext4_uuid = "0b4f1c2e-8e55-4a39-9b7a-1d3f6a2c9e10";
constexpr const char *swap_uuid = "11111111-2222-4333-8444-555555555555";

// A 4 MiB ext4 image with a known UUID and label.
std::string make_ext4(const dlt::TempDir &dir, const std::string &name = "ext4.img")
{
	const std::string path = dir.path(name);
	dlt::create_file(path, 8192);
	EXPECT_EQ(run(fmt::format("/sbin/mkfs.ext4 -q -F -U {} -L root {}", ext4_uuid, path)), 0);
	return path;
}

// A master boot record with one Linux partition.
dlt::Bytes mbr()
{
	dlt::Bytes b(512);
	const std::uint8_t entry[16] = {0x00, 0x00, 0x21, 0x00, 0x83, 0x00, 0x00, 0x00,
					0x01, 0x00, 0x00, 0x00, 0xff, 0x07, 0x00, 0x00};
	for (int i = 0; i < 16; i++)
		b[446 + i] = std::byte{entry[i]};
	b[440] = std::byte{0x78};	// disk identifier
	b[510] = std::byte{0x55};
	b[511] = std::byte{0xaa};
	return b;
}

} // namespace

TEST(CtlBlockdev, DevnoString)
{
	EXPECT_EQ(devno_string(makedev(8, 17)), "8:17");
	EXPECT_EQ(devno_string(makedev(259, 1048575)), "259:1048575");
	EXPECT_EQ(devno_string(makedev(0, 0)), "0:0");
}

TEST(CtlBlockdev, ParseDevnoTakesOnlyTwoPlainNumbers)
{
	EXPECT_EQ(parse_devno("8:17"), makedev(8, 17));
	EXPECT_EQ(parse_devno("259:1048575"), makedev(259, 1048575));
	EXPECT_EQ(parse_devno(devno_string(makedev(253, 4))), makedev(253, 4));
	for (const char *bad : {"", ":", "8", "8:", ":17", "8:17 ", " 8:17", "8: 17", "+8:17", "8:-17", "8:17:1",
				"0x8:17", "4294967296:1"})
		EXPECT_EQ(parse_devno(bad), std::nullopt) << "'" << bad << "'";
}

// ---- block_device ------------------------------------------------------

TEST(CtlBlockdev, RefusesAMissingPath)
{
	dlt::TempDir dir;
	const std::string path = dir.path("nothing");
	Failure f = failure_of([&] { block_device(path); });
	EXPECT_EQ(f.object(), path);
	EXPECT_STREQ(f.what(), "does not exist");
	f = failure_of([&] { block_device(path + "/below"); });
	EXPECT_STREQ(f.what(), "does not exist");
}

TEST(CtlBlockdev, RefusesARegularFileWithTheLosetupHint)
{
	dlt::TempDir dir;
	const std::string path = dir.path("disk.img");
	dlt::create_file(path, 8);
	const Failure f = failure_of([&] { block_device(path); });
	EXPECT_EQ(f.object(), path);
	EXPECT_STREQ(f.what(), "not a block device but a regular file");
	EXPECT_EQ(f.hint(), "To use an image file, attach it first: losetup --find --show " + path);

	// Through a symlink too, and a name that needs quoting.
	const std::string odd = dir.path("my disk.img");
	fs::create_symlink(path, odd);
	EXPECT_EQ(failure_of([&] { block_device(odd); }).hint(),
		  "To use an image file, attach it first: losetup --find --show '" + odd + "'");
}

TEST(CtlBlockdev, RefusesDirectoriesAndCharacterDevices)
{
	dlt::TempDir dir;
	Failure f = failure_of([&] { block_device(dir.path("")); });
	EXPECT_STREQ(f.what(), "not a block device but a directory");
	EXPECT_EQ(f.hint(), "");
	f = failure_of([] { block_device("/dev/null"); });
	EXPECT_EQ(f.object(), "/dev/null");
	EXPECT_STREQ(f.what(), "not a block device");
}

// Read only: an ioctl for the size, nothing else.
TEST(CtlBlockdev, ResolvesARealDevice)
{
	const auto real = real_device();
	if (!real)
		GTEST_SKIP() << "no block device we may open on this machine";
	const std::string sysdir = "/sys/block/" + real->name;
	const BlockDevice dev = block_device(real->path);
	EXPECT_EQ(dev.path, real->path);
	EXPECT_EQ(dev.kernel_name, real->name);
	EXPECT_EQ(dev.devno, real->devno);
	EXPECT_EQ(dev.size_bytes, sysfs_number(sysdir + "/size") * 512);
	EXPECT_EQ(dev.logical_block_size, sysfs_number(sysdir + "/queue/logical_block_size"));

	// A symlink (as in /dev/disk/by-id) names the same device.
	dlt::TempDir dir;
	const std::string link = dir.path("by-id-link");
	fs::create_symlink(real->path, link);
	const BlockDevice via_link = block_device(link);
	EXPECT_EQ(via_link.path, link);
	EXPECT_TRUE(same_device(dev, via_link));
	EXPECT_EQ(via_link.kernel_name, real->name);
}

TEST(CtlBlockdev, ADeviceWeMayNotOpenIsRefused)
{
	const auto real = real_device(false);
	if (!real)
		GTEST_SKIP() << "no block device refuses us on this machine";
	const Failure f = failure_of([&] { block_device(real->path); });
	EXPECT_EQ(f.object(), real->path);
	EXPECT_STREQ(f.what(), "permission denied");
	EXPECT_EQ(f.hint(), geteuid() == 0 ? "" : "Run deltalogctl as root.");
}

TEST(CtlBlockdev, KernelNameComesFromSysfs)
{
	const auto real = real_device();
	if (!real)
		GTEST_SKIP() << "no block device we may open on this machine";
	dlt::TempDir dir;
	SystemView sys;
	sys.sys_root = dir.path("sys");
	const fs::path entry = fs::path(sys.sys_root) / "dev/block" / devno_string(real->devno);

	// The uevent's DEVNAME first...
	write_text((fs::path(sys.sys_root) / "devices/x/block/renamed/uevent").string(),
		   "MAJOR=1\nDEVNAME=from-uevent\nDEVTYPE=disk\n");
	fs::create_directories(entry.parent_path());
	fs::create_directory_symlink("../../devices/x/block/renamed", entry);
	EXPECT_EQ(block_device(real->path, sys).kernel_name, "from-uevent");
	// ...else the name the link points at.
	fs::remove(fs::path(sys.sys_root) / "devices/x/block/renamed/uevent");
	EXPECT_EQ(block_device(real->path, sys).kernel_name, "renamed");
	// No sysfs entry: refused, not guessed.
	fs::remove(entry);
	const Failure f = failure_of([&] { block_device(real->path, sys); });
	EXPECT_EQ(f.hint(), "Is /sys mounted?");
}

// ---- signatures --------------------------------------------------------

TEST(CtlBlockdev, ZerosHoldNoSignature)
{
	dlt::TempDir dir;
	const std::string path = dir.path("zero.img");
	dlt::create_file(path, 8192);
	EXPECT_EQ(probe_signature(path), std::nullopt);
	EXPECT_EQ(probe_filesystem_uuid(path), std::nullopt);
	// Random bytes are nothing either.
	dlt::create_random_file(path, 8192, 7);
	EXPECT_EQ(probe_signature(path), std::nullopt);
}

TEST(CtlBlockdev, ProbingAMissingFileFails)
{
	dlt::TempDir dir;
	const std::string path = dir.path("gone.img");
	const Failure f = failure_of([&] { probe_signature(path); });
	EXPECT_EQ(f.object(), path);
	EXPECT_STREQ(f.what(), "cannot read it: No such file or directory");
	EXPECT_THROW(probe_filesystem_uuid(path), Failure);
}

TEST(CtlBlockdev, FindsAnExt4Filesystem)
{
	if (!have("/sbin/mkfs.ext4"))
		GTEST_SKIP() << "no mkfs.ext4";
	dlt::TempDir dir;
	const std::string path = make_ext4(dir);
	EXPECT_EQ(probe_signature(path),
		  fmt::format("an ext4 filesystem (UUID {}, LABEL root)", ext4_uuid));
	EXPECT_EQ(probe_filesystem_uuid(path), ext4_uuid);
}

TEST(CtlBlockdev, FindsSwapSpaceWhichIsNoFilesystem)
{
	if (!have("/sbin/mkswap"))
		GTEST_SKIP() << "no mkswap";
	dlt::TempDir dir;
	const std::string path = dir.path("swap.img");
	dlt::create_file(path, 2048);
	ASSERT_EQ(run(fmt::format("/sbin/mkswap -U {} -L sw {}", swap_uuid, path)), 0);
	EXPECT_EQ(probe_signature(path), fmt::format("swap space (UUID {}, LABEL sw)", swap_uuid));
	EXPECT_EQ(probe_filesystem_uuid(path), std::nullopt);
}

TEST(CtlBlockdev, FindsAPartitionTable)
{
	dlt::TempDir dir;
	const std::string path = dir.path("disk.img");
	dlt::create_file(path, 2048);
	dlt::write_at(path, 0, mbr());
	EXPECT_EQ(probe_signature(path), "a dos partition table");
	EXPECT_EQ(probe_filesystem_uuid(path), std::nullopt);
}

TEST(CtlBlockdev, NamesAFilesystemAndAPartitionTableTogether)
{
	if (!have("/sbin/mkfs.ext4"))
		GTEST_SKIP() << "no mkfs.ext4";
	dlt::TempDir dir;
	const std::string path = make_ext4(dir);
	dlt::write_at(path, 0, mbr());	// ext4 leaves its first 1 KiB alone
	EXPECT_EQ(probe_signature(path),
		  fmt::format("an ext4 filesystem (UUID {}, LABEL root) and a dos partition table",
			      ext4_uuid));
}

TEST(CtlBlockdev, SeveralSignaturesAreASignature)
{
	if (!have("/sbin/mkfs.ext4"))
		GTEST_SKIP() << "no mkfs.ext4";
	dlt::TempDir dir;
	const std::string path = make_ext4(dir);
	// An old-style swap magic at the end of the first page: libblkid
	// sees both and will not choose.
	const std::string magic = "SWAP-SPACE";
	dlt::Bytes bytes;
	for (char c : magic)
		bytes.push_back(static_cast<std::byte>(c));
	dlt::write_at(path, 4096 - magic.size(), bytes);
	const auto what = probe_signature(path);
	ASSERT_TRUE(what);
	EXPECT_TRUE(what->starts_with("several signatures: ")) << *what;
	EXPECT_NE(what->find("swap space"), std::string::npos) << *what;
	EXPECT_NE(what->find(fmt::format("an ext4 filesystem (UUID {}, LABEL root)", ext4_uuid)),
		  std::string::npos)
		<< *what;
	// Not a filesystem one can trust the UUID of.
	EXPECT_EQ(probe_filesystem_uuid(path), std::nullopt);
}

TEST(CtlBlockdev, FindsADelta)
{
	dlt::TempDir dir;
	const dlt::Pair pair = dlt::make_pair(dir);
	const std::string expected =
		"a dm-deltalog delta (created " + local_time(1'000'000'000) + ", origin 512 sectors)";
	EXPECT_EQ(probe_signature(pair.delta), expected);
	EXPECT_EQ(probe_filesystem_uuid(pair.delta), std::nullopt);
	// The origin (random bytes) holds nothing.
	EXPECT_EQ(probe_signature(pair.origin), std::nullopt);
}

TEST(CtlBlockdev, FindsADeltaWhoseCopyAIsGone)
{
	dlt::TempDir dir;
	const dlt::Pair pair = dlt::make_pair(dir);
	dlt::write_at(pair.delta, 0, dlt::sector_bytes(DLOG_SB_SECTORS, 0));
	EXPECT_EQ(probe_signature(pair.delta),
		  "a dm-deltalog delta (created " + local_time(1'000'000'000) + ", origin 512 sectors)");
}

TEST(CtlBlockdev, FindsADamagedDelta)
{
	dlt::TempDir dir;
	const dlt::Pair pair = dlt::make_pair(dir);
	// Both copies fail their checksum; the magic still says whose it is.
	dlt::flip_bit(pair.delta, 100);
	dlt::flip_bit(pair.delta, DLOG_SB_SIZE + 100);
	EXPECT_EQ(probe_signature(pair.delta), "a dm-deltalog delta");

	// A delta cut to its first superblock.
	const std::string small = dir.path("small");
	dlt::write_file(small, dlt::read_at(pair.delta, 0, DLOG_SB_SIZE));
	EXPECT_EQ(probe_signature(small), "a dm-deltalog delta");
}

// ---- users -------------------------------------------------------------

TEST(CtlBlockdev, AnUnusedDeviceHasNoUsers)
{
	FakeSystem sys;
	const BlockDevice sdb = sys.disk("sdb", makedev(8, 16));
	sys.partition("sdb", "sdb1", makedev(8, 17), 2048, 4096);
	EXPECT_TRUE(users(sdb, sys.view).empty());
	EXPECT_NO_THROW(require_unused(sdb, "delta", sys.view));
}

TEST(CtlBlockdev, FindsMountPointsWithEscapes)
{
	FakeSystem sys;
	const BlockDevice sdb = sys.disk("sdb", makedev(8, 16));
	sys.mount_line("36 27 8:16 / /mnt/my\\040disk rw,relatime shared:2 - ext4 /dev/sdb rw");
	EXPECT_EQ(users(sdb, sys.view), std::vector<std::string>{"mounted on /mnt/my disk"});

	// A bind mount, and the same mount point twice (stacked), on one line.
	sys.mount_line("37 27 8:16 /sub /srv rw,relatime - ext4 /dev/sdb rw");
	sys.mount_line("38 36 8:16 / /mnt/my\\040disk rw,relatime - ext4 /dev/sdb rw");
	EXPECT_EQ(users(sdb, sys.view),
		  std::vector<std::string>{"mounted on /mnt/my disk, /srv"});
	const Failure f = failure_of([&] { require_unused(sdb, "origin", sys.view); });
	EXPECT_EQ(f.object(), sdb.path);
	EXPECT_STREQ(f.what(), "the origin is in use: mounted on /mnt/my disk, /srv");
	EXPECT_EQ(f.hint(), "Free it first: umount '/mnt/my disk' /srv");
}

TEST(CtlBlockdev, FindsAMountByItsSource)
{
	FakeSystem sys;
	const BlockDevice sdc = sys.disk("sdc", makedev(8, 32));
	const std::string node = sys.dir.path("sdc-node");
	if (!make_node(node, sdc.devno))
		GTEST_SKIP() << "cannot mknod here";
	// btrfs shows an anonymous device number; its source is the device.
	sys.mount_line(fmt::format("40 27 0:35 / /data rw - btrfs {} rw", node));
	EXPECT_EQ(users(sdc, sys.view), std::vector<std::string>{"mounted on /data"});
}

TEST(CtlBlockdev, FindsSwap)
{
	FakeSystem sys;
	const BlockDevice sdd = sys.disk("sdd", makedev(8, 48));
	const std::string node = sys.dir.path("swap node");
	if (!make_node(node, sdd.devno))
		GTEST_SKIP() << "cannot mknod here";
	std::string escaped = node;
	escaped.replace(escaped.find(' '), 1, "\\040");
	// A swap file elsewhere is not this device.
	sys.swap_line("/swapfile                               file\t\t1048572\t\t0\t\t-2");
	EXPECT_TRUE(users(sdd, sys.view).empty());
	sys.swap_line(escaped + "\tpartition\t1048572\t\t0\t\t-3");
	EXPECT_EQ(users(sdd, sys.view), std::vector<std::string>{"in use as swap"});
	EXPECT_EQ(failure_of([&] { require_unused(sdd, "delta", sys.view); }).hint(),
		  "Free it first: swapoff '" + node + "'");
}

TEST(CtlBlockdev, FindsHolders)
{
	FakeSystem sys;
	const BlockDevice sdb = sys.disk("sdb", makedev(8, 16));
	sys.dm("dm-3", makedev(254, 3), "box", "DELTALOG-1234");
	sys.dm("dm-4", makedev(254, 4), "vg-lv", "LVM-abcd");
	sys.disk("md0", makedev(9, 0));
	sys.disk("bcache0", makedev(250, 0));
	sys.hold(sdb, "dm-3");
	sys.hold(sdb, "dm-4");
	sys.hold(sdb, "md0");
	sys.hold(sdb, "bcache0");
	EXPECT_EQ(users(sdb, sys.view),
		  (std::vector<std::string>{"held by bcache0", "held by dm device 'box'",
					    "held by dm device 'vg-lv'", "held by md0"}));
	const Failure f = failure_of([&] { require_unused(sdb, "delta", sys.view); });
	EXPECT_STREQ(f.what(), "the delta is in use: held by bcache0; held by dm device 'box'; "
			       "held by dm device 'vg-lv'; held by md0");
	EXPECT_EQ(f.hint(), "Free it first: deltalogctl deactivate box; dmsetup remove vg-lv; "
			    "mdadm --stop /dev/md0");
}

TEST(CtlBlockdev, AHolderWithNoCommandGetsAPlainHint)
{
	FakeSystem sys;
	const BlockDevice sdb = sys.disk("sdb", makedev(8, 16));
	sys.disk("bcache0", makedev(250, 0));
	sys.hold(sdb, "bcache0");
	const Failure f = failure_of([&] { require_unused(sdb, "origin", sys.view); });
	EXPECT_STREQ(f.what(), "the origin is in use: held by bcache0");
	EXPECT_EQ(f.hint(), "Stop the program that uses it first.");
}

TEST(CtlBlockdev, ADiskIsInUseWhenAPartitionIs)
{
	FakeSystem sys;
	const BlockDevice sdb = sys.disk("sdb", makedev(8, 16));
	const BlockDevice sdb1 = sys.partition("sdb", "sdb1", makedev(8, 17), 2048, 4096);
	const BlockDevice sdb2 = sys.partition("sdb", "sdb2", makedev(8, 18), 6144, 4096);
	sys.partition("sdb", "sdb3", makedev(8, 19), 10240, 4096);
	sys.dm("dm-1", makedev(254, 1), "box", "DELTALOG-1");
	sys.hold(sdb2, "dm-1");
	sys.mount_line("50 27 8:17 / /boot rw - ext4 /dev/sdb1 rw");
	EXPECT_EQ(users(sdb, sys.view),
		  (std::vector<std::string>{"its partition sdb1 is mounted on /boot",
					    "its partition sdb2 is held by dm device 'box'"}));
	// The partitions themselves.
	EXPECT_EQ(users(sdb1, sys.view), std::vector<std::string>{"mounted on /boot"});
	EXPECT_EQ(users(sdb2, sys.view), std::vector<std::string>{"held by dm device 'box'"});
	const Failure f = failure_of([&] { require_unused(sdb, "origin", sys.view); });
	EXPECT_STREQ(f.what(), "the origin is in use: its partition sdb1 is mounted on /boot; "
			       "its partition sdb2 is held by dm device 'box'");
	EXPECT_EQ(f.hint(), "Free it first: umount /boot; deltalogctl deactivate box");
}

TEST(CtlBlockdev, UsersRefuseToGuessWithoutSysfsOrMountinfo)
{
	FakeSystem sys;
	BlockDevice ghost;
	ghost.path = "/dev/ghost";
	ghost.devno = makedev(8, 64);
	Failure f = failure_of([&] { users(ghost, sys.view); });
	EXPECT_EQ(f.object(), "/dev/ghost");
	EXPECT_EQ(f.hint(), "Is /sys mounted?");

	const BlockDevice sdb = sys.disk("sdb", makedev(8, 16));
	fs::remove(sys.view.mountinfo_path);
	f = failure_of([&] { users(sdb, sys.view); });
	EXPECT_EQ(f.hint(), "Is /proc mounted?");

	// A kernel without swap has no /proc/swaps: that is no swap.
	sys.mount_line("22 27 0:21 / /proc rw - proc proc rw");
	fs::remove(sys.view.swaps_path);
	EXPECT_TRUE(users(sdb, sys.view).empty());
}

// ---- names and overlaps ------------------------------------------------

TEST(CtlBlockdev, DmName)
{
	FakeSystem sys;
	const BlockDevice dm = sys.dm("dm-3", makedev(254, 3), "box", "DELTALOG-1");
	const BlockDevice sdb = sys.disk("sdb", makedev(8, 16));
	EXPECT_EQ(dm_name(dm, sys.view), "box");
	EXPECT_EQ(dm_name(sdb, sys.view), std::nullopt);
}

TEST(CtlBlockdev, SameDeviceAndOverlaps)
{
	FakeSystem sys;
	const BlockDevice sdb = sys.disk("sdb", makedev(8, 16));
	const BlockDevice sdb1 = sys.partition("sdb", "sdb1", makedev(8, 17), 2048, 4096);
	const BlockDevice sdb2 = sys.partition("sdb", "sdb2", makedev(8, 18), 6144, 4096);
	const BlockDevice sdc = sys.disk("sdc", makedev(8, 32));
	const BlockDevice sdc1 = sys.partition("sdc", "sdc1", makedev(8, 33), 2048, 4096);
	// A table may describe partitions that share sectors.
	const BlockDevice sdc2 = sys.partition("sdc", "sdc2", makedev(8, 34), 6143, 100);

	BlockDevice other_path = sdb;
	other_path.path = "/dev/disk/by-id/the-same";
	EXPECT_TRUE(same_device(sdb, other_path));
	EXPECT_FALSE(same_device(sdb, sdb1));
	EXPECT_TRUE(overlaps(sdb, other_path, sys.view));

	EXPECT_TRUE(overlaps(sdb, sdb1, sys.view));
	EXPECT_TRUE(overlaps(sdb2, sdb, sys.view));
	EXPECT_FALSE(overlaps(sdb1, sdb2, sys.view));
	EXPECT_FALSE(overlaps(sdb, sdc, sys.view));
	EXPECT_FALSE(overlaps(sdb1, sdc1, sys.view));
	EXPECT_FALSE(overlaps(sdb, sdc1, sys.view));
	EXPECT_TRUE(overlaps(sdc1, sdc2, sys.view));
	EXPECT_TRUE(overlaps(sdc2, sdc1, sys.view));
}
