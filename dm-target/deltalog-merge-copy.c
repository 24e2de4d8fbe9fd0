// SPDX-License-Identifier: GPL-2.0
/*
 * dm-deltalog: the merge's copy (step 3 of deltalog-merge.c).
 *
 * The state at the target is written into the origin in origin order, in
 * chunks of up to 1 MiB: a chunk takes the next pieces of extents, reads
 * them from the data ring into pages allocated once per merge (pieces
 * adjacent in the ring in one bio), then writes them to the origin (pieces
 * adjacent there in one bio). Several chunks are in flight, so reads of the
 * delta and writes of the origin overlap.
 *
 * The merge's worker submits every bio of a phase under one plug and wakes
 * up once per chunk and phase, however many pieces it holds: a copy of
 * random 4 KiB blocks costs a bio per block and little else (dm-kcopyd,
 * used before, took each block through several threads and allocated its
 * pages for each copy).
 *
 * Zeroed ranges (ZERO extents) are written with REQ_OP_WRITE_ZEROES where
 * the origin has it, else from the zero page.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "deltalog.h"

/* A chunk copies at most this much (1 MiB), a page each 4 KiB ... */
#define DELTALOG_CHUNK_PAGES		256u
#define DELTALOG_CHUNK_SECTORS		(DELTALOG_CHUNK_PAGES << (PAGE_SHIFT - SECTOR_SHIFT))
/* ... in at most this many pieces ... */
#define DELTALOG_CHUNK_PIECES		256u
/* ... and this many chunks are in flight (8 MiB). */
#define DELTALOG_COPY_CHUNKS		8u
/* Foreground I/O seen this recently means the device is in use. */
#define DELTALOG_MERGE_BUSY_MS		100

#define DELTALOG_PAGE_SECTORS		(PAGE_SIZE >> SECTOR_SHIFT)

/* Part of an extent: sectors from one place in the ring (or zeroes). */
struct deltalog_piece {
	sector_t origin;
	sector_t delta;			/* on the delta device; unused if zero */
	u32 sectors;
	u32 buf;			/* sectors into the chunk's pages */
	bool zero;
};

enum deltalog_chunk_state {
	DELTALOG_CHUNK_FREE,
	DELTALOG_CHUNK_READING,
	DELTALOG_CHUNK_READ,		/* read: the worker writes it */
	DELTALOG_CHUNK_WRITING,
	DELTALOG_CHUNK_WRITTEN,		/* written: the worker frees it */
};

struct deltalog_chunk {
	struct deltalog_c *dc;
	int state;			/* enum deltalog_chunk_state; completions set it */
	atomic_t pending;		/* bios in flight, + 1 while submitting */
	unsigned int nr;		/* pieces */
	u32 buf_used;			/* sectors of pages in use */
	u32 sectors;			/* sectors the chunk copies */
	struct page *pages[DELTALOG_CHUNK_PAGES];
	struct deltalog_piece piece[DELTALOG_CHUNK_PIECES];
};

/* The copy's state in the merge's worker. */
struct deltalog_copy {
	struct deltalog_c *dc;
	struct deltalog_chunk *chunk;
	unsigned int nr_chunks;
	bool write_zeroes;		/* the origin has REQ_OP_WRITE_ZEROES */

	/* Where the walk of the state at the target is. */
	struct deltalog_index *ix;
	struct deltalog_extent e;
	bool have_extent;
	sector_t sector;
};

/*----------------------------------------------------------------
 * Pacing
 *--------------------------------------------------------------*/

/*
 * Copying paced to merge_rate while the device is in use: the sectors sent
 * since start may not run ahead of the rate; credit (time the copy fell
 * behind) is kept for at most a second, and an idle device resets it.
 */
struct deltalog_pace {
	unsigned long start;
	u64 sectors;
};

/* How long to wait before the next chunk may go (0: now). */
static unsigned long deltalog_pace_delay(struct deltalog_c *dc, struct deltalog_pace *pace)
{
	unsigned long busy_until, due;

	busy_until = READ_ONCE(dc->last_io) + msecs_to_jiffies(DELTALOG_MERGE_BUSY_MS);
	if (!dc->merge_rate || READ_ONCE(dc->merge.stop) || READ_ONCE(dc->room_waiters.head) ||
	    time_after(jiffies, busy_until)) {
		pace->start = jiffies;
		pace->sectors = 0;
		return 0;
	}
	/* When the sectors sent so far are due at merge_rate (KiB/s). */
	due = pace->start + msecs_to_jiffies(div_u64(pace->sectors * 1000, 2ull * dc->merge_rate));
	if (time_after(jiffies, due + HZ)) {
		pace->start = jiffies - HZ;
		pace->sectors = 0;
		return 0;
	}
	if (!time_before(jiffies, due))
		return 0;
	/* Look again soon: the device may have become idle. */
	return min(due - jiffies, msecs_to_jiffies(20));
}

/*----------------------------------------------------------------
 * Chunks
 *--------------------------------------------------------------*/

static void deltalog_copy_free(struct deltalog_copy *cp)
{
	unsigned int i, j;

	for (i = 0; i < cp->nr_chunks; i++)
		for (j = 0; j < DELTALOG_CHUNK_PAGES; j++)
			if (cp->chunk[i].pages[j])
				__free_page(cp->chunk[i].pages[j]);
	kvfree(cp->chunk);
	cp->chunk = NULL;
}

/* Allocate the chunks' pages: as many chunks as memory allows, at least one. */
static int deltalog_copy_alloc(struct deltalog_copy *cp)
{
	unsigned int i, j;

	cp->chunk = kvcalloc(DELTALOG_COPY_CHUNKS, sizeof(*cp->chunk), GFP_NOIO);
	if (!cp->chunk)
		return -ENOMEM;
	for (i = 0; i < DELTALOG_COPY_CHUNKS; i++) {
		cp->chunk[i].dc = cp->dc;
		for (j = 0; j < DELTALOG_CHUNK_PAGES; j++) {
			cp->chunk[i].pages[j] = alloc_page(GFP_NOIO | __GFP_NOWARN);
			if (!cp->chunk[i].pages[j])
				break;
		}
		cp->nr_chunks = i + 1;
		if (j < DELTALOG_CHUNK_PAGES) {
			cp->nr_chunks = i;
			for (; j > 0; j--)
				__free_page(cp->chunk[i].pages[j - 1]);
			cp->chunk[i].pages[0] = NULL;
			break;
		}
	}
	if (!cp->nr_chunks) {
		kvfree(cp->chunk);
		cp->chunk = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int deltalog_chunk_state(struct deltalog_chunk *ch)
{
	return smp_load_acquire(&ch->state);
}

static void deltalog_chunk_set(struct deltalog_chunk *ch, int state)
{
	smp_store_release(&ch->state, state);
}

/* A bio of the chunk ended, or its submission did: the phase may be over. */
static void deltalog_chunk_put(struct deltalog_chunk *ch)
{
	struct deltalog_c *dc = ch->dc;
	struct deltalog_merge *m = &dc->merge;
	unsigned long flags;

	if (!atomic_dec_and_test(&ch->pending))
		return;
	if (deltalog_chunk_state(ch) == DELTALOG_CHUNK_READING) {
		deltalog_chunk_set(ch, DELTALOG_CHUNK_READ);
	} else {
		if (!READ_ONCE(m->error)) {
			spin_lock_irqsave(&dc->lock, flags);
			m->copied += ch->sectors;
			spin_unlock_irqrestore(&dc->lock, flags);
		}
		deltalog_chunk_set(ch, DELTALOG_CHUNK_WRITTEN);
	}
	wake_up(&m->wait);
}

static void deltalog_chunk_endio(struct bio *bio)
{
	struct deltalog_chunk *ch = bio->bi_private;
	struct deltalog_merge *m = &ch->dc->merge;

	if (bio->bi_status && !READ_ONCE(m->error))
		WRITE_ONCE(m->error, blk_status_to_errno(bio->bi_status));
	bio_put(bio);
	deltalog_chunk_put(ch);
}

/* Pages the piece's part of the chunk's buffer touches. */
static unsigned int deltalog_piece_pages(const struct deltalog_piece *pc)
{
	u32 first = pc->buf / DELTALOG_PAGE_SECTORS;
	u32 last = (pc->buf + pc->sectors - 1) / DELTALOG_PAGE_SECTORS;

	return pc->zero ? DIV_ROUND_UP(pc->sectors, DELTALOG_PAGE_SECTORS) : last - first + 1;
}

static bool deltalog_bio_add(struct bio *bio, struct deltalog_chunk *ch,
			     const struct deltalog_piece *pc)
{
	u32 buf = pc->buf, left = pc->sectors;

	while (left) {
		u32 off = pc->zero ? 0 : (buf % DELTALOG_PAGE_SECTORS) << SECTOR_SHIFT;
		u32 len = min_t(u32, PAGE_SIZE - off, left << SECTOR_SHIFT);
		struct page *page = pc->zero ? ZERO_PAGE(0) : ch->pages[buf / DELTALOG_PAGE_SECTORS];

		if (bio_add_page(bio, page, len, off) != len)
			return false;
		buf += len >> SECTOR_SHIFT;
		left -= len >> SECTOR_SHIFT;
	}
	return true;
}

/*
 * Submit the chunk's pieces [first, end) as one bio to bdev at sector,
 * reading or writing: they are adjacent there and in the buffer's order.
 */
static void deltalog_chunk_submit_run(struct deltalog_copy *cp, struct deltalog_chunk *ch,
				      struct block_device *bdev, sector_t sector, blk_opf_t opf,
				      unsigned int first, unsigned int end, unsigned int pages)
{
	struct deltalog_merge *m = &cp->dc->merge;
	struct bio *bio;
	unsigned int i;

	bio = bio_alloc_bioset(bdev, pages, opf, GFP_NOIO, &m->bs);
	bio->bi_iter.bi_sector = sector;
	bio->bi_end_io = deltalog_chunk_endio;
	bio->bi_private = ch;
	if (opf == REQ_OP_WRITE_ZEROES) {
		for (i = first; i < end; i++)
			bio->bi_iter.bi_size += ch->piece[i].sectors << SECTOR_SHIFT;
	} else {
		for (i = first; i < end; i++) {
			if (!deltalog_bio_add(bio, ch, &ch->piece[i])) {
				/* Cannot happen: the bio has a vec per page. */
				bio->bi_status = BLK_STS_RESOURCE;
				atomic_inc(&ch->pending);
				bio_endio(bio);
				return;
			}
		}
	}
	atomic_inc(&ch->pending);
	submit_bio(bio);
}

/* Where a piece is (or goes) on the device a phase addresses. */
static sector_t deltalog_piece_at(const struct deltalog_piece *pc, bool reading)
{
	return reading ? pc->delta : pc->origin;
}

/*
 * Read the chunk's data pieces from the delta, or write all its pieces to
 * the origin: pieces adjacent on that device (and in the buffer) share a
 * bio, of at most BIO_MAX_VECS pages.
 */
static void deltalog_chunk_submit(struct deltalog_copy *cp, struct deltalog_chunk *ch,
				  bool reading)
{
	struct deltalog_c *dc = cp->dc;
	struct block_device *bdev = reading ? dc->delta->bdev : dc->origin->bdev;
	struct blk_plug plug;
	unsigned int i = 0, first, pages;
	blk_opf_t opf;

	deltalog_chunk_set(ch, reading ? DELTALOG_CHUNK_READING : DELTALOG_CHUNK_WRITING);
	atomic_set(&ch->pending, 1);
	blk_start_plug(&plug);
	while (i < ch->nr) {
		const struct deltalog_piece *pc = &ch->piece[i];

		if (reading && pc->zero) {
			i++;
			continue;
		}
		if (pc->zero && cp->write_zeroes)
			opf = REQ_OP_WRITE_ZEROES;
		else
			opf = reading ? REQ_OP_READ : REQ_OP_WRITE;
		first = i;
		pages = deltalog_piece_pages(pc);
		for (i++; i < ch->nr; i++) {
			const struct deltalog_piece *prev = &ch->piece[i - 1], *next = &ch->piece[i];

			if (next->zero != pc->zero ||
			    deltalog_piece_at(next, reading) !=
			    deltalog_piece_at(prev, reading) + prev->sectors ||
			    (!pc->zero && next->buf != prev->buf + prev->sectors) ||
			    (opf != REQ_OP_WRITE_ZEROES &&
			     pages + deltalog_piece_pages(next) > BIO_MAX_VECS))
				break;
			pages += deltalog_piece_pages(next);
		}
		deltalog_chunk_submit_run(cp, ch, bdev, deltalog_piece_at(pc, reading), opf,
					  first, i, opf == REQ_OP_WRITE_ZEROES ? 0 : pages);
	}
	blk_finish_plug(&plug);
	deltalog_chunk_put(ch);
}

/*
 * Fill a free chunk with the next pieces of the state at the target, in
 * origin order. Returns false when there is nothing left to copy.
 */
static bool deltalog_chunk_fill(struct deltalog_copy *cp, struct deltalog_chunk *ch)
{
	struct deltalog_c *dc = cp->dc;
	struct deltalog_extent *e = &cp->e;

	ch->nr = 0;
	ch->buf_used = 0;
	ch->sectors = 0;
	while (ch->nr < DELTALOG_CHUNK_PIECES && ch->sectors < DELTALOG_CHUNK_SECTORS) {
		struct deltalog_piece *pc = &ch->piece[ch->nr];
		u64 off, len;

		if (!cp->have_extent || cp->sector >= e->start + e->len) {
			cp->have_extent = deltalog_index_find(cp->ix, cp->sector, e);
			if (!cp->have_extent)
				break;
			cp->sector = max_t(sector_t, cp->sector, e->start);
		}
		len = min_t(u64, e->start + e->len - cp->sector,
			    DELTALOG_CHUNK_SECTORS - ch->sectors);
		pc->origin = cp->sector;
		pc->zero = e->kind == DLOG_REC_ZERO;
		pc->buf = ch->buf_used;
		if (!pc->zero) {
			/* A piece never crosses the end of the data ring. */
			div64_u64_rem(e->data_off + (cp->sector - e->start), dc->sb.data_sectors, &off);
			len = min(len, dc->sb.data_sectors - off);
			pc->delta = dc->sb.data_start + off;
			ch->buf_used += len;
		}
		pc->sectors = len;
		ch->sectors += len;
		ch->nr++;
		cp->sector += len;
	}
	return ch->nr > 0;
}

/*----------------------------------------------------------------
 * The copy
 *--------------------------------------------------------------*/

/* Something for the worker to do: a phase ended, or (unless stopping already) stop. */
static bool deltalog_copy_wake(struct deltalog_copy *cp, bool watch_stop)
{
	unsigned int i;

	if (watch_stop && READ_ONCE(cp->dc->merge.stop))
		return true;
	for (i = 0; i < cp->nr_chunks; i++) {
		int s = deltalog_chunk_state(&cp->chunk[i]);

		if (s == DELTALOG_CHUNK_READ || s == DELTALOG_CHUNK_WRITTEN)
			return true;
	}
	return false;
}

/*
 * Copy every extent of the state at the target (ix) into the origin.
 * Returns 0, -EINTR if asked to stop, or an error; waits for every bio it
 * submitted.
 */
int deltalog_merge_copy(struct deltalog_c *dc, struct deltalog_index *ix)
{
	struct deltalog_merge *m = &dc->merge;
	struct deltalog_pace pace = { .start = jiffies };
	struct deltalog_copy cp = { .dc = dc, .ix = ix };
	struct deltalog_chunk *free;
	unsigned long delay;
	bool more = true, busy;
	unsigned int i;
	int r;

	r = deltalog_copy_alloc(&cp);
	if (r)
		return r;
	cp.write_zeroes = bdev_write_zeroes_sectors(dc->origin->bdev) > 0;

	for (;;) {
		free = NULL;
		busy = false;
		for (i = 0; i < cp.nr_chunks; i++) {
			struct deltalog_chunk *ch = &cp.chunk[i];

			switch (deltalog_chunk_state(ch)) {
			case DELTALOG_CHUNK_READ:
				/* After a failed read, or when stopping, nothing is written. */
				if (!r && !READ_ONCE(m->error) && !READ_ONCE(m->stop)) {
					deltalog_chunk_submit(&cp, ch, false);
					busy = true;
					break;
				}
				fallthrough;
			case DELTALOG_CHUNK_WRITTEN:
				deltalog_chunk_set(ch, DELTALOG_CHUNK_FREE);
				fallthrough;
			case DELTALOG_CHUNK_FREE:
				free = free ? free : ch;
				break;
			default:
				busy = true;
			}
		}
		if (!r && READ_ONCE(m->stop))
			r = -EINTR;
		else if (!r && READ_ONCE(m->error))
			r = m->error;

		delay = 0;
		if (!r && more && free) {
			delay = deltalog_pace_delay(dc, &pace);
			if (!delay) {
				more = deltalog_chunk_fill(&cp, free);
				if (more) {
					pace.sectors += free->sectors;
					deltalog_chunk_submit(&cp, free, true);
				}
				continue;
			}
		}
		if (!busy && (r || !more))
			break;
		/* Busy, or paced: wait for a phase to end (or the pace). */
		if (delay)
			wait_event_timeout(m->wait, deltalog_copy_wake(&cp, !r), delay);
		else
			wait_event(m->wait, deltalog_copy_wake(&cp, !r));
	}
	deltalog_copy_free(&cp);
	if (!r && READ_ONCE(m->error))
		r = m->error;
	return r;
}
