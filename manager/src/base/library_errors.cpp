#include "base/library_errors.hpp"

namespace deltalogctl {

std::string library_error_hint(const deltalog::Error &e)
{
	using namespace deltalog;
	if (dynamic_cast<const UnformattedError *>(&e))
		return "It holds no dm-deltalog log (its first 4 KiB are zeros); "
		       "'deltalogctl create' sets up a new one.";
	if (dynamic_cast<const SuperblockError *>(&e))
		return "It is not a dm-deltalog delta, or both copies of its superblock are damaged; "
		       "'deltalogctl check' shows the details.";
	if (dynamic_cast<const CorruptLogError *>(&e))
		return "The log is damaged; 'deltalogctl check' lists everything that is wrong.";
	if (dynamic_cast<const OriginMismatchError *>(&e))
		return "This delta was made for another origin: give the origin it was created with.";
	if (dynamic_cast<const GeometryError *>(&e))
		return "The devices do not fit the delta's superblock (was a device resized?).";
	return {};
}

} // namespace deltalogctl
