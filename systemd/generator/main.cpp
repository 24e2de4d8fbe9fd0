// deltalog-generator: /etc/deltalogtab and the kernel command line into
// systemd units, early at boot and at every `systemctl daemon-reload`
// (systemd.generator(7)).
//
//   deltalog-generator NORMAL_DIR [EARLY_DIR LATE_DIR]
//
// Units go to NORMAL_DIR. A bad line of the tab or a bad parameter is
// reported on stderr (the journal) and skipped; the generator fails only
// when it cannot write its units. For tests, the environment replaces what
// it reads:
//   DELTALOG_TAB          the tab file (default /etc/deltalogtab)
//   SYSTEMD_PROC_CMDLINE  the kernel command line (as systemd honours it)
//   SYSTEMD_IN_INITRD     1 or 0: in the initramfs or not (default: whether
//                         /etc/initrd-release exists, as systemd decides)
//   DELTALOG_CTL          the deltalogctl the units run (default: where
//                         make install puts it)
#include "generator/units.hpp"
#include "tab/cmdline.hpp"
#include "tab/deltalogtab.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#ifndef DELTALOG_SBINDIR
#define DELTALOG_SBINDIR "/usr/local/sbin"
#endif

namespace fs = std::filesystem;
using namespace deltalogctl;

namespace {

constexpr const char *me = "deltalog-generator";

std::string env_or(const char *name, const std::string &fallback)
{
	const char *v = std::getenv(name);
	return v && *v ? std::string(v) : fallback;
}

// The file's contents; nullopt (and a message unless it does not exist)
// when it cannot be read.
std::optional<std::string> read_file(const std::string &path, bool quiet_if_missing)
{
	std::ifstream in(path, std::ios::binary);
	if (!in) {
		const int err = errno;
		if (!(quiet_if_missing && err == ENOENT))
			std::cerr << fmt::format("{}: cannot read {}: {}\n", me, path, std::strerror(err));
		return std::nullopt;
	}
	std::ostringstream text;
	text << in.rdbuf();
	return text.str();
}

bool in_initrd()
{
	if (const char *v = std::getenv("SYSTEMD_IN_INITRD"); v && *v)
		return std::string_view(v) == "1" || std::string_view(v) == "yes" || std::string_view(v) == "true";
	return fs::exists("/etc/initrd-release");
}

void write_file(const fs::path &dir, const generator::GeneratedFile &file)
{
	const fs::path path = dir / file.path;
	fs::create_directories(path.parent_path());
	fs::remove(path);
	if (!file.link_to.empty()) {
		fs::create_symlink(file.link_to, path);
		return;
	}
	std::ofstream out(path, std::ios::binary);
	out << file.text;
	out.close();
	if (!out)
		throw fs::filesystem_error("cannot write", path, std::make_error_code(std::errc::io_error));
}

void report(const std::vector<std::string> &errors)
{
	for (const std::string &e : errors)
		std::cerr << fmt::format("{}: {} (skipped)\n", me, e);
}

int run(const fs::path &dest)
{
	const bool initrd = in_initrd();
	const char *cmdline_env = std::getenv("SYSTEMD_PROC_CMDLINE");
	const std::string cmdline =
		cmdline_env ? std::string(cmdline_env) : read_file("/proc/cmdline", false).value_or("");
	const tab::CmdlineConfig config = tab::parse_cmdline(cmdline, initrd);
	std::vector<std::string> errors = config.errors;
	if (!config.enabled) {
		report(errors);
		return 0;
	}

	generator::GeneratorInput input;
	input.in_initrd = initrd;
	input.tab_path = fs::absolute(env_or("DELTALOG_TAB", "/etc/deltalogtab")).lexically_normal();
	input.deltalogctl = env_or("DELTALOG_CTL", DELTALOG_SBINDIR "/deltalogctl");
	tab::TabContents tab;
	if (config.use_tab)
		if (const auto text = read_file(input.tab_path, true))
			tab = tab::parse_tab(*text, input.tab_path);
	errors.insert(errors.end(), tab.errors.begin(), tab.errors.end());
	input.entries = tab::apply_cmdline(std::move(tab.entries), config, errors);
	report(errors);

	for (const generator::GeneratedFile &file : generator::generate_units(input))
		write_file(dest, file);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 4) {
		std::cerr << fmt::format("usage: {} NORMAL_DIR [EARLY_DIR LATE_DIR]\n", me);
		return 2;
	}
	try {
		return run(argv[1]);
	} catch (const std::exception &e) {
		std::cerr << fmt::format("{}: {}\n", me, e.what());
		return 1;
	}
}
