// deltalogctl check DELTA [--origin ORIGIN] [--json]
#include "base/command.hpp"
#include "base/progress.hpp"

#include "deltalog/check.hpp"
#include "deltalog/device.hpp"
#include "deltalog/dump.hpp"

#include <fmt/format.h>

#include <optional>

namespace deltalogctl {

namespace {

void declare(po::options_description &options)
{
	options.add_options()
		("origin", po::value<std::string>()->value_name("ORIGIN"),
		 "also check that the delta belongs to ORIGIN (size and fingerprint)")
		("json", po::bool_switch(), "print the findings as JSON");
}

int run(const Args &args)
{
	using deltalog::Device;
	const Device delta = Device::open(args.pos(0), Device::Access::read_only);
	std::optional<Device> origin;
	deltalog::CheckOptions options;
	if (auto path = args.opt("origin")) {
		origin.emplace(Device::open(*path, Device::Access::read_only));
		options.origin = &*origin;
	}
	std::optional<Progress> progress;
	options.progress = [&](std::uint64_t done, std::uint64_t total) {
		if (!progress)
			progress.emplace("checking data", total);
		progress->update(done);
	};
	deltalog::CheckReport report = deltalog::check(delta, options);
	progress.reset();
	fmt::print("{}", args.flag("json") ? deltalog::check_json(report, delta.name())
					   : deltalog::check_text(report, delta.name()));
	return report.fatal() ? 1 : 0;
}

} // namespace

extern const Command check_command = {
	"check",
	"check DELTA [--origin ORIGIN] [--json]",
	"verify a delta device: superblocks, every metadata block, the data of every record",
	R"(Reads the whole log on DELTA as the kernel target would at activation, and
reports every problem it finds instead of stopping at the first: damaged or
stale superblocks, metadata blocks with bad checksums or broken links,
records that point outside the data area, data whose checksum does not match.
Nothing is written. DELTA may be a block device or an image file; it may be
in use, but a log that is being written can show findings that are not
there once it is quiet.

Each finding is "fatal" (the device cannot be used as it is) or "warning"
(recovery copes with it, e.g. a log cut short by a power cut).

On a terminal, a progress bar shows while the data is read.

Exit status: 0 no fatal finding, 1 fatal findings or the check failed,
2 bad usage.

Example:
  deltalogctl check /dev/sdc1 --origin /dev/sdb1
)",
	{"DELTA"},
	declare,
	run,
};

} // namespace deltalogctl
