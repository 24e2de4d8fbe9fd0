// The kernel's queue of index inserts, dm-target/deltalog-pending.c, built as
// userspace C over tests/unit/kshim with the kernel's index: lookups with
// inserts queued against a per-sector model, walking the device the way the
// target's read path does, before and after the queue is applied, and
// between an insert made and dropped from the queue; the queue's bound and
// order.
extern "C" {
#include "deltalog-pending.h"
#include "kshim.h"
#include <linux/slab.h>
}

#include <deltalog/format.h>

#include "kernel_index_fixture.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace {

constexpr std::uint16_t W = DLOG_REC_WRITE;
constexpr std::uint16_t Z = DLOG_REC_ZERO;

// What a sector reads: the data position it was written at, or zeros.
struct Version {
	std::uint16_t kind;
	std::uint64_t pos;
};

class KernelPending : public KernelIndex {
protected:
	static constexpr std::uint64_t kRing = 1000;	// offsets wrap often

	void SetUp() override
	{
		KernelIndex::SetUp();
		deltalog_index_setup(&ix_, kRing);
		ASSERT_EQ(deltalog_pending_init(&pq_, GFP_KERNEL), 0);
	}
	void TearDown() override
	{
		deltalog_pending_free(&pq_);
		deltalog_index_destroy(&ix_);
		deltalog_index_unreserve(&sp_);
		KernelIndex::TearDown();
	}

	// Queue a write (or a ZERO) and note it in the model.
	bool add(std::uint64_t start, std::uint32_t n, std::uint16_t kind, std::uint64_t pos)
	{
		if (!deltalog_pending_add(&pq_, start, n, kind, pos))
			return false;
		for (std::uint32_t i = 0; i < n; i++) {
			if (model_.size() <= start + i)
				model_.resize(start + i + 1);
			model_[start + i] = Version{kind, pos + i};
		}
		return true;
	}

	void apply_one()
	{
		ASSERT_EQ(deltalog_index_reserve(&sp_, GFP_NOIO), 0);
		deltalog_pending_apply_one(&pq_, &ix_, &sp_);
		ASSERT_EQ(deltalog_index_check(&ix_), 0) << "invariant broken at line";
	}

	// The worker's two steps (deltalog_index_catch_up()), with the device
	// read between them, as a read holding only the index lock may.
	void apply_then_drop(std::uint64_t dev)
	{
		const unsigned int nr = pq_.nr;

		ASSERT_EQ(deltalog_index_reserve(&sp_, GFP_NOIO), 0);
		deltalog_pending_apply_oldest(&pq_, &ix_, &sp_);
		ASSERT_EQ(deltalog_index_check(&ix_), 0) << "invariant broken at line";
		ASSERT_EQ(pq_.nr, nr) << "made, but still queued";
		walk(dev);
		deltalog_pending_drop_oldest(&pq_);
		ASSERT_EQ(pq_.nr, nr - 1);
	}

	std::optional<Version> model(std::uint64_t s) const
	{
		return s < model_.size() ? model_[s] : std::nullopt;
	}

	// Read [0, dev) the way deltalog_map_read() does: ask for the extent at
	// the first sector not served yet, serve up to its start from the
	// origin, or from it up to its end; every sector must match the model.
	void walk(std::uint64_t dev)
	{
		std::uint64_t cur = 0;
		deltalog_extent e;

		while (cur < dev) {
			if (!deltalog_pending_find(&pq_, &ix_, cur, &e)) {
				for (; cur < dev; cur++)
					ASSERT_FALSE(model(cur)) << "sector " << cur << " is logged";
				return;
			}
			ASSERT_GT(e.start + e.len, cur) << "an extent that ends before " << cur;
			for (; cur < e.start && cur < dev; cur++)
				ASSERT_FALSE(model(cur)) << "sector " << cur << " is logged";
			for (; cur < e.start + e.len && cur < dev; cur++) {
				const auto v = model(cur);

				ASSERT_TRUE(v) << "sector " << cur << " is not logged";
				ASSERT_EQ(e.kind, v->kind) << "sector " << cur;
				if (v->kind == W) {
					ASSERT_LT(e.data_off, kRing);
					ASSERT_EQ((e.data_off + (cur - e.start)) % kRing, v->pos % kRing)
						<< "sector " << cur;
				}
			}
		}
	}

	deltalog_index ix_{};
	deltalog_index_spare sp_{};
	deltalog_pending pq_{};
	std::vector<std::optional<Version>> model_;
};

TEST_F(KernelPending, EmptyQueueIsTheIndex)
{
	deltalog_extent e;

	EXPECT_FALSE(deltalog_pending_find(&pq_, &ix_, 0, &e));
	ASSERT_TRUE(add(100, 8, W, 0));
	apply_one();
	ASSERT_TRUE(deltalog_pending_find(&pq_, &ix_, 104, &e));
	EXPECT_EQ(e.start, 100u);	// the index's whole extent
	EXPECT_EQ(e.len, 8u);
	walk(200);
}

TEST_F(KernelPending, QueuedWritesReadBeforeTheyReachTheIndex)
{
	deltalog_extent e;

	ASSERT_TRUE(add(100, 16, W, 990));	// wraps the ring at sector 110
	ASSERT_TRUE(deltalog_pending_find(&pq_, &ix_, 0, &e));
	EXPECT_EQ(e.start, 100u);
	EXPECT_EQ(e.len, 16u);
	EXPECT_EQ(e.data_off, 990u);
	ASSERT_TRUE(deltalog_pending_find(&pq_, &ix_, 112, &e));
	EXPECT_EQ(e.start, 112u);
	EXPECT_EQ(e.len, 4u);
	EXPECT_EQ(e.data_off, 2u);
	EXPECT_EQ(deltalog_index_nr_extents(&ix_), 0u);
	walk(200);
}

TEST_F(KernelPending, NewerQueuedVersionsCutAndCoverOlderOnes)
{
	deltalog_extent e;

	ASSERT_TRUE(add(0, 64, W, 0));
	apply_one();
	ASSERT_TRUE(add(16, 8, Z, 0));		// a discard inside it
	ASSERT_TRUE(add(40, 8, W, 500));	// a write inside it
	ASSERT_TRUE(add(44, 30, W, 600));	// over the end of that one and of the first

	ASSERT_TRUE(deltalog_pending_find(&pq_, &ix_, 4, &e));
	EXPECT_EQ(e.start, 4u);
	EXPECT_EQ(e.len, 12u);		// up to the discard
	EXPECT_EQ(e.kind, W);
	EXPECT_EQ(e.data_off, 4u);
	ASSERT_TRUE(deltalog_pending_find(&pq_, &ix_, 20, &e));
	EXPECT_EQ(e.start, 20u);
	EXPECT_EQ(e.len, 4u);
	EXPECT_EQ(e.kind, Z);
	ASSERT_TRUE(deltalog_pending_find(&pq_, &ix_, 41, &e));
	EXPECT_EQ(e.len, 3u);		// the newest write begins at 44
	EXPECT_EQ(e.data_off, 501u);
	ASSERT_TRUE(deltalog_pending_find(&pq_, &ix_, 70, &e));
	EXPECT_EQ(e.len, 4u);
	EXPECT_EQ(e.data_off, 626u);
	EXPECT_FALSE(deltalog_pending_find(&pq_, &ix_, 74, &e));
	walk(100);
	while (pq_.nr)
		apply_one();
	walk(100);
}

TEST_F(KernelPending, UnloggedSectorsLeadToTheNextLoggedOne)
{
	deltalog_extent e;

	ASSERT_TRUE(add(300, 8, W, 0));
	apply_one();
	ASSERT_TRUE(add(200, 8, W, 8));		// queued, before the index's extent
	ASSERT_TRUE(add(296, 8, Z, 0));		// queued, over the index extent's start
	ASSERT_TRUE(deltalog_pending_find(&pq_, &ix_, 0, &e));
	EXPECT_EQ(e.start, 200u);
	ASSERT_TRUE(deltalog_pending_find(&pq_, &ix_, 250, &e));
	EXPECT_EQ(e.start, 296u);
	EXPECT_EQ(e.kind, Z);
	walk(400);
}

TEST_F(KernelPending, TheQueueIsBoundedAndKeepsItsOrder)
{
	std::uint32_t i;

	// Every insert over the same 8 sectors: only the last may win.
	for (i = 0; i < DELTALOG_PENDING_MAX; i++)
		ASSERT_TRUE(add(8, 8, W, std::uint64_t(i) * 8));
	EXPECT_TRUE(deltalog_pending_full(&pq_));
	EXPECT_FALSE(deltalog_pending_add(&pq_, 0, 8, W, 0));
	walk(32);
	apply_one();
	ASSERT_TRUE(add(12, 2, Z, 0));	// the ring's slot freed by the first
	walk(32);
	while (pq_.nr)
		apply_one();
	walk(32);
	EXPECT_EQ(deltalog_index_nr_extents(&ix_), 3u);
}

TEST_F(KernelPending, AnInsertMadeButStillQueuedReadsTheSame)
{
	ASSERT_TRUE(add(0, 64, W, 0));
	ASSERT_TRUE(add(16, 8, Z, 0));
	ASSERT_TRUE(add(40, 30, W, 500));
	ASSERT_TRUE(add(8, 16, W, 600));	// over the discard's start
	while (pq_.nr) {
		apply_then_drop(100);
		walk(100);
	}
	EXPECT_EQ(deltalog_index_nr_extents(&ix_), 4u);
}

// Random writes and discards, queued and applied in random runs, against the
// model; lookups both ways, then everything applied.
TEST_F(KernelPending, RandomQueueAndApplyMatchTheModel)
{
	constexpr std::uint64_t kDev = 4096;
	std::mt19937_64 rng(7);
	std::uint64_t pos = 0;

	for (int round = 0; round < 300; round++) {
		const int adds = int(rng() % 40);

		for (int i = 0; i < adds; i++) {
			const std::uint32_t n = 1 + std::uint32_t(rng() % 64);
			const std::uint64_t start = rng() % (kDev - n);
			const std::uint16_t kind = rng() % 8 ? W : Z;

			if (!add(start, n, kind, pos))
				break;
			if (kind == W)
				pos += n;
		}
		walk(kDev);
		for (std::uint64_t k = rng() % (pq_.nr + 1); k; k--) {
			if (rng() % 4)
				apply_one();
			else
				apply_then_drop(kDev);
		}
		walk(kDev);
	}
	while (pq_.nr)
		apply_one();
	walk(kDev);
}

}  // namespace
