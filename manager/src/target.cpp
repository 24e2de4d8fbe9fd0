#include "target.hpp"

#include "base/errors.hpp"
#include "base/number.hpp"
#include "blockdev.hpp"

#include "deltalog/device.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <sstream>
#include <vector>

namespace deltalogctl {

namespace {

std::vector<std::string> words(const std::string &s)
{
	std::istringstream in(s);
	std::vector<std::string> out;
	for (std::string w; in >> w;)
		out.push_back(w);
	return out;
}

// For the chains below: false, and out untouched, unless s is a number.
bool to_u64(std::string_view s, std::uint64_t &out)
{
	const auto v = parse_number<std::uint64_t>(s);
	if (v)
		out = *v;
	return v.has_value();
}

// "a/b" into a and b.
bool to_pair(std::string_view s, std::uint64_t &a, std::uint64_t &b)
{
	const auto slash = s.find('/');
	return slash != std::string_view::npos && to_u64(s.substr(0, slash), a) &&
	       to_u64(s.substr(slash + 1), b);
}

Failure not_understood(const std::string &name, const std::string &what, const std::string &line)
{
	return Failure(name, fmt::format("cannot read the target's {}: '{}'", what, line),
		       "Is the dm-deltalog module newer than deltalogctl? Update both together.");
}

void require_type(const std::string &name, const dm::Target &target)
{
	if (target.type != "deltalog")
		throw Failure(name, fmt::format("not a dm-deltalog device (its target is {})", target.type));
}

} // namespace

TableLine parse_table(const std::string &name, const dm::Target &target)
{
	require_type(name, target);
	const auto w = words(target.params);
	TableLine line;
	line.length = target.length;
	if (w.size() < 2)
		throw not_understood(name, "table", target.params);
	line.origin = w[0];
	line.delta = w[1];
	if (w.size() == 2)
		return line;
	std::uint64_t n = 0;
	if (!to_u64(w[2], n) || n % 2 || w.size() != 3 + n)
		throw not_understood(name, "table", target.params);
	for (std::size_t i = 3; i < w.size(); i += 2) {
		const std::string &key = w[i], &value = w[i + 1];
		std::uint64_t v = 0;
		if (key == "on_full") {
			line.options.on_full = value;
			continue;
		}
		if (!to_u64(value, v))
			throw not_understood(name, "table", target.params);
		if (key == "view")
			line.options.view_seq = v;
		else if (key == "commit_ms")
			line.options.commit_ms = static_cast<std::uint32_t>(v);
		else if (key == "low_water")
			line.options.low_water = v;
		else if (key == "merge_rate")
			line.options.merge_rate = static_cast<std::uint32_t>(v);
		else
			throw not_understood(name, "table", target.params);
	}
	return line;
}

TargetStatus parse_status(const std::string &name, const dm::Target &target)
{
	require_type(name, target);
	const auto w = words(target.params);
	TargetStatus s;
	if (w.size() < 12 || !to_pair(w[0], s.data_used, s.data_total) ||
	    !to_pair(w[1], s.meta_used, s.meta_total) || !to_u64(w[2], s.oldest_seq) ||
	    !to_u64(w[3], s.newest_seq) || !to_u64(w[4], s.durable_seq) ||
	    !to_u64(w[5], s.merged_seq) || !to_u64(w[7], s.index_extents) ||
	    !to_u64(w[8], s.index_bytes) || !to_u64(w[9], s.merge_target) ||
	    !to_pair(w[10], s.merge_copied, s.merge_total))
		throw not_understood(name, "status", target.params);
	s.state = w[6];
	s.merge_activity = w[11];
	return s;
}

dm::Target make_target(const TableLine &line)
{
	std::vector<std::string> opts;
	const TargetOptions &o = line.options;
	if (o.view_seq)
		opts.insert(opts.end(), {"view", std::to_string(*o.view_seq)});
	if (o.on_full != "error")
		opts.insert(opts.end(), {"on_full", o.on_full});
	if (o.commit_ms != 1000)
		opts.insert(opts.end(), {"commit_ms", std::to_string(o.commit_ms)});
	if (o.low_water)
		opts.insert(opts.end(), {"low_water", std::to_string(o.low_water)});
	if (o.merge_rate != TargetOptions{}.merge_rate)
		opts.insert(opts.end(), {"merge_rate", std::to_string(o.merge_rate)});

	std::string params = fmt::format("{} {}", line.origin, line.delta);
	if (!opts.empty())
		params += fmt::format(" {} {}", opts.size(), fmt::join(opts, " "));
	return dm::Target{0, line.length, "deltalog", params};
}

std::optional<ActiveDevice> find_active(const std::string &name)
{
	auto info = dm::info(name);
	if (!info || !info->live_table)
		return std::nullopt;
	ActiveDevice dev;
	dev.info = *info;
	dev.table = parse_table(name, dm::table(name));
	dev.status = parse_status(name, dm::status(name));
	dev.origin_path = devno_path(dev.table.origin);
	dev.delta_path = devno_path(dev.table.delta);
	return dev;
}

void flush_device(const std::string &name)
{
	const deltalog::UniqueFd fd(::open(dm::device_path(name).c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd || fsync(fd.get()))
		throw Failure(name, errno_text("cannot flush the device", errno));
}

ActiveDevice active_device(const std::string &name)
{
	check_device_name(name);
	auto dev = find_active(name);
	if (!dev)
		throw Failure(name, "no such active device",
			      "'deltalogctl list' shows the active ones; "
			      "'deltalogctl activate NAME ORIGIN DELTA' activates one.");
	return *dev;
}

std::vector<OpenView> open_views(const ActiveDevice &dev)
{
	std::vector<OpenView> views;
	if (dev.info.uuid.empty())
		return views;
	const std::string prefix = dev.info.uuid + "-view-";
	for (const dm::Info &info : dm::list_ours()) {
		if (info.uuid.rfind(prefix, 0) != 0)
			continue;
		if (auto view = find_active(info.name); view && view->table.options.view_seq)
			views.push_back({info.name, *view->table.options.view_seq});
	}
	return views;
}

std::string device_uuid(const deltalog::Uuid &delta_uuid)
{
	return std::string(dm::uuid_prefix) + deltalog::uuid_string(delta_uuid);
}

std::string view_uuid(const deltalog::Uuid &delta_uuid, const std::string &view_name)
{
	return device_uuid(delta_uuid) + "-view-" + view_name;
}

std::string devno_path(const std::string &devno)
{
	if (const auto dev = parse_devno(devno))
		if (const std::string name = kernel_name(*dev); !name.empty())
			return "/dev/" + name;
	return "/dev/block/" + devno;
}

void check_device_name(const std::string &name)
{
	if (name.empty() || name == "." || name == ".." || name.size() > 127)
		throw UsageError(fmt::format("'{}' is not a valid device name (1-127 characters)", name));
	for (char c : name)
		if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("#+-.:=@_").find(c) == std::string_view::npos)
			throw UsageError(fmt::format(
				"'{}' is not a valid device name: use letters, digits and #+-.:=@_", name));
}

} // namespace deltalogctl
