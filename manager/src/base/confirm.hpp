// Asking before destructive work: the contract says every destructive
// command prints what it will do and asks, unless --yes.
#pragma once

#include <string>

namespace deltalogctl {

// Asks "question [y/N] " on the terminal; true only for y or yes. Without
// a terminal on stdin there is nobody to ask: throws Failure(object, ...)
// telling to add --yes.
bool confirm(const std::string &object, const std::string &question);

} // namespace deltalogctl
