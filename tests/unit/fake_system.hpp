// A fake /proc/self/mountinfo, /proc/swaps and /sys for deltalogctl's
// tests of what it reads from the system (blockdev.cpp, udev.cpp): disks,
// partitions, dm devices and their holders, in a temp dir.
#pragma once

#include "blockdev.hpp"
#include "helpers.hpp"

#include <sys/sysmacros.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace dlt {

inline void write_text(const std::string &path, const std::string &text)
{
	std::filesystem::create_directories(std::filesystem::path(path).parent_path());
	std::ofstream(path) << text;
}

// A fake /proc/self/mountinfo, /proc/swaps and /sys in a temp dir.
class FakeSystem {
public:
	FakeSystem()
	{
		view.mountinfo_path = dir.path("mountinfo");
		view.swaps_path = dir.path("swaps");
		view.sys_root = dir.path("sys");
		mountinfo_ = "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
			     "27 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n";
		swaps_ = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
		flush();
	}

	dlt::TempDir dir;
	deltalogctl::SystemView view;

	// /sys/block/<name> and its /sys/dev/block link.
	deltalogctl::BlockDevice disk(const std::string &name, dev_t devno, std::uint64_t sectors = 1 << 20)
	{
		return add(std::filesystem::path("block") / name, name, devno, sectors);
	}
	deltalogctl::BlockDevice partition(const std::string &disk, const std::string &name, dev_t devno,
			      std::uint64_t start, std::uint64_t sectors)
	{
		const auto rel = std::filesystem::path("block") / disk / name;
		write_text(sys(rel / "partition"), "1\n");
		write_text(sys(rel / "start"), fmt::format("{}\n", start));
		return add(rel, name, devno, sectors);
	}
	deltalogctl::BlockDevice dm(const std::string &kname, dev_t devno, const std::string &name,
		       const std::string &uuid)
	{
		write_text(sys(std::filesystem::path("block") / kname / "dm" / "name"), name + "\n");
		write_text(sys(std::filesystem::path("block") / kname / "dm" / "uuid"), uuid + "\n");
		return disk(kname, devno);
	}
	// holder (a kernel name) holds dev.
	void hold(const deltalogctl::BlockDevice &dev, const std::string &holder)
	{
		std::filesystem::create_directory_symlink("../../" + holder, sys(dirs_.at(dev.devno) / "holders" / holder));
	}
	void mount_line(const std::string &line)
	{
		mountinfo_ += line + "\n";
		flush();
	}
	void swap_line(const std::string &line)
	{
		swaps_ += line + "\n";
		flush();
	}

private:
	std::string sys(const std::filesystem::path &rel) const { return (std::filesystem::path(view.sys_root) / rel).string(); }

	deltalogctl::BlockDevice add(const std::filesystem::path &rel, const std::string &name, dev_t devno, std::uint64_t sectors)
	{
		write_text(sys(rel / "dev"), deltalogctl::devno_string(devno) + "\n");
		write_text(sys(rel / "size"), fmt::format("{}\n", sectors));
		write_text(sys(rel / "uevent"), fmt::format("MAJOR={}\nMINOR={}\nDEVNAME={}\nDEVTYPE=disk\n",
							    major(devno), minor(devno), name));
		std::filesystem::create_directories(sys(rel / "holders"));
		std::filesystem::create_directories(sys("dev/block"));
		std::filesystem::create_directory_symlink("../.." / rel, sys(std::filesystem::path("dev/block") / deltalogctl::devno_string(devno)));
		dirs_[devno] = rel;
		deltalogctl::BlockDevice dev;
		dev.path = dir.path("dev-" + name);	// no such node: no exclusive-open check
		dev.kernel_name = name;
		dev.devno = devno;
		dev.size_bytes = sectors * 512;
		return dev;
	}

	void flush()
	{
		write_text(view.mountinfo_path, mountinfo_);
		write_text(view.swaps_path, swaps_);
	}

	std::string mountinfo_;
	std::string swaps_;
	std::map<dev_t, std::filesystem::path> dirs_;
};

} // namespace dlt
