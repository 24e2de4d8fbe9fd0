// libdevmapper, wrapped: every dm_task and udev cookie is owned by RAII, and
// every ioctl that changes a device follows lvm2's sequence (dmsetup.c
// _create_one_device): the udev cookie is set last, just before
// dm_task_run, and waited on on every path, failures included; a reload or
// a table-less create takes no cookie. Works with udev running (it makes the
// /dev/mapper nodes, we wait for it) and without (libdevmapper makes them;
// DM_DISABLE_UDEV=1 in the environment is honoured as by dmsetup).
//
// Errors throw Failure naming the device, with the kernel's reason where
// libdevmapper gives one (errno of the ioctl).
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

// The device NAME, or nullopt if there is no such dm device.
std::optional<Info> info(const std::string &name);
// Every dm device whose UUID starts with uuid_prefix, sorted by name.
std::vector<Info> list_ours();
// "/dev/mapper/NAME"
std::string device_path(const std::string &name);

// Creates NAME with UUID uuid and a single target, activated (load and
// resume), read-only if asked; waits until /dev/mapper/NAME exists. If any
// step fails the half-made device is removed again before the throw.
void create(const std::string &name, const std::string &uuid, const Target &target,
	    bool read_only = false);
// Suspends NAME. With lockfs the filesystem on it is frozen first (its
// dirty data written, new writes wait); without flush, in-flight I/O is
// not waited for (dmsetup suspend --noflush). Use Suspended below.
void suspend(const std::string &name, bool lockfs = true, bool flush = true);
void resume(const std::string &name);
// Loads a new inactive table (takes effect at the next resume).
void reload(const std::string &name, const Target &target, bool read_only = false);
// Removes NAME; retries a few times while something (udev's blkid, an
// automounter) holds it open for a moment, then fails naming the holders.
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
// modprobe dm-deltalog" (or "is too old") unless deltalog >= minimum.
// Checked once per process.
void require_deltalog(Version minimum);

// Suspends with lockfs on construction, resumes on destruction (or at
// resume(), whose errors are not swallowed).
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
