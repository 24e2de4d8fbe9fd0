#include "report.hpp"

#include "deltalog/device.hpp"
#include "deltalog/errors.hpp"
#include "deltalog/log.hpp"

#include <fmt/format.h>

namespace deltalogctl {

DeviceReport device_report(const ActiveDevice &dev)
{
	DeviceReport r;
	r.dev = dev;
	r.size_bytes = dev.table.length * 512;
	try {
		const deltalog::Device delta =
			deltalog::Device::open(dev.delta_path, deltalog::Device::Access::read_only);
		const deltalog::LogState log = deltalog::recover(delta);
		const std::uint64_t up_to = dev.table.options.view_seq.value_or(~std::uint64_t{0});
		r.history = summarize(log, 0, up_to);
		for (const deltalog::Record &rec : log.live())
			if (rec.kind == deltalog::RecordKind::mark && rec.seq <= up_to)
				r.marks.push_back({rec.label, rec.seq, rec.time_ns});
	} catch (const deltalog::Error &e) {
		r.log_error = e.what();
	}
	return r;
}

std::string state_text(const DeviceReport &r)
{
	if (r.dev.table.options.view_seq)
		return fmt::format("view of #{}", *r.dev.table.options.view_seq);
	return r.dev.status.state;
}

void write_json(deltalog::JsonWriter &j, const DeviceReport &r)
{
	const ActiveDevice &d = r.dev;
	const TargetStatus &s = d.status;
	j.begin_object()
		.field("name", d.info.name)
		.field("uuid", d.info.uuid)
		.field("device", dm::device_path(d.info.name))
		.field("state", s.state)
		.field("size_bytes", r.size_bytes)
		.field("open_count", std::int64_t{d.info.open_count})
		.field("read_only", d.info.read_only)
		.field("origin", d.origin_path)
		.field("delta", d.delta_path);
	if (d.table.options.view_seq)
		j.field("view_seq", *d.table.options.view_seq);
	else
		j.key("view_seq").null();
	j.field("on_full", d.table.options.on_full)
		.field("commit_ms", d.table.options.commit_ms)
		.key("data")
		.begin_object()
		.field("used_bytes", s.data_used * 4096)
		.field("total_bytes", s.data_total * 4096)
		.end_object()
		.key("metadata")
		.begin_object()
		.field("used_blocks", s.meta_used)
		.field("total_blocks", s.meta_total)
		.end_object()
		.key("seq")
		.begin_object()
		.field("oldest", s.oldest_seq)
		.field("newest", s.newest_seq)
		.field("durable", s.durable_seq)
		.field("merged", s.merged_seq)
		.end_object()
		.key("merge")
		.begin_object()
		.field("activity", s.merge_activity)
		.field("target", s.merge_target)
		.field("copied_bytes", s.merge_copied * 4096)
		.field("total_bytes", s.merge_total * 4096)
		.end_object()
		.key("history")
		.begin_object()
		.field("records", r.history.records)
		.field("writes", r.history.writes)
		.field("write_bytes", r.history.write_bytes)
		.field("marks", r.history.marks)
		.field("oldest_time_ns", r.history.oldest_ns)
		.field("newest_time_ns", r.history.newest_ns)
		.end_object()
		.key("marks")
		.begin_array();
	for (const MarkInfo &m : r.marks)
		j.begin_object().field("label", m.label).field("seq", m.seq).field("time_ns", m.time_ns).end_object();
	j.end_array();
	if (r.log_error)
		j.field("log_error", *r.log_error);
	else
		j.key("log_error").null();
	j.end_object();
}

} // namespace deltalogctl
