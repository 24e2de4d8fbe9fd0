// deltalogctl deactivate NAME
#include "base/command.hpp"
#include "base/lock.hpp"
#include "base/errors.hpp"
#include "offline.hpp"
#include "target.hpp"
#include "udev.hpp"

#include <fmt/format.h>

namespace deltalogctl {

namespace {

int run(const Args &args)
{
	const CommandLock lock;
	const std::string &name = args.pos(0);
	const ActiveDevice dev = active_device(name);
	require_closed(dev, "deactivate");
	dm::remove(name);
	udev::devices_changed({dev.table.origin, dev.table.delta});
	if (dev.table.options.view_seq)
		fmt::print("Removed the view {}.\n", name);
	else
		fmt::print("Deactivated {}: its log on {} is complete; 'deltalogctl activate {} {} {}' brings it back.\n",
			   name, dev.delta_path, name, dev.origin_path, dev.delta_path);
	return 0;
}

} // namespace

extern const Command deactivate_command = {
	"deactivate",
	"deactivate NAME",
	"take /dev/mapper/NAME down, keeping its whole log on the delta",
	R"(Removes the protected device /dev/mapper/NAME (or a view made with
'deltalogctl view'). The kernel writes every pending log record first, so
nothing is lost: 'deltalogctl activate' brings the device back exactly as
it was. The origin is not changed.

deactivate refuses while the device is mounted or open, and names what
holds it.

Examples:
  umount /mnt/box && deltalogctl deactivate box
)",
	{"NAME"},
	nullptr,
	run,
};

} // namespace deltalogctl
