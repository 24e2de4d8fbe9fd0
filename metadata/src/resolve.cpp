#include "deltalog/resolve.hpp"

#include "deltalog/errors.hpp"

#include <fmt/format.h>

namespace deltalog {

std::uint64_t resolve_seq(const LogState &log, std::uint64_t seq)
{
	if (seq < log.sb.merged_seq)
		throw ResolveError(ResolveError::Reason::before_oldest,
				   fmt::format("seq {} is before the oldest state kept (merged up to "
					       "seq {})",
					       seq, log.sb.merged_seq));
	if (seq > log.newest_seq())
		throw ResolveError(ResolveError::Reason::after_newest,
				   fmt::format("seq {} is after the newest record (seq {})", seq,
					       log.newest_seq()));
	return seq;
}

std::uint64_t resolve_time(const LogState &log, std::uint64_t time_ns,
			   std::optional<std::uint64_t> now_ns)
{
	if (now_ns && time_ns > *now_ns)
		throw ResolveError(ResolveError::Reason::after_newest,
				   fmt::format("time {} is in the future (now is {})", time_ns,
					       *now_ns));
	const LogRecord *oldest = nullptr;
	const LogRecord *found = nullptr;
	for (const LogRecord &r : log.records) {
		if (r.status != RecordStatus::live)
			continue;
		if (!oldest)
			oldest = &r;
		if (r.rec.time_ns <= time_ns)
			found = &r;	// times are non-decreasing: keep the last
	}
	if (found)
		return found->rec.seq;
	if (log.sb.merged_seq == 0 && time_ns >= log.sb.format_time_ns)
		return 0;
	if (!oldest)
		throw ResolveError(ResolveError::Reason::empty_log,
				   fmt::format("no record to resolve time {} against (merged up to "
					       "seq {}, nothing newer)",
					       time_ns, log.sb.merged_seq));
	throw ResolveError(ResolveError::Reason::before_oldest,
			   fmt::format("time {} is before the oldest record kept (seq {} at {})",
				       time_ns, oldest->rec.seq, oldest->rec.time_ns));
}

std::uint64_t resolve_mark(const LogState &log, std::string_view label)
{
	const LogRecord *found = nullptr;
	bool merged = false;
	for (const LogRecord &r : log.records) {
		if (r.rec.kind != RecordKind::mark || r.rec.label != label)
			continue;
		if (r.status == RecordStatus::live)
			found = &r;
		else if (r.status == RecordStatus::dead)
			merged = true;
	}
	if (found)
		return found->rec.seq;
	if (merged)
		throw ResolveError(ResolveError::Reason::before_oldest,
				   fmt::format("mark '{}' was merged into the origin", label));
	throw ResolveError(ResolveError::Reason::unknown_mark,
			   fmt::format("no mark '{}' in the log", label));
}

} // namespace deltalog
