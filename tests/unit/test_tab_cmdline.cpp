// The kernel command line's deltalog.* / rd.deltalog.* parameters
// (manager/src/tab/cmdline.cpp) and how they change deltalogtab's entries.
#include "tab/cmdline.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace deltalogctl::tab;

namespace {

std::vector<TabEntry> tab_entries(const std::string &text)
{
	TabContents tab = parse_tab(text, "/etc/deltalogtab");
	EXPECT_TRUE(tab.errors.empty());
	return tab.entries;
}

const std::string two = "root UUID=1 PARTLABEL=rootdelta root\n"
			"lab /dev/sdb /dev/sdc boot=rollback\n";

struct Applied {
	std::vector<TabEntry> entries;
	std::vector<std::string> errors;
};

Applied apply(const std::string &cmdline, bool initrd = false, const std::string &tab = two)
{
	const CmdlineConfig config = parse_cmdline(cmdline, initrd);
	Applied a;
	a.errors = config.errors;
	a.entries = apply_cmdline(tab_entries(tab), config, a.errors);
	return a;
}

const TabEntry &named(const Applied &a, const std::string &name)
{
	for (const TabEntry &e : a.entries)
		if (e.name == name)
			return e;
	throw std::runtime_error("no entry " + name);
}

} // namespace

TEST(Cmdline, SplitsLikeSystemd)
{
	EXPECT_EQ(split_cmdline("  ro quiet\troot=/dev/mapper/root \n"),
		  (std::vector<std::string>{"ro", "quiet", "root=/dev/mapper/root"}));
	EXPECT_EQ(split_cmdline("deltalog.entry=\"box /dev/sdb /dev/sdc nofail\" x=\"\""),
		  (std::vector<std::string>{"deltalog.entry=box /dev/sdb /dev/sdc nofail", "x="}));
	EXPECT_EQ(split_cmdline(""), std::vector<std::string>{});
}

TEST(Cmdline, Disable)
{
	EXPECT_TRUE(parse_cmdline("quiet", false).enabled);
	EXPECT_FALSE(parse_cmdline("deltalog=0", false).enabled);
	EXPECT_FALSE(parse_cmdline("deltalog=no", false).enabled);
	EXPECT_TRUE(parse_cmdline("deltalog=0 deltalog", false).enabled);	// the later one wins
	EXPECT_TRUE(parse_cmdline("rd.deltalog=0", false).enabled);		// rd.: initramfs only
	EXPECT_FALSE(parse_cmdline("rd.deltalog=0", true).enabled);
	EXPECT_FALSE(parse_cmdline("deltalog=off", true).enabled);		// both in the initramfs
	const CmdlineConfig bad = parse_cmdline("deltalog=maybe", false);
	EXPECT_TRUE(bad.enabled);
	EXPECT_EQ(bad.errors, (std::vector<std::string>{
				      "kernel command line: deltalog=maybe: expected 0 or 1 (no or yes)"}));
}

TEST(Cmdline, IgnoreTheTab)
{
	const Applied a = apply("deltalog.tab=0 deltalog.entry=\"box /dev/sdb /dev/sdc nofail\"");
	ASSERT_EQ(a.entries.size(), 1u);
	EXPECT_EQ(a.entries[0].name, "box");
	EXPECT_TRUE(a.entries[0].nofail);
	EXPECT_EQ(a.entries[0].where, "kernel command line");
}

TEST(Cmdline, EntryAddsOrReplaces)
{
	const Applied a = apply("deltalog.entry=\"lab /dev/sdx /dev/sdy boot=keep\" "
				"deltalog.entry=\"new /dev/sdd /dev/sde\"");
	ASSERT_EQ(a.entries.size(), 3u);
	EXPECT_EQ(named(a, "lab").origin.node(), "/dev/sdx");
	EXPECT_EQ(named(a, "lab").boot.kind, BootPolicy::Kind::keep);
	EXPECT_EQ(named(a, "new").delta.node(), "/dev/sde");
	EXPECT_TRUE(a.errors.empty());
}

TEST(Cmdline, BadEntries)
{
	const Applied a = apply("deltalog.entry=\"bad /dev/sdb\" deltalog.entry=\"other /dev/sdd /dev/sde root\" "
				"deltalog.entry=");
	EXPECT_EQ(a.entries.size(), 2u);
	EXPECT_EQ(a.errors, (std::vector<std::string>{
				    "kernel command line: deltalog.entry=: needs a value (deltalog.entry=...)",
				    "kernel command line: deltalog.entry=bad /dev/sdb: expected NAME ORIGIN DELTA "
				    "[OPTIONS], found 2 fields",
				    "kernel command line: deltalog.entry=other /dev/sdd /dev/sde root: a second root "
				    "device: 'root' (/etc/deltalogtab:1) has the option root",
			    }));
}

TEST(Cmdline, RollbackOfTheRootOrANamedDevice)
{
	const Applied a = apply("deltalog.rollback=@last-good-boot deltalog.rollback=lab:-2h");
	EXPECT_TRUE(a.errors.empty()) << a.errors[0];
	EXPECT_EQ(named(a, "root").boot.kind, BootPolicy::Kind::rollback_to);
	EXPECT_EQ(named(a, "root").boot.to, "@last-good-boot");
	EXPECT_TRUE(named(a, "root").boot.once);
	EXPECT_EQ(named(a, "lab").boot.to, "-2h");

	// A clock time: "09" names no device, so it is the root's time.
	const Applied clock = apply("deltalog.rollback=09:36");
	EXPECT_EQ(named(clock, "root").boot.to, "09:36");
	const Applied date = apply("deltalog.rollback=lab:2026-11-24T09:36");
	EXPECT_EQ(named(date, "lab").boot.to, "2026-11-24T09:36");
	const Applied seq = apply("rd.deltalog.rollback=#1234", true);
	EXPECT_EQ(named(seq, "root").boot.to, "#1234");
	// rd. outside the initramfs: not for us.
	EXPECT_EQ(named(apply("rd.deltalog.rollback=#1234"), "root").boot.kind, BootPolicy::Kind::keep);
}

TEST(Cmdline, BadRollbacks)
{
	const Applied a = apply("deltalog.rollback=lab:yesterday deltalog.rollback");
	EXPECT_EQ(named(a, "lab").boot.kind, BootPolicy::Kind::rollback);
	ASSERT_EQ(a.errors.size(), 2u);
	EXPECT_EQ(a.errors[0], "kernel command line: deltalog.rollback: needs a value (deltalog.rollback=...)");
	EXPECT_EQ(a.errors[1].rfind("kernel command line: deltalog.rollback=lab:yesterday: ", 0), 0u) << a.errors[1];

	const std::string no_root = "lab /dev/sdb /dev/sdc\n";
	const Applied r = apply("deltalog.rollback=@x deltalog.rollback=bxo:@x", false, no_root);
	EXPECT_EQ(r.errors, (std::vector<std::string>{
				    "kernel command line: deltalog.rollback=@x: no device has the option root; name "
				    "one: NAME:VALUE",
				    "kernel command line: deltalog.rollback=bxo:@x: no device is named 'bxo', and no "
				    "device has the option root",
			    }));
}

TEST(Cmdline, BootPolicyForThisBoot)
{
	const Applied a = apply("deltalog.boot=lab:keep deltalog.boot=rollback-to=@clean");
	EXPECT_TRUE(a.errors.empty());
	EXPECT_EQ(named(a, "lab").boot.kind, BootPolicy::Kind::keep);
	EXPECT_TRUE(named(a, "lab").boot.once);
	EXPECT_EQ(named(a, "root").boot.kind, BootPolicy::Kind::rollback_to);
	EXPECT_EQ(named(a, "root").boot.to, "@clean");

	// A rollback wins over a boot policy, whatever the order.
	const Applied both = apply("deltalog.rollback=lab:@x deltalog.boot=lab:keep");
	EXPECT_EQ(named(both, "lab").boot.to, "@x");

	const Applied bad = apply("deltalog.boot=lab:reset");
	EXPECT_EQ(bad.errors, (std::vector<std::string>{
				      "kernel command line: deltalog.boot=lab:reset: boot=reset: expected boot=keep, "
				      "boot=rollback or boot=rollback-to=@MARK"}));
}

TEST(Cmdline, UnknownParametersOfOursAreErrorsOthersAreNot)
{
	const CmdlineConfig c = parse_cmdline("deltalogx=1 deltalog.rolback=@x rd.deltalog.foo=1 ro", true);
	EXPECT_EQ(c.errors, (std::vector<std::string>{
				    "kernel command line: unknown parameter deltalog.rolback (known: deltalog=, "
				    "deltalog.tab=, deltalog.entry=, deltalog.rollback=, deltalog.boot=)",
				    "kernel command line: unknown parameter rd.deltalog.foo (known: deltalog=, "
				    "deltalog.tab=, deltalog.entry=, deltalog.rollback=, deltalog.boot=)",
			    }));
}
