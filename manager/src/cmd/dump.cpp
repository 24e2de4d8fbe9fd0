// deltalogctl dump DELTA [--json]
#include "base/command.hpp"

#include "deltalog/device.hpp"
#include "deltalog/dump.hpp"
#include "deltalog/log.hpp"

#include <fmt/format.h>

namespace deltalogctl {

namespace {

void declare(po::options_description &options)
{
	options.add_options()("json", po::bool_switch(), "print the log as JSON");
}

int run(const Args &args)
{
	using deltalog::Device;
	const Device delta = Device::open(args.pos(0), Device::Access::read_only);
	const deltalog::LogState log = deltalog::recover(delta);
	fmt::print("{}", args.flag("json") ? deltalog::dump_json(log, delta.name())
					   : deltalog::dump_text(log, delta.name()));
	return 0;
}

} // namespace

extern const Command dump_command = {
	"dump",
	"dump DELTA [--json]",
	"print a delta's superblock and every record of its log, as stored",
	R"(Recovers the log on DELTA (as activation does, without writing anything) and
prints the superblock and every record of every metadata block, including
records that are no longer part of the history (merged, undone by a rollback,
or dropped after a power cut), each with its status. For the history as a
user sees it, use 'deltalogctl log'.

Example:
  deltalogctl dump /dev/sdc1 --json | jq '.records | length'
)",
	{"DELTA"},
	declare,
	run,
};

} // namespace deltalogctl
