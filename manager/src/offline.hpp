// Offline work on an active but unused device (rollback, remove), in the
// order that changes nothing until the user has agreed:
//   1. the device must be closed, not a view, and not committing (a merge
//      running in the kernel); pending log records are
//      flushed (an fsync of the device) and the log is read from the delta
//      read-only: what the command shows and asks about;
//   2. quiesce(): the target is suspended (drained, everything persisted)
//      and the log read again; if it is not what the user was shown, the
//      command stops (the device is resumed);
//   3. take_down(): the dm device is removed and the delta opened
//      read-write for the format library;
//   4. bring_back(): the device is recreated with the same table and UUID.
// If anything fails after step 2, the destructor brings the device back; if
// even that fails, it says how. Signals are held from step 2 to step 4.
#pragma once

#include "base/signals.hpp"
#include "target.hpp"

#include "deltalog/device.hpp"
#include "deltalog/log.hpp"

#include <optional>
#include <string>

namespace deltalogctl {

// Throws Failure(name, ...) naming what holds NAME open (mount points,
// holders) when its open count is not zero; `verb` says what cannot be done
// ("roll back"), hint replaces the default advice.
void require_closed(const ActiveDevice &dev, const std::string &verb, const std::string &hint = {});

class OfflineDevice {
public:
	// Step 1.
	OfflineDevice(const std::string &name, const std::string &verb);
	OfflineDevice(const OfflineDevice &) = delete;
	OfflineDevice &operator=(const OfflineDevice &) = delete;
	~OfflineDevice();

	const ActiveDevice &device() const { return dev_; }
	const deltalog::LogState &log() const { return log_; }

	// Refuses (Failure) while the log records an unfinished merge: part of
	// it may be in the origin, so only finishing it is safe.
	void refuse_if_merging(const std::string &verb) const;
	// Step 2: throws Failure if the log changed since step 1. From here
	// until the device is back, ^C and friends are held.
	void quiesce();
	// Step 3 (after quiesce()).
	void take_down();
	deltalog::Device &delta() { return *delta_; }
	// Step 4: closes the devices and recreates the dm device (or resumes
	// it if it was never taken down).
	void bring_back();
	// After take_down(): leave the device down (it was removed for good).
	void forget();

private:
	deltalog::LogState read_log() const;

	std::string name_;
	ActiveDevice dev_;
	deltalog::LogState log_;
	std::optional<deltalog::Device> delta_;
	std::optional<SignalsHeld> signals_;
	bool suspended_ = false;
	bool down_ = false;
};

} // namespace deltalogctl
