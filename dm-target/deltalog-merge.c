// SPDX-License-Identifier: GPL-2.0
/*
 * dm-deltalog: online merge (FORMAT.md 7.3; docs/dm-deltalog.rst, "Merge").
 *
 * `merge <seq>` writes, for every sector, its newest version with seq <= the
 * target into the origin, while the device stays in use:
 *
 * 1. Prepare: note the newest seq S and the lowest data position of writes
 *    in flight, commit the journal with a flush (every record up to S is
 *    then on the delta), and write the superblock with MERGING and the
 *    target before the first origin write.
 * 2. Scan: read the log from meta_tail up to the first record after the
 *    target into a private index of the state at the target, and on to
 *    the end of that block group (see below).
 * 3. Copy (deltalog-merge-copy.c): walk that index in origin order, in
 *    chunks of up to 1 MiB read from the ring and written to the origin,
 *    8 MiB in flight, zeroes for ZERO extents; at most merge_rate KiB/s
 *    while the device is in use.
 * 4. Finish: flush the origin, then write the superblock (merged_seq,
 *    meta_tail, fingerprint, MERGING cleared). Only then is log space
 *    freed: index extents whose data lies in the freed part of the ring are
 *    dropped (the origin holds the same bytes now), reads still using them
 *    are waited for, and the data tail moves.
 *
 * Reads are right at every instant: until step 4 every sector the merge
 * writes is still served from the log, with the same bytes. Writes go to the
 * log as always. A crash leaves MERGING set and the log intact; merging
 * again (or the next activation, which resumes it) copies the same bytes
 * again.
 *
 * What the data tail may move to: the lowest data position of any record
 * after the target or write in flight. Records after S were in flight at the
 * snapshot or started later, so the in-flight floor then bounds them; the
 * records between the target and S are read up to the end of the block
 * group of the first one, and bounded by the per-group floors the journal
 * keeps after that (deltalog_floor_from()).
 *
 * Suspend and `merge cancel` stop the copy at a safe point (no copy in
 * flight); resume starts an interrupted merge again, unless it was
 * cancelled.
 */
#include <linux/jiffies.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "deltalog.h"

/* What the scan of the log found (step 2). */
struct deltalog_merge_scan {
	struct deltalog_c *dc;
	struct deltalog_index *ix;	/* the state at the target */
	struct deltalog_index_spare spare;
	u64 merged;
	u64 target;
	u64 first_after_block;		/* first block with a record after the target */
	bool found_after;
	u64 oldest_after;		/* first live record after the target, 0 if none seen */
	u64 scan_end;			/* records in blocks past it are not needed */
	u64 min_data_after;		/* lowest data position of those records read */

	/*
	 * merge_oldest: the target is the newest record in the pick_blocks
	 * blocks from the first live record, and at most pick_max_seq.
	 */
	bool pick_target;
	u64 pick_blocks;
	u64 pick_last_block;
	u64 pick_max_seq;
	u64 last_live;			/* newest live record read so far */
	u64 live_merged;		/* live records the merge makes dead */
	u64 last_block;			/* block of the last record seen */
};

/* The merge's own plan, from prepare to finish. */
struct deltalog_merge_plan {
	u64 target;
	bool oldest;			/* on_full merge_oldest: the scan picks target */
	u64 newest;			/* S: newest seq when the merge began */
	u64 inflight_floor;		/* lowest data position in flight then */
	u64 walk_last;			/* newest block written then */
	struct deltalog_index ix;
	struct deltalog_merge_scan scan;
	u64 new_meta_tail;
	u64 new_data_tail;
};

static struct deltalog_merge *deltalog_m(struct deltalog_c *dc)
{
	return &dc->merge;
}

/*----------------------------------------------------------------
 * Step 1: prepare
 *--------------------------------------------------------------*/

static int deltalog_merge_prepare(struct deltalog_c *dc, struct deltalog_merge_plan *p)
{
	unsigned long flags;
	int r;

	mutex_lock(&dc->commit_lock);
	spin_lock_irqsave(&dc->lock, flags);
	p->newest = dc->jnl.newest_packed;
	p->inflight_floor = deltalog_inflight_floor(dc);
	spin_unlock_irqrestore(&dc->lock, flags);

	r = deltalog_journal_commit(dc, true);
	if (r)
		goto out;

	spin_lock_irqsave(&dc->lock, flags);
	p->walk_last = dc->jnl.written_upto;
	spin_unlock_irqrestore(&dc->lock, flags);
out:
	mutex_unlock(&dc->commit_lock);
	return r;
}

/* Read sectors [from, to) of extent e of the state at the target into buf. */
static int deltalog_read_extent(struct deltalog_c *dc, const struct deltalog_extent *e,
				sector_t from, sector_t to, u8 *buf)
{
	u64 off, n;
	int r = 0;

	if (e->kind == DLOG_REC_ZERO) {
		memset(buf, 0, (to - from) << SECTOR_SHIFT);
		return 0;
	}
	while (from < to && !r) {
		div64_u64_rem(e->data_off + (from - e->start), dc->sb.data_sectors, &off);
		n = min_t(u64, to - from, dc->sb.data_sectors - off);
		r = deltalog_sync_io(dc->delta->bdev, dc->sb.data_start + off, buf,
				     n << SECTOR_SHIFT, REQ_OP_READ | REQ_SYNC);
		buf += n << SECTOR_SHIFT;
		from += n;
	}
	return r;
}

/*
 * The checksums of the origin's sample sectors (FORMAT.md 3.1) as they are
 * now ([0]) and as the state at the target leaves them ([1]), so that an
 * activation after a crash can tell the origin from another disk.
 */
static int deltalog_merge_samples(struct deltalog_c *dc, struct deltalog_merge_plan *p,
				  u32 samples[2][DLOG_FP_SECTORS])
{
	struct deltalog_extent e;
	unsigned int k, i;
	u8 *buf;
	int r;

	buf = kvmalloc(DLOG_FP_SAMPLES * DLOG_FP_SAMPLE_SIZE, GFP_NOIO);
	if (!buf)
		return -ENOMEM;
	r = deltalog_read_samples(dc, buf);
	for (i = 0; !r && i < DLOG_FP_SECTORS; i++)
		samples[0][i] = deltalog_crc32c(buf + i * SECTOR_SIZE, SECTOR_SIZE);

	for (k = 0; !r && k < DLOG_FP_SAMPLES; k++) {
		sector_t first = dlog_fp_sample_sector(dc->origin_sectors, k), sector = first;
		sector_t end = first + DLOG_FP_SAMPLE_SECTORS;
		u8 *b = buf + k * DLOG_FP_SAMPLE_SIZE;

		while (!r && sector < end && deltalog_index_find(&p->ix, sector, &e) &&
		       e.start < end) {
			sector_t from = max_t(sector_t, e.start, sector);
			sector_t to = min_t(sector_t, e.start + e.len, end);

			r = deltalog_read_extent(dc, &e, from, to, b + ((from - first) << SECTOR_SHIFT));
			sector = to;
		}
	}
	for (i = 0; !r && i < DLOG_FP_SECTORS; i++)
		samples[1][i] = deltalog_crc32c(buf + i * SECTOR_SIZE, SECTOR_SIZE);
	kvfree(buf);
	return r;
}

/*
 * The superblock says MERGING, with the target and the sample checksums,
 * before the first origin write. (A merge that goes on with the target the
 * superblock has keeps its samples: every sector is still one of the two.)
 */
static int deltalog_merge_announce(struct deltalog_c *dc, struct deltalog_merge_plan *p)
{
	u32 (*samples)[DLOG_FP_SECTORS];
	unsigned long flags;
	int r = 0;

	if ((dc->sb.flags & DLOG_SBF_MERGING) && dc->sb.merge_target_seq == p->target)
		return 0;
	samples = kvmalloc(2 * sizeof(*samples), GFP_NOIO);
	if (!samples)
		return -ENOMEM;
	r = deltalog_merge_samples(dc, p, samples);
	if (r) {
		DMERR("%s: merge: cannot read the origin's samples: %d", deltalog_name(dc), r);
		kvfree(samples);
		return r;
	}

	mutex_lock(&dc->commit_lock);
	spin_lock_irqsave(&dc->lock, flags);
	memcpy(dc->sb.merge_samples, samples, sizeof(dc->sb.merge_samples));
	dc->sb.flags |= DLOG_SBF_MERGING | DLOG_SBF_MERGE_SAMPLES;
	dc->sb.merge_target_seq = p->target;
	dc->sb.next_seq = dc->log.next_seq;
	dc->sb.time_floor_ns = dc->log.time_floor_ns;
	spin_unlock_irqrestore(&dc->lock, flags);
	r = deltalog_sb_update(dc);
	if (r)
		deltalog_fail(dc);
	mutex_unlock(&dc->commit_lock);
	kvfree(samples);
	return r;
}

/*----------------------------------------------------------------
 * Step 2: scan
 *--------------------------------------------------------------*/

#define DELTALOG_WALK_STOP	1

static int deltalog_merge_scan_rec(void *ctx, const struct deltalog_rec *rec, u64 block)
{
	struct deltalog_merge_scan *s = ctx;
	int r;

	if (block > s->scan_end)
		return DELTALOG_WALK_STOP;
	if (s->pick_target && rec->kind != DELTALOG_REC_VOID && rec->seq > s->merged) {
		if (!s->last_live)
			s->pick_last_block = block + s->pick_blocks - 1;
		if (block > s->pick_last_block || rec->seq > s->pick_max_seq) {
			s->target = s->last_live;
			s->pick_target = false;
		}
	}
	if (rec->kind != DELTALOG_REC_VOID && rec->seq > s->merged)
		s->last_live = rec->seq;
	s->last_block = block;
	if (rec->seq > s->target) {
		if (!s->found_after) {
			s->found_after = true;
			s->first_after_block = block;
			/* The block group floors cover the groups after this one. */
			s->scan_end = round_up(block + 1, DELTALOG_GROUP_BLOCKS) - 1;
		}
		if (rec->kind == DELTALOG_REC_VOID)
			return 0;
		if (!s->oldest_after)
			s->oldest_after = rec->seq;
		if (rec->kind == DLOG_REC_WRITE)
			s->min_data_after = min(s->min_data_after, rec->data_pos);
		return 0;
	}
	if (rec->kind == DELTALOG_REC_VOID || rec->seq <= s->merged)
		return 0;

	s->live_merged++;
	if (rec->kind != DLOG_REC_WRITE && rec->kind != DLOG_REC_ZERO)
		return 0;
	r = deltalog_index_reserve(&s->spare, GFP_NOIO);
	if (r)
		return r;
	deltalog_index_insert(s->ix, rec->origin_sector, rec->nr_sectors, rec->kind,
			      rec->data_pos, &s->spare);
	return 0;
}

static u64 deltalog_index_sectors(struct deltalog_index *ix)
{
	struct deltalog_extent e;
	sector_t sector = 0;
	u64 total = 0;

	while (deltalog_index_find(ix, sector, &e)) {
		total += e.len;
		sector = e.start + e.len;
		cond_resched();
	}
	return total;
}

static int deltalog_merge_scan(struct deltalog_c *dc, struct deltalog_merge_plan *p)
{
	struct deltalog_merge_scan *s = &p->scan;
	u64 floor;
	int r;

	deltalog_index_setup(&p->ix, dc->sb.data_sectors);
	s->dc = dc;
	s->ix = &p->ix;
	s->merged = dc->sb.merged_seq;
	s->target = p->target;
	s->last_block = dc->sb.meta_tail;
	s->scan_end = U64_MAX;
	s->min_data_after = U64_MAX;
	if (p->oldest) {
		/*
		 * The oldest quarter of the log's blocks, not past S (what is
		 * durable) nor past a view.
		 */
		s->pick_target = true;
		s->target = U64_MAX;
		s->pick_blocks = max_t(u64, div_u64(p->walk_last - dc->sb.meta_tail + 1, 4), 1);
		s->pick_max_seq = min(p->newest, deltalog_oldest_view_seq(dc));
	}

	r = deltalog_log_walk(dc, p->walk_last, &dc->commit_lock, deltalog_merge_scan_rec, s);
	deltalog_index_unreserve(&s->spare);
	if (r < 0) {
		DMERR("%s: merge: cannot read the log: %d", deltalog_name(dc), r);
		return r;
	}
	if (p->oldest) {
		if (s->pick_target)
			s->target = s->last_live;
		p->target = s->target;
		/* Nothing to merge: an empty log, or a view pins the oldest record. */
		if (p->target <= s->merged)
			return s->found_after ? -ENOSPC : -ENODATA;
	}

	/*
	 * The new tail is the first block that holds a record after the
	 * target. If the log holds none, the block of the last record: it may
	 * be the open block, which later records will join.
	 */
	p->new_meta_tail = s->found_after ? s->first_after_block : s->last_block;

	floor = min(p->inflight_floor, s->min_data_after);
	if (s->found_after && s->scan_end < p->walk_last)
		floor = min(floor, deltalog_floor_from(dc, s->scan_end + 1, p->walk_last));
	p->new_data_tail = max(dc->log.data_tail, floor);
	return 0;
}

/*----------------------------------------------------------------
 * Step 4: finish
 *--------------------------------------------------------------*/

/*
 * Drop from dc's index what lies in the freed data positions [from, to):
 * the origin holds those bytes now. The freed part of an extent is a prefix
 * of it, since every version still in use lies at or after from; what
 * follows it stays. Then wait for the reads that may still use the space.
 * For the writer and for each view of its delta. Process context.
 */
int deltalog_drop_freed(struct deltalog_c *dc, u64 from, u64 to)
{
	u64 ds = dc->sb.data_sectors, start_off, freed = to - from;
	struct deltalog_index_spare spare = {};
	struct deltalog_extent e;
	unsigned long flags;
	sector_t sector = 0;
	unsigned int n;
	bool found = true;
	int r = 0;

	/* Queued inserts may point into the space: into the index with them. */
	r = deltalog_index_catch_up(dc);
	if (r)
		return r;
	div64_u64_rem(from, ds, &start_off);
	while (found) {
		r = deltalog_index_reserve(&spare, GFP_NOIO);
		if (r)
			break;
		spin_lock_irqsave(&dc->index_lock, flags);
		/* A batch per lock round; an insert ends it (spare to refill). */
		for (n = 0; n < 64; n++) {
			u64 rel, cut;

			found = deltalog_index_find(&dc->index, sector, &e);
			if (!found)
				break;
			sector = e.start + e.len;
			if (e.kind != DLOG_REC_WRITE)
				continue;
			rel = e.data_off >= start_off ? e.data_off - start_off :
							 e.data_off + ds - start_off;
			if (rel >= freed)
				continue;
			cut = min_t(u64, e.len, freed - rel);
			deltalog_index_remove(&dc->index, e.start, e.len);
			if (cut < e.len) {
				deltalog_index_insert(&dc->index, e.start + cut, e.len - cut,
						      DLOG_REC_WRITE, e.data_off + cut, &spare);
				break;
			}
		}
		spin_unlock_irqrestore(&dc->index_lock, flags);
		cond_resched();
	}
	deltalog_index_unreserve(&spare);
	if (!r)
		deltalog_drain_delta_reads(dc);
	return r;
}

static int deltalog_merge_finish(struct deltalog_c *dc, struct deltalog_merge_plan *p)
{
	unsigned long flags;
	u64 old_tail;
	u32 fp;
	int r;

	r = blkdev_issue_flush(dc->origin->bdev);
	if (r) {
		DMERR("%s: merge: origin %s: flush failed: %d", deltalog_name(dc),
		      dc->origin->name, r);
		return r;
	}
	r = deltalog_origin_fingerprint(dc, &fp);
	if (r) {
		DMERR("%s: merge: origin %s: cannot read its fingerprint: %d",
		      deltalog_name(dc), dc->origin->name, r);
		return r;
	}

	/* The cursor, only now that the origin holds what it covers. */
	mutex_lock(&dc->commit_lock);
	spin_lock_irqsave(&dc->lock, flags);
	dc->sb.merged_seq = p->target;
	dc->sb.meta_tail = p->new_meta_tail;
	dc->sb.flags &= ~(DLOG_SBF_MERGING | DLOG_SBF_MERGE_SAMPLES);
	dc->sb.merge_target_seq = 0;
	dc->sb.origin_fingerprint = fp;
	dc->sb.next_seq = dc->log.next_seq;
	dc->sb.time_floor_ns = dc->log.time_floor_ns;
	dc->log.nr_live -= min(dc->log.nr_live, p->scan.live_merged);
	if (p->scan.oldest_after)
		dc->log.oldest_seq = p->scan.oldest_after;
	else
		dc->log.oldest_seq = dc->log.newest_seq > p->newest ? p->newest + 1 : 0;
	old_tail = dc->log.data_tail;
	spin_unlock_irqrestore(&dc->lock, flags);
	r = deltalog_sb_update(dc);
	mutex_unlock(&dc->commit_lock);
	if (r) {
		/* The metadata ring may already count the freed blocks: stop writing. */
		deltalog_fail(dc);
		return r;
	}

	/* Then the data: the index and the views let go of it first. */
	if (p->new_data_tail > old_tail) {
		r = deltalog_drop_freed(dc, old_tail, p->new_data_tail);
		if (!r)
			r = deltalog_views_drop_freed(dc, old_tail, p->new_data_tail);
		if (r) {
			DMERR("%s: merge: no memory to update the index (%d): log space stays in use until the next activation",
			      deltalog_name(dc), r);
			return 0;
		}
		spin_lock_irqsave(&dc->lock, flags);
		dc->log.data_tail = p->new_data_tail;
		spin_unlock_irqrestore(&dc->lock, flags);
	}
	return 0;
}

/*----------------------------------------------------------------
 * The merge work
 *--------------------------------------------------------------*/

static void deltalog_merge_set_idle(struct deltalog_c *dc, bool done)
{
	struct deltalog_merge *m = deltalog_m(dc);
	unsigned long flags;

	spin_lock_irqsave(&dc->lock, flags);
	m->phase = DELTALOG_MERGE_IDLE;
	m->oldest = false;
	if (done) {
		m->target = 0;
		m->copied = 0;
		m->total = 0;
	}
	dc->event_pending = true;
	spin_unlock_irqrestore(&dc->lock, flags);
	deltalog_kick(dc);
}

static void deltalog_merge_work(struct work_struct *work)
{
	struct deltalog_merge *m = container_of(work, struct deltalog_merge, work);
	struct deltalog_c *dc = container_of(m, struct deltalog_c, merge);
	struct deltalog_merge_plan *p;
	unsigned long flags;
	unsigned int noio;
	u64 total;
	int r;

	p = kzalloc(sizeof(*p), GFP_NOIO);
	if (!p) {
		DMERR("%s: merge: out of memory", deltalog_name(dc));
		deltalog_merge_set_idle(dc, false);
		return;
	}
	noio = memalloc_noio_save();

	spin_lock_irqsave(&dc->lock, flags);
	p->target = m->target;
	p->oldest = m->oldest;
	m->copied = 0;
	m->total = 0;
	spin_unlock_irqrestore(&dc->lock, flags);
	WRITE_ONCE(m->error, 0);

	r = deltalog_merge_prepare(dc, p);
	if (!r)
		r = deltalog_merge_scan(dc, p);
	if (!r && p->oldest) {
		spin_lock_irqsave(&dc->lock, flags);
		m->target = p->target;
		spin_unlock_irqrestore(&dc->lock, flags);
	}
	if (!r)
		r = deltalog_merge_announce(dc, p);
	if (!r) {
		total = deltalog_index_sectors(&p->ix);
		spin_lock_irqsave(&dc->lock, flags);
		m->total = total;
		spin_unlock_irqrestore(&dc->lock, flags);
		r = deltalog_merge_copy(dc, &p->ix);
	}
	deltalog_index_destroy(&p->ix);
	if (!r)
		r = deltalog_merge_finish(dc, p);

	memalloc_noio_restore(noio);
	if (!r) {
		DMINFO("%s: merged up to seq %llu%s: %llu sectors written to the origin",
		       deltalog_name(dc), p->target, p->oldest ? " (the oldest history, to make room)" : "",
		       m->copied);
	} else if (r == -ENOSPC) {
		DMERR_LIMIT("%s: the log is full and no history can be merged to make room (an open view pins it): writes fail",
			    deltalog_name(dc));
		dc->room_stuck_until = jiffies + HZ;
		r = 0;
	} else if (r == -ENODATA) {
		r = 0;		/* all merged already: the room is there */
	} else if (r == -EINTR) {
		DMINFO("%s: merge up to seq %llu stopped after %llu of %llu sectors",
		       deltalog_name(dc), p->target, m->copied, m->total);
	} else {
		DMERR("%s: merge up to seq %llu failed (%d): the log is intact; merge again to retry",
		      deltalog_name(dc), p->target, r);
	}
	deltalog_merge_set_idle(dc, !r);
	kfree(p);
}

/*----------------------------------------------------------------
 * Control
 *--------------------------------------------------------------*/

int deltalog_merge_init(struct deltalog_c *dc)
{
	struct deltalog_merge *m = deltalog_m(dc);
	int r;

	INIT_WORK(&m->work, deltalog_merge_work);
	init_waitqueue_head(&m->wait);
	r = bioset_init(&m->bs, 64, 0, BIOSET_NEED_BVECS);
	if (r)
		return r;

	m->wq = alloc_workqueue("kdeltalog-merge/%s", WQ_MEM_RECLAIM | WQ_UNBOUND, 1,
				deltalog_name(dc));
	if (!m->wq)
		return -ENOMEM;
	return 0;
}

void deltalog_merge_exit(struct deltalog_c *dc)
{
	struct deltalog_merge *m = deltalog_m(dc);

	if (m->wq) {
		WRITE_ONCE(m->stop, true);
		cancel_work_sync(&m->work);
		destroy_workqueue(m->wq);
		m->wq = NULL;
	}
	bioset_exit(&m->bs);
}

/* Start (or continue) a merge up to target. Under nothing; checks done by the caller. */
int deltalog_merge_start(struct deltalog_c *dc, u64 target)
{
	struct deltalog_merge *m = deltalog_m(dc);
	unsigned long flags;
	bool queue;

	spin_lock_irqsave(&dc->lock, flags);
	if (m->phase == DELTALOG_MERGE_RUNNING && m->target != target) {
		spin_unlock_irqrestore(&dc->lock, flags);
		return -EBUSY;
	}
	m->target = target;
	m->cancelled = false;
	queue = m->phase != DELTALOG_MERGE_RUNNING && !dc->suspended;
	if (queue)
		m->phase = DELTALOG_MERGE_RUNNING;
	spin_unlock_irqrestore(&dc->lock, flags);
	if (queue)
		queue_work(m->wq, &m->work);
	return 0;
}

/*
 * on_full merge_oldest: merge the oldest quarter of the log, unless a merge
 * runs already (or one is unfinished: that one goes first).
 */
void deltalog_merge_oldest(struct deltalog_c *dc)
{
	struct deltalog_merge *m = deltalog_m(dc);
	unsigned long flags;
	bool queue = false;

	spin_lock_irqsave(&dc->lock, flags);
	if (m->phase != DELTALOG_MERGE_RUNNING && !dc->suspended &&
	    dc->mode == DELTALOG_MODE_WRITE) {
		m->phase = DELTALOG_MERGE_RUNNING;
		if (m->target || (dc->sb.flags & DLOG_SBF_MERGING)) {
			m->target = m->target ? m->target : dc->sb.merge_target_seq;
		} else {
			m->oldest = true;
		}
		m->cancelled = false;
		queue = true;
	}
	spin_unlock_irqrestore(&dc->lock, flags);
	if (queue)
		queue_work(m->wq, &m->work);
}

/* Stop a running merge at a safe point; it stays unfinished until merged again. */
void deltalog_merge_cancel(struct deltalog_c *dc)
{
	struct deltalog_merge *m = deltalog_m(dc);

	m->cancelled = true;
	WRITE_ONCE(m->stop, true);
	wake_up(&m->wait);
	flush_work(&m->work);
	WRITE_ONCE(m->stop, false);
}

/*
 * Postsuspend, once no bio is in flight (writes waiting for room needed the
 * merge until then): stop copying; resume goes on.
 */
void deltalog_merge_pause(struct deltalog_c *dc)
{
	struct deltalog_merge *m = deltalog_m(dc);

	WRITE_ONCE(m->stop, true);
	wake_up(&m->wait);
	flush_work(&m->work);
	WRITE_ONCE(m->stop, false);
}

/*
 * Resume: go on with a merge that suspend stopped, or that the superblock
 * says was interrupted (a crash, or the last activation's end).
 */
void deltalog_merge_resume(struct deltalog_c *dc)
{
	struct deltalog_merge *m = deltalog_m(dc);
	unsigned long flags;
	u64 target;

	spin_lock_irqsave(&dc->lock, flags);
	target = dc->mode == DELTALOG_MODE_WRITE ? m->target : 0;
	if (!target && (dc->sb.flags & DLOG_SBF_MERGING) && dc->mode == DELTALOG_MODE_WRITE)
		target = dc->sb.merge_target_seq;
	spin_unlock_irqrestore(&dc->lock, flags);
	if (target && !m->cancelled)
		deltalog_merge_start(dc, target);
}
