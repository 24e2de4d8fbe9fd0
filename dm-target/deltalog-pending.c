// SPDX-License-Identifier: GPL-2.0
/*
 * dm-deltalog: index inserts not made yet (see deltalog-pending.h).
 *
 * The queue is a ring of at most DELTALOG_PENDING_MAX inserts, oldest
 * first. A lookup asks the index, then lays every queued insert over the
 * answer, oldest to newest: one that covers the sector takes over up to its
 * end, one that starts after it cuts the answer short there. Its cost grows
 * with the queue, which the worker keeps short; with nothing queued it is
 * the index's own lookup.
 */
#include <asm/barrier.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/slab.h>

#include <deltalog/format.h>

#include "deltalog-pending.h"

int deltalog_pending_init(struct deltalog_pending *pq, gfp_t gfp)
{
	pq->first = 0;
	pq->nr = 0;
	pq->q = kcalloc(DELTALOG_PENDING_MAX, sizeof(*pq->q), gfp);
	return pq->q ? 0 : -ENOMEM;
}

void deltalog_pending_free(struct deltalog_pending *pq)
{
	kfree(pq->q);
	pq->q = NULL;
	pq->nr = 0;
}

static struct deltalog_pending_insert *deltalog_pending_at(const struct deltalog_pending *pq,
							   unsigned int i)
{
	return &pq->q[(pq->first + i) % DELTALOG_PENDING_MAX];
}

bool deltalog_pending_add(struct deltalog_pending *pq, sector_t start, u32 nr_sectors,
			  u16 kind, u64 data_pos)
{
	struct deltalog_pending_insert *p;

	if (deltalog_pending_full(pq))
		return false;
	if (!nr_sectors)
		return true;
	p = deltalog_pending_at(pq, pq->nr);
	p->start = start;
	p->nr_sectors = nr_sectors;
	p->kind = kind;
	p->data_pos = data_pos;
	/* The entry before the count, for lookups that do not hold the adders' lock. */
	smp_store_release(&pq->nr, pq->nr + 1);
	return true;
}

void deltalog_pending_apply_oldest(const struct deltalog_pending *pq, struct deltalog_index *ix,
				   struct deltalog_index_spare *sp)
{
	const struct deltalog_pending_insert *p = deltalog_pending_at(pq, 0);

	deltalog_index_insert(ix, p->start, p->nr_sectors, p->kind, p->data_pos, sp);
}

void deltalog_pending_drop_oldest(struct deltalog_pending *pq)
{
	pq->first = (pq->first + 1) % DELTALOG_PENDING_MAX;
	/* In the index before out of the queue, for lockless readers of both. */
	smp_store_release(&pq->nr, pq->nr - 1);
}

void deltalog_pending_apply_one(struct deltalog_pending *pq, struct deltalog_index *ix,
				struct deltalog_index_spare *sp)
{
	deltalog_pending_apply_oldest(pq, ix, sp);
	deltalog_pending_drop_oldest(pq);
}

/*
 * The newest version of sector, the first nr queued inserts laid over the
 * index: *out from sector to where it ends or a newer version begins, true;
 * or false, with *next the first logged sector after it (U64_MAX if none).
 */
static bool deltalog_pending_cover(const struct deltalog_pending *pq, unsigned int nr,
				   struct deltalog_index *ix, u64 sector,
				   struct deltalog_extent *out, u64 *next)
{
	struct deltalog_extent e;
	bool covered = false;
	u64 end = 0, off = 0;
	u16 kind = 0;
	unsigned int i;

	*next = U64_MAX;
	if (deltalog_index_find(ix, sector, &e)) {
		if (e.start <= sector) {
			covered = true;
			end = e.start + e.len;
			kind = e.kind;
			off = e.data_off + (sector - e.start);
		} else {
			*next = e.start;
		}
	}
	for (i = 0; i < nr; i++) {
		const struct deltalog_pending_insert *p = deltalog_pending_at(pq, i);

		if (p->start <= sector && sector - p->start < p->nr_sectors) {
			covered = true;
			end = p->start + p->nr_sectors;
			kind = p->kind;
			off = p->data_pos + (sector - p->start);
		} else if (p->start > sector) {
			if (covered)
				end = min(end, p->start);
			else
				*next = min(*next, p->start);
		}
	}
	if (!covered)
		return false;
	out->start = sector;
	out->len = end - sector;
	out->kind = kind;
	out->data_off = kind == DLOG_REC_WRITE ? deltalog_index_ring_off(ix, off) : 0;
	return true;
}

bool deltalog_pending_find(const struct deltalog_pending *pq, struct deltalog_index *ix,
			   sector_t sector, struct deltalog_extent *out)
{
	/* Pairs with the release in deltalog_pending_add(): one snapshot. */
	unsigned int nr = smp_load_acquire(&pq->nr);
	u64 next;

	if (!nr)
		return deltalog_index_find(ix, sector, out);
	if (deltalog_pending_cover(pq, nr, ix, sector, out, &next))
		return true;
	/* Whatever starts at next covers it. */
	return next != U64_MAX && deltalog_pending_cover(pq, nr, ix, next, out, &next);
}
