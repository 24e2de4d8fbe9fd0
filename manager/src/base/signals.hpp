// Holding off ^C, kill and a lost terminal while a device is taken down:
// the signals stay pending and arrive when the device is back.
#pragma once

#include <signal.h>

namespace deltalogctl {

class SignalsHeld {
public:
	SignalsHeld();		// blocks SIGINT, SIGTERM, SIGHUP, SIGQUIT
	~SignalsHeld();		// restores the mask: pending signals arrive now

	// A held signal that arrived, taken (it will not arrive later), or 0:
	// long work checks it to stop at a safe point instead.
	static int take_pending();
	SignalsHeld(const SignalsHeld &) = delete;
	SignalsHeld &operator=(const SignalsHeld &) = delete;

private:
	sigset_t old_;
};

} // namespace deltalogctl
