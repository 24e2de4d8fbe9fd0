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
 *   the context allows (GFP_NOWAIT in bio completion, GFP_NOIO in the
 *   worker); the insert itself then never fails and never sleeps.
 * - The caller serialises insert, find and destroy (dc->lock).
 */
#ifndef DELTALOG_INDEX_H
#define DELTALOG_INDEX_H

#include <linux/rbtree.h>
#include <linux/types.h>

/* One extent as a lookup returns it. */
struct deltalog_extent {
	sector_t start;
	sector_t len;
	u64 data_off;		/* WRITE: ring offset of start, < data_sectors */
	u16 kind;		/* DLOG_REC_WRITE or DLOG_REC_ZERO */
};

struct deltalog_index {
	struct rb_root root;
	u64 data_sectors;	/* the data ring's size: offsets wrap at it */
	u64 nr_extents;
};

/* Memory for one insert, reserved before the caller takes its lock. */
struct deltalog_index_spare {
	void *node[2];
};

int deltalog_index_init(void);
void deltalog_index_exit(void);

void deltalog_index_setup(struct deltalog_index *ix, u64 data_sectors);
void deltalog_index_destroy(struct deltalog_index *ix);

int deltalog_index_reserve(struct deltalog_index_spare *sp, gfp_t gfp);
void deltalog_index_unreserve(struct deltalog_index_spare *sp);

/* kind DLOG_REC_WRITE (data at data_pos, any 64-bit position) or DLOG_REC_ZERO. */
void deltalog_index_insert(struct deltalog_index *ix, sector_t start, u32 nr_sectors,
			   u16 kind, u64 data_pos, struct deltalog_index_spare *sp);

/* The first extent that ends after sector; false if there is none. */
bool deltalog_index_find(struct deltalog_index *ix, sector_t sector,
			 struct deltalog_extent *out);

u64 deltalog_index_nr_extents(struct deltalog_index *ix);
u64 deltalog_index_bytes(struct deltalog_index *ix);

#endif /* DELTALOG_INDEX_H */
