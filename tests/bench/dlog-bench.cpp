// dlog-bench: the merge benchmark's helpers (tests/bench/merge.sh,
// docs/BENCHMARKS.md "The online merge"), shipped to the VM with everything
// else in bin/.
//
//   dlog-bench plan DELTA [--seq N] [--job-kib K]
//   dlog-bench copy PLAN SRC DST [--jobs J] [--inflight-kib I] [--io-kib B] [--no-flush]
//   dlog-bench merge NAME SEQ [--interval-ms MS] [--timeout S]
//   dlog-bench snapshot-merge NAME TABLE [--interval-ms MS] [--timeout S]
//
// plan: the copies an online merge up to SEQ (default: the newest live
// record) makes, computed from the log on DELTA (read with the format
// library, the device-mapper device removed) exactly as deltalog-merge.c
// computes them: the state at SEQ, versions adjacent both on the origin and
// in the data ring as one extent, walked in origin order, one job per at
// most K KiB (default 1024: a chunk of deltalog-merge-copy.c) that never
// crosses the end of the data ring. One line per job:
//
//   W ORIGIN_SECTOR DELTA_SECTOR SECTORS     copy from the delta
//   Z ORIGIN_SECTOR 0 SECTORS                write zeroes
//
// then a line "# jobs=N sectors=S extents=E seq=SEQ" (also on stderr).
//
// copy: does those jobs with the I/O pattern of the merge's copy, from
// userspace: O_DIRECT, Linux native AIO (io_submit), jobs started in plan
// order while fewer than J are in flight (default 2048: 8 chunks of 256
// pieces) and fewer than I KiB (default 8192: 8 chunks of 1 MiB); each job
// is read in pieces of at most B KiB (default 1024) from SRC at
// DELTA_SECTOR, and each piece written to DST at ORIGIN_SECTOR as soon as it
// has been read. Then DST is flushed (fdatasync), as the merge flushes the
// origin before it moves its cursor. DST is opened O_EXCL: no stack may hold
// it. Prints one line:
//
//   @copy jobs=N reads=R writes=W sectors=S seconds=T
//
// (T from the first submission to the end of the flush).
//
// merge: sends dm-deltalog device NAME the message "merge SEQ" (as
// `dmsetup message NAME 0 merge SEQ` does) and reads its status
// (libdevmapper: no process per read) at every device-mapper event (the
// merge raises one when it ends) and every MS milliseconds (default 100)
// until the merge is done: merged seq >= SEQ and merge activity "none";
// every 10 ms before the copies begin and in their last tenth. Prints
//
//   @merge-time start=T0 end=T1 seconds=T before_copy=A copy=B after_copy=C copy_blocks=N ...
//
// T0 just before the message, T1 the read that saw it done (CLOCK_BOOTTIME,
// the clock of /proc/uptime); A until a read saw the merge's total (known
// once the log is read, just before the first copy), B until one saw copied
// == total, C the rest (the origin flush, the superblock, freeing the log);
// so A and C are good to 10 ms, T to the event's wake-up.
//
// snapshot-merge: loads TABLE ("START LENGTH snapshot-merge ORIGIN COW P
// CHUNK") into device NAME and resumes it (dmsetup reload; dmsetup resume),
// then reads its status every MS milliseconds (default 20; it raises no
// event at the end) until the merge is done: sectors allocated == metadata
// sectors. Prints "@merge-time start= end= seconds= load= ..." (load: the
// reload and resume, which read the exception store).
//
// Both fail (exit 1) on a failed or stopped merge, and after S seconds
// (default 3600).
//
// Exit status: 0 done, 1 failed, 2 bad usage.
#include "deltalog/errors.hpp"
#include "deltalog/log.hpp"
#include "deltalog/state.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <libdevmapper.h>
#include <linux/aio_abi.h>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <linux/dm-ioctl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

using namespace deltalog;

namespace {

class UsageError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

class Failure : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

std::string errno_text(int e)
{
	return std::strerror(e);
}

// Positional arguments and --options, parsed strictly.
class Args {
public:
	Args(const std::vector<std::string> &argv, const std::vector<std::string> &value_opts,
	     const std::vector<std::string> &flag_opts)
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

	std::size_t count() const { return positional_.size(); }
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

std::uint64_t number(const std::string &what, std::string_view s)
{
	std::uint64_t n = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
	if (ec != std::errc() || end != s.data() + s.size() || s.empty())
		throw UsageError(fmt::format("{}: '{}' is not a number", what, s));
	return n;
}

// A number in what the kernel printed: not the user's mistake.
std::uint64_t status_number(const std::string &what, std::string_view s)
{
	try {
		return number(what, s);
	} catch (const UsageError &e) {
		throw Failure(e.what());
	}
}

std::uint64_t option(const Args &a, const std::string &name, std::uint64_t dflt)
{
	auto v = a.value(name);
	if (!v)
		return dflt;
	const std::uint64_t n = number("--" + name, *v);
	if (!n)
		throw UsageError(fmt::format("--{} must be at least 1", name));
	return n;
}

constexpr std::uint64_t sector_shift = 9;

/*----------------------------------------------------------------
 * plan
 *--------------------------------------------------------------*/

struct Job {
	char kind = 'W';		// W: copy, Z: zeroes
	std::uint64_t origin = 0;	// sector on the origin
	std::uint64_t delta = 0;	// sector on the delta (W)
	std::uint64_t sectors = 0;
};

// The merge's extents: the state at seq, with the versions that continue
// each other (adjacent on the origin, next ring offset, same kind) as one,
// as deltalog-index.c's deltalog_continues() joins them.
std::vector<Extent> merge_extents(const LogState &log, std::uint64_t seq)
{
	const std::uint64_t ds = log.sb.data_sectors;
	std::vector<Extent> out;
	for (Extent e : state_at(log, seq).extents()) {
		if (e.source == Source::data)
			e.data_pos %= ds;
		if (!out.empty()) {
			Extent &p = out.back();
			const bool adjacent = p.start + p.length == e.start && p.source == e.source;
			const bool continues = e.source == Source::zero ||
					       (p.data_pos + p.length) % ds == e.data_pos;
			if (adjacent && continues && p.length + e.length <= 0xffffffffull) {
				p.length += e.length;
				continue;
			}
		}
		out.push_back(e);
	}
	return out;
}

// deltalog_merge_copy(): jobs of at most job_sectors, none across the ring's end.
std::vector<Job> merge_jobs(const LogState &log, const std::vector<Extent> &extents,
			    std::uint64_t job_sectors)
{
	const std::uint64_t ds = log.sb.data_sectors;
	std::vector<Job> jobs;
	for (const Extent &e : extents) {
		for (std::uint64_t s = e.start; s < e.start + e.length;) {
			std::uint64_t len = std::min(e.start + e.length - s, job_sectors);
			Job j;
			j.origin = s;
			j.kind = e.source == Source::zero ? 'Z' : 'W';
			if (j.kind == 'W') {
				const std::uint64_t off = (e.data_pos + (s - e.start)) % ds;
				len = std::min(len, ds - off);
				j.delta = log.sb.data_start + off;
			}
			j.sectors = len;
			jobs.push_back(j);
			s += len;
		}
	}
	return jobs;
}

int cmd_plan(const Args &a)
{
	if (a.count() != 1)
		throw UsageError("expected DELTA");
	Device delta = Device::open(a.pos(0), Device::Access::read_only);
	LogState log = recover(delta);
	std::uint64_t seq = log.newest_seq();
	if (auto v = a.value("seq"))
		seq = number("--seq", *v);
	const std::uint64_t job_sectors = option(a, "job-kib", 1024) * 2;
	if (seq <= log.sb.merged_seq)
		throw Failure(fmt::format("nothing to merge: seq {} is merged already", seq));

	const std::vector<Extent> extents = merge_extents(log, seq);
	const std::vector<Job> jobs = merge_jobs(log, extents, job_sectors);
	std::uint64_t sectors = 0;
	std::string out;
	for (const Job &j : jobs) {
		out += fmt::format("{} {} {} {}\n", j.kind, j.origin, j.delta, j.sectors);
		sectors += j.sectors;
	}
	const std::string summary = fmt::format("# jobs={} sectors={} extents={} seq={}",
						jobs.size(), sectors, extents.size(), seq);
	fmt::print("{}{}\n", out, summary);
	fmt::print(stderr, "{}\n", summary);
	return 0;
}

/*----------------------------------------------------------------
 * copy
 *--------------------------------------------------------------*/

std::vector<Job> read_plan(const std::string &path)
{
	std::ifstream in(path);
	if (!in)
		throw Failure(fmt::format("{}: cannot open: {}", path, errno_text(errno)));
	std::vector<Job> jobs;
	std::string line;
	for (unsigned n = 1; std::getline(in, line); n++) {
		if (line.empty() || line[0] == '#')
			continue;
		std::istringstream f(line);
		Job j;
		if (!(f >> j.kind >> j.origin >> j.delta >> j.sectors) || (j.kind != 'W' && j.kind != 'Z') ||
		    !j.sectors)
			throw Failure(fmt::format("{}:{}: not a job: '{}'", path, n, line));
		jobs.push_back(j);
	}
	return jobs;
}

class Fd {
public:
	Fd(const std::string &path, int flags) : fd_(::open(path.c_str(), flags | O_CLOEXEC))
	{
		if (fd_ < 0)
			throw Failure(fmt::format("{}: cannot open: {}", path, errno_text(errno)));
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	~Fd() { ::close(fd_); }
	int get() const { return fd_; }

private:
	int fd_;
};

// An O_DIRECT buffer: 4 KiB aligned, grown on demand, never shrunk.
class Buffer {
public:
	std::byte *get(std::size_t size)
	{
		if (size > size_) {
			void *p = nullptr;
			if (posix_memalign(&p, 4096, size))
				throw std::bad_alloc();
			mem_.reset(static_cast<std::byte *>(p));
			size_ = size;
		}
		return mem_.get();
	}

private:
	struct Free {
		void operator()(std::byte *p) const { std::free(p); }
	};
	std::unique_ptr<std::byte, Free> mem_;
	std::size_t size_ = 0;
};

// A Linux native AIO context (io_setup/io_submit/io_getevents, no libaio).
class AioContext {
public:
	explicit AioContext(unsigned nr_events)
	{
		if (syscall(SYS_io_setup, nr_events, &ctx_) < 0)
			throw Failure(fmt::format("io_setup: {}", errno_text(errno)));
	}
	AioContext(const AioContext &) = delete;
	AioContext &operator=(const AioContext &) = delete;
	~AioContext() { syscall(SYS_io_destroy, ctx_); }

	void submit(std::vector<iocb *> &batch)
	{
		std::size_t done = 0;
		while (done < batch.size()) {
			long r = syscall(SYS_io_submit, ctx_, batch.size() - done, batch.data() + done);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				throw Failure(fmt::format("io_submit: {}", errno_text(errno)));
			}
			done += static_cast<std::size_t>(r);
		}
		batch.clear();
	}

	std::size_t reap(std::vector<io_event> &events)
	{
		for (;;) {
			long r = syscall(SYS_io_getevents, ctx_, 1, events.size(), events.data(), nullptr);
			if (r >= 0)
				return static_cast<std::size_t>(r);
			if (errno != EINTR)
				throw Failure(fmt::format("io_getevents: {}", errno_text(errno)));
		}
	}

private:
	aio_context_t ctx_ = 0;
};

// One piece of a job in flight: read from the source, then written.
struct Piece {
	std::size_t job = 0;
	std::uint64_t dst_off = 0;
	bool writing = false;
	Buffer buf;
	iocb cb{};
};

struct CopyStats {
	std::uint64_t reads = 0;
	std::uint64_t writes = 0;
	std::uint64_t sectors = 0;
};

class Copier {
public:
	Copier(const std::vector<Job> &jobs, int src, int dst, std::uint64_t max_jobs,
	       std::uint64_t max_sectors, std::uint64_t io_sectors)
		: jobs_(jobs), src_(src), dst_(dst), max_jobs_(max_jobs), max_sectors_(max_sectors),
		  io_sectors_(io_sectors), pending_(jobs.size(), 0), aio_(4096), events_(512)
	{
	}

	CopyStats run()
	{
		std::vector<iocb *> batch;
		std::size_t next = 0;
		while (next < jobs_.size() || jobs_in_flight_) {
			while (next < jobs_.size() && jobs_in_flight_ < max_jobs_ &&
			       sectors_in_flight_ < max_sectors_)
				start_job(next++, batch);
			aio_.submit(batch);
			const std::size_t n = aio_.reap(events_);
			for (std::size_t i = 0; i < n; i++)
				complete(events_[i], batch);
		}
		return stats_;
	}

private:
	std::size_t take_piece()
	{
		if (free_.empty()) {
			pieces_.push_back(std::make_unique<Piece>());
			return pieces_.size() - 1;
		}
		const std::size_t i = free_.back();
		free_.pop_back();
		return i;
	}

	void prepare(Piece &p, std::size_t slot, int fd, std::uint16_t op, std::uint64_t off,
		     std::size_t len)
	{
		p.cb = iocb{};
		p.cb.aio_data = slot;
		p.cb.aio_lio_opcode = op;
		p.cb.aio_fildes = static_cast<std::uint32_t>(fd);
		p.cb.aio_buf = reinterpret_cast<std::uintptr_t>(p.buf.get(len));
		p.cb.aio_nbytes = len;
		p.cb.aio_offset = static_cast<std::int64_t>(off);
	}

	void start_job(std::size_t j, std::vector<iocb *> &batch)
	{
		const Job &job = jobs_[j];
		jobs_in_flight_++;
		sectors_in_flight_ += job.sectors;
		for (std::uint64_t done = 0; done < job.sectors; done += io_sectors_) {
			const std::uint64_t n = std::min(io_sectors_, job.sectors - done);
			const std::size_t len = static_cast<std::size_t>(n << sector_shift);
			const std::size_t slot = take_piece();
			Piece &p = *pieces_[slot];
			p.job = j;
			p.dst_off = (job.origin + done) << sector_shift;
			if (job.kind == 'Z') {
				prepare(p, slot, dst_, IOCB_CMD_PWRITE, p.dst_off, len);
				std::memset(reinterpret_cast<void *>(p.cb.aio_buf), 0, len);
				p.writing = true;
				stats_.writes++;
			} else {
				prepare(p, slot, src_, IOCB_CMD_PREAD, (job.delta + done) << sector_shift, len);
				p.writing = false;
				stats_.reads++;
			}
			pending_[j]++;
			batch.push_back(&p.cb);
		}
	}

	void complete(const io_event &ev, std::vector<iocb *> &batch)
	{
		const std::size_t slot = static_cast<std::size_t>(ev.data);
		Piece &p = *pieces_[slot];
		if (ev.res < 0 || static_cast<std::uint64_t>(ev.res) != p.cb.aio_nbytes) {
			const Job &job = jobs_[p.job];
			throw Failure(fmt::format("{} of job at origin sector {} failed: {}",
						  p.writing ? "write" : "read", job.origin,
						  ev.res < 0 ? errno_text(static_cast<int>(-ev.res))
							     : std::string("short I/O")));
		}
		if (!p.writing) {
			prepare(p, slot, dst_, IOCB_CMD_PWRITE, p.dst_off, p.cb.aio_nbytes);
			p.writing = true;
			stats_.writes++;
			batch.push_back(&p.cb);
			return;
		}
		free_.push_back(slot);
		if (--pending_[p.job] == 0) {
			jobs_in_flight_--;
			sectors_in_flight_ -= jobs_[p.job].sectors;
			stats_.sectors += jobs_[p.job].sectors;
		}
	}

	const std::vector<Job> &jobs_;
	int src_, dst_;
	std::uint64_t max_jobs_, max_sectors_, io_sectors_;
	std::vector<unsigned> pending_;		// pieces of each job in flight
	std::uint64_t jobs_in_flight_ = 0, sectors_in_flight_ = 0;
	std::vector<std::unique_ptr<Piece>> pieces_;
	std::vector<std::size_t> free_;
	AioContext aio_;
	std::vector<io_event> events_;
	CopyStats stats_;
};

int cmd_copy(const Args &a)
{
	if (a.count() != 3)
		throw UsageError("expected PLAN SRC DST");
	const std::uint64_t max_jobs = option(a, "jobs", 2048);
	const std::uint64_t max_sectors = option(a, "inflight-kib", 8192) * 2;
	const std::uint64_t io_sectors = option(a, "io-kib", 1024) * 2;
	const std::vector<Job> jobs = read_plan(a.pos(0));
	Fd src(a.pos(1), O_RDONLY | O_DIRECT);
	Fd dst(a.pos(2), O_WRONLY | O_DIRECT | O_EXCL);

	const auto t0 = std::chrono::steady_clock::now();
	Copier copier(jobs, src.get(), dst.get(), max_jobs, max_sectors, io_sectors);
	const CopyStats s = copier.run();
	if (!a.flag("no-flush") && fdatasync(dst.get()) < 0)
		throw Failure(fmt::format("{}: flush failed: {}", a.pos(2), errno_text(errno)));
	const std::chrono::duration<double> t = std::chrono::steady_clock::now() - t0;
	fmt::print("@copy jobs={} reads={} writes={} sectors={} seconds={:.3f}\n", jobs.size(),
		   s.reads, s.writes, s.sectors, t.count());
	return 0;
}

/*----------------------------------------------------------------
 * merge, snapshot-merge: start one, time it
 *--------------------------------------------------------------*/

struct DmTaskFree {
	void operator()(dm_task *t) const { dm_task_destroy(t); }
};
using DmTask = std::unique_ptr<dm_task, DmTaskFree>;

DmTask dm_task_for(int type, const std::string &name)
{
	DmTask t(dm_task_create(type));
	if (!t || !dm_task_set_name(t.get(), name.c_str()) || !dm_task_no_open_count(t.get()))
		throw Failure("libdevmapper: cannot set up a task");
	return t;
}

// The status line of the device's first target: "TYPE PARAMS".
std::string dm_status(const std::string &name)
{
	DmTask t = dm_task_for(DM_DEVICE_STATUS, name);
	if (!dm_task_run(t.get()))
		throw Failure(fmt::format("{}: status failed", name));
	std::uint64_t start = 0, length = 0;
	char *type = nullptr, *params = nullptr;
	dm_get_next_target(t.get(), nullptr, &start, &length, &type, &params);
	if (!type)
		throw Failure(fmt::format("{}: no table", name));
	return fmt::format("{} {}", type, params ? params : "");
}

// dmsetup message NAME 0 MESSAGE
void dm_message(const std::string &name, const std::string &message)
{
	DmTask t = dm_task_for(DM_DEVICE_TARGET_MSG, name);
	if (!dm_task_set_sector(t.get(), 0) || !dm_task_set_message(t.get(), message.c_str()))
		throw Failure("libdevmapper: cannot set up a message");
	if (!dm_task_run(t.get()))
		throw Failure(fmt::format("{}: message '{}' failed", name, message));
}

std::vector<std::string> words(const std::string &s)
{
	std::istringstream in(s);
	std::vector<std::string> v;
	for (std::string w; in >> w;)
		v.push_back(w);
	return v;
}

// dmsetup reload NAME --table "START LENGTH TYPE PARAMS..."; dmsetup resume NAME
// (without udev synchronisation: the device's node exists already).
void dm_reload_resume(const std::string &name, const std::string &table)
{
	const std::vector<std::string> f = words(table);
	if (f.size() < 3)
		throw UsageError(fmt::format("not a table line: '{}'", table));
	std::string params;
	for (std::size_t i = 3; i < f.size(); i++)
		params += (i > 3 ? " " : "") + f[i];
	DmTask load = dm_task_for(DM_DEVICE_RELOAD, name);
	if (!dm_task_add_target(load.get(), number("start", f[0]), number("length", f[1]), f[2].c_str(),
				params.c_str()))
		throw Failure("libdevmapper: cannot add the target");
	if (!dm_task_run(load.get()))
		throw Failure(fmt::format("{}: reload failed", name));
	DmTask resume = dm_task_for(DM_DEVICE_RESUME, name);
	if (!dm_task_run(resume.get()))
		throw Failure(fmt::format("{}: resume failed", name));
}

// deltalog's status, fields after the type (docs/dm-deltalog.rst, Status),
// 1-based: 6 merged seq, 7 state, 11 merge copied/total, 12 merge activity.
struct DeltalogMerge {
	std::uint64_t merged = 0, copied = 0, total = 0;
	bool idle = false;
};

DeltalogMerge deltalog_merge_status(const std::string &status)
{
	const std::vector<std::string> f = words(status);
	if (f.size() < 13 || f[0] != "deltalog")
		throw Failure(fmt::format("not a deltalog status: {}", status));
	if (f[7] == "failed" || f[12] == "stopped")
		throw Failure(fmt::format("the merge stopped: {}", status));
	const auto slash = f[11].find('/');
	if (slash == std::string::npos)
		throw Failure(fmt::format("not a deltalog status: {}", status));
	DeltalogMerge m;
	m.merged = status_number("merged seq", f[6]);
	m.copied = status_number("merge copied", std::string_view(f[11]).substr(0, slash));
	m.total = status_number("merge total", std::string_view(f[11]).substr(slash + 1));
	m.idle = f[12] == "none";
	return m;
}

// snapshot-merge: "<sectors_allocated>/<total_sectors> <metadata_sectors>";
// done when the two counts of sectors in use are equal.
bool snapshot_merge_done(const std::string &status)
{
	const std::vector<std::string> f = words(status);
	if (f.size() == 2 && (f[1] == "Invalid" || f[1] == "Overflow"))
		throw Failure(fmt::format("the snapshot failed: {}", status));
	if (f.size() >= 3 && f[1] == "Merge" && f[2] == "failed")
		throw Failure(fmt::format("the merge failed: {}", status));
	const auto slash = f.size() == 3 ? f[1].find('/') : std::string::npos;
	if (f[0] != "snapshot-merge" || slash == std::string::npos)
		throw Failure(fmt::format("not a snapshot-merge status: {}", status));
	return status_number("sectors allocated", std::string_view(f[1]).substr(0, slash)) ==
	       status_number("metadata sectors", f[2]);
}

double boottime()
{
	timespec ts{};
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Device-mapper events, any device's: armed with DM_DEV_ARM_POLL on
// /dev/mapper/control, then waited for with poll(2), with a timeout.
class DmEvents {
public:
	DmEvents() : fd_("/dev/mapper/control", O_RDWR) {}

	void arm()
	{
		dm_ioctl io{};
		io.version[0] = DM_VERSION_MAJOR;
		io.data_size = sizeof(io);
		if (ioctl(fd_.get(), DM_DEV_ARM_POLL, &io) < 0)
			throw Failure(fmt::format("DM_DEV_ARM_POLL: {}", errno_text(errno)));
	}

	void wait(std::chrono::milliseconds timeout)
	{
		pollfd p{fd_.get(), POLLIN, 0};
		if (::poll(&p, 1, static_cast<int>(timeout.count())) < 0 && errno != EINTR)
			throw Failure(fmt::format("poll: {}", errno_text(errno)));
	}

private:
	Fd fd_;
};

// Reads NAME's status at every device-mapper event (a merge of dm-deltalog
// raises one when it ends) and every interval (or every 10 ms while the
// caller says a change is near) until the caller says it is done, or fails
// after timeout seconds. Returns the last status and when it was read.
struct Poll {
	std::string status;
	double when = 0;
	std::uint64_t polls = 0;
};

enum class Next { done, soon, later };

Poll poll_until(const std::string &name, const Args &a, std::uint64_t interval_ms,
		const std::function<Next(const std::string &, double)> &check)
{
	const auto interval = std::chrono::milliseconds(option(a, "interval-ms", interval_ms));
	const auto soon = std::min(interval, std::chrono::milliseconds(10));
	const std::uint64_t timeout = option(a, "timeout", 3600);
	const double deadline = boottime() + static_cast<double>(timeout);
	DmEvents events;
	for (Poll p;; ) {
		events.arm();
		p.status = dm_status(name);
		p.when = boottime();
		p.polls++;
		const Next next = check(p.status, p.when);
		if (next == Next::done)
			return p;
		if (p.when > deadline)
			throw Failure(fmt::format("{}: not done after {} s: {}", name, timeout, p.status));
		events.wait(next == Next::soon ? soon : interval);
	}
}

int cmd_merge(const Args &a)
{
	if (a.count() != 2)
		throw UsageError("expected NAME SEQ");
	const std::string &name = a.pos(0);
	const std::uint64_t seq = number("SEQ", a.pos(1));
	dm_log_init_verbose(0);

	// When the copy began (the merge's total is known once the log is
	// read, just before the first copy) and ended (copied == total).
	double copy_start = 0, copy_end = 0;
	std::uint64_t copy_blocks = 0;
	const double start = boottime();
	dm_message(name, fmt::format("merge {}", seq));
	const Poll p = poll_until(name, a, 100, [&](const std::string &status, double now) {
		const DeltalogMerge m = deltalog_merge_status(status);
		if (m.total && !copy_start) {
			copy_start = now;
			copy_blocks = m.total;
		}
		if (m.total && m.copied == m.total && !copy_end)
			copy_end = now;
		if (m.merged >= seq && m.idle)
			return Next::done;
		// Read often before the copies begin and near their end.
		return !m.total || m.copied * 10 >= m.total * 9 ? Next::soon : Next::later;
	});
	copy_start = copy_start ? copy_start : p.when;
	copy_end = copy_end ? copy_end : p.when;
	fmt::print("@merge-time start={:.3f} end={:.3f} seconds={:.3f} before_copy={:.3f} copy={:.3f} "
		   "after_copy={:.3f} copy_blocks={} polls={} status={}\n",
		   start, p.when, p.when - start, copy_start - start, copy_end - copy_start,
		   p.when - copy_end, copy_blocks, p.polls, p.status);
	return 0;
}

int cmd_snapshot_merge(const Args &a)
{
	if (a.count() != 2)
		throw UsageError("expected NAME TABLE");
	const std::string &name = a.pos(0);
	dm_log_init_verbose(0);

	const double start = boottime();
	dm_reload_resume(name, a.pos(1));
	const double resumed = boottime();
	const Poll p = poll_until(name, a, 20, [](const std::string &status, double) {
		return snapshot_merge_done(status) ? Next::done : Next::later;
	});
	fmt::print("@merge-time start={:.3f} end={:.3f} seconds={:.3f} load={:.3f} polls={} status={}\n",
		   start, p.when, p.when - start, resumed - start, p.polls, p.status);
	return 0;
}

/*----------------------------------------------------------------
 * main
 *--------------------------------------------------------------*/

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
		{"plan", "plan DELTA [--seq N] [--job-kib K]", {"seq", "job-kib"}, {}, cmd_plan},
		{"copy",
		 "copy PLAN SRC DST [--jobs J] [--inflight-kib I] [--io-kib B] [--no-flush]",
		 {"jobs", "inflight-kib", "io-kib"}, {"no-flush"}, cmd_copy},
		{"merge", "merge NAME SEQ [--interval-ms MS] [--timeout S]", {"interval-ms", "timeout"}, {},
		 cmd_merge},
		{"snapshot-merge", "snapshot-merge NAME TABLE [--interval-ms MS] [--timeout S]",
		 {"interval-ms", "timeout"}, {}, cmd_snapshot_merge},
	};
	return list;
}

void usage(FILE *to)
{
	std::string s = "usage:\n";
	for (const Command &c : commands())
		s += fmt::format("  dlog-bench {}\n", c.usage);
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
		fmt::print(stderr, "dlog-bench: unknown command '{}'\n", verb);
		usage(stderr);
		return 2;
	}
	try {
		Args args(std::vector<std::string>(argv + 2, argv + argc), it->value_opts, it->flag_opts);
		return it->run(args);
	} catch (const UsageError &e) {
		fmt::print(stderr, "dlog-bench: {}: {}\nusage: dlog-bench {}\n", verb, e.what(), it->usage);
		return 2;
	} catch (const std::exception &e) {
		std::fflush(stdout);
		fmt::print(stderr, "dlog-bench: {}: {}\n", verb, e.what());
		return 1;
	}
}
