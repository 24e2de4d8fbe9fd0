#include "udev.hpp"

#include "dm.hpp"

#include "deltalog/errors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iterator>
#include <string_view>

namespace deltalogctl::udev {

namespace {

bool is_view(const Holder &h) { return h.dm_uuid.find("-view-") != std::string::npos; }

// A dm name as a property value: udev takes a line as it comes, but a name
// made with dmsetup may hold blanks or control characters; such a name is
// left out (the rules name links after DM_NAME, not after this).
bool plain(const std::string &s)
{
	return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
		return std::isalnum(static_cast<unsigned char>(c)) ||
		       std::string_view("#+-.:=@_").find(c) != std::string_view::npos;
	});
}

// The name of the device among ours: the protected device rather than a
// view; nullopt when none holds it.
std::optional<std::string> holder_name(const std::vector<const Holder *> &ours)
{
	auto it = std::find_if(ours.begin(), ours.end(), [](const Holder *h) { return !is_view(*h); });
	if (it == ours.end())
		it = ours.begin();
	if (it == ours.end())
		return std::nullopt;
	return (*it)->dm_name;
}

void add_name(std::vector<std::string> &out, const std::optional<std::string> &name)
{
	if (name && plain(*name))
		out.push_back("DELTALOG_NAME=" + *name);
}

void send_change(dev_t devno, const SystemView &sys)
{
	const std::string path =
		(std::filesystem::path(sys.sys_root) / "dev" / "block" / devno_string(devno) / "uevent").string();
	const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	constexpr std::string_view action = "change";
	(void)!::write(fd, action.data(), action.size());
	::close(fd);
}

} // namespace

std::vector<std::string> properties(const std::optional<DeltaSuperblock> &delta,
				    const std::vector<Holder> &holders)
{
	std::vector<const Holder *> ours;
	for (const Holder &h : holders)
		if (h.dm_uuid.starts_with(dm::uuid_prefix))
			ours.push_back(&h);

	std::vector<std::string> out;
	if (delta) {
		out.push_back("DELTALOG_ROLE=delta");
		out.push_back(std::string("DELTALOG_SUPERBLOCK=") + (delta->sb ? "ok" : "damaged"));
		if (delta->sb) {
			const std::string uuid = deltalog::uuid_string(delta->sb->uuid);
			out.push_back("DELTALOG_UUID=" + uuid);
			// Its own device: the dm UUID is made of the log's.
			const std::string dm_uuid = dm::uuid_prefix + uuid;
			std::vector<const Holder *> mine;
			std::copy_if(ours.begin(), ours.end(), std::back_inserter(mine),
				     [&](const Holder *h) { return h->dm_uuid.starts_with(dm_uuid); });
			add_name(out, holder_name(mine));
		} else {
			add_name(out, holder_name(ours));
		}
		out.push_back("ID_FS_TYPE=deltalog_delta");
		out.push_back("ID_FS_USAGE=other");
		out.push_back("UDISKS_IGNORE=1");
		return out;
	}
	if (ours.empty())
		return out;
	out.push_back("DELTALOG_ROLE=origin");
	add_name(out, holder_name(ours));
	out.push_back("UDISKS_IGNORE=1");
	return out;
}

std::vector<std::string> probe(const std::string &path, const SystemView &sys, std::optional<dev_t> devno)
{
	try {
		std::optional<DeltaSuperblock> delta;
		try {
			delta = read_delta_superblock(path);
		} catch (const deltalog::Error &) {
			// Unreadable (no medium, gone, an I/O error): not known to be ours.
		}
		if (!devno) {
			struct stat st {};
			if (::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode))
				devno = st.st_rdev;
		}
		std::vector<Holder> held;
		if (devno) {
			held = holders(*devno, sys);
			// A partition of a protected disk shows the same filesystem.
			if (auto disk = whole_disk(*devno, sys)) {
				auto more = holders(*disk, sys);
				held.insert(held.end(), more.begin(), more.end());
			}
		}
		return properties(delta, held);
	} catch (const std::exception &) {
		return {};
	}
}

void devices_changed(const std::vector<std::string> &devnos, const SystemView &sys)
{
	try {
		if (!dm::udev_running())
			return;
		for (const std::string &devno : devnos) {
			const auto dev = parse_devno(devno);
			if (!dev)
				continue;
			send_change(*dev, sys);
			for (dev_t part : partitions(*dev, sys))
				send_change(part, sys);
		}
	} catch (const std::exception &) {
		// udev looks again at the next event of the device.
	}
}

} // namespace deltalogctl::udev
