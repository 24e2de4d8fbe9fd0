// deltalog-generator (systemd/generator), run as systemd runs it, on the
// cases in tests/unit/generator/<case>/:
//   deltalogtab      the tab file (DELTALOG_TAB); may be missing
//   cmdline          the kernel command line (SYSTEMD_PROC_CMDLINE); may be missing
//   initrd           present: run as in the initramfs (SYSTEMD_IN_INITRD=1)
//   expected/        the units and links it must write, exactly
//   expected.stderr  what it must say (the bad lines)
// The tab's path shows in the units; it is written /etc/deltalogtab in the
// expected files. DLOG_REGENERATE=1 writes the outputs as the expected files
// (check them with git diff).
// Then `systemd-analyze verify` on the units of every case, where it is
// installed, with the deltalogctl of this build in ExecStart=: they pass,
// but those of the fail-* cases, which must not.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

const fs::path cases_dir = DLOG_GENERATOR_CASES;

std::string slurp(const fs::path &p)
{
	std::ifstream in(p, std::ios::binary);
	std::ostringstream s;
	s << in.rdbuf();
	return s.str();
}

std::string replace_all(std::string text, const std::string &from, const std::string &to)
{
	for (std::size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size())
		text.replace(pos, from.size(), to);
	return text;
}

// This process's scratch directory, removed at exit.
struct Scratch {
	fs::path dir = fs::temp_directory_path() / ("dlog-generator-" + std::to_string(getpid()));
	~Scratch()
	{
		std::error_code ec;
		fs::remove_all(dir, ec);
	}
};
const Scratch scratch;

// A fresh directory in the scratch directory.
fs::path fresh_dir(const std::string &name)
{
	const fs::path dir = scratch.dir / name;
	fs::remove_all(dir);
	fs::create_directories(dir);
	return dir;
}

// Runs argv with extra environment; stderr into err_file (when not empty)
// and stdout too. Returns the exit status (-1 if it did not exit).
int run(const std::vector<std::string> &argv, const std::map<std::string, std::string> &env,
	const fs::path &err_file)
{
	const pid_t pid = fork();
	if (pid == 0) {
		for (const auto &[k, v] : env)
			setenv(k.c_str(), v.c_str(), 1);
		if (!err_file.empty()) {
			const int fd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		std::vector<char *> args;
		for (const std::string &a : argv)
			args.push_back(const_cast<char *>(a.c_str()));
		args.push_back(nullptr);
		execvp(args[0], args.data());
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Generated {
	fs::path dir;
	std::string stderr_text;
	int status = 0;
};

Generated generate(const std::string &name, const std::string &deltalogctl)
{
	const fs::path c = cases_dir / name;
	Generated g;
	g.dir = fresh_dir(name + "/units");
	const fs::path err = g.dir.parent_path() / "stderr";
	std::map<std::string, std::string> env = {
		{"DELTALOG_TAB", (c / "deltalogtab").string()},
		{"SYSTEMD_PROC_CMDLINE", fs::exists(c / "cmdline") ? slurp(c / "cmdline") : std::string(" ")},
		{"SYSTEMD_IN_INITRD", fs::exists(c / "initrd") ? "1" : "0"},
		{"DELTALOG_CTL", deltalogctl},
	};
	g.status = run({DLOG_GENERATOR, g.dir.string(), g.dir.string() + ".early", g.dir.string() + ".late"},
		       env, err);
	g.stderr_text = replace_all(slurp(err), (c / "deltalogtab").string(), "/etc/deltalogtab");
	return g;
}

// Every file and link below dir: relative path -> contents ("-> target"
// for a link), the tab's path written /etc/deltalogtab.
std::map<std::string, std::string> tree(const fs::path &dir, const fs::path &tab)
{
	std::map<std::string, std::string> files;
	if (!fs::exists(dir))
		return files;
	for (const auto &entry : fs::recursive_directory_iterator(dir)) {
		const std::string rel = entry.path().lexically_relative(dir).string();
		if (entry.is_symlink())
			files[rel] = "-> " + fs::read_symlink(entry.path()).string();
		else if (entry.is_regular_file())
			files[rel] = replace_all(slurp(entry.path()), tab.string(), "/etc/deltalogtab");
	}
	return files;
}

void regenerate(const std::string &name, const Generated &g)
{
	const fs::path c = cases_dir / name;
	fs::remove_all(c / "expected");
	fs::create_directories(c / "expected");
	for (const auto &[rel, text] : tree(g.dir, c / "deltalogtab")) {
		const fs::path p = c / "expected" / rel;
		fs::create_directories(p.parent_path());
		if (text.rfind("-> ", 0) == 0) {
			fs::create_symlink(text.substr(3), p);
		} else {
			std::ofstream(p, std::ios::binary) << text;
		}
	}
	std::ofstream(c / "expected.stderr", std::ios::binary) << g.stderr_text;
}

std::vector<std::string> case_names()
{
	std::vector<std::string> names;
	for (const auto &entry : fs::directory_iterator(cases_dir))
		if (entry.is_directory())
			names.push_back(entry.path().filename().string());
	std::sort(names.begin(), names.end());
	return names;
}

} // namespace

// One test over all the cases (found when it runs: a new case needs no
// new registration with ctest).
TEST(Generator, WritesTheExpectedUnitsForEveryCase)
{
	const std::vector<std::string> names = case_names();
	EXPECT_GE(names.size(), 8u);
	for (const std::string &name : names) {
		SCOPED_TRACE("case " + name);
		const fs::path c = cases_dir / name;
		const Generated g = generate(name, "/usr/sbin/deltalogctl");
		ASSERT_EQ(g.status, 0) << g.stderr_text;
		if (const char *r = std::getenv("DLOG_REGENERATE"); r && std::string(r) == "1")
			regenerate(name, g);
		EXPECT_EQ(g.stderr_text, slurp(c / "expected.stderr"));
		const auto got = tree(g.dir, c / "deltalogtab");
		const auto want = tree(c / "expected", c / "deltalogtab");
		for (const auto &[rel, text] : want) {
			const auto it = got.find(rel);
			if (it == got.end())
				ADD_FAILURE() << "missing " << rel;
			else
				EXPECT_EQ(it->second, text) << rel;
		}
		for (const auto &[rel, text] : got)
			if (!want.count(rel))
				ADD_FAILURE() << "unexpected " << rel << ":\n" << text;
		// Nothing in the early and late directories.
		for (const char *other : {".early", ".late"})
			EXPECT_TRUE(!fs::exists(g.dir.string() + other) || fs::is_empty(g.dir.string() + other));
	}
}

namespace {

const char *systemd_analyze = "/usr/bin/systemd-analyze";

// systemd-analyze verify on every unit the case generates; its exit status.
int verify(const std::string &name, const std::string &deltalogctl, std::string &output)
{
	const Generated g = generate(name, deltalogctl);
	EXPECT_EQ(g.status, 0);
	std::vector<std::string> argv = {systemd_analyze, "verify", "--man=no"};
	for (const auto &entry : fs::directory_iterator(g.dir))
		if (entry.is_regular_file())
			argv.push_back(entry.path().string());
	if (argv.size() == 3)
		return 0;
	const fs::path out = g.dir.parent_path() / "verify";
	const int status = run(argv, {{"SYSTEMD_UNIT_PATH", g.dir.string() + ":"}, {"SYSTEMD_LOG_COLOR", "0"}}, out);
	output = slurp(out);
	return status;
}

bool have_systemd_analyze()
{
	return access(systemd_analyze, X_OK) == 0;
}

} // namespace

TEST(GeneratorVerify, EveryCasePassesSystemdAnalyzeVerify)
{
	if (!have_systemd_analyze())
		GTEST_SKIP() << "systemd-analyze is not installed (tools/deps installs systemd)";
	for (const std::string &name : case_names()) {
		if (name.rfind("fail-", 0) == 0)
			continue;
		std::string output;
		EXPECT_EQ(verify(name, DLOG_DELTALOGCTL, output), 0) << name << ":\n" << output;
		// verify says little when all is well, but nothing about our units.
		EXPECT_EQ(output.find("deltalog"), std::string::npos) << name << ":\n" << output;
	}
}

TEST(GeneratorVerify, CatchesAMissingCommand)
{
	if (!have_systemd_analyze())
		GTEST_SKIP() << "systemd-analyze is not installed (tools/deps installs systemd)";
	std::string output;
	EXPECT_NE(verify("main-system", "/nonexistent/deltalogctl", output), 0);
	EXPECT_NE(output.find("/nonexistent/deltalogctl"), std::string::npos) << output;
}

// The fail-* cases write units that systemd refuses (a calendar spec the
// tab parser lets through: systemd is the judge of those).
TEST(GeneratorVerify, FailCasesFailSystemdAnalyzeVerify)
{
	if (!have_systemd_analyze())
		GTEST_SKIP() << "systemd-analyze is not installed (tools/deps installs systemd)";
	for (const std::string &name : case_names()) {
		if (name.rfind("fail-", 0) != 0)
			continue;
		std::string output;
		EXPECT_NE(verify(name, DLOG_DELTALOGCTL, output), 0) << name << ":\n" << output;
	}
}
