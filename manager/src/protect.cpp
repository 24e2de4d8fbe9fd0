#include "protect.hpp"

#include "base/errors.hpp"
#include "base/number.hpp"
#include "base/output.hpp"
#include "udev.hpp"

#include "deltalog/format.h"

#include <fmt/format.h>

#include <sys/stat.h>

namespace deltalogctl {

void declare_target_options(po::options_description &options)
{
	options.add_options()
		("on-full", po::value<std::string>()->value_name("error|merge-oldest"),
		 "when the log is full: fail writes (error, the default) or commit the oldest "
		 "history to make room (merge-oldest)")
		("commit-ms", po::value<std::string>()->value_name("MS"),
		 "write pending log records at least every MS milliseconds (1-60000, default 1000)");
}

TargetOptions target_options(const Args &args)
{
	TargetOptions o;
	if (auto v = args.opt("on-full")) {
		if (*v == "error")
			o.on_full = "error";
		else if (*v == "merge-oldest")
			o.on_full = "merge_oldest";
		else
			throw UsageError(fmt::format("--on-full takes error or merge-oldest, not '{}'", *v));
	}
	if (auto v = args.opt("commit-ms")) {
		const auto ms = parse_number<std::uint32_t>(*v);
		if (!ms || *ms < 1 || *ms > 60000)
			throw UsageError(fmt::format("--commit-ms takes 1 to 60000, not '{}'", *v));
		o.commit_ms = *ms;
	}
	return o;
}

DevicePair check_devices(const std::string &origin_path, const std::string &delta_path)
{
	DevicePair p{block_device(origin_path), block_device(delta_path)};
	if (same_device(p.origin, p.delta))
		throw Failure(delta_path, fmt::format("is the same device as the origin {}", origin_path),
			      "The log needs a device of its own.");
	if (overlaps(p.origin, p.delta))
		throw Failure(delta_path, fmt::format("overlaps the origin {} (one is a partition of the other)",
						      origin_path),
			      "The log needs a device of its own.");
	require_unused(p.origin, "origin");
	require_unused(p.delta, "delta");
	// What the kernel would refuse, refused before anything is written.
	if (p.delta.logical_block_size > p.origin.logical_block_size)
		throw Failure(delta_path,
			      fmt::format("has {}-byte logical blocks, larger than the origin's {}: the log could not "
					  "hold the origin's smallest writes",
					  p.delta.logical_block_size, p.origin.logical_block_size),
			      fmt::format("Use a delta with {}-byte logical blocks.", p.origin.logical_block_size));
	if (p.delta.size_bytes < std::uint64_t{DLOG_MIN_DELTA_SECTORS} * 512)
		throw Failure(delta_path,
			      fmt::format("is too small for a log ({}; at least {})", human_size(p.delta.size_bytes),
					  human_size(std::uint64_t{DLOG_MIN_DELTA_SECTORS} * 512)));
	return p;
}

std::string node_path(const BlockDevice &dev)
{
	const std::string node = "/dev/" + dev.kernel_name;
	struct stat st {};
	if (!dev.kernel_name.empty() && ::stat(node.c_str(), &st) == 0 && S_ISBLK(st.st_mode) &&
	    st.st_rdev == dev.devno)
		return node;
	return dev.path;
}

void require_free_name(const std::string &name)
{
	check_device_name(name);
	if (auto info = dm::info(name))
		throw Failure(name, "a device-mapper device with this name exists already",
			      "Choose another name, or see it with 'dmsetup info " + name + "'.");
}

void bring_up(const std::string &name, const DevicePair &devs, const deltalog::Superblock &sb,
	      const TargetOptions &options)
{
	TableLine line;
	line.length = devs.origin.size_bytes / 512;
	line.origin = devno_string(devs.origin.devno);
	line.delta = devno_string(devs.delta.devno);
	line.options = options;
	dm::create(name, device_uuid(sb.uuid), make_target(line), options.view_seq.has_value());
	udev::devices_changed({line.origin, line.delta});
}

} // namespace deltalogctl
