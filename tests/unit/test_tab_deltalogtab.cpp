// /etc/deltalogtab (manager/src/tab/deltalogtab.cpp): good lines, and every
// kind of bad line with its exact message, FILE:LINE first; a bad line never
// stops the lines after it.
#include "tab/deltalogtab.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

using namespace deltalogctl::tab;

namespace {

const std::string tab_file = "/etc/deltalogtab";

// The one entry of a one-line tab (the test fails on an error).
TabEntry entry_of(const std::string &line)
{
	const TabContents tab = parse_tab(line, tab_file);
	EXPECT_TRUE(tab.errors.empty()) << line << " -> " << (tab.errors.empty() ? "" : tab.errors[0]);
	EXPECT_EQ(tab.entries.size(), 1u) << line;
	return tab.entries.empty() ? TabEntry{} : tab.entries[0];
}

// The message of a one-line tab with a bad line; it gives no entry.
std::string error_of(const std::string &line)
{
	const TabContents tab = parse_tab(line, tab_file);
	EXPECT_TRUE(tab.entries.empty()) << line;
	EXPECT_EQ(tab.errors.size(), 1u) << line;
	return tab.errors.empty() ? std::string() : tab.errors[0];
}

// A line the parser must refuse, and its whole message (FILE:LINE first).
struct BadLine {
	std::string line;
	std::string error;
};

} // namespace

TEST(DeltalogTab, BlankAndCommentLinesGiveNothing)
{
	const TabContents tab = parse_tab("\n   \n# a comment\n\t# indented comment\n", tab_file);
	EXPECT_TRUE(tab.entries.empty());
	EXPECT_TRUE(tab.errors.empty());
}

TEST(DeltalogTab, PathsAndDefaults)
{
	const TabEntry e = entry_of("box /dev/sdb1 /dev/sdc1");
	EXPECT_EQ(e.name, "box");
	EXPECT_EQ(e.origin.kind, DeviceSpec::Kind::path);
	EXPECT_EQ(e.origin.node(), "/dev/sdb1");
	EXPECT_EQ(e.delta.node(), "/dev/sdc1");
	EXPECT_EQ(e.on_full, "");
	EXPECT_FALSE(e.commit_ms);
	EXPECT_EQ(e.boot.kind, BootPolicy::Kind::keep);
	EXPECT_EQ(e.commit, "");
	EXPECT_FALSE(e.mark_boot || e.nofail || e.noauto || e.root || e.initrd);
	EXPECT_EQ(e.where, "/etc/deltalogtab:1");
}

TEST(DeltalogTab, TagsKeepTheSpecAndResolveToByLinks)
{
	const TabEntry e = entry_of("box UUID=0b5e-11ab PARTUUID=4f68bce3-e8cd-4db1-96e7-fbcaf984b709");
	EXPECT_EQ(e.origin.kind, DeviceSpec::Kind::uuid);
	EXPECT_EQ(e.origin.text, "UUID=0b5e-11ab");
	EXPECT_EQ(e.origin.value, "0b5e-11ab");
	EXPECT_EQ(e.origin.node(), "/dev/disk/by-uuid/0b5e-11ab");
	EXPECT_EQ(e.delta.kind, DeviceSpec::Kind::partuuid);
	EXPECT_EQ(e.delta.node(), "/dev/disk/by-partuuid/4f68bce3-e8cd-4db1-96e7-fbcaf984b709");

	const TabEntry l = entry_of("box LABEL=\"My Disk\" PARTLABEL=root/delta");
	EXPECT_EQ(l.origin.kind, DeviceSpec::Kind::label);
	EXPECT_EQ(l.origin.text, "LABEL=My Disk");
	EXPECT_EQ(l.origin.node(), "/dev/disk/by-label/My\\x20Disk");
	EXPECT_EQ(l.delta.kind, DeviceSpec::Kind::partlabel);
	EXPECT_EQ(l.delta.node(), "/dev/disk/by-partlabel/root\\x2fdelta");
}

TEST(DeltalogTab, EveryOption)
{
	const TabEntry e = entry_of("root UUID=1 PARTLABEL=d "
				    "root,on-full=merge-oldest,commit-ms=250,mark-boot,commit=\"Mon,Fri 03:00\"");
	EXPECT_TRUE(e.root);
	EXPECT_EQ(e.on_full, "merge-oldest");
	EXPECT_EQ(e.commit_ms, 250u);
	EXPECT_TRUE(e.mark_boot);
	EXPECT_EQ(e.commit, "Mon,Fri 03:00");

	const TabEntry r = entry_of("lab /dev/sdb /dev/sdc boot=rollback,nofail,noauto,x-initrd.attach,on-full=error");
	EXPECT_EQ(r.boot.kind, BootPolicy::Kind::rollback);
	EXPECT_TRUE(r.nofail && r.noauto && r.initrd);
	EXPECT_EQ(r.on_full, "error");

	const TabEntry m = entry_of("lab /dev/sdb /dev/sdc boot=rollback-to=@clean-install:v1");
	EXPECT_EQ(m.boot.kind, BootPolicy::Kind::rollback_to);
	EXPECT_EQ(m.boot.to, "@clean-install:v1");
	EXPECT_FALSE(m.boot.once);

	EXPECT_EQ(entry_of("lab /dev/sdb /dev/sdc boot=keep").boot.kind, BootPolicy::Kind::keep);
	EXPECT_EQ(entry_of("lab /dev/sdb /dev/sdc -").origin.node(), "/dev/sdb");
	EXPECT_EQ(entry_of("lab /dev/sdb /dev/sdc none").origin.node(), "/dev/sdb");
	EXPECT_EQ(entry_of("  lab\t/dev/sdb   /dev/sdc\tnofail  ").name, "lab");
}

TEST(DeltalogTab, FieldCount)
{
	const BadLine cases[] = {
		{"box", "/etc/deltalogtab:1: expected NAME ORIGIN DELTA [OPTIONS], found 1 field"},
		{"box /dev/sdb", "/etc/deltalogtab:1: expected NAME ORIGIN DELTA [OPTIONS], found 2 fields"},
		{"box /dev/sdb /dev/sdc nofail, root",
		 "/etc/deltalogtab:1: expected NAME ORIGIN DELTA [OPTIONS], found 5 fields: options are one "
		 "field, separated by commas without blanks (quote a value that has blanks)"},
		{"box LABEL=\"My Disk /dev/sdc", "/etc/deltalogtab:1: a double quote is not closed"},
	};
	for (const BadLine &c : cases)
		EXPECT_EQ(error_of(c.line), c.error) << c.line;
}

TEST(DeltalogTab, BadNames)
{
	const BadLine cases[] = {
		{"a/b /dev/sdb /dev/sdc",
		 "/etc/deltalogtab:1: name 'a/b' contains '/', which device-mapper names cannot"},
		{". /dev/sdb /dev/sdc",
		 "/etc/deltalogtab:1: '.' cannot be a device name (/dev/mapper/. is a directory)"},
		{".. /dev/sdb /dev/sdc",
		 "/etc/deltalogtab:1: '..' cannot be a device name (/dev/mapper/.. is a directory)"},
		{std::string(128, 'n') + " /dev/sdb /dev/sdc",
		 "/etc/deltalogtab:1: the name is 128 bytes long; device-mapper takes at most 127"},
		{"a:b /dev/sdb /dev/sdc",
		 "/etc/deltalogtab:1: name 'a:b' contains ':', which separates a name from its value on the "
		 "kernel command line"},
		{"-box /dev/sdb /dev/sdc",
		 "/etc/deltalogtab:1: name '-box' starts with '-' (deltalogctl would read it as an option)"},
		{"\"\" /dev/sdb /dev/sdc", "/etc/deltalogtab:1: the name is empty"},
		{"a\x01 /dev/sdb /dev/sdc", "/etc/deltalogtab:1: name 'a\\x01' contains control characters"},
	};
	for (const BadLine &c : cases)
		EXPECT_EQ(error_of(c.line), c.error) << c.line;
	EXPECT_EQ(entry_of(std::string(127, 'n') + " /dev/sdb /dev/sdc").name.size(), 127u);
}

TEST(DeltalogTab, BadDevices)
{
	const BadLine cases[] = {
		{"box sdb /dev/sdc",
		 "/etc/deltalogtab:1: ORIGIN 'sdb' is not a device: give a path under /dev, or UUID=, "
		 "PARTUUID=, LABEL= or PARTLABEL="},
		{"box /dev/sdb ID=12",
		 "/etc/deltalogtab:1: DELTA 'ID=12' is not a device: give a path under /dev, or UUID=, "
		 "PARTUUID=, LABEL= or PARTLABEL="},
		{"box /srv/disk.img /dev/sdc",
		 "/etc/deltalogtab:1: ORIGIN '/srv/disk.img' is not under /dev: it must be a block device "
		 "(a file needs a loop device, see losetup(8))"},
		{"box /dev/../etc/x /dev/sdc",
		 "/etc/deltalogtab:1: ORIGIN '/dev/../etc/x' is not a plain path: no '..' components or "
		 "control characters"},
		{"box UUID= /dev/sdc", "/etc/deltalogtab:1: ORIGIN 'UUID=': the UUID is empty"},
		{"box /dev/sdb PARTLABEL=", "/etc/deltalogtab:1: DELTA 'PARTLABEL=': the PARTLABEL is empty"},
		{"box LABEL=\"a\x02\" /dev/sdc",
		 "/etc/deltalogtab:1: ORIGIN 'LABEL=a\\x02': control characters are not allowed"},
		{"box /dev/sdb /dev//sdb",
		 "/etc/deltalogtab:1: ORIGIN and DELTA are the same device (/dev/sdb): the log needs a "
		 "device of its own"},
		{"box UUID=1 UUID=1",
		 "/etc/deltalogtab:1: ORIGIN and DELTA are the same device (UUID=1): the log needs a "
		 "device of its own"},
	};
	for (const BadLine &c : cases)
		EXPECT_EQ(error_of(c.line), c.error) << c.line;
}

// In these two the line is `box /dev/sdb /dev/sdc OPTIONS`: the table holds OPTIONS.
TEST(DeltalogTab, BadOptions)
{
	const std::string dev = "box /dev/sdb /dev/sdc ";
	const BadLine cases[] = {
		{"nofial",
		 "/etc/deltalogtab:1: unknown option 'nofial' (known: on-full=, commit-ms=, boot=, commit=, "
		 "mark-boot, nofail, noauto, root, x-initrd.attach)"},
		{"nofail,,root",
		 "/etc/deltalogtab:1: OPTIONS 'nofail,,root' has an empty option (two commas in a row, or one "
		 "at an end)"},
		{"nofail,",
		 "/etc/deltalogtab:1: OPTIONS 'nofail,' has an empty option (two commas in a row, or one at an "
		 "end)"},
		{"nofail,nofail", "/etc/deltalogtab:1: option 'nofail' is given twice"},
		{"boot=keep,boot=rollback", "/etc/deltalogtab:1: option 'boot' is given twice"},
		{"nofail=yes", "/etc/deltalogtab:1: option 'nofail' takes no value (found 'nofail=yes')"},
		{"on-full",
		 "/etc/deltalogtab:1: option 'on-full' needs a value: on-full=error or on-full=merge-oldest"},
		{"on-full=merge_oldest",
		 "/etc/deltalogtab:1: on-full=merge_oldest: expected on-full=error or on-full=merge-oldest"},
		{"commit-ms=0", "/etc/deltalogtab:1: commit-ms=0: expected a number of milliseconds from 1 to 60000"},
		{"commit-ms=60001",
		 "/etc/deltalogtab:1: commit-ms=60001: expected a number of milliseconds from 1 to 60000"},
		{"commit-ms=5s", "/etc/deltalogtab:1: commit-ms=5s: expected a number of milliseconds from 1 to 60000"},
		{"commit-ms=+250", "/etc/deltalogtab:1: commit-ms=+250: expected a number of milliseconds from 1 to 60000"},
		{"commit-ms=\" 250\"",
		 "/etc/deltalogtab:1: commit-ms= 250: expected a number of milliseconds from 1 to 60000"},
		{"commit-ms=-0", "/etc/deltalogtab:1: commit-ms=-0: expected a number of milliseconds from 1 to 60000"},
		{"commit-ms=0x10", "/etc/deltalogtab:1: commit-ms=0x10: expected a number of milliseconds from 1 to 60000"},
		{"commit-ms=4294967546",
		 "/etc/deltalogtab:1: commit-ms=4294967546: expected a number of milliseconds from 1 to 60000"},
		{"boot=",
		 "/etc/deltalogtab:1: option 'boot' needs a value: boot=keep, boot=rollback or "
		 "boot=rollback-to=@MARK"},
		{"boot=reset",
		 "/etc/deltalogtab:1: boot=reset: expected boot=keep, boot=rollback or boot=rollback-to=@MARK"},
		{"boot=rollback-to=clean",
		 "/etc/deltalogtab:1: boot=rollback-to=clean: expected boot=rollback-to=@MARK, a mark's label "
		 "after '@'"},
		{"boot=rollback-to=@",
		 "/etc/deltalogtab:1: boot=rollback-to=@: a mark label is 1 to 63 characters, '' has 0"},
		{"boot=rollback-to=@a+b",
		 "/etc/deltalogtab:1: boot=rollback-to=@a+b: mark label 'a+b' has '+': labels are letters, "
		 "digits and ._:-"},
		{"boot=rollback-to=@" + std::string(64, 'm'),
		 "/etc/deltalogtab:1: boot=rollback-to=@" + std::string(64, 'm') +
			 ": a mark label is 1 to 63 characters, '" + std::string(64, 'm') + "' has 64"},
		{"commit=",
		 "/etc/deltalogtab:1: option 'commit' needs a value: a systemd calendar spec, e.g. "
		 "commit=daily (systemd.time(7))"},
		{"commit=100%",
		 "/etc/deltalogtab:1: commit=100%: a calendar spec has no '%' (see systemd.time(7), e.g. "
		 "commit=daily or commit=\"Mon,Thu 03:00\")"},
		{"commit=Mon,Fri",
		 "/etc/deltalogtab:1: unknown option 'Fri' (known: on-full=, commit-ms=, boot=, commit=, "
		 "mark-boot, nofail, noauto, root, x-initrd.attach)"},
	};
	for (const BadLine &c : cases)
		EXPECT_EQ(error_of(dev + c.line), c.error) << c.line;
}

TEST(DeltalogTab, ContradictoryOptions)
{
	const std::string dev = "box /dev/sdb /dev/sdc ";
	const BadLine cases[] = {
		{"boot=rollback,commit=daily",
		 "/etc/deltalogtab:1: commit= needs boot=keep: a commit writes into the origin the history "
		 "that boot=rollback is there to throw away"},
		{"commit=daily,boot=rollback-to=@x",
		 "/etc/deltalogtab:1: commit= needs boot=keep: a commit writes into the origin the history "
		 "that boot=rollback is there to throw away"},
		{"boot=rollback,on-full=merge-oldest",
		 "/etc/deltalogtab:1: on-full=merge-oldest needs boot=keep: it commits the oldest history into "
		 "the origin, which boot=rollback is there to keep as it is"},
		{"root,nofail",
		 "/etc/deltalogtab:1: root and nofail cannot go together: the system cannot start without its "
		 "root device"},
		{"noauto,root",
		 "/etc/deltalogtab:1: root and noauto cannot go together: the initramfs always activates the "
		 "root device"},
	};
	for (const BadLine &c : cases)
		EXPECT_EQ(error_of(dev + c.line), c.error) << c.line;
	EXPECT_EQ(entry_of(dev + "boot=rollback,on-full=error").on_full, "error");
}

TEST(DeltalogTab, BadLinesAreSkippedNotFatal)
{
	const TabContents tab = parse_tab("# protected devices\n"
					  "a /dev/sda1 /dev/sda2\n"
					  "b /dev/sdb1\n"
					  "\n"
					  "a /dev/sdc1 /dev/sdc2\n"
					  "c /dev/sdc1 /dev/sdc2 root\n"
					  "d /dev/sdd1 /dev/sdd2 root\n"
					  "e /dev/sde1 /dev/sde2 nofail",
					  tab_file);
	ASSERT_EQ(tab.entries.size(), 3u);
	EXPECT_EQ(tab.entries[0].name, "a");
	EXPECT_EQ(tab.entries[0].where, "/etc/deltalogtab:2");
	EXPECT_EQ(tab.entries[1].name, "c");
	EXPECT_EQ(tab.entries[2].name, "e");
	EXPECT_EQ(tab.entries[2].where, "/etc/deltalogtab:8");
	ASSERT_EQ(tab.errors.size(), 3u);
	EXPECT_EQ(tab.errors[0], "/etc/deltalogtab:3: expected NAME ORIGIN DELTA [OPTIONS], found 2 fields");
	EXPECT_EQ(tab.errors[1], "/etc/deltalogtab:5: 'a' is already defined on line 2");
	EXPECT_EQ(tab.errors[2], "/etc/deltalogtab:7: a second root device: line 6 already has the option root");
}

TEST(DeltalogTab, CrLfLinesAndNoFinalNewline)
{
	const TabContents tab = parse_tab("a /dev/sda1 /dev/sda2 nofail\r\nb /dev/sdb1 /dev/sdb2", tab_file);
	ASSERT_EQ(tab.entries.size(), 2u);
	EXPECT_TRUE(tab.entries[0].nofail);
	EXPECT_TRUE(tab.errors.empty());
}

TEST(DeltalogTab, ParseBootPolicy)
{
	EXPECT_EQ(parse_boot_policy("rollback").kind, BootPolicy::Kind::rollback);
	EXPECT_EQ(parse_boot_policy("rollback-to=@x").to, "@x");
	EXPECT_THROW(parse_boot_policy("rollback-to=#12"), TabError);
}

// docs/deltalogtab.5 documents every option the parser knows, and every
// kernel command line parameter.
TEST(DeltalogTab, ManPageHasEveryOption)
{
	std::ifstream in(DLOG_TAB_MANPAGE);
	ASSERT_TRUE(in) << DLOG_TAB_MANPAGE;
	const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	for (const char *option : {"on\\-full=error", "commit\\-ms=", "boot=keep", "boot=rollback\\fR",
				   "boot=rollback\\-to=@", "commit=", "mark\\-boot", "nofail", "noauto", "root",
				   "x\\-initrd.attach", "deltalog=", "deltalog.tab=", "deltalog.entry=",
				   "deltalog.rollback=", "deltalog.boot="})
		EXPECT_NE(page.find(std::string(".TP\n\\fB") + option), std::string::npos) << option;
	// And the parser knows no option the page does not list.
	const TabContents tab = parse_tab("a /dev/a /dev/b x", "f");
	ASSERT_EQ(tab.errors.size(), 1u);
	EXPECT_NE(tab.errors[0].find("(known: on-full=, commit-ms=, boot=, commit=, mark-boot, nofail, noauto, root, "
				     "x-initrd.attach)"),
		  std::string::npos);
}
