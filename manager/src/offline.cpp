#include "offline.hpp"

#include "base/errors.hpp"
#include "blockdev.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>

namespace deltalogctl {

void require_closed(const ActiveDevice &dev, const std::string &verb)
{
	if (dev.info.open_count == 0)
		return;
	std::vector<std::string> why;
	try {
		why = users(block_device(dm::device_path(dev.info.name)));
	} catch (const Failure &) {
		// The count says enough.
	}
	const std::string reason = why.empty() ? fmt::format("it is open ({} users)", dev.info.open_count)
					       : fmt::format("it is {}", fmt::join(why, "; "));
	throw Failure(dev.info.name, fmt::format("cannot {} while the device is in use: {}", verb, reason),
		      "Unmount it (or stop the programs using it) and try again.");
}

OfflineDevice::OfflineDevice(const std::string &name, const std::string &verb)
	: name_(name), dev_(active_device(name))
{
	require_closed(dev_, verb);
	if (dev_.table.options.view_seq)
		throw Failure(name, fmt::format("cannot {} a view", verb),
			      "Name the protected device, not one of its views.");
	dm::suspend(name_, true);
	suspended_ = true;
	// Suspended, the target has written every record: the log is complete.
	const deltalog::Device delta =
		deltalog::Device::open(dev_.delta_path, deltalog::Device::Access::read_only);
	log_ = deltalog::recover(delta);
}

void OfflineDevice::take_down()
{
	dm::remove(name_);
	down_ = true;
	suspended_ = false;
	delta_.emplace(deltalog::Device::open(dev_.delta_path, deltalog::Device::Access::read_write));
}

deltalog::Device &OfflineDevice::origin()
{
	if (!origin_)
		origin_.emplace(deltalog::Device::open(dev_.origin_path, deltalog::Device::Access::read_write));
	return *origin_;
}

void OfflineDevice::bring_back()
{
	origin_.reset();
	delta_.reset();
	if (down_) {
		const deltalog::Device delta =
			deltalog::Device::open(dev_.delta_path, deltalog::Device::Access::read_only);
		const auto sb = deltalog::read_superblock(delta).sb;
		dm::create(name_, dev_.info.uuid.empty() ? device_uuid(sb.uuid) : dev_.info.uuid,
			   make_target(dev_.table), dev_.info.read_only);
		down_ = false;
	} else if (suspended_) {
		dm::resume(name_);
		suspended_ = false;
	}
}

void OfflineDevice::forget()
{
	origin_.reset();
	delta_.reset();
	down_ = false;
}

OfflineDevice::~OfflineDevice()
{
	if (!down_ && !suspended_)
		return;
	try {
		bring_back();
	} catch (const std::exception &e) {
		fmt::print(stderr,
			   "deltalogctl: {}: could not bring the device back: {}\n"
			   "Activate it again with: deltalogctl activate {} {} {}\n",
			   name_, e.what(), name_, dev_.origin_path, dev_.delta_path);
	}
}

} // namespace deltalogctl
