// What a user can do about an error of the format library.
#pragma once

#include "deltalog/errors.hpp"

#include <string>

namespace deltalogctl {

// A line of advice for e, or "" when there is none to give.
std::string library_error_hint(const deltalog::Error &e);

} // namespace deltalogctl
