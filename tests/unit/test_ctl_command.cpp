// deltalogctl's command registry and strict parsing (manager/src/base/command.cpp).
#include "base/command.hpp"
#include "base/errors.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>

using namespace deltalogctl;

namespace {

void declare(po::options_description &options)
{
	options.add_options()("force", po::bool_switch(), "force")(
		"on-full", po::value<std::string>(), "policy");
}

int run(const Args &)
{
	return 0;
}

const Command test_command = {"create", "create NAME ORIGIN", "s", "d", {"NAME", "ORIGIN"}, declare, run};

} // namespace

TEST(CtlCommand, ParsesPositionalsAndOptions)
{
	Args a = parse(test_command, {"box", "--force", "/dev/sdb", "--on-full", "error"});
	EXPECT_EQ(a.pos(0), "box");
	EXPECT_EQ(a.pos(1), "/dev/sdb");
	EXPECT_EQ(a.object(), "box");
	EXPECT_TRUE(a.flag("force"));
	EXPECT_EQ(a.opt("on-full"), "error");
}

TEST(CtlCommand, AbsentOptionsAreUnset)
{
	Args a = parse(test_command, {"box", "/dev/sdb"});
	EXPECT_FALSE(a.flag("force"));
	EXPECT_FALSE(a.opt("on-full"));
}

TEST(CtlCommand, RefusesWhatItDoesNotKnow)
{
	EXPECT_THROW(parse(test_command, {"box"}), UsageError);
	EXPECT_THROW(parse(test_command, {"box", "a", "b"}), UsageError);
	EXPECT_THROW(parse(test_command, {"box", "a", "--forc"}), UsageError);	// no abbreviations
	EXPECT_THROW(parse(test_command, {"box", "a", "--bogus"}), UsageError);
	EXPECT_THROW(parse(test_command, {"box", "a", "--on-full"}), UsageError);
	EXPECT_THROW(parse(test_command, {"", "a"}), UsageError);
}

TEST(CtlCommand, DoubleDashEndsOptions)
{
	Args a = parse(test_command, {"--", "-box", "--force"});
	EXPECT_EQ(a.pos(0), "-box");
	EXPECT_EQ(a.pos(1), "--force");
	EXPECT_FALSE(a.flag("force"));
}

TEST(CtlCommand, EveryRegisteredCommandIsComplete)
{
	std::set<std::string> names;
	for (const Command *c : commands()) {
		EXPECT_TRUE(names.insert(c->name).second) << c->name << " listed twice";
		EXPECT_EQ(std::string(c->synopsis).rfind(c->name, 0), 0u) << c->name;
		EXPECT_NE(std::string(c->summary), "") << c->name;
		EXPECT_GT(std::string(c->description).size(), 80u) << c->name << " needs a manual";
		EXPECT_NE(c->run, nullptr) << c->name;
		EXPECT_EQ(find_command(c->name), c);
	}
	EXPECT_EQ(find_command("no-such-command"), nullptr);
}

TEST(CtlCommand, TheManualPageDocumentsEveryCommand)
{
	std::ifstream in(DLOG_MANPAGE);
	ASSERT_TRUE(in) << DLOG_MANPAGE;
	const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	for (const Command *c : commands()) {
		const std::string synopsis = std::string("\\fBdeltalogctl ") + c->name + "\\fR";
		EXPECT_NE(page.find(synopsis), std::string::npos) << c->name << " is missing from the SYNOPSIS";
		const std::string entry = std::string(".TP\n\\fB") + c->name + "\\fR";
		EXPECT_NE(page.find(entry), std::string::npos) << c->name << " is missing from COMMANDS";
	}
}
