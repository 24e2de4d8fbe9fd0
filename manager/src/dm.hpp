// libdevmapper, wrapped: every dm_task and udev cookie is owned by RAII, and
// every ioctl that changes a device follows lvm2's sequence (dmsetup.c
// _create_one_device): the udev cookie is set last, just before
// dm_task_run, and waited on on every path, failures included; a reload, a
// suspend or a table-less create takes no cookie.
//
// With and without udev: when udev runs (libdevmapper's own check and
// /run/udev/control), udev makes the /dev/mapper nodes and we wait on the
// cookie for it. When it does not, or DM_DISABLE_UDEV=1 is in the
// environment (as dmsetup honours it), udev sync is switched off and
// libdevmapper makes and removes the nodes itself when the cookie is waited
// on; the udev rules are told to keep off them should udev start later.
// Either way create() checks that /dev/mapper/NAME is there.
//
// Errors throw Failure naming the device, with the kernel's reason as
// libdevmapper reports it ("device-mapper: reload ioctl on box failed:
// Invalid argument"). libdevmapper's own log is captured for that and
// printed only with set_verbose(1) or more.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace deltalogctl::dm {

// dm UUIDs of our devices start with this (udev rules match on DM_UUID).
inline constexpr const char *uuid_prefix = "DELTALOG-";

struct Info {
	std::string name;
	std::string uuid;		// "" when the device has none
	std::uint32_t major = 0, minor = 0;
	std::int32_t open_count = 0;
	bool suspended = false;
	bool read_only = false;
	bool live_table = false;	// has a table loaded and active
	std::uint32_t target_count = 0;
};

// One line of a table: "<start> <len> <type> <params>".
struct Target {
	std::uint64_t start = 0;	// sectors
	std::uint64_t length = 0;	// sectors
	std::string type;		// "deltalog"
	std::string params;		// what follows the type in `dmsetup table`
};

struct Version {
	std::uint32_t major = 0, minor = 0, patch = 0;
	auto operator<=>(const Version &) const = default;
};

// libdevmapper's log on stderr: 0 nothing (the default: errors reach the
// user through Failure), 1 its errors and warnings, 2 also notices, 3 also
// debug (every ioctl).
void set_verbose(int level);

// Whether udev runs and deltalogctl syncs with it (not with
// DM_DISABLE_UDEV=1): uevents of our own are only worth sending then.
bool udev_running();

// The device NAME, or nullopt if there is no such dm device.
std::optional<Info> info(const std::string &name);
// Every dm device whose UUID starts with uuid_prefix, sorted by name.
std::vector<Info> list_ours();
// "/dev/mapper/NAME"
std::string device_path(const std::string &name);

// Creates NAME with UUID uuid and a single target, activated (load and
// resume), read-only if asked; waits until /dev/mapper/NAME exists. If any
// step fails the half-made device is removed again before the throw. A
// device already called NAME is refused and left alone.
void create(const std::string &name, const std::string &uuid, const Target &target,
	    bool read_only = false);
// Suspends NAME. With lockfs the filesystem on it is frozen first (its
// dirty data written, new writes wait); without flush, in-flight I/O is
// not waited for (dmsetup suspend --noflush). Use Suspended below.
void suspend(const std::string &name, bool lockfs = true, bool flush = true);
void resume(const std::string &name);
// Loads a new inactive table (takes effect at the next resume).
void reload(const std::string &name, const Target &target, bool read_only = false);
// Removes NAME; retries a few times (5 s) while something (udev's blkid, an
// automounter) holds it open for a moment, then fails naming the holders
// and the programs that have it open. Mounted or held by another dm
// device, it fails at once.
void remove(const std::string &name);

// The active table / status of NAME's single target. Throws if NAME has no
// live table or more than one target.
Target table(const std::string &name);
Target status(const std::string &name);
// Sends `dmsetup message NAME 0 text` and returns the target's response
// ("" when it gives none). The kernel's reason for a refusal is in dmesg;
// the throw says so.
std::string message(const std::string &name, const std::string &text);

// The loaded version of a target type, or nullopt when the kernel does not
// know it (the module is not loaded).
std::optional<Version> target_version(const std::string &type);
// Throws a Failure with "the dm-deltalog kernel module is not loaded:
// modprobe dm-deltalog" (or "... is version X.Y.Z, deltalogctl needs at
// least A.B.C: update the module") unless deltalog >= minimum. The kernel
// is asked once per process.
void require_deltalog(Version minimum);

// Suspends with lockfs on construction, resumes on destruction (or at
// resume(), whose errors are not swallowed; a failure in the destructor is
// printed with the command that resumes the device by hand).
class Suspended {
public:
	explicit Suspended(std::string name, bool lockfs = true);
	Suspended(const Suspended &) = delete;
	Suspended &operator=(const Suspended &) = delete;
	~Suspended();
	void resume();

private:
	std::string name_;
	bool suspended_ = true;
};

} // namespace deltalogctl::dm
