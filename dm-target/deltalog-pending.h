/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-deltalog: index inserts not made yet.
 *
 * A write's completion records it (seq, journal) and queues its index
 * insert here; the worker makes the inserts later, on another CPU, in the
 * order they were queued. A queued insert costs the completion a few
 * stores instead of a B+tree insert under the target's lock, the most
 * expensive step of a small write (docs/BENCHMARKS.md). Lookups see the
 * index with the queue laid over it, so a read never misses a recorded
 * write.
 *
 * Contract: the caller queues in seq order, and queues nothing for an
 * index that gets inserts directly (those would overtake the queue) except
 * for what is older than everything queued, as a merge's remainders are.
 * Two locks serialise the calls (dc->index_lock, then dc->lock): adding
 * takes the second; the index and the lookups take the first, and see
 * what is added meanwhile or not, as a read racing with a write may;
 * dropping the oldest takes both. So a writer adding never waits for an
 * insert into the index.
 */
#ifndef DELTALOG_PENDING_H
#define DELTALOG_PENDING_H

#include <linux/types.h>

#include "deltalog-index.h"

/*
 * Queued inserts per target: 6 KiB; the worker is kicked at half. A build
 * with -DDELTALOG_PENDING_MAX=4u fills it all the time, which tests the
 * worker's way past a full queue.
 */
#ifndef DELTALOG_PENDING_MAX
#define DELTALOG_PENDING_MAX	256u
#endif
#define DELTALOG_PENDING_KICK	(DELTALOG_PENDING_MAX / 2)

struct deltalog_pending_insert {
	u64 start;
	u64 data_pos;		/* WRITE: any 64-bit data position */
	u32 nr_sectors;
	u16 kind;		/* DLOG_REC_WRITE or DLOG_REC_ZERO */
};

struct deltalog_pending {
	struct deltalog_pending_insert *q;	/* a ring of DELTALOG_PENDING_MAX */
	unsigned int first;			/* the oldest */
	unsigned int nr;
};

int deltalog_pending_init(struct deltalog_pending *pq, gfp_t gfp);
void deltalog_pending_free(struct deltalog_pending *pq);

/* Queue an insert (as deltalog_index_insert() takes it); false if full. */
bool deltalog_pending_add(struct deltalog_pending *pq, sector_t start, u32 nr_sectors,
			  u16 kind, u64 data_pos);

/*
 * Make the oldest queued insert (sp as for deltalog_index_insert()), which
 * stays queued until deltalog_pending_drop_oldest(): between the two, the
 * index and the queue agree, so only the dropping needs the adders' lock.
 */
void deltalog_pending_apply_oldest(const struct deltalog_pending *pq, struct deltalog_index *ix,
				   struct deltalog_index_spare *sp);
void deltalog_pending_drop_oldest(struct deltalog_pending *pq);

/* Both, under both locks. */
void deltalog_pending_apply_one(struct deltalog_pending *pq, struct deltalog_index *ix,
				struct deltalog_index_spare *sp);

/*
 * deltalog_index_find() on ix with the queue applied: the newest version of
 * the first logged sectors at or after sector. With inserts queued, the
 * extent returned can be a part of one: it starts at sector (or at the first
 * logged sector after it) and ends where a newer version begins.
 */
bool deltalog_pending_find(const struct deltalog_pending *pq, struct deltalog_index *ix,
			   sector_t sector, struct deltalog_extent *out);

static inline bool deltalog_pending_full(const struct deltalog_pending *pq)
{
	return pq->nr == DELTALOG_PENDING_MAX;
}

#endif /* DELTALOG_PENDING_H */
