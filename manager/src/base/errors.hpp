// What a command throws. main() turns these into the contract's exit status
// and message:
//   UsageError -> exit 2, "deltalogctl: <verb>: <reason>" and the usage;
//   Failure    -> exit 1, "deltalogctl: <verb> <object>: <reason>" and the
//                 hint on its own line when there is one.
// Errors of the format library (deltalog::Error) are failures too, with the
// command's object.
#pragma once

#include <stdexcept>
#include <string>

namespace deltalogctl {

class UsageError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

class Failure : public std::runtime_error {
public:
	// object: the device or name the command works on ("" for none); hint:
	// what the user can do about it ("" for none).
	Failure(std::string object, const std::string &reason, std::string hint = {})
		: std::runtime_error(reason), object_(std::move(object)), hint_(std::move(hint))
	{
	}

	const std::string &object() const { return object_; }
	const std::string &hint() const { return hint_; }

private:
	std::string object_;
	std::string hint_;
};

// "<reason>: <strerror(errnum)>"
std::string errno_text(const std::string &reason, int errnum);

} // namespace deltalogctl
