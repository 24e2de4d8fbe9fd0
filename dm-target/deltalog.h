/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-deltalog: the target's in-core structures, shared by its source files.
 *
 * deltalog-target.c	the target: table line, map, status, messages
 * deltalog-super.c	superblock: read, validate, choose, format, origin identity
 * deltalog-log.c	metadata ring: recovery scan, record validation, data checks
 * deltalog-index.c	in-core extent index: origin sector -> newest logged version
 * deltalog-io.c	synchronous I/O on the origin and the delta (constructor only)
 *
 * On-disk structures come from <deltalog/format.h>; they are converted to the
 * host-order structures below at the pack/unpack boundary and never used in
 * core logic.
 */
#ifndef DELTALOG_H
#define DELTALOG_H

#include <linux/types.h>
#include <linux/blk_types.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/device-mapper.h>

#include <deltalog/format.h>

#include "deltalog-compat.h"

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

/*
 * One extent of the index: origin sectors [start, start + len) read from the
 * data ring at position data_pos (WRITE) or as zeros (ZERO). Extents never
 * overlap; a newer record trims or removes what it covers.
 */
struct deltalog_extent {
	struct rb_node node;
	sector_t start;
	sector_t len;
	u64 data_pos;
	u64 seq;
	u16 kind;
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
};

enum deltalog_on_full {
	DELTALOG_ON_FULL_ERROR,
	DELTALOG_ON_FULL_MERGE_OLDEST,
};

/*
 * Modes, switched only by deltalog_set_mode(). This version has no write
 * path, so a writable table stays in WRITE mode with writes refused; FAIL is
 * entered by the write path of the next version on I/O errors.
 */
enum deltalog_mode {
	DELTALOG_MODE_WRITE,	/* normal operation */
	DELTALOG_MODE_VIEW,	/* read-only view at view_seq */
	DELTALOG_MODE_FAIL,	/* every I/O errors; the log on disk is kept */
};

/* Optional table arguments given on the table line. */
#define DELTALOG_OPT_VIEW	(1u << 0)
#define DELTALOG_OPT_ON_FULL	(1u << 1)
#define DELTALOG_OPT_COMMIT_MS	(1u << 2)
#define DELTALOG_OPT_LOW_WATER	(1u << 3)

#define DELTALOG_COMMIT_MS_DEFAULT	1000u
#define DELTALOG_COMMIT_MS_MIN		1u
#define DELTALOG_COMMIT_MS_MAX		60000u

/* Seqs, ring indexes and data positions stay below this (FORMAT.md 3, 4.2). */
#define DELTALOG_U63			(1ull << 63)

/* Status and low_water count the data ring in blocks of 4 KiB. */
#define DELTALOG_DATA_BLOCK_SECTORS	8u

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

	/* The devices. */
	sector_t origin_sectors;
	unsigned int origin_lbs;
	sector_t delta_dev_sectors;
	unsigned int delta_lbs;

	/* The superblock in use and the copy (0 A, 1 B) it was read from. */
	struct deltalog_sb sb;
	unsigned int sb_copy;
	bool formatted;			/* this activation formatted the delta */

	/*
	 * lock protects index, log and mode: .map reads them under it and
	 * never sleeps. This version changes them only in the constructor.
	 */
	spinlock_t lock;
	struct rb_root index;
	u64 nr_extents;
	struct deltalog_log log;
	enum deltalog_mode mode;
};

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
u32 deltalog_crc32c(const void *buf, size_t len);
int deltalog_sb_load(struct deltalog_c *dc, char **error);
int deltalog_check_origin(struct deltalog_c *dc, char **error);

/* deltalog-log.c */
int deltalog_log_load(struct deltalog_c *dc, char **error);

/* deltalog-index.c */
int deltalog_index_init(void);
void deltalog_index_exit(void);
int deltalog_index_insert(struct deltalog_c *dc, const struct deltalog_rec *rec,
			  gfp_t gfp);
struct deltalog_extent *deltalog_index_find(struct deltalog_c *dc, sector_t sector);
void deltalog_index_destroy(struct deltalog_c *dc);

#endif /* DELTALOG_H */
