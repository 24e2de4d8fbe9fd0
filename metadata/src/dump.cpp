#include "deltalog/dump.hpp"

#include "deltalog/json.hpp"

#include <ctime>

#include <fmt/format.h>

namespace deltalog {

std::string format_time(std::uint64_t time_ns)
{
	const std::time_t secs = static_cast<std::time_t>(time_ns / 1000000000u);
	struct tm tm;
	if (!gmtime_r(&secs, &tm))
		return fmt::format("@{}", time_ns);
	return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900,
			   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			   time_ns % 1000000000u);
}

std::string record_line(const LogRecord &lr)
{
	const Record &r = lr.rec;
	std::string s = fmt::format("#{} {} {}", r.seq, format_time(r.time_ns), kind_name(r.kind));
	switch (r.kind) {
	case RecordKind::write:
		s += fmt::format(" origin {}+{} data {}", r.origin_sector, r.nr_sectors, r.data_pos);
		s += r.has_data_csum() ? fmt::format(" csum {:#010x}", r.data_csum) : " ordered";
		break;
	case RecordKind::zero:
		s += fmt::format(" origin {}+{}", r.origin_sector, r.nr_sectors);
		if (r.flags & DLOG_RF_DISCARD)
			s += " discard";
		break;
	case RecordKind::mark:
		s += " " + r.label;
		break;
	case RecordKind::rollback:
		s += fmt::format(" to #{}", r.to_seq);
		break;
	}
	s += fmt::format(" block {} slot {}", lr.block, lr.slot);
	if (lr.status != RecordStatus::live)
		s += fmt::format(" [{}]", status_name(lr.status));
	return s;
}

std::string dump_text(const LogState &log, const std::string &name)
{
	const Superblock &sb = log.sb;
	std::string s;
	s += fmt::format("delta: {}\n", name);
	s += fmt::format("superblock: copy {}, generation {}\n", copy_name(log.sb_copy), sb.generation);
	s += fmt::format("uuid: {}\n", uuid_string(sb.uuid));
	s += fmt::format("formatted: {}\n", format_time(sb.format_time_ns));
	s += fmt::format("geometry: {} sectors; metadata ring {} blocks of {} bytes at sector {}; "
			 "data ring {} sectors at sector {}\n",
			 sb.delta_sectors, sb.meta_blocks, sb.meta_block_size, sb.meta_start,
			 sb.data_sectors, sb.data_start);
	s += fmt::format("origin: {} sectors, {}-byte blocks, fingerprint {:#010x}{}\n",
			 sb.origin_sectors, sb.origin_lbs, sb.origin_fingerprint,
			 sb.origin_fs_uuid.empty() ? "" : ", filesystem uuid " + sb.origin_fs_uuid);
	s += fmt::format("merged: up to seq {}{}\n", sb.merged_seq,
			 !sb.merging() ? std::string()
			 : fmt::format(" (merging up to seq {}{})", sb.merge_target_seq,
				       sb.has_merge_samples() ? "; origin samples recorded"
							      : "; no origin samples: identity unchecked"));
	s += fmt::format("clean stop: {}\n",
			 sb.clean_seq ? fmt::format("at seq {}", sb.clean_seq) : std::string("no"));
	s += fmt::format("metadata: blocks {}..{} ({} of {} used), log ends at block {}: {}\n",
			 log.tail(), log.head, log.used_meta_blocks(), sb.meta_blocks, log.scan_end,
			 log.end_status == BlockStatus::ok ? "ring full" : block_status_text(log.end_status));
	s += fmt::format("data: positions {}..{} ({} of {} sectors used)\n", log.data_tail,
			 log.data_head, log.used_data_sectors(), sb.data_sectors);
	s += fmt::format("records: {} live, seq {}..{}, next seq {}, trusted up to seq {}\n",
			 log.nr_live(), log.oldest_seq(), log.newest_seq(), log.next_seq,
			 log.trusted_seq);
	if (log.cut)
		s += fmt::format("cut: the data of seq {} is missing; the log ends at seq {}\n",
				 log.cut_seq, log.cut_to_seq);
	for (const LogRecord &r : log.records)
		s += record_line(r) + "\n";
	return s;
}

std::string dump_json(const LogState &log, const std::string &name)
{
	const Superblock &sb = log.sb;
	JsonWriter j;
	j.begin_object();
	j.field("delta", std::string_view(name));

	j.key("superblock").begin_object();
	j.field("copy", std::string_view(copy_name(log.sb_copy) == 'A' ? "A" : "B"));
	j.field("generation", sb.generation);
	j.field("uuid", std::string_view(uuid_string(sb.uuid)));
	j.field("format_time_ns", sb.format_time_ns);
	j.field("delta_sectors", sb.delta_sectors);
	j.field("meta_block_size", sb.meta_block_size);
	j.field("meta_start", sb.meta_start);
	j.field("meta_blocks", sb.meta_blocks);
	j.field("data_start", sb.data_start);
	j.field("data_sectors", sb.data_sectors);
	j.field("origin_sectors", sb.origin_sectors);
	j.field("origin_lbs", sb.origin_lbs);
	j.field("origin_fingerprint", std::string_view(fmt::format("{:#010x}", sb.origin_fingerprint)));
	j.field("origin_fs_uuid", std::string_view(sb.origin_fs_uuid));
	j.field("merging", sb.merging());
	j.field("merge_samples", sb.has_merge_samples());
	j.field("next_seq", sb.next_seq);
	j.field("merged_seq", sb.merged_seq);
	j.field("meta_tail", sb.meta_tail);
	j.field("time_floor_ns", sb.time_floor_ns);
	j.field("clean_seq", sb.clean_seq);
	j.field("merge_target_seq", sb.merge_target_seq);
	j.end_object();

	j.key("log").begin_object();
	j.field("meta_tail", log.tail());
	j.field("meta_head", log.head);
	j.field("meta_blocks_used", log.used_meta_blocks());
	j.field("meta_blocks_total", sb.meta_blocks);
	j.field("scan_end", log.scan_end);
	j.field("end_reason", log.end_status == BlockStatus::ok ? "ring full"
								 : block_status_text(log.end_status));
	j.field("data_tail", log.data_tail);
	j.field("data_head", log.data_head);
	j.field("data_sectors_used", log.used_data_sectors());
	j.field("data_sectors_total", sb.data_sectors);
	j.field("next_seq", log.next_seq);
	j.field("time_floor_ns", log.time_floor_ns);
	j.field("trusted_seq", log.trusted_seq);
	j.field("oldest_seq", log.oldest_seq());
	j.field("newest_seq", log.newest_seq());
	j.field("live_records", std::uint64_t{log.nr_live()});
	j.key("cut");
	if (log.cut) {
		j.begin_object();
		j.field("seq", log.cut_seq);
		j.field("to_seq", log.cut_to_seq);
		j.field("block", log.cut_block);
		j.end_object();
	} else {
		j.null();
	}
	j.end_object();

	j.key("records").begin_array();
	for (const LogRecord &lr : log.records) {
		const Record &r = lr.rec;
		j.begin_object();
		j.field("seq", r.seq);
		j.field("time_ns", r.time_ns);
		std::string kind = kind_name(r.kind);
		for (char &c : kind)
			c = static_cast<char>(c - 'A' + 'a');
		j.field("kind", std::string_view(kind));
		j.field("status", status_name(lr.status));
		j.field("block", lr.block);
		j.field("slot", std::uint64_t{lr.slot});
		switch (r.kind) {
		case RecordKind::write:
			j.field("origin_sector", r.origin_sector);
			j.field("nr_sectors", r.nr_sectors);
			j.field("data_pos", r.data_pos);
			j.key("data_csum");
			if (r.has_data_csum())
				j.value(std::string_view(fmt::format("{:#010x}", r.data_csum)));
			else
				j.null();
			break;
		case RecordKind::zero:
			j.field("origin_sector", r.origin_sector);
			j.field("nr_sectors", r.nr_sectors);
			j.field("discard", bool(r.flags & DLOG_RF_DISCARD));
			break;
		case RecordKind::mark:
			j.field("label", std::string_view(r.label));
			break;
		case RecordKind::rollback:
			j.field("to_seq", r.to_seq);
			break;
		}
		j.end_object();
	}
	j.end_array();
	j.end_object();
	return j.str() + "\n";
}

std::string check_text(const CheckReport &report, const std::string &name)
{
	std::string s;
	for (const Finding &f : report.findings)
		s += fmt::format("{}: {}: {}: {}\n", name, severity_name(f.severity), f.where, f.what);
	s += fmt::format("{}: {} fatal, {} warning{}\n", name, report.count(Severity::fatal),
			 report.count(Severity::warning),
			 report.count(Severity::warning) == 1 ? "" : "s");
	return s;
}

std::string check_json(const CheckReport &report, const std::string &name)
{
	JsonWriter j;
	j.begin_object();
	j.field("delta", std::string_view(name));
	j.field("fatal", report.fatal());
	j.key("summary").begin_object();
	j.field("fatal", std::uint64_t{report.count(Severity::fatal)});
	j.field("warning", std::uint64_t{report.count(Severity::warning)});
	j.end_object();
	j.key("findings").begin_array();
	for (const Finding &f : report.findings) {
		j.begin_object();
		j.field("severity", severity_name(f.severity));
		j.field("where", std::string_view(f.where));
		j.field("what", std::string_view(f.what));
		j.end_object();
	}
	j.end_array();
	j.end_object();
	return j.str() + "\n";
}

} // namespace deltalog
