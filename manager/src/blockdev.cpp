#include "blockdev.hpp"

#include "dm.hpp"

#include "base/errors.hpp"
#include "base/number.hpp"
#include "base/output.hpp"

#include "deltalog/device.hpp"
#include "deltalog/errors.hpp"
#include "deltalog/format.h"
#include "deltalog/superblock.hpp"

#include <blkid/blkid.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>
#include <string_view>
#include <type_traits>

namespace deltalogctl {

namespace fs = std::filesystem;

namespace {

// Only to those who are not root already (a sandbox can refuse root).
std::string root_hint()
{
	return geteuid() == 0 ? "" : "Run deltalogctl as root.";
}

bool permission_error(int err)
{
	return err == EACCES || err == EPERM;
}

// The whole file, or nullopt if it cannot be read.
std::optional<std::string> read_text(const fs::path &path)
{
	std::ifstream in(path);
	if (!in)
		return std::nullopt;
	std::ostringstream out;
	out << in.rdbuf();
	if (in.bad())
		return std::nullopt;
	return out.str();
}

// The first line of a sysfs attribute, without its newline.
std::optional<std::string> read_attr(const fs::path &path)
{
	auto text = read_text(path);
	if (!text)
		return std::nullopt;
	return text->substr(0, text->find('\n'));
}

// The device number of a block device node, nullopt for anything else.
std::optional<dev_t> block_devno_of(const std::string &path)
{
	struct stat st;
	if (::stat(path.c_str(), &st) || !S_ISBLK(st.st_mode))
		return std::nullopt;
	return st.st_rdev;
}

// The kernel escapes ' ', '\t', '\n' and '\\' in mountinfo and /proc/swaps
// paths as \ooo.
std::string unescape_octal(std::string_view s)
{
	std::string out;
	out.reserve(s.size());
	for (std::size_t i = 0; i < s.size(); i++) {
		if (s[i] == '\\' && i + 3 < s.size()) {
			const std::string_view digits = s.substr(i + 1, 3);
			if (std::all_of(digits.begin(), digits.end(),
					[](char c) { return c >= '0' && c <= '7'; })) {
				out += static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 +
							 (digits[2] - '0'));
				i += 3;
				continue;
			}
		}
		out += s[i];
	}
	return out;
}

std::vector<std::string_view> split_fields(std::string_view line)
{
	std::vector<std::string_view> fields;
	std::size_t i = 0;
	while (i < line.size()) {
		while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
			i++;
		const std::size_t start = i;
		while (i < line.size() && line[i] != ' ' && line[i] != '\t')
			i++;
		if (i > start)
			fields.push_back(line.substr(start, i - start));
	}
	return fields;
}

std::vector<std::string_view> lines_of(std::string_view text)
{
	std::vector<std::string_view> lines;
	while (!text.empty()) {
		const auto nl = text.find('\n');
		lines.push_back(text.substr(0, nl));
		if (nl == std::string_view::npos)
			break;
		text.remove_prefix(nl + 1);
	}
	return lines;
}

// A command for a hint, quoted for a shell where needed.
std::string shell_word(const std::string &s)
{
	const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
		return std::isalnum(static_cast<unsigned char>(c)) ||
		       std::string_view("_./:@%+=,-").find(c) != std::string_view::npos;
	});
	if (plain)
		return s;
	std::string out = "'";
	for (char c : s)
		out += c == '\'' ? std::string("'\\''") : std::string(1, c);
	return out + "'";
}

fs::path sys_dev_dir(const SystemView &sys, dev_t devno)
{
	return fs::path(sys.sys_root) / "dev" / "block" / devno_string(devno);
}

// ---- libblkid ----------------------------------------------------------

struct ProbeFree {
	void operator()(blkid_probe pr) const { blkid_free_probe(pr); }
};
using Probe = std::unique_ptr<std::remove_pointer_t<blkid_probe>, ProbeFree>;

// Opens path read-only for probing. On a block device the page cache is
// dropped first: a kernel target writes the device behind it, and a stale
// cached zero block must not hide what it wrote.
deltalog::UniqueFd open_for_probe(const std::string &path)
{
	deltalog::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
	if (!fd) {
		const int err = errno;
		throw Failure(path, errno_text("cannot read it", err),
			      permission_error(err) ? root_hint() : "");
	}
	struct stat st;
	if (fstat(fd.get(), &st) == 0 && S_ISBLK(st.st_mode))
		posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
	return fd;
}

Probe new_probe(const std::string &path, int fd, bool partitions, int sublks_flags)
{
	Probe pr(blkid_new_probe());
	if (!pr)
		throw std::bad_alloc();
	if (blkid_probe_set_device(pr.get(), fd, 0, 0))
		throw Failure(path, "libblkid cannot probe it");
	blkid_probe_enable_superblocks(pr.get(), 1);
	blkid_probe_set_superblocks_flags(pr.get(), sublks_flags);
	blkid_probe_enable_partitions(pr.get(), partitions);
	return pr;
}

std::optional<std::string> probe_value(const Probe &pr, const char *name)
{
	const char *data = nullptr;
	if (blkid_probe_lookup_value(pr.get(), name, &data, nullptr) || !data || !*data)
		return std::nullopt;
	return std::string(data);
}

std::string with_article(const std::string &word)
{
	// Read out as letters: "an xfs", "an ntfs", but "a vfat".
	static const std::array<std::string_view, 4> an_words = {"f2fs", "hfs", "hfsplus",
								  "ntfs"};
	const bool an = (!word.empty() && std::string_view("aeiox").find(word[0]) !=
						   std::string_view::npos) ||
			std::find(an_words.begin(), an_words.end(), word) != an_words.end();
	return (an ? "an " : "a ") + word;
}

// One superblock as people call it, with its UUID and label.
std::string describe_superblock(const std::string &type, const std::optional<std::string> &usage,
				const std::optional<std::string> &uuid,
				const std::optional<std::string> &label)
{
	std::string what;
	if (type == "swap")
		what = "swap space";
	else if (type == "LVM2_member" || type == "LVM1_member")
		what = "an LVM physical volume";
	else if (type == "linux_raid_member")
		what = "an md RAID member";
	else if (type == "crypto_LUKS")
		what = "a LUKS encrypted volume";
	else if (type == "zfs_member")
		what = "a ZFS pool member";
	else if (usage == "filesystem")
		what = with_article(type) + " filesystem";
	else if (usage == "raid")
		what = fmt::format("a RAID member ({})", type);
	else if (usage == "crypto")
		what = fmt::format("encrypted data ({})", type);
	else
		what = with_article(type) + " signature";

	std::vector<std::string> details;
	if (uuid)
		details.push_back("UUID " + *uuid);
	if (label)
		details.push_back("LABEL " + *label);
	if (!details.empty())
		what += fmt::format(" ({})", fmt::join(details, ", "));
	return what;
}

// What the probe's current result is: a superblock, a partition table or
// both; nullopt for nothing.
std::optional<std::string> describe_result(const Probe &pr)
{
	std::vector<std::string> parts;
	if (auto type = probe_value(pr, "TYPE"))
		parts.push_back(describe_superblock(*type, probe_value(pr, "USAGE"),
						    probe_value(pr, "UUID"),
						    probe_value(pr, "LABEL")));
	if (auto pttype = probe_value(pr, "PTTYPE"))
		parts.push_back(with_article(*pttype) + " partition table");
	if (parts.empty())
		return std::nullopt;
	return fmt::format("{}", fmt::join(parts, " and "));
}

constexpr int signature_flags = BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL |
				BLKID_SUBLKS_USAGE | BLKID_SUBLKS_BADCSUM;

// libblkid found more than one signature and will not say which is
// current; list them all (as wipefs does).
std::string describe_several(const std::string &path, int fd)
{
	Probe pr = new_probe(path, fd, true, signature_flags);
	std::vector<std::string> found;
	// A bound, in case a damaged device makes libblkid report in circles.
	for (int i = 0; i < 32 && blkid_do_probe(pr.get()) == 0; i++) {
		auto what = describe_result(pr);
		if (what && std::find(found.begin(), found.end(), *what) == found.end())
			found.push_back(*what);
	}
	if (found.size() < 2)
		return "several signatures";
	return fmt::format("several signatures: {}", fmt::join(found, ", "));
}

// ---- our own superblock ------------------------------------------------

bool has_delta_magic(std::span<const std::byte> copy)
{
	std::uint32_t magic = 0;
	for (int i = 3; i >= 0; i--)
		magic = magic << 8 | std::to_integer<std::uint32_t>(copy[4 + i]);
	return magic == DLOG_SB_MAGIC;
}

} // namespace

std::optional<DeltaSuperblock> read_delta_superblock(const std::string &path)
{
	const auto dev = deltalog::Device::open(path, deltalog::Device::Access::read_only);
	const std::uint64_t sectors = std::min<std::uint64_t>(dev.sectors(), 2 * DLOG_SB_SECTORS);
	if (sectors < DLOG_SB_SECTORS)
		return std::nullopt;
	std::array<std::byte, 2 * DLOG_SB_SIZE> bytes{};
	dev.read(0, std::span(bytes).first(sectors * DLOG_SECTOR_SIZE));
	const auto span = std::span<const std::byte, 2 * DLOG_SB_SIZE>(bytes);
	const bool magic_a = has_delta_magic(span.first<DLOG_SB_SIZE>());
	const bool magic_b = sectors == 2 * DLOG_SB_SECTORS && has_delta_magic(span.last<DLOG_SB_SIZE>());
	if (!magic_a && !magic_b)
		return std::nullopt;
	try {
		return DeltaSuperblock{deltalog::choose_superblock(span).sb};
	} catch (const deltalog::Error &) {
		// Damaged or of another version: still ours, and still not free.
		return DeltaSuperblock{};
	}
}

namespace {

// libblkid does not know our format: read_delta_superblock, for messages.
std::optional<std::string> delta_signature(const std::string &path)
{
	try {
		const auto delta = read_delta_superblock(path);
		if (!delta)
			return std::nullopt;
		if (!delta->sb)
			return "a dm-deltalog delta";
		return fmt::format("a dm-deltalog delta (created {}, origin {} sectors)",
				   local_time(delta->sb->format_time_ns), delta->sb->origin_sectors);
	} catch (const deltalog::Error &e) {
		throw Failure(path, e.what());
	}
}

// ---- users -------------------------------------------------------------

struct Use {
	std::string reason;	// "mounted on /home"
	std::string action;	// a command that ends it, "" when there is none to give
};

struct Mount {
	dev_t devno = 0;			// field 3
	std::optional<dev_t> source;		// when the source is a block device node
	std::string point;
};

struct SwapArea {
	dev_t devno = 0;
	std::string path;
};

// The system's mounts and swap areas, read once for a device and its
// partitions.
struct Snapshot {
	std::vector<Mount> mounts;
	std::vector<SwapArea> swaps;
};

std::vector<Mount> read_mounts(const std::string &object, const SystemView &sys)
{
	auto text = read_text(sys.mountinfo_path);
	if (!text)
		throw Failure(object, fmt::format("cannot read {} to see whether it is mounted",
						  sys.mountinfo_path),
			      "Is /proc mounted?");
	std::vector<Mount> mounts;
	for (std::string_view line : lines_of(*text)) {
		// id parent major:minor root mount-point options [optional...] - type source super
		const auto f = split_fields(line);
		if (f.size() < 5)
			continue;
		Mount m;
		auto devno = parse_devno(f[2]);
		if (!devno)
			continue;
		m.devno = *devno;
		m.point = unescape_octal(f[4]);
		// btrfs (and others) report an anonymous device number; their
		// source names the block device.
		const auto dash = std::find(f.begin() + 5, f.end(), std::string_view("-"));
		if (dash != f.end() && f.end() - dash > 2) {
			const std::string source = unescape_octal(dash[2]);
			if (source.starts_with('/'))
				m.source = block_devno_of(source);
		}
		mounts.push_back(std::move(m));
	}
	return mounts;
}

std::vector<SwapArea> read_swaps(const SystemView &sys)
{
	// A kernel without swap support has no /proc/swaps.
	auto text = read_text(sys.swaps_path);
	if (!text)
		return {};
	std::vector<SwapArea> swaps;
	const auto lines = lines_of(*text);
	for (std::size_t i = 1; i < lines.size(); i++) {	// line 0 is the header
		const auto f = split_fields(lines[i]);
		if (f.empty())
			continue;
		const std::string path = unescape_octal(f[0]);
		if (auto devno = block_devno_of(path))
			swaps.push_back({*devno, path});
	}
	return swaps;
}

// The dm devices on our devices: deactivated with our command, others with
// dmsetup.
Use holder_use(const std::string &holder, const SystemView &sys)
{
	const fs::path dm = fs::path(sys.sys_root) / "block" / holder / "dm";
	if (auto name = read_attr(dm / "name")) {
		const auto uuid = read_attr(dm / "uuid").value_or("");
		const bool ours = uuid.starts_with(dm::uuid_prefix);
		return {fmt::format("held by dm device '{}'", *name),
			fmt::format("{} {}", ours ? "deltalogctl deactivate" : "dmsetup remove",
				    shell_word(*name))};
	}
	if (holder.starts_with("md"))
		return {"held by " + holder, "mdadm --stop /dev/" + holder};
	return {"held by " + holder, ""};
}

std::vector<std::string> sorted_entries(const fs::path &dir)
{
	std::vector<std::string> names;
	std::error_code ec;
	for (const auto &e : fs::directory_iterator(dir, ec))
		names.push_back(e.path().filename().string());
	std::sort(names.begin(), names.end());
	return names;
}

// The uses of one device (or partition) whose sysfs directory is devdir;
// each reason starts with prefix.
void collect_uses(dev_t devno, const fs::path &devdir, const Snapshot &snap,
		  const SystemView &sys, const std::string &prefix, std::vector<Use> &uses)
{
	std::vector<std::string> points;
	for (const Mount &m : snap.mounts) {
		if ((m.devno == devno || m.source == devno) &&
		    std::find(points.begin(), points.end(), m.point) == points.end())
			points.push_back(m.point);
	}
	if (!points.empty()) {
		std::vector<std::string> words;
		for (const auto &p : points)
			words.push_back(shell_word(p));
		uses.push_back({fmt::format("{}mounted on {}", prefix, fmt::join(points, ", ")),
				fmt::format("umount {}", fmt::join(words, " "))});
	}
	for (const SwapArea &s : snap.swaps) {
		if (s.devno == devno)
			uses.push_back({prefix + "in use as swap", "swapoff " + shell_word(s.path)});
	}
	for (const auto &holder : sorted_entries(devdir / "holders")) {
		Use use = holder_use(holder, sys);
		use.reason = prefix + use.reason;
		uses.push_back(std::move(use));
	}
}

std::vector<Use> device_uses(const BlockDevice &dev, const SystemView &sys)
{
	const fs::path devdir = sys_dev_dir(sys, dev.devno);
	std::error_code ec;
	if (!fs::is_directory(devdir, ec))
		throw Failure(dev.path,
			      fmt::format("cannot see whether it is in use: no {}", devdir.string()),
			      "Is /sys mounted?");

	Snapshot snap{read_mounts(dev.path, sys), read_swaps(sys)};
	std::vector<Use> uses;
	collect_uses(dev.devno, devdir, snap, sys, "", uses);

	// A whole disk is in use when one of its partitions is.
	for (const auto &name : sorted_entries(devdir)) {
		const fs::path part = devdir / name;
		if (!fs::exists(part / "partition", ec))
			continue;
		auto devno = read_attr(part / "dev");
		auto part_devno = devno ? parse_devno(*devno) : std::nullopt;
		if (!part_devno)
			continue;
		collect_uses(*part_devno, part, snap, sys, fmt::format("its partition {} is ", name),
			     uses);
	}

	// Whatever else holds it exclusively (a filesystem mounted in another
	// mount namespace, a btrfs member that is not the mount's source, a
	// program): an exclusive open of our own is refused.
	if (uses.empty() && block_devno_of(dev.path) == dev.devno) {
		deltalog::UniqueFd fd(::open(dev.path.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC | O_NONBLOCK));
		if (!fd && errno == EBUSY)
			uses.push_back({"opened exclusively by another program", ""});
	}
	return uses;
}

// A partition's disk and range (sectors), from sysfs.
struct PartitionInfo {
	dev_t disk = 0;
	std::uint64_t start = 0;
	std::uint64_t size = 0;
};

std::optional<PartitionInfo> partition_info(dev_t devno, const SystemView &sys)
{
	std::error_code ec;
	const fs::path dir = fs::canonical(sys_dev_dir(sys, devno), ec);
	if (ec || !fs::exists(dir / "partition", ec))
		return std::nullopt;
	auto disk = read_attr(dir.parent_path() / "dev");
	auto start = read_attr(dir / "start");
	auto size = read_attr(dir / "size");
	PartitionInfo info;
	auto disk_devno = disk ? parse_devno(*disk) : std::nullopt;
	auto start_n = start ? parse_number<std::uint64_t>(*start) : std::nullopt;
	auto size_n = size ? parse_number<std::uint64_t>(*size) : std::nullopt;
	if (!disk_devno || !start_n || !size_n)
		return std::nullopt;
	return PartitionInfo{*disk_devno, *start_n, *size_n};
}

} // namespace

std::string kernel_name(dev_t devno, const SystemView &sys)
{
	const fs::path devdir = sys_dev_dir(sys, devno);
	if (auto uevent = read_text(devdir / "uevent")) {
		for (std::string_view line : lines_of(*uevent)) {
			if (line.starts_with("DEVNAME="))
				return std::string(line.substr(8));
		}
	}
	std::error_code ec;
	return fs::canonical(devdir, ec).filename().string();
}

std::string devno_string(dev_t devno)
{
	return fmt::format("{}:{}", major(devno), minor(devno));
}

std::optional<dev_t> parse_devno(std::string_view s)
{
	const auto colon = s.find(':');
	if (colon == std::string_view::npos)
		return std::nullopt;
	auto major = parse_number<unsigned>(s.substr(0, colon));
	auto minor = parse_number<unsigned>(s.substr(colon + 1));
	if (!major || !minor)
		return std::nullopt;
	return makedev(*major, *minor);
}

BlockDevice block_device(const std::string &path, const SystemView &sys)
{
	struct stat st;
	if (::stat(path.c_str(), &st)) {
		const int err = errno;
		if (err == ENOENT || err == ENOTDIR)
			throw Failure(path, "does not exist");
		if (permission_error(err))
			throw Failure(path, "permission denied", root_hint());
		throw Failure(path, errno_text("cannot look at it", err));
	}
	if (S_ISREG(st.st_mode))
		throw Failure(path, "not a block device but a regular file",
			      "To use an image file, attach it first: losetup --find --show " +
				      shell_word(path));
	if (S_ISDIR(st.st_mode))
		throw Failure(path, "not a block device but a directory");
	if (!S_ISBLK(st.st_mode))
		throw Failure(path, "not a block device");

	deltalog::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
	if (!fd) {
		const int err = errno;
		if (permission_error(err))
			throw Failure(path, "permission denied", root_hint());
		throw Failure(path, errno_text("cannot open it", err));
	}
	// The node we opened, should the path have changed since the stat.
	if (fstat(fd.get(), &st) || !S_ISBLK(st.st_mode))
		throw Failure(path, "not a block device");

	BlockDevice dev;
	dev.path = path;
	dev.devno = st.st_rdev;

	const fs::path devdir = sys_dev_dir(sys, dev.devno);
	std::error_code ec;
	if (!fs::is_directory(devdir, ec))
		throw Failure(path, fmt::format("the kernel shows no {}", devdir.string()),
			      "Is /sys mounted?");
	dev.kernel_name = kernel_name(dev.devno, sys);
	if (dev.kernel_name.empty())
		throw Failure(path, fmt::format("cannot find its kernel name in {}", devdir.string()));

	std::uint64_t bytes = 0;
	if (ioctl(fd.get(), BLKGETSIZE64, &bytes)) {
		auto sectors = read_attr(devdir / "size");
		auto n = sectors ? parse_number<std::uint64_t>(*sectors) : std::nullopt;
		if (!n)
			throw Failure(path, errno_text("cannot get its size", errno));
		bytes = *n * DLOG_SECTOR_SIZE;
	}
	dev.size_bytes = bytes;

	int lbs = 0;
	if (ioctl(fd.get(), BLKSSZGET, &lbs) == 0 && lbs > 0) {
		dev.logical_block_size = static_cast<std::uint32_t>(lbs);
	} else if (auto attr = read_attr(devdir / "queue" / "logical_block_size")) {
		if (auto n = parse_number<std::uint32_t>(*attr))
			dev.logical_block_size = *n;
	}
	return dev;
}

std::optional<std::string> probe_signature(const std::string &path)
{
	const deltalog::UniqueFd fd = open_for_probe(path);
	if (auto delta = delta_signature(path))
		return delta;

	Probe pr = new_probe(path, fd.get(), true, signature_flags);
	switch (blkid_do_safeprobe(pr.get())) {
	case 0:
		return describe_result(pr);
	case 1:
		return std::nullopt;
	case -2:
		return describe_several(path, fd.get());
	default:
		throw Failure(path, "libblkid failed to probe it");
	}
}

std::optional<std::string> signature(const BlockDevice &dev)
{
	return probe_signature(dev.path);
}

std::optional<std::string> probe_filesystem_uuid(const std::string &path)
{
	const deltalog::UniqueFd fd = open_for_probe(path);
	Probe pr = new_probe(path, fd.get(), false,
			     BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_USAGE);
	const int rc = blkid_do_safeprobe(pr.get());
	if (rc == -1)
		throw Failure(path, "libblkid failed to probe it");
	if (rc != 0 || probe_value(pr, "USAGE") != "filesystem")
		return std::nullopt;
	return probe_value(pr, "UUID");
}

std::optional<std::string> filesystem_uuid(const BlockDevice &dev)
{
	return probe_filesystem_uuid(dev.path);
}

std::vector<std::string> users(const BlockDevice &dev, const SystemView &sys)
{
	std::vector<std::string> reasons;
	for (auto &use : device_uses(dev, sys))
		reasons.push_back(std::move(use.reason));
	return reasons;
}

void require_unused(const BlockDevice &dev, const std::string &role, const SystemView &sys)
{
	const std::vector<Use> uses = device_uses(dev, sys);
	if (uses.empty())
		return;
	std::vector<std::string> reasons, actions;
	for (const auto &use : uses) {
		reasons.push_back(use.reason);
		if (!use.action.empty())
			actions.push_back(use.action);
	}
	throw Failure(dev.path,
		      fmt::format("the {} is in use: {}", role, fmt::join(reasons, "; ")),
		      actions.empty() ? "Stop the program that uses it first."
				      : fmt::format("Free it first: {}", fmt::join(actions, "; ")));
}

std::optional<std::string> dm_name(const BlockDevice &dev, const SystemView &sys)
{
	auto name = read_attr(sys_dev_dir(sys, dev.devno) / "dm" / "name");
	if (!name || name->empty())
		return std::nullopt;
	return name;
}

std::vector<Holder> holders(dev_t devno, const SystemView &sys)
{
	std::vector<Holder> out;
	for (const auto &holder : sorted_entries(sys_dev_dir(sys, devno) / "holders")) {
		const fs::path dm = fs::path(sys.sys_root) / "block" / holder / "dm";
		out.push_back({holder, read_attr(dm / "name").value_or(""), read_attr(dm / "uuid").value_or("")});
	}
	return out;
}

std::optional<dev_t> whole_disk(dev_t devno, const SystemView &sys)
{
	if (auto part = partition_info(devno, sys))
		return part->disk;
	return std::nullopt;
}

std::vector<dev_t> partitions(dev_t devno, const SystemView &sys)
{
	std::vector<dev_t> out;
	const fs::path devdir = sys_dev_dir(sys, devno);
	std::error_code ec;
	for (const auto &name : sorted_entries(devdir)) {
		if (!fs::exists(devdir / name / "partition", ec))
			continue;
		if (auto attr = read_attr(devdir / name / "dev"))
			if (auto part = parse_devno(*attr))
				out.push_back(*part);
	}
	return out;
}

bool same_device(const BlockDevice &a, const BlockDevice &b)
{
	return a.devno == b.devno;
}

bool overlaps(const BlockDevice &a, const BlockDevice &b, const SystemView &sys)
{
	if (same_device(a, b))
		return true;
	const auto pa = partition_info(a.devno, sys);
	const auto pb = partition_info(b.devno, sys);
	if ((pa && pa->disk == b.devno) || (pb && pb->disk == a.devno))
		return true;
	// Partition tables can describe overlapping partitions; the kernel
	// adds them as they are.
	return pa && pb && pa->disk == pb->disk && pa->start < pb->start + pb->size &&
	       pb->start < pa->start + pa->size;
}

void wipe_signatures(const BlockDevice &dev)
{
	deltalog::UniqueFd fd(::open(dev.path.c_str(), O_RDWR | O_EXCL | O_CLOEXEC));
	if (!fd)
		throw Failure(dev.path, errno_text("cannot open it to wipe it", errno));
	Probe pr = new_probe(dev.path, fd.get(), true, BLKID_SUBLKS_MAGIC | BLKID_SUBLKS_BADCSUM);
	blkid_probe_set_partitions_flags(pr.get(), BLKID_PARTS_MAGIC);
	// Each wipe makes the next probe find the next signature.
	while (blkid_do_probe(pr.get()) == 0)
		if (blkid_do_wipe(pr.get(), 0))
			throw Failure(dev.path, errno_text("cannot wipe a signature", errno));
	if (fsync(fd.get()))
		throw Failure(dev.path, errno_text("cannot flush the wiped device", errno));
}

} // namespace deltalogctl
