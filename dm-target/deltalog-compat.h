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

#endif /* DELTALOG_COMPAT_H */
