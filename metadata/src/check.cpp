#include "deltalog/check.hpp"

#include "deltalog/errors.hpp"
#include "deltalog/meta_block.hpp"

#include <algorithm>
#include <cstring>
#include <endian.h>

#include <fmt/format.h>

namespace deltalog {
namespace {

class Checker {
public:
	Checker(const Device &delta, const CheckOptions &opts) : delta_(delta), opts_(opts) {}

	CheckReport run()
	{
		try {
			if (superblocks() && geometry()) {
				origin();
				log();
			}
		} catch (const std::exception &e) {
			fatal("delta", fmt::format("cannot continue: {}", e.what()));
		}
		return std::move(report_);
	}

private:
	void add(Severity s, std::string where, std::string what)
	{
		report_.findings.push_back({s, std::move(where), std::move(what)});
	}
	void fatal(std::string where, std::string what)
	{
		add(Severity::fatal, std::move(where), std::move(what));
	}
	void warning(std::string where, std::string what)
	{
		add(Severity::warning, std::move(where), std::move(what));
	}

	static std::string copy_where(unsigned c) { return fmt::format("superblock {}", copy_name(c)); }

	bool superblocks()
	{
		std::array<std::byte, 2 * DLOG_SB_SIZE> bytes;
		if (delta_.sectors() < 2 * DLOG_SB_SECTORS) {
			fatal("delta", fmt::format("{} sectors: too small to hold a superblock",
						   delta_.sectors()));
			return false;
		}
		delta_.read(0, bytes);
		try {
			choice_ = choose_superblock(bytes);
		} catch (const UnformattedError &) {
			fatal("superblock", "not formatted: copy A is all zeros and copy B is not valid");
			return false;
		} catch (const SuperblockError &) {
			for (unsigned c = 0; c < DLOG_SB_COPIES; c++)
				for (const std::string &p : superblock_problems(
					     std::span(bytes).subspan(c * DLOG_SB_SIZE).first<DLOG_SB_SIZE>(), c))
					fatal(copy_where(c), p);
			fatal("superblock", "no valid copy: the delta is corrupt or not a deltalog delta");
			return false;
		}

		const SuperblockChoice &c = *choice_;
		const unsigned other = c.copy ^ 1u;
		const auto other_bytes = std::span(bytes).subspan(other * DLOG_SB_SIZE).first<DLOG_SB_SIZE>();
		if (!c.valid(other)) {
			for (const std::string &p : c.problems[other])
				warning(copy_where(other), fmt::format("not valid, ignored: {}", p));
		} else {
			Superblock o = unpack_superblock(other_bytes);
			if (o.uuid != c.sb.uuid)
				warning(copy_where(other),
					fmt::format("belongs to another log (uuid {}, current {})",
						    uuid_string(o.uuid), uuid_string(c.sb.uuid)));
			if (o.generation == c.sb.generation)
				warning(copy_where(other),
					fmt::format("same generation {} as copy {}", o.generation,
						    copy_name(c.copy)));
		}

		struct dlog_superblock d;
		std::memcpy(&d, bytes.data() + c.copy * DLOG_SB_SIZE, sizeof(d));
		if (d.reserved0)
			warning(copy_where(c.copy), "reserved0 is not zero");
		if (std::any_of(std::begin(d.padding), std::end(d.padding), [](auto b) { return b != 0; }))
			warning(copy_where(c.copy), "padding is not zero");
		if (c.sb.merging())
			warning(copy_where(c.copy),
				fmt::format("a merge up to seq {} was interrupted; the next merge or "
					    "activation finishes it",
					    c.sb.merge_target_seq));
		return true;
	}

	bool geometry()
	{
		const Superblock &sb = choice_->sb;
		bool ok = true;
		if (delta_.sectors() < sb.delta_sectors) {
			fatal("delta", fmt::format("{} sectors, but formatted with {}: the delta shrank",
						   delta_.sectors(), sb.delta_sectors));
			ok = false;
		}
		if (delta_.logical_block_size() > sb.meta_block_size)
			fatal("delta", fmt::format("{}-byte logical blocks exceed the {}-byte metadata "
						   "blocks",
						   delta_.logical_block_size(), sb.meta_block_size));
		return ok;
	}

	void origin()
	{
		if (!opts_.origin)
			return;
		try {
			check_origin(choice_->sb, *opts_.origin);
		} catch (const Error &e) {
			fatal("origin", e.what());
		}
	}

	std::string block_where(std::uint64_t index, int slot, std::optional<std::uint64_t> seq = {})
	{
		std::string w = block_location(choice_->sb, index);
		if (slot >= 0)
			w += fmt::format(" slot {}", slot);
		if (seq)
			w += fmt::format(" (seq {})", *seq);
		return w;
	}

	void log()
	{
		const Superblock &sb = choice_->sb;
		ChainScan scan = scan_chain(delta_, sb);

		for (const ParsedBlock &pb : scan.blocks) {
			for (const BlockProblem &p : pb.problems)
				fatal(block_where(pb.header.index, p.slot),
				      fmt::format("malformed: {}", p.what));
		}

		std::vector<std::string> problems;
		report_.log = assemble_log(delta_, *choice_, scan, problems);
		const LogState &log = *report_.log;
		for (const std::string &p : problems)
			fatal("log", p);

		past_the_end(log);
		data(log);
		overlaps(log);
	}

	// Valid-looking blocks of this log, in their right place, beyond the
	// end: normal after a rollback (older history), suspicious when they
	// hold seqs newer than anything in the log (lost blocks in between).
	void past_the_end(const LogState &log)
	{
		const Superblock &sb = log.sb;
		const std::uint64_t end = sb.meta_tail + sb.meta_blocks;
		const std::uint64_t batch = std::max<std::uint64_t>(1, (1u << 20) / sb.meta_block_size);
		std::vector<std::byte> chunk;
		std::uint64_t chunk_first = 0, chunk_blocks = 0;
		LogOrder order;
		for (std::uint64_t i = log.scan_end; i < end; i++) {
			if (i >= chunk_first + chunk_blocks) {
				// Read ahead up to 1 MiB of consecutive ring slots.
				std::uint64_t slot = sb.ring_slot(i);
				chunk_blocks = std::min({batch, end - i, sb.meta_blocks - slot});
				chunk_first = i;
				chunk.resize(chunk_blocks * sb.meta_block_size);
				delta_.read(sb.block_sector(i), chunk);
			}
			std::span<std::byte> buf(chunk.data() + (i - chunk_first) * sb.meta_block_size,
						 sb.meta_block_size);
			BlockStatus st = classify_block(buf, sb.uuid, i, std::nullopt);
			if (st != BlockStatus::ok)
				continue;
			ParsedBlock pb = parse_block(buf, record_limits(sb), order);
			order = LogOrder{};
			std::uint64_t newest = 0;
			for (const Record &r : pb.block.records)
				newest = std::max(newest, r.seq);
			if (newest > log.max_seq_seen)
				warning(block_where(i, -1),
					fmt::format("past the end of the log ({}) but looks valid and "
						    "holds seqs up to {}, newer than the log's newest "
						    "({}): blocks in between may have been lost",
						    block_status_text(log.end_status), newest,
						    log.max_seq_seen));
		}
	}

	void data(const LogState &log)
	{
		if (log.cut)
			warning(block_where(log.cut_block, -1, log.cut_seq),
				fmt::format("the data of seq {} did not reach the delta: recovery "
					    "drops seqs {}..{} and keeps the log up to seq {}; the "
					    "next writer seals the cut with a ROLLBACK",
					    log.cut_seq, log.cut_seq, log.max_seq_seen,
					    log.cut_to_seq));
		// Verified by recovery already: the records after trusted_seq.
		const auto to_read = [&](const LogRecord &lr) {
			return lr.rec.has_data_csum() && lr.status == RecordStatus::live &&
			       lr.rec.seq <= log.trusted_seq;
		};
		std::uint64_t total = 0, done = 0;
		for (const LogRecord &lr : log.records)
			if (to_read(lr))
				total += std::uint64_t{lr.rec.nr_sectors} << DLOG_SECTOR_SHIFT;
		for (const LogRecord &lr : log.records) {
			const Record &r = lr.rec;
			if (!to_read(lr))
				continue;
			std::uint32_t c = read_data_csum(delta_, log.sb, r.data_pos, r.nr_sectors);
			done += std::uint64_t{r.nr_sectors} << DLOG_SECTOR_SHIFT;
			if (opts_.progress)
				opts_.progress(done, total);
			if (c != r.data_csum)
				fatal(block_where(lr.block, static_cast<int>(lr.slot), r.seq),
				      fmt::format("data checksum mismatch (record {:#010x}, data "
						  "{:#010x}) for data trusted to be durable (seq <= {})",
						  r.data_csum, c, log.trusted_seq));
		}
	}

	void overlaps(const LogState &log)
	{
		std::vector<const LogRecord *> writes;
		for (const LogRecord &lr : log.records)
			if (lr.status == RecordStatus::live && lr.rec.kind == RecordKind::write)
				writes.push_back(&lr);
		for (const LogRecord *lr : writes)
			if (lr->rec.data_pos % 8 != lr->rec.origin_sector % 8)
				warning(block_where(lr->block, static_cast<int>(lr->slot), lr->rec.seq),
					fmt::format("data position {} does not keep the 4 KiB alignment "
						    "of origin sector {}",
						    lr->rec.data_pos, lr->rec.origin_sector));
		const std::uint64_t delta_lbs = delta_.logical_block_size() >> DLOG_SECTOR_SHIFT;
		for (const LogRecord *lr : writes)
			if ((lr->rec.data_pos | lr->rec.nr_sectors) & (delta_lbs - 1))
				fatal(block_where(lr->block, static_cast<int>(lr->slot), lr->rec.seq),
				      fmt::format("data {}+{} is not whole {}-byte logical blocks of "
						  "the delta: the kernel target cannot read it",
						  lr->rec.data_pos, lr->rec.nr_sectors,
						  delta_.logical_block_size()));
		std::sort(writes.begin(), writes.end(),
			  [](auto *a, auto *b) { return a->rec.data_pos < b->rec.data_pos; });
		for (std::size_t i = 1; i < writes.size(); i++) {
			const Record &a = writes[i - 1]->rec, &b = writes[i]->rec;
			if (a.data_pos + a.nr_sectors > b.data_pos)
				fatal("data ring",
				      fmt::format("data of seq {} (positions {}..{}) and seq {} "
						  "(positions {}..{}) overlap",
						  a.seq, a.data_pos, a.data_pos + a.nr_sectors, b.seq,
						  b.data_pos, b.data_pos + b.nr_sectors));
		}
	}

	const Device &delta_;
	const CheckOptions &opts_;
	std::optional<SuperblockChoice> choice_;
	CheckReport report_;
};

} // namespace

const char *severity_name(Severity severity)
{
	return severity == Severity::fatal ? "fatal" : "warning";
}

bool CheckReport::fatal() const
{
	return count(Severity::fatal) > 0;
}

std::size_t CheckReport::count(Severity severity) const
{
	return static_cast<std::size_t>(std::count_if(
		findings.begin(), findings.end(), [&](const Finding &f) { return f.severity == severity; }));
}

CheckReport check(const Device &delta, const CheckOptions &opts)
{
	return Checker(delta, opts).run();
}

} // namespace deltalog
