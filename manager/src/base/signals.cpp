#include "base/signals.hpp"

#include <ctime>

namespace deltalogctl {

namespace {

sigset_t held_signals()
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	return set;
}

} // namespace

SignalsHeld::SignalsHeld()
{
	const sigset_t held = held_signals();
	sigprocmask(SIG_BLOCK, &held, &old_);
}

SignalsHeld::~SignalsHeld()
{
	sigprocmask(SIG_SETMASK, &old_, nullptr);
}

int SignalsHeld::take_pending()
{
	const sigset_t held = held_signals();
	const timespec now{};
	const int sig = sigtimedwait(&held, nullptr, &now);
	return sig > 0 ? sig : 0;
}

} // namespace deltalogctl
