// What deltalogctl tells udev (manager/src/udev.cpp, udev/63-deltalog.rules.in):
// the probe's properties on image files (deltas good, torn, damaged, cut,
// and files that are none) with holders in a fake sysfs; the hidden
// udev-probe command as the rules run it; and the rules file as make
// install writes it, checked line by line (Debian 12's udevadm has no
// verify: the VM test t-ctl-udev.sh runs the rules in udevd).
#include "base/command.hpp"
#include "fake_system.hpp"
#include "helpers.hpp"
#include "udev.hpp"

#include <gtest/gtest.h>

#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace deltalogctl;
using dlt::FakeSystem;

namespace {

using Lines = std::vector<std::string>;

std::string image(const std::string &name)
{
	return std::string(DLOG_TEST_IMAGES) + "/" + name;
}

// The uuid every test image and make_pair() was formatted with.
constexpr const char *uuid = "10325476-98ba-4cde-8f01-23456789abcd";

const Lines delta_ok = {
	"DELTALOG_ROLE=delta",	      "DELTALOG_SUPERBLOCK=ok", std::string("DELTALOG_UUID=") + uuid,
	"ID_FS_TYPE=deltalog_delta", "ID_FS_USAGE=other",	 "UDISKS_IGNORE=1",
};
const Lines delta_damaged = {
	"DELTALOG_ROLE=delta", "DELTALOG_SUPERBLOCK=damaged", "ID_FS_TYPE=deltalog_delta",
	"ID_FS_USAGE=other",   "UDISKS_IGNORE=1",
};

// delta_ok with DELTALOG_NAME=name after the uuid.
Lines delta_ok_named(const std::string &name)
{
	Lines l = delta_ok;
	l.insert(l.begin() + 3, "DELTALOG_NAME=" + name);
	return l;
}

// ---- the probe on image files ------------------------------------------

TEST(CtlUdev, AGoodDeltaIsMarked)
{
	EXPECT_EQ(udev::probe(image("good.img")), delta_ok);
	dlt::TempDir dir;
	EXPECT_EQ(udev::probe(dlt::make_pair(dir).delta), delta_ok);
}

TEST(CtlUdev, ADeltaWithATornCopyIsReadFromTheOther)
{
	EXPECT_EQ(udev::probe(image("sb-current-torn.img")), delta_ok);
	dlt::TempDir dir;
	const dlt::Pair pair = dlt::make_pair(dir);
	dlt::write_at(pair.delta, 0, dlt::sector_bytes(DLOG_SB_SECTORS, 0));
	EXPECT_EQ(udev::probe(pair.delta), delta_ok);
}

TEST(CtlUdev, ADamagedDeltaIsStillADelta)
{
	// The magic says whose it is: nothing may format it by accident.
	EXPECT_EQ(udev::probe(image("sb-both-corrupt.img")), delta_damaged);
	EXPECT_EQ(udev::probe(image("sb-version-next.img")), delta_damaged);
}

TEST(CtlUdev, ACutDelta)
{
	dlt::TempDir dir;
	const dlt::Pair pair = dlt::make_pair(dir);
	// Its first superblock copy alone, valid: enough.
	const std::string one_copy = dir.path("one-copy");
	dlt::write_file(one_copy, dlt::read_at(pair.delta, 0, DLOG_SB_SIZE));
	EXPECT_EQ(udev::probe(one_copy), delta_ok);
	// Damaged too: the magic still tells.
	dlt::flip_bit(one_copy, 100);
	EXPECT_EQ(udev::probe(one_copy), delta_damaged);
	// Less than a copy: nothing to tell.
	const std::string stub = dir.path("stub");
	dlt::write_file(stub, dlt::read_at(pair.delta, 0, DLOG_SB_SIZE - 512));
	EXPECT_EQ(udev::probe(stub), Lines{});
	const std::string empty = dir.path("empty");
	dlt::write_file(empty, {});
	EXPECT_EQ(udev::probe(empty), Lines{});
}

TEST(CtlUdev, OtherFilesHaveNoProperties)
{
	dlt::TempDir dir;
	EXPECT_EQ(udev::probe(image("unformatted.img")), Lines{});
	const std::string noise = dir.path("noise");
	dlt::create_random_file(noise, 64, 7);
	EXPECT_EQ(udev::probe(noise), Lines{});
	EXPECT_EQ(udev::probe(dlt::make_pair(dir).origin), Lines{});
	EXPECT_EQ(udev::probe(dir.path("missing")), Lines{});
	EXPECT_EQ(udev::probe(dir.path("")), Lines{});	// a directory
}

// ---- holders -------------------------------------------------------------

struct Held {
	FakeSystem sys;
	BlockDevice sdb = sys.disk("sdb", makedev(8, 16));
	BlockDevice sdc = sys.disk("sdc", makedev(8, 32));
	dlt::TempDir dir;
	dlt::Pair pair = dlt::make_pair(dir);
};

TEST(CtlUdev, TheOriginOfAnActiveDevice)
{
	Held h;
	h.sys.dm("dm-3", makedev(254, 3), "box", std::string("DELTALOG-") + uuid);
	h.sys.hold(h.sdb, "dm-3");
	h.sys.hold(h.sdc, "dm-3");
	// Its origin: whatever it holds, not a log.
	EXPECT_EQ(udev::probe(h.pair.origin, h.sys.view, h.sdb.devno),
		  (Lines{"DELTALOG_ROLE=origin", "DELTALOG_NAME=box", "UDISKS_IGNORE=1"}));
	// Its delta, named after the device that has the log's UUID.
	EXPECT_EQ(udev::probe(h.pair.delta, h.sys.view, h.sdc.devno), delta_ok_named("box"));
}

TEST(CtlUdev, AViewHoldsTheOriginToo)
{
	Held h;
	const std::string dm_uuid = std::string("DELTALOG-") + uuid;
	h.sys.dm("dm-3", makedev(254, 3), "box", dm_uuid);
	h.sys.dm("dm-2", makedev(254, 2), "box-then", dm_uuid + "-view-box-then");
	h.sys.hold(h.sdb, "dm-2");
	h.sys.hold(h.sdb, "dm-3");
	h.sys.hold(h.sdc, "dm-2");
	h.sys.hold(h.sdc, "dm-3");
	// The protected device names it, not the view (which sorts first).
	EXPECT_EQ(udev::probe(h.pair.origin, h.sys.view, h.sdb.devno),
		  (Lines{"DELTALOG_ROLE=origin", "DELTALOG_NAME=box", "UDISKS_IGNORE=1"}));
	EXPECT_EQ(udev::probe(h.pair.delta, h.sys.view, h.sdc.devno), delta_ok_named("box"));

	// The device deactivated, the view still up.
	Held v;
	v.sys.dm("dm-2", makedev(254, 2), "box-then", dm_uuid + "-view-box-then");
	v.sys.hold(v.sdb, "dm-2");
	EXPECT_EQ(udev::probe(v.pair.origin, v.sys.view, v.sdb.devno),
		  (Lines{"DELTALOG_ROLE=origin", "DELTALOG_NAME=box-then", "UDISKS_IGNORE=1"}));
}

TEST(CtlUdev, APartitionOfAProtectedDisk)
{
	Held h;
	const BlockDevice sdb1 = h.sys.partition("sdb", "sdb1", makedev(8, 17), 2048, 4096);
	h.sys.dm("dm-3", makedev(254, 3), "disk", "DELTALOG-0000");
	h.sys.hold(h.sdb, "dm-3");
	EXPECT_EQ(udev::probe(h.pair.origin, h.sys.view, sdb1.devno),
		  (Lines{"DELTALOG_ROLE=origin", "DELTALOG_NAME=disk", "UDISKS_IGNORE=1"}));
}

TEST(CtlUdev, OtherHoldersAreNotOurs)
{
	Held h;
	h.sys.dm("dm-4", makedev(254, 4), "vg-lv", "LVM-abcd");
	h.sys.dm("dm-5", makedev(254, 5), "plain", "");
	h.sys.disk("md0", makedev(9, 0));
	h.sys.hold(h.sdb, "dm-4");
	h.sys.hold(h.sdb, "dm-5");
	h.sys.hold(h.sdb, "md0");
	EXPECT_EQ(udev::probe(h.pair.origin, h.sys.view, h.sdb.devno), Lines{});
	// A dm name that is no plain word is left out; the role stays.
	h.sys.dm("dm-6", makedev(254, 6), "odd name", "DELTALOG-x");
	h.sys.hold(h.sdb, "dm-6");
	EXPECT_EQ(udev::probe(h.pair.origin, h.sys.view, h.sdb.devno),
		  (Lines{"DELTALOG_ROLE=origin", "UDISKS_IGNORE=1"}));
}

TEST(CtlUdev, ADeltaHeldByAnotherLogsDeviceHasNoName)
{
	// A copy of a delta (dd) held by nothing of its own.
	Held h;
	h.sys.dm("dm-3", makedev(254, 3), "other", "DELTALOG-ffffffff-ffff-4fff-bfff-ffffffffffff");
	h.sys.hold(h.sdc, "dm-3");
	EXPECT_EQ(udev::probe(h.pair.delta, h.sys.view, h.sdc.devno), delta_ok);
}

TEST(CtlUdev, NoUeventWithoutUdev)
{
	// The VM's scenarios run without udev: nothing to tell it.
	FakeSystem sys;
	const BlockDevice sdb = sys.disk("sdb", makedev(8, 16));
	sys.partition("sdb", "sdb1", makedev(8, 17), 2048, 4096);
	::setenv("DM_DISABLE_UDEV", "1", 1);
	udev::devices_changed({"8:16", "not a devno"}, sys.view);
	::unsetenv("DM_DISABLE_UDEV");
	for (const char *uevent : {"sys/block/sdb/uevent", "sys/block/sdb/sdb1/uevent"}) {
		std::ifstream in(sys.dir.path(uevent));
		std::string first;
		std::getline(in, first);
		EXPECT_TRUE(first.starts_with("MAJOR=")) << uevent << ": " << first;
	}
}

// ---- the command ---------------------------------------------------------

struct Output {
	int status = -1;
	std::string out;
};

// deltalogctl ARGS, stdout captured, stderr into the file err.
Output run_ctl(const std::string &args, const std::string &err)
{
	Output o;
	const std::string cmd = std::string(DLOG_DELTALOGCTL) + " " + args + " 2>" + err;
	FILE *p = ::popen(cmd.c_str(), "r");
	if (!p)
		return o;
	std::array<char, 4096> buf;
	for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;)
		o.out.append(buf.data(), n);
	const int st = ::pclose(p);
	o.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return o;
}

TEST(CtlUdev, TheCommandPrintsPropertiesAndAlwaysSucceeds)
{
	dlt::TempDir dir;
	const std::string err = dir.path("err");
	Output o = run_ctl("udev-probe " + image("good.img"), err);
	EXPECT_EQ(o.status, 0);
	std::string expected;
	for (const std::string &l : delta_ok)
		expected += l + "\n";
	EXPECT_EQ(o.out, expected);
	for (const std::string &path : {image("unformatted.img"), dir.path("missing"), std::string("/dev/null")}) {
		o = run_ctl("udev-probe " + path, err);
		EXPECT_EQ(o.status, 0) << path;
		EXPECT_EQ(o.out, "") << path;
		EXPECT_EQ(dlt::read_file(err).size(), 0u) << path << ": something on stderr";
	}
}

TEST(CtlUdev, TheCommandIsNotListed)
{
	const Command *c = find_command("udev-probe");
	ASSERT_NE(c, nullptr);
	for (const Command *listed : commands())
		EXPECT_NE(listed, c);
	dlt::TempDir dir;
	const Output o = run_ctl("--help", dir.path("err"));
	EXPECT_EQ(o.status, 0);
	EXPECT_EQ(o.out.find("udev-probe"), std::string::npos);
}

// ---- the rules file ------------------------------------------------------

std::vector<std::pair<int, std::string>> rule_lines()
{
	std::ifstream in(DLOG_UDEV_RULES);
	EXPECT_TRUE(in) << DLOG_UDEV_RULES;
	std::vector<std::pair<int, std::string>> out;
	std::string line, joined;
	int n = 0, start = 0;
	while (std::getline(in, line)) {
		n++;
		if (joined.empty())
			start = n;
		if (!line.empty() && line.back() == '\\') {
			joined += line.substr(0, line.size() - 1);
			continue;
		}
		joined += line;
		const auto first = joined.find_first_not_of(" \t");
		if (first != std::string::npos && joined[first] != '#')
			out.emplace_back(start, joined.substr(first));
		joined.clear();
	}
	return out;
}

// What a rule line of systemd 252 may hold: KEY[{attr}] OP "value", joined
// by commas; a match operator only on keys that match, an assignment only on
// keys that assign.
TEST(CtlUdev, TheRulesAreWellFormed)
{
	const std::regex pair_re(R"re(^([A-Z]+)(\{([A-Za-z0-9_./-]+)\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(,\s*|$))re");
	const std::set<std::string> match_keys = {"ACTION", "SUBSYSTEM", "KERNEL", "ENV", "ATTR", "TEST"};
	const std::set<std::string> assign_keys = {"ENV",    "SYMLINK", "OPTIONS", "IMPORT",
						   "GOTO",   "LABEL",   "RUN",	   "ATTR"};
	std::set<std::string> labels, gotos;
	for (const auto &[n, text] : rule_lines()) {
		std::string rest = text;
		std::smatch m;
		int pairs = 0;
		while (!rest.empty()) {
			ASSERT_TRUE(std::regex_search(rest, m, pair_re))
				<< "line " << n << ": cannot read '" << rest << "'";
			const std::string key = m[1], op = m[4], value = m[5];
			const bool match = op == "==" || op == "!=";
			// udevd 252: "Invalid operator for SYMLINK".
			EXPECT_FALSE(key == "SYMLINK" && op == "-=") << "line " << n;
			EXPECT_TRUE(match ? match_keys.count(key) : assign_keys.count(key))
				<< "line " << n << ": " << key << op;
			EXPECT_EQ(value.find('@'), std::string::npos) << "line " << n << ": a template left";
			if (key == "LABEL") {
				EXPECT_TRUE(labels.insert(value).second) << "line " << n << ": LABEL twice";
			}
			if (key == "GOTO") {
				// udev jumps forward only.
				EXPECT_EQ(labels.count(value), 0u) << "line " << n << ": GOTO backwards";
				gotos.insert(value);
			}
			rest = m.suffix();
			pairs++;
		}
		EXPECT_GT(pairs, 0) << "line " << n;
	}
	for (const std::string &g : gotos)
		EXPECT_EQ(labels.count(g), 1u) << "GOTO " << g << " has no LABEL";
}

TEST(CtlUdev, TheRulesRunTheInstalledProbeAndMatchOnTheUuid)
{
	std::string all;
	for (const auto &[n, text] : rule_lines())
		all += text + "\n";
	EXPECT_NE(all.find(std::string("IMPORT{program}=\"") + DLOG_SBINDIR + "/deltalogctl udev-probe $devnode\""),
		  std::string::npos);
	EXPECT_NE(all.find("ENV{DM_UUID}!=\"DELTALOG-?*\""), std::string::npos);
	EXPECT_NE(all.find("SYMLINK+=\"deltalog/$env{DM_NAME}\""), std::string::npos);
	// No match on a name (only whether there is one), and the units'
	// BindsTo= keep working.
	EXPECT_FALSE(std::regex_search(all, std::regex(R"re(DM_NAME\}(==|!=)"[^?])re")));
	EXPECT_EQ(all.find("SYSTEMD_READY"), std::string::npos);
}

} // namespace
