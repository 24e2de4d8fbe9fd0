// SPDX-License-Identifier: GPL-2.0
/*
 * dm-deltalog: recovery of the metadata log at activation (FORMAT.md section 6).
 *
 * Pass 1 walks the hash chain of metadata blocks from meta_tail and finds the
 * end of the log; every record of every block in the chain is validated, and
 * a malformed one refuses the activation (a checksummed block with bad
 * contents is damage, not a torn write). It also gathers the highest seq and
 * time seen and the trusted seq (highest durable_seq, or clean_seq).
 *
 * Pass 2 reads the same blocks again, one block behind so that a ROLLBACK at
 * the start of a block can void records of the block before it; skips dead
 * (merged) and void records; checks the data of untrusted WRITE records and
 * cuts the log at the first mismatch; and inserts what is left into the
 * extent index.
 *
 * Both passes run in the constructor, before the target can see any bio.
 */
#include <linux/crc32c.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xxhash.h>

#include "deltalog.h"

#define DELTALOG_SCAN_BATCH	(256u << 10)	/* metadata read-ahead, bytes */
#define DELTALOG_DATA_BATCH	(1u << 20)	/* data check buffer, bytes */

#define DELTALOG_META_OPF	(REQ_OP_READ | REQ_META | REQ_SYNC)

struct deltalog_scan {
	struct deltalog_c *dc;
	u32 block_size;		/* bytes */
	u32 capacity;		/* record slots per block */
	u32 csum_seed;		/* CRC-32C state after the uuid */
	u64 end;		/* meta_tail + meta_blocks: no block at or past it */

	/* Read-ahead of consecutive metadata blocks. */
	u8 *batch;
	u64 batch_first;
	unsigned int batch_nr;
	unsigned int batch_max;

	u8 *data;		/* data check buffer, allocated on first use */
	struct deltalog_index_spare spare;

	/* Records of the block being read and of the one before it. */
	struct deltalog_rec *cur;
	struct deltalog_rec *prev;
	unsigned int nr_cur;
	unsigned int nr_prev;
	u64 prev_index;
	u32 prev_block_csum;	/* csum of block prev_index */

	/* Order checks across the log. */
	u64 last_seq;
	u64 last_time;

	/* Pass 1 results. */
	u64 head;
	u64 max_seq;		/* every seq seen, void ones included */
	u64 max_time;
	u64 trusted;

	/* Pass 2 state. */
	u64 last_kept_seq;
	bool have_data;		/* a live WRITE was found: data_tail/head set */
	bool cut;
};

static u64 deltalog_ring_slot(const struct deltalog_sb *sb, u64 index)
{
	u64 slot;

	div64_u64_rem(index, sb->meta_blocks, &slot);
	return slot;
}

/* Block index of the metadata ring, read ahead in batches. */
static int deltalog_scan_read(struct deltalog_scan *s, u64 index, const u8 **blk)
{
	const struct deltalog_sb *sb = &s->dc->sb;
	u64 slot, n;
	int r;

	if (index >= s->batch_first && index - s->batch_first < s->batch_nr) {
		*blk = s->batch + (index - s->batch_first) * s->block_size;
		return 0;
	}

	slot = deltalog_ring_slot(sb, index);
	n = min3((u64)s->batch_max, sb->meta_blocks - slot, s->end - index);
	r = deltalog_sync_io(s->dc->delta->bdev,
			     sb->meta_start + slot * (s->block_size >> SECTOR_SHIFT),
			     s->batch, n * s->block_size, DELTALOG_META_OPF);
	if (r) {
		s->batch_nr = 0;
		return r;
	}
	s->batch_first = index;
	s->batch_nr = n;
	*blk = s->batch;
	return 0;
}

/*
 * Does block index belong to the log (FORMAT.md 6.2)? Returns its checksum
 * in *csum when it does.
 */
static bool deltalog_block_in_log(struct deltalog_scan *s, const u8 *blk, u64 index,
				  bool first, u32 prev_csum, u32 *csum)
{
	const struct dlog_meta_header *h = (const struct dlog_meta_header *)blk;
	u32 c;

	c = ~crc32c(s->csum_seed, blk + sizeof(h->csum), s->block_size - sizeof(h->csum));
	if (le32_to_cpu(h->csum) != c || le32_to_cpu(h->magic) != DLOG_MB_MAGIC ||
	    le64_to_cpu(h->index) != index)
		return false;
	if (!first && le32_to_cpu(h->prev_csum) != prev_csum)
		return false;
	*csum = c;
	return true;
}

static bool deltalog_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
}

/* An extent of a WRITE or ZERO record: on the origin, and servable. */
static const char *deltalog_check_extent(struct deltalog_scan *s,
					 const struct deltalog_rec *r)
{
	struct deltalog_c *dc = s->dc;
	u64 lbs_sectors = dc->sb.origin_lbs >> SECTOR_SHIFT;

	if (!r->nr_sectors)
		return "empty extent";
	if (r->origin_sector > dc->sb.origin_sectors ||
	    r->nr_sectors > dc->sb.origin_sectors - r->origin_sector)
		return "extent past the end of the origin";
	if ((r->origin_sector | r->nr_sectors) & (lbs_sectors - 1))
		return "extent not aligned to the origin's logical block size";
	if (r->kind != DLOG_REC_WRITE)
		return NULL;
	if (r->data_pos >= DELTALOG_U63)
		return "data position beyond 2^63";
	if (r->nr_sectors > dc->sb.data_sectors)
		return "extent larger than the data ring";
	if (r->data_pos & ((dc->delta_lbs >> SECTOR_SHIFT) - 1))
		return "data not aligned to the delta's logical block size";
	return NULL;
}

/* Unpack and validate the record at slot; *used is its size in slots. */
static const char *deltalog_rec_unpack(struct deltalog_scan *s, const u8 *slot,
				       unsigned int slot_nr, unsigned int nr_slots,
				       struct deltalog_rec *r, unsigned int *used)
{
	const struct dlog_record_head *head = (const void *)slot;
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->seq = le64_to_cpu(head->seq);
	r->time_ns = le64_to_cpu(head->time_ns);
	r->kind = le16_to_cpu(head->kind);
	r->flags = le16_to_cpu(head->flags);
	*used = 1;

	switch (r->kind) {
	case DLOG_REC_WRITE:
	case DLOG_REC_ZERO: {
		const struct dlog_io_record *io = (const void *)slot;

		r->nr_sectors = le32_to_cpu(io->nr_sectors);
		r->origin_sector = le64_to_cpu(io->origin_sector);
		r->data_pos = le64_to_cpu(io->data_pos);
		r->data_csum = le32_to_cpu(io->data_csum);
		if (io->reserved)
			return "reserved bytes not zero";
		if (r->kind == DLOG_REC_WRITE) {
			if (r->flags & ~DLOG_RF_DATA_CSUM)
				return "unknown WRITE flags";
		} else {
			if (r->flags & ~DLOG_RF_DISCARD)
				return "unknown ZERO flags";
			if (r->data_pos || r->data_csum)
				return "ZERO record with a data position or checksum";
		}
		break;
	}
	case DLOG_REC_MARK: {
		const struct dlog_mark_record *m = (const void *)slot;
		u32 len = le32_to_cpu(m->label_len);

		*used = DLOG_MARK_SLOTS;
		if (slot_nr + DLOG_MARK_SLOTS > nr_slots)
			return "MARK record split across blocks";
		if (r->flags)
			return "unknown MARK flags";
		if (len < 1 || len > DLOG_LABEL_MAX)
			return "MARK label length out of range";
		for (i = 0; i < sizeof(m->label); i++) {
			if (i < len ? !deltalog_label_char(m->label[i]) : m->label[i])
				return "MARK label not [A-Za-z0-9._:-] then NUL bytes";
		}
		if (memchr_inv(m->reserved, 0, sizeof(m->reserved)))
			return "reserved bytes not zero";
		break;
	}
	case DLOG_REC_ROLLBACK: {
		const struct dlog_rollback_record *rb = (const void *)slot;

		r->to_seq = le64_to_cpu(rb->to_seq);
		if (slot_nr)
			return "ROLLBACK record not first in its block";
		if (r->flags)
			return "unknown ROLLBACK flags";
		if (rb->reserved0 || memchr_inv(rb->reserved, 0, sizeof(rb->reserved)))
			return "reserved bytes not zero";
		if (r->to_seq >= r->seq)
			return "ROLLBACK to a seq not below its own";
		break;
	}
	default:
		return "unknown record kind";
	}

	if (!r->seq || r->seq >= DELTALOG_U63)
		return "seq 0 or beyond 2^63";
	if (r->seq <= s->last_seq)
		return "seq not above the previous record's";
	if (r->time_ns < s->last_time)
		return "time before the previous record's";
	if (r->kind == DLOG_REC_WRITE || r->kind == DLOG_REC_ZERO)
		return deltalog_check_extent(s, r);
	return NULL;
}

/*
 * Validate the records of a block of the log and unpack them into s->cur.
 * Returns NULL, or what is wrong with the record at *bad_slot.
 */
static const char *deltalog_block_parse(struct deltalog_scan *s, const u8 *blk,
					unsigned int *bad_slot)
{
	const struct dlog_meta_header *h = (const struct dlog_meta_header *)blk;
	unsigned int nr_slots = le16_to_cpu(h->nr_slots);
	const u8 *slots = blk + sizeof(*h);
	unsigned int i, used;
	const char *why;

	*bad_slot = 0;
	s->nr_cur = 0;
	if (h->flags)
		return "block header flags not zero";
	if (nr_slots < 1 || nr_slots > s->capacity)
		return "slot count out of range";
	if (memchr_inv(slots + nr_slots * DLOG_SLOT_SIZE, 0,
		       s->block_size - sizeof(*h) - nr_slots * DLOG_SLOT_SIZE))
		return "unused slots not zero";

	for (i = 0; i < nr_slots; i += used) {
		struct deltalog_rec *r = &s->cur[s->nr_cur];

		*bad_slot = i;
		why = deltalog_rec_unpack(s, slots + i * DLOG_SLOT_SIZE, i, nr_slots,
					  r, &used);
		if (why)
			return why;
		s->last_seq = r->seq;
		s->last_time = r->time_ns;
		s->nr_cur++;
	}
	return NULL;
}

static void deltalog_report_corrupt(struct deltalog_scan *s, u64 index,
				    unsigned int slot, const char *why)
{
	struct deltalog_c *dc = s->dc;
	u64 ring_slot = deltalog_ring_slot(&dc->sb, index);

	DMERR("%s: delta %s: metadata block %llu (ring slot %llu, sector %llu), record slot %u: %s",
	      deltalog_name(dc), dc->delta->name, index, ring_slot,
	      dc->sb.meta_start + ring_slot * (s->block_size >> SECTOR_SHIFT),
	      slot, why);
}

/* Pass 1: find the end of the log and validate everything in it. */
static int deltalog_scan_chain(struct deltalog_scan *s, char **error)
{
	struct deltalog_c *dc = s->dc;
	u64 tail = dc->sb.meta_tail;
	u32 csum, prev_csum = 0;
	unsigned int slot;
	const char *why;
	const u8 *blk;
	u64 i;
	int r;

	s->last_seq = 0;
	s->last_time = 0;
	s->trusted = dc->sb.clean_seq;

	for (i = tail; i < s->end; i++) {
		const struct dlog_meta_header *h;

		r = deltalog_scan_read(s, i, &blk);
		if (r) {
			DMERR("%s: delta %s: cannot read metadata block %llu: %d",
			      deltalog_name(dc), dc->delta->name, i, r);
			*error = "Cannot read the delta's metadata ring";
			return r;
		}
		if (!deltalog_block_in_log(s, blk, i, i == tail, prev_csum, &csum))
			break;

		why = deltalog_block_parse(s, blk, &slot);
		if (why) {
			deltalog_report_corrupt(s, i, slot, why);
			*error = "Corrupt metadata block in the log (see kernel log)";
			return -EUCLEAN;
		}

		h = (const struct dlog_meta_header *)blk;
		s->trusted = max(s->trusted, le64_to_cpu(h->durable_seq));
		prev_csum = csum;
	}

	s->head = i;
	s->max_seq = s->last_seq;
	s->max_time = s->last_time;

	/* FORMAT.md 6.7: a clean stop newer than the log means lost blocks. */
	if (dc->sb.clean_seq && dc->sb.clean_seq > dc->sb.merged_seq &&
	    dc->sb.clean_seq > s->max_seq) {
		DMERR("%s: delta %s: stopped cleanly at seq %llu but the log ends at seq %llu (block %llu)",
		      deltalog_name(dc), dc->delta->name, dc->sb.clean_seq,
		      s->max_seq, s->head);
		*error = "Metadata log is missing blocks written before a clean stop";
		return -EUCLEAN;
	}
	return 0;
}

/* The checksum of a WRITE record's data (FORMAT.md 6.2), read from the data ring. */
static int deltalog_data_csum(struct deltalog_scan *s, const struct deltalog_rec *rec,
			      u32 *csum)
{
	const struct deltalog_sb *sb = &s->dc->sb;
	u64 pos = rec->data_pos;
	u64 left = rec->nr_sectors;
	struct xxh64_state state;
	int r;

	if (!s->data) {
		s->data = kvmalloc(DELTALOG_DATA_BATCH, GFP_KERNEL);
		if (!s->data)
			return -ENOMEM;
	}

	xxh64_reset(&state, 0);
	while (left) {
		u64 off, n;

		div64_u64_rem(pos, sb->data_sectors, &off);
		n = min3(left, sb->data_sectors - off,
			 (u64)(DELTALOG_DATA_BATCH >> SECTOR_SHIFT));
		r = deltalog_sync_io(s->dc->delta->bdev, sb->data_start + off, s->data,
				     n << SECTOR_SHIFT, REQ_OP_READ | REQ_SYNC);
		if (r)
			return r;
		xxh64_update(&state, s->data, n << SECTOR_SHIFT);
		pos += n;
		left -= n;
	}
	*csum = (u32)xxh64_digest(&state);
	return 0;
}

/*
 * Pass 2, one block: skip void and dead records, check untrusted data, keep
 * the rest. Returns 1 if the log was cut here, 0 to go on, or an error.
 */
static int deltalog_apply_block(struct deltalog_scan *s, char **error)
{
	struct deltalog_c *dc = s->dc;
	struct deltalog_log *log = &dc->log;
	unsigned int i;
	u32 csum;
	int r;

	for (i = 0; i < s->nr_prev; i++) {
		struct deltalog_rec *rec = &s->prev[i];

		if (rec->kind == DELTALOG_REC_VOID || rec->seq <= dc->sb.merged_seq)
			continue;	/* void or merged */

		if (rec->kind == DLOG_REC_WRITE && (rec->flags & DLOG_RF_DATA_CSUM) &&
		    rec->seq > s->trusted) {
			r = deltalog_data_csum(s, rec, &csum);
			if (r) {
				DMERR("%s: delta %s: cannot read the data of seq %llu: %d",
				      deltalog_name(dc), dc->delta->name, rec->seq, r);
				*error = "Cannot read the delta's data ring";
				return r;
			}
			if (csum != rec->data_csum) {
				s->cut = true;
				log->cut = true;
				log->cut_to_seq = s->last_kept_seq;
				log->head = s->prev_index + 1;
				log->head_prev_csum = s->prev_block_csum;
				DMWARN("%s: delta %s: data of seq %llu (block %llu) did not reach the delta before the crash; the log ends at seq %llu",
				       deltalog_name(dc), dc->delta->name, rec->seq,
				       s->prev_index, s->last_kept_seq);
				return 1;
			}
		}

		if (!log->oldest_seq)
			log->oldest_seq = rec->seq;
		log->newest_seq = rec->seq;
		log->nr_live++;
		s->last_kept_seq = rec->seq;

		if (rec->kind == DLOG_REC_WRITE) {
			deltalog_floor_note(dc, s->prev_index, rec->data_pos);
			if (!s->have_data) {
				s->have_data = true;
				log->data_tail = rec->data_pos;
				log->data_head = rec->data_pos + rec->nr_sectors;
			} else {
				log->data_tail = min(log->data_tail, rec->data_pos);
				log->data_head = max(log->data_head,
						     rec->data_pos + rec->nr_sectors);
			}
		}

		if ((rec->kind == DLOG_REC_WRITE || rec->kind == DLOG_REC_ZERO) &&
		    (!deltalog_is_view(dc) || rec->seq <= dc->view_seq)) {
			r = deltalog_index_reserve(&s->spare, GFP_KERNEL);
			if (r) {
				*error = "Cannot allocate the extent index";
				return r;
			}
			deltalog_index_insert(&dc->index, rec->origin_sector,
					      rec->nr_sectors, rec->kind, rec->data_pos,
					      &s->spare);
		}
	}
	return 0;
}

/* A ROLLBACK first in the current block voids records of the previous one. */
static void deltalog_apply_rollback(struct deltalog_scan *s)
{
	const struct deltalog_rec *rb = &s->cur[0];
	unsigned int i;

	if (!s->nr_cur || rb->kind != DLOG_REC_ROLLBACK)
		return;
	for (i = 0; i < s->nr_prev; i++) {
		struct deltalog_rec *rec = &s->prev[i];

		if (rec->seq > rb->to_seq && rec->seq < rb->seq)
			rec->kind = DELTALOG_REC_VOID;
	}
}

/* Pass 2: rebuild the live log and the index. */
static int deltalog_build_index(struct deltalog_scan *s, char **error)
{
	struct deltalog_c *dc = s->dc;
	u64 tail = dc->sb.meta_tail;
	u32 csum, prev_csum = 0;
	struct deltalog_rec *tmp;
	unsigned int slot;
	const u8 *blk;
	u64 i;
	int r;

	s->last_seq = 0;
	s->last_time = 0;
	s->last_kept_seq = dc->sb.merged_seq;
	s->nr_prev = 0;
	dc->log.head = s->head;

	for (i = tail; i < s->head; i++) {
		r = deltalog_scan_read(s, i, &blk);
		if (r) {
			*error = "Cannot read the delta's metadata ring";
			return r;
		}
		if (!deltalog_block_in_log(s, blk, i, i == tail, prev_csum, &csum) ||
		    deltalog_block_parse(s, blk, &slot)) {
			*error = "Delta changed while its log was being read";
			return -EIO;
		}
		prev_csum = csum;

		deltalog_apply_rollback(s);
		r = deltalog_apply_block(s, error);
		if (r)
			return r < 0 ? r : 0;

		tmp = s->prev;
		s->prev = s->cur;
		s->cur = tmp;
		s->nr_prev = s->nr_cur;
		s->prev_index = i;
		s->prev_block_csum = csum;
	}

	/* The next block written chains to the last one of the log. */
	dc->log.head_prev_csum = s->prev_block_csum;
	r = deltalog_apply_block(s, error);
	return r < 0 ? r : 0;
}

/* Buffers of a scan; s->dc set by the caller. */
static int deltalog_scan_setup(struct deltalog_scan *s)
{
	const struct deltalog_sb *sb = &s->dc->sb;

	s->block_size = sb->meta_block_size;
	s->capacity = dlog_slots_per_block(sb->meta_block_size);
	s->csum_seed = crc32c(~0u, sb->uuid, sizeof(sb->uuid));
	s->end = sb->meta_tail + sb->meta_blocks;
	s->batch_max = DELTALOG_SCAN_BATCH / s->block_size;

	s->batch = kvmalloc(DELTALOG_SCAN_BATCH, GFP_KERNEL);
	s->cur = kcalloc(s->capacity, sizeof(*s->cur), GFP_KERNEL);
	s->prev = kcalloc(s->capacity, sizeof(*s->prev), GFP_KERNEL);
	return s->batch && s->cur && s->prev ? 0 : -ENOMEM;
}

static void deltalog_scan_teardown(struct deltalog_scan *s)
{
	deltalog_index_unreserve(&s->spare);
	kvfree(s->data);
	kfree(s->prev);
	kfree(s->cur);
	kvfree(s->batch);
}

/*
 * Recover the log from the delta (FORMAT.md section 6) into dc->log and the
 * extent index.
 */
int deltalog_log_load(struct deltalog_c *dc, char **error)
{
	struct deltalog_sb *sb = &dc->sb;
	struct deltalog_log *log = &dc->log;
	struct deltalog_scan s = { .dc = dc };
	int r;

	r = deltalog_scan_setup(&s);
	if (r) {
		*error = "Cannot allocate memory to read the log";
		goto out;
	}

	memset(log, 0, sizeof(*log));
	r = deltalog_scan_chain(&s, error);
	if (r)
		goto out;
	r = deltalog_build_index(&s, error);
	if (r)
		goto out;

	if (log->data_head - log->data_tail > sb->data_sectors) {
		DMERR("%s: delta %s: live data spans positions %llu..%llu, more than the %llu-sector data ring",
		      deltalog_name(dc), dc->delta->name, log->data_tail,
		      log->data_head, sb->data_sectors);
		*error = "Corrupt log: live data exceeds the data ring";
		r = -EUCLEAN;
		goto out;
	}

	log->durable_seq = log->newest_seq;
	log->next_seq = max(sb->next_seq, s.max_seq + 1);
	log->time_floor_ns = max(sb->time_floor_ns, s.max_time);

	DMINFO("%s: delta %s: %llu live records (seq %llu..%llu) in %llu metadata blocks, merged up to %llu, next seq %llu, %llu extents indexed",
	       deltalog_name(dc), dc->delta->name, log->nr_live, log->oldest_seq,
	       log->newest_seq, log->head - sb->meta_tail, sb->merged_seq,
	       log->next_seq, deltalog_index_nr_extents(&dc->index));
out:
	deltalog_scan_teardown(&s);
	return r;
}

/* Hand the records of the previous block to fn. */
static int deltalog_walk_emit(struct deltalog_scan *s, deltalog_walk_fn fn, void *ctx)
{
	unsigned int i;
	int r;

	for (i = 0; i < s->nr_prev; i++) {
		r = fn(ctx, &s->prev[i], s->prev_index);
		if (r)
			return r;
	}
	return 0;
}

/*
 * Walk the blocks of the log from meta_tail to last (or to the end of the
 * chain) and hand every record to fn in seq order, voided ones as
 * DELTALOG_REC_VOID. For the online merge, while the writer runs: blocks
 * before the newest one it wrote are final, and last, which a commit may
 * still rewrite in place, is read under lock_last (its commit_lock), on its
 * own, so that no read-ahead sees it half written.
 */
int deltalog_log_walk(struct deltalog_c *dc, u64 last, struct mutex *lock_last,
		      deltalog_walk_fn fn, void *ctx)
{
	struct deltalog_scan s = { .dc = dc };
	u64 tail = dc->sb.meta_tail, i;
	u32 csum, prev_csum = 0;
	struct deltalog_rec *tmp;
	unsigned int slot;
	const char *why;
	const u8 *blk;
	bool in_log;
	int r;

	r = deltalog_scan_setup(&s);
	if (r)
		goto out;
	last = min(last, s.end - 1);
	s.end = last;
	for (i = tail; i <= last; i++) {
		if (i == last) {
			s.end = last + 1;
			s.batch_nr = 0;
			mutex_lock(lock_last);
		}
		r = deltalog_scan_read(&s, i, &blk);
		in_log = !r && deltalog_block_in_log(&s, blk, i, i == tail, prev_csum, &csum);
		why = in_log ? deltalog_block_parse(&s, blk, &slot) : NULL;
		if (i == last)
			mutex_unlock(lock_last);
		if (r) {
			DMERR("%s: delta %s: cannot read metadata block %llu: %d",
			      deltalog_name(dc), dc->delta->name, i, r);
			goto out;
		}
		if (!in_log)
			break;
		if (why) {
			deltalog_report_corrupt(&s, i, slot, why);
			r = -EUCLEAN;
			goto out;
		}
		prev_csum = csum;

		deltalog_apply_rollback(&s);
		r = deltalog_walk_emit(&s, fn, ctx);
		if (r)
			goto out;
		tmp = s.prev;
		s.prev = s.cur;
		s.cur = tmp;
		s.nr_prev = s.nr_cur;
		s.prev_index = i;
	}
	r = deltalog_walk_emit(&s, fn, ctx);
out:
	deltalog_scan_teardown(&s);
	return r;
}
