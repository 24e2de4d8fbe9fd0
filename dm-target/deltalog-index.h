/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-deltalog: the in-core extent index, origin sector -> newest logged
 * version (a place in the data ring, or zeros). Sectors not in the index read
 * from the origin.
 *
 * Contract for callers:
 * - Inserts come in seq order (the caller assigns seqs and inserts under one
 *   lock), so an insert always wins over whatever it overlaps.
 * - Memory is reserved first, outside the caller's lock, with whatever gfp
 *   the context allows (GFP_NOIO in the worker, which makes the inserts that
 *   bio completions queue: deltalog-pending.h); the insert itself then never
 *   fails and never sleeps.
 * - The caller serialises insert, find and destroy (a device's index: dc->index_lock).
 *
 * deltalog-index.c explains the structure (a B+tree of packed extents, at
 * most 24 bytes of kernel memory per extent) and its costs.
 */
#ifndef DELTALOG_INDEX_H
#define DELTALOG_INDEX_H

#include <linux/types.h>

/* One extent as a lookup returns it. */
struct deltalog_extent {
	sector_t start;
	sector_t len;
	u64 data_off;		/* WRITE: ring offset of start, < data_sectors */
	u16 kind;		/* DLOG_REC_WRITE or DLOG_REC_ZERO */
};

/*
 * Inner levels the tree can have: a non-root inner node has at least 63
 * children, so a height of 8 would take more than 2^52 bytes of leaves.
 */
#ifndef DELTALOG_INDEX_MAX_HEIGHT
#define DELTALOG_INDEX_MAX_HEIGHT	8
#endif

/*
 * Nodes one insert may need: a leaf, and one inner node per level plus a new
 * root when the leaf's split climbs to the top. Eight cover a tree of height
 * 6, which takes more than 7 TiB of leaves.
 */
#ifndef DELTALOG_INDEX_SPARE_NODES
#define DELTALOG_INDEX_SPARE_NODES	8
#endif

struct deltalog_index {
	void *root;		/* a leaf when height is 0, else an inner node */
	unsigned int height;	/* inner levels above the leaves */
	u64 data_sectors;	/* the data ring's size: offsets wrap at it */
	u64 nr_extents;
	u64 nr_nodes;		/* leaves and inner nodes, all of one size */
};

/*
 * Memory for one insert, reserved before the caller takes its lock: a claim
 * on DELTALOG_INDEX_SPARE_NODES nodes of a pool that all indexes share
 * (deltalog-index.c). A spare on the stack for each write is fine: reserve()
 * and unreserve() only count, and allocate or free only when the pool runs
 * short or grows too big. A spare kept between inserts is topped up by
 * reserve(). One spare must not be used by two callers at once, and must be
 * unreserved before it goes away.
 */
struct deltalog_index_spare {
	unsigned int nr;	/* nodes claimed */
};

int deltalog_index_init(void);
void deltalog_index_exit(void);

void deltalog_index_setup(struct deltalog_index *ix, u64 data_sectors);
void deltalog_index_destroy(struct deltalog_index *ix);

int deltalog_index_reserve(struct deltalog_index_spare *sp, gfp_t gfp);
void deltalog_index_unreserve(struct deltalog_index_spare *sp);

/* The ring offset the index keeps for a data position (data_off of an extent). */
u64 deltalog_index_ring_off(const struct deltalog_index *ix, u64 data_pos);

/* kind DLOG_REC_WRITE (data at data_pos, any 64-bit position) or DLOG_REC_ZERO. */
void deltalog_index_insert(struct deltalog_index *ix, sector_t start, u32 nr_sectors,
			   u16 kind, u64 data_pos, struct deltalog_index_spare *sp);

/* The first extent that ends after sector; false if there is none. */
bool deltalog_index_find(struct deltalog_index *ix, sector_t sector,
			 struct deltalog_extent *out);

/* Remove one extent as find returned it (no memory needed); false if it is gone. */
bool deltalog_index_remove(struct deltalog_index *ix, sector_t start, sector_t len);

u64 deltalog_index_nr_extents(struct deltalog_index *ix);
u64 deltalog_index_bytes(struct deltalog_index *ix);

#ifdef DELTALOG_INDEX_CHECK
/* Unit tests: 0 if every invariant of the tree holds, else a line number. */
int deltalog_index_check(struct deltalog_index *ix);
#endif

#endif /* DELTALOG_INDEX_H */
