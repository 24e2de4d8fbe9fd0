/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-deltalog: the target's in-core structures, shared by its source files.
 *
 * deltalog-target.c	the target: table line, map, status, messages
 * deltalog-super.c	superblock: read, validate, choose, format, origin identity
 * deltalog-log.c	metadata ring: recovery scan, record validation, data checks
 * deltalog-index.c	in-core extent index: origin sector -> newest logged version
 * deltalog-pending.c	index inserts queued by completions, made by the worker
 * deltalog-write.c	the I/O path: reads, writes, discards, flushes, completions
 * deltalog-journal.c	records in memory, metadata block commits, durability
 * deltalog-merge.c	online merge: copy the state at a seq into the origin
 * deltalog-merge-copy.c the merge's copy: ring to origin in 1 MiB chunks
 * deltalog-io.c	synchronous I/O on the origin and the delta
 *
 * On-disk structures come from <deltalog/format.h>; they are converted to the
 * host-order structures below at the pack/unpack boundary and never used in
 * core logic.
 */
#ifndef DELTALOG_H
#define DELTALOG_H

#include <linux/types.h>
#include <linux/blk_types.h>
#include <linux/bio.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/device-mapper.h>

#include <deltalog/format.h>

#include "deltalog-compat.h"
#include "deltalog-index.h"
#include "deltalog-pending.h"

#define DM_MSG_PREFIX "deltalog"

/* Unpacked superblock: host order, same fields as struct dlog_superblock. */
struct deltalog_sb {
	u32 flags;
	u64 generation;
	u8 uuid[16];
	u64 format_time_ns;

	u64 delta_sectors;
	u32 meta_block_size;
	u64 meta_start;
	u64 meta_blocks;
	u64 data_start;
	u64 data_sectors;

	u64 origin_sectors;
	u32 origin_lbs;
	u32 origin_fingerprint;
	char origin_fs_uuid[DLOG_FS_UUID_LEN];

	u64 next_seq;
	u64 merged_seq;
	u64 meta_tail;
	u64 time_floor_ns;
	u64 clean_seq;
	u64 merge_target_seq;
	u32 merge_samples[2][DLOG_FP_SECTORS];	/* with DLOG_SBF_MERGE_SAMPLES */
};

/* One record of the metadata ring, unpacked (any kind). */
struct deltalog_rec {
	u64 seq;
	u64 time_ns;
	u16 kind;
	u16 flags;
	u32 nr_sectors;		/* WRITE, ZERO */
	u64 origin_sector;	/* WRITE, ZERO */
	u64 data_pos;		/* WRITE */
	u32 data_csum;		/* WRITE with DLOG_RF_DATA_CSUM */
	u64 to_seq;		/* ROLLBACK */
};

/* The log as recovered at activation (deltalog-log.c). */
struct deltalog_log {
	u64 head;		/* ring index of the first block after the log */
	u64 oldest_seq;		/* oldest live record, 0 if none */
	u64 newest_seq;		/* newest live record, 0 if none */
	u64 durable_seq;	/* every live record <= this is durable */
	u64 next_seq;		/* next sequence number to hand out */
	u64 time_floor_ns;	/* floor for the next record time */
	u64 data_tail;		/* live data ring positions: [tail, head) */
	u64 data_head;
	u64 nr_live;		/* live records */
	bool cut;		/* recovery dropped records (FORMAT.md 6.4) */
	u64 cut_to_seq;		/* then: the last record kept */
	u32 head_prev_csum;	/* csum of block head - 1, which block head chains to */
};

enum deltalog_on_full {
	DELTALOG_ON_FULL_ERROR,
	DELTALOG_ON_FULL_MERGE_OLDEST,
};

/* Modes, switched only under dc->lock. */
enum deltalog_mode {
	DELTALOG_MODE_WRITE,	/* normal operation */
	DELTALOG_MODE_VIEW,	/* read-only view at view_seq */
	DELTALOG_MODE_FAIL,	/* a delta write failed: reads work, writes fail */
};

/* Optional table arguments given on the table line. */
#define DELTALOG_OPT_VIEW	(1u << 0)
#define DELTALOG_OPT_ON_FULL	(1u << 1)
#define DELTALOG_OPT_COMMIT_MS	(1u << 2)
#define DELTALOG_OPT_LOW_WATER	(1u << 3)
#define DELTALOG_OPT_MERGE_RATE	(1u << 4)

#define DELTALOG_COMMIT_MS_DEFAULT	1000u
#define DELTALOG_COMMIT_MS_MIN		1u
#define DELTALOG_COMMIT_MS_MAX		60000u

/* merge_rate: KiB/s a merge may copy while the device is in use; 0 no limit. */
#define DELTALOG_MERGE_RATE_DEFAULT	16384u
#define DELTALOG_MERGE_RATE_MAX		(1u << 30)

/* Seqs, ring indexes and data positions stay below this (FORMAT.md 3, 4.2). */
#define DELTALOG_U63			(1ull << 63)

/*
 * Records of completed writes wait in memory, in the metadata blocks they
 * will be written as, until a commit writes them (FORMAT.md 4.3). Blocks
 * index % DELTALOG_JNL_BLOCKS hold index; blocks below written_upto are on the
 * delta for good, the open block (open_index) is rewritten by every commit
 * while it fills up.
 */
#define DELTALOG_JNL_BLOCKS		64u
/*
 * A commit starts as soon as this many blocks are sealed and not written,
 * so that under a stream of writes the buffers never fill and completions
 * never wait for room (commit_ms is for a trickle of writes).
 */
#define DELTALOG_JNL_BATCH		(DELTALOG_JNL_BLOCKS / 4)

/*
 * The lowest data position of the WRITE records of each group of
 * DELTALOG_GROUP_BLOCKS metadata blocks (U64_MAX: none), so that a merge
 * learns where the data of the records it keeps begins without reading them
 * all. Group g (blocks g * DELTALOG_GROUP_BLOCKS...) is entry g % nr; entries
 * up to group upto are current. Written under dc->lock; groups older than
 * the open block's no longer change.
 */
#define DELTALOG_GROUP_BLOCKS	64u

struct deltalog_data_floor {
	u64 *min_pos;
	u64 nr;
	u64 upto;
};

struct deltalog_journal {
	u8 *blocks;		/* DELTALOG_JNL_BLOCKS block images */
	u8 *bounce;		/* a commit's copy of the open block */
	u32 capacity;		/* record slots per block */
	u32 csum_seed;		/* CRC-32C state after the uuid */
	u64 open_index;		/* the block records go into */
	u32 open_slots;		/* slots used in it */
	u64 written_upto;	/* blocks below are final on the delta */
	u32 written_prev_csum;	/* csum of block written_upto - 1 */
	u64 reserved;		/* slots promised to writes in flight */
	u64 newest_packed;	/* seq of the newest record in the journal */
	u64 committed_seq;	/* newest seq written to the delta */
};

/* The longest discard or write-zeroes: one ZERO record (32-bit length). */
#define DELTALOG_MAX_ZERO_SECTORS	(1u << 30)

/* Status and low_water count the data ring in blocks of 4 KiB. */
#define DELTALOG_DATA_BLOCK_SECTORS	8u

/* What an online merge is doing (deltalog-merge.c), for status. */
enum deltalog_merge_phase {
	DELTALOG_MERGE_IDLE,	/* no merge, or one that waits to be resumed */
	DELTALOG_MERGE_RUNNING,	/* preparing, copying or finishing */
};

/*
 * An online merge. target is the seq it merges up to (0: none); the
 * superblock says MERGING from its first origin write until it is done.
 * The merge work owns everything but the fields status reads, which
 * change under dc->lock.
 */
struct deltalog_merge {
	struct workqueue_struct *wq;
	struct work_struct work;
	struct bio_set bs;		/* the copy's bios */

	u64 target;			/* under dc->lock */
	enum deltalog_merge_phase phase;	/* under dc->lock */
	bool stop;			/* cancel or suspend: stop at a safe point */
	bool cancelled;			/* merge cancel: do not resume it */
	bool oldest;			/* on_full merge_oldest: the scan picks the target */
	u64 total;			/* sectors to copy, under dc->lock */
	u64 copied;			/* sectors copied, under dc->lock */

	wait_queue_head_t wait;		/* the copy's bios end; stop */
	int error;			/* first copy error, then fixed */
};

/* The target's context, ti->private. */
struct deltalog_c {
	struct dm_target *ti;
	struct dm_dev *origin;
	struct dm_dev *delta;

	/* The table line. */
	unsigned int opts;		/* DELTALOG_OPT_* given */
	u64 view_seq;
	enum deltalog_on_full on_full;
	unsigned int commit_ms;
	u64 low_water;			/* data blocks; 0: no event */
	unsigned int merge_rate;	/* KiB/s while in use; 0: no limit */

	/* The devices. */
	sector_t origin_sectors;
	unsigned int origin_lbs;
	sector_t delta_dev_sectors;
	unsigned int delta_lbs;

	/* The superblock in use and the copy (0 A, 1 B) it was read from. */
	struct deltalog_sb sb;
	unsigned int sb_copy;
	bool formatted;			/* this activation formatted the delta */

	/* Set by the constructor when a live table of the same device owns the delta. */
	bool load_deferred;
	struct list_head registry;	/* deltalog_registry, deltalog-target.c */
	bool view_ready;		/* a view merges update; under the registry lock */

	/*
	 * index_lock protects the index, its spare memory, the oldest end of
	 * the queue of inserts and the read generations: reads and the
	 * worker's inserts take it. lock protects the log, the journal, the
	 * mode and the newest end of the queue: writes and their completions
	 * take it, and never wait for an insert. Both are taken with
	 * interrupts off, index_lock first when both are held, and nothing
	 * sleeps under them.
	 */
	spinlock_t index_lock;
	struct deltalog_index index;
	/* Recorded writes and discards whose index inserts the worker makes. */
	struct deltalog_pending pending;
	/* Index memory for the next insert: topped up only after one took a node. */
	struct deltalog_index_spare spare;
	/* Its own cache line: the worker's inserts and the writers do not share one. */
	spinlock_t lock ____cacheline_aligned_in_smp;
	struct deltalog_log log;
	enum deltalog_mode mode;
	struct deltalog_journal jnl;
	struct deltalog_data_floor floor;
	u64 alloc_head;			/* data ring: next free position */
	/* Data writes not yet recorded, in data_pos order (merge keeps their space). */
	struct list_head inflight_writes;
	/*
	 * Reads from the data ring in flight, counted by generation, so that a
	 * merge frees space only after the reads that may still use it end.
	 */
	unsigned int read_gen;
	atomic_t delta_reads[2];
	wait_queue_head_t reads_wait;
	unsigned long last_io;		/* jiffies of the last bio mapped */
	bool full;			/* a write was refused for lack of room */
	/* on_full merge_oldest: writes waiting for room, a merge wanted. */
	struct bio_list room_waiters;
	bool room_wanted;
	unsigned long room_stuck_until;	/* no history could be merged: refuse */
	bool low;			/* free data blocks are below low_water */
	bool event_pending;		/* the worker raises a dm event */
	bool failed_reported;

	/* The worker: commits, deferred bios, events. */
	struct workqueue_struct *wq;
	struct work_struct worker;
	struct delayed_work commit_timer;
	struct mutex commit_lock;	/* one commit at a time */
	struct bio_list deferred;	/* writes waiting for journal room */
	struct bio_list completions;	/* completed writes waiting for queue or journal room */
	struct bio_list flush_waiters;	/* flushes and FUA writes: until durable */
	bool suspended;

	struct deltalog_merge merge;
};

/* Per-bio state of the I/O path (dm_per_bio_data). */
struct deltalog_io {
	struct list_head inflight;	/* DELTALOG_IO_WRITE until recorded */
	u64 data_pos;
	u64 seq;
	sector_t origin_sector;
	u32 nr_sectors;
	u32 data_csum;
	unsigned int flags;		/* DELTALOG_IO_* */
};

#define DELTALOG_IO_WRITE	(1u << 0)	/* a data write: end_io records it */
#define DELTALOG_IO_FUA		(1u << 1)	/* complete after a commit with a flush */
#define DELTALOG_IO_DONE	(1u << 2)	/* recorded: end_io passes it through */
#define DELTALOG_IO_DELTA_READ	(1u << 3)	/* a read of the data ring, counted */
#define DELTALOG_IO_READ_GEN	(1u << 4)	/* in delta_reads[1], else [0] */

static inline const char *deltalog_name(struct deltalog_c *dc)
{
	return dm_device_name(dm_table_get_md(dc->ti->table));
}

static inline bool deltalog_is_view(struct deltalog_c *dc)
{
	return dc->opts & DELTALOG_OPT_VIEW;
}

/* deltalog-io.c */
int deltalog_sync_io(struct block_device *bdev, sector_t sector, void *buf,
		     size_t len, blk_opf_t opf);

/* deltalog-super.c */
int deltalog_sb_update(struct deltalog_c *dc);
u32 deltalog_crc32c(const void *buf, size_t len);
int deltalog_sb_load(struct deltalog_c *dc, char **error);
int deltalog_check_origin(struct deltalog_c *dc, char **error);
int deltalog_origin_fingerprint(struct deltalog_c *dc, u32 *fp);
int deltalog_read_samples(struct deltalog_c *dc, u8 *buf);

/* deltalog-log.c */
int deltalog_log_load(struct deltalog_c *dc, char **error);
/*
 * Called by deltalog_log_walk() for each record of the log, in seq order,
 * with the ring index of its block; voided records come with kind 0.
 * A non-zero return ends the walk with that value.
 */
typedef int (*deltalog_walk_fn)(void *ctx, const struct deltalog_rec *rec, u64 block);
int deltalog_log_walk(struct deltalog_c *dc, u64 last, struct mutex *lock_from_last,
		      deltalog_walk_fn fn, void *ctx);
#define DELTALOG_REC_VOID	0u

/* deltalog-journal.c */
int deltalog_journal_init(struct deltalog_c *dc);
void deltalog_journal_free(struct deltalog_c *dc);
bool deltalog_journal_reserve(struct deltalog_c *dc, unsigned int slots);
void deltalog_journal_unreserve(struct deltalog_c *dc, unsigned int slots);
bool deltalog_journal_has_room(struct deltalog_c *dc, unsigned int nr);
bool deltalog_journal_low(struct deltalog_c *dc);
u64 deltalog_journal_append_io(struct deltalog_c *dc, u16 kind, u16 flags,
			       sector_t origin_sector, u32 nr_sectors, u64 data_pos,
			       u32 data_csum);
bool deltalog_journal_append_mark(struct deltalog_c *dc, const char *label, u64 *seq);
bool deltalog_journal_append_rollback(struct deltalog_c *dc, u64 to_seq);
int deltalog_journal_commit(struct deltalog_c *dc, bool flush);
int deltalog_floor_init(struct deltalog_c *dc);
void deltalog_floor_free(struct deltalog_c *dc);
void deltalog_floor_note(struct deltalog_c *dc, u64 block, u64 data_pos);
u64 deltalog_floor_from(struct deltalog_c *dc, u64 first, u64 last);

/* deltalog-merge.c */
int deltalog_merge_init(struct deltalog_c *dc);
void deltalog_merge_exit(struct deltalog_c *dc);
int deltalog_merge_start(struct deltalog_c *dc, u64 target);
void deltalog_merge_oldest(struct deltalog_c *dc);
void deltalog_merge_cancel(struct deltalog_c *dc);
void deltalog_merge_pause(struct deltalog_c *dc);
void deltalog_merge_resume(struct deltalog_c *dc);

/* deltalog-merge-copy.c */
int deltalog_merge_copy(struct deltalog_c *dc, struct deltalog_index *ix);
int deltalog_drop_freed(struct deltalog_c *dc, u64 from, u64 to);

/* deltalog-target.c */
int deltalog_views_drop_freed(struct deltalog_c *dc, u64 from, u64 to);
u64 deltalog_oldest_view_seq(struct deltalog_c *dc);

/* deltalog-write.c */
u64 deltalog_inflight_floor(struct deltalog_c *dc);
void deltalog_drain_delta_reads(struct deltalog_c *dc);
int deltalog_map(struct dm_target *ti, struct bio *bio);
int deltalog_end_io(struct dm_target *ti, struct bio *bio, blk_status_t *error);
void deltalog_kick(struct deltalog_c *dc);
int deltalog_index_catch_up(struct deltalog_c *dc);
void deltalog_fail(struct deltalog_c *dc);
void deltalog_worker(struct work_struct *work);
void deltalog_commit_timer(struct work_struct *work);

#endif /* DELTALOG_H */
