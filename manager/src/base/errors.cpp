#include "base/errors.hpp"

#include <cstring>

namespace deltalogctl {

std::string errno_text(const std::string &reason, int errnum)
{
	return reason + ": " + std::strerror(errnum);
}

} // namespace deltalogctl
