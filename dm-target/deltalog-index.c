// SPDX-License-Identifier: GPL-2.0
/*
 * dm-deltalog: the in-core extent index (see deltalog-index.h).
 *
 * The index maps origin sectors to the newest logged version: extents that
 * never overlap, each WRITE (data at a ring offset) or ZERO. An insert trims,
 * splits or removes what it overlaps, then merges with neighbours that
 * continue it (adjacent, same kind, and for WRITE the next ring offset), so
 * sequential writes stay one extent.
 *
 * Memory is what matters: random 4 KiB writes over a large device make one
 * extent per write, and dm-writecache spends 72-88 bytes per block, an rbtree
 * node per extent 64. This index is a B+tree whose leaves are packed arrays:
 *
 *   inner node (4 KiB):  nr | key[255] | child[255]      key = first start below
 *   leaf (4 KiB):        base | nr | rel[255] | len[255] | word[255]
 *
 *   start  = base + rel (u32; base is the start of entry 0, and a leaf only
 *            holds starts less than 2^32 sectors above it)
 *   len    = u32, so one record (nr_sectors is u32) is always one entry;
 *            merging stops at U32_MAX sectors
 *   word   = the ring offset (< data_sectors <= 2^63), or bit 63 for ZERO
 *
 * An entry is 16 bytes, and a leaf of 255 entries is a 4 KiB slab object with
 * no waste. Leaves are kept full: a leaf that overflows first shifts entries
 * into a sibling that has room, and is split only when neither has; a leaf
 * that overflows at its end (appends) or front keeps all but one entry. A
 * leaf less than a quarter full is merged with a sibling or evened out with
 * it. Inner nodes cost one key and one pointer per leaf, 0.1 byte per
 * extent. Measured by tests/unit/test_kernel_index.cpp (200k inserts):
 * 18.4 bytes per extent for random 4 KiB writes over 64 GiB, 16.2 for
 * writes in order (docs/dm-deltalog.rst, "Memory of the extent index").
 *
 * Costs, with n extents: a lookup is a binary search in each of the
 * log_255(n) inner levels and in one leaf, with no pointer chasing inside a
 * node. An insert that overlaps nothing is one such descent, a memmove of at
 * most 4 KiB, and now and then a shift, a split or a merge; one that
 * overlaps extents descends again for each leaf it empties. An insert needs
 * at most one new leaf, plus one inner node per level when the split climbs
 * to the root. deltalog_index_reserve() claims that many nodes from a pool
 * shared by all indexes, before the caller takes its lock, and the insert
 * takes them from there: a write's reserve and unreserve only count under
 * the pool's lock, and random writes allocate a node once in about 220.
 *
 * A leaf only holds extents that start less than 2^32 sectors after its
 * first one: an extent further away starts a new leaf, and leaves are not
 * merged across such a gap. Only a device of more than 2 TiB with few,
 * scattered extents pays for it, with emptier leaves.
 */
#include <linux/bits.h>
#include <linux/bug.h>
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include <deltalog/format.h>

#include "deltalog-index.h"

#ifndef DELTALOG_NODE_SIZE
#define DELTALOG_NODE_SIZE	4096
#endif

#define DELTALOG_LEAF_SLOTS	((DELTALOG_NODE_SIZE - 16) / 16)
#define DELTALOG_INNER_SLOTS	((DELTALOG_NODE_SIZE - 8) / (8 + sizeof(void *)))

/* Below this, a node is merged with a sibling or takes entries from it. */
#define DELTALOG_LEAF_MIN	(DELTALOG_LEAF_SLOTS / 4)
#define DELTALOG_INNER_MIN	(DELTALOG_INNER_SLOTS / 4)
/* Two leaves are merged only into at most this many entries. */
#define DELTALOG_MERGE_MAX	(DELTALOG_LEAF_SLOTS - DELTALOG_LEAF_SLOTS / 8)

#define DELTALOG_ZERO_BIT	BIT_ULL(63)
#define DELTALOG_LEN_MAX	0xffffffffull
#define DELTALOG_REL_MAX	0xffffffffull

struct deltalog_leaf {
	u64 base;				/* start of entry 0 */
	u32 nr;
	u32 unused;
	u32 rel[DELTALOG_LEAF_SLOTS];		/* start - base */
	u32 len[DELTALOG_LEAF_SLOTS];
	u64 word[DELTALOG_LEAF_SLOTS];		/* ring offset, or DELTALOG_ZERO_BIT */
};

struct deltalog_inner {
	u32 nr;
	u32 unused;
	u64 key[DELTALOG_INNER_SLOTS];		/* first start under child[i] */
	void *child[DELTALOG_INNER_SLOTS];
};

static_assert(sizeof(struct deltalog_leaf) <= DELTALOG_NODE_SIZE);
static_assert(sizeof(struct deltalog_inner) <= DELTALOG_NODE_SIZE);
static_assert(DELTALOG_INNER_SLOTS >= 8);

/* An extent while it moves between leaves. */
struct deltalog_ent {
	u64 start;
	u64 len;
	u64 word;
};

/* The way from the root to a leaf: node[lv]->child[idx[lv]] is on it. */
struct deltalog_path {
	struct deltalog_inner *node[DELTALOG_INDEX_MAX_HEIGHT];
	unsigned int idx[DELTALOG_INDEX_MAX_HEIGHT];
	struct deltalog_leaf *leaf;
};

static struct kmem_cache *deltalog_node_cache;

/*
 * Free nodes, shared by every index. A spare holds no nodes, only a promise:
 * reserve() counts DELTALOG_INDEX_SPARE_NODES as reserved and makes sure the
 * pool has at least as many free nodes as it promised; an insert takes what
 * it needs from the pool, and unreserve() takes the rest of the promise
 * back. So a write's reserve, insert and unreserve, with a spare on the
 * stack, allocate nothing and free nothing, except when nodes run short.
 * Nodes that inserts free come back here; beyond DELTALOG_POOL_KEEP nodes
 * more than promised, the pool gives them back to the slab.
 */
#define DELTALOG_POOL_KEEP	(4 * DELTALOG_INDEX_SPARE_NODES)

static DEFINE_SPINLOCK(deltalog_pool_lock);
static void *deltalog_pool;		/* free nodes, linked by their first word */
static unsigned int deltalog_pool_nr;
static unsigned int deltalog_pool_reserved;

static void deltalog_pool_push(void *n)
{
	*(void **)n = deltalog_pool;
	deltalog_pool = n;
	deltalog_pool_nr++;
}

static void *deltalog_pool_pop(void)
{
	void *n = deltalog_pool;

	deltalog_pool = *(void **)n;
	deltalog_pool_nr--;
	return n;
}

/* Free what the pool has beyond its promises and DELTALOG_POOL_KEEP more. */
static void deltalog_pool_trim(unsigned int keep)
{
	void *list = NULL, *n;
	unsigned long flags;

	spin_lock_irqsave(&deltalog_pool_lock, flags);
	while (deltalog_pool_nr > deltalog_pool_reserved + keep) {
		n = deltalog_pool_pop();
		*(void **)n = list;
		list = n;
	}
	spin_unlock_irqrestore(&deltalog_pool_lock, flags);

	while (list) {
		n = list;
		list = *(void **)n;
		kmem_cache_free(deltalog_node_cache, n);
	}
}

int deltalog_index_init(void)
{
	deltalog_node_cache = kmem_cache_create("deltalog_index_node", DELTALOG_NODE_SIZE,
						0, 0, NULL);
	return deltalog_node_cache ? 0 : -ENOMEM;
}

void deltalog_index_exit(void)
{
	WARN_ON_ONCE(deltalog_pool_reserved);
	deltalog_pool_trim(0);
	kmem_cache_destroy(deltalog_node_cache);
}

void deltalog_index_setup(struct deltalog_index *ix, u64 data_sectors)
{
	memset(ix, 0, sizeof(*ix));
	ix->data_sectors = data_sectors;
}

int deltalog_index_reserve(struct deltalog_index_spare *sp, gfp_t gfp)
{
	unsigned int want = DELTALOG_INDEX_SPARE_NODES - sp->nr;
	unsigned long flags;
	void *n;

	if (!want)
		return 0;
	spin_lock_irqsave(&deltalog_pool_lock, flags);
	while (deltalog_pool_nr < deltalog_pool_reserved + want) {
		spin_unlock_irqrestore(&deltalog_pool_lock, flags);
		n = kmem_cache_alloc(deltalog_node_cache, gfp | __GFP_NOWARN);
		if (!n)
			return -ENOMEM;
		spin_lock_irqsave(&deltalog_pool_lock, flags);
		deltalog_pool_push(n);
	}
	deltalog_pool_reserved += want;
	spin_unlock_irqrestore(&deltalog_pool_lock, flags);
	sp->nr += want;
	return 0;
}

void deltalog_index_unreserve(struct deltalog_index_spare *sp)
{
	unsigned long flags;
	bool trim;

	if (!sp->nr)
		return;
	spin_lock_irqsave(&deltalog_pool_lock, flags);
	deltalog_pool_reserved -= sp->nr;
	trim = deltalog_pool_nr > deltalog_pool_reserved + DELTALOG_POOL_KEEP;
	spin_unlock_irqrestore(&deltalog_pool_lock, flags);
	sp->nr = 0;
	if (trim)
		deltalog_pool_trim(DELTALOG_POOL_KEEP);
}

/* A node the spare promised. */
static void *deltalog_node_take(struct deltalog_index *ix, struct deltalog_index_spare *sp)
{
	unsigned long flags;
	void *n;

	spin_lock_irqsave(&deltalog_pool_lock, flags);
	n = deltalog_pool_pop();
	deltalog_pool_reserved--;
	spin_unlock_irqrestore(&deltalog_pool_lock, flags);
	sp->nr--;
	ix->nr_nodes++;
	return n;
}

/* A node the tree no longer uses: to the pool, or back to the slab. */
static void deltalog_node_put(struct deltalog_index *ix, void *n)
{
	unsigned long flags;

	ix->nr_nodes--;
	spin_lock_irqsave(&deltalog_pool_lock, flags);
	if (deltalog_pool_nr < deltalog_pool_reserved + DELTALOG_POOL_KEEP) {
		deltalog_pool_push(n);
		n = NULL;
	}
	spin_unlock_irqrestore(&deltalog_pool_lock, flags);
	if (n)
		kmem_cache_free(deltalog_node_cache, n);
}

/* ---- Extents ---------------------------------------------------------- */

/* Ring offset of the sector delta sectors after offset off. */
static u64 deltalog_off_add(const struct deltalog_index *ix, u64 off, u64 delta)
{
	u64 ds = ix->data_sectors, r = off + delta;

	if (!ds || r < ds)
		return r;
	if (r - ds < ds)
		return r - ds;
	div64_u64_rem(r, ds, &r);
	return r;
}

static u64 deltalog_word_add(const struct deltalog_index *ix, u64 word, u64 delta)
{
	return word & DELTALOG_ZERO_BIT ? word : deltalog_off_add(ix, word, delta);
}

/* Does b continue a: adjacent, same kind, the next ring offset, and short enough? */
static bool deltalog_continues(const struct deltalog_index *ix, const struct deltalog_ent *a,
			       const struct deltalog_ent *b)
{
	return a->start + a->len == b->start && a->len + b->len <= DELTALOG_LEN_MAX &&
	       deltalog_word_add(ix, a->word, a->len) == b->word;
}

/* Can a leaf whose entry 0 starts at base hold an entry starting at start? */
static bool deltalog_span_ok(u64 base, u64 start)
{
	return start - base <= DELTALOG_REL_MAX;
}

/* ---- Leaves ----------------------------------------------------------- */

static u64 deltalog_leaf_start(const struct deltalog_leaf *l, unsigned int i)
{
	return l->base + l->rel[i];
}

static u64 deltalog_leaf_end(const struct deltalog_leaf *l, unsigned int i)
{
	return deltalog_leaf_start(l, i) + l->len[i];
}

static void deltalog_leaf_get(const struct deltalog_leaf *l, unsigned int i,
			      struct deltalog_ent *e)
{
	e->start = deltalog_leaf_start(l, i);
	e->len = l->len[i];
	e->word = l->word[i];
}

/* Entry i becomes e; e->start must be within the span of base. */
static void deltalog_leaf_set(struct deltalog_leaf *l, unsigned int i,
			      const struct deltalog_ent *e)
{
	l->rel[i] = e->start - l->base;
	l->len[i] = e->len;
	l->word[i] = e->word;
}

/* Open n slots at i. */
static void deltalog_leaf_open(struct deltalog_leaf *l, unsigned int i, unsigned int n)
{
	unsigned int tail = l->nr - i;

	memmove(&l->rel[i + n], &l->rel[i], tail * sizeof(l->rel[0]));
	memmove(&l->len[i + n], &l->len[i], tail * sizeof(l->len[0]));
	memmove(&l->word[i + n], &l->word[i], tail * sizeof(l->word[0]));
	l->nr += n;
}

/* Remove the n entries at i. */
static void deltalog_leaf_close(struct deltalog_leaf *l, unsigned int i, unsigned int n)
{
	unsigned int tail = l->nr - i - n;

	memmove(&l->rel[i], &l->rel[i + n], tail * sizeof(l->rel[0]));
	memmove(&l->len[i], &l->len[i + n], tail * sizeof(l->len[0]));
	memmove(&l->word[i], &l->word[i + n], tail * sizeof(l->word[0]));
	l->nr -= n;
}

/* Count n entries of src from si into dst at di (dst has the slots open). */
static void deltalog_leaf_copy(struct deltalog_leaf *dst, unsigned int di,
			       const struct deltalog_leaf *src, unsigned int si,
			       unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		dst->rel[di + i] = deltalog_leaf_start(src, si + i) - dst->base;
	memcpy(&dst->len[di], &src->len[si], n * sizeof(src->len[0]));
	memcpy(&dst->word[di], &src->word[si], n * sizeof(src->word[0]));
}

/* Make base the leaf's base: every start must be within its span. */
static void deltalog_leaf_rebase(struct deltalog_leaf *l, u64 base)
{
	u32 delta = base > l->base ? base - l->base : l->base - base;
	unsigned int i;

	if (base > l->base) {
		for (i = 0; i < l->nr; i++)
			l->rel[i] -= delta;
	} else {
		for (i = 0; i < l->nr; i++)
			l->rel[i] += delta;
	}
	l->base = base;
}

/* How many entries start at or before key. */
static unsigned int deltalog_leaf_count(const struct deltalog_leaf *l, u64 key)
{
	unsigned int lo = 0, hi = l->nr;
	u32 k;

	if (key < l->base)
		return 0;
	if (!deltalog_span_ok(l->base, key))
		return l->nr;
	k = key - l->base;
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (l->rel[mid] <= k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- Inner nodes and paths --------------------------------------------- */

/* The child to descend into for key: the last one whose first start <= key. */
static unsigned int deltalog_inner_find(const struct deltalog_inner *in, u64 key)
{
	unsigned int lo = 1, hi = in->nr;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (in->key[mid] <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

static void deltalog_inner_open(struct deltalog_inner *in, unsigned int i)
{
	unsigned int tail = in->nr - i;

	memmove(&in->key[i + 1], &in->key[i], tail * sizeof(in->key[0]));
	memmove(&in->child[i + 1], &in->child[i], tail * sizeof(in->child[0]));
	in->nr++;
}

static void deltalog_inner_close(struct deltalog_inner *in, unsigned int i)
{
	unsigned int tail = in->nr - i - 1;

	memmove(&in->key[i], &in->key[i + 1], tail * sizeof(in->key[0]));
	memmove(&in->child[i], &in->child[i + 1], tail * sizeof(in->child[0]));
	in->nr--;
}

/* Move n children from src at si to dst at di (dst has the slots open). */
static void deltalog_inner_copy(struct deltalog_inner *dst, unsigned int di,
				const struct deltalog_inner *src, unsigned int si,
				unsigned int n)
{
	memcpy(&dst->key[di], &src->key[si], n * sizeof(src->key[0]));
	memcpy(&dst->child[di], &src->child[si], n * sizeof(src->child[0]));
}

static struct deltalog_leaf *deltalog_descend(struct deltalog_index *ix, u64 key,
					      struct deltalog_path *path)
{
	void *n = ix->root;
	unsigned int lv;

	for (lv = 0; lv < ix->height; lv++) {
		struct deltalog_inner *in = n;
		unsigned int i = deltalog_inner_find(in, key);

		path->node[lv] = in;
		path->idx[lv] = i;
		n = in->child[i];
	}
	path->leaf = n;
	return n;
}

/* Move path to the next leaf; NULL after the last one. */
static struct deltalog_leaf *deltalog_next_leaf(struct deltalog_index *ix,
						struct deltalog_path *path)
{
	unsigned int lv = ix->height;
	void *n;

	while (lv && path->idx[lv - 1] + 1 >= path->node[lv - 1]->nr)
		lv--;
	if (!lv)
		return NULL;
	n = path->node[lv - 1]->child[++path->idx[lv - 1]];
	for (; lv < ix->height; lv++) {
		path->node[lv] = n;
		path->idx[lv] = 0;
		n = path->node[lv]->child[0];
	}
	path->leaf = n;
	return n;
}

/*
 * The first start under node[lv]->child[idx[lv]] is now key: update it, and
 * above while that child is the first one of its parent.
 */
static void deltalog_path_set_key(struct deltalog_path *path, int lv, u64 key)
{
	for (; lv >= 0; lv--) {
		path->node[lv]->key[path->idx[lv]] = key;
		if (path->idx[lv])
			break;
	}
}

/* The first start under n, an inner node or a leaf. */
static u64 deltalog_node_key(void *n, bool inner)
{
	return inner ? ((struct deltalog_inner *)n)->key[0] : ((struct deltalog_leaf *)n)->base;
}

/*
 * Insert child (first start key) at slot i of the inner node at level lv of
 * path; lv -1 is above the root, which then gets a new root. A full node is
 * split in two halves, and the new half goes up in turn.
 */
static void deltalog_inner_insert(struct deltalog_index *ix, struct deltalog_path *path,
				  int lv, unsigned int i, u64 key, void *child,
				  struct deltalog_index_spare *sp)
{
	struct deltalog_inner *in, *right;
	unsigned int half;

	if (lv < 0) {
		struct deltalog_inner *root = deltalog_node_take(ix, sp);
		void *old = ix->root;
		unsigned int o = i ? 0 : 1;

		root->nr = 2;
		root->key[o] = deltalog_node_key(old, ix->height);
		root->child[o] = old;
		root->key[!o] = key;
		root->child[!o] = child;
		ix->root = root;
		ix->height++;
		return;
	}

	in = path->node[lv];
	if (in->nr < DELTALOG_INNER_SLOTS) {
		deltalog_inner_open(in, i);
		in->key[i] = key;
		in->child[i] = child;
		if (!i)
			deltalog_path_set_key(path, lv - 1, key);
		return;
	}

	right = deltalog_node_take(ix, sp);
	half = in->nr / 2;
	right->nr = in->nr - half;
	deltalog_inner_copy(right, 0, in, half, right->nr);
	in->nr = half;
	if (i <= half) {
		deltalog_inner_open(in, i);
		in->key[i] = key;
		in->child[i] = child;
		if (!i)
			deltalog_path_set_key(path, lv - 1, key);
	} else {
		i -= half;
		deltalog_inner_open(right, i);
		right->key[i] = key;
		right->child[i] = child;
	}
	deltalog_inner_insert(ix, path, lv - 1, lv ? path->idx[lv - 1] + 1 : 1,
			      right->key[0], right, sp);
}

/*
 * Remove child idx[lv] of the inner node at level lv of path, and keep the
 * node at least DELTALOG_INNER_MIN full: merge it with a sibling, or even
 * out the two. A root left with one child gives way to it.
 */
static void deltalog_inner_remove(struct deltalog_index *ix, struct deltalog_path *path, int lv)
{
	struct deltalog_inner *in = path->node[lv], *parent, *left, *right;
	unsigned int i = path->idx[lv], pi, ri, total, want;

	deltalog_inner_close(in, i);
	if (!i && lv)
		deltalog_path_set_key(path, lv - 1, in->key[0]);

	if (!lv) {
		if (in->nr == 1) {
			ix->root = in->child[0];
			ix->height--;
			deltalog_node_put(ix, in);
		}
		return;
	}
	if (in->nr >= DELTALOG_INNER_MIN)
		return;

	parent = path->node[lv - 1];
	pi = path->idx[lv - 1];
	ri = pi ? pi : pi + 1;
	left = parent->child[ri - 1];
	right = parent->child[ri];
	total = left->nr + right->nr;

	if (total <= DELTALOG_INNER_SLOTS) {
		deltalog_inner_copy(left, left->nr, right, 0, right->nr);
		left->nr = total;
		deltalog_node_put(ix, right);
		path->idx[lv - 1] = ri;
		deltalog_inner_remove(ix, path, lv - 1);
		return;
	}

	want = total / 2;
	if (left->nr > want) {
		unsigned int n = left->nr - want;

		memmove(&right->key[n], &right->key[0], right->nr * sizeof(right->key[0]));
		memmove(&right->child[n], &right->child[0], right->nr * sizeof(right->child[0]));
		deltalog_inner_copy(right, 0, left, want, n);
		right->nr += n;
		left->nr = want;
	} else {
		unsigned int n = want - left->nr;

		deltalog_inner_copy(left, left->nr, right, 0, n);
		left->nr = want;
		memmove(&right->key[0], &right->key[n], (right->nr - n) * sizeof(right->key[0]));
		memmove(&right->child[0], &right->child[n],
			(right->nr - n) * sizeof(right->child[0]));
		right->nr -= n;
	}
	parent->key[ri] = right->key[0];
}

/* ---- Leaves in the tree ------------------------------------------------ */

/* Can the first n entries of b move to the end of a? */
static bool deltalog_can_move_left(const struct deltalog_leaf *a, const struct deltalog_leaf *b,
				   unsigned int n)
{
	return n && n < b->nr && a->nr + n <= DELTALOG_LEAF_SLOTS &&
	       deltalog_span_ok(a->base, deltalog_leaf_start(b, n - 1));
}

static void deltalog_move_left(struct deltalog_leaf *a, struct deltalog_leaf *b, unsigned int n)
{
	deltalog_leaf_copy(a, a->nr, b, 0, n);
	a->nr += n;
	deltalog_leaf_close(b, 0, n);
	deltalog_leaf_rebase(b, deltalog_leaf_start(b, 0));
}

/* Can the last n entries of a move to the front of b? */
static bool deltalog_can_move_right(const struct deltalog_leaf *a, const struct deltalog_leaf *b,
				    unsigned int n)
{
	return n && n < a->nr && b->nr + n <= DELTALOG_LEAF_SLOTS &&
	       deltalog_span_ok(deltalog_leaf_start(a, a->nr - n),
				deltalog_leaf_start(b, b->nr - 1));
}

static void deltalog_move_right(struct deltalog_leaf *a, struct deltalog_leaf *b, unsigned int n)
{
	deltalog_leaf_rebase(b, deltalog_leaf_start(a, a->nr - n));
	deltalog_leaf_open(b, 0, n);
	deltalog_leaf_copy(b, 0, a, a->nr - n, n);
	a->nr -= n;
}

/*
 * The entries of path's leaf changed: keep base and the keys above equal to
 * its first start, remove it if it is empty, and merge it with a sibling or
 * even the two out if it is less than a quarter full.
 */
static void deltalog_leaf_fixup(struct deltalog_index *ix, struct deltalog_path *path)
{
	struct deltalog_leaf *l = path->leaf, *left, *right;
	struct deltalog_inner *parent;
	int lv = (int)ix->height - 1;
	unsigned int pi, ri, want;

	if (!l->nr) {
		deltalog_node_put(ix, l);
		if (lv < 0)
			ix->root = NULL;
		else
			deltalog_inner_remove(ix, path, lv);
		return;
	}
	if (l->rel[0]) {
		deltalog_leaf_rebase(l, deltalog_leaf_start(l, 0));
		if (lv >= 0)
			deltalog_path_set_key(path, lv, l->base);
	}
	if (lv < 0 || l->nr >= DELTALOG_LEAF_MIN)
		return;

	parent = path->node[lv];
	pi = path->idx[lv];
	for (ri = pi ? pi : 1; ri <= pi + 1 && ri < parent->nr; ri++) {
		left = parent->child[ri - 1];
		right = parent->child[ri];
		if (left->nr + right->nr <= DELTALOG_MERGE_MAX &&
		    deltalog_span_ok(left->base, deltalog_leaf_start(right, right->nr - 1))) {
			deltalog_leaf_copy(left, left->nr, right, 0, right->nr);
			left->nr += right->nr;
			deltalog_node_put(ix, right);
			path->idx[lv] = ri;
			deltalog_inner_remove(ix, path, lv);
			return;
		}
	}

	/* No merge: even out with a sibling that has more than enough. */
	ri = pi ? pi : 1;
	left = parent->child[ri - 1];
	right = parent->child[ri];
	want = (left->nr + right->nr) / 2;
	if (left->nr > want && deltalog_can_move_right(left, right, left->nr - want)) {
		deltalog_move_right(left, right, left->nr - want);
		parent->key[ri] = right->base;
	} else if (left->nr < want && deltalog_can_move_left(left, right, want - left->nr)) {
		deltalog_move_left(left, right, want - left->nr);
		parent->key[ri] = right->base;
	}
}

/* Add leaf n to the tree right after (or, if before, right before) path's leaf. */
static void deltalog_leaf_link(struct deltalog_index *ix, struct deltalog_path *path,
			       struct deltalog_leaf *n, bool before,
			       struct deltalog_index_spare *sp)
{
	int lv = (int)ix->height - 1;
	unsigned int i = lv < 0 ? !before : path->idx[lv] + !before;

	deltalog_inner_insert(ix, path, lv, i, n->base, n, sp);
}

/*
 * Path's leaf has no room for k entries at pos. Shift entries into a sibling
 * that has room, keeping pos in this leaf (pos >= 1 stays >= 1), or split
 * the leaf: one entry from the end for appends, else in the middle.
 */
static void deltalog_leaf_make_room(struct deltalog_index *ix, struct deltalog_path *path,
				    unsigned int pos, unsigned int k,
				    struct deltalog_index_spare *sp)
{
	struct deltalog_leaf *l = path->leaf, *n;
	unsigned int need = l->nr + k - DELTALOG_LEAF_SLOTS, q;

	if (ix->height) {
		struct deltalog_inner *parent = path->node[ix->height - 1];
		unsigned int pi = path->idx[ix->height - 1];

		if (pi && pos > need) {
			struct deltalog_leaf *a = parent->child[pi - 1];
			unsigned int m = (DELTALOG_LEAF_SLOTS - a->nr + 1) / 2;

			m = clamp(m, need, pos - 1);
			if (deltalog_can_move_left(a, l, m)) {
				deltalog_move_left(a, l, m);
				parent->key[pi] = l->base;
				return;
			}
		}
		if (pi + 1 < parent->nr && l->nr - pos >= need) {
			struct deltalog_leaf *b = parent->child[pi + 1];
			unsigned int m = (DELTALOG_LEAF_SLOTS - b->nr + 1) / 2;

			m = clamp(m, need, l->nr - pos);
			if (deltalog_can_move_right(l, b, m)) {
				deltalog_move_right(l, b, m);
				parent->key[pi + 1] = b->base;
				return;
			}
		}
	}

	if (pos == l->nr)
		q = l->nr - 1;
	else if (!pos)
		q = 1;
	else
		q = l->nr / 2;
	n = deltalog_node_take(ix, sp);
	n->nr = l->nr - q;
	n->base = deltalog_leaf_start(l, q);
	deltalog_leaf_copy(n, 0, l, q, n->nr);
	l->nr = q;
	deltalog_leaf_link(ix, path, n, false, sp);
}

/*
 * Put k (1 or 2) consecutive new extents into the tree, where nothing
 * overlaps them. If have_path, path already leads to the leaf for them.
 */
static void deltalog_place(struct deltalog_index *ix, struct deltalog_path *path,
			   bool have_path, const struct deltalog_ent *ents, unsigned int k,
			   struct deltalog_index_spare *sp)
{
	u64 s = ents[0].start;
	struct deltalog_leaf *l, *n;
	unsigned int pos, i;
	u64 base, last;

	ix->nr_extents += k;
	if (!ix->root) {
		l = deltalog_node_take(ix, sp);
		l->nr = k;
		l->base = s;
		for (i = 0; i < k; i++)
			deltalog_leaf_set(l, i, &ents[i]);
		ix->root = l;
		return;
	}

	for (;;) {
		l = have_path ? path->leaf : deltalog_descend(ix, s, path);
		pos = deltalog_leaf_count(l, s);
		base = pos ? l->base : s;
		last = pos < l->nr ? deltalog_leaf_start(l, l->nr - 1) : ents[k - 1].start;

		if (!deltalog_span_ok(base, last)) {
			/*
			 * More than 2^32 sectors after the leaf's first extent,
			 * or before its last one: only at the leaf's end or
			 * front, since what lies in between is within the span.
			 * A new leaf starts at the new extents.
			 */
			n = deltalog_node_take(ix, sp);
			n->base = s;
			n->nr = k;
			for (i = 0; i < k; i++)
				deltalog_leaf_set(n, i, &ents[i]);
			if (pos) {
				deltalog_leaf_copy(n, k, l, pos, l->nr - pos);
				n->nr += l->nr - pos;
				l->nr = pos;
			}
			deltalog_leaf_link(ix, path, n, !pos, sp);
			return;
		}
		if (l->nr + k <= DELTALOG_LEAF_SLOTS)
			break;
		deltalog_leaf_make_room(ix, path, pos, k, sp);
		have_path = false;
	}

	if (!pos) {
		deltalog_leaf_rebase(l, s);
		if (ix->height)
			deltalog_path_set_key(path, ix->height - 1, s);
	}
	deltalog_leaf_open(l, pos, k);
	for (i = 0; i < k; i++)
		deltalog_leaf_set(l, pos + i, &ents[i]);
}

/*
 * The leaf and index of the first extent that ends after key, with path
 * leading to it; NULL if there is none.
 */
static struct deltalog_leaf *deltalog_lookup(struct deltalog_index *ix, u64 key,
					     struct deltalog_path *path, unsigned int *idx)
{
	struct deltalog_leaf *l;
	unsigned int i;

	if (!ix->root)
		return NULL;
	l = deltalog_descend(ix, key, path);
	i = deltalog_leaf_count(l, key);
	if (i && deltalog_leaf_end(l, i - 1) > key) {
		*idx = i - 1;
		return l;
	}
	if (i < l->nr) {
		*idx = i;
		return l;
	}
	*idx = 0;
	return deltalog_next_leaf(ix, path);
}

/*
 * Remove [s, e) from the index: trim the extent that starts before s, remove
 * those that start inside. The part after e of the extent that reaches past
 * e (at most one does) is returned in tail.
 */
static bool deltalog_punch(struct deltalog_index *ix, u64 s, u64 e, struct deltalog_ent *tail)
{
	struct deltalog_path path;
	struct deltalog_leaf *l;
	unsigned int i, j;
	bool have_tail = false;

	while ((l = deltalog_lookup(ix, s, &path, &i))) {
		struct deltalog_ent z;

		deltalog_leaf_get(l, i, &z);
		if (z.start >= e)
			break;
		if (z.start < s) {
			l->len[i] = s - z.start;
			if (z.start + z.len > e) {
				tail->start = e;
				tail->len = z.start + z.len - e;
				tail->word = deltalog_word_add(ix, z.word, e - z.start);
				return true;
			}
			i++;
		}

		for (j = i; j < l->nr && deltalog_leaf_start(l, j) < e; j++)
			;
		if (j == i) {
			if (i < l->nr)
				break;
			continue;	/* the trimmed extent ended the leaf */
		}
		if (deltalog_leaf_end(l, j - 1) > e) {
			deltalog_leaf_get(l, j - 1, &z);
			tail->start = e;
			tail->len = z.start + z.len - e;
			tail->word = deltalog_word_add(ix, z.word, e - z.start);
			have_tail = true;
		}
		ix->nr_extents -= j - i;
		deltalog_leaf_close(l, i, j - i);
		deltalog_leaf_fixup(ix, &path);
		if (have_tail)
			break;
	}
	return have_tail;
}

/* Remove the extent at index i of path's leaf. */
static void deltalog_remove(struct deltalog_index *ix, struct deltalog_path *path, unsigned int i)
{
	ix->nr_extents--;
	deltalog_leaf_close(path->leaf, i, 1);
	deltalog_leaf_fixup(ix, path);
}

/*
 * The extent after entry pos of path's leaf, in this leaf or the next one;
 * next is path moved there when needed.
 */
static bool deltalog_next_ent(struct deltalog_index *ix, const struct deltalog_path *path,
			      unsigned int pos, struct deltalog_path *next, unsigned int *ni,
			      struct deltalog_ent *e)
{
	*next = *path;
	*ni = 0;
	if (pos < path->leaf->nr)
		*ni = pos;
	else if (!deltalog_next_leaf(ix, next))
		return false;
	deltalog_leaf_get(next->leaf, *ni, e);
	return true;
}

/*
 * An overwrite of exactly one extent (the common case of random overwrites)
 * takes its entry in place, unless it would then continue the extent before
 * or after it: those go the long way, to merge. So does the first entry of
 * a leaf that has one before it, whose neighbour is in another leaf. pos is
 * deltalog_leaf_count() of e->start in path's leaf.
 */
static bool deltalog_replace(struct deltalog_index *ix, struct deltalog_path *path,
			     unsigned int pos, const struct deltalog_ent *e)
{
	struct deltalog_leaf *l = path->leaf;
	struct deltalog_path npath;
	struct deltalog_ent nb;
	unsigned int ni;

	if (!pos || deltalog_leaf_start(l, pos - 1) != e->start || l->len[pos - 1] != e->len)
		return false;
	if (pos == 1 && ix->height)
		return false;
	if (pos >= 2) {
		deltalog_leaf_get(l, pos - 2, &nb);
		if (deltalog_continues(ix, &nb, e))
			return false;
	}
	if (deltalog_next_ent(ix, path, pos, &npath, &ni, &nb) && deltalog_continues(ix, e, &nb))
		return false;
	l->word[pos - 1] = e->word;
	return true;
}

u64 deltalog_index_ring_off(const struct deltalog_index *ix, u64 data_pos)
{
	u64 off;

	if (!ix->data_sectors)
		return data_pos & ~DELTALOG_ZERO_BIT;
	div64_u64_rem(data_pos, ix->data_sectors, &off);
	return off;
}

void deltalog_index_insert(struct deltalog_index *ix, sector_t start, u32 nr_sectors,
			   u16 kind, u64 data_pos, struct deltalog_index_spare *sp)
{
	struct deltalog_ent ents[2], *e = &ents[0], *tail = &ents[1], p, nx;
	struct deltalog_path path, npath;
	struct deltalog_leaf *l;
	unsigned int pos, ni, need, k = 1;
	u64 end = start + nr_sectors;

	if (!nr_sectors)
		return;

	need = ix->root ? ix->height + 2 : 1;
	if (WARN_ON_ONCE(sp->nr < need))
		deltalog_index_reserve(sp, GFP_ATOMIC);

	e->start = start;
	e->len = nr_sectors;
	e->word = kind == DLOG_REC_WRITE ? deltalog_index_ring_off(ix, data_pos) : DELTALOG_ZERO_BIT;

	if (!ix->root) {
		deltalog_place(ix, &path, false, ents, 1, sp);
		return;
	}

	/* Most writes overlap nothing: then this one descent is all. */
	l = deltalog_descend(ix, start, &path);
	pos = deltalog_leaf_count(l, start);
	if (deltalog_replace(ix, &path, pos, e))
		return;
	if ((pos && deltalog_leaf_end(l, pos - 1) > start) ||
	    (deltalog_next_ent(ix, &path, pos, &npath, &ni, &nx) && nx.start < end)) {
		if (deltalog_punch(ix, start, end, tail))
			k = 2;
		if (!ix->root) {
			deltalog_place(ix, &path, false, ents, k, sp);
			return;
		}
		l = deltalog_descend(ix, start, &path);
		pos = deltalog_leaf_count(l, start);
	}

	/* The extent before: extend it in place, with what follows if it can. */
	if (pos) {
		deltalog_leaf_get(l, pos - 1, &p);
		if (deltalog_continues(ix, &p, e)) {
			p.len += e->len;
			if (k == 2 && deltalog_continues(ix, &p, tail)) {
				p.len += tail->len;
				k = 1;
			} else if (k == 1 && deltalog_next_ent(ix, &path, pos, &npath, &ni, &nx) &&
				   deltalog_continues(ix, &p, &nx)) {
				l->len[pos - 1] = p.len + nx.len;
				deltalog_remove(ix, &npath, ni);
				return;
			}
			l->len[pos - 1] = p.len;
			if (k == 2)
				deltalog_place(ix, &path, true, tail, 1, sp);
			return;
		}
	}

	/* The extent after: take it in. */
	if (k == 2) {
		if (deltalog_continues(ix, e, tail)) {
			e->len += tail->len;
			k = 1;
		}
	} else if (deltalog_next_ent(ix, &path, pos, &npath, &ni, &nx) &&
		   deltalog_continues(ix, e, &nx)) {
		e->len += nx.len;
		if (npath.leaf == l && pos) {
			/* Same leaf, not its first entry: in place. */
			deltalog_leaf_set(l, pos, e);
			return;
		}
		deltalog_remove(ix, &npath, ni);
		deltalog_place(ix, &path, false, ents, 1, sp);
		return;
	}
	deltalog_place(ix, &path, true, ents, k, sp);
}

bool deltalog_index_find(struct deltalog_index *ix, sector_t sector,
			 struct deltalog_extent *out)
{
	struct deltalog_path path;
	struct deltalog_leaf *l;
	unsigned int i;

	l = deltalog_lookup(ix, sector, &path, &i);
	if (!l)
		return false;
	out->start = deltalog_leaf_start(l, i);
	out->len = l->len[i];
	if (l->word[i] & DELTALOG_ZERO_BIT) {
		out->kind = DLOG_REC_ZERO;
		out->data_off = 0;
	} else {
		out->kind = DLOG_REC_WRITE;
		out->data_off = l->word[i];
	}
	return true;
}

/*
 * Remove the extent [start, start + len) exactly as deltalog_index_find()
 * returned it; false (and nothing removed) if the index no longer has it.
 */
bool deltalog_index_remove(struct deltalog_index *ix, sector_t start, sector_t len)
{
	struct deltalog_path path;
	struct deltalog_leaf *l;
	unsigned int i;

	l = deltalog_lookup(ix, start, &path, &i);
	if (!l || deltalog_leaf_start(l, i) != start || l->len[i] != len)
		return false;
	deltalog_remove(ix, &path, i);
	return true;
}

u64 deltalog_index_nr_extents(struct deltalog_index *ix)
{
	return ix->nr_extents;
}

u64 deltalog_index_bytes(struct deltalog_index *ix)
{
	return ix->nr_nodes * kmem_cache_size(deltalog_node_cache);
}

static void deltalog_free_tree(void *n, unsigned int height)
{
	struct deltalog_inner *in = n;
	unsigned int i;

	if (height) {
		for (i = 0; i < in->nr; i++)
			deltalog_free_tree(in->child[i], height - 1);
	}
	kmem_cache_free(deltalog_node_cache, n);
}

void deltalog_index_destroy(struct deltalog_index *ix)
{
	if (ix->root)
		deltalog_free_tree(ix->root, ix->height);
	ix->root = NULL;
	ix->height = 0;
	ix->nr_extents = 0;
	ix->nr_nodes = 0;
}

#ifdef DELTALOG_INDEX_CHECK
struct deltalog_check {
	u64 nodes;
	u64 extents;
	u64 prev_end;
	bool any;
};

static int deltalog_check_leaf(struct deltalog_index *ix, struct deltalog_leaf *l, u64 key,
			       struct deltalog_check *c)
{
	unsigned int i;

	if (!l->nr || l->nr > DELTALOG_LEAF_SLOTS || l->rel[0] || l->base != key)
		return __LINE__;
	for (i = 0; i < l->nr; i++) {
		u64 s = deltalog_leaf_start(l, i);

		if (!l->len[i] || (c->any && s < c->prev_end))
			return __LINE__;
		if (i && l->rel[i] <= l->rel[i - 1])
			return __LINE__;
		if (l->word[i] & DELTALOG_ZERO_BIT ? l->word[i] != DELTALOG_ZERO_BIT :
		    ix->data_sectors && l->word[i] >= ix->data_sectors)
			return __LINE__;
		c->prev_end = s + l->len[i];
		c->any = true;
		c->extents++;
	}
	return 0;
}

static int deltalog_check_node(struct deltalog_index *ix, void *n, unsigned int depth,
			       u64 key, struct deltalog_check *c)
{
	struct deltalog_inner *in = n;
	unsigned int i;
	int r;

	c->nodes++;
	if (depth == ix->height)
		return deltalog_check_leaf(ix, n, key, c);
	if (in->nr > DELTALOG_INNER_SLOTS || in->nr < (depth ? DELTALOG_INNER_MIN : 2))
		return __LINE__;
	if (in->key[0] != key)
		return __LINE__;
	for (i = 0; i < in->nr; i++) {
		if (i && in->key[i] <= in->key[i - 1])
			return __LINE__;
		r = deltalog_check_node(ix, in->child[i], depth + 1, in->key[i], c);
		if (r)
			return r;
	}
	return 0;
}

int deltalog_index_check(struct deltalog_index *ix)
{
	struct deltalog_check c = { 0 };
	int r;

	if (!ix->root)
		return ix->height || ix->nr_nodes || ix->nr_extents ? __LINE__ : 0;
	if (ix->height >= DELTALOG_INDEX_MAX_HEIGHT)
		return __LINE__;
	r = deltalog_check_node(ix, ix->root, 0, deltalog_node_key(ix->root, ix->height), &c);
	if (r)
		return r;
	if (c.nodes != ix->nr_nodes || c.extents != ix->nr_extents)
		return __LINE__;
	return 0;
}
#endif
