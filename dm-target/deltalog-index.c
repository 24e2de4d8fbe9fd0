// SPDX-License-Identifier: GPL-2.0
/*
 * dm-deltalog: the in-core extent index (see deltalog-index.h).
 *
 * An rbtree of non-overlapping extents keyed by origin sector. A WRITE extent
 * keeps the ring offset of its first sector; trimming its front moves the
 * offset along (modulo the ring). An insert trims, splits or frees what it
 * overlaps, then merges with neighbours that continue it on both sides (same
 * kind, and for WRITE the next ring offset), so sequential writes stay one
 * extent.
 */
#include <linux/math64.h>
#include <linux/rbtree.h>
#include <linux/slab.h>

#include "deltalog.h"

struct deltalog_node {
	struct rb_node rb;
	sector_t start;
	sector_t len;
	u64 data_off;
	u16 kind;
};

static struct kmem_cache *deltalog_node_cache;

int deltalog_index_init(void)
{
	deltalog_node_cache = KMEM_CACHE(deltalog_node, 0);
	return deltalog_node_cache ? 0 : -ENOMEM;
}

void deltalog_index_exit(void)
{
	kmem_cache_destroy(deltalog_node_cache);
}

void deltalog_index_setup(struct deltalog_index *ix, u64 data_sectors)
{
	ix->root = RB_ROOT;
	ix->data_sectors = data_sectors;
	ix->nr_extents = 0;
}

int deltalog_index_reserve(struct deltalog_index_spare *sp, gfp_t gfp)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sp->node); i++) {
		if (sp->node[i])
			continue;
		sp->node[i] = kmem_cache_alloc(deltalog_node_cache, gfp | __GFP_NOWARN);
		if (!sp->node[i])
			return -ENOMEM;
	}
	return 0;
}

void deltalog_index_unreserve(struct deltalog_index_spare *sp)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sp->node); i++) {
		if (sp->node[i])
			kmem_cache_free(deltalog_node_cache, sp->node[i]);
		sp->node[i] = NULL;
	}
}

static struct deltalog_node *deltalog_spare_take(struct deltalog_index_spare *sp)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sp->node); i++) {
		void *n = sp->node[i];

		if (n) {
			sp->node[i] = NULL;
			return n;
		}
	}
	return NULL;	/* not reached: reserve() provides one per possible node */
}

static sector_t deltalog_node_end(const struct deltalog_node *n)
{
	return n->start + n->len;
}

static struct deltalog_node *deltalog_node_of(struct rb_node *rb)
{
	return rb ? rb_entry(rb, struct deltalog_node, rb) : NULL;
}

/* The first node that ends after sector, or NULL. */
static struct deltalog_node *deltalog_node_find(struct deltalog_index *ix, sector_t sector)
{
	struct rb_node *rb = ix->root.rb_node;
	struct deltalog_node *next = NULL;

	while (rb) {
		struct deltalog_node *n = deltalog_node_of(rb);

		if (sector < n->start) {
			next = n;
			rb = rb->rb_left;
		} else if (sector >= deltalog_node_end(n)) {
			rb = rb->rb_right;
		} else {
			return n;
		}
	}
	return next;
}

static void deltalog_node_link(struct deltalog_index *ix, struct deltalog_node *new)
{
	struct rb_node **p = &ix->root.rb_node, *parent = NULL;

	while (*p) {
		parent = *p;
		p = new->start < deltalog_node_of(parent)->start ?
			&parent->rb_left : &parent->rb_right;
	}
	rb_link_node(&new->rb, parent, p);
	rb_insert_color(&new->rb, &ix->root);
	ix->nr_extents++;
}

static void deltalog_node_unlink(struct deltalog_index *ix, struct deltalog_node *n)
{
	rb_erase(&n->rb, &ix->root);
	ix->nr_extents--;
	kmem_cache_free(deltalog_node_cache, n);
}

/* Ring offset of the sector delta sectors after offset off. */
static u64 deltalog_off_add(struct deltalog_index *ix, u64 off, u64 delta)
{
	u64 r;

	div64_u64_rem(off + delta, ix->data_sectors, &r);
	return r;
}

/* Drop the first sectors of n, which now starts at start. */
static void deltalog_node_trim_front(struct deltalog_index *ix, struct deltalog_node *n,
				     sector_t start)
{
	sector_t cut = start - n->start;

	n->start = start;
	n->len -= cut;
	if (n->kind == DLOG_REC_WRITE)
		n->data_off = deltalog_off_add(ix, n->data_off, cut);
}

/* Does b continue a: adjacent on the origin and, for WRITE, in the ring? */
static bool deltalog_node_continues(struct deltalog_index *ix, const struct deltalog_node *a,
				    const struct deltalog_node *b)
{
	if (!a || !b || a->kind != b->kind || deltalog_node_end(a) != b->start)
		return false;
	return a->kind != DLOG_REC_WRITE ||
	       deltalog_off_add(ix, a->data_off, a->len) == b->data_off;
}

/* Remove every part of the index in [start, end). */
static void deltalog_index_punch(struct deltalog_index *ix, sector_t start, sector_t end,
				 struct deltalog_index_spare *sp)
{
	struct deltalog_node *n = deltalog_node_find(ix, start);

	while (n && n->start < end) {
		struct deltalog_node *next = deltalog_node_of(rb_next(&n->rb));
		sector_t n_end = deltalog_node_end(n);

		if (n->start < start) {
			if (n_end > end) {
				/* The range is inside n: keep both ends. */
				struct deltalog_node *tail = deltalog_spare_take(sp);

				*tail = *n;
				deltalog_node_trim_front(ix, tail, end);
				n->len = start - n->start;
				deltalog_node_link(ix, tail);
				return;
			}
			n->len = start - n->start;
		} else if (n_end > end) {
			deltalog_node_trim_front(ix, n, end);
			return;
		} else {
			deltalog_node_unlink(ix, n);
		}
		n = next;
	}
}

void deltalog_index_insert(struct deltalog_index *ix, sector_t start, u32 nr_sectors,
			   u16 kind, u64 data_pos, struct deltalog_index_spare *sp)
{
	sector_t end = start + nr_sectors;
	struct deltalog_node new = {
		.start = start,
		.len = nr_sectors,
		.kind = kind,
	};
	struct deltalog_node *prev, *next, *n;

	if (kind == DLOG_REC_WRITE)
		new.data_off = deltalog_off_add(ix, 0, data_pos);

	deltalog_index_punch(ix, start, end, sp);

	/* Now nothing overlaps [start, end): find its neighbours. */
	next = deltalog_node_find(ix, start);
	prev = deltalog_node_of(next ? rb_prev(&next->rb) : rb_last(&ix->root));

	if (deltalog_node_continues(ix, prev, &new)) {
		prev->len += new.len;
		if (deltalog_node_continues(ix, prev, next)) {
			prev->len += next->len;
			deltalog_node_unlink(ix, next);
		}
		return;
	}
	if (deltalog_node_continues(ix, &new, next)) {
		/* The key moves down, but stays between prev and next. */
		next->start = new.start;
		next->len += new.len;
		next->data_off = new.data_off;
		return;
	}

	n = deltalog_spare_take(sp);
	*n = new;
	deltalog_node_link(ix, n);
}

bool deltalog_index_find(struct deltalog_index *ix, sector_t sector,
			 struct deltalog_extent *out)
{
	struct deltalog_node *n = deltalog_node_find(ix, sector);

	if (!n)
		return false;
	out->start = n->start;
	out->len = n->len;
	out->data_off = n->data_off;
	out->kind = n->kind;
	return true;
}

u64 deltalog_index_nr_extents(struct deltalog_index *ix)
{
	return ix->nr_extents;
}

u64 deltalog_index_bytes(struct deltalog_index *ix)
{
	return ix->nr_extents * kmem_cache_size(deltalog_node_cache);
}

void deltalog_index_destroy(struct deltalog_index *ix)
{
	struct deltalog_node *n, *tmp;

	rbtree_postorder_for_each_entry_safe(n, tmp, &ix->root, rb)
		kmem_cache_free(deltalog_node_cache, n);
	ix->root = RB_ROOT;
	ix->nr_extents = 0;
}
