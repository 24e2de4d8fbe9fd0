// The known-bad images in tests/unit/images/ (see README.md there).
#include "deltalog/check.hpp"
#include "deltalog/errors.hpp"
#include "deltalog/log.hpp"

#include "helpers.hpp"
#include "images/image_maker.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fmt/format.h>

using namespace deltalog;

namespace {

std::string image_path(const std::string &name)
{
	return std::string(DLOG_TEST_IMAGES) + "/" + name;
}

// A full-size copy of a committed image, and its origin.
struct Image {
	explicit Image(const std::string &name)
	{
		delta = dir.path("delta");
		origin = dir.path("origin");
		dlt::write_file(delta, dlt::images::expand(dlt::read_file(image_path(name))));
		dlt::write_file(origin, dlt::images::origin_content());
	}
	LogState recover() const { return deltalog::recover(dlt::open_ro(delta)); }
	// With the origin's identity, unless the image merged into its origin.
	CheckReport check(bool with_origin = true) const
	{
		Device o = dlt::open_ro(origin);
		CheckOptions opts;
		opts.origin = with_origin ? &o : nullptr;
		return deltalog::check(dlt::open_ro(delta), opts);
	}

	dlt::TempDir dir;
	std::string delta, origin;
};

bool has(const CheckReport &r, Severity s, const std::string &where, const std::string &what)
{
	for (const Finding &f : r.findings)
		if (f.severity == s && f.where.find(where) != std::string::npos &&
		    f.what.find(what) != std::string::npos)
			return true;
	return false;
}

std::string all(const CheckReport &r)
{
	std::string s;
	for (const Finding &f : r.findings)
		s += std::string(severity_name(f.severity)) + " | " + f.where + " | " + f.what + "\n";
	return s;
}

} // namespace

TEST(Images, AreUpToDate)
{
	for (auto &[name, bytes] : dlt::images::bad_images()) {
		ASSERT_TRUE(std::filesystem::exists(image_path(name))) << name;
		EXPECT_EQ(dlt::read_file(image_path(name)), bytes)
			<< name << " differs from what image_maker.cpp makes: run "
			<< "tests/unit/images/regenerate";
		EXPECT_LT(bytes.size(), 64u * 1024) << name;
	}
}

TEST(Images, Good)
{
	Image img("good.img");
	LogState log = img.recover();
	EXPECT_GT(log.nr_live(), 5u);
	EXPECT_EQ(log.sb.merged_seq, 3u);
	CheckReport r = img.check(false);	// merged: the origin is not the one given
	EXPECT_TRUE(r.findings.empty()) << all(r);
}

TEST(Images, Unformatted)
{
	Image img("unformatted.img");
	EXPECT_THROW(img.recover(), UnformattedError);
	EXPECT_TRUE(has(img.check(), Severity::fatal, "superblock", "not formatted"));
}

TEST(Images, BothSuperblocksCorrupt)
{
	Image img("sb-both-corrupt.img");
	try {
		img.recover();
		FAIL();
	} catch (const SuperblockError &e) {
		EXPECT_NE(e.why_a().find("checksum mismatch"), std::string::npos);
		EXPECT_NE(e.why_b().find("bad magic"), std::string::npos);
	}
	CheckReport r = img.check();
	EXPECT_TRUE(has(r, Severity::fatal, "superblock A", "checksum")) << all(r);
	EXPECT_TRUE(has(r, Severity::fatal, "superblock B", "magic")) << all(r);
}

TEST(Images, CurrentSuperblockTorn)
{
	Image img("sb-current-torn.img");
	LogState log = img.recover();
	EXPECT_EQ(log.sb_copy, 1u);
	EXPECT_EQ(log.sb.generation, 2u);
	EXPECT_EQ(log.nr_live(), 3u);
	CheckReport r = img.check();
	EXPECT_FALSE(r.fatal()) << all(r);
	EXPECT_TRUE(has(r, Severity::warning, "superblock A", "checksum")) << all(r);
}

TEST(Images, NextVersion)
{
	const std::string v = fmt::format("version {}", DLOG_VERSION + 1);
	Image img("sb-version-next.img");
	try {
		img.recover();
		FAIL();
	} catch (const SuperblockError &e) {
		EXPECT_NE(e.why_a().find("unsupported format " + v), std::string::npos);
	}
	EXPECT_TRUE(has(img.check(), Severity::fatal, "superblock B", v));
}

TEST(Images, UnknownRecordKind)
{
	Image img("log-unknown-kind.img");
	try {
		img.recover();
		FAIL();
	} catch (const CorruptLogError &e) {
		EXPECT_EQ(e.index(), 1u);
		EXPECT_EQ(e.record_slot(), 1);
		EXPECT_EQ(e.sector(), 17u);
		EXPECT_EQ(e.reason(), "unknown record kind 9");
	}
	EXPECT_TRUE(has(img.check(), Severity::fatal, "metadata block 1 (ring slot 1, sector 17) slot 1",
			"unknown record kind 9"));
}

TEST(Images, LostBlock)
{
	Image img("log-lost-block.img");
	EXPECT_THROW(img.recover(), CorruptLogError);
	CheckReport r = img.check();
	EXPECT_TRUE(has(r, Severity::fatal, "log", "blocks are missing")) << all(r);
	EXPECT_TRUE(has(r, Severity::warning, "metadata block 2", "newer than the log")) << all(r);
}

TEST(Images, Cut)
{
	Image img("log-cut.img");
	LogState log = img.recover();
	EXPECT_TRUE(log.cut);
	EXPECT_EQ(log.cut_seq, 4u);
	EXPECT_EQ(log.cut_to_seq, 3u);
	EXPECT_EQ(log.newest_seq(), 3u);
	CheckReport r = img.check();
	EXPECT_FALSE(r.fatal()) << all(r);
	EXPECT_TRUE(has(r, Severity::warning, "(seq 4)", "did not reach the delta")) << all(r);
}

TEST(Images, TrustedDataBad)
{
	Image img("log-trusted-data-bad.img");
	EXPECT_EQ(img.recover().nr_live(), 1u);
	EXPECT_TRUE(has(img.check(), Severity::fatal, "(seq 1)", "data checksum mismatch"));
}

TEST(Images, MultiDamage)
{
	Image img("multi-damage.img");
	EXPECT_THROW(img.recover(), CorruptLogError);
	CheckReport r = img.check();
	EXPECT_EQ(r.findings.size(), 5u) << all(r);
	EXPECT_TRUE(has(r, Severity::warning, "superblock B", "checksum")) << all(r);
	EXPECT_TRUE(has(r, Severity::fatal, "(seq 1)", "data checksum mismatch")) << all(r);
	EXPECT_TRUE(has(r, Severity::fatal, "metadata block 1", "reserved bytes not zero")) << all(r);
	EXPECT_TRUE(has(r, Severity::fatal, "log", "blocks are missing")) << all(r);
}
