// Text and JSON renderings.
#include "deltalog/dump.hpp"
#include "deltalog/json.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace deltalog;

namespace {

std::vector<std::string> lines(const std::string &s)
{
	std::vector<std::string> v;
	std::istringstream in(s);
	for (std::string l; std::getline(in, l);)
		v.push_back(l);
	return v;
}

} // namespace

TEST(Json, EscapesAndNests)
{
	EXPECT_EQ(json_escape("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
	JsonWriter j;
	j.begin_object().field("a", std::uint64_t{1}).key("b").begin_array();
	j.value("x").value(true).null().begin_object().end_object();
	j.end_array().field("c", std::int64_t{-2}).end_object();
	EXPECT_EQ(j.str(), R"({"a":1,"b":["x",true,null,{}],"c":-2})");
}

TEST(Dump, TimeFormat)
{
	EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000000000Z");
	EXPECT_EQ(format_time(1'767'323'045'000'000'006ull), "2026-01-02T03:04:05.000000006Z");
}

TEST(Dump, TextHasOneLinePerRecord)
{
	dlt::Env env;
	env.w().append_write(100, dlt::pattern(8 * 512, 1));
	env.w().append_zero(0, 64, true);
	env.w().append_mark("before-upgrade");
	env.w().append_write(3, dlt::pattern(512, 2), false);
	env.w().rollback(3);
	std::string text = dump_text(env.recover(), "d");
	std::vector<std::string> record_lines;
	for (const std::string &l : lines(text)) {
		if (l.rfind("#", 0) == 0)
			record_lines.push_back(l);
		else
			for (const char *k : {"WRITE", "ZERO", "MARK", "ROLLBACK"})
				EXPECT_EQ(l.find(k), std::string::npos) << l;
	}
	ASSERT_EQ(record_lines.size(), 5u) << text;
	EXPECT_NE(record_lines[0].find(" WRITE origin 100+8 data 4 csum 0x"), std::string::npos);
	EXPECT_NE(record_lines[1].find(" ZERO origin 0+64 discard block 0 slot 1"), std::string::npos);
	EXPECT_NE(record_lines[2].find(" MARK before-upgrade block 0 slot 2"), std::string::npos);
	EXPECT_NE(record_lines[3].find(" ordered block 0 slot 4 [void]"), std::string::npos);
	EXPECT_NE(record_lines[4].find("#5 "), std::string::npos);
	EXPECT_NE(record_lines[4].find(" ROLLBACK to #3 block 1 slot 0"), std::string::npos);
	EXPECT_EQ(record_lines[2].substr(0, 3), "#3 ");
}

TEST(Dump, JsonFields)
{
	dlt::Env env;
	env.w().append_write(100, dlt::pattern(8 * 512, 1));
	env.w().append_zero(0, 64, true);
	env.w().append_mark("lbl");
	env.w().append_write(3, dlt::pattern(512, 2), false);
	env.w().rollback(3);
	std::string j = dump_json(env.recover(), "the \"delta\"");
	for (const char *f :
	     {R"("delta":"the \"delta\"")", R"("superblock":{"copy":"B","generation":4)",
	      R"("uuid":"10325476-98ba-4cde-8f01-23456789abcd")", R"("meta_block_size":512)",
	      R"("origin_fingerprint":"0x)", R"("merging":false)", R"("log":{"meta_tail":0,"meta_head":2)",
	      R"("cut":null)", R"("kind":"write","status":"live","block":0,"slot":0,"origin_sector":100,"nr_sectors":8,"data_pos":4,"data_csum":"0x)",
	      R"("kind":"zero","status":"live","block":0,"slot":1,"origin_sector":0,"nr_sectors":64,"discard":true)",
	      R"("kind":"mark","status":"live","block":0,"slot":2,"label":"lbl")",
	      R"("kind":"write","status":"void")", R"("data_csum":null)",
	      R"("kind":"rollback","status":"live","block":1,"slot":0,"to_seq":3)"})
		EXPECT_NE(j.find(f), std::string::npos) << f << "\n" << j;
	EXPECT_EQ(std::count(j.begin(), j.end(), '{'), std::count(j.begin(), j.end(), '}'));
	EXPECT_EQ(j.back(), '\n');
}

TEST(Dump, CheckJson)
{
	CheckReport r;
	r.findings.push_back({Severity::warning, "superblock A", "not \"valid\""});
	r.findings.push_back({Severity::fatal, "log", "x"});
	EXPECT_EQ(check_json(r, "d"),
		  R"({"delta":"d","fatal":true,"summary":{"fatal":1,"warning":1},"findings":[{"severity":"warning","where":"superblock A","what":"not \"valid\""},{"severity":"fatal","where":"log","what":"x"}]})"
		  "\n");
	EXPECT_EQ(lines(check_text(r, "d")).back(), "d: 1 fatal, 1 warning");
}
