// deltalogctl boot-root [--tab FILE] [--cmdline TEXT] [--wait SEC]
//                       [--dry-run | --print-root]
//
// What the initramfs (initramfs-tools' local-top script) runs before it
// mounts the root: every deltalogtab line with the option root or
// x-initrd.attach, as the kernel command line changes it, activated with
// its boot policy, the same `deltalogctl activate` that deltalog-generator
// puts in deltalog@NAME.service under dracut.
#include "base/command.hpp"
#include "base/errors.hpp"
#include "base/number.hpp"
#include "dm.hpp"
#include "tab/boot.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace deltalogctl {

namespace {

namespace fs = std::filesystem;
using tab::BootPolicy;
using tab::TabEntry;

constexpr const char *default_tab = "/etc/deltalogtab";

void declare(po::options_description &options)
{
	options.add_options()
		("tab", po::value<std::string>()->value_name("FILE"), "the tab file (default /etc/deltalogtab)")
		("cmdline", po::value<std::string>()->value_name("TEXT"),
		 "the kernel command line (default: /proc/cmdline)")
		("wait", po::value<std::string>()->value_name("SEC"),
		 "how long to wait for the devices to appear (0-3600, default 30)")
		("dry-run", po::bool_switch(), "print what would be activated, do nothing")
		("print-root", po::bool_switch(),
		 "print the root's protected device (/dev/mapper/NAME), or nothing; do nothing else");
}

// The file's text; "" when it does not exist.
std::string read_text(const std::string &path, bool must_exist)
{
	std::ifstream in(path, std::ios::binary);
	if (!in) {
		if (!must_exist && !fs::exists(path))
			return {};
		throw Failure(path, errno_text("cannot read it", errno));
	}
	std::ostringstream text;
	text << in.rdbuf();
	return text.str();
}

// A word as a shell reads it back.
std::string shell_quote(const std::string &word)
{
	if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						    "0123456789@%+=:,./-_") == std::string::npos)
		return word;
	std::string q = "'";
	for (const char c : word)
		q += c == '\'' ? std::string("'\\''") : std::string(1, c);
	return q + "'";
}

std::string policy_text(const BootPolicy &p)
{
	switch (p.kind) {
	case BootPolicy::Kind::keep:
		return "keep";
	case BootPolicy::Kind::rollback:
		return "rollback";
	case BootPolicy::Kind::rollback_to:
		return "rollback to " + p.to;
	}
	return "?";
}

// Waits up to `seconds` for the device nodes of e; the first one missing
// then, or nullopt.
std::optional<std::string> wait_for_devices(const TabEntry &e, unsigned seconds)
{
	using clock = std::chrono::steady_clock;
	const auto deadline = clock::now() + std::chrono::seconds(seconds);
	bool said = false;
	for (;;) {
		std::optional<std::string> missing;
		for (const std::string &node : {e.origin.node(), e.delta.node()})
			if (!missing && !fs::exists(node))
				missing = node;
		if (!missing || clock::now() >= deadline)
			return missing;
		if (!said) {
			fmt::print("deltalog: {}: waiting up to {} s for {}\n", e.name, seconds, *missing);
			std::fflush(stdout);
			said = true;
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	}
}

void activate(const TabEntry &e, unsigned wait_s)
{
	if (dm::info(e.name)) {
		fmt::print("deltalog: {}: {} is already active\n", e.name, dm::device_path(e.name));
		return;
	}
	if (const auto missing = wait_for_devices(e, wait_s))
		throw Failure(e.name, fmt::format("{} did not appear within {} s", *missing, wait_s),
			      "Check the devices of its line in " + std::string(default_tab) +
				      " (or deltalog.entry= on the kernel command line).");
	if (e.boot.kind != BootPolicy::Kind::keep)
		fmt::print("deltalog: {}: boot policy: {}{}\n", e.name, policy_text(e.boot),
			   e.boot.once ? " (from the kernel command line, for this boot)" : "");
	std::vector<std::string> args = tab::activate_args(e);
	const Command &cmd = *find_command(args.front());
	args.erase(args.begin());
	try {
		cmd.run(parse(cmd, args));
	} catch (const UsageError &err) {
		throw Failure(e.name, fmt::format("{}: {}", e.where, err.what()));
	} catch (const Failure &err) {
		const std::string object = err.object().empty() || err.object() == e.name ? "" : err.object() + ": ";
		throw Failure(e.name, object + err.what(), err.hint());
	}
}

unsigned wait_seconds(const Args &args)
{
	const auto v = args.opt("wait");
	if (!v)
		return 30;
	const auto s = parse_number<unsigned>(*v);
	if (!s || *s > 3600)
		throw UsageError(fmt::format("--wait takes 0 to 3600 seconds, not '{}'", *v));
	return *s;
}

int run(const Args &args)
{
	const unsigned wait_s = wait_seconds(args);
	if (args.flag("dry-run") && args.flag("print-root"))
		throw UsageError("--dry-run and --print-root exclude each other");
	const std::string tab_path = args.opt("tab").value_or(default_tab);
	const std::string tab_text = read_text(tab_path, args.opt("tab").has_value());
	const std::string cmdline = args.opt("cmdline") ? *args.opt("cmdline") : read_text("/proc/cmdline", true);
	const tab::InitramfsPlan plan = tab::plan_initramfs(tab_text, tab_path, cmdline);
	for (const std::string &e : plan.errors)
		fmt::print(stderr, "deltalog: {} (skipped)\n", e);

	if (args.flag("print-root")) {
		if (plan.enabled && !plan.entries.empty() && plan.entries.front().root)
			fmt::print("{}\n", dm::device_path(plan.entries.front().name));
		return 0;
	}
	if (!plan.enabled) {
		fmt::print("deltalog: deltalog=0 on the kernel command line: nothing is activated\n");
		return 0;
	}
	if (plan.entries.empty()) {
		fmt::print("deltalog: no line of {} has the option root or x-initrd.attach: nothing to do\n",
			   tab_path);
		return 0;
	}
	if (args.flag("dry-run")) {
		for (const TabEntry &e : plan.entries) {
			std::string line = "deltalogctl";
			for (const std::string &a : tab::activate_args(e))
				line += " " + shell_quote(a);
			fmt::print("{}\n", line);
		}
		return 0;
	}
	int failed = 0;
	std::string first_failure;
	for (const TabEntry &e : plan.entries) {
		try {
			activate(e, wait_s);
		} catch (const Failure &err) {
			// Say it now and go on with the other lines; the exit status
			// fails the boot of the root.
			fmt::print(stderr, "deltalogctl: boot-root {}: {}\n", err.object(), err.what());
			if (!err.hint().empty())
				fmt::print(stderr, "{}\n", err.hint());
			++failed;
		}
	}
	return failed ? 1 : 0;
}

} // namespace

extern const Command boot_root_command = {
	"boot-root",
	"boot-root [--tab FILE] [--cmdline TEXT] [--wait SEC] [--dry-run | --print-root]",
	"in the initramfs: activate the root (and x-initrd.attach) devices of deltalogtab",
	R"(What the initramfs runs before it mounts the root filesystem (the
initramfs-tools script; under dracut, deltalog-generator's units do the
same). Every line of /etc/deltalogtab with the option root or
x-initrd.attach, as the kernel command line changes it (deltalog.*,
rd.deltalog.*: deltalogtab(5)), is activated with its boot policy:
boot=keep as it was, boot=rollback with all its history thrown away,
boot=rollback-to=@MARK or a one-time deltalog.rollback=T rolled back to
that point first. It waits up to --wait seconds for the devices to appear.

A commit that a crash interrupted counts as done: boot=rollback goes back
to its end, and the kernel finishes it (activate --rollback-all).

Exit status 1 when a device could not be activated: the message says why
and the initramfs stops there, rather than mount the unprotected origin.

--print-root prints /dev/mapper/NAME of the root line (nothing without
one); --dry-run prints the 'deltalogctl activate' command of each line.

Examples:
  deltalogctl boot-root --dry-run
  deltalogctl boot-root --cmdline 'root=/dev/mapper/root deltalog.rollback=@last-good-boot' --dry-run
)",
	{},
	declare,
	run,
};

} // namespace deltalogctl
