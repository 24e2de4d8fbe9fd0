// SPDX-License-Identifier: GPL-2.0
/*
 * dm-deltalog: the I/O path.
 *
 * Reads: look the bio up in the index and remap it to the data ring or the
 * origin, or zero-fill it; split at extent boundaries and at the ring's end.
 *
 * Writes: .map allocates the bio's place at the data ring's head (keeping
 * 4 KiB alignment: data_pos % 8 == origin_sector % 8, FORMAT.md 5), promises
 * it a metadata slot, computes the checksum of its data and remaps it there:
 * one write of the data, no copy. A bio that would cross the ring's end is
 * split there. When the data write completes, its record gets the next seq
 * and goes into the journal and the queue of index inserts in one step under
 * dc->lock, so the index sees records in seq order and a newer seq always
 * wins; the worker makes the inserts under dc->index_lock
 * (deltalog-pending.h), so writers never wait for one, and lookups see them
 * queued. Then the bio completes: like a disk with a volatile cache,
 * the write is not durable until a flush. A FUA write completes only after
 * a commit with a flush.
 *
 * Discards and write-zeroes are ZERO records, recorded in .map.
 *
 * A flush waits for the next commit with a flush, unless everything is
 * durable already.
 *
 * Nothing here sleeps: what needs journal or queue room that is not there
 * goes to the worker, which may sleep.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/math64.h>
#include <linux/xxhash.h>

#include "deltalog.h"

static struct deltalog_io *deltalog_io_of(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct deltalog_io));
}

void deltalog_kick(struct deltalog_c *dc)
{
	queue_work(dc->wq, &dc->worker);
}

/*
 * Persist pending records within commit_ms. Under dc->lock. A pending timer
 * has not taken its snapshot of the journal yet, so it covers this record;
 * testing for it first spares every write the queueing call.
 */
static void deltalog_arm_commit(struct deltalog_c *dc)
{
	if (dc->suspended || delayed_work_pending(&dc->commit_timer))
		return;
	queue_delayed_work(dc->wq, &dc->commit_timer, msecs_to_jiffies(dc->commit_ms));
}

/*
 * Make dc->spare a whole claim for one index insert. Under dc->index_lock,
 * which it drops to top the claim up (rarely: after an insert took a node),
 * so the caller checks the state after it. False if gfp found no memory.
 */
static bool deltalog_spare_ready(struct deltalog_c *dc, gfp_t gfp, unsigned long *flags)
	__must_hold(&dc->index_lock)
{
	struct deltalog_index_spare more = {};

	while (dc->spare.nr < DELTALOG_INDEX_SPARE_NODES) {
		spin_unlock_irqrestore(&dc->index_lock, *flags);
		if (deltalog_index_reserve(&more, gfp)) {
			deltalog_index_unreserve(&more);
			spin_lock_irqsave(&dc->index_lock, *flags);
			return false;
		}
		spin_lock_irqsave(&dc->index_lock, *flags);
		dc->spare.nr += more.nr;
		more.nr = 0;
	}
	return true;
}

/*
 * Make the queued index inserts, oldest first, one per round of
 * dc->index_lock, so that reads wait for one at most. Writers do not wait:
 * dc->lock is taken only to drop an insert made from the queue. Process
 * context; any number of callers. -ENOMEM if there was no index memory
 * (the rest stay queued, and lookups still see them).
 */
int deltalog_index_catch_up(struct deltalog_c *dc)
{
	unsigned long flags;
	int r = 0;

	spin_lock_irqsave(&dc->index_lock, flags);
	/* Pairs with the release in deltalog_pending_add(). */
	while (smp_load_acquire(&dc->pending.nr)) {
		if (!deltalog_spare_ready(dc, GFP_NOIO, &flags)) {
			r = -ENOMEM;
			break;
		}
		/*
		 * Another caller may have emptied the queue while it was
		 * dropped, and a writer queued anew: acquire again.
		 */
		if (smp_load_acquire(&dc->pending.nr)) {
			deltalog_pending_apply_oldest(&dc->pending, &dc->index, &dc->spare);
			spin_lock(&dc->lock);
			deltalog_pending_drop_oldest(&dc->pending);
			spin_unlock(&dc->lock);
		}
		spin_unlock_irqrestore(&dc->index_lock, flags);
		cond_resched();
		spin_lock_irqsave(&dc->index_lock, flags);
	}
	spin_unlock_irqrestore(&dc->index_lock, flags);
	return r;
}

/*
 * Queue the index insert of a record just appended (the caller checked for
 * room); the worker makes it, soon after half the queue is used, or with
 * the next commit. Under dc->lock.
 */
static void deltalog_queue_insert(struct deltalog_c *dc, sector_t start, u32 nr_sectors,
				  u16 kind, u64 data_pos)
{
	deltalog_pending_add(&dc->pending, start, nr_sectors, kind, data_pos);
	if (dc->pending.nr == DELTALOG_PENDING_KICK)
		deltalog_kick(dc);
}

/*
 * Take dc->lock to add a record and queue its insert. The worker
 * (in_worker) takes dc->index_lock first, and makes the oldest queued
 * insert itself if the queue is full, in the same hold as the record that
 * takes its place, since completions on other CPUs keep queueing (with no
 * index memory, the queue stays full and the caller tries again later).
 */
static void deltalog_lock_for_record(struct deltalog_c *dc, bool in_worker,
				     unsigned long *flags)
	__acquires(&dc->index_lock) __acquires(&dc->lock)
{
	bool ready;

	if (!in_worker) {
		spin_lock_irqsave(&dc->lock, *flags);
		__acquire(&dc->index_lock);	/* sparse: the same count on both paths */
		return;
	}
	spin_lock_irqsave(&dc->index_lock, *flags);
	ready = deltalog_spare_ready(dc, GFP_NOIO, flags);
	spin_lock(&dc->lock);
	/* One makes room: nothing is queued while both locks are held. */
	if (ready && deltalog_pending_full(&dc->pending))
		deltalog_pending_apply_one(&dc->pending, &dc->index, &dc->spare);
}

static void deltalog_unlock_for_record(struct deltalog_c *dc, bool in_worker,
				       unsigned long flags)
	__releases(&dc->lock) __releases(&dc->index_lock)
{
	if (!in_worker) {
		__release(&dc->index_lock);
		spin_unlock_irqrestore(&dc->lock, flags);
		return;
	}
	spin_unlock(&dc->lock);
	spin_unlock_irqrestore(&dc->index_lock, flags);
}

/* A delta write failed: from now on writes fail. Any context. */
void deltalog_fail(struct deltalog_c *dc)
{
	unsigned long flags;

	spin_lock_irqsave(&dc->lock, flags);
	if (dc->mode == DELTALOG_MODE_WRITE)
		dc->mode = DELTALOG_MODE_FAIL;
	spin_unlock_irqrestore(&dc->lock, flags);
	deltalog_kick(dc);
}

/* Data ring blocks still free; under dc->lock. */
static u64 deltalog_free_blocks(struct deltalog_c *dc)
{
	u64 used = dc->alloc_head - dc->log.data_tail;

	return div_u64(dc->sb.data_sectors - used, DELTALOG_DATA_BLOCK_SECTORS);
}

/* Raise a dm event once when free space drops below low_water. Under dc->lock. */
static void deltalog_check_low_water(struct deltalog_c *dc)
{
	bool low = dc->low_water && deltalog_free_blocks(dc) < dc->low_water;

	if (low && !dc->low) {
		dc->event_pending = true;
		deltalog_kick(dc);
	}
	dc->low = low;
}

/*
 * on_full merge_oldest: once a quarter or less of the log is free, the
 * worker starts a merge of the oldest history (deltalog-merge.c), so that
 * writes rarely wait. Under dc->lock.
 */
static bool deltalog_room_low(struct deltalog_c *dc)
{
	return deltalog_free_blocks(dc) * DELTALOG_DATA_BLOCK_SECTORS * 4 <= dc->sb.data_sectors ||
	       deltalog_journal_low(dc);
}

static void deltalog_check_room(struct deltalog_c *dc)
{
	if (dc->on_full != DELTALOG_ON_FULL_MERGE_OLDEST || dc->room_wanted ||
	    !deltalog_room_low(dc))
		return;
	dc->room_wanted = true;
	deltalog_kick(dc);
}

/*
 * No room for bio: with on_full merge_oldest it waits for a merge of the
 * oldest history (true: the worker owns it now), else it is refused.
 * Under dc->lock.
 */
static bool deltalog_wait_for_room(struct deltalog_c *dc, struct bio *bio)
{
	if (dc->on_full != DELTALOG_ON_FULL_MERGE_OLDEST ||
	    time_before(jiffies, dc->room_stuck_until))
		return false;
	bio_list_add(&dc->room_waiters, bio);
	dc->room_wanted = true;
	deltalog_kick(dc);
	return true;
}

/* Refuse a write, discard or flush; says why once in a while. */
static int deltalog_refuse(struct deltalog_c *dc, enum deltalog_mode mode)
{
	if (mode == DELTALOG_MODE_VIEW)
		DMERR_LIMIT("%s: a view is read-only", deltalog_name(dc));
	return DM_MAPIO_KILL;
}

/* No room for a write: refuse it, raising a dm event the first time. Under dc->lock. */
static void deltalog_note_full(struct deltalog_c *dc)
{
	if (!dc->full) {
		dc->full = true;
		dc->event_pending = true;
		deltalog_kick(dc);
	}
}

static int deltalog_refuse_full(struct deltalog_c *dc)
{
	DMERR_LIMIT("%s: the log is full: write refused (merge or roll back to make room)",
		    deltalog_name(dc));
	return DM_MAPIO_KILL;
}

/*
 * The lowest data position a write still in flight may use: the oldest
 * unrecorded write's, or the ring's head if there is none. Under dc->lock.
 */
u64 deltalog_inflight_floor(struct deltalog_c *dc)
{
	struct deltalog_io *io;

	io = list_first_entry_or_null(&dc->inflight_writes, struct deltalog_io, inflight);
	return io ? io->data_pos : dc->alloc_head;
}

/*
 * Wait for every read of the data ring mapped before now. Process context;
 * one caller at a time (the merge work). Reads mapped from now on count in
 * the other generation.
 */
void deltalog_drain_delta_reads(struct deltalog_c *dc)
{
	unsigned long flags;
	unsigned int gen;

	spin_lock_irqsave(&dc->index_lock, flags);
	gen = dc->read_gen;
	dc->read_gen = !gen;
	spin_unlock_irqrestore(&dc->index_lock, flags);
	wait_event(dc->reads_wait, !atomic_read(&dc->delta_reads[gen]));
}

/*----------------------------------------------------------------
 * Reads
 *--------------------------------------------------------------*/

static int deltalog_remap_origin(struct deltalog_c *dc, struct bio *bio, sector_t sector)
{
	bio_set_dev(bio, dc->origin->bdev);
	bio->bi_iter.bi_sector = sector;
	return DM_MAPIO_REMAPPED;
}

/*
 * Nothing is logged (a new delta, or everything merged): every sector reads
 * from the origin. Tested without dc->index_lock, which would cost a read more
 * than the rest of .map: an insert queued under the lock before a write or
 * discard completed is seen by any read issued after that completion; a
 * read racing with a write may return either data, as on a disk. A queued
 * insert reaches the index before it leaves the queue
 * (deltalog_pending_drop_oldest()), so the queue is read first.
 */
static bool deltalog_nothing_logged(struct deltalog_c *dc)
{
	/* Pairs with the release in deltalog_pending_drop_oldest(). */
	if (smp_load_acquire(&dc->pending.nr))
		return false;
	return !READ_ONCE(dc->index.root);
}

/*
 * Find the first extent of the index that ends after the bio's first
 * sector, serve the part of the bio up to the next boundary (extent start
 * or end, or the wrap of the data ring) and let dm resubmit the rest.
 */
static int deltalog_map_read(struct deltalog_c *dc, struct bio *bio)
{
	sector_t sector = dm_target_offset(dc->ti, bio->bi_iter.bi_sector);
	sector_t nr = bio_sectors(bio);
	struct deltalog_extent ext;
	unsigned long flags;
	unsigned int gen;
	bool found;
	u64 off;

	if (deltalog_nothing_logged(dc)) {
		WRITE_ONCE(dc->last_io, jiffies);
		return deltalog_remap_origin(dc, bio, sector);
	}

	/*
	 * A read of the data ring is counted before the lock is dropped, so
	 * that a merge that removes its extent next waits for it before the
	 * space can be written again (deltalog_drain_delta_reads()).
	 */
	spin_lock_irqsave(&dc->index_lock, flags);
	WRITE_ONCE(dc->last_io, jiffies);
	found = deltalog_pending_find(&dc->pending, &dc->index, sector, &ext);
	gen = dc->read_gen;
	if (found && ext.start <= sector && ext.kind == DLOG_REC_WRITE)
		atomic_inc(&dc->delta_reads[gen]);
	spin_unlock_irqrestore(&dc->index_lock, flags);

	if (!found || ext.start >= sector + nr)
		return deltalog_remap_origin(dc, bio, sector);

	if (ext.start > sector) {
		dm_accept_partial_bio(bio, ext.start - sector);
		return deltalog_remap_origin(dc, bio, sector);
	}

	nr = min(nr, ext.start + ext.len - sector);
	if (ext.kind == DLOG_REC_ZERO) {
		if (nr < bio_sectors(bio))
			dm_accept_partial_bio(bio, nr);
		zero_fill_bio(bio);
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}

	div64_u64_rem(ext.data_off + (sector - ext.start), dc->sb.data_sectors, &off);
	nr = min_t(u64, nr, dc->sb.data_sectors - off);
	if (nr < bio_sectors(bio))
		dm_accept_partial_bio(bio, nr);
	deltalog_io_of(bio)->flags = gen ? DELTALOG_IO_DELTA_READ | DELTALOG_IO_READ_GEN :
					   DELTALOG_IO_DELTA_READ;
	bio_set_dev(bio, dc->delta->bdev);
	bio->bi_iter.bi_sector = dc->sb.data_start + off;
	return DM_MAPIO_REMAPPED;
}

/*----------------------------------------------------------------
 * Writes
 *--------------------------------------------------------------*/

/* The checksum of the bio's data (FORMAT.md 6.2: low 32 bits of XXH64). */
static u32 deltalog_bio_csum(struct bio *bio)
{
	struct xxh64_state state;
	struct bvec_iter iter;
	struct bio_vec bv = bio_iovec(bio);
	void *p;
	u64 h;

	/* One segment (a 4 KiB write): the one-shot hash, same value, no state. */
	if (bv.bv_len == bio->bi_iter.bi_size) {
		p = bvec_kmap_local(&bv);
		h = xxh64(p, bv.bv_len, 0);
		kunmap_local(p);
		return (u32)h;
	}

	xxh64_reset(&state, 0);
	bio_for_each_segment(bv, bio, iter) {
		p = bvec_kmap_local(&bv);
		xxh64_update(&state, p, bv.bv_len);
		kunmap_local(p);
	}
	return (u32)xxh64_digest(&state);
}

/*
 * Room for a write of nr sectors at origin sector: a place in the data ring
 * (keeping its offset in a 4 KiB block) and a journal slot for each part.
 * With may_split, a write that would cross the ring's end takes the part
 * before it (the caller splits the bio); without, it starts over at the
 * ring's start. Room for all of it, or none: returns the sectors placed at
 * *pos, 0 if there is no room. Under dc->lock.
 */
static u64 deltalog_alloc_write(struct deltalog_c *dc, sector_t sector, u64 nr,
				bool may_split, u64 *pos)
{
	u64 ds = dc->sb.data_sectors, off, take;
	unsigned int slots;

	*pos = dc->alloc_head + ((sector - dc->alloc_head) & 7);
	div64_u64_rem(*pos, ds, &off);
	take = min(nr, ds - off);
	if (take < nr && !may_split) {
		*pos += ds - off + (sector & 7);
		take = nr;
	}
	slots = take < nr ? 2 : 1;
	if (*pos + nr - dc->log.data_tail > ds || !deltalog_journal_reserve(dc, slots))
		return 0;
	deltalog_journal_unreserve(dc, slots - 1);
	dc->full = false;
	dc->alloc_head = *pos + take;
	WRITE_ONCE(dc->last_io, jiffies);
	deltalog_check_low_water(dc);
	deltalog_check_room(dc);
	return take;
}

/* A write placed at pos: remember what its record needs, send it there. */
static void deltalog_remap_write(struct deltalog_c *dc, struct bio *bio, sector_t sector,
				 u32 nr, u64 pos)
{
	struct deltalog_io *io = deltalog_io_of(bio);
	u64 off;

	io->flags = DELTALOG_IO_WRITE;
	if (bio->bi_opf & (REQ_FUA | REQ_PREFLUSH))
		io->flags |= DELTALOG_IO_FUA;
	/* Durability comes from the commit that records it. */
	bio->bi_opf &= ~(REQ_FUA | REQ_PREFLUSH);
	io->origin_sector = sector;
	io->nr_sectors = nr;
	io->data_csum = deltalog_bio_csum(bio);

	div64_u64_rem(pos, dc->sb.data_sectors, &off);
	bio_set_dev(bio, dc->delta->bdev);
	bio->bi_iter.bi_sector = dc->sb.data_start + off;
}

static int deltalog_map_write(struct deltalog_c *dc, struct bio *bio)
{
	struct deltalog_io *io = deltalog_io_of(bio);
	sector_t sector = dm_target_offset(dc->ti, bio->bi_iter.bi_sector);
	enum deltalog_mode mode;
	unsigned long flags;
	u64 pos, nr;

	spin_lock_irqsave(&dc->lock, flags);
	mode = dc->mode;
	if (mode != DELTALOG_MODE_WRITE) {
		spin_unlock_irqrestore(&dc->lock, flags);
		return deltalog_refuse(dc, mode);
	}
	nr = deltalog_alloc_write(dc, sector, bio_sectors(bio), true, &pos);
	if (!nr) {
		if (deltalog_wait_for_room(dc, bio)) {
			spin_unlock_irqrestore(&dc->lock, flags);
			return DM_MAPIO_SUBMITTED;
		}
		deltalog_note_full(dc);
		spin_unlock_irqrestore(&dc->lock, flags);
		return deltalog_refuse_full(dc);
	}
	io->data_pos = pos;
	list_add_tail(&io->inflight, &dc->inflight_writes);
	spin_unlock_irqrestore(&dc->lock, flags);

	if (nr < bio_sectors(bio))
		dm_accept_partial_bio(bio, nr);
	deltalog_remap_write(dc, bio, sector, nr, pos);
	return DM_MAPIO_REMAPPED;
}

/*
 * Record a completed data write: seq, journal, queued index insert. The
 * worker (in_worker) makes room in a full queue. Returns 0, -EAGAIN (no
 * journal or queue room, or no index memory: try again from the worker) or
 * -EIO (the target failed meanwhile).
 */
static int deltalog_record_write(struct deltalog_c *dc, struct bio *bio, bool in_worker)
{
	struct deltalog_io *io = deltalog_io_of(bio);
	unsigned long flags;
	int r = 0;

	deltalog_lock_for_record(dc, in_worker, &flags);
	if (dc->mode != DELTALOG_MODE_WRITE) {
		deltalog_journal_unreserve(dc, 1);
		list_del(&io->inflight);
		r = -EIO;
	} else if (!deltalog_journal_has_room(dc, 1) || deltalog_pending_full(&dc->pending)) {
		r = -EAGAIN;
	} else {
		list_del(&io->inflight);
		io->seq = deltalog_journal_append_io(dc, DLOG_REC_WRITE, DLOG_RF_DATA_CSUM,
						     io->origin_sector, io->nr_sectors,
						     io->data_pos, io->data_csum);
		deltalog_queue_insert(dc, io->origin_sector, io->nr_sectors, DLOG_REC_WRITE,
				      io->data_pos);
		deltalog_arm_commit(dc);
	}
	deltalog_unlock_for_record(dc, in_worker, flags);
	return r;
}

/*
 * A recorded write: complete it, or, for FUA, hand it to the next commit.
 * Returns true if the bio is now the commit's to complete.
 */
static bool deltalog_wait_durable(struct deltalog_c *dc, struct bio *bio)
{
	struct deltalog_io *io = deltalog_io_of(bio);
	unsigned long flags;

	io->flags |= DELTALOG_IO_DONE;
	if (!(io->flags & DELTALOG_IO_FUA))
		return false;
	spin_lock_irqsave(&dc->lock, flags);
	bio_list_add(&dc->flush_waiters, bio);
	spin_unlock_irqrestore(&dc->lock, flags);
	deltalog_kick(dc);
	return true;
}

int deltalog_end_io(struct dm_target *ti, struct bio *bio, blk_status_t *error)
{
	struct deltalog_c *dc = ti->private;
	struct deltalog_io *io = deltalog_io_of(bio);
	unsigned long flags;
	int r;

	if (io->flags & DELTALOG_IO_DELTA_READ) {
		unsigned int gen = !!(io->flags & DELTALOG_IO_READ_GEN);

		if (atomic_dec_and_test(&dc->delta_reads[gen]))
			wake_up(&dc->reads_wait);
		return DM_ENDIO_DONE;
	}
	if (!(io->flags & DELTALOG_IO_WRITE) || (io->flags & DELTALOG_IO_DONE))
		return DM_ENDIO_DONE;

	if (*error) {
		DMERR_LIMIT("%s: delta %s: data write of %u sectors at ring position %llu failed (%d): the target fails writes from now on",
			    deltalog_name(dc), dc->delta->name, io->nr_sectors,
			    io->data_pos, blk_status_to_errno(*error));
		spin_lock_irqsave(&dc->lock, flags);
		deltalog_journal_unreserve(dc, 1);
		list_del(&io->inflight);
		spin_unlock_irqrestore(&dc->lock, flags);
		deltalog_fail(dc);
		return DM_ENDIO_DONE;
	}

	r = deltalog_record_write(dc, bio, false);
	if (r == -EAGAIN) {
		spin_lock_irqsave(&dc->lock, flags);
		bio_list_add(&dc->completions, bio);
		spin_unlock_irqrestore(&dc->lock, flags);
		deltalog_kick(dc);
		return DM_ENDIO_INCOMPLETE;
	}
	if (r) {
		*error = BLK_STS_IOERR;
		return DM_ENDIO_DONE;
	}
	return deltalog_wait_durable(dc, bio) ? DM_ENDIO_INCOMPLETE : DM_ENDIO_DONE;
}

/*----------------------------------------------------------------
 * Discards, write-zeroes, flushes
 *--------------------------------------------------------------*/

#define DELTALOG_AGAIN	(-1)	/* not now: the worker tries again */

/*
 * Log a discard or write-zeroes as a ZERO record and complete it. The
 * worker (in_worker) makes room in a full queue.
 */
static int deltalog_zero(struct deltalog_c *dc, struct bio *bio, bool in_worker)
{
	sector_t sector = dm_target_offset(dc->ti, bio->bi_iter.bi_sector);
	u16 rflags = bio_op(bio) == REQ_OP_DISCARD ? DLOG_RF_DISCARD : 0;
	enum deltalog_mode mode;
	unsigned long flags;

	deltalog_lock_for_record(dc, in_worker, &flags);
	mode = dc->mode;
	if (mode != DELTALOG_MODE_WRITE) {
		deltalog_unlock_for_record(dc, in_worker, flags);
		return deltalog_refuse(dc, mode);
	}
	if (!deltalog_journal_reserve(dc, 1)) {
		if (deltalog_wait_for_room(dc, bio)) {
			deltalog_unlock_for_record(dc, in_worker, flags);
			return DM_MAPIO_SUBMITTED;
		}
		deltalog_note_full(dc);
		deltalog_unlock_for_record(dc, in_worker, flags);
		return deltalog_refuse_full(dc);
	}
	if (!deltalog_journal_has_room(dc, 1) || deltalog_pending_full(&dc->pending)) {
		deltalog_journal_unreserve(dc, 1);
		deltalog_unlock_for_record(dc, in_worker, flags);
		return DELTALOG_AGAIN;
	}
	WRITE_ONCE(dc->last_io, jiffies);
	deltalog_check_room(dc);
	deltalog_journal_append_io(dc, DLOG_REC_ZERO, rflags, sector, bio_sectors(bio), 0, 0);
	deltalog_queue_insert(dc, sector, bio_sectors(bio), DLOG_REC_ZERO, 0);
	deltalog_arm_commit(dc);
	deltalog_unlock_for_record(dc, in_worker, flags);

	bio_endio(bio);
	return DM_MAPIO_SUBMITTED;
}

static int deltalog_map_zero(struct deltalog_c *dc, struct bio *bio)
{
	unsigned long flags;
	int r = deltalog_zero(dc, bio, false);

	if (r != DELTALOG_AGAIN)
		return r;
	spin_lock_irqsave(&dc->lock, flags);
	bio_list_add(&dc->deferred, bio);
	spin_unlock_irqrestore(&dc->lock, flags);
	deltalog_kick(dc);
	return DM_MAPIO_SUBMITTED;
}

/* An empty flush: done once every completed write is durable. */
static int deltalog_map_flush(struct deltalog_c *dc, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&dc->lock, flags);
	if (dc->mode == DELTALOG_MODE_FAIL) {
		spin_unlock_irqrestore(&dc->lock, flags);
		return DM_MAPIO_KILL;
	}
	if (dc->log.durable_seq >= dc->jnl.newest_packed) {
		spin_unlock_irqrestore(&dc->lock, flags);
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	}
	bio_list_add(&dc->flush_waiters, bio);
	spin_unlock_irqrestore(&dc->lock, flags);
	deltalog_kick(dc);
	return DM_MAPIO_SUBMITTED;
}

int deltalog_map(struct dm_target *ti, struct bio *bio)
{
	struct deltalog_c *dc = ti->private;

	deltalog_io_of(bio)->flags = 0;

	switch (bio_op(bio)) {
	case REQ_OP_READ:
		return deltalog_map_read(dc, bio);
	case REQ_OP_WRITE:
		if (!bio_sectors(bio))
			return deltalog_map_flush(dc, bio);
		return deltalog_map_write(dc, bio);
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		return deltalog_map_zero(dc, bio);
	default:
		return DM_MAPIO_KILL;
	}
}

/*----------------------------------------------------------------
 * The worker
 *--------------------------------------------------------------*/

/* Finish a write whose completion needed the worker. */
static void deltalog_finish_completion(struct deltalog_c *dc, struct bio *bio)
{
	int r = deltalog_record_write(dc, bio, true);

	if (r == -EAGAIN) {
		/* Journal room comes with a commit. */
		deltalog_journal_commit(dc, false);
		r = deltalog_record_write(dc, bio, true);
	}
	if (r) {
		unsigned long flags;

		if (r == -EAGAIN) {
			spin_lock_irqsave(&dc->lock, flags);
			deltalog_journal_unreserve(dc, 1);
			list_del(&deltalog_io_of(bio)->inflight);
			spin_unlock_irqrestore(&dc->lock, flags);
		}
		deltalog_io_of(bio)->flags |= DELTALOG_IO_DONE;
		bio->bi_status = BLK_STS_IOERR;
		bio_endio(bio);
		return;
	}
	if (!deltalog_wait_durable(dc, bio))
		bio_endio(bio);
}

static void deltalog_finish_zero(struct deltalog_c *dc, struct bio *bio)
{
	int r = deltalog_zero(dc, bio, true);

	if (r == DELTALOG_AGAIN) {
		deltalog_journal_commit(dc, false);
		r = deltalog_zero(dc, bio, true);
	}
	if (r == DELTALOG_AGAIN || r == DM_MAPIO_KILL)
		bio_io_error(bio);
}

/*
 * A write that waited for room: place it (at the ring's start if it would
 * cross the end: it cannot be split here) and send it on. False if there
 * is still no room.
 */
static bool deltalog_place_waiting(struct deltalog_c *dc, struct bio *bio)
{
	struct deltalog_io *io = deltalog_io_of(bio);
	sector_t sector = dm_target_offset(dc->ti, bio->bi_iter.bi_sector);
	unsigned long flags;
	u64 pos;

	if (bio_op(bio) != REQ_OP_WRITE) {
		deltalog_finish_zero(dc, bio);	/* waits again if it must */
		return true;
	}
	spin_lock_irqsave(&dc->lock, flags);
	if (dc->mode != DELTALOG_MODE_WRITE) {
		spin_unlock_irqrestore(&dc->lock, flags);
		bio_io_error(bio);
		return true;
	}
	if (!deltalog_alloc_write(dc, sector, bio_sectors(bio), false, &pos)) {
		spin_unlock_irqrestore(&dc->lock, flags);
		return false;
	}
	io->data_pos = pos;
	list_add_tail(&io->inflight, &dc->inflight_writes);
	spin_unlock_irqrestore(&dc->lock, flags);

	deltalog_remap_write(dc, bio, sector, bio_sectors(bio), pos);
	dm_submit_bio_remap(bio, NULL);
	return true;
}

/*
 * on_full merge_oldest: place the writes that wait for room, in the order
 * they came, as far as there is room now; then start a merge of the oldest
 * history if room runs low or writes still wait. When no history can be
 * merged (views pin it all), the waiting writes fail.
 */
static void deltalog_process_room(struct deltalog_c *dc)
{
	struct bio_list waiting, newer;
	unsigned long flags;
	struct bio *bio;
	bool wanted;

	spin_lock_irqsave(&dc->lock, flags);
	waiting = dc->room_waiters;
	bio_list_init(&dc->room_waiters);
	spin_unlock_irqrestore(&dc->lock, flags);

	while ((bio = bio_list_pop(&waiting))) {
		if (deltalog_place_waiting(dc, bio))
			continue;
		/* Still no room: it and those after it wait, before newer ones. */
		bio_list_add_head(&waiting, bio);
		spin_lock_irqsave(&dc->lock, flags);
		newer = dc->room_waiters;
		bio_list_merge(&waiting, &newer);
		dc->room_waiters = waiting;
		spin_unlock_irqrestore(&dc->lock, flags);
		break;
	}

	spin_lock_irqsave(&dc->lock, flags);
	wanted = !bio_list_empty(&dc->room_waiters) || (dc->room_wanted && deltalog_room_low(dc));
	dc->room_wanted = false;
	if (wanted && time_before(jiffies, dc->room_stuck_until)) {
		waiting = dc->room_waiters;
		bio_list_init(&dc->room_waiters);
		deltalog_note_full(dc);
		wanted = false;
	} else {
		bio_list_init(&waiting);
	}
	spin_unlock_irqrestore(&dc->lock, flags);

	while ((bio = bio_list_pop(&waiting)))
		bio_io_error(bio);
	if (wanted)
		deltalog_merge_oldest(dc);
}

static void deltalog_process(struct deltalog_c *dc)
{
	struct bio_list completions, deferred;
	bool event, report_failure;
	unsigned long flags;
	struct bio *bio;

	mutex_lock(&dc->commit_lock);

	spin_lock_irqsave(&dc->lock, flags);
	completions = dc->completions;
	bio_list_init(&dc->completions);
	deferred = dc->deferred;
	bio_list_init(&dc->deferred);
	event = dc->event_pending;
	dc->event_pending = false;
	report_failure = dc->mode == DELTALOG_MODE_FAIL && !dc->failed_reported;
	dc->failed_reported |= report_failure;
	spin_unlock_irqrestore(&dc->lock, flags);

	deltalog_index_catch_up(dc);
	while ((bio = bio_list_pop(&completions)))
		deltalog_finish_completion(dc, bio);
	while ((bio = bio_list_pop(&deferred)))
		deltalog_finish_zero(dc, bio);
	if (dc->on_full == DELTALOG_ON_FULL_MERGE_OLDEST)
		deltalog_process_room(dc);

	deltalog_journal_commit(dc, false);

	if (report_failure) {
		DMERR("%s: failed: writes and flushes fail from now on; the delta keeps every write made durable before the error",
		      deltalog_name(dc));
		event = true;
	}
	if (event)
		dm_table_event(dc->ti->table);

	mutex_unlock(&dc->commit_lock);
}

void deltalog_worker(struct work_struct *work)
{
	deltalog_process(container_of(work, struct deltalog_c, worker));
}

void deltalog_commit_timer(struct work_struct *work)
{
	deltalog_process(container_of(to_delayed_work(work), struct deltalog_c,
				      commit_timer));
}
