// The command registry: every verb of deltalogctl is one Command, defined in
// its own file under cmd/ and listed once in commands.cpp. A command declares
// its positional arguments and --options; parse() reads the command line
// once, strictly (no abbreviations, no unknown options, exact argument count).
#pragma once

#include <boost/program_options.hpp>

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace deltalogctl {

namespace po = boost::program_options;

class Args;

struct Command {
	const char *name;
	const char *synopsis;		// "create NAME ORIGIN DELTA [--force]"
	const char *summary;		// one line, for `deltalogctl --help`
	const char *description;	// the manual page text of `<name> --help`
	std::vector<const char *> positionals;	// names, in order, all required
	void (*declare)(po::options_description &options);	// may be null
	int (*run)(const Args &args);
};

// Every command, in the order `deltalogctl --help` lists them.
std::span<const Command *const> commands();
// Commands that other programs run (udev-probe, for the udev rules):
// found by find_command, not listed by --help.
std::span<const Command *const> internal_commands();
const Command *find_command(const std::string &name);

class Args {
public:
	Args(const Command &command, po::variables_map values, std::vector<std::string> positional);

	const Command &command() const { return *command_; }
	// The i-th positional argument (declared by the command, so present).
	const std::string &pos(std::size_t i) const { return positional_.at(i); }
	// What messages name: the first positional argument, or "".
	std::string object() const { return positional_.empty() ? std::string{} : positional_[0]; }
	bool flag(const char *name) const;
	std::optional<std::string> opt(const char *name) const;

private:
	const Command *command_;
	po::variables_map values_;
	std::vector<std::string> positional_;
};

// Parses the arguments after the verb. Throws UsageError.
Args parse(const Command &command, const std::vector<std::string> &argv);
// The full help of a command (usage, description, options).
std::string help_text(const Command &command);
// "Usage: deltalogctl <synopsis>"
std::string usage_line(const Command &command);

} // namespace deltalogctl
