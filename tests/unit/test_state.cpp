// The state at a seq (FORMAT.md section 8): extent map, lookups, images.
#include "deltalog/errors.hpp"
#include "deltalog/state.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace deltalog;

namespace {

Record w(std::uint64_t seq, std::uint64_t start, std::uint32_t len, std::uint64_t pos)
{
	return Record::write(seq, 0, start, len, pos, std::nullopt);
}

Record z(std::uint64_t seq, std::uint64_t start, std::uint32_t len)
{
	return Record::zero(seq, 0, start, len, false);
}

} // namespace

TEST(ExtentMap, NewestWinsAndSplits)
{
	ExtentMap m;
	m.apply(w(1, 10, 20, 100));	// 10..29 -> 100..119
	m.apply(z(2, 15, 5));		// 15..19 zero
	auto e = m.extents();
	ASSERT_EQ(e.size(), 3u);
	EXPECT_EQ(e[0], (Extent{10, 5, Source::data, 100, 1}));
	EXPECT_EQ(e[1], (Extent{15, 5, Source::zero, 0, 2}));
	EXPECT_EQ(e[2], (Extent{20, 10, Source::data, 110, 1}));
}

TEST(ExtentMap, OverwritesAcrossSeveralPieces)
{
	ExtentMap m;
	m.apply(w(1, 0, 10, 0));
	m.apply(w(2, 10, 10, 50));
	m.apply(w(3, 20, 10, 80));
	m.apply(w(4, 5, 20, 200));	// covers the end of 1, all of 2, the start of 3
	auto e = m.extents();
	ASSERT_EQ(e.size(), 3u);
	EXPECT_EQ(e[0], (Extent{0, 5, Source::data, 0, 1}));
	EXPECT_EQ(e[1], (Extent{5, 20, Source::data, 200, 4}));
	EXPECT_EQ(e[2], (Extent{25, 5, Source::data, 85, 3}));
}

TEST(ExtentMap, ExactAndCoveringOverwrites)
{
	ExtentMap m;
	m.apply(w(1, 8, 8, 0));
	m.apply(w(2, 8, 8, 16));
	EXPECT_EQ(m.extents(), (std::vector<Extent>{{8, 8, Source::data, 16, 2}}));
	m.apply(z(3, 0, 100));
	EXPECT_EQ(m.extents(), (std::vector<Extent>{{0, 100, Source::zero, 0, 3}}));
	m.apply(w(4, 99, 1, 7));
	m.apply(w(5, 0, 1, 9));
	EXPECT_EQ(m.size(), 3u);
}

TEST(ExtentMap, MarksAndRollbacksChangeNothing)
{
	ExtentMap m;
	m.apply(Record::mark(1, 0, "x"));
	m.apply(Record::rollback(3, 0, 1));
	EXPECT_EQ(m.size(), 0u);
}

TEST(ExtentMap, LookupFillsGapsFromTheOrigin)
{
	ExtentMap m;
	m.apply(w(1, 10, 10, 100));
	m.apply(z(2, 30, 5));
	auto v = m.lookup(5, 35);
	ASSERT_EQ(v.size(), 5u);
	EXPECT_EQ(v[0], (Extent{5, 5, Source::origin, 0, 0}));
	EXPECT_EQ(v[1], (Extent{10, 10, Source::data, 100, 1}));
	EXPECT_EQ(v[2], (Extent{20, 10, Source::origin, 0, 0}));
	EXPECT_EQ(v[3], (Extent{30, 5, Source::zero, 0, 2}));
	EXPECT_EQ(v[4], (Extent{35, 5, Source::origin, 0, 0}));
	// Starting inside a piece shifts its data position.
	v = m.lookup(13, 2);
	EXPECT_EQ(v, (std::vector<Extent>{{13, 2, Source::data, 103, 1}}));
	EXPECT_EQ(m.lookup(0, 3), (std::vector<Extent>{{0, 3, Source::origin, 0, 0}}));
}

TEST(ExtentMap, MatchesANaiveSectorMap)
{
	std::mt19937 rng(11);
	ExtentMap m;
	std::vector<std::pair<int, std::uint64_t>> naive(300, {0, 0});	// kind, data pos
	for (std::uint64_t seq = 1; seq < 400; seq++) {
		std::uint64_t s = rng() % 290, n = 1 + rng() % 10;
		bool zero = rng() % 4 == 0;
		std::uint64_t pos = rng() % 100000;
		m.apply(zero ? z(seq, s, static_cast<std::uint32_t>(n))
			     : w(seq, s, static_cast<std::uint32_t>(n), pos));
		for (std::uint64_t i = 0; i < n; i++)
			naive[s + i] = zero ? std::pair<int, std::uint64_t>{2, 0}
					    : std::pair<int, std::uint64_t>{1, pos + i};
	}
	for (const Extent &e : m.lookup(0, 300)) {
		for (std::uint64_t i = 0; i < e.length; i++) {
			auto [kind, pos] = naive[e.start + i];
			ASSERT_EQ(static_cast<int>(e.source), kind) << e.start + i;
			if (kind == 1) {
				ASSERT_EQ(e.data_pos + i, pos) << e.start + i;
			}
		}
	}
}

TEST(State, AtEverySeqMatchesTheWrites)
{
	dlt::Env env;
	dlt::Bytes model = env.origin_bytes();
	std::vector<dlt::Bytes> at{model};
	std::mt19937 rng(3);
	for (int i = 1; i <= 30; i++) {
		std::uint64_t s = rng() % 500, n = 1 + rng() % 12;
		if (i % 6 == 0) {
			env.w().append_zero(s, static_cast<std::uint32_t>(n));
			std::fill_n(model.begin() + static_cast<std::ptrdiff_t>(s * 512), n * 512,
				    std::byte{0});
		} else {
			auto data = dlt::pattern(n * 512, i);
			env.w().append_write(s, data);
			std::copy(data.begin(), data.end(),
				  model.begin() + static_cast<std::ptrdiff_t>(s * 512));
		}
		at.push_back(model);
	}
	for (std::uint64_t seq = 0; seq <= 30; seq++)
		ASSERT_EQ(env.image(seq), at[seq]) << "seq " << seq;
}

TEST(State, BeforeMergedIsGone)
{
	dlt::Env env;
	env.w().append_zero(0, 1);
	env.w().append_zero(1, 1);
	env.w().merge(env.origin, 1);
	EXPECT_THROW(state_at(env.recover(), 0), ResolveError);
	EXPECT_NO_THROW(state_at(env.recover(), 1));
}

TEST(State, ReadImageOfAPart)
{
	dlt::Env env;
	auto data = dlt::pattern(4 * 512, 1);
	env.w().append_write(6, data);
	LogState log = env.recover();
	ExtentMap m = state_at(log, 1);
	dlt::Bytes part(8 * 512);
	read_image(log, m, env.delta, env.origin, 4, part);
	dlt::Bytes origin = env.origin_bytes();
	EXPECT_TRUE(std::equal(part.begin(), part.begin() + 1024, origin.begin() + 4 * 512));
	EXPECT_TRUE(std::equal(part.begin() + 1024, part.begin() + 3072, data.begin()));
	EXPECT_TRUE(std::equal(part.begin() + 3072, part.end(), origin.begin() + 10 * 512));
}
