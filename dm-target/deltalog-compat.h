/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-deltalog: every difference between the kernels the target builds for
 * (Debian's 6.1 and 6.12) lives here, behind a named helper. No other file
 * tests LINUX_VERSION_CODE.
 */
#ifndef DELTALOG_COMPAT_H
#define DELTALOG_COMPAT_H

#include <linux/version.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/device-mapper.h>

/*
 * Open modes: dm_table_get_mode() and dm_get_device() use fmode_t up to 6.4
 * and blk_mode_t from 6.5 (commit 05bdb9965305, "block: replace fmode_t with
 * a block-specific type for block open flags").
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
typedef blk_mode_t deltalog_mode_t;
#define DELTALOG_OPEN_WRITE	BLK_OPEN_WRITE
#else
typedef fmode_t deltalog_mode_t;
#define DELTALOG_OPEN_WRITE	FMODE_WRITE
#endif

static inline bool deltalog_mode_writable(deltalog_mode_t mode)
{
	return !!(mode & DELTALOG_OPEN_WRITE);
}

static inline deltalog_mode_t deltalog_mode_read_only(deltalog_mode_t mode)
{
	return mode & ~DELTALOG_OPEN_WRITE;
}

/*
 * Discard limits of the stacked device: 6.10 split them into the hardware
 * limit and a computed one (commit 4f563a64732d, "block: add a
 * max_user_discard_sectors queue limit").
 */
static inline void deltalog_set_discard_limits(struct queue_limits *limits,
					       unsigned int sectors)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	limits->max_hw_discard_sectors = sectors;
#else
	limits->max_discard_sectors = sectors;
	limits->max_hw_discard_sectors = sectors;
#endif
}

/*
 * Stable writes: the data of a write must not change while it is in flight,
 * because its checksum is computed before it is written. From 6.10 this is a
 * queue limit feature (commit 1a02f3a73f8c, "block: move the stable_writes
 * flag to queue_limits"), set with the other limits; before, a queue flag
 * that dm recomputes when it binds a table, so it is set again on resume.
 */
static inline void deltalog_hint_stable_writes(struct queue_limits *limits)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	limits->features |= BLK_FEAT_STABLE_WRITES;
#endif
}

static inline void deltalog_set_stable_writes(struct dm_target *ti)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
	blk_queue_flag_set(QUEUE_FLAG_STABLE_WRITES,
			   dm_disk(dm_table_get_md(ti->table))->queue);
#endif
}

#endif /* DELTALOG_COMPAT_H */
