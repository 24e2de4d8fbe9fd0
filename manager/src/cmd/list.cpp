// deltalogctl list [--json]
#include "base/command.hpp"
#include "base/output.hpp"
#include "report.hpp"

#include <fmt/format.h>

namespace deltalogctl {

namespace {

void declare(po::options_description &options)
{
	options.add_options()("json", po::bool_switch(), "print the devices as JSON");
}

int run(const Args &args)
{
	std::vector<DeviceReport> reports;
	for (const dm::Info &info : dm::list_ours())
		if (auto dev = find_active(info.name))
			reports.push_back(device_report(*dev));

	if (args.flag("json")) {
		deltalog::JsonWriter j;
		j.begin_object().key("devices").begin_array();
		for (const auto &r : reports)
			write_json(j, r);
		j.end_array().end_object();
		fmt::print("{}\n", j.str());
		return 0;
	}
	if (reports.empty()) {
		fmt::print("No dm-deltalog devices are active. 'deltalogctl create' protects a device.\n");
		return 0;
	}
	Table t({"NAME", "STATE", "SIZE", "ORIGIN", "DELTA", "LOG USED", "HISTORY"},
		{false, false, true, false, false, true, false});
	for (const auto &r : reports) {
		const TargetStatus &s = r.dev.status;
		std::string history = "-";
		if (r.log_error)
			history = "unreadable log";
		else if (r.history.records)
			history = fmt::format("{} to {}", local_time(r.history.oldest_ns), local_time(r.history.newest_ns));
		t.add({r.dev.info.name, state_text(r), human_size(r.size_bytes), r.dev.origin_path, r.dev.delta_path,
		       s.data_total ? fmt::format("{}%", s.data_used * 100 / s.data_total) : "-", history});
	}
	fmt::print("{}", t.render());
	return 0;
}

} // namespace

extern const Command list_command = {
	"list",
	"list [--json]",
	"list the active protected devices and their views",
	R"(One line per active dm-deltalog device (protected devices and views):
its name, state, size, origin, delta, how full its log is, and the times of
the oldest and newest history it holds. 'deltalogctl status NAME' tells
more about one.

--json prints {"devices": [...]} with one object per device, the same
object as 'deltalogctl status --json'.

Examples:
  deltalogctl list
  deltalogctl list --json | jq -r '.devices[].name'
)",
	{},
	declare,
	run,
};

} // namespace deltalogctl
