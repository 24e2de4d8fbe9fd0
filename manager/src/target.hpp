// A dm-deltalog device as the kernel shows it: its table line and status
// (docs/dm-deltalog.rst: Constructor, Status) parsed into fields, and the
// paths of its origin and delta.
#pragma once

#include "dm.hpp"

#include "deltalog/superblock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace deltalogctl {

// The optional arguments of the table line, as deltalogctl sets them.
struct TargetOptions {
	std::optional<std::uint64_t> view_seq;
	std::string on_full = "error";		// "error" or "merge_oldest"
	std::uint32_t commit_ms = 1000;
	std::uint64_t low_water = 0;		// blocks; 0: none
	std::uint32_t merge_rate = 16384;	// KiB/s a merge may copy while in use; 0: no limit
};

struct TableLine {
	std::uint64_t length = 0;	// sectors (the origin's size)
	std::string origin;		// as the kernel prints it: "major:minor"
	std::string delta;
	TargetOptions options;
};

struct TargetStatus {
	std::uint64_t data_used = 0, data_total = 0;	// 4 KiB blocks
	std::uint64_t meta_used = 0, meta_total = 0;	// metadata blocks
	std::uint64_t oldest_seq = 0, newest_seq = 0, durable_seq = 0, merged_seq = 0;
	std::string state;	// active, view, merging, full, failed
	std::uint64_t index_extents = 0, index_bytes = 0;
	// The online merge: its target (0: none), 4 KiB blocks copied of the
	// total, and "none", "running" or "stopped" (unfinished until merged again).
	std::uint64_t merge_target = 0, merge_copied = 0, merge_total = 0;
	std::string merge_activity = "none";
};

// Parse what `dmsetup table` / `dmsetup status` print for a deltalog
// target. Throw Failure(name, ...) when it is not one or the line is not
// understood (a newer module: "update deltalogctl").
TableLine parse_table(const std::string &name, const dm::Target &target);
TargetStatus parse_status(const std::string &name, const dm::Target &target);
// The target for a table line.
dm::Target make_target(const TableLine &line);

// An active dm-deltalog device.
struct ActiveDevice {
	dm::Info info;
	TableLine table;
	TargetStatus status;
	std::string origin_path;	// /dev/sdb1 (or /dev/block/M:m)
	std::string delta_path;
};

// Makes the target write its pending records (an fsync of the device: a
// flush), so that the log read from the delta right after is complete.
void flush_device(const std::string &name);

// NAME as an active dm-deltalog device. Throws Failure: no such device
// (with a hint to activate it), not a dm-deltalog device.
ActiveDevice active_device(const std::string &name);
// NAME, if it is an active dm-deltalog device, else nullopt.
std::optional<ActiveDevice> find_active(const std::string &name);

// The views made of dev ('deltalogctl view'), by their dm UUIDs.
struct OpenView {
	std::string name;
	std::uint64_t seq = 0;
};
std::vector<OpenView> open_views(const ActiveDevice &dev);

// The dm UUID of a protected device, and of a view of it named view_name.
std::string device_uuid(const deltalog::Uuid &delta_uuid);
std::string view_uuid(const deltalog::Uuid &delta_uuid, const std::string &view_name);

// /dev/<name> of "major:minor" from sysfs, or /dev/block/major:minor.
std::string devno_path(const std::string &devno);

// Refuses a dm name the kernel or udev would not take (empty, '/', too long,
// "." or "..", characters outside [A-Za-z0-9#+-.:=@_]). Throws UsageError.
void check_device_name(const std::string &name);

} // namespace deltalogctl
