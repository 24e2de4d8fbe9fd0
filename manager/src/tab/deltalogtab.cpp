// /etc/deltalogtab parser (see deltalogtab.hpp and docs/deltalogtab.5).
#include "tab/deltalogtab.hpp"

#include "tab/unit_name.hpp"

#include "base/number.hpp"

#include <fmt/format.h>

#include <functional>
#include <map>
#include <set>

namespace deltalogctl::tab {

namespace {

constexpr std::size_t dm_name_max = 127;	// DM_NAME_LEN less the NUL
constexpr std::size_t label_max = 63;

bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// Splits text at the characters is_sep accepts outside double quotes; the
// quotes stay in the pieces. Empty pieces are kept when keep_empty.
std::vector<std::string_view> split_outside_quotes(std::string_view text,
						   const std::function<bool(char)> &is_sep,
						   bool keep_empty)
{
	std::vector<std::string_view> pieces;
	bool quoted = false;
	std::size_t start = 0;
	for (std::size_t i = 0; i <= text.size(); i++) {
		if (i < text.size() && text[i] == '"')
			quoted = !quoted;
		if (i < text.size() && (quoted || !is_sep(text[i])))
			continue;
		if (keep_empty || i > start)
			pieces.push_back(text.substr(start, i - start));
		start = i + 1;
	}
	if (quoted)
		throw TabError("a double quote is not closed");
	return pieces;
}

std::string unquote(std::string_view text)
{
	std::string out;
	for (const char c : text)
		if (c != '"')
			out += c;
	return out;
}

std::string printable(std::string_view text)
{
	std::string out;
	for (const char c : text) {
		const auto u = static_cast<unsigned char>(c);
		if (u < 0x20 || u == 0x7f)
			out += fmt::format("\\x{:02x}", u);
		else
			out += c;
	}
	return out;
}

bool has_control(std::string_view text)
{
	for (const char c : text) {
		const auto u = static_cast<unsigned char>(c);
		if (u < 0x20 || u == 0x7f)
			return true;
	}
	return false;
}

struct Tag {
	std::string_view prefix;
	DeviceSpec::Kind kind;
	std::string_view link_dir;
};

constexpr Tag tags[] = {
	{"UUID=", DeviceSpec::Kind::uuid, "/dev/disk/by-uuid/"},
	{"PARTUUID=", DeviceSpec::Kind::partuuid, "/dev/disk/by-partuuid/"},
	{"LABEL=", DeviceSpec::Kind::label, "/dev/disk/by-label/"},
	{"PARTLABEL=", DeviceSpec::Kind::partlabel, "/dev/disk/by-partlabel/"},
};

DeviceSpec parse_device(std::string_view field, std::string_view role)
{
	DeviceSpec spec;
	spec.text = unquote(field);
	const std::string &text = spec.text;
	for (const Tag &tag : tags) {
		if (text.compare(0, tag.prefix.size(), tag.prefix) != 0)
			continue;
		spec.kind = tag.kind;
		spec.value = text.substr(tag.prefix.size());
		if (spec.value.empty())
			throw TabError(fmt::format("{} '{}': the {} is empty", role, text,
						   tag.prefix.substr(0, tag.prefix.size() - 1)));
		if (has_control(spec.value))
			throw TabError(fmt::format("{} '{}': control characters are not allowed", role,
						   printable(text)));
		return spec;
	}
	if (text.empty() || text[0] != '/')
		throw TabError(fmt::format("{} '{}' is not a device: give a path under /dev, or UUID=, "
					   "PARTUUID=, LABEL= or PARTLABEL=",
					   role, printable(text)));
	if (text.rfind("/dev/", 0) != 0)
		throw TabError(fmt::format("{} '{}' is not under /dev: it must be a block device (a file "
					   "needs a loop device, see losetup(8))",
					   role, text));
	if (!unit_name_path_escape(text) || has_control(text))
		throw TabError(fmt::format("{} '{}' is not a plain path: no '..' components or control "
					   "characters",
					   role, printable(text)));
	spec.kind = DeviceSpec::Kind::path;
	spec.value = text;
	return spec;
}

// The options field, one option at a time, into entry.
class OptionParser {
public:
	explicit OptionParser(TabEntry &entry) : entry_(entry) {}

	void parse(std::string_view field)
	{
		for (const std::string_view raw :
		     split_outside_quotes(field, [](char c) { return c == ','; }, true)) {
			const std::string option = unquote(raw);
			if (option.empty())
				throw TabError(fmt::format("OPTIONS '{}' has an empty option (two commas in a row, "
							   "or one at an end)",
							   unquote(field)));
			const std::size_t eq = option.find('=');
			const std::string key = option.substr(0, eq);
			const std::optional<std::string> value =
				eq == std::string::npos ? std::nullopt
							: std::optional<std::string>(option.substr(eq + 1));
			if (!seen_.insert(key).second)
				throw TabError(fmt::format("option '{}' is given twice", key));
			apply(key, value);
		}
		check_combinations();
	}

private:
	static void flag(const std::string &key, const std::optional<std::string> &value, bool &out)
	{
		if (value)
			throw TabError(fmt::format("option '{}' takes no value (found '{}={}')", key, key, *value));
		out = true;
	}

	static const std::string &needs(const std::string &key, const std::optional<std::string> &value,
					std::string_view forms)
	{
		if (!value || value->empty())
			throw TabError(fmt::format("option '{}' needs a value: {}", key, forms));
		return *value;
	}

	void apply(const std::string &key, const std::optional<std::string> &value)
	{
		if (key == "on-full") {
			const std::string &v = needs(key, value, "on-full=error or on-full=merge-oldest");
			if (v != "error" && v != "merge-oldest")
				throw TabError(fmt::format("on-full={}: expected on-full=error or on-full=merge-oldest", v));
			entry_.on_full = v;
		} else if (key == "commit-ms") {
			const std::string &v = needs(key, value, "commit-ms=MS, 1 to 60000");
			const auto ms = parse_number<std::uint32_t>(v);
			if (!ms || *ms < 1 || *ms > 60000)
				throw TabError(fmt::format("commit-ms={}: expected a number of milliseconds from 1 to 60000", v));
			entry_.commit_ms = *ms;
		} else if (key == "boot") {
			entry_.boot = parse_boot_policy(needs(key, value, "boot=keep, boot=rollback or boot=rollback-to=@MARK"));
		} else if (key == "commit") {
			parse_commit(needs(key, value, "a systemd calendar spec, e.g. commit=daily (systemd.time(7))"));
		} else if (key == "mark-boot") {
			flag(key, value, entry_.mark_boot);
		} else if (key == "nofail") {
			flag(key, value, entry_.nofail);
		} else if (key == "noauto") {
			flag(key, value, entry_.noauto);
		} else if (key == "root") {
			flag(key, value, entry_.root);
		} else if (key == "x-initrd.attach") {
			flag(key, value, entry_.initrd);
		} else {
			throw TabError(fmt::format("unknown option '{}' (known: on-full=, commit-ms=, boot=, commit=, "
						   "mark-boot, nofail, noauto, root, x-initrd.attach)",
						   printable(key)));
		}
	}

	void parse_commit(const std::string &v)
	{
		for (const char c : v)
			if (c == '%' || c == '\\' || c == '$' || c == '\'' ||
			    static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
				throw TabError(fmt::format("commit={}: a calendar spec has no '{}' (see "
							   "systemd.time(7), e.g. commit=daily or "
							   "commit=\"Mon,Thu 03:00\")",
							   printable(v), printable(std::string(1, c))));
		entry_.commit = v;
	}

	void check_combinations() const
	{
		if (!entry_.commit.empty() && entry_.boot.kind != BootPolicy::Kind::keep)
			throw TabError("commit= needs boot=keep: a commit writes into the origin the history "
				       "that boot=rollback is there to throw away");
		if (entry_.on_full == "merge-oldest" && entry_.boot.kind != BootPolicy::Kind::keep)
			throw TabError("on-full=merge-oldest needs boot=keep: it commits the oldest history into "
				       "the origin, which boot=rollback is there to keep as it is");
		if (entry_.root && entry_.nofail)
			throw TabError("root and nofail cannot go together: the system cannot start without "
				       "its root device");
		if (entry_.root && entry_.noauto)
			throw TabError("root and noauto cannot go together: the initramfs always activates "
				       "the root device");
	}

	TabEntry &entry_;
	std::set<std::string> seen_;
};

} // namespace

std::string DeviceSpec::node() const
{
	for (const Tag &tag : tags)
		if (tag.kind == kind)
			return std::string(tag.link_dir) + udev_encode(value);
	return value;
}

std::optional<std::string> name_problem(std::string_view name)
{
	if (name.empty())
		return "the name is empty";
	if (name.size() > dm_name_max)
		return fmt::format("the name is {} bytes long; device-mapper takes at most {}", name.size(),
				   dm_name_max);
	if (name == "." || name == "..")
		return fmt::format("'{}' cannot be a device name (/dev/mapper/{} is a directory)", name, name);
	if (name.find('/') != std::string_view::npos)
		return fmt::format("name '{}' contains '/', which device-mapper names cannot", name);
	if (name.find(':') != std::string_view::npos)
		return fmt::format("name '{}' contains ':', which separates a name from its value on the "
				   "kernel command line",
				   name);
	if (name[0] == '-')
		return fmt::format("name '{}' starts with '-' (deltalogctl would read it as an option)", name);
	if (has_control(name))
		return fmt::format("name '{}' contains control characters", printable(name));
	return std::nullopt;
}

std::optional<std::string> label_problem(std::string_view label)
{
	if (label.empty() || label.size() > label_max)
		return fmt::format("a mark label is 1 to {} characters, '{}' has {}", label_max,
				   printable(label), label.size());
	for (const char c : label) {
		const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				c == '.' || c == '_' || c == ':' || c == '-';
		if (!ok)
			return fmt::format("mark label '{}' has '{}': labels are letters, digits and ._:-",
					   printable(label), printable(std::string(1, c)));
	}
	return std::nullopt;
}

BootPolicy parse_boot_policy(std::string_view value)
{
	constexpr std::string_view rollback_to = "rollback-to=";
	const std::string v(value);
	if (v == "keep")
		return {BootPolicy::Kind::keep, {}};
	if (v == "rollback")
		return {BootPolicy::Kind::rollback, {}};
	if (v.rfind(rollback_to, 0) != 0)
		throw TabError(fmt::format("boot={}: expected boot=keep, boot=rollback or boot=rollback-to=@MARK",
					   printable(v)));
	const std::string mark = v.substr(rollback_to.size());
	if (mark.empty() || mark[0] != '@')
		throw TabError(fmt::format("boot={}: expected boot=rollback-to=@MARK, a mark's label after '@'", v));
	if (const auto problem = label_problem(mark.substr(1)))
		throw TabError(fmt::format("boot={}: {}", v, *problem));
	return {BootPolicy::Kind::rollback_to, mark};
}

std::optional<TabEntry> parse_tab_line(std::string_view line, const std::string &where)
{
	std::size_t first = 0;
	while (first < line.size() && is_blank(line[first]))
		first++;
	if (first == line.size() || line[first] == '#')
		return std::nullopt;

	const std::vector<std::string_view> fields = split_outside_quotes(line, is_blank, false);
	if (fields.size() < 3)
		throw TabError(fmt::format("expected NAME ORIGIN DELTA [OPTIONS], found {} field{}", fields.size(),
					   fields.size() == 1 ? "" : "s"));
	if (fields.size() > 4)
		throw TabError(fmt::format("expected NAME ORIGIN DELTA [OPTIONS], found {} fields: options are "
					   "one field, separated by commas without blanks (quote a value "
					   "that has blanks)",
					   fields.size()));
	TabEntry entry;
	entry.where = where;
	entry.name = unquote(fields[0]);
	if (const auto problem = name_problem(entry.name))
		throw TabError(*problem);
	entry.origin = parse_device(fields[1], "ORIGIN");
	entry.delta = parse_device(fields[2], "DELTA");
	if (device_unit(entry.origin.node()) == device_unit(entry.delta.node()))
		throw TabError(fmt::format("ORIGIN and DELTA are the same device ({}): the log needs a device "
					   "of its own",
					   entry.origin.text));
	if (fields.size() == 4 && unquote(fields[3]) != "-" && unquote(fields[3]) != "none")
		OptionParser(entry).parse(fields[3]);
	return entry;
}

TabContents parse_tab(std::string_view text, const std::string &file)
{
	TabContents out;
	std::map<std::string, std::size_t> names;	// name -> line
	std::size_t root_line = 0;
	std::size_t number = 0;
	std::size_t pos = 0;
	while (pos < text.size()) {
		const std::size_t end = std::min(text.find('\n', pos), text.size());
		const std::string_view line = text.substr(pos, end - pos);
		pos = end + 1;
		number++;
		const std::string where = fmt::format("{}:{}", file, number);
		try {
			auto entry = parse_tab_line(line, where);
			if (!entry)
				continue;
			if (const auto it = names.find(entry->name); it != names.end())
				throw TabError(fmt::format("'{}' is already defined on line {}",
							   entry->name, it->second));
			if (entry->root && root_line)
				throw TabError(fmt::format("a second root device: line {} already has the option root",
							   root_line));
			names.emplace(entry->name, number);
			if (entry->root)
				root_line = number;
			out.entries.push_back(std::move(*entry));
		} catch (const TabError &e) {
			out.errors.push_back(fmt::format("{}: {}", where, e.what()));
		}
	}
	return out;
}

} // namespace deltalogctl::tab
