// The kernel's extent index, dm-target/deltalog-index.c, built as userspace C
// over tests/unit/kshim: the overlap and merge rules on small cases, a
// property test against a naive per-sector model (small data rings so that
// offsets wrap; sparse devices so that leaves hit their 2^32-sector span),
// the reserve/insert contract (an insert never allocates), and the memory per
// extent that docs/dm-deltalog.rst quotes. The same file is built with the
// kernel's 4 KiB nodes and with 256-byte ones (deep trees from few extents).
extern "C" {
#include "deltalog-index.h"
#include "kshim.h"
#include <linux/slab.h>
}

#include <deltalog/format.h>

#include "kernel_index_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <map>
#include <ostream>
#include <random>
#include <vector>

#ifndef DELTALOG_NODE_SIZE
#define DELTALOG_NODE_SIZE 4096
#endif

namespace {

constexpr std::uint64_t kU32Max = 0xffffffffull;
constexpr std::uint16_t W = DLOG_REC_WRITE;
constexpr std::uint16_t Z = DLOG_REC_ZERO;

struct Ext {
	std::uint64_t start, len;
	std::uint16_t kind;
	std::uint64_t off;

	bool operator==(const Ext &o) const
	{
		return start == o.start && len == o.len && kind == o.kind &&
		       (kind == Z || off == o.off);
	}
};

void PrintTo(const Ext &e, std::ostream *os)
{
	*os << "{" << e.start << "+" << e.len;
	if (e.kind == W)
		*os << " W@" << e.off;
	else
		*os << " Z";
	*os << "}";
}

class Index {
public:
	explicit Index(std::uint64_t data_sectors) { deltalog_index_setup(&ix_, data_sectors); }
	~Index()
	{
		deltalog_index_destroy(&ix_);
		deltalog_index_unreserve(&sp_);
	}
	Index(const Index &) = delete;
	Index &operator=(const Index &) = delete;

	// reserve() then insert(), as the target does; the insert must not
	// allocate. check: walk the whole tree for its invariants.
	void insert(std::uint64_t start, std::uint32_t n, std::uint16_t kind, std::uint64_t pos,
		    bool check = true)
	{
		ASSERT_EQ(deltalog_index_reserve(&sp_, GFP_NOIO), 0);
		unsigned long allocs = kshim_allocs;
		deltalog_index_insert(&ix_, start, n, kind, pos, &sp_);
		ASSERT_EQ(kshim_allocs, allocs) << "insert allocated";
		if (check) {
			ASSERT_EQ(deltalog_index_check(&ix_), 0) << "invariant broken at line";
		}
	}

	bool find(std::uint64_t sector, Ext *e)
	{
		deltalog_extent x;

		if (!deltalog_index_find(&ix_, sector, &x))
			return false;
		*e = Ext{x.start, x.len, x.kind, x.data_off};
		return true;
	}

	std::vector<Ext> extents()
	{
		std::vector<Ext> v;
		std::uint64_t cur = 0;
		Ext e;

		while (find(cur, &e)) {
			v.push_back(e);
			cur = e.start + e.len;
		}
		return v;
	}

	bool remove(std::uint64_t start, std::uint64_t len)
	{
		const unsigned long allocs = kshim_allocs;
		const bool removed = deltalog_index_remove(&ix_, start, len);

		EXPECT_EQ(kshim_allocs, allocs) << "remove allocated";
		EXPECT_EQ(deltalog_index_check(&ix_), 0) << "invariant broken at line";
		return removed;
	}

	std::uint64_t nr() { return deltalog_index_nr_extents(&ix_); }
	std::uint64_t bytes() { return deltalog_index_bytes(&ix_); }
	unsigned int height() const { return ix_.height; }
	int check() { return deltalog_index_check(&ix_); }
	deltalog_index_spare &spare() { return sp_; }
	deltalog_index &raw() { return ix_; }

private:
	deltalog_index ix_{};
	deltalog_index_spare sp_{};
};

TEST_F(KernelIndex, EmptyIndexFindsNothing)
{
	Index ix(1000);
	Ext e;

	EXPECT_FALSE(ix.find(0, &e));
	EXPECT_EQ(ix.nr(), 0u);
	EXPECT_EQ(ix.bytes(), 0u);
	EXPECT_EQ(ix.check(), 0);
}

TEST_F(KernelIndex, FindReturnsFirstExtentEndingAfterSector)
{
	Index ix(1 << 20);
	Ext e;

	ix.insert(100, 10, W, 500);
	ix.insert(200, 10, Z, 0);
	ASSERT_TRUE(ix.find(0, &e));
	EXPECT_EQ(e, (Ext{100, 10, W, 500}));
	ASSERT_TRUE(ix.find(109, &e));
	EXPECT_EQ(e, (Ext{100, 10, W, 500}));
	ASSERT_TRUE(ix.find(110, &e));
	EXPECT_EQ(e, (Ext{200, 10, Z, 0}));
	EXPECT_EQ(e.off, 0u);
	EXPECT_FALSE(ix.find(210, &e));
}

TEST_F(KernelIndex, InsertInsideAnExtentSplitsIt)
{
	Index ix(1 << 20);

	ix.insert(100, 100, W, 1000);
	ix.insert(120, 10, W, 5000);
	EXPECT_EQ(ix.extents(),
		  (std::vector<Ext>{{100, 20, W, 1000}, {120, 10, W, 5000}, {130, 70, W, 1030}}));
	EXPECT_EQ(ix.nr(), 3u);
}

TEST_F(KernelIndex, InsertTrimsRemovesAndWins)
{
	Index ix(1 << 20);

	ix.insert(0, 10, W, 100);
	ix.insert(20, 10, W, 200);
	ix.insert(40, 10, Z, 0);
	ix.insert(60, 10, W, 300);
	// Covers the end of the first, all of the second and third, the start of the fourth.
	ix.insert(5, 60, W, 900);
	EXPECT_EQ(ix.extents(),
		  (std::vector<Ext>{{0, 5, W, 100}, {5, 60, W, 900}, {65, 5, W, 305}}));
	EXPECT_EQ(ix.nr(), 3u);
	// Exactly over one extent.
	ix.insert(5, 60, Z, 0);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 5, W, 100}, {5, 60, Z, 0}, {65, 5, W, 305}}));
}

TEST_F(KernelIndex, WritesCoalesceWhenContiguousOnBothSides)
{
	Index ix(1 << 20);

	ix.insert(0, 8, W, 0);
	ix.insert(8, 8, W, 8);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 16, W, 0}}));
	// Adjacent on the origin but not in the ring: two extents.
	ix.insert(16, 8, W, 100);
	EXPECT_EQ(ix.nr(), 2u);
	// A gap filled by the write that continues both.
	ix.insert(40, 8, W, 124);
	ix.insert(32, 8, W, 116);	// continues only the one after
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 16, W, 0}, {16, 8, W, 100}, {32, 16, W, 116}}));
	ix.insert(24, 8, W, 108);	// continues both
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 16, W, 0}, {16, 32, W, 100}}));
	EXPECT_EQ(ix.extents()[1].off, 100u);
}

// The in-place path for an overwrite of exactly one extent: it must still
// merge with the extents on either side when it continues them, within a
// leaf and across leaves.
TEST_F(KernelIndex, ExactOverwritesReplaceOrMerge)
{
	Index ix(1 << 20);

	ix.insert(0, 8, W, 0);
	ix.insert(16, 8, W, 100);
	ix.insert(32, 8, W, 200);
	ix.insert(16, 8, W, 300);	// in place
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 8, W, 0}, {16, 8, W, 300}, {32, 8, W, 200}}));
	ix.insert(8, 8, W, 500);
	ix.insert(8, 8, W, 8);		// now continues the one before
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 16, W, 0}, {16, 8, W, 300}, {32, 8, W, 200}}));
	ix.insert(24, 8, W, 600);
	ix.insert(24, 8, W, 192);	// continues the one after
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 16, W, 0}, {16, 8, W, 300}, {24, 16, W, 192}}));
	ix.insert(16, 8, Z, 0);		// a zero over a write, in place
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 16, W, 0}, {16, 8, Z, 0}, {24, 16, W, 192}}));
	EXPECT_EQ(ix.nr(), 3u);

	// Many leaves: blocks 2k and 2k+1 written apart in the ring, then each
	// 2k+1 overwritten so that it continues 2k (which may sit in the leaf
	// before), not 2k+2.
	Index big(1 << 30);
	const std::uint64_t pairs = 2 * DELTALOG_NODE_SIZE;
	for (std::uint64_t k = 0; k < pairs; k++) {
		big.insert(2 * k * 8, 8, W, k * 800);
		big.insert((2 * k + 1) * 8, 8, W, (pairs + k) * 800);
	}
	for (std::uint64_t k = 0; k < pairs; k++)
		big.insert((2 * k + 1) * 8, 8, W, k * 800 + 8, false);
	std::vector<Ext> want;
	for (std::uint64_t k = 0; k < pairs; k++)
		want.push_back({2 * k * 8, 16, W, k * 800});
	EXPECT_EQ(big.extents(), want);
	EXPECT_EQ(big.check(), 0);
}

TEST_F(KernelIndex, ZeroesCoalesceWhenAdjacent)
{
	Index ix(1 << 20);

	ix.insert(100, 10, Z, 0);
	ix.insert(110, 10, Z, 0);
	ix.insert(90, 10, Z, 0);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{90, 30, Z, 0}}));
	// A discard inside a discarded range stays one extent.
	ix.insert(95, 5, Z, 0);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{90, 30, Z, 0}}));
	// A write never merges with zeroes.
	ix.insert(120, 10, W, 0);
	EXPECT_EQ(ix.nr(), 2u);
}

TEST_F(KernelIndex, OffsetsWrapAtTheRingEnd)
{
	Index ix(100);

	// Offsets are kept modulo the ring; an extent may wrap the ring end.
	ix.insert(0, 50, W, 1080);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 50, W, 80}}));
	// Trimming its front moves the offset past the end: (80 + 30) % 100.
	ix.insert(0, 30, Z, 0);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 30, Z, 0}, {30, 20, W, 10}}));
	// Contiguous across the wrap: one extent.
	ix.insert(200, 20, W, 90);
	ix.insert(220, 10, W, 110);
	EXPECT_EQ(ix.extents().back(), (Ext{200, 30, W, 90}));
}

TEST_F(KernelIndex, LengthStopsMergingAtU32Max)
{
	Index ix(1 << 20);

	ix.insert(0, kU32Max, Z, 0);
	ix.insert(kU32Max, 10, Z, 0);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, kU32Max, Z, 0}, {kU32Max, 10, Z, 0}}));
	// A write inside the long extent, then the same range zeroed again.
	ix.insert(1000, 8, W, 0);
	EXPECT_EQ(ix.nr(), 4u);
	ix.insert(1000, 8, Z, 0);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, kU32Max, Z, 0}, {kU32Max, 10, Z, 0}}));
	// Extents far apart, 2^32 sectors and more: leaves split on the span.
	ix.insert(1ull << 40, 8, W, 0);
	ix.insert((1ull << 40) + 8, 8, W, 8);
	ix.insert(3ull << 33, 8, W, 100);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, kU32Max, Z, 0},
						  {kU32Max, 10, Z, 0},
						  {3ull << 33, 8, W, 100},
						  {1ull << 40, 16, W, 0}}));
}

TEST_F(KernelIndex, SequentialAppendsStayOneExtent)
{
	Index ix(1ull << 40);

	for (std::uint64_t i = 0; i < 100000; i++)
		ix.insert(i * 8, 8, W, i * 8, false);
	EXPECT_EQ(ix.check(), 0);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 800000, W, 0}}));
	EXPECT_EQ(ix.bytes(), std::uint64_t{DELTALOG_NODE_SIZE});
}

TEST_F(KernelIndex, ReserveAndUnreserveOnlyCount)
{
	Index ix(1 << 20);
	deltalog_index_spare &sp = ix.spare();

	// The first claim fills the pool, with the caller's gfp.
	unsigned long a0 = kshim_allocs, f0 = kshim_frees;
	ASSERT_EQ(deltalog_index_reserve(&sp, GFP_NOWAIT), 0);
	EXPECT_EQ(kshim_allocs - a0, unsigned{DELTALOG_INDEX_SPARE_NODES});
	EXPECT_EQ(kshim_last_gfp, GFP_NOWAIT | __GFP_NOWARN);
	EXPECT_EQ(sp.nr, unsigned{DELTALOG_INDEX_SPARE_NODES});
	ASSERT_EQ(deltalog_index_reserve(&sp, GFP_NOWAIT), 0);
	deltalog_index_unreserve(&sp);
	EXPECT_EQ(sp.nr, 0u);
	EXPECT_EQ(kshim_allocs - a0, unsigned{DELTALOG_INDEX_SPARE_NODES});
	EXPECT_EQ(kshim_frees, f0) << "the pool keeps what it had";

	// A spare on the stack for each write, as the target does: nodes are
	// allocated only for the tree's growth, and none is freed.
	std::mt19937_64 rng(1);
	unsigned long allocs = kshim_allocs, frees = kshim_frees;
	for (int i = 0; i < 20000; i++) {
		deltalog_index_spare stack{};

		ASSERT_EQ(deltalog_index_reserve(&stack, GFP_NOWAIT), 0);
		deltalog_index_insert(&ix.raw(), rng() % (1u << 24) * 8, 8, W, i * 8, &stack);
		deltalog_index_unreserve(&stack);
	}
	EXPECT_EQ(ix.check(), 0);
	EXPECT_EQ(kshim_frees, frees);
	EXPECT_LE(kshim_allocs - allocs, ix.raw().nr_nodes);
	std::printf("20000 writes: %lu nodes allocated, %" PRIu64 " in the tree\n",
		    kshim_allocs - allocs, ix.raw().nr_nodes);
}

TEST_F(KernelIndex, ReserveFailsCleanly)
{
	deltalog_index_spare sp{}, other{};

	// The third allocation fails: nothing is claimed, the two stay pooled.
	kshim_fail_in = 3;
	EXPECT_EQ(deltalog_index_reserve(&sp, GFP_NOWAIT), -ENOMEM);
	EXPECT_EQ(sp.nr, 0u);
	unsigned long allocs = kshim_allocs;
	EXPECT_EQ(deltalog_index_reserve(&sp, GFP_NOIO), 0);
	EXPECT_EQ(kshim_allocs - allocs, unsigned{DELTALOG_INDEX_SPARE_NODES} - 2);
	// Two claims at once need twice the nodes.
	EXPECT_EQ(deltalog_index_reserve(&other, GFP_NOIO), 0);
	EXPECT_EQ(kshim_allocs - allocs, 2 * unsigned{DELTALOG_INDEX_SPARE_NODES} - 2);
	deltalog_index_unreserve(&sp);
	deltalog_index_unreserve(&other);
	deltalog_index_unreserve(&other);	// twice: nothing left to give back
	EXPECT_EQ(other.nr, 0u);
}

TEST_F(KernelIndex, ADiscardOverEverythingFreesTheTree)
{
	Index ix(1 << 20);

	for (std::uint64_t i = 0; i < 5000; i++)
		ix.insert(i * 16, 8, W, i * 8, false);
	EXPECT_GT(ix.raw().nr_nodes, 2u);
	EXPECT_GT(ix.height(), 0u);
	ix.insert(0, 5000 * 16, Z, 0);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 80000, Z, 0}}));
	EXPECT_EQ(ix.raw().nr_nodes, 1u);
	EXPECT_EQ(ix.height(), 0u);
	EXPECT_EQ(ix.bytes(), std::uint64_t{DELTALOG_NODE_SIZE});
	// The freed nodes are pooled: claiming again allocates nothing.
	unsigned long allocs = kshim_allocs;
	ASSERT_EQ(deltalog_index_reserve(&ix.spare(), GFP_NOIO), 0);
	EXPECT_EQ(kshim_allocs, allocs);
}

TEST_F(KernelIndex, ExtentsFarApartEachTakeALeaf)
{
	// 2^33 sectors apart: no two fit in one leaf. Descending, each one is a
	// new first leaf; then ascending, each a new last one.
	Index ix(1 << 20);
	std::vector<Ext> want;

	for (std::uint64_t i = 600; i > 300; i--)
		ix.insert(i << 33, 8, W, i * 8, false);
	ASSERT_EQ(ix.check(), 0);
	for (std::uint64_t i = 601; i <= 900; i++)
		ix.insert(i << 33, 8, W, i * 8, false);
	ASSERT_EQ(ix.check(), 0);
	for (std::uint64_t i = 301; i <= 900; i++)
		want.push_back(Ext{i << 33, 8, W, i * 8});
	EXPECT_EQ(ix.extents(), want);
	EXPECT_EQ(ix.nr(), 600u);
	EXPECT_GT(ix.height(), 0u);
	// Neighbours within reach again: 2^31 sectors after each.
	for (std::uint64_t i = 301; i <= 900; i++)
		ix.insert((i << 33) + (1ull << 31), 8, W, 0, false);
	ASSERT_EQ(ix.check(), 0);
	EXPECT_EQ(ix.nr(), 1200u);
	// Each pair discarded, twice.
	for (int pass = 0; pass < 2; pass++) {
		for (std::uint64_t i = 301; i <= 900; i++)
			ix.insert(i << 33, (1u << 31) + 8, Z, 0, false);
	}
	ASSERT_EQ(ix.check(), 0);
	EXPECT_EQ(ix.nr(), 600u);
	for (const Ext &e : ix.extents())
		ASSERT_EQ(e.kind, Z);
}

TEST_F(KernelIndex, FreedNodesGoBackToThePoolThenToTheSlab)
{
	Index ix(1 << 20);

	for (std::uint64_t i = 0; i < 20000; i++)
		ix.insert(i * 16, 8, W, i * 8, false);
	std::uint64_t nodes = ix.raw().nr_nodes;
	ASSERT_GT(nodes, 4u * DELTALOG_INDEX_SPARE_NODES + 2);
	unsigned long frees = kshim_frees, allocs = kshim_allocs;
	ix.insert(0, 20000 * 16, Z, 0);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 320000, Z, 0}}));
	EXPECT_EQ(ix.raw().nr_nodes, 1u);
	EXPECT_EQ(kshim_allocs, allocs);
	// The pool keeps a few beyond what is claimed, and frees the rest.
	EXPECT_EQ(kshim_frees - frees, nodes - 4 * DELTALOG_INDEX_SPARE_NODES);
	deltalog_index_unreserve(&ix.spare());
	allocs = kshim_allocs;
	for (int i = 0; i < 5; i++) {
		ASSERT_EQ(deltalog_index_reserve(&ix.spare(), GFP_NOIO), 0);
		deltalog_index_unreserve(&ix.spare());
	}
	EXPECT_EQ(kshim_allocs, allocs);
}

TEST_F(KernelIndex, WithoutARingOffsetsAreKeptWhole)
{
	Index ix(0);

	ix.insert(0, 8, W, 12345);
	ix.insert(8, 8, W, 12353);
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 16, W, 12345}}));
}

TEST_F(KernelIndex, RemoveTakesOnlyTheExactExtent)
{
	Index ix(1000);
	ix.insert(100, 10, W, 500);
	ix.insert(200, 10, Z, 0);

	EXPECT_FALSE(ix.remove(100, 5));	// part of an extent: no
	EXPECT_FALSE(ix.remove(150, 10));	// nothing there
	EXPECT_TRUE(ix.remove(100, 10));
	EXPECT_FALSE(ix.remove(100, 10));	// gone already
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{200, 10, Z, 0}}));
	EXPECT_TRUE(ix.remove(200, 10));
	EXPECT_EQ(ix.nr(), 0u);
	EXPECT_EQ(ix.bytes(), 0u);
}

// What a merge does when it frees data: walk the index and drop every
// extent whose data lies in the freed part of the ring, over many leaves.
TEST_F(KernelIndex, DroppingFreedDataKeepsTheRestAndFreesEmptyLeaves)
{
	Index ix(1u << 30);
	std::mt19937_64 rng(7);
	std::vector<Ext> kept;

	for (std::uint64_t i = 0; i < 20000; i++)
		ix.insert(i * 16, 8, W, (rng() % 4000) * 8, false);
	ASSERT_EQ(ix.check(), 0);
	ASSERT_GT(ix.height(), 0u);

	std::uint64_t cur = 0;
	Ext e;
	while (ix.find(cur, &e)) {
		cur = e.start + e.len;
		if (e.off < 2000 * 8)
			ASSERT_TRUE(ix.remove(e.start, e.len));
		else
			kept.push_back(e);
	}
	EXPECT_EQ(ix.extents(), kept);
	EXPECT_EQ(ix.nr(), kept.size());
	for (const Ext &k : kept)
		ASSERT_TRUE(ix.remove(k.start, k.len));
	EXPECT_EQ(ix.nr(), 0u);
	EXPECT_EQ(ix.bytes(), 0u);
}

TEST_F(KernelIndex, InsertWithoutReserveWarnsAndStillWorks)
{
	Index ix(1 << 20);

	deltalog_index_insert(&ix.raw(), 0, 8, W, 0, &ix.spare());
	EXPECT_EQ(kshim_warnings, warnings_ + 1);
	warnings_ = kshim_warnings;
	EXPECT_EQ(ix.extents(), (std::vector<Ext>{{0, 8, W, 0}}));
	EXPECT_EQ(ix.check(), 0);
}

// ---- Property test against a per-sector model --------------------------

struct Cell {
	std::uint16_t kind = 0;	// 0: origin
	std::uint64_t off = 0;

	bool operator==(const Cell &o) const { return kind == o.kind && (kind != W || off == o.off); }
};

// The index against a model: every sector of [lo, hi) must read the same, and
// extents must be ordered, apart, and never continue one another.
template <typename CellAt>
void verify(Index &ix, std::uint64_t ds, std::uint64_t lo, std::uint64_t hi, CellAt cell_at,
	    std::uint64_t *count = nullptr)
{
	std::uint64_t cur = lo, n = 0;
	Ext e, prev{};
	bool have_prev = false;

	while (cur < hi && ix.find(cur, &e)) {
		ASSERT_GT(e.len, 0u);
		ASSERT_GT(e.start + e.len, cur);
		if (have_prev) {
			ASSERT_GE(e.start, prev.start + prev.len) << "overlap";
			if (prev.start + prev.len == e.start && prev.kind == e.kind) {
				ASSERT_TRUE(e.kind == W && (prev.off + prev.len) % ds != e.off)
					<< "extents that continue each other at " << e.start;
			}
		}
		if (e.kind == W) {
			ASSERT_LT(e.off, ds);
		}
		for (std::uint64_t s = cur; s < e.start && s < hi; s++)
			ASSERT_EQ(cell_at(s).kind, 0) << "sector " << s << " lost";
		for (std::uint64_t s = std::max(cur, e.start); s < e.start + e.len && s < hi; s++) {
			Cell c{e.kind, e.kind == W ? (e.off + (s - e.start)) % ds : 0};
			ASSERT_EQ(cell_at(s), c) << "sector " << s;
		}
		prev = e;
		have_prev = true;
		cur = e.start + e.len;
		n++;
	}
	for (std::uint64_t s = cur; s < hi; s++)
		ASSERT_EQ(cell_at(s).kind, 0) << "sector " << s << " lost at the end";
	if (count)
		*count = n;
}

class KernelIndexProperty : public KernelIndex, public ::testing::WithParamInterface<unsigned> {};

TEST_P(KernelIndexProperty, MatchesAPerSectorModel)
{
	const unsigned seed = GetParam();
	std::mt19937_64 rng(seed);
	const std::uint64_t dev = 1 << 16;
	const std::uint64_t ds = 997 + 8 * (seed % 5);	// small, odd: offsets wrap all the time
	std::vector<Cell> model(dev);
	Index ix(ds);
	std::uint64_t head = rng() % (1ull << 62), last_end = 0, last_kind = W;
	auto at = [&](std::uint64_t s) { return model[s]; };
	auto pick = [&](std::uint64_t n) { return rng() % n; };

	for (int op = 0; op < 12000; op++) {
		std::uint64_t start, len, pos = head;
		std::uint16_t kind = W;
		unsigned r = pick(100);

		if (r < 45) {
			start = pick(dev);
			len = 1 + pick(pick(4) ? 16 : 128);
		} else if (r < 65) {
			// Continues the last one: merges if it was in the ring after it.
			start = last_end;
			len = 1 + pick(32);
			kind = last_kind;
		} else if (r < 77) {
			start = pick(dev);
			len = 1 + pick(256);
			kind = Z;
		} else if (r < 80) {
			start = pick(dev);
			len = 1 + pick(8192);
			kind = Z;
		} else if (r < 88) {
			// Exactly over an existing extent (or the gap after it).
			Ext e;
			if (!ix.find(pick(dev), &e))
				continue;
			start = e.start;
			len = e.len;
			kind = pick(3) ? W : Z;
		} else if (r < 94) {
			start = pick(dev);
			len = 1 + pick(64);
			pos = rng();	// anywhere in the 64-bit position space
		} else {
			// Aligned 4 KiB writes, as filesystems do.
			start = pick(dev / 8) * 8;
			len = 8;
		}
		if (start >= dev)
			continue;
		if (start + len > dev)
			len = dev - start;

		ix.insert(start, len, kind, pos);
		if (HasFatalFailure())
			return;
		for (std::uint64_t i = 0; i < len; i++)
			model[start + i] = Cell{kind, kind == W ? (pos % ds + i) % ds : 0};
		if (kind == W && pos == head)
			head += len;
		last_end = start + len;
		last_kind = kind;

		// Around the insert, every time; the whole device now and then.
		std::uint64_t lo = start > 300 ? start - 300 : 0, hi = std::min(dev, start + len + 300);
		verify(ix, ds, lo, hi, at);
		if (HasFatalFailure())
			return;
		if (op % 1000 == 999) {
			std::uint64_t n;
			verify(ix, ds, 0, dev, at, &n);
			if (HasFatalFailure())
				return;
			ASSERT_EQ(n, ix.nr());
		}
	}
	std::printf("seed %u: %" PRIu64 " extents, height %u, %" PRIu64 " bytes\n", seed, ix.nr(),
		    ix.height(), ix.bytes());
}

INSTANTIATE_TEST_SUITE_P(Seeds, KernelIndexProperty, ::testing::Range(1u, 9u));

// Sparse: clusters of extents a little less than 2^32 sectors apart, and
// some far beyond, so that leaves are split and kept apart by their span.
TEST_P(KernelIndexProperty, SparseDeviceMatchesAPerSectorModel)
{
	const unsigned seed = GetParam();
	std::mt19937_64 rng(seed * 7919);
	const std::uint64_t ds = 1ull << 62;
	std::map<std::uint64_t, Cell> model;
	std::vector<std::uint64_t> clusters;
	Index ix(ds);
	std::uint64_t head = 0;
	auto at = [&](std::uint64_t s) {
		auto it = model.find(s);
		return it == model.end() ? Cell{} : it->second;
	};

	for (std::uint64_t c = 0; c < 8; c++)
		clusters.push_back(c * ((1ull << 32) - 1000));
	clusters.push_back(1ull << 40);
	clusters.push_back((1ull << 40) + (1ull << 32));
	clusters.push_back((1ull << 62) - 10000);

	for (int op = 0; op < 6000; op++) {
		std::uint64_t base = clusters[rng() % clusters.size()];
		std::uint64_t start = base + rng() % 3000, len = 1 + rng() % (rng() % 4 ? 16 : 200);
		std::uint16_t kind = rng() % 5 ? W : Z;

		ix.insert(start, len, kind, head);
		if (HasFatalFailure())
			return;
		for (std::uint64_t i = 0; i < len; i++)
			model[start + i] = Cell{kind, kind == W ? (head + i) % ds : 0};
		if (kind == W)
			head += len + rng() % 2;	// sometimes not contiguous
		verify(ix, ds, start > 300 ? start - 300 : 0, start + len + 300, at);
		if (HasFatalFailure())
			return;
	}

	// Every extent matches the model, and the extents cover all of it.
	std::uint64_t covered = 0;
	for (const Ext &e : ix.extents()) {
		for (std::uint64_t s = e.start; s < e.start + e.len; s++)
			ASSERT_EQ(at(s), (Cell{e.kind, e.kind == W ? (e.off + (s - e.start)) % ds : 0}));
		covered += e.len;
	}
	EXPECT_EQ(covered, model.size());
	std::printf("sparse seed %u: %" PRIu64 " extents, height %u, %" PRIu64 " bytes\n", seed,
		    ix.nr(), ix.height(), ix.bytes());
}

// ---- Memory per extent ---------------------------------------------------

// The figures are for the kernel's 4 KiB nodes only.
#if DELTALOG_NODE_SIZE == 4096

struct Figure {
	std::uint64_t extents, bytes;
	double per_extent;
};

Figure report(const char *what, Index &ix, double seconds, std::uint64_t inserts)
{
	Figure f{ix.nr(), ix.bytes(), ix.nr() ? double(ix.bytes()) / double(ix.nr()) : 0};

	std::printf("%-44s %8" PRIu64 " extents %10" PRIu64 " bytes %6.2f bytes/extent"
		    "  height %u  %.0f ns/insert\n",
		    what, f.extents, f.bytes, f.per_extent, ix.height(),
		    seconds * 1e9 / double(inserts));
	return f;
}

double since(std::chrono::steady_clock::time_point t0)
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class KernelIndexMemory : public KernelIndex {};

constexpr std::uint64_t kDevBlocks = (64ull << 30) / 4096;	// 64 GiB in 4 KiB blocks
constexpr int kInserts = 200000;

TEST_F(KernelIndexMemory, RandomWritesTakeAtMost24BytesPerExtent)
{
	Index ix(1ull << 40);
	std::mt19937_64 rng(42);
	auto t0 = std::chrono::steady_clock::now();

	for (int i = 0; i < kInserts; i++)
		ix.insert(rng() % kDevBlocks * 8, 8, W, std::uint64_t(i) * 8, false);
	Figure f = report("random 4 KiB writes over 64 GiB", ix, since(t0), kInserts);
	ASSERT_EQ(ix.check(), 0);
	EXPECT_GT(f.extents, kInserts * 99ull / 100);
	EXPECT_LE(f.per_extent, 24.0);

	// Lookups: the first extent at or after random sectors.
	Ext e;
	std::uint64_t hits = 0;
	t0 = std::chrono::steady_clock::now();
	for (int i = 0; i < 1000000; i++)
		hits += ix.find(rng() % (kDevBlocks * 8), &e);
	std::printf("%-44s %.0f ns/lookup\n", "  lookups", since(t0) * 1e9 / 1e6);
	EXPECT_GT(hits, 0u);
}

TEST_F(KernelIndexMemory, RandomOverwritesTakeAtMost24BytesPerExtent)
{
	// 8 GiB: every block is written about once, many twice or more.
	Index ix(1ull << 40);
	std::mt19937_64 rng(43);
	auto t0 = std::chrono::steady_clock::now();

	for (int i = 0; i < 2 * kInserts; i++)
		ix.insert(rng() % (kDevBlocks / 8) * 8, 8, W, std::uint64_t(i) * 16, false);
	Figure f = report("random 4 KiB overwrites over 8 GiB", ix, since(t0), 2 * kInserts);
	ASSERT_EQ(ix.check(), 0);
	EXPECT_LE(f.per_extent, 24.0);
}

TEST_F(KernelIndexMemory, RandomUnalignedWritesTakeAtMost24BytesPerExtent)
{
	Index ix(1ull << 40);
	std::mt19937_64 rng(44);
	auto t0 = std::chrono::steady_clock::now();
	std::uint64_t pos = 0;

	for (int i = 0; i < kInserts; i++) {
		std::uint32_t len = 1 + rng() % 64;

		ix.insert(rng() % (kDevBlocks * 8 - 64), len, rng() % 8 ? W : Z, pos, false);
		pos += len;
	}
	Figure f = report("random 1-64 sector writes/discards, 64 GiB", ix, since(t0), kInserts);
	ASSERT_EQ(ix.check(), 0);
	EXPECT_LE(f.per_extent, 24.0);
}

TEST_F(KernelIndexMemory, SequentialFillsTakeAtMost24BytesPerExtent)
{
	// In order, one extent per write: every other block, ascending.
	{
		Index ix(1ull << 40);
		auto t0 = std::chrono::steady_clock::now();

		for (int i = 0; i < kInserts; i++)
			ix.insert(std::uint64_t(i) * 16, 8, W, std::uint64_t(i) * 8, false);
		Figure f = report("sequential, every other 4 KiB block", ix, since(t0), kInserts);
		ASSERT_EQ(ix.check(), 0);
		EXPECT_EQ(f.extents, std::uint64_t(kInserts));
		EXPECT_LE(f.per_extent, 24.0);
	}
	// Descending.
	{
		Index ix(1ull << 40);
		auto t0 = std::chrono::steady_clock::now();

		for (int i = kInserts; i > 0; i--)
			ix.insert(std::uint64_t(i) * 16, 8, W, std::uint64_t(i) * 8, false);
		Figure f = report("sequential descending, every other block", ix, since(t0), kInserts);
		ASSERT_EQ(ix.check(), 0);
		EXPECT_LE(f.per_extent, 24.0);
	}
	// Two streams in turn (two files copied at once): each in order, but
	// apart in the ring, and appending at the end of a leaf that is not the
	// last one.
	{
		Index ix(1ull << 40);
		auto t0 = std::chrono::steady_clock::now();

		for (int i = 0; i < kInserts; i++) {
			std::uint64_t block = std::uint64_t(i / 2) + (i % 2 ? kDevBlocks / 2 : 0);

			ix.insert(block * 8, 8, W, std::uint64_t(i) * 8, false);
		}
		Figure f = report("two interleaved sequential streams", ix, since(t0), kInserts);
		ASSERT_EQ(ix.check(), 0);
		EXPECT_EQ(f.extents, std::uint64_t(kInserts));
		EXPECT_LE(f.per_extent, 24.0);
	}
	// In order into the middle of full leaves: every other block first,
	// then the blocks in between, both ascending.
	{
		Index ix(1ull << 40);
		auto t0 = std::chrono::steady_clock::now();

		for (int i = 0; i < kInserts / 2; i++)
			ix.insert(std::uint64_t(i) * 16, 8, W, std::uint64_t(i) * 16, false);
		for (int i = 0; i < kInserts / 2; i++)
			ix.insert(std::uint64_t(i) * 16 + 8, 8, W, (1ull << 30) + std::uint64_t(i) * 16, false);
		Figure f = report("sequential, then the holes in between", ix, since(t0), kInserts);
		ASSERT_EQ(ix.check(), 0);
		EXPECT_EQ(f.extents, std::uint64_t(kInserts));
		EXPECT_LE(f.per_extent, 24.0);
	}
	// Contiguous in the origin and the ring: the whole 64 GiB is one extent.
	{
		Index ix(1ull << 40);
		auto t0 = std::chrono::steady_clock::now();

		for (std::uint64_t b = 0; b < kDevBlocks; b++)
			ix.insert(b * 8, 8, W, b * 8, false);
		report("sequential 4 KiB writes, all of 64 GiB", ix, since(t0), kDevBlocks);
		ASSERT_EQ(ix.check(), 0);
		EXPECT_EQ(ix.nr(), 1u);
		EXPECT_EQ(ix.bytes(), 4096u);
		std::printf("%-44s %.6f bytes per 4 KiB block mapped\n", "",
			    double(ix.bytes()) / double(kDevBlocks));
	}
}

#endif // DELTALOG_NODE_SIZE == 4096

} // namespace
