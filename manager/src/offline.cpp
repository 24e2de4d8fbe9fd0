#include "offline.hpp"

#include "base/errors.hpp"
#include "blockdev.hpp"
#include "udev.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

namespace deltalogctl {

void require_closed(const ActiveDevice &dev, const std::string &verb, const std::string &hint)
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
		      hint.empty() ? "Unmount it (or stop the programs using it) and try again." : hint);
}

OfflineDevice::OfflineDevice(const std::string &name, const std::string &verb)
	: name_(name), dev_(active_device(name))
{
	if (dev_.table.options.view_seq)
		throw Failure(name, fmt::format("cannot {} a view", verb),
			      "Name the protected device, not one of its views.");
	if (dev_.status.merge_activity == "running")
		throw Failure(name, fmt::format("cannot {}: a commit up to #{} is running", verb, dev_.status.merge_target),
			      fmt::format("Wait for it: deltalogctl merge {} --until '#{}' --wait", name,
					  dev_.status.merge_target));
	require_closed(dev_, verb);
	// A view's index points into the log: a rollback or merge would free
	// data it still reads (and the view holds the delta open).
	if (const auto views = open_views(dev_); !views.empty()) {
		std::vector<std::string> names;
		for (const OpenView &v : views)
			names.push_back(fmt::format("'{}' (at #{})", v.name, v.seq));
		throw Failure(name, fmt::format("cannot {} while views of it are open: {}", verb, fmt::join(names, ", ")),
			      fmt::format("Remove them first: deltalogctl deactivate {}", views.front().name));
	}
	// Anything else on the delta (a view made with plain dmsetup) would keep
	// the library from opening it once the device is down.
	std::vector<std::string> others;
	for (const std::string &who : users(block_device(dev_.delta_path)))
		if (who != fmt::format("held by dm device '{}'", name))
			others.push_back(who);
	if (!others.empty())
		throw Failure(name, fmt::format("cannot {}: its delta {} is also {}", verb, dev_.delta_path,
						fmt::join(others, "; ")),
			      "Remove what else uses the delta first.");
	// The whole history, without suspending anything yet.
	flush_device(name);
	log_ = read_log();
}

void OfflineDevice::refuse_if_merging(const std::string &verb) const
{
	if (!log_.sb.merging())
		return;
	throw Failure(name_,
		      fmt::format("cannot {}: a commit up to #{} was interrupted and the origin may hold part of it",
				  verb, log_.sb.merge_target_seq),
		      fmt::format("Finish it first: deltalogctl merge {} --until '#{}'", name_,
				  log_.sb.merge_target_seq));
}

deltalog::LogState OfflineDevice::read_log() const
{
	const deltalog::Device delta =
		deltalog::Device::open(dev_.delta_path, deltalog::Device::Access::read_only);
	return deltalog::recover(delta);
}

void OfflineDevice::quiesce()
{
	signals_.emplace();
	dm::suspend(name_, true);
	suspended_ = true;
	const deltalog::LogState now = read_log();
	if (now.newest_seq() != log_.newest_seq() || now.sb.merged_seq != log_.sb.merged_seq)
		throw Failure(name_, "the device was written to while you were asked: nothing was changed",
			      "Run the command again.");
	log_ = now;
}

void OfflineDevice::take_down()
{
	if (!suspended_)
		quiesce();
	dm::remove(name_);
	down_ = true;
	suspended_ = false;
	delta_.emplace(deltalog::Device::open(dev_.delta_path, deltalog::Device::Access::read_write));
}

void OfflineDevice::bring_back()
{
	delta_.reset();
	if (down_) {
		const deltalog::Device delta =
			deltalog::Device::open(dev_.delta_path, deltalog::Device::Access::read_only);
		const auto sb = deltalog::read_superblock(delta).sb;
		dm::create(name_, dev_.info.uuid.empty() ? device_uuid(sb.uuid) : dev_.info.uuid,
			   make_target(dev_.table), dev_.info.read_only);
		down_ = false;
		udev::devices_changed({dev_.table.origin, dev_.table.delta});
	} else if (suspended_) {
		dm::resume(name_);
		suspended_ = false;
	}
	signals_.reset();
}

void OfflineDevice::forget()
{
	delta_.reset();
	down_ = false;
	signals_.reset();
	udev::devices_changed({dev_.table.origin, dev_.table.delta});
}

OfflineDevice::~OfflineDevice()
{
	if (!down_ && !suspended_)
		return;
	try {
		bring_back();
	} catch (const std::exception &e) {
		// No fmt here: a destructor must not throw on a failed write.
		std::fprintf(stderr,
			     "deltalogctl: %s: could not bring the device back: %s\n"
			     "Activate it again with: deltalogctl activate %s %s %s\n",
			     name_.c_str(), e.what(), name_.c_str(), dev_.origin_path.c_str(),
			     dev_.delta_path.c_str());
	}
}

} // namespace deltalogctl
