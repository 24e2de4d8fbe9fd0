#include "base/command.hpp"

#include "base/errors.hpp"

#include <fmt/format.h>

#include <sstream>

namespace deltalogctl {

namespace {

po::options_description declared_options(const Command &command)
{
	po::options_description options("Options");
	if (command.declare)
		command.declare(options);
	return options;
}

} // namespace

const Command *find_command(const std::string &name)
{
	for (const Command *c : commands())
		if (name == c->name)
			return c;
	for (const Command *c : internal_commands())
		if (name == c->name)
			return c;
	return nullptr;
}

Args::Args(const Command &command, po::variables_map values, std::vector<std::string> positional)
	: command_(&command), values_(std::move(values)), positional_(std::move(positional))
{
}

bool Args::flag(const char *name) const
{
	return values_.count(name) && values_[name].as<bool>();
}

std::optional<std::string> Args::opt(const char *name) const
{
	if (!values_.count(name))
		return std::nullopt;
	return values_[name].as<std::string>();
}

Args parse(const Command &command, const std::vector<std::string> &argv)
{
	po::options_description all = declared_options(command);
	all.add_options()("positional", po::value<std::vector<std::string>>());
	po::positional_options_description positional;
	positional.add("positional", -1);

	// No abbreviations of long options; `--` ends the options.
	const int style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
	po::variables_map values;
	try {
		po::store(po::command_line_parser(argv)
				  .options(all)
				  .positional(positional)
				  .style(style)
				  .run(),
			  values);
		po::notify(values);
	} catch (const po::error &e) {
		throw UsageError(e.what());
	}

	std::vector<std::string> args;
	if (values.count("positional"))
		args = values["positional"].as<std::vector<std::string>>();
	const auto &names = command.positionals;
	if (args.size() < names.size())
		throw UsageError(fmt::format("missing {}", names[args.size()]));
	if (args.size() > names.size())
		throw UsageError(fmt::format("unexpected argument '{}'", args[names.size()]));
	for (std::size_t i = 0; i < args.size(); i++)
		if (args[i].empty())
			throw UsageError(fmt::format("{} is empty", names[i]));
	return Args(command, std::move(values), std::move(args));
}

std::string usage_line(const Command &command)
{
	return fmt::format("Usage: deltalogctl {}", command.synopsis);
}

std::string help_text(const Command &command)
{
	std::ostringstream options;
	po::options_description declared = declared_options(command);
	if (!declared.options().empty())
		options << "\n" << declared;
	std::string description = command.description;
	while (!description.empty() && description.back() == '\n')
		description.pop_back();
	return fmt::format("{}\n\n{}\n\n{}\n{}", usage_line(command), command.summary, description,
			   options.str());
}

} // namespace deltalogctl
