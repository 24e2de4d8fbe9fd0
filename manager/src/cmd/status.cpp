// deltalogctl status NAME [--json]
#include "base/command.hpp"
#include "base/output.hpp"
#include "report.hpp"

#include <fmt/format.h>

namespace deltalogctl {

namespace {

void declare(po::options_description &options)
{
	options.add_options()("json", po::bool_switch(), "print the status as JSON");
}

std::string percent(std::uint64_t part, std::uint64_t whole)
{
	return whole ? fmt::format("{}%", part * 100 / whole) : "-";
}

int run(const Args &args)
{
	const DeviceReport r = device_report(active_device(args.pos(0)));
	if (args.flag("json")) {
		deltalog::JsonWriter j;
		write_json(j, r);
		fmt::print("{}\n", j.str());
		return 0;
	}
	const ActiveDevice &d = r.dev;
	const TargetStatus &s = d.status;
	const std::uint64_t used = s.data_used * 4096, total = s.data_total * 4096;
	std::vector<std::pair<std::string, std::string>> rows = {
		{"state", state_text(r)},
		{"device", fmt::format("{} ({}{}{})", dm::device_path(d.info.name), human_size(r.size_bytes),
				       d.info.read_only ? ", read-only" : "",
				       d.info.open_count ? fmt::format(", open {}x", d.info.open_count) : "")},
		{"origin", d.origin_path},
		{"delta", d.delta_path},
		{"log space", fmt::format("{} of {} used ({}), {} free", human_size(used), human_size(total),
					  percent(used, total), human_size(total - std::min(used, total)))},
		{"metadata", fmt::format("{} of {} blocks ({})", s.meta_used, s.meta_total,
					 percent(s.meta_used, s.meta_total))},
	};
	if (r.log_error)
		rows.push_back({"history", "cannot read the log: " + *r.log_error});
	else if (!r.history.records)
		rows.push_back({"history", "none yet: the device shows the origin as it is"});
	else {
		rows.push_back({"history", describe(r.history)});
		rows.push_back({"", fmt::format("{} back from the newest write",
						human_duration(r.history.newest_ns - r.history.oldest_ns))});
	}
	if (!r.marks.empty()) {
		const MarkInfo &m = r.marks.back();
		rows.push_back({"newest mark", fmt::format("@{} at {} (#{}){}", m.label, local_time(m.time_ns), m.seq,
							   r.marks.size() > 1
								   ? fmt::format(", {} marks in all", r.marks.size())
								   : "")});
	}
	rows.push_back({"seqs", fmt::format("oldest #{}, newest #{}, durable #{}, committed up to #{}", s.oldest_seq,
					    s.newest_seq, s.durable_seq, s.merged_seq)});
	if (s.merge_activity == "running")
		rows.push_back({"commit", fmt::format("running, up to #{}: {} of {} copied ({})", s.merge_target,
						      human_size(s.merge_copied * 4096),
						      human_size(s.merge_total * 4096),
						      percent(s.merge_copied, s.merge_total))});
	else if (s.merge_activity == "stopped")
		rows.push_back({"commit", fmt::format("up to #{} unfinished (cancelled, failed or interrupted); "
						      "finish it: deltalogctl merge {} --until '#{}'",
						      s.merge_target, d.info.name, s.merge_target)});
	rows.push_back({"when full", d.table.options.on_full == "error" ? "writes fail (on-full error)"
								      : "oldest history is committed (on-full merge-oldest)"});
	fmt::print("{}:\n", d.info.name);
	for (const auto &[k, v] : rows)
		fmt::print("  {:<12} {}\n", k, v);
	return 0;
}

} // namespace

extern const Command status_command = {
	"status",
	"status NAME [--json]",
	"show a device's state, log space, and how much history it holds",
	R"(Shows the state of an active device (active, full, failed, merging, or a
view), its origin and delta, how much of the log is used and free, the
history it holds (records, bytes written, from when to when), the newest
mark and the sequence numbers the kernel reports (oldest, newest, durable,
committed).

States: active (normal); full (the log has no room: writes fail until you
commit or roll back); failed (a write to the delta failed: writes fail,
reads go on, the log stays valid); merging (a commit is running, or was
interrupted and is unfinished: the 'commit' line says which and how far it
got); view (a read-only view made by 'deltalogctl view').

--json prints one object; its fields are listed in the manual page
(deltalogctl(8), JSON OUTPUT).

Examples:
  deltalogctl status box
  deltalogctl status box --json | jq .data.used_bytes
)",
	{"NAME"},
	declare,
	run,
};

} // namespace deltalogctl
