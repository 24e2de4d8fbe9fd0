// Numbers read from text (manager/src/base/number.cpp): plain decimal
// digits, the whole string, nothing else; and the options that use it,
// which refuse with the message they always had.
#include "base/number.hpp"

#include "base/command.hpp"
#include "base/errors.hpp"
#include "protect.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace deltalogctl;

namespace {

// What std::stoul, strtoul or a lenient reader would take, and what no
// caller should: signs, blanks, a base prefix, trailing text, nothing.
const std::vector<std::string> not_numbers = {
	"", "+5", "-5", "-0", "+0", " 5", "5 ", "\t5", "5\n", " ", "0x10", "0X10", "1e3", "5.0", "5,000",
	"1_000", "five", "5s", "٥",
};

} // namespace

TEST(CtlNumber, PlainDigits)
{
	EXPECT_EQ(parse_decimal("0"), 0u);
	EXPECT_EQ(parse_decimal("5"), 5u);
	EXPECT_EQ(parse_decimal("007"), 7u);	// leading zeros are digits, not octal
	EXPECT_EQ(parse_decimal("60000"), 60000u);
	EXPECT_EQ(parse_decimal("18446744073709551615"), UINT64_MAX);
}

TEST(CtlNumber, NothingButDigits)
{
	for (const std::string &s : not_numbers) {
		EXPECT_EQ(parse_decimal(s), std::nullopt) << "'" << s << "'";
		EXPECT_EQ(parse_number<unsigned>(s), std::nullopt) << "'" << s << "'";
	}
}

TEST(CtlNumber, OverflowIsNoNumber)
{
	EXPECT_EQ(parse_decimal("18446744073709551616"), std::nullopt);
	EXPECT_EQ(parse_decimal("99999999999999999999999"), std::nullopt);
	EXPECT_EQ(parse_number<std::uint64_t>("18446744073709551615"), UINT64_MAX);
	EXPECT_EQ(parse_number<std::uint64_t>("18446744073709551616"), std::nullopt);
	EXPECT_EQ(parse_number<std::uint32_t>("4294967295"), UINT32_MAX);
	EXPECT_EQ(parse_number<std::uint32_t>("4294967296"), std::nullopt);
	EXPECT_EQ(parse_number<std::uint16_t>("65535"), 65535u);
	EXPECT_EQ(parse_number<std::uint16_t>("65536"), std::nullopt);
	EXPECT_EQ(parse_number<unsigned char>("256"), std::nullopt);
}

// --commit-ms as create and activate declare it (protect.cpp): the range and
// the message are the option's own; only plain numbers get to the range.
TEST(CtlNumber, CommitMsTakesOnlyPlainNumbers)
{
	for (const char *verb : {"create", "activate"}) {
		const Command &cmd = *find_command(verb);
		const auto commit_ms = [&](const std::string &v) {
			return target_options(parse(cmd, {"box", "/dev/sdb", "/dev/sdc", "--commit-ms", v})).commit_ms;
		};
		EXPECT_EQ(commit_ms("1"), 1u);
		EXPECT_EQ(commit_ms("250"), 250u);
		EXPECT_EQ(commit_ms("0250"), 250u);
		EXPECT_EQ(commit_ms("60000"), 60000u);
		std::vector<std::string> bad = not_numbers;
		bad.insert(bad.end(), {"0", "60001", "+250", " 250", "250 ", "4294967296", "4294967546",
				       "18446744073709551616"});
		for (const std::string &v : bad) {
			try {
				commit_ms(v);
				ADD_FAILURE() << verb << " --commit-ms '" << v << "' was accepted";
			} catch (const UsageError &e) {
				EXPECT_EQ(std::string(e.what()), "--commit-ms takes 1 to 60000, not '" + v + "'");
			}
		}
	}
}
