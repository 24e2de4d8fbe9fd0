// What the initramfs brings up (manager/src/tab/boot.cpp) and
// `deltalogctl boot-root`, which does it for initramfs-tools.
#include "tab/boot.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace deltalogctl::tab;

namespace {

const std::string tab = "data /dev/sdd /dev/sde -\n"
			"usr PARTLABEL=usr PARTLABEL=usr-delta x-initrd.attach,boot=rollback\n"
			"root UUID=0b5e PARTLABEL=root-delta root,on-full=merge-oldest,commit-ms=500,mark-boot\n";

std::vector<std::string> names(const InitramfsPlan &plan)
{
	std::vector<std::string> n;
	for (const TabEntry &e : plan.entries)
		n.push_back(e.name);
	return n;
}

using Args = std::vector<std::string>;

} // namespace

TEST(InitramfsPlan, TheRootFirstThenXInitrdAttachNothingElse)
{
	const InitramfsPlan plan = plan_initramfs(tab, "/etc/deltalogtab", "root=/dev/mapper/root");
	EXPECT_TRUE(plan.enabled);
	EXPECT_TRUE(plan.errors.empty());
	EXPECT_EQ(names(plan), (Args{"root", "usr"}));
	EXPECT_EQ(activate_args(plan.entries[0]),
		  (Args{"activate", "root", "/dev/disk/by-uuid/0b5e", "/dev/disk/by-partlabel/root-delta",
			"--on-full", "merge-oldest", "--commit-ms", "500"}));
	EXPECT_EQ(activate_args(plan.entries[1]),
		  (Args{"activate", "usr", "/dev/disk/by-partlabel/usr", "/dev/disk/by-partlabel/usr-delta",
			"--rollback-all"}));
}

TEST(InitramfsPlan, OneTimeRollbackFromTheCommandLine)
{
	const InitramfsPlan plan =
		plan_initramfs(tab, "/etc/deltalogtab", "quiet deltalog.rollback=@last-good-boot");
	ASSERT_EQ(names(plan), (Args{"root", "usr"}));
	EXPECT_TRUE(plan.entries[0].boot.once);
	EXPECT_EQ(activate_args(plan.entries[0]).back(), "@last-good-boot");
	EXPECT_EQ(activate_args(plan.entries[0]).end()[-2], "--rollback-to");
}

TEST(InitramfsPlan, RdParametersCountHere)
{
	const InitramfsPlan plan = plan_initramfs(tab, "/etc/deltalogtab", "rd.deltalog.boot=rollback");
	ASSERT_FALSE(plan.entries.empty());
	EXPECT_EQ(plan.entries[0].boot.kind, BootPolicy::Kind::rollback);
	EXPECT_EQ(activate_args(plan.entries[0]).back(), "--rollback-all");
	EXPECT_FALSE(plan_initramfs(tab, "/etc/deltalogtab", "rd.deltalog=0").enabled);
}

TEST(InitramfsPlan, EntryOnTheCommandLineAndNoTab)
{
	const InitramfsPlan plan = plan_initramfs(
		"", "/etc/deltalogtab",
		"deltalog.entry=\"root /dev/vda /dev/vdb root,boot=rollback-to=@clean\" deltalog.entry=\"x /dev/a /dev/b\"");
	ASSERT_EQ(names(plan), (Args{"root"}));
	EXPECT_EQ(activate_args(plan.entries[0]),
		  (Args{"activate", "root", "/dev/vda", "/dev/vdb", "--rollback-to", "@clean"}));
}

TEST(InitramfsPlan, BadLinesAreReportedAndSkipped)
{
	const InitramfsPlan plan =
		plan_initramfs("root /dev/vda /dev/vdb root,nofial\nusr /dev/vdc /dev/vdd x-initrd.attach\n",
			       "/etc/deltalogtab", "deltalog.bogus=1");
	EXPECT_EQ(names(plan), (Args{"usr"}));
	ASSERT_EQ(plan.errors.size(), 2u);
	EXPECT_NE(plan.errors[0].find("deltalog.bogus"), std::string::npos) << plan.errors[0];
	EXPECT_EQ(plan.errors[1].rfind("/etc/deltalogtab:1: ", 0), 0u) << plan.errors[1];
}

TEST(InitramfsPlan, DeltalogZeroTurnsItOff)
{
	const InitramfsPlan plan = plan_initramfs(tab, "/etc/deltalogtab", "deltalog=0");
	EXPECT_FALSE(plan.enabled);
	EXPECT_TRUE(plan.entries.empty());
}

// The command itself, where it needs no device: --dry-run, --print-root,
// usage errors.
namespace {

struct Ran {
	int status = -1;
	std::string out;	// stdout and stderr
};

Ran run_ctl(const Args &args)
{
	std::string cmd = DLOG_DELTALOGCTL;
	for (const std::string &a : args)
		cmd += " '" + a + "'";
	cmd += " 2>&1";
	Ran r;
	FILE *p = ::popen(cmd.c_str(), "r");
	if (!p)
		return r;
	std::array<char, 4096> buf;
	std::size_t n;
	while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
		r.out.append(buf.data(), n);
	const int st = ::pclose(p);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return r;
}

// A file of the test's own: ctest runs the tests in parallel, and a file
// rewritten while another test's deltalogctl reads it reads empty.
std::string tab_file()
{
	const std::string path = ::testing::TempDir() + "deltalogtab-boot-root-" +
				 ::testing::UnitTest::GetInstance()->current_test_info()->name();
	std::ofstream(path) << tab;
	return path;
}

} // namespace

TEST(BootRootCommand, DryRunPrintsTheActivations)
{
	const Ran r = run_ctl({"boot-root", "--tab", tab_file(), "--cmdline", "deltalog.rollback=#12", "--dry-run"});
	EXPECT_EQ(r.status, 0) << r.out;
	EXPECT_EQ(r.out, "deltalogctl activate root /dev/disk/by-uuid/0b5e /dev/disk/by-partlabel/root-delta "
			 "--on-full merge-oldest --commit-ms 500 --rollback-to '#12'\n"
			 "deltalogctl activate usr /dev/disk/by-partlabel/usr /dev/disk/by-partlabel/usr-delta "
			 "--rollback-all\n");
}

TEST(BootRootCommand, PrintRoot)
{
	const Ran r = run_ctl({"boot-root", "--tab", tab_file(), "--cmdline", "", "--print-root"});
	EXPECT_EQ(r.status, 0) << r.out;
	EXPECT_EQ(r.out, "/dev/mapper/root\n");
	const Ran none = run_ctl({"boot-root", "--tab", tab_file(), "--cmdline", "deltalog=0", "--print-root"});
	EXPECT_EQ(none.status, 0) << none.out;
	EXPECT_EQ(none.out, "");
}

TEST(BootRootCommand, NothingToDo)
{
	const std::string path = ::testing::TempDir() + "deltalogtab-boot-root-none";
	std::ofstream(path) << "data /dev/sdd /dev/sde -\n";
	const Ran r = run_ctl({"boot-root", "--tab", path, "--cmdline", ""});
	EXPECT_EQ(r.status, 0) << r.out;
	EXPECT_NE(r.out.find("no line of " + path + " has the option root or x-initrd.attach"), std::string::npos)
		<< r.out;
	const Ran off = run_ctl({"boot-root", "--tab", tab_file(), "--cmdline", "deltalog=0"});
	EXPECT_EQ(off.status, 0) << off.out;
	EXPECT_NE(off.out.find("deltalog=0"), std::string::npos) << off.out;
}

TEST(BootRootCommand, UsageErrors)
{
	EXPECT_EQ(run_ctl({"boot-root", "--wait", "soon"}).status, 2);
	EXPECT_EQ(run_ctl({"boot-root", "--wait", "-1"}).status, 2);
	EXPECT_EQ(run_ctl({"boot-root", "--dry-run", "--print-root"}).status, 2);
	EXPECT_EQ(run_ctl({"boot-root", "--tab", "/nonexistent/tab", "--dry-run"}).status, 1);
}

// What std::stoul took and the tab's commit-ms= never did: the same message
// as for any other bad --wait, exit 2.
TEST(BootRootCommand, WaitTakesOnlyPlainNumbers)
{
	for (const std::string v : {"+5", " 5", "5 ", "-0", "0x10", "", "3601", "4294967296", "18446744073709551616"}) {
		const Ran r = run_ctl({"boot-root", "--wait", v, "--tab", "/nonexistent/tab", "--dry-run"});
		EXPECT_EQ(r.status, 2) << "'" << v << "': " << r.out;
		EXPECT_EQ(r.out.rfind("deltalogctl: boot-root: --wait takes 0 to 3600 seconds, not '" + v + "'\n", 0), 0u)
			<< r.out;
	}
	for (const std::string v : {"0", "3600", "030"}) {	// past --wait, to the missing tab
		const Ran r = run_ctl({"boot-root", "--wait", v, "--tab", "/nonexistent/tab", "--dry-run"});
		EXPECT_EQ(r.status, 1) << "'" << v << "': " << r.out;
	}
}
