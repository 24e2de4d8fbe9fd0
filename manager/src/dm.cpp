// libdevmapper, wrapped (see dm.hpp). The ioctl sequences follow lvm2's
// dmsetup.c: _create_one_device for create, _simple for suspend, resume and
// remove, _message, _do_info; the udev handling follows libdm-common.c.
#include "dm.hpp"

#include "blockdev.hpp"

#include "base/errors.hpp"

#include <libdevmapper.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

namespace deltalogctl::dm {
namespace {

// ---- libdevmapper's log ------------------------------------------------

// libdevmapper's log levels (lvm2 lib/log/log.h); the level is the low 4
// bits, the rest are flags.
constexpr int log_err = 3, log_warn = 4, log_info = 6;

int verbosity = 0;
// Off once exit() has begun: libdevmapper logs from its own destructor,
// after ours have run.
bool capturing = false;

// The errors libdevmapper logged since the current operation began; the
// first one is the cause, what follows is fallout (a revert that failed).
std::vector<std::string> &errors()
{
	static std::vector<std::string> list;
	return list;
}

void stop_capturing() { capturing = false; }

// "device-mapper: reload ioctl on box  failed: ..." has a double space
// where the UUID would be: one space everywhere, no newline.
std::string tidy(const std::string &text)
{
	std::string out;
	for (char c : text) {
		if (std::isspace(static_cast<unsigned char>(c))) {
			if (!out.empty() && out.back() != ' ')
				out += ' ';
		} else {
			out += c;
		}
	}
	while (!out.empty() && out.back() == ' ')
		out.pop_back();
	return out;
}

} // namespace
} // namespace deltalogctl::dm

extern "C" {
__attribute__((format(printf, 5, 6))) static void deltalogctl_dm_log(int level, const char *, int, int,
								      const char *format, ...)
{
	using namespace deltalogctl::dm;
	level &= 0x0f;
	const bool print = (verbosity >= 1 && level <= log_warn) ||
			   (verbosity >= 2 && level <= log_info) || verbosity >= 3;
	if (!print && (level > log_err || !capturing))
		return;
	va_list ap;
	va_start(ap, format);
	char buf[1024];
	std::vsnprintf(buf, sizeof buf, format, ap);
	va_end(ap);
	if (print)
		std::fprintf(stderr, "%s\n", buf);
	if (level <= log_err && capturing) {
		try {
			errors().push_back(tidy(buf));
		} catch (...) {
			// Out of memory: the failure is still reported, without this text.
		}
	}
}
}

namespace deltalogctl::dm {
namespace {

// ---- once per process ----------------------------------------------------

struct UdevMode {
	bool sync = false;
	std::uint16_t flags = 0;	// DM_UDEV_* flags for every cookie
};

UdevMode udev_mode;

// udev sync only when udev is there to answer: libdevmapper's own check
// (udev_queue_get_udev_is_active) and its control socket. Without it, every
// cookie is 0 and libdevmapper creates and removes the nodes itself when it
// is waited on (update_devs); the DM and subsystem rules are told to keep
// off them, as libdevmapper does for DM_DISABLE_UDEV. The library fallback
// is never disabled then, or no one would make the nodes.
UdevMode choose_udev_mode()
{
	const bool running = !std::getenv("DM_DISABLE_UDEV") && dm_udev_get_sync_support() &&
			     ::access("/run/udev/control", F_OK) == 0;
	if (!running) {
		dm_udev_set_sync_support(0);
		// No "not set up by udev: Falling back to direct node creation".
		dm_udev_set_checking(0);
		return {false, DM_UDEV_DISABLE_DM_RULES_FLAG | DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG};
	}
	// As dmsetup does by default: udev alone makes the nodes (no race with
	// the library's fallback); create() still checks that it did.
	return {true, DM_UDEV_DISABLE_LIBRARY_FALLBACK};
}

void init_once()
{
	static const bool done = [] {
		errors();	// constructed before stop_capturing is registered
		capturing = true;
		std::atexit(stop_capturing);
		dm_log_with_errno_init(deltalogctl_dm_log);
		udev_mode = choose_udev_mode();
		return true;
	}();
	(void)done;
}

// Not root: say so, instead of libdevmapper's "Failure to communicate
// with kernel device-mapper driver". A missing control node is left to
// libdevmapper, which creates it.
void require_control()
{
	static bool ok = false;
	if (ok)
		return;
	const std::string path = std::string(dm_dir()) + "/control";
	const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		::close(fd);
		ok = true;
		return;
	}
	const int err = errno;
	if ((err == EACCES || err == EPERM) && ::geteuid() != 0)
		throw Failure("", "cannot talk to device-mapper: run as root");
	if (err == ENODEV || err == ENXIO)
		throw Failure("", errno_text("cannot talk to device-mapper: " + path, err),
			      "Is the device-mapper driver loaded? modprobe dm-deltalog (it loads dm-mod too)");
	if (err != ENOENT)
		throw Failure("", errno_text("cannot talk to device-mapper: " + path, err));
}

// Every public function starts with this: libdevmapper set up, and the
// errors of the last operation forgotten.
void begin()
{
	init_once();
	errors().clear();
	require_control();
}

// ---- tasks and cookies ---------------------------------------------------

struct TaskDeleter {
	void operator()(dm_task *t) const noexcept { dm_task_destroy(t); }
};
using Task = std::unique_ptr<dm_task, TaskDeleter>;

// Where the errors of the work about to start will go: reason() takes the
// first one after it, not what an earlier step logged.
std::size_t mark() { return errors().size(); }

// Why the last libdevmapper call failed: the first error it logged since
// `since`, else the errno of t's ioctl.
std::string reason(dm_task *t = nullptr, std::size_t since = 0)
{
	if (errors().size() > since)
		return errors()[since];
	if (t && dm_task_get_errno(t))
		return std::strerror(dm_task_get_errno(t));
	return "libdevmapper failed and gave no reason";
}

Task new_task(int type, const std::string &name)
{
	Task t(dm_task_create(type));
	if (!t)
		throw Failure(name, "libdevmapper: cannot create a task (out of memory)");
	if (!name.empty() && !dm_task_set_name(t.get(), name.c_str()))
		throw Failure(name, reason());
	return t;
}

// A udev transaction: set on a task just before dm_task_run, and always
// waited on, failures included (libdevmapper completes the cookie itself
// when the ioctl fails or sends no uevent). Without udev sync the value is
// 0 and the wait is where libdevmapper makes or removes the nodes.
class Cookie {
public:
	Cookie() = default;
	Cookie(const Cookie &) = delete;
	Cookie &operator=(const Cookie &) = delete;
	~Cookie() { wait(); }

	void set(dm_task *t, const std::string &name)
	{
		armed_ = true;	// a failed set may still have made a semaphore
		if (!dm_task_set_cookie(t, &value_, udev_mode.flags))
			throw Failure(name, reason(t));
	}

	void wait() noexcept
	{
		if (!armed_)
			return;
		armed_ = false;
		// A failed wait is logged; the ioctl's outcome stands either way.
		(void)dm_udev_wait(value_);
	}

private:
	std::uint32_t value_ = 0;
	bool armed_ = false;
};

// Runs t with a cookie set last, as dmsetup does, and waits for udev (or
// for the library's nodes) whatever the outcome.
bool run_with_cookie(dm_task *t, const std::string &name)
{
	Cookie cookie;
	cookie.set(t, name);
	const bool ok = dm_task_run(t);
	cookie.wait();
	return ok;
}

Info to_info(dm_task *t, const dm_info &i)
{
	Info info;
	const char *name = dm_task_get_name(t);
	const char *uuid = dm_task_get_uuid(t);
	info.name = name ? name : "";
	info.uuid = uuid ? uuid : "";
	info.major = i.major;
	info.minor = i.minor;
	info.open_count = i.open_count;
	info.suspended = i.suspended;
	info.read_only = i.read_only;
	info.live_table = i.live_table;
	info.target_count = i.target_count;
	return info;
}

// Looked up by name, or by UUID when name is empty.
std::optional<Info> lookup(const std::string &name, const std::string &uuid = {})
{
	Task t = new_task(DM_DEVICE_INFO, name);
	if (name.empty() && !dm_task_set_uuid(t.get(), uuid.c_str()))
		throw Failure(uuid, reason(t.get()));
	if (!dm_task_run(t.get()))
		throw Failure(name.empty() ? uuid : name, reason(t.get()));
	dm_info i{};
	if (!dm_task_get_info(t.get(), &i))
		throw Failure(name.empty() ? uuid : name, reason(t.get()));
	if (!i.exists)
		return std::nullopt;
	return to_info(t.get(), i);
}

Info require_info(const std::string &name)
{
	if (auto i = lookup(name))
		return *i;
	throw Failure(name, "no such device-mapper device");
}

// ---- who holds a device open ------------------------------------------

std::string read_line(const std::filesystem::path &path)
{
	std::ifstream in(path);
	std::string line;
	std::getline(in, line);
	return line;
}

// The entries of a directory of /proc or /sys, which may vanish while we
// look (a process exits): whatever could be read.
std::vector<std::filesystem::path> entries(const std::filesystem::path &dir)
{
	std::vector<std::filesystem::path> out;
	std::error_code ec;
	for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
		out.push_back(it->path());
	return out;
}

// Users that stay until someone acts: mounts, swap, stacked devices (the
// checks create makes, blockdev.hpp). Not worth retrying a remove for.
std::vector<std::string> lasting_users(const Info &info)
{
	try {
		return users(block_device(device_path(info.name)));
	} catch (const Failure &) {
		return {};	// the node is gone or unreadable: the open count says enough
	}
}

// Processes with the device open, as fuser finds them (only in a failure
// path: this looks at every open file of the system).
std::vector<std::string> processes_using(const Info &info)
{
	std::vector<std::string> who;
	const dev_t dev = makedev(info.major, info.minor);
	const std::string self = std::to_string(::getpid());
	const auto digit = [](unsigned char c) { return std::isdigit(c) != 0; };
	for (const auto &proc : entries("/proc")) {
		const std::string pid = proc.filename();
		if (pid == self || !std::all_of(pid.begin(), pid.end(), digit))
			continue;
		for (const auto &fd : entries(proc / "fd")) {
			struct stat st {};
			if (::stat(fd.c_str(), &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == dev) {
				who.push_back(fmt::format("open by {} (pid {})", read_line(proc / "comm"), pid));
				break;
			}
		}
	}
	return who;
}

[[noreturn]] void throw_open(const std::string &name, const Info &info, std::vector<std::string> who)
{
	std::string users = fmt::format("{} user{}", info.open_count, info.open_count == 1 ? "" : "s");
	for (std::size_t i = 0; i < who.size(); i++)
		users += (i ? ", " : ": ") + who[i];
	throw Failure(name, fmt::format("is open ({}): unmount it or close the programs using it", users));
}

// ---- the ioctls behind the public functions ----------------------------

void add_target(dm_task *t, const std::string &name, const Target &target)
{
	if (!dm_task_add_target(t, target.start, target.length, target.type.c_str(), target.params.c_str()))
		throw Failure(name, reason(t));
}

// DM_DEVICE_REMOVE with a cookie; libdevmapper retries on EBUSY (25 times,
// 0.2 s apart: dmsetup remove --retry).
void remove_device(const std::string &name)
{
	const std::size_t since = mark();
	Task t = new_task(DM_DEVICE_REMOVE, name);
	dm_task_retry_remove(t.get());
	if (run_with_cookie(t.get(), name))
		return;
	const std::string why = reason(t.get(), since);
	if (dm_task_get_errno(t.get()) == EBUSY) {
		if (auto info = lookup(name); info && info->open_count > 0) {
			std::vector<std::string> who = lasting_users(*info);
			for (std::string &p : processes_using(*info))
				who.push_back(std::move(p));
			throw_open(name, *info, std::move(who));
		}
		throw Failure(name, why, "Nothing holds it open any more: try again.");
	}
	throw Failure(name, why);
}

bool node_ready(const std::string &path, const Info &info)
{
	struct stat st {};
	return ::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode) &&
	       st.st_rdev == makedev(info.major, info.minor);
}

// /dev/mapper/NAME is there after the cookie's wait, from udev or from the
// library. In case udev is slow or has no device-mapper rules, give it a
// moment, then make the node as `dmsetup mknodes` does. The reason is what
// libdevmapper logged since `since` ("A non-block device file at ... is
// already present"), if anything.
void ensure_node(const std::string &name, const Info &info, std::size_t since)
{
	const std::string path = device_path(name);
	for (int i = 0; i < 20; i++) {
		if (node_ready(path, info))
			return;
		if (errors().size() > since)
			break;	// libdevmapper said why: no use waiting
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	}
	Task t = new_task(DM_DEVICE_MKNODES, name);
	if (dm_task_run(t.get()))
		dm_task_update_nodes();
	if (node_ready(path, info))
		return;
	if (errors().size() > since)
		throw Failure(name, errors()[since]);
	throw Failure(name, fmt::format("{} did not appear ({}:{})", path, info.major, info.minor),
		      udev_mode.sync ? "Is udev running without the device-mapper rules? "
				       "DM_DISABLE_UDEV=1 lets deltalogctl make the nodes itself."
				     : "");
}

// After a failed create: remove what is left of it, if it is ours (a
// device of that name did not exist before), and say how that went.
std::string remove_half_made(const std::string &name, const std::string &uuid)
{
	try {
		auto left = lookup(name);
		if (!left || left->uuid != uuid)
			return {};
		remove_device(name);
		return {};
	} catch (const Failure &e) {
		return fmt::format("The half-made device could not be removed ({}): "
				   "remove it with 'dmsetup remove {}'.",
				   e.what(), name);
	}
}

// The single target of NAME's live table (DM_DEVICE_TABLE) or status
// (DM_DEVICE_STATUS).
Target single_target(const std::string &name, int type)
{
	begin();
	const Info info = require_info(name);
	if (!info.live_table)
		throw Failure(name, "has no active table");
	Task t = new_task(type, name);
	if (!dm_task_run(t.get()))
		throw Failure(name, reason(t.get()));
	std::vector<Target> targets;
	void *next = nullptr;
	do {
		std::uint64_t start = 0, length = 0;
		char *target_type = nullptr, *params = nullptr;
		next = dm_get_next_target(t.get(), next, &start, &length, &target_type, &params);
		if (target_type)
			targets.push_back({start, length, target_type, params ? params : ""});
	} while (next);
	if (targets.size() != 1)
		throw Failure(name, fmt::format("has {} targets in its table, one was expected", targets.size()));
	return targets.front();
}

} // namespace

void set_verbose(int level) { verbosity = level; }

std::string device_path(const std::string &name) { return std::string(dm_dir()) + "/" + name; }

bool udev_running()
{
	init_once();
	return udev_mode.sync;
}

std::optional<Info> info(const std::string &name)
{
	begin();
	return lookup(name);
}

std::vector<Info> list_ours()
{
	begin();
	Task t = new_task(DM_DEVICE_LIST, "");
	if (!dm_task_run(t.get()))
		throw Failure("", reason(t.get()));
	std::vector<std::string> names;
	const dm_names *n = dm_task_get_names(t.get());
	// An empty list is one entry with dev 0.
	while (n && n->dev) {
		names.emplace_back(n->name);
		if (!n->next)
			break;
		n = reinterpret_cast<const dm_names *>(reinterpret_cast<const char *>(n) + n->next);
	}
	std::vector<Info> ours;
	for (const std::string &name : names) {
		// A device can go away between the list and its info.
		auto i = lookup(name);
		if (i && i->uuid.starts_with(uuid_prefix))
			ours.push_back(std::move(*i));
	}
	std::sort(ours.begin(), ours.end(), [](const Info &a, const Info &b) { return a.name < b.name; });
	return ours;
}

void create(const std::string &name, const std::string &uuid, const Target &target, bool read_only)
{
	begin();
	if (lookup(name))
		throw Failure(name, "a device-mapper device of that name already exists",
			      fmt::format("'dmsetup info {}' shows it.", name));

	// One task: libdevmapper creates, loads and resumes, and removes the
	// device itself if the load or the resume fails.
	Task t = new_task(DM_DEVICE_CREATE, name);
	if (!dm_task_set_uuid(t.get(), uuid.c_str()))
		throw Failure(name, reason(t.get()));
	add_target(t.get(), name, target);
	if (read_only && !dm_task_set_ro(t.get()))
		throw Failure(name, reason(t.get()));
	if (!dm_task_set_add_node(t.get(), DM_ADD_NODE_ON_RESUME))
		throw Failure(name, reason(t.get()));

	const std::size_t since = mark();
	if (!run_with_cookie(t.get(), name)) {
		const std::string why = reason(t.get(), since);
		std::string hint = remove_half_made(name, uuid);
		if (hint.empty() && why.find("reload ioctl") != std::string::npos)
			hint = "The kernel log says why the table was refused: see dmesg.";
		if (hint.empty()) {
			if (auto other = lookup({}, uuid))
				throw Failure(name, fmt::format("its UUID {} is taken by device-mapper device '{}'",
								uuid, other->name));
		}
		throw Failure(name, why, hint);
	}

	dm_info i{};
	std::optional<Info> made;
	if (dm_task_get_info(t.get(), &i) && i.exists)
		made = to_info(t.get(), i);
	else
		made = lookup(name);
	try {
		if (!made)
			throw Failure(name, "was created but is gone again");
		ensure_node(name, *made, since);
	} catch (const Failure &e) {
		const std::string hint = remove_half_made(name, uuid);
		throw Failure(name, e.what(), hint.empty() ? e.hint() : hint);
	}
}

void suspend(const std::string &name, bool lockfs, bool flush)
{
	begin();
	// No cookie: a suspend sends no uevent (dmsetup's _simple).
	Task t = new_task(DM_DEVICE_SUSPEND, name);
	if (!lockfs && !dm_task_skip_lockfs(t.get()))
		throw Failure(name, reason(t.get()));
	if (!flush && !dm_task_no_flush(t.get()))
		throw Failure(name, reason(t.get()));
	if (!dm_task_run(t.get()))
		throw Failure(name, reason(t.get()));
}

void resume(const std::string &name)
{
	begin();
	// A resume sends a uevent and may make the node: cookie.
	Task t = new_task(DM_DEVICE_RESUME, name);
	if (!dm_task_set_add_node(t.get(), DM_ADD_NODE_ON_RESUME))
		throw Failure(name, reason(t.get()));
	if (!run_with_cookie(t.get(), name))
		throw Failure(name, reason(t.get()));
}

void reload(const std::string &name, const Target &target, bool read_only)
{
	begin();
	// No cookie: a load sends no uevent.
	Task t = new_task(DM_DEVICE_RELOAD, name);
	add_target(t.get(), name, target);
	if (read_only && !dm_task_set_ro(t.get()))
		throw Failure(name, reason(t.get()));
	if (!dm_task_run(t.get()))
		throw Failure(name, reason(t.get()), "The kernel log says why the table was refused: see dmesg.");
}

void remove(const std::string &name)
{
	begin();
	const Info info = require_info(name);
	// A mount does not go away in the seconds a retry waits.
	if (info.open_count > 0) {
		if (std::vector<std::string> who = lasting_users(info); !who.empty())
			throw_open(name, info, std::move(who));
	}
	remove_device(name);
}

Target table(const std::string &name) { return single_target(name, DM_DEVICE_TABLE); }

Target status(const std::string &name) { return single_target(name, DM_DEVICE_STATUS); }

std::string message(const std::string &name, const std::string &text)
{
	begin();
	Task t = new_task(DM_DEVICE_TARGET_MSG, name);
	if (!dm_task_set_sector(t.get(), 0) || !dm_task_set_message(t.get(), text.c_str()))
		throw Failure(name, reason(t.get()));
	if (!dm_task_run(t.get())) {
		const int err = dm_task_get_errno(t.get());
		if (err == ENXIO)
			throw Failure(name, "no such device-mapper device");
		if (err)
			throw Failure(name, fmt::format("message '{}' refused: {} (the kernel log says why: see dmesg)",
							text, std::strerror(err)));
		throw Failure(name, reason(t.get()));
	}
	const char *response = dm_task_get_message_response(t.get());
	std::string out = response ? response : "";
	const auto blank = [](unsigned char c) { return std::isspace(c); };
	while (!out.empty() && blank(out.back()))
		out.pop_back();
	out.erase(out.begin(), std::find_if_not(out.begin(), out.end(), blank));
	return out;
}

std::optional<Version> target_version(const std::string &type)
{
	begin();
	Task t = new_task(DM_DEVICE_LIST_VERSIONS, "");
	if (!dm_task_run(t.get()))
		throw Failure("", reason(t.get()));
	const dm_versions *v = dm_task_get_versions(t.get());
	while (v) {
		if (type == v->name)
			return Version{v->version[0], v->version[1], v->version[2]};
		if (!v->next)
			break;
		v = reinterpret_cast<const dm_versions *>(reinterpret_cast<const char *>(v) + v->next);
	}
	return std::nullopt;
}

void require_deltalog(Version minimum)
{
	// The module cannot go away under a running deltalogctl that needs it
	// (its devices hold it), so one look per process is enough.
	static std::optional<std::optional<Version>> loaded;
	if (!loaded)
		loaded = target_version("deltalog");
	if (!*loaded)
		throw Failure("", "the dm-deltalog kernel module is not loaded: modprobe dm-deltalog");
	const Version v = **loaded;
	if (v < minimum)
		throw Failure("", fmt::format("the dm-deltalog kernel module is version {}.{}.{}, deltalogctl needs "
					      "at least {}.{}.{}: update the module",
					      v.major, v.minor, v.patch, minimum.major, minimum.minor,
					      minimum.patch));
}

Suspended::Suspended(std::string name, bool lockfs) : name_(std::move(name))
{
	suspend(name_, lockfs);
}

Suspended::~Suspended()
{
	if (!suspended_)
		return;
	try {
		resume();
	} catch (const std::exception &e) {
		// A device left suspended hangs every I/O to it: say so loudly.
		// Not fmt: a destructor must not throw on a failed write.
		std::fprintf(stderr, "deltalogctl: %s: left suspended: %s\nResume it with 'dmsetup resume %s'.\n",
			     name_.c_str(), e.what(), name_.c_str());
	}
}

void Suspended::resume()
{
	// Cleared only once resumed: after a failure the destructor tries again.
	dm::resume(name_);
	suspended_ = false;
}

} // namespace deltalogctl::dm
