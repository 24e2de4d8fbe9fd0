// The checker: every kind of damage is reported, several at once, without
// throwing; a healthy delta has no findings.
#include "deltalog/check.hpp"
#include "deltalog/meta_block.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <endian.h>
#include <random>

using namespace deltalog;

namespace {

CheckReport run(const dlt::Env &env, const Device *origin = nullptr)
{
	CheckOptions o;
	o.origin = origin;
	return check(dlt::open_ro(env.pair.delta), o);
}

std::string all(const CheckReport &r)
{
	std::string s;
	for (const Finding &f : r.findings)
		s += std::string(severity_name(f.severity)) + " | " + f.where + " | " + f.what + "\n";
	return s;
}

bool has(const CheckReport &r, Severity s, const std::string &where, const std::string &what)
{
	for (const Finding &f : r.findings)
		if (f.severity == s && f.where.find(where) != std::string::npos &&
		    f.what.find(what) != std::string::npos)
			return true;
	return false;
}

void reseal(dlt::Bytes &b)
{
	std::uint32_t c = htole32(block_csum(b, dlt::test_uuid));
	std::memcpy(b.data(), &c, 4);
}

void busy_log(dlt::Env &env)
{
	for (int i = 0; i < 25; i++)
		env.w().append_write(static_cast<std::uint64_t>(i * 16 % 500), dlt::pattern(4096, i));
	env.w().append_mark("m");
	env.w().rollback(20);
	env.w().append_zero(0, 64, true);
	env.w().merge(env.origin, 10);
	env.w().sync();
}

} // namespace

TEST(Check, HealthyDeltaHasNoFindings)
{
	dlt::Env env;
	busy_log(env);
	CheckReport r = run(env, &env.origin);
	EXPECT_TRUE(r.findings.empty()) << all(r);
	ASSERT_TRUE(r.log);
	EXPECT_EQ(r.log->live(), env.w().log().live());
	EXPECT_FALSE(r.fatal());
}

TEST(Check, ReportsProgressOverTheDataItReads)
{
	dlt::Env env;
	busy_log(env);
	env.reopen();	// every record trusted: check reads all live data itself
	std::uint64_t live_bytes = 0;
	for (const Record &r : env.recover().live())
		if (r.has_data_csum())
			live_bytes += std::uint64_t{r.nr_sectors} * 512;
	ASSERT_GT(live_bytes, 0u);

	std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
	CheckOptions o;
	o.progress = [&](std::uint64_t done, std::uint64_t total) { calls.emplace_back(done, total); };
	CheckReport r = check(dlt::open_ro(env.pair.delta), o);
	EXPECT_FALSE(r.fatal()) << all(r);
	ASSERT_FALSE(calls.empty());
	for (std::size_t i = 0; i < calls.size(); i++) {
		EXPECT_EQ(calls[i].second, live_bytes);
		EXPECT_LE(calls[i].first, calls[i].second);
		if (i) {
			EXPECT_GT(calls[i].first, calls[i - 1].first);
		}
	}
	EXPECT_EQ(calls.back().first, live_bytes);
}

TEST(Check, Unformatted)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("zero"), 4096);
	CheckReport r = check(dlt::open_ro(dir.path("zero")));
	ASSERT_EQ(r.findings.size(), 1u);
	EXPECT_TRUE(has(r, Severity::fatal, "superblock", "not formatted"));
}

TEST(Check, TinyDevice)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("tiny"), 3);
	CheckReport r = check(dlt::open_ro(dir.path("tiny")));
	EXPECT_TRUE(has(r, Severity::fatal, "delta", "too small"));
}

TEST(Check, BothSuperblocksBadAreBothReported)
{
	dlt::Env env;
	dlt::flip_bit(env.pair.delta, 100);
	dlt::flip_bit(env.pair.delta, 4096 + 4);
	CheckReport r = run(env);
	EXPECT_TRUE(has(r, Severity::fatal, "superblock A", "checksum mismatch")) << all(r);
	EXPECT_TRUE(has(r, Severity::fatal, "superblock B", "bad magic")) << all(r);
	EXPECT_TRUE(has(r, Severity::fatal, "superblock", "no valid copy"));
	EXPECT_FALSE(r.log);
}

TEST(Check, BadSpareCopyIsAWarning)
{
	dlt::Env env;
	env.w().append_zero(0, 1);
	dlt::flip_bit(env.pair.delta, 300);	// A, generation 1; B is current
	CheckReport r = run(env);
	EXPECT_FALSE(r.fatal()) << all(r);
	EXPECT_TRUE(has(r, Severity::warning, "superblock A", "not valid, ignored: checksum"));
}

TEST(Check, ForeignSpareCopy)
{
	dlt::Env env;
	Superblock other = env.pair.sb;
	other.uuid[0] ^= 1;
	other.generation = 1;
	dlt::write_at(env.pair.delta, 0, pack_superblock(other, 0));
	EXPECT_TRUE(has(run(env), Severity::warning, "superblock A", "belongs to another log"));
}

TEST(Check, InterruptedMergeIsAWarning)
{
	dlt::Env env;
	for (int i = 0; i < 4; i++)
		env.w().append_write(static_cast<std::uint64_t>(i) * 8, dlt::pattern(4096, i));
	MergeHooks crash;
	crash.after_copy = [](std::size_t) { throw std::runtime_error("crash"); };
	EXPECT_THROW(env.w().merge(env.origin, 3, crash), std::runtime_error);
	CheckReport r = run(env, &env.origin);
	EXPECT_FALSE(r.fatal()) << all(r);
	EXPECT_TRUE(has(r, Severity::warning, "superblock", "merge up to seq 3 was interrupted"));
}

TEST(Check, OriginMismatch)
{
	dlt::Env env;
	dlt::flip_bit(env.pair.origin, 17);	// sector 0 is always sampled
	Device origin = dlt::open_ro(env.pair.origin);
	EXPECT_TRUE(has(run(env, &origin), Severity::fatal, "origin", "fingerprint"));
}

TEST(Check, ShrunkDelta)
{
	dlt::Env env;
	dlt::Bytes all_bytes = dlt::read_file(env.pair.delta);
	all_bytes.resize(all_bytes.size() - 8 * 512);
	dlt::write_file(env.pair.delta, all_bytes);
	CheckReport r = run(env);
	EXPECT_TRUE(has(r, Severity::fatal, "delta", "the delta shrank"));
}

TEST(Check, EveryMalformedRecordIsReported)
{
	dlt::Env env;
	for (int i = 0; i < 6; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	dlt::Bytes b = env.block_bytes(0);
	b[32 + 1 * 48 + 16] = std::byte{7};	// slot 1: unknown kind
	b[32 + 4 * 48 + 44] = std::byte{1};	// slot 4: reserved
	reseal(b);
	dlt::write_at(env.pair.delta, env.block_offset(0), b);
	CheckReport r = run(env);
	EXPECT_TRUE(has(r, Severity::fatal, "metadata block 0 (ring slot 0, sector 16) slot 1",
			"unknown record kind 7"))
		<< all(r);
	EXPECT_TRUE(has(r, Severity::fatal, "slot 4", "reserved bytes not zero")) << all(r);
}

TEST(Check, TrustedDataThatDoesNotMatch)
{
	dlt::Env env;
	env.w().append_write(0, dlt::pattern(4096, 1));
	env.w().sync();
	dlt::flip_bit(env.pair.delta, env.data_offset(0) + 9);
	CheckReport r = run(env);
	EXPECT_TRUE(has(r, Severity::fatal, "(seq 1)", "data checksum mismatch")) << all(r);
}

TEST(Check, RecoveryCutIsAWarning)
{
	dlt::Env env;
	env.w().append_write(0, dlt::pattern(4096, 1));
	env.w().append_write(8, dlt::pattern(4096, 2));
	dlt::flip_bit(env.pair.delta, env.data_offset(8) + 9);
	CheckReport r = run(env);
	EXPECT_FALSE(r.fatal()) << all(r);
	EXPECT_TRUE(has(r, Severity::warning, "(seq 2)", "did not reach the delta")) << all(r);
}

TEST(Check, LostBlocksBeforeACleanStop)
{
	dlt::Env env;
	for (int i = 0; i < 30; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	env.w().stop();
	dlt::flip_bit(env.pair.delta, env.block_offset(1) + 40);
	CheckReport r = run(env);
	EXPECT_TRUE(has(r, Severity::fatal, "log", "blocks are missing")) << all(r);
	// Block 2 is valid, past the end, and newer than the log.
	EXPECT_TRUE(has(r, Severity::warning, "metadata block 2", "newer than the log's newest"))
		<< all(r);
}

TEST(Check, HistoryLeftBehindByARollbackIsNotSuspicious)
{
	dlt::Env env;
	for (int i = 0; i < 40; i++)
		env.w().append_zero(static_cast<std::uint64_t>(i), 1);
	env.w().rollback(5);	// blocks 1..3 are left behind, older than the ROLLBACK
	CheckReport r = run(env);
	EXPECT_TRUE(r.findings.empty()) << all(r);
}

TEST(Check, OverlappingAndMisalignedData)
{
	dlt::Env env;
	MetaBlock mb;
	mb.index = 0;
	mb.records.push_back(Record::write(1, 5'000'000'000, 0, 8, 0, std::nullopt));
	mb.records.push_back(Record::write(2, 5'000'000'000, 16, 8, 4, std::nullopt));
	auto p = pack_block(mb, dlt::test_uuid, 512);
	dlt::write_at(env.pair.delta, env.block_offset(0), p.bytes);
	CheckReport r = run(env);
	EXPECT_TRUE(has(r, Severity::fatal, "data ring", "overlap")) << all(r);
	EXPECT_TRUE(has(r, Severity::warning, "(seq 2)", "4 KiB alignment")) << all(r);
}

TEST(Check, CollectsManyFindingsFromOneDamagedImage)
{
	dlt::Env env;
	for (int i = 0; i < 25; i++)
		env.w().append_write(static_cast<std::uint64_t>(i) * 8, dlt::pattern(4096, i));
	env.w().stop();			// clean_seq 25 in copy A (generation 3)
	dlt::flip_bit(env.pair.delta, 4096 + 200);			// spare copy B
	dlt::flip_bit(env.pair.delta, env.data_offset(8) + 1);		// seq 2's data
	dlt::Bytes b = env.block_bytes(1);
	b[32 + 3 * 48 + 18] = std::byte{0x80};				// slot 3: flags
	reseal(b);	// (block 2 no longer chains: the log ends after block 1)
	dlt::write_at(env.pair.delta, env.block_offset(1), b);
	CheckReport r = run(env);
	EXPECT_EQ(r.findings.size(), 5u) << all(r);
	EXPECT_TRUE(has(r, Severity::warning, "superblock B", "checksum")) << all(r);
	EXPECT_TRUE(has(r, Severity::fatal, "metadata block 1 (ring slot 1, sector 17) slot 3",
			"unknown WRITE flags")) << all(r);
	EXPECT_TRUE(has(r, Severity::fatal, "(seq 2)", "data checksum mismatch")) << all(r);
	EXPECT_TRUE(has(r, Severity::fatal, "log", "stopped cleanly at seq 25")) << all(r);
	EXPECT_TRUE(has(r, Severity::warning, "metadata block 2", "newer than the log")) << all(r);
	EXPECT_TRUE(r.fatal());
	EXPECT_EQ(r.count(Severity::fatal), 3u);
	EXPECT_EQ(r.count(Severity::warning), 2u);
}

TEST(Check, NeverThrowsOnGarbage)
{
	dlt::Env env;
	busy_log(env);
	dlt::Bytes img = dlt::read_file(env.pair.delta);
	std::mt19937 rng(1);
	for (int round = 0; round < 200; round++) {
		dlt::Bytes b = img;
		for (int k = 0; k < 20; k++) {
			std::size_t off = rng() % (64 * 512);	// superblocks and metadata
			b[off] = static_cast<std::byte>(rng());
		}
		dlt::write_file(env.pair.delta, b);
		EXPECT_NO_THROW(run(env));
	}
}
