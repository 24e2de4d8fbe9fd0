#include "history.hpp"

#include "base/output.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace deltalogctl {

void add(HistorySummary &h, const deltalog::Record &r)
{
	using deltalog::RecordKind;
	if (r.kind == RecordKind::rollback)
		return;
	h.records++;
	if (!h.oldest_seq) {
		h.oldest_seq = r.seq;
		h.oldest_ns = r.time_ns;
	}
	h.newest_seq = r.seq;
	h.newest_ns = r.time_ns;
	if (r.kind == RecordKind::write) {
		h.writes++;
		h.write_bytes += std::uint64_t{r.nr_sectors} * 512;
	} else if (r.kind == RecordKind::zero) {
		h.zeroes++;
		h.zero_bytes += std::uint64_t{r.nr_sectors} * 512;
	} else {
		h.marks++;
	}
}

HistorySummary summarize(const deltalog::LogState &log, std::uint64_t after, std::uint64_t up_to)
{
	HistorySummary h;
	for (const deltalog::Record &r : log.live())
		if (r.seq > after && r.seq <= up_to)
			add(h, r);
	return h;
}

std::string describe(const HistorySummary &h)
{
	if (!h.records)
		return "no records";
	std::string what = fmt::format("{} of writes", human_size(h.write_bytes));
	if (h.zeroes)
		what += fmt::format(", {} zeroed or discarded", human_size(h.zero_bytes));
	if (h.marks)
		what += fmt::format(", {} mark{}", h.marks, h.marks == 1 ? "" : "s");
	return fmt::format("{} record{} ({}) from {} to {}", h.records, h.records == 1 ? "" : "s", what,
			   local_time(h.oldest_ns), local_time(h.newest_ns));
}

std::optional<deltalog::Record> newest_mark(const deltalog::LogState &log)
{
	const std::vector<deltalog::Record> live = log.live();
	for (auto it = live.rbegin(); it != live.rend(); ++it)
		if (it->kind == deltalog::RecordKind::mark)
			return *it;
	return std::nullopt;
}

std::vector<std::string> mark_labels(const deltalog::LogState &log)
{
	std::vector<std::string> labels;
	const std::vector<deltalog::Record> live = log.live();
	for (auto it = live.rbegin(); it != live.rend(); ++it)
		if (it->kind == deltalog::RecordKind::mark &&
		    std::find(labels.begin(), labels.end(), it->label) == labels.end())
			labels.push_back(it->label);
	return labels;
}

} // namespace deltalogctl
