// What status and list tell about an active device: the kernel's status
// plus the history read from the delta (times, marks), for people and as
// JSON (the schema is in docs/deltalogctl.8, JSON OUTPUT).
#pragma once

#include "history.hpp"
#include "target.hpp"

#include "deltalog/json.hpp"

#include <optional>
#include <string>
#include <vector>

namespace deltalogctl {

struct MarkInfo {
	std::string label;
	std::uint64_t seq = 0;
	std::uint64_t time_ns = 0;
};

struct DeviceReport {
	ActiveDevice dev;
	std::uint64_t size_bytes = 0;
	HistorySummary history;
	std::vector<MarkInfo> marks;	// oldest first
	std::optional<std::string> log_error;	// the log could not be read
};

DeviceReport device_report(const ActiveDevice &dev);
void write_json(deltalog::JsonWriter &j, const DeviceReport &r);
// "active", or "view of #123", "full", ...
std::string state_text(const DeviceReport &r);

} // namespace deltalogctl
