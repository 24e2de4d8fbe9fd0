// Offline work on an active but unused device (rollback, offline merge):
// the target is suspended (which drains it and persists its log), the log
// is read from the delta, and only once the user has confirmed is the
// device taken down, the delta changed from userspace, and the device
// brought back with the same table and UUID. If anything fails in between,
// the destructor brings the device back; if even that fails, it says how.
#pragma once

#include "target.hpp"

#include "deltalog/device.hpp"
#include "deltalog/log.hpp"

#include <optional>
#include <string>

namespace deltalogctl {

// Throws Failure(name, ...) naming what holds NAME open (mount points,
// holders) when its open count is not zero; `verb` says what cannot be done
// ("roll back").
void require_closed(const ActiveDevice &dev, const std::string &verb);

class OfflineDevice {
public:
	// Suspends NAME (after require_closed) and reads its log.
	OfflineDevice(const std::string &name, const std::string &verb);
	OfflineDevice(const OfflineDevice &) = delete;
	OfflineDevice &operator=(const OfflineDevice &) = delete;
	~OfflineDevice();

	const ActiveDevice &device() const { return dev_; }
	const deltalog::LogState &log() const { return log_; }

	// Removes the dm device and opens the delta (and the origin when
	// asked) read-write for the library.
	void take_down();
	deltalog::Device &delta() { return *delta_; }
	deltalog::Device &origin();
	// Closes the devices and recreates the dm device (or resumes it if it
	// was never taken down).
	void bring_back();
	// After take_down(): leave the device down (it was removed for good).
	void forget();

private:
	std::string name_;
	ActiveDevice dev_;
	deltalog::LogState log_;
	std::optional<deltalog::Device> delta_;
	std::optional<deltalog::Device> origin_;
	bool suspended_ = false;
	bool down_ = false;
};

} // namespace deltalogctl
