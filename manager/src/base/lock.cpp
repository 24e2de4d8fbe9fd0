#include "base/lock.hpp"

#include "base/errors.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

namespace deltalogctl {

namespace {

constexpr const char *lock_dir = "/run/lock";
constexpr const char *lock_path = "/run/lock/deltalogctl.lock";

} // namespace

CommandLock::CommandLock()
{
	::mkdir("/run", 0755);
	::mkdir(lock_dir, 01777);
	fd_.reset(::open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
	if (!fd_)
		throw Failure(lock_path, errno_text("cannot open the lock file", errno), "Run deltalogctl as root.");
	if (::flock(fd_.get(), LOCK_EX | LOCK_NB) == 0)
		return;
	if (errno != EWOULDBLOCK)
		throw Failure(lock_path, errno_text("cannot lock", errno));
	std::fprintf(stderr, "deltalogctl: waiting for another deltalogctl command to finish...\n");
	while (::flock(fd_.get(), LOCK_EX))
		if (errno != EINTR)
			throw Failure(lock_path, errno_text("cannot lock", errno));
}

} // namespace deltalogctl
