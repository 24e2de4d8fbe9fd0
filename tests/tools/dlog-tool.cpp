// dlog-tool: a test and debug CLI over the format library, so that VM tests
// can show that userspace reads what the kernel wrote and vice versa.
//
//   dlog-tool format DELTA ORIGIN [--meta-block-size N]
//   dlog-tool append-write DELTA --origin-sector S (--file DATA | --pattern BYTE)
//                          --sectors N [--no-csum]
//   dlog-tool append-zero DELTA S N [--discard]
//   dlog-tool mark DELTA LABEL
//   dlog-tool rollback DELTA SEQ
//   dlog-tool merge DELTA ORIGIN SEQ
//   dlog-tool stop DELTA
//   dlog-tool dump DELTA [--json]
//   dlog-tool check DELTA [--origin ORIGIN] [--json]
//   dlog-tool image DELTA ORIGIN [--at SEQ]      (the image goes to stdout)
//   dlog-tool sb DELTA
//
// Appends, marks, rollbacks and merges print "seq=N" lines and leave the log
// synced (durable) but not cleanly stopped; "stop" does the clean stop.
// Exit status: 0 done (check: no fatal finding), 1 failed (check: fatal
// findings), 2 bad usage.
#include "deltalog/check.hpp"
#include "deltalog/dump.hpp"
#include "deltalog/errors.hpp"
#include "deltalog/log.hpp"
#include "deltalog/resolve.hpp"
#include "deltalog/state.hpp"
#include "deltalog/writer.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

using namespace deltalog;

namespace {

class UsageError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

// Positional arguments and --options of one command, parsed strictly.
class Args {
public:
	// value_opts take a value; flag_opts do not.
	Args(const std::vector<std::string> &argv, std::vector<std::string> value_opts,
	     std::vector<std::string> flag_opts)
	{
		for (std::size_t i = 0; i < argv.size(); i++) {
			const std::string &a = argv[i];
			if (a.rfind("--", 0) != 0 || a == "--") {
				positional_.push_back(a);
				continue;
			}
			const std::string name = a.substr(2);
			if (std::find(flag_opts.begin(), flag_opts.end(), name) != flag_opts.end()) {
				flags_[name] = true;
			} else if (std::find(value_opts.begin(), value_opts.end(), name) !=
				   value_opts.end()) {
				if (i + 1 >= argv.size())
					throw UsageError(fmt::format("option {} needs a value", a));
				values_[name] = argv[++i];
			} else {
				throw UsageError(fmt::format("unknown option {}", a));
			}
		}
	}

	void expect_positional(std::size_t n) const
	{
		if (positional_.size() != n)
			throw UsageError(fmt::format("expected {} argument{}, got {}", n,
						     n == 1 ? "" : "s", positional_.size()));
	}
	const std::string &pos(std::size_t i) const { return positional_.at(i); }
	bool flag(const std::string &name) const { return flags_.count(name) != 0; }
	std::optional<std::string> value(const std::string &name) const
	{
		auto it = values_.find(name);
		if (it == values_.end())
			return std::nullopt;
		return it->second;
	}

private:
	std::vector<std::string> positional_;
	std::map<std::string, std::string> values_;
	std::map<std::string, bool> flags_;
};

std::uint64_t number(const std::string &what, const std::string &s)
{
	std::string_view v = s;
	int base = 10;
	if (v.size() > 2 && (v.substr(0, 2) == "0x" || v.substr(0, 2) == "0X")) {
		v.remove_prefix(2);
		base = 16;
	}
	std::uint64_t n = 0;
	auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n, base);
	if (ec != std::errc() || end != v.data() + v.size() || v.empty())
		throw UsageError(fmt::format("{}: '{}' is not a number", what, s));
	return n;
}

Device open_rw(const std::string &path)
{
	return Device::open(path, Device::Access::read_write);
}

Device open_ro(const std::string &path)
{
	return Device::open(path, Device::Access::read_only);
}

void write_stdout(std::span<const std::byte> bytes)
{
	while (!bytes.empty()) {
		ssize_t r = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
		if (r < 0) {
			if (errno == EINTR)
				continue;
			throw IoError(fmt::format("stdout: {}", std::strerror(errno)), errno);
		}
		bytes = bytes.subspan(static_cast<std::size_t>(r));
	}
}

void print_superblock(const Superblock &sb, unsigned copy, const SuperblockChoice *c)
{
	fmt::print("copy={}\n", copy_name(copy));
	if (c) {
		fmt::print("valid_a={}\nvalid_b={}\n", c->valid(0) ? 1 : 0, c->valid(1) ? 1 : 0);
	}
	fmt::print("generation={}\n", sb.generation);
	fmt::print("uuid={}\n", uuid_string(sb.uuid));
	fmt::print("format_time_ns={}\n", sb.format_time_ns);
	fmt::print("delta_sectors={}\n", sb.delta_sectors);
	fmt::print("meta_block_size={}\n", sb.meta_block_size);
	fmt::print("meta_start={}\n", sb.meta_start);
	fmt::print("meta_blocks={}\n", sb.meta_blocks);
	fmt::print("data_start={}\n", sb.data_start);
	fmt::print("data_sectors={}\n", sb.data_sectors);
	fmt::print("origin_sectors={}\n", sb.origin_sectors);
	fmt::print("origin_lbs={}\n", sb.origin_lbs);
	fmt::print("origin_fingerprint={:#010x}\n", sb.origin_fingerprint);
	fmt::print("origin_fs_uuid={}\n", sb.origin_fs_uuid);
	fmt::print("flags={:#x}\n", sb.flags);
	fmt::print("merging={}\n", sb.merging() ? 1 : 0);
	fmt::print("next_seq={}\n", sb.next_seq);
	fmt::print("merged_seq={}\n", sb.merged_seq);
	fmt::print("meta_tail={}\n", sb.meta_tail);
	fmt::print("time_floor_ns={}\n", sb.time_floor_ns);
	fmt::print("clean_seq={}\n", sb.clean_seq);
	fmt::print("merge_target_seq={}\n", sb.merge_target_seq);
}

int cmd_format(const Args &a)
{
	a.expect_positional(2);
	Device delta = open_rw(a.pos(0));
	Device origin = open_ro(a.pos(1));
	FormatOptions o;
	if (auto v = a.value("meta-block-size"))
		o.meta_block_size = static_cast<std::uint32_t>(number("--meta-block-size", *v));
	Superblock sb = format_delta(delta, origin, o);
	print_superblock(sb, 1, nullptr);
	return 0;
}

int cmd_append_write(const Args &a)
{
	a.expect_positional(1);
	auto sector = a.value("origin-sector");
	auto sectors = a.value("sectors");
	auto file = a.value("file");
	auto pattern = a.value("pattern");
	if (!sector || !sectors)
		throw UsageError("--origin-sector and --sectors are required");
	if (file.has_value() == pattern.has_value())
		throw UsageError("give exactly one of --file and --pattern");
	const std::uint64_t s = number("--origin-sector", *sector);
	const std::uint64_t n = number("--sectors", *sectors);
	if (!n || n > (1u << 22))
		throw UsageError("--sectors must be 1..4194304");

	std::vector<std::byte> data(n * DLOG_SECTOR_SIZE);
	if (pattern) {
		const std::uint64_t b = number("--pattern", *pattern);
		if (b > 255)
			throw UsageError("--pattern must be a byte value 0..255");
		std::fill(data.begin(), data.end(), static_cast<std::byte>(b));
	} else {
		UniqueFd fd(::open(file->c_str(), O_RDONLY | O_CLOEXEC));
		if (!fd)
			throw IoError(fmt::format("{}: {}", *file, std::strerror(errno)), errno);
		std::size_t got = 0;
		while (got < data.size()) {
			ssize_t r = ::read(fd.get(), data.data() + got, data.size() - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				throw IoError(fmt::format("{}: {}", *file, std::strerror(errno)), errno);
			if (r == 0)
				throw Error(fmt::format("{}: only {} bytes, {} sectors need {}", *file,
							got, n, data.size()));
			got += static_cast<std::size_t>(r);
		}
	}
	Device delta = open_rw(a.pos(0));
	Writer w(delta);
	const std::uint64_t seq = w.append_write(s, data, !a.flag("no-csum"));
	w.sync();
	fmt::print("seq={}\n", seq);
	return 0;
}

int cmd_append_zero(const Args &a)
{
	a.expect_positional(3);
	const std::uint64_t s = number("sector", a.pos(1));
	const std::uint64_t n = number("count", a.pos(2));
	if (!n || n > 0xffffffffu)
		throw UsageError("the count must be 1..4294967295 sectors");
	Device delta = open_rw(a.pos(0));
	Writer w(delta);
	const std::uint64_t seq = w.append_zero(s, static_cast<std::uint32_t>(n), a.flag("discard"));
	w.sync();
	fmt::print("seq={}\n", seq);
	return 0;
}

int cmd_mark(const Args &a)
{
	a.expect_positional(2);
	Device delta = open_rw(a.pos(0));
	Writer w(delta);
	const std::uint64_t seq = w.append_mark(a.pos(1));
	w.sync();
	fmt::print("seq={}\n", seq);
	return 0;
}

int cmd_rollback(const Args &a)
{
	a.expect_positional(2);
	const std::uint64_t to = number("seq", a.pos(1));
	Device delta = open_rw(a.pos(0));
	Writer w(delta);
	fmt::print("seq={}\n", w.rollback(to));
	return 0;
}

int cmd_merge(const Args &a)
{
	a.expect_positional(3);
	const std::uint64_t to = number("seq", a.pos(2));
	Device delta = open_rw(a.pos(0));
	Device origin = open_rw(a.pos(1));
	Writer w(delta);
	w.merge(origin, to);
	fmt::print("merged_seq={}\n", w.superblock().merged_seq);
	return 0;
}

int cmd_stop(const Args &a)
{
	a.expect_positional(1);
	Device delta = open_rw(a.pos(0));
	Writer w(delta);
	w.stop();
	fmt::print("clean_seq={}\n", w.superblock().clean_seq);
	return 0;
}

int cmd_dump(const Args &a)
{
	a.expect_positional(1);
	Device delta = open_ro(a.pos(0));
	LogState log = recover(delta);
	std::string out = a.flag("json") ? dump_json(log, delta.name()) : dump_text(log, delta.name());
	fmt::print("{}", out);
	return 0;
}

int cmd_check(const Args &a)
{
	a.expect_positional(1);
	Device delta = open_ro(a.pos(0));
	std::optional<Device> origin;
	CheckOptions o;
	if (auto path = a.value("origin")) {
		origin.emplace(open_ro(*path));
		o.origin = &*origin;
	}
	CheckReport r = check(delta, o);
	fmt::print("{}", a.flag("json") ? check_json(r, delta.name()) : check_text(r, delta.name()));
	return r.fatal() ? 1 : 0;
}

int cmd_image(const Args &a)
{
	a.expect_positional(2);
	Device delta = open_ro(a.pos(0));
	Device origin = open_ro(a.pos(1));
	LogState log = recover(delta);
	check_origin(log.sb, origin);
	std::uint64_t seq = log.newest_seq();
	if (auto at = a.value("at"))
		seq = resolve_seq(log, number("--at", *at));
	ExtentMap map = state_at(log, seq);
	write_image(log, map, delta, origin, write_stdout);
	return 0;
}

int cmd_sb(const Args &a)
{
	a.expect_positional(1);
	Device delta = open_ro(a.pos(0));
	SuperblockChoice c = read_superblock(delta);
	print_superblock(c.sb, c.copy, &c);
	return 0;
}

struct Command {
	const char *name;
	const char *usage;
	std::vector<std::string> value_opts;
	std::vector<std::string> flag_opts;
	std::function<int(const Args &)> run;
};

const std::vector<Command> &commands()
{
	static const std::vector<Command> list = {
		{"format", "format DELTA ORIGIN [--meta-block-size N]", {"meta-block-size"}, {}, cmd_format},
		{"append-write",
		 "append-write DELTA --origin-sector S (--file DATA | --pattern BYTE) --sectors N [--no-csum]",
		 {"origin-sector", "file", "pattern", "sectors"}, {"no-csum"}, cmd_append_write},
		{"append-zero", "append-zero DELTA S N [--discard]", {}, {"discard"}, cmd_append_zero},
		{"mark", "mark DELTA LABEL", {}, {}, cmd_mark},
		{"rollback", "rollback DELTA SEQ", {}, {}, cmd_rollback},
		{"merge", "merge DELTA ORIGIN SEQ", {}, {}, cmd_merge},
		{"stop", "stop DELTA", {}, {}, cmd_stop},
		{"dump", "dump DELTA [--json]", {}, {"json"}, cmd_dump},
		{"check", "check DELTA [--origin ORIGIN] [--json]", {"origin"}, {"json"}, cmd_check},
		{"image", "image DELTA ORIGIN [--at SEQ] > IMAGE", {"at"}, {}, cmd_image},
		{"sb", "sb DELTA", {}, {}, cmd_sb},
	};
	return list;
}

void usage(FILE *to)
{
	std::string s = "usage:\n";
	for (const Command &c : commands())
		s += fmt::format("  dlog-tool {}\n", c.usage);
	std::fputs(s.c_str(), to);
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const std::string verb = argv[1];
	if (verb == "-h" || verb == "--help") {
		usage(stdout);
		return 0;
	}
	auto it = std::find_if(commands().begin(), commands().end(),
			       [&](const Command &c) { return verb == c.name; });
	if (it == commands().end()) {
		fmt::print(stderr, "dlog-tool: unknown command '{}'\n", verb);
		usage(stderr);
		return 2;
	}
	try {
		Args args(std::vector<std::string>(argv + 2, argv + argc), it->value_opts, it->flag_opts);
		return it->run(args);
	} catch (const UsageError &e) {
		fmt::print(stderr, "dlog-tool: {}: {}\nusage: dlog-tool {}\n", verb, e.what(), it->usage);
		return 2;
	} catch (const std::exception &e) {
		std::fflush(stdout);
		fmt::print(stderr, "dlog-tool: {}: {}\n", verb, e.what());
		return 1;
	}
}
