#include "base/confirm.hpp"

#include "base/errors.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <unistd.h>

namespace deltalogctl {

bool confirm(const std::string &object, const std::string &question)
{
	if (isatty(STDIN_FILENO) != 1)
		throw Failure(object, "not confirmed (no terminal to ask on)",
			      "Add --yes to do it without asking.");
	fmt::print("{} [y/N] ", question);
	std::fflush(stdout);
	std::string answer;
	if (!std::getline(std::cin, answer))
		return false;
	return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES";
}

} // namespace deltalogctl
