// The one list of deltalogctl's commands, in the order --help shows them.
#include "base/command.hpp"

#include <array>

namespace deltalogctl {

extern const Command check_command;
extern const Command dump_command;

std::span<const Command *const> commands()
{
	static const std::array<const Command *, 2> list = {
		&check_command,
		&dump_command,
	};
	return list;
}

} // namespace deltalogctl
