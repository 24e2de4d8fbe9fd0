// The one list of deltalogctl's commands, in the order --help shows them,
// and the internal ones that programs run (not shown by --help).
#include "base/command.hpp"

#include <array>

namespace deltalogctl {

extern const Command create_command;
extern const Command activate_command;
extern const Command deactivate_command;
extern const Command remove_command;
extern const Command list_command;
extern const Command status_command;
extern const Command log_command;
extern const Command mark_command;
extern const Command rollback_command;
extern const Command merge_command;
extern const Command view_command;
extern const Command check_command;
extern const Command dump_command;
extern const Command udev_probe_command;
extern const Command boot_root_command;

std::span<const Command *const> commands()
{
	static const std::array<const Command *, 14> list = {
		&create_command,
		&activate_command,
		&deactivate_command,
		&remove_command,
		&list_command,
		&status_command,
		&log_command,
		&mark_command,
		&rollback_command,
		&merge_command,
		&view_command,
		&check_command,
		&dump_command,
		&boot_root_command,
	};
	return list;
}

std::span<const Command *const> internal_commands()
{
	static const std::array<const Command *, 1> list = {
		&udev_probe_command,
	};
	return list;
}

} // namespace deltalogctl
