// SPDX-License-Identifier: GPL-2.0
/*
 * dm-deltalog: the in-core extent index.
 *
 * An rbtree of non-overlapping extents keyed by origin sector. Each extent
 * says where the newest live version of those sectors is: in the data ring
 * (WRITE) or nowhere, reading as zeros (ZERO). Sectors not in the tree read
 * from the origin. Records are inserted in log order, so an insert always
 * wins over what it overlaps: overlapped extents are trimmed, split or freed.
 *
 * Callers serialise inserts and lookups with dc->lock.
 */
#include <linux/rbtree.h>
#include <linux/slab.h>

#include "deltalog.h"

static struct kmem_cache *deltalog_extent_cache;

int deltalog_index_init(void)
{
	deltalog_extent_cache = KMEM_CACHE(deltalog_extent, 0);
	return deltalog_extent_cache ? 0 : -ENOMEM;
}

void deltalog_index_exit(void)
{
	kmem_cache_destroy(deltalog_extent_cache);
}

static sector_t deltalog_extent_end(const struct deltalog_extent *e)
{
	return e->start + e->len;
}

/* The first extent that ends after sector, or NULL. */
struct deltalog_extent *deltalog_index_find(struct deltalog_c *dc, sector_t sector)
{
	struct rb_node *n = dc->index.rb_node;
	struct deltalog_extent *next = NULL;

	while (n) {
		struct deltalog_extent *e = rb_entry(n, struct deltalog_extent, node);

		if (sector < e->start) {
			next = e;
			n = n->rb_left;
		} else if (sector >= deltalog_extent_end(e)) {
			n = n->rb_right;
		} else {
			return e;
		}
	}
	return next;
}

static void deltalog_index_link(struct deltalog_c *dc, struct deltalog_extent *new)
{
	struct rb_node **p = &dc->index.rb_node, *parent = NULL;

	while (*p) {
		struct deltalog_extent *e = rb_entry(*p, struct deltalog_extent, node);

		parent = *p;
		p = new->start < e->start ? &(*p)->rb_left : &(*p)->rb_right;
	}
	rb_link_node(&new->node, parent, p);
	rb_insert_color(&new->node, &dc->index);
	dc->nr_extents++;
}

static void deltalog_index_unlink(struct deltalog_c *dc, struct deltalog_extent *e)
{
	rb_erase(&e->node, &dc->index);
	dc->nr_extents--;
	kmem_cache_free(deltalog_extent_cache, e);
}

/* Drop the first sectors of e, which now starts at start. */
static void deltalog_extent_trim_front(struct deltalog_extent *e, sector_t start)
{
	sector_t cut = start - e->start;

	e->start = start;
	e->len -= cut;
	if (e->kind == DLOG_REC_WRITE)
		e->data_pos += cut;
}

/*
 * Insert a WRITE or ZERO record; it is newer than everything in the index.
 * Both allocations happen before the tree changes, so a failure leaves the
 * index as it was.
 */
int deltalog_index_insert(struct deltalog_c *dc, const struct deltalog_rec *rec,
			  gfp_t gfp)
{
	sector_t start = rec->origin_sector;
	sector_t end = start + rec->nr_sectors;
	struct deltalog_extent *new, *split, *e;

	new = kmem_cache_alloc(deltalog_extent_cache, gfp);
	split = kmem_cache_alloc(deltalog_extent_cache, gfp);
	if (!new || !split) {
		if (new)
			kmem_cache_free(deltalog_extent_cache, new);
		if (split)
			kmem_cache_free(deltalog_extent_cache, split);
		return -ENOMEM;
	}

	new->start = start;
	new->len = rec->nr_sectors;
	new->kind = rec->kind;
	new->seq = rec->seq;
	new->data_pos = rec->kind == DLOG_REC_WRITE ? rec->data_pos : 0;

	e = deltalog_index_find(dc, start);
	while (e && e->start < end) {
		struct rb_node *next = rb_next(&e->node);
		sector_t e_end = deltalog_extent_end(e);

		if (e->start < start) {
			if (e_end > end) {
				/* new punches a hole in e: keep both ends. */
				*split = *e;
				deltalog_extent_trim_front(split, end);
				deltalog_index_link(dc, split);
				split = NULL;
			}
			e->len = start - e->start;
		} else if (e_end > end) {
			/* Starts inside new, ends after it: keep the tail. */
			deltalog_extent_trim_front(e, end);
			break;
		} else {
			deltalog_index_unlink(dc, e);
		}
		if (!next)
			break;
		e = rb_entry(next, struct deltalog_extent, node);
	}

	deltalog_index_link(dc, new);
	if (split)
		kmem_cache_free(deltalog_extent_cache, split);
	return 0;
}

void deltalog_index_destroy(struct deltalog_c *dc)
{
	struct deltalog_extent *e, *tmp;

	rbtree_postorder_for_each_entry_safe(e, tmp, &dc->index, node)
		kmem_cache_free(deltalog_extent_cache, e);
	dc->index = RB_ROOT;
	dc->nr_extents = 0;
}
