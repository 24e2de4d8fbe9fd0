// deltalogctl: protect a block device with dm-deltalog, look at its history,
// roll it back, commit it. `deltalogctl --help` lists the commands;
// `deltalogctl <command> --help` is the manual of one.
//
// Exit status: 0 done, 1 failed, 2 bad usage.
#include "base/command.hpp"
#include "base/errors.hpp"
#include "base/library_errors.hpp"

#include "deltalog/errors.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace deltalogctl;

namespace {

constexpr int exit_ok = 0, exit_failed = 1, exit_usage = 2;

void print_overview(std::FILE *to = stdout)
{
	fmt::print(to, "Usage: deltalogctl <command> [arguments] [options]\n\n"
		   "Time travel for block devices: every write to a protected device is logged,\n"
		   "with its time, on a delta device; the origin is never written until you commit.\n\n"
		   "Commands:\n");
	for (const Command *c : commands())
		fmt::print(to, "  {:<10} {}\n", c->name, c->summary);
	fmt::print(to, "\nA time T is HH:MM[:SS], 'YYYY-MM-DD HH:MM[:SS]', -15min, -2h, -1d, @mark, #seq or now.\n"
		   "'deltalogctl <command> --help' shows the manual of a command.\n"
		   "Exit status: 0 done, 1 failed, 2 bad usage.\n");
}

bool wants_help(const std::vector<std::string> &args)
{
	for (const std::string &a : args) {
		if (a == "--")
			return false;
		if (a == "--help" || a == "-h")
			return true;
	}
	return false;
}

int usage_error(const Command *command, const std::string &reason)
{
	if (!command) {
		fmt::print(stderr, "deltalogctl: {}\nUsage: deltalogctl <command> [arguments] [options]\n"
			   "Try 'deltalogctl --help'.\n", reason);
		return exit_usage;
	}
	fmt::print(stderr, "deltalogctl: {}: {}\n{}\nTry 'deltalogctl {} --help'.\n", command->name, reason,
		   usage_line(*command), command->name);
	return exit_usage;
}

int failure(const Command &command, const std::string &object, std::string reason,
	    const std::string &hint)
{
	// Library errors often start with the path already.
	if (!object.empty() && reason.rfind(object + ": ", 0) == 0)
		reason.erase(0, object.size() + 2);
	fmt::print(stderr, "deltalogctl: {}{}{}: {}\n", command.name, object.empty() ? "" : " ", object,
		   reason);
	if (!hint.empty())
		fmt::print(stderr, "{}\n", hint);
	return exit_failed;
}

int run_command(const Command &command, const std::vector<std::string> &args)
{
	std::string object;
	try {
		Args parsed = parse(command, args);
		object = parsed.object();
		return command.run(parsed);
	} catch (const UsageError &e) {
		return usage_error(&command, e.what());
	} catch (const Failure &e) {
		return failure(command, e.object().empty() ? object : e.object(), e.what(), e.hint());
	} catch (const deltalog::Error &e) {
		return failure(command, object, e.what(), library_error_hint(e));
	} catch (const std::exception &e) {
		return failure(command, object, e.what(), "");
	}
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<std::string> args(argv + 1, argv + argc);
	if (args.empty()) {
		print_overview(stderr);
		return exit_usage;
	}
	const std::string verb = args[0];
	args.erase(args.begin());

	if (verb == "--help" || verb == "-h") {
		print_overview();
		return exit_ok;
	}
	if (verb == "--version") {
		fmt::print("deltalogctl {}\n", DELTALOGCTL_VERSION);
		return exit_ok;
	}
	if (verb == "help") {
		if (args.empty()) {
			print_overview();
			return exit_ok;
		}
		const Command *command = find_command(args[0]);
		if (!command)
			return usage_error(nullptr, fmt::format("unknown command '{}'", args[0]));
		fmt::print("{}", help_text(*command));
		return exit_ok;
	}
	const Command *command = find_command(verb);
	if (!command)
		return usage_error(nullptr, fmt::format("unknown command '{}'", verb));
	if (wants_help(args)) {
		fmt::print("{}", help_text(*command));
		return exit_ok;
	}
	return run_command(*command, args);
}
