// One deltalogctl at a time changes devices: a rollback or merge takes a
// device down and brings it back, and another command in that window (a
// mark's suspend and resume, a second rollback) could resume it or change
// its log under the first. Commands that change devices hold this lock
// (flock on /run/lock/deltalogctl.lock) for their whole run; commands that
// only read do not.
#pragma once

#include "deltalog/device.hpp"

namespace deltalogctl {

class CommandLock {
public:
	CommandLock();	// waits (saying so) while another command holds it
	CommandLock(const CommandLock &) = delete;
	CommandLock &operator=(const CommandLock &) = delete;

private:
	deltalog::UniqueFd fd_;	// closing it releases the lock
};

} // namespace deltalogctl
