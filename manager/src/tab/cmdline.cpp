// deltalog.* / rd.deltalog.* on the kernel command line (see cmdline.hpp).
#include "tab/cmdline.hpp"

#include "base/errors.hpp"
#include "timespec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace deltalogctl::tab {

namespace {

std::optional<bool> parse_bool(std::string_view v)
{
	if (v == "1" || v == "yes" || v == "y" || v == "true" || v == "t" || v == "on")
		return true;
	if (v == "0" || v == "no" || v == "n" || v == "false" || v == "f" || v == "off")
		return false;
	return std::nullopt;
}

// The entry a "[NAME:]VALUE" override is for, and its VALUE; nullptr (with
// an error) when there is no such entry.
std::pair<TabEntry *, std::string> target_of(const CmdlineOverride &o, std::vector<TabEntry> &entries,
					     std::vector<std::string> &errors)
{
	if (const std::size_t colon = o.value.find(':'); colon != std::string::npos) {
		const std::string name = o.value.substr(0, colon);
		const auto it = std::find_if(entries.begin(), entries.end(),
					     [&](const TabEntry &e) { return e.name == name; });
		if (it != entries.end())
			return {&*it, o.value.substr(colon + 1)};
	}
	const auto root = std::find_if(entries.begin(), entries.end(), [](const TabEntry &e) { return e.root; });
	if (root != entries.end())
		return {&*root, o.value};
	const std::size_t colon = o.value.find(':');
	errors.push_back(fmt::format(
		"kernel command line: {}: {}", o.where,
		colon == std::string::npos
			? std::string("no device has the option root; name one: NAME:VALUE")
			: fmt::format("no device is named '{}', and no device has the option root",
				      o.value.substr(0, colon))));
	return {nullptr, {}};
}

bool valid_time(const std::string &t, const CmdlineOverride &o, std::vector<std::string> &errors)
{
	try {
		parse_time_spec(t, wall_clock_ns());
		return true;
	} catch (const UsageError &e) {
		errors.push_back(fmt::format("kernel command line: {}: {}", o.where, e.what()));
		return false;
	}
}

} // namespace

std::vector<std::string> split_cmdline(std::string_view cmdline)
{
	std::vector<std::string> words;
	std::string word;
	bool quoted = false, in_word = false;
	for (const char c : cmdline) {
		if (c == '"') {
			quoted = !quoted;
			in_word = true;
		} else if (!quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
			if (in_word)
				words.push_back(std::move(word));
			word.clear();
			in_word = false;
		} else {
			word += c;
			in_word = true;
		}
	}
	if (in_word)
		words.push_back(std::move(word));
	return words;
}

CmdlineConfig parse_cmdline(std::string_view cmdline, bool in_initrd)
{
	CmdlineConfig config;
	for (const std::string &word : split_cmdline(cmdline)) {
		const std::size_t eq = word.find('=');
		std::string_view key = std::string_view(word).substr(0, eq);
		const std::optional<std::string> value =
			eq == std::string::npos ? std::nullopt : std::optional<std::string>(word.substr(eq + 1));
		if (key.rfind("rd.", 0) == 0) {
			if (!in_initrd)
				continue;
			key.remove_prefix(3);
		}
		if (key != "deltalog" && key.rfind("deltalog.", 0) != 0)
			continue;
		const CmdlineOverride o{value.value_or(""), word};
		if (key == "deltalog" || key == "deltalog.tab") {
			const auto b = value ? parse_bool(*value) : std::optional<bool>(true);
			if (!b)
				config.errors.push_back(fmt::format("kernel command line: {}: expected 0 or 1 (no or yes)", word));
			else
				(key == "deltalog" ? config.enabled : config.use_tab) = *b;
		} else if (!value || value->empty()) {
			config.errors.push_back(fmt::format("kernel command line: {}: needs a value ({}=...)", word, key));
		} else if (key == "deltalog.entry") {
			config.entries.push_back(o);
		} else if (key == "deltalog.rollback") {
			config.rollbacks.push_back(o);
		} else if (key == "deltalog.boot") {
			config.boots.push_back(o);
		} else {
			config.errors.push_back(fmt::format("kernel command line: unknown parameter {} (known: deltalog=, "
							    "deltalog.tab=, deltalog.entry=, deltalog.rollback=, "
							    "deltalog.boot=)",
							    word.substr(0, eq)));
		}
	}
	return config;
}

std::vector<TabEntry> apply_cmdline(std::vector<TabEntry> tab_entries, const CmdlineConfig &config,
				    std::vector<std::string> &errors)
{
	std::vector<TabEntry> entries;
	if (config.use_tab)
		entries = std::move(tab_entries);
	for (const CmdlineOverride &o : config.entries) {
		try {
			auto entry = parse_tab_line(o.value, "kernel command line");
			if (!entry)
				throw TabError("the line is empty");
			if (entry->root) {
				const auto other = std::find_if(entries.begin(), entries.end(), [&](const TabEntry &e) {
					return e.root && e.name != entry->name;
				});
				if (other != entries.end())
					throw TabError(fmt::format("a second root device: '{}' ({}) has the option root",
								   other->name, other->where));
			}
			const auto same = std::find_if(entries.begin(), entries.end(),
						       [&](const TabEntry &e) { return e.name == entry->name; });
			if (same != entries.end())
				*same = std::move(*entry);
			else
				entries.push_back(std::move(*entry));
		} catch (const TabError &e) {
			errors.push_back(fmt::format("kernel command line: {}: {}", o.where, e.what()));
		}
	}
	for (const CmdlineOverride &o : config.boots) {
		auto [entry, value] = target_of(o, entries, errors);
		if (!entry)
			continue;
		try {
			entry->boot = parse_boot_policy(value);
			entry->boot.once = true;
		} catch (const TabError &e) {
			errors.push_back(fmt::format("kernel command line: {}: {}", o.where, e.what()));
		}
	}
	for (const CmdlineOverride &o : config.rollbacks) {
		auto [entry, value] = target_of(o, entries, errors);
		if (!entry || !valid_time(value, o, errors))
			continue;
		entry->boot = {BootPolicy::Kind::rollback_to, value, true};
	}
	return entries;
}

} // namespace deltalogctl::tab
