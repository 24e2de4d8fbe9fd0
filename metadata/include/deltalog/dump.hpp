// Human-readable and JSON renderings of a recovered log and of a check.
//
// Text (dump_text): a few "key: value" header lines, then one line per
// record of every scanned block, in log order:
//
//   #<seq> <time, UTC ISO 8601 with ns> <KIND> <details> [block <i> slot <s>] [<status>]
//
//   #4 2026-01-02T03:04:05.000000006Z WRITE origin 100+8 data 16 csum 0x1234abcd block 0 slot 3
//   #5 2026-01-02T03:04:05.000000006Z ZERO origin 0+64 discard block 0 slot 4
//   #6 2026-01-02T03:04:05.000000006Z MARK before-upgrade block 0 slot 5
//   #9 2026-01-02T03:04:07.000000000Z ROLLBACK to #5 block 1 slot 0
//
// with " [void]", " [dead]" or " [dropped]" after records that are not live.
// Header lines never contain a kind name in capitals.
//
// JSON (dump_json), stable field names, integers as JSON numbers:
//
//   {"delta": <name>,
//    "superblock": {"copy": "A"|"B", "generation", "uuid", "format_time_ns",
//      "delta_sectors", "meta_block_size", "meta_start", "meta_blocks",
//      "data_start", "data_sectors", "origin_sectors", "origin_lbs",
//      "origin_fingerprint": "0x%08x", "origin_fs_uuid": string,
//      "merging": bool, "next_seq", "merged_seq", "meta_tail",
//      "time_floor_ns", "clean_seq", "merge_target_seq"},
//    "log": {"meta_tail", "meta_head", "meta_blocks_used", "meta_blocks_total",
//      "scan_end", "end_reason": string, "data_tail", "data_head",
//      "data_sectors_used", "data_sectors_total", "next_seq", "time_floor_ns",
//      "trusted_seq", "oldest_seq", "newest_seq", "live_records",
//      "cut": null | {"seq", "to_seq", "block"}},
//    "records": [{"seq", "time_ns", "kind": "write"|"zero"|"mark"|"rollback",
//      "status": "live"|"dead"|"void"|"dropped", "block", "slot",
//      write: "origin_sector", "nr_sectors", "data_pos",
//             "data_csum": "0x%08x" | null;
//      zero:  "origin_sector", "nr_sectors", "discard": bool;
//      mark:  "label";
//      rollback: "to_seq"}]}
//
// Check JSON (check_json):
//
//   {"delta": <name>, "fatal": bool,
//    "summary": {"fatal": n, "warning": n},
//    "findings": [{"severity": "fatal"|"warning", "where": string, "what": string}]}
#pragma once

#include "deltalog/check.hpp"
#include "deltalog/log.hpp"

#include <cstdint>
#include <string>

namespace deltalog {

std::string format_time(std::uint64_t time_ns);	// 2026-01-02T03:04:05.000000006Z
std::string record_line(const LogRecord &r);	// one text line, no newline

std::string dump_text(const LogState &log, const std::string &name);
std::string dump_json(const LogState &log, const std::string &name);

std::string check_text(const CheckReport &report, const std::string &name);
std::string check_json(const CheckReport &report, const std::string &name);

} // namespace deltalog
