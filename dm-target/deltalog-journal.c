// SPDX-License-Identifier: GPL-2.0
/*
 * dm-deltalog: the journal, records on their way to the metadata ring.
 *
 * When a write completes, its record is packed straight into the metadata
 * block it will be written as (FORMAT.md 4.3): the open block, rewritten in
 * place by each commit while it fills up, then sealed for good. A commit
 * writes the blocks that changed and, when someone waits for durability
 * (a flush, a FUA write, a mark, a clean stop), flushes the delta once.
 *
 * One flush is enough because every WRITE record carries a checksum of its
 * data (DLOG_RF_DATA_CSUM): the records may reach the disk before the data
 * they describe, and recovery (FORMAT.md 6.4) drops a record whose data did
 * not make it, with everything after it. Each block says which seq was known
 * durable when it was written (durable_seq), so that recovery checks only
 * the data of the last commits.
 *
 * Locking: packing and the slot accounting run under dc->lock (bio
 * completion, .map); a commit runs in process context under
 * dc->commit_lock, copies the open block under dc->lock and does its I/O
 * without it.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/crc32c.h>
#include <linux/highmem.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "deltalog.h"

#define DELTALOG_META_WRITE_OPF	(REQ_OP_WRITE | REQ_META | REQ_SYNC)

int deltalog_journal_init(struct deltalog_c *dc)
{
	struct deltalog_journal *j = &dc->jnl;
	u32 bs = dc->sb.meta_block_size;

	j->blocks = kvzalloc(DELTALOG_JNL_BLOCKS * bs, GFP_KERNEL);
	j->bounce = kmalloc(bs, GFP_KERNEL);
	if (!j->blocks || !j->bounce)
		return -ENOMEM;

	j->capacity = dlog_slots_per_block(bs);
	j->csum_seed = crc32c(~0u, dc->sb.uuid, sizeof(dc->sb.uuid));
	j->open_index = dc->log.head;
	j->open_slots = 0;
	j->written_upto = dc->log.head;
	j->written_prev_csum = dc->log.head_prev_csum;
	j->reserved = 0;
	j->newest_packed = dc->log.newest_seq;
	j->committed_seq = dc->log.newest_seq;
	return 0;
}

void deltalog_journal_free(struct deltalog_c *dc)
{
	kvfree(dc->jnl.blocks);
	kfree(dc->jnl.bounce);
	dc->jnl.blocks = NULL;
	dc->jnl.bounce = NULL;
}

/* One entry per group of the metadata ring, and one for the group it wraps into. */
int deltalog_floor_init(struct deltalog_c *dc)
{
	struct deltalog_data_floor *f = &dc->floor;
	u64 i;

	f->nr = div_u64(dc->sb.meta_blocks, DELTALOG_GROUP_BLOCKS) + 2;
	f->min_pos = kvmalloc_array(f->nr, sizeof(*f->min_pos), GFP_KERNEL);
	if (!f->min_pos)
		return -ENOMEM;
	for (i = 0; i < f->nr; i++)
		f->min_pos[i] = U64_MAX;
	f->upto = div_u64(dc->sb.meta_tail, DELTALOG_GROUP_BLOCKS);
	return 0;
}

void deltalog_floor_free(struct deltalog_c *dc)
{
	kvfree(dc->floor.min_pos);
	dc->floor.min_pos = NULL;
}

static u64 *deltalog_floor_entry(struct deltalog_data_floor *f, u64 group)
{
	u64 slot;

	div64_u64_rem(group, f->nr, &slot);
	return &f->min_pos[slot];
}

/* A WRITE record with data at data_pos is in block. Under dc->lock (or at load). */
void deltalog_floor_note(struct deltalog_c *dc, u64 block, u64 data_pos)
{
	struct deltalog_data_floor *f = &dc->floor;
	u64 group = div_u64(block, DELTALOG_GROUP_BLOCKS);
	u64 *e;

	while (f->upto < group)
		WRITE_ONCE(*deltalog_floor_entry(f, ++f->upto), U64_MAX);
	e = deltalog_floor_entry(f, group);
	if (data_pos < *e)
		WRITE_ONCE(*e, data_pos);
}

/*
 * The lowest data position of the WRITE records in the groups of blocks
 * first..last (U64_MAX if none). Groups are read without dc->lock: all but
 * the newest are final, and the newest only gains records written later.
 */
u64 deltalog_floor_from(struct deltalog_c *dc, u64 first, u64 last)
{
	struct deltalog_data_floor *f = &dc->floor;
	u64 g, end = div_u64(last, DELTALOG_GROUP_BLOCKS);
	u64 lowest = U64_MAX;

	for (g = div_u64(first, DELTALOG_GROUP_BLOCKS); g <= end && g <= READ_ONCE(f->upto); g++)
		lowest = min(lowest, READ_ONCE(*deltalog_floor_entry(f, g)));
	return lowest;
}

static u8 *deltalog_jnl_block(struct deltalog_c *dc, u64 index)
{
	return dc->jnl.blocks + (index % DELTALOG_JNL_BLOCKS) * dc->sb.meta_block_size;
}

/* Record slots the metadata ring can still take, promised ones excluded. */
static u64 deltalog_ring_free_slots(struct deltalog_c *dc)
{
	struct deltalog_journal *j = &dc->jnl;
	u64 end = dc->sb.meta_tail + dc->sb.meta_blocks;
	u64 free;

	free = (end - j->open_index - 1) * j->capacity + (j->capacity - j->open_slots);
	return free > j->reserved ? free - j->reserved : 0;
}

/* A quarter or less of the metadata ring is free. Under dc->lock. */
bool deltalog_journal_low(struct deltalog_c *dc)
{
	return deltalog_ring_free_slots(dc) * 4 <= dc->sb.meta_blocks * dc->jnl.capacity;
}

/*
 * Promise slots for records to come (a write in flight). Under dc->lock.
 * False if the metadata ring is full.
 */
bool deltalog_journal_reserve(struct deltalog_c *dc, unsigned int slots)
{
	if (deltalog_ring_free_slots(dc) < slots)
		return false;
	dc->jnl.reserved += slots;
	return true;
}

void deltalog_journal_unreserve(struct deltalog_c *dc, unsigned int slots)
{
	dc->jnl.reserved -= slots;
}

/* Slots that the open block cannot take are lost when it is sealed. */
static unsigned int deltalog_slots_needed(struct deltalog_c *dc, unsigned int nr)
{
	struct deltalog_journal *j = &dc->jnl;

	return j->open_slots + nr <= j->capacity ? nr : j->capacity - j->open_slots + nr;
}

/*
 * Can nr slots be packed now without a commit first? The blocks in memory
 * are a ring of DELTALOG_JNL_BLOCKS; a new block needs a buffer that holds
 * no block still to be written. Under dc->lock.
 */
bool deltalog_journal_has_room(struct deltalog_c *dc, unsigned int nr)
{
	struct deltalog_journal *j = &dc->jnl;

	return j->open_slots + nr <= j->capacity ||
	       j->open_index + 1 < j->written_upto + DELTALOG_JNL_BLOCKS;
}

/* Room for nr slots in the open block, sealing it first if they do not fit. */
static u8 *deltalog_jnl_slots(struct deltalog_c *dc, unsigned int nr)
{
	struct deltalog_journal *j = &dc->jnl;
	struct dlog_meta_header *h;
	u8 *blk;

	if (j->open_slots + nr > j->capacity) {
		h = (struct dlog_meta_header *)deltalog_jnl_block(dc, j->open_index);
		h->nr_slots = cpu_to_le16(j->open_slots);
		j->open_index++;
		j->open_slots = 0;
		memset(deltalog_jnl_block(dc, j->open_index), 0, dc->sb.meta_block_size);
		/*
		 * Once per batch: a kick for every block sealed while the commit
		 * waits for its I/O would wake a kworker each time (an IPI, under
		 * this lock). deltalog_journal_commit() kicks again if a batch
		 * built up while it ran.
		 */
		if (j->open_index - j->written_upto == DELTALOG_JNL_BATCH)
			deltalog_kick(dc);
	}
	blk = deltalog_jnl_block(dc, j->open_index);
	blk += sizeof(struct dlog_meta_header) + j->open_slots * DLOG_SLOT_SIZE;
	j->open_slots += nr;
	return blk;
}

/*
 * Next seq and time (FORMAT.md 7.1), for a record packed now. Writes take
 * the time of the last clock tick (a few ms at most behind): reading the
 * clock source for every write costs more than the rest of the record in a
 * VM whose clock source traps (HPET). Marks, which people go back to, take
 * the exact time.
 */
static void deltalog_next_stamp(struct deltalog_c *dc, u64 *seq, u64 *time_ns, bool exact)
{
	struct deltalog_log *log = &dc->log;
	u64 now = exact ? ktime_get_real_ns() : ktime_get_coarse_real_ns();

	*seq = log->next_seq++;
	*time_ns = max(now, log->time_floor_ns);
	log->time_floor_ns = *time_ns;
	log->newest_seq = *seq;
	if (!log->oldest_seq)
		log->oldest_seq = *seq;
	log->nr_live++;
	dc->jnl.newest_packed = *seq;
}

/*
 * Pack a WRITE or ZERO record, using a slot reserved earlier. Under
 * dc->lock, with deltalog_journal_has_room(dc, 1). Returns its seq.
 */
u64 deltalog_journal_append_io(struct deltalog_c *dc, u16 kind, u16 flags,
			       sector_t origin_sector, u32 nr_sectors, u64 data_pos,
			       u32 data_csum)
{
	struct dlog_io_record *r;
	u64 seq, time_ns;

	deltalog_next_stamp(dc, &seq, &time_ns, false);
	dc->jnl.reserved--;
	r = (struct dlog_io_record *)deltalog_jnl_slots(dc, 1);
	r->seq = cpu_to_le64(seq);
	r->time_ns = cpu_to_le64(time_ns);
	r->kind = cpu_to_le16(kind);
	r->flags = cpu_to_le16(flags);
	r->nr_sectors = cpu_to_le32(nr_sectors);
	r->origin_sector = cpu_to_le64(origin_sector);
	r->data_pos = cpu_to_le64(data_pos);
	r->data_csum = cpu_to_le32(data_csum);
	if (kind == DLOG_REC_WRITE)
		deltalog_floor_note(dc, dc->jnl.open_index, data_pos);
	return seq;
}

/* Pack a MARK (two slots of one block). Under dc->lock; false if no room. */
bool deltalog_journal_append_mark(struct deltalog_c *dc, const char *label, u64 *seq)
{
	unsigned int need = deltalog_slots_needed(dc, DLOG_MARK_SLOTS);
	struct dlog_mark_record *m;
	u64 time_ns;

	if (deltalog_ring_free_slots(dc) < need || !deltalog_journal_has_room(dc, DLOG_MARK_SLOTS))
		return false;
	deltalog_next_stamp(dc, seq, &time_ns, true);
	m = (struct dlog_mark_record *)deltalog_jnl_slots(dc, DLOG_MARK_SLOTS);
	m->seq = cpu_to_le64(*seq);
	m->time_ns = cpu_to_le64(time_ns);
	m->kind = cpu_to_le16(DLOG_REC_MARK);
	m->label_len = cpu_to_le32(strlen(label));
	memcpy(m->label, label, strlen(label));
	return true;
}

/*
 * After a recovery that cut the log, the first record appended is a
 * ROLLBACK to the last kept seq, first in its block (FORMAT.md 6.6).
 * Under dc->lock, before any other record; false if the ring is full.
 */
bool deltalog_journal_append_rollback(struct deltalog_c *dc, u64 to_seq)
{
	struct dlog_rollback_record *rb;
	u64 seq, time_ns;

	if (dc->jnl.open_slots || deltalog_ring_free_slots(dc) < 1)
		return false;
	/* Counted like recovery counts it: a live record, the newest seq. */
	deltalog_next_stamp(dc, &seq, &time_ns, true);
	rb = (struct dlog_rollback_record *)deltalog_jnl_slots(dc, 1);
	rb->seq = cpu_to_le64(seq);
	rb->time_ns = cpu_to_le64(time_ns);
	rb->kind = cpu_to_le16(DLOG_REC_ROLLBACK);
	rb->to_seq = cpu_to_le64(to_seq);
	return true;
}

static struct page *deltalog_jnl_page(void *p)
{
	return is_vmalloc_addr(p) ? vmalloc_to_page(p) : virt_to_page(p);
}

/* Write blocks first..last (images in bufs[]) to their ring slots. */
static int deltalog_write_blocks(struct deltalog_c *dc, u64 first, u64 last, u8 **bufs)
{
	u32 bs = dc->sb.meta_block_size;
	u64 i = first;
	int r = 0;

	while (i <= last && !r) {
		u64 slot, run;
		struct bio *bio;
		unsigned int k;

		div64_u64_rem(i, dc->sb.meta_blocks, &slot);
		run = min3(last - i + 1, dc->sb.meta_blocks - slot, (u64)BIO_MAX_VECS);
		bio = bio_alloc(dc->delta->bdev, run, DELTALOG_META_WRITE_OPF, GFP_NOIO);
		bio->bi_iter.bi_sector = dc->sb.meta_start + slot * (bs >> SECTOR_SHIFT);
		for (k = 0; k < run; k++) {
			u8 *p = bufs[i - first + k];

			if (is_vmalloc_addr(p))
				flush_kernel_vmap_range(p, bs);
			if (bio_add_page(bio, deltalog_jnl_page(p), bs, offset_in_page(p)) != bs)
				break;
		}
		if (!k) {
			bio_put(bio);
			return -EIO;
		}
		r = submit_bio_wait(bio);
		bio_put(bio);
		i += k;
	}
	return r;
}

/* Fill in the header of a block image and return its checksum. */
static u32 deltalog_seal_header(struct deltalog_c *dc, u8 *blk, u64 index, u32 prev_csum,
				unsigned int nr_slots, u64 durable_seq)
{
	struct dlog_meta_header *h = (struct dlog_meta_header *)blk;
	u32 csum;

	h->magic = cpu_to_le32(DLOG_MB_MAGIC);
	h->index = cpu_to_le64(index);
	h->prev_csum = cpu_to_le32(prev_csum);
	h->nr_slots = cpu_to_le16(nr_slots);
	h->flags = 0;
	h->durable_seq = cpu_to_le64(durable_seq);
	csum = ~crc32c(dc->jnl.csum_seed, blk + sizeof(h->csum),
		       dc->sb.meta_block_size - sizeof(h->csum));
	h->csum = cpu_to_le32(csum);
	return csum;
}

/* Complete bios waiting for durability with status. */
static void deltalog_end_waiters(struct bio_list *waiters, blk_status_t status)
{
	struct bio *bio;

	while ((bio = bio_list_pop(waiters))) {
		bio->bi_status = status;
		bio_endio(bio);
	}
}

/*
 * Write the records packed so far and, if flush or anyone waits for
 * durability, flush the delta; then complete the waiters. Process context,
 * under dc->commit_lock.
 */
int deltalog_journal_commit(struct deltalog_c *dc, bool flush)
{
	struct deltalog_journal *j = &dc->jnl;
	u8 *bufs[DELTALOG_JNL_BLOCKS];
	struct bio_list waiters;
	u64 first, open, newest, durable, nr_blocks, k;
	unsigned int open_slots;
	unsigned long flags;
	u32 prev, open_prev;
	bool more;
	int r = 0;

	lockdep_assert_held(&dc->commit_lock);
	bio_list_init(&waiters);

	spin_lock_irqsave(&dc->lock, flags);
	bio_list_merge(&waiters, &dc->flush_waiters);
	bio_list_init(&dc->flush_waiters);
	if (dc->mode == DELTALOG_MODE_FAIL) {
		spin_unlock_irqrestore(&dc->lock, flags);
		deltalog_end_waiters(&waiters, BLK_STS_IOERR);
		return -EIO;
	}
	first = j->written_upto;
	open = j->open_index;
	open_slots = j->open_slots;
	newest = j->newest_packed;
	durable = dc->log.durable_seq;
	/* Blocks first..open, the open one only if it has records. */
	nr_blocks = 0;
	if (newest != j->committed_seq) {
		nr_blocks = open - first + (open_slots ? 1 : 0);
		if (open_slots)
			memcpy(j->bounce, deltalog_jnl_block(dc, open), dc->sb.meta_block_size);
	}
	spin_unlock_irqrestore(&dc->lock, flags);

	flush = flush || !bio_list_empty(&waiters);
	if (!flush && !nr_blocks)
		return 0;

	/* Sealed blocks no longer change; the open one is the bounce copy. */
	prev = j->written_prev_csum;
	open_prev = prev;
	for (k = 0; k < nr_blocks; k++) {
		u64 i = first + k;
		u8 *blk = i == open ? j->bounce : deltalog_jnl_block(dc, i);
		unsigned int nr = i == open ? open_slots :
			le16_to_cpu(((struct dlog_meta_header *)blk)->nr_slots);

		bufs[k] = blk;
		open_prev = prev;
		prev = deltalog_seal_header(dc, blk, i, prev, nr, durable);
	}

	if (nr_blocks) {
		r = deltalog_write_blocks(dc, first, first + nr_blocks - 1, bufs);
		if (r)
			DMERR("%s: delta %s: cannot write metadata blocks %llu..%llu: %d",
			      deltalog_name(dc), dc->delta->name, first,
			      first + nr_blocks - 1, r);
	}
	if (!r && flush) {
		r = blkdev_issue_flush(dc->delta->bdev);
		if (r)
			DMERR("%s: delta %s: flush failed: %d", deltalog_name(dc),
			      dc->delta->name, r);
	}
	if (r) {
		deltalog_fail(dc);
		deltalog_end_waiters(&waiters, BLK_STS_IOERR);
		return r;
	}

	spin_lock_irqsave(&dc->lock, flags);
	if (nr_blocks) {
		/*
		 * Blocks before the open one are final. The open one is
		 * rewritten by the next commit, chained to open_prev.
		 */
		j->written_upto = open;
		j->written_prev_csum = open_slots ? open_prev : prev;
		j->committed_seq = newest;
	}
	if (flush)
		dc->log.durable_seq = max(dc->log.durable_seq, newest);
	/* Blocks sealed meanwhile passed the batch against the old written_upto. */
	more = j->open_index - j->written_upto >= DELTALOG_JNL_BATCH;
	spin_unlock_irqrestore(&dc->lock, flags);

	deltalog_end_waiters(&waiters, BLK_STS_OK);
	if (more)
		deltalog_kick(dc);
	return 0;
}
