// SPDX-License-Identifier: GPL-2.0
/*
 * dm-deltalog: a write-logging block device.
 *
 * The target sits over an *origin* device and a *delta* device. Every write
 * to the stacked device is to be appended, with its time, to a log on the
 * delta; the origin is never written (except, later, by a merge). Reads
 * return the newest logged data for a sector, or the origin's data for
 * sectors never written. Because the log keeps every write in order with its
 * sequence number and time, the device can be rolled back to any past point,
 * merged into the origin up to any point, or viewed read-only as it was at
 * any point. docs/FORMAT.md specifies the delta byte by byte;
 * docs/dm-deltalog.rst is the user's contract (table line, status, messages).
 *
 * Delta layout (sectors of 512 bytes; geometry fixed at format time):
 *
 *   0        8        16                     data_start           delta end
 *   +--------+--------+----------------------+---------------------+
 *   | sb A   | sb B   | metadata ring        | data ring           |
 *   | 4 KiB  | 4 KiB  | meta_blocks blocks   | data_sectors        |
 *   +--------+--------+----------------------+---------------------+
 *                      ^ hash-chained blocks   ^ write payloads, addressed
 *                        of 48-byte records      by a position that only
 *                        (WRITE, ZERO, MARK,     grows (modulo the ring)
 *                        ROLLBACK)
 *
 * How it works
 * ------------
 * - The constructor parses the table line, opens both devices, and (unless
 *   the device's live table holds the delta: then preresume does it, after
 *   that table has stopped) loads the delta: chooses the superblock copy or
 *   formats a zeroed delta, checks the origin's identity, recovers the log
 *   (deltalog-log.c) into the extent index (deltalog-index.c).
 * - The I/O path (deltalog-write.c): reads are remapped to the data ring or
 *   the origin or zero-filled; a write is remapped to fresh space at the data
 *   ring's head and, when it completes, gets its seq and its record in the
 *   journal and the index; discards and write-zeroes are ZERO records; .map
 *   never sleeps.
 * - The journal (deltalog-journal.c) packs records into metadata blocks and
 *   commits them on a flush or FUA write (one device flush: records carry a
 *   CRC of their data), at least every commit_ms, and at suspend.
 * - Suspend persists everything and records a clean stop in the superblock;
 *   resume clears it before the first write.
 * - A failed write to the delta puts the target in failed mode: reads go on,
 *   writes and flushes fail, the log keeps everything made durable before.
 * - A view (`view <seq>`) indexes only records up to seq and opens the delta
 *   read-only. Two devices never share a delta, except views.
 * - Status, table status, the `mark` message; `merge` is validated and
 *   answered with -EOPNOTSUPP until online merge exists.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/ctype.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "deltalog.h"

#define DELTALOG_VERSION_STRING "0.3.0"

/*----------------------------------------------------------------
 * Constructor and destructor
 *--------------------------------------------------------------*/

/*
 * Deltas in use by a table, so that two devices never write one delta, and
 * a reloaded table reads the log only after the old table has stopped.
 */
static LIST_HEAD(deltalog_registry);
static DEFINE_MUTEX(deltalog_registry_lock);

/*
 * Another table holding this delta: the same device's live table (a reload:
 * load the log in preresume, after it stopped) or another device's (only
 * views may share a delta with a writer).
 */
static int deltalog_register(struct deltalog_c *dc, char **error)
{
	struct mapped_device *md = dm_table_get_md(dc->ti->table);
	struct deltalog_c *other;
	int r = 0;

	mutex_lock(&deltalog_registry_lock);
	list_for_each_entry(other, &deltalog_registry, registry) {
		if (other->delta->bdev != dc->delta->bdev)
			continue;
		if (dm_table_get_md(other->ti->table) == md) {
			dc->load_deferred = true;
			continue;
		}
		if (!deltalog_is_view(dc) && !deltalog_is_view(other)) {
			DMERR("%s: delta %s is in use by device %s", deltalog_name(dc),
			      dc->delta->name, deltalog_name(other));
			*error = "Delta is in use by another deltalog device";
			r = -EBUSY;
			break;
		}
	}
	if (!r)
		list_add(&dc->registry, &deltalog_registry);
	mutex_unlock(&deltalog_registry_lock);
	return r;
}

/*
 * A view joins the ones a merge updates (deltalog_views_drop_freed()) once
 * its log is read, unless a merge of its delta freed space meanwhile (its
 * index may point there) or merges past its seq (the view pins history).
 */
static int deltalog_view_settle(struct deltalog_c *dc, char **error)
{
	struct deltalog_c *w;
	int r = 0;

	mutex_lock(&deltalog_registry_lock);
	list_for_each_entry(w, &deltalog_registry, registry) {
		if (w->delta->bdev != dc->delta->bdev || deltalog_is_view(w) ||
		    w->load_deferred)
			continue;
		if (w->merge.target > dc->view_seq ||
		    ((w->sb.flags & DLOG_SBF_MERGING) && w->sb.merge_target_seq > dc->view_seq)) {
			DMERR("%s: device %s is merging past seq %llu", deltalog_name(dc),
			      deltalog_name(w), dc->view_seq);
			*error = "A merge past the view's seq is under way";
			r = -EBUSY;
		} else if (w->sb.merged_seq != dc->sb.merged_seq) {
			*error = "The log was merged while the view read it: try again";
			r = -EAGAIN;
		}
	}
	if (!r)
		dc->view_ready = true;
	mutex_unlock(&deltalog_registry_lock);
	return r;
}

static void deltalog_unregister(struct deltalog_c *dc)
{
	mutex_lock(&deltalog_registry_lock);
	list_del(&dc->registry);
	mutex_unlock(&deltalog_registry_lock);
}

/* Frees everything a constructor may have set up, in any state. */
static void deltalog_destroy(struct deltalog_c *dc)
{
	deltalog_merge_exit(dc);
	if (dc->wq) {
		cancel_delayed_work_sync(&dc->commit_timer);
		destroy_workqueue(dc->wq);
	}
	if (!list_empty(&dc->registry))
		deltalog_unregister(dc);
	deltalog_journal_free(dc);
	deltalog_floor_free(dc);
	deltalog_pending_free(&dc->pending);
	deltalog_index_destroy(&dc->index);
	deltalog_index_unreserve(&dc->spare);
	if (dc->delta)
		dm_put_device(dc->ti, dc->delta);
	if (dc->origin)
		dm_put_device(dc->ti, dc->origin);
	kfree(dc);
}

static const struct dm_arg deltalog_args[] = {
	{0, 10, "Invalid number of optional arguments"},
	{DELTALOG_COMMIT_MS_MIN, DELTALOG_COMMIT_MS_MAX,
	 "Invalid commit_ms (must be 1..60000)"},
	{0, DELTALOG_MERGE_RATE_MAX, "Invalid merge_rate (KiB/s, 0 for no limit)"},
};

static bool deltalog_opt_once(struct deltalog_c *dc, unsigned int opt,
			      char *dup_error, char **error)
{
	if (dc->opts & opt) {
		*error = dup_error;
		return false;
	}
	dc->opts |= opt;
	return true;
}

/*
 * Optional arguments: [<#opt_args> <opt_arg>...], each a key and a value:
 * view <seq>, on_full error|merge_oldest, commit_ms <n>, low_water <blocks>,
 * merge_rate <KiB/s>.
 */
static int deltalog_parse_opts(struct deltalog_c *dc, struct dm_arg_set *as,
			       char **error)
{
	unsigned int argc;
	const char *key, *val;
	int r;

	if (!as->argc)
		return 0;

	r = dm_read_arg_group(&deltalog_args[0], as, &argc, error);
	if (r)
		return r;

	while (argc) {
		key = dm_shift_arg(as);
		argc--;

		if (!strcasecmp(key, "view")) {
			if (!deltalog_opt_once(dc, DELTALOG_OPT_VIEW, "Duplicate view", error))
				return -EINVAL;
			val = argc ? as->argv[0] : NULL;
			if (!val || kstrtou64(val, 10, &dc->view_seq)) {
				*error = "view needs a sequence number";
				return -EINVAL;
			}
			dm_consume_args(as, 1);
			argc--;
		} else if (!strcasecmp(key, "on_full")) {
			if (!deltalog_opt_once(dc, DELTALOG_OPT_ON_FULL, "Duplicate on_full",
					       error))
				return -EINVAL;
			val = argc ? as->argv[0] : NULL;
			if (val && !strcasecmp(val, "error")) {
				dc->on_full = DELTALOG_ON_FULL_ERROR;
			} else if (val && !strcasecmp(val, "merge_oldest")) {
				dc->on_full = DELTALOG_ON_FULL_MERGE_OLDEST;
			} else {
				*error = "Invalid on_full (must be error or merge_oldest)";
				return -EINVAL;
			}
			dm_consume_args(as, 1);
			argc--;
		} else if (!strcasecmp(key, "commit_ms")) {
			if (!deltalog_opt_once(dc, DELTALOG_OPT_COMMIT_MS,
					       "Duplicate commit_ms", error))
				return -EINVAL;
			if (!argc) {
				*error = "commit_ms needs a number of milliseconds";
				return -EINVAL;
			}
			val = as->argv[0];
			r = dm_read_arg(&deltalog_args[1], as, &dc->commit_ms, error);
			if (r) {
				DMERR("%s: Invalid commit_ms: %s (must be %u..%u)",
				      deltalog_name(dc), val, DELTALOG_COMMIT_MS_MIN,
				      DELTALOG_COMMIT_MS_MAX);
				return r;
			}
			argc--;
		} else if (!strcasecmp(key, "merge_rate")) {
			if (!deltalog_opt_once(dc, DELTALOG_OPT_MERGE_RATE,
					       "Duplicate merge_rate", error))
				return -EINVAL;
			if (!argc) {
				*error = "merge_rate needs a number of KiB/s";
				return -EINVAL;
			}
			r = dm_read_arg(&deltalog_args[2], as, &dc->merge_rate, error);
			if (r)
				return r;
			argc--;
		} else if (!strcasecmp(key, "low_water")) {
			if (!deltalog_opt_once(dc, DELTALOG_OPT_LOW_WATER,
					       "Duplicate low_water", error))
				return -EINVAL;
			val = argc ? as->argv[0] : NULL;
			if (!val || kstrtou64(val, 10, &dc->low_water)) {
				*error = "low_water needs a number of 4 KiB blocks";
				return -EINVAL;
			}
			dm_consume_args(as, 1);
			argc--;
		} else {
			DMERR("%s: Unknown optional argument: %s", deltalog_name(dc), key);
			*error = "Unknown optional argument";
			return -EINVAL;
		}
	}
	return 0;
}

static u64 deltalog_data_blocks(struct deltalog_c *dc)
{
	return dc->sb.data_sectors / DELTALOG_DATA_BLOCK_SECTORS;
}

/* Checks of the table line that need the superblock or the log. */
static int deltalog_check_table(struct deltalog_c *dc, char **error)
{
	if (deltalog_is_view(dc) && dc->view_seq < dc->sb.merged_seq) {
		DMERR("%s: view %llu is older than the merged seq %llu",
		      deltalog_name(dc), dc->view_seq, dc->sb.merged_seq);
		*error = "View is older than the merged history";
		return -EINVAL;
	}
	if (deltalog_is_view(dc) && dc->view_seq >= dc->log.next_seq) {
		DMERR("%s: view %llu is newer than the log (newest seq %llu)",
		      deltalog_name(dc), dc->view_seq, dc->log.newest_seq);
		*error = "View is newer than the log";
		return -EINVAL;
	}
	if (dc->low_water > deltalog_data_blocks(dc)) {
		DMERR("%s: low_water %llu exceeds the %llu blocks of the data ring",
		      deltalog_name(dc), dc->low_water, deltalog_data_blocks(dc));
		*error = "low_water exceeds the data ring";
		return -EINVAL;
	}
	return 0;
}

static bool deltalog_writable(struct deltalog_c *dc)
{
	return !deltalog_is_view(dc) &&
	       deltalog_mode_writable(dm_table_get_mode(dc->ti->table));
}

/*
 * Read the superblock (formatting an empty delta), check the origin's
 * identity, recover the log into the index and set up the journal. In the
 * constructor, or in preresume when a live table of the device had the
 * delta (deltalog_register()).
 */
static int deltalog_load(struct deltalog_c *dc, char **error)
{
	unsigned int noio;
	int r;

	/* Memory reclaim must not recurse into I/O while we read the delta. */
	noio = memalloc_noio_save();
	r = deltalog_sb_load(dc, error);
	if (!r)
		r = deltalog_check_origin(dc, error);
	if (!r) {
		r = deltalog_floor_init(dc);
		if (r)
			*error = "Cannot allocate the log's block group floors";
	}
	if (!r) {
		deltalog_index_setup(&dc->index, dc->sb.data_sectors);
		r = deltalog_log_load(dc, error);
	}
	memalloc_noio_restore(noio);
	if (r)
		return r;

	r = deltalog_check_table(dc, error);
	if (r)
		return r;

	dc->alloc_head = dc->log.data_head;
	dc->jnl.newest_packed = dc->log.newest_seq;
	dc->jnl.committed_seq = dc->log.newest_seq;
	if (deltalog_writable(dc)) {
		r = deltalog_journal_init(dc);
		if (r) {
			*error = "Cannot allocate the journal";
			return r;
		}
	}
	dc->mode = deltalog_is_view(dc) ? DELTALOG_MODE_VIEW : DELTALOG_MODE_WRITE;
	dc->load_deferred = false;
	return 0;
}

/*
 * Construct a deltalog mapping:
 *   <origin_dev> <delta_dev> [<#opt_args> <opt_arg>...]
 */
static int deltalog_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct deltalog_c *dc;
	struct dm_arg_set as;
	const char *origin_path, *delta_path;
	deltalog_mode_t mode;
	int r;

	if (argc < 2) {
		ti->error = "Invalid argument count: need <origin_dev> <delta_dev>";
		return -EINVAL;
	}

	dc = kzalloc(sizeof(*dc), GFP_KERNEL);
	if (!dc) {
		ti->error = "Cannot allocate deltalog context";
		return -ENOMEM;
	}
	dc->ti = ti;
	dc->commit_ms = DELTALOG_COMMIT_MS_DEFAULT;
	dc->on_full = DELTALOG_ON_FULL_ERROR;
	dc->merge_rate = DELTALOG_MERGE_RATE_DEFAULT;
	dc->suspended = true;
	INIT_LIST_HEAD(&dc->inflight_writes);
	init_waitqueue_head(&dc->reads_wait);
	INIT_LIST_HEAD(&dc->registry);
	spin_lock_init(&dc->index_lock);
	spin_lock_init(&dc->lock);
	mutex_init(&dc->commit_lock);
	bio_list_init(&dc->deferred);
	bio_list_init(&dc->completions);
	bio_list_init(&dc->flush_waiters);
	bio_list_init(&dc->room_waiters);
	r = deltalog_pending_init(&dc->pending, GFP_KERNEL);
	if (r) {
		ti->error = "Cannot allocate the queue of index inserts";
		goto bad;
	}

	as.argc = argc;
	as.argv = argv;
	origin_path = dm_shift_arg(&as);
	delta_path = dm_shift_arg(&as);
	r = deltalog_parse_opts(dc, &as, &ti->error);
	if (r)
		goto bad;
	if (as.argc) {
		ti->error = "Too many arguments";
		r = -EINVAL;
		goto bad;
	}

	mode = dm_table_get_mode(ti->table);
	r = dm_get_device(ti, origin_path, mode, &dc->origin);
	if (r) {
		ti->error = "Error opening origin device";
		goto bad;
	}
	r = dm_get_device(ti, delta_path,
			  deltalog_is_view(dc) ? deltalog_mode_read_only(mode) : mode,
			  &dc->delta);
	if (r) {
		ti->error = "Error opening delta device";
		goto bad;
	}
	if (dc->origin->bdev == dc->delta->bdev) {
		ti->error = "Origin and delta are the same device";
		r = -EINVAL;
		goto bad;
	}

	dc->origin_sectors = bdev_nr_sectors(dc->origin->bdev);
	dc->origin_lbs = bdev_logical_block_size(dc->origin->bdev);
	dc->delta_dev_sectors = bdev_nr_sectors(dc->delta->bdev);
	dc->delta_lbs = bdev_logical_block_size(dc->delta->bdev);

	if (ti->len != dc->origin_sectors) {
		DMERR("%s: target length %llu, origin %s has %llu sectors",
		      deltalog_name(dc), (unsigned long long)ti->len, dc->origin->name,
		      (unsigned long long)dc->origin_sectors);
		ti->error = "Device length must equal origin size";
		r = -EINVAL;
		goto bad;
	}
	if (dc->origin_sectors < DLOG_MIN_ORIGIN_SECTORS) {
		ti->error = "Origin is smaller than 4 KiB";
		r = -EINVAL;
		goto bad;
	}
	if (dc->delta_lbs > dc->origin_lbs) {
		DMERR("%s: delta has %u-byte logical blocks, origin %u-byte",
		      deltalog_name(dc), dc->delta_lbs, dc->origin_lbs);
		ti->error = "Delta logical block size exceeds the origin's";
		r = -EINVAL;
		goto bad;
	}

	r = deltalog_register(dc, &ti->error);
	if (r)
		goto bad;
	if (!dc->load_deferred) {
		r = deltalog_load(dc, &ti->error);
		if (r)
			goto bad;
	}
	if (deltalog_is_view(dc) && !dc->load_deferred) {
		r = deltalog_view_settle(dc, &ti->error);
		if (r)
			goto bad;
	}

	dc->wq = alloc_workqueue("kdeltalogd/%s", WQ_MEM_RECLAIM | WQ_UNBOUND, 1,
				 deltalog_name(dc));
	if (!dc->wq) {
		ti->error = "Cannot allocate the worker";
		r = -ENOMEM;
		goto bad;
	}
	INIT_WORK(&dc->worker, deltalog_worker);
	INIT_DELAYED_WORK(&dc->commit_timer, deltalog_commit_timer);
	if (deltalog_writable(dc)) {
		r = deltalog_merge_init(dc);
		if (r) {
			ti->error = "Cannot set up merging";
			goto bad;
		}
	}

	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->discards_supported = true;
	ti->per_io_data_size = sizeof(struct deltalog_io);
	ti->private = dc;
	return 0;

bad:
	deltalog_destroy(dc);
	return r;
}

static void deltalog_dtr(struct dm_target *ti)
{
	deltalog_destroy(ti->private);
}

/*----------------------------------------------------------------
 * Suspend and resume
 *--------------------------------------------------------------*/

/*
 * Before the first write of an activation: clear clean_seq in the
 * superblock (FORMAT.md 7.4), and after a recovery that cut the log, write
 * the ROLLBACK that keeps the dropped records void (FORMAT.md 6.6).
 */
static int deltalog_start_writing(struct deltalog_c *dc)
{
	unsigned long flags;
	bool appended = true;
	int r;

	if (dc->sb.clean_seq) {
		dc->sb.clean_seq = 0;
		r = deltalog_sb_update(dc);
		if (r)
			return r;
	}
	if (!dc->log.cut)
		return 0;

	spin_lock_irqsave(&dc->lock, flags);
	appended = deltalog_journal_append_rollback(dc, dc->log.cut_to_seq);
	spin_unlock_irqrestore(&dc->lock, flags);
	if (!appended) {
		DMWARN("%s: no room in the metadata ring for the ROLLBACK after the cut: the log is full",
		       deltalog_name(dc));
		dc->full = true;
		return 0;
	}
	mutex_lock(&dc->commit_lock);
	r = deltalog_journal_commit(dc, true);
	mutex_unlock(&dc->commit_lock);
	if (!r)
		dc->log.cut = false;
	return r;
}

static int deltalog_preresume(struct dm_target *ti)
{
	struct deltalog_c *dc = ti->private;
	char *error = NULL;
	int r;

	if (dc->load_deferred) {
		r = deltalog_load(dc, &error);
		if (!r && deltalog_is_view(dc))
			r = deltalog_view_settle(dc, &error);
		if (r) {
			DMERR("%s: %s", deltalog_name(dc), error);
			return r;
		}
	}
	if (!deltalog_writable(dc) || dc->mode != DELTALOG_MODE_WRITE)
		return 0;
	r = deltalog_start_writing(dc);
	if (r)
		DMERR("%s: cannot start writing to the delta: %d", deltalog_name(dc), r);
	return r;
}

static void deltalog_resume(struct dm_target *ti)
{
	struct deltalog_c *dc = ti->private;
	unsigned long flags;

	deltalog_set_stable_writes(dc->ti);
	spin_lock_irqsave(&dc->lock, flags);
	dc->suspended = false;
	spin_unlock_irqrestore(&dc->lock, flags);
	if (deltalog_writable(dc))
		deltalog_merge_resume(dc);
}


/*
 * Every bio has completed: persist every record, flush, and record a clean
 * stop in the superblock (FORMAT.md 7.4) so that the next activation trusts
 * the whole log.
 */
static void deltalog_postsuspend(struct dm_target *ti)
{
	struct deltalog_c *dc = ti->private;
	unsigned long flags;
	int r;

	spin_lock_irqsave(&dc->lock, flags);
	dc->suspended = true;
	spin_unlock_irqrestore(&dc->lock, flags);
	if (deltalog_writable(dc))
		deltalog_merge_pause(dc);
	cancel_delayed_work_sync(&dc->commit_timer);
	flush_workqueue(dc->wq);

	if (!deltalog_writable(dc) || dc->mode != DELTALOG_MODE_WRITE)
		return;

	mutex_lock(&dc->commit_lock);
	r = deltalog_journal_commit(dc, true);
	if (!r && !dc->log.cut) {
		dc->sb.clean_seq = dc->log.newest_seq;
		dc->sb.next_seq = dc->log.next_seq;
		dc->sb.time_floor_ns = dc->log.time_floor_ns;
		r = deltalog_sb_update(dc);
	}
	mutex_unlock(&dc->commit_lock);
	if (r)
		DMERR("%s: could not persist the log at suspend: %d", deltalog_name(dc), r);
}

/*----------------------------------------------------------------
 * Status
 *--------------------------------------------------------------*/

static const char *deltalog_state_name(struct deltalog_c *dc)
{
	switch (dc->mode) {
	case DELTALOG_MODE_FAIL:
		return "failed";
	case DELTALOG_MODE_VIEW:
		return "view";
	case DELTALOG_MODE_WRITE:
		break;
	}
	if (dc->sb.flags & DLOG_SBF_MERGING)
		return "merging";
	return dc->full ? "full" : "active";
}

static unsigned int deltalog_nr_opt_args(struct deltalog_c *dc)
{
	unsigned int n = 0;

	n += deltalog_is_view(dc);
	n += dc->on_full != DELTALOG_ON_FULL_ERROR;
	n += dc->commit_ms != DELTALOG_COMMIT_MS_DEFAULT;
	n += dc->low_water != 0;
	n += dc->merge_rate != DELTALOG_MERGE_RATE_DEFAULT;
	return 2 * n;
}

/*
 * The merge fields of the status: target seq (0: none), copied/total in
 * 4 KiB blocks, and none, running, or stopped (a merge that is unfinished:
 * cancelled, failed, or interrupted by a crash, until merged again).
 */
static const char *deltalog_merge_activity(struct deltalog_c *dc, u64 *target)
{
	*target = dc->merge.target;
	if (dc->merge.phase == DELTALOG_MERGE_RUNNING)
		return "running";
	if (!*target && (dc->sb.flags & DLOG_SBF_MERGING))
		*target = dc->sb.merge_target_seq;
	return *target ? "stopped" : "none";
}

static const char *deltalog_on_full_name(enum deltalog_on_full on_full)
{
	return on_full == DELTALOG_ON_FULL_MERGE_OLDEST ? "merge_oldest" : "error";
}

/*
 * INFO: <used>/<total data blocks> <used>/<total metadata blocks>
 *       <oldest seq> <newest seq> <newest durable seq> <merged seq> <state>
 *       <index extents> <index bytes>
 *       <merge target seq> <copied>/<total merge blocks> <merge activity>
 * TABLE: the table line, with the optional arguments that differ from their
 *       defaults.
 */
static void deltalog_status(struct dm_target *ti, status_type_t type,
			    unsigned int status_flags, char *result, unsigned int maxlen)
{
	struct deltalog_c *dc = ti->private;
	u64 used_data, used_meta, extents, index_bytes, merge_target, copied, total;
	const char *state, *merge_activity;
	struct deltalog_log log;
	unsigned long flags;
	unsigned int sz = 0;

	/* The extents and bytes of the whole index, queued inserts made. */
	if (type == STATUSTYPE_INFO)
		deltalog_index_catch_up(dc);
	spin_lock_irqsave(&dc->index_lock, flags);
	extents = deltalog_index_nr_extents(&dc->index);
	index_bytes = deltalog_index_bytes(&dc->index);
	spin_unlock_irqrestore(&dc->index_lock, flags);
	spin_lock_irqsave(&dc->lock, flags);
	log = dc->log;
	used_data = DIV_ROUND_UP_ULL(dc->alloc_head - log.data_tail,
				     DELTALOG_DATA_BLOCK_SECTORS);
	if (dc->jnl.blocks)
		used_meta = dc->jnl.open_index + !!dc->jnl.open_slots - dc->sb.meta_tail;
	else
		used_meta = log.head - dc->sb.meta_tail;
	state = deltalog_state_name(dc);
	merge_activity = deltalog_merge_activity(dc, &merge_target);
	copied = DIV_ROUND_UP_ULL(dc->merge.copied, DELTALOG_DATA_BLOCK_SECTORS);
	total = DIV_ROUND_UP_ULL(dc->merge.total, DELTALOG_DATA_BLOCK_SECTORS);
	spin_unlock_irqrestore(&dc->lock, flags);

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("%llu/%llu %llu/%llu %llu %llu %llu %llu %s %llu %llu %llu %llu/%llu %s",
		       used_data, deltalog_data_blocks(dc),
		       used_meta, dc->sb.meta_blocks,
		       log.oldest_seq, log.newest_seq, log.durable_seq,
		       dc->sb.merged_seq, state, extents, index_bytes,
		       merge_target, copied, total, merge_activity);
		break;

	case STATUSTYPE_TABLE:
		DMEMIT("%s %s", dc->origin->name, dc->delta->name);
		if (!deltalog_nr_opt_args(dc))
			break;
		DMEMIT(" %u", deltalog_nr_opt_args(dc));
		if (deltalog_is_view(dc))
			DMEMIT(" view %llu", dc->view_seq);
		if (dc->on_full != DELTALOG_ON_FULL_ERROR)
			DMEMIT(" on_full %s", deltalog_on_full_name(dc->on_full));
		if (dc->commit_ms != DELTALOG_COMMIT_MS_DEFAULT)
			DMEMIT(" commit_ms %u", dc->commit_ms);
		if (dc->low_water)
			DMEMIT(" low_water %llu", dc->low_water);
		if (dc->merge_rate != DELTALOG_MERGE_RATE_DEFAULT)
			DMEMIT(" merge_rate %u", dc->merge_rate);
		break;

	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",origin_dev=%s,delta_dev=%s,delta_uuid=%pUb,view=%c",
		       dc->origin->name, dc->delta->name, dc->sb.uuid,
		       deltalog_is_view(dc) ? 'y' : 'n');
		if (deltalog_is_view(dc))
			DMEMIT(",view_seq=%llu", dc->view_seq);
		DMEMIT(",on_full=%s,commit_ms=%u,low_water=%llu,merge_rate=%u;",
		       deltalog_on_full_name(dc->on_full), dc->commit_ms, dc->low_water,
		       dc->merge_rate);
		break;
	}
}

/*----------------------------------------------------------------
 * Messages
 *--------------------------------------------------------------*/

static bool deltalog_label_valid(const char *label)
{
	size_t len = strlen(label), i;

	if (len < 1 || len > DLOG_LABEL_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = label[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != ':' && c != '-')
			return false;
	}
	return true;
}

/* mark <label> */
static int deltalog_message_mark(struct deltalog_c *dc, unsigned int argc, char **argv,
				 char *result, unsigned int maxlen)
{
	unsigned long flags;
	u64 seq = 0;
	int r = 0;

	if (argc != 2) {
		DMERR("%s: mark: usage: mark <label>", deltalog_name(dc));
		return -EINVAL;
	}
	if (!deltalog_label_valid(argv[1])) {
		DMERR("%s: mark: invalid label (1-63 characters of [A-Za-z0-9._:-])",
		      deltalog_name(dc));
		return -EINVAL;
	}
	if (!deltalog_writable(dc)) {
		DMERR("%s: mark: the device is read-only", deltalog_name(dc));
		return -EINVAL;
	}

	mutex_lock(&dc->commit_lock);
	spin_lock_irqsave(&dc->lock, flags);
	if (dc->mode == DELTALOG_MODE_FAIL) {
		r = -EIO;
	} else if (!deltalog_journal_append_mark(dc, argv[1], &seq)) {
		spin_unlock_irqrestore(&dc->lock, flags);
		deltalog_journal_commit(dc, false);	/* journal room */
		spin_lock_irqsave(&dc->lock, flags);
		if (!deltalog_journal_append_mark(dc, argv[1], &seq))
			r = -ENOSPC;
	}
	spin_unlock_irqrestore(&dc->lock, flags);
	if (!r)
		r = deltalog_journal_commit(dc, true);
	mutex_unlock(&dc->commit_lock);

	if (r == -ENOSPC)
		DMERR("%s: mark: the metadata log is full", deltalog_name(dc));
	else if (r)
		DMERR("%s: mark: the target has failed (%d)", deltalog_name(dc), r);
	if (r)
		return r;
	scnprintf(result, maxlen, "%llu", seq);
	return 1;
}

/*
 * The oldest view of dc's delta, with its seq, if one shows a state before
 * seq: a merge past it would take the history it shows. Name copied to name.
 */
static bool deltalog_view_before(struct deltalog_c *dc, u64 seq, char *name, size_t len)
{
	struct deltalog_c *other, *oldest = NULL;

	mutex_lock(&deltalog_registry_lock);
	list_for_each_entry(other, &deltalog_registry, registry) {
		if (other == dc || other->delta->bdev != dc->delta->bdev ||
		    !deltalog_is_view(other) || other->view_seq >= seq)
			continue;
		if (!oldest || other->view_seq < oldest->view_seq)
			oldest = other;
	}
	if (oldest)
		snprintf(name, len, "%s (seq %llu)", deltalog_name(oldest), oldest->view_seq);
	mutex_unlock(&deltalog_registry_lock);
	return oldest;
}

/* The seq of the oldest view of dc's delta, U64_MAX if none is open. */
u64 deltalog_oldest_view_seq(struct deltalog_c *dc)
{
	struct deltalog_c *other;
	u64 seq = U64_MAX;

	mutex_lock(&deltalog_registry_lock);
	list_for_each_entry(other, &deltalog_registry, registry) {
		if (other != dc && other->delta->bdev == dc->delta->bdev &&
		    deltalog_is_view(other))
			seq = min(seq, other->view_seq);
	}
	mutex_unlock(&deltalog_registry_lock);
	return seq;
}

/* The views of dc's delta let go of the data a merge freed. */
int deltalog_views_drop_freed(struct deltalog_c *dc, u64 from, u64 to)
{
	struct deltalog_c *other;
	int r = 0;

	mutex_lock(&deltalog_registry_lock);
	list_for_each_entry(other, &deltalog_registry, registry) {
		if (other != dc && other->delta->bdev == dc->delta->bdev &&
		    deltalog_is_view(other) && other->view_ready) {
			r = deltalog_drop_freed(other, from, to);
			if (r)
				break;
		}
	}
	mutex_unlock(&deltalog_registry_lock);
	return r;
}

/* merge <seq> | merge cancel */
static int deltalog_message_merge(struct deltalog_c *dc, unsigned int argc, char **argv)
{
	char view[64];
	u64 seq, unfinished;
	int r;

	if (argc != 2) {
		DMERR("%s: merge: usage: merge <seq>|cancel", deltalog_name(dc));
		return -EINVAL;
	}
	if (!deltalog_writable(dc)) {
		DMERR("%s: merge: the device is read-only", deltalog_name(dc));
		return -EINVAL;
	}
	if (!strcasecmp(argv[1], "cancel")) {
		if (!dc->merge.target && !(dc->sb.flags & DLOG_SBF_MERGING)) {
			DMERR("%s: merge cancel: no merge to cancel", deltalog_name(dc));
			return -EINVAL;
		}
		deltalog_merge_cancel(dc);
		return 0;
	}
	if (kstrtou64(argv[1], 10, &seq)) {
		DMERR("%s: merge: invalid sequence number: %s", deltalog_name(dc), argv[1]);
		return -EINVAL;
	}
	if (dc->mode != DELTALOG_MODE_WRITE) {
		DMERR("%s: merge: the target has failed", deltalog_name(dc));
		return -EIO;
	}
	if (seq <= dc->sb.merged_seq || seq > dc->log.newest_seq) {
		DMERR("%s: merge: seq %llu is not in the log (merged up to %llu, newest %llu)",
		      deltalog_name(dc), seq, dc->sb.merged_seq, dc->log.newest_seq);
		return -EINVAL;
	}
	unfinished = dc->sb.flags & DLOG_SBF_MERGING ? dc->sb.merge_target_seq : 0;
	if (seq < unfinished) {
		DMERR("%s: merge: a merge up to seq %llu is unfinished: merge up to at least %llu",
		      deltalog_name(dc), unfinished, unfinished);
		return -EINVAL;
	}
	if (deltalog_view_before(dc, seq, view, sizeof(view))) {
		DMERR("%s: merge: view %s shows history before seq %llu: remove it first",
		      deltalog_name(dc), view, seq);
		return -EBUSY;
	}
	r = deltalog_merge_start(dc, seq);
	if (r == -EBUSY)
		DMERR("%s: merge: a merge up to seq %llu is running: wait for it or cancel it",
		      deltalog_name(dc), dc->merge.target);
	return r;
}

static int deltalog_message(struct dm_target *ti, unsigned int argc, char **argv,
			    char *result, unsigned int maxlen)
{
	struct deltalog_c *dc = ti->private;

	if (!argc) {
		DMERR("%s: empty message", deltalog_name(dc));
		return -EINVAL;
	}
	if (!strcasecmp(argv[0], "mark"))
		return deltalog_message_mark(dc, argc, argv, result, maxlen);
	if (!strcasecmp(argv[0], "merge"))
		return deltalog_message_merge(dc, argc, argv);

	DMERR("%s: unknown message: %s", deltalog_name(dc), argv[0]);
	return -EINVAL;
}

/*----------------------------------------------------------------
 * Devices and limits
 *--------------------------------------------------------------*/

static int deltalog_iterate_devices(struct dm_target *ti,
				    iterate_devices_callout_fn fn, void *data)
{
	struct deltalog_c *dc = ti->private;
	int r;

	r = fn(ti, dc->origin, 0, ti->len, data);
	if (!r)
		r = fn(ti, dc->delta, dc->sb.data_start, dc->sb.data_sectors, data);
	return r;
}

/*
 * The stacked device keeps the origin's logical block size, so a filesystem
 * made on the origin mounts on it. (The delta's is never larger: checked by
 * the constructor.)
 */
static void deltalog_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct deltalog_c *dc = ti->private;

	limits->logical_block_size = dc->origin_lbs;
	limits->physical_block_size = max(limits->physical_block_size, dc->origin_lbs);
	limits->io_min = max(limits->io_min, dc->origin_lbs);

	/* A discard is one ZERO record, whatever the devices below can do. */
	limits->discard_granularity = dc->origin_lbs;
	deltalog_set_discard_limits(limits, DELTALOG_MAX_ZERO_SECTORS);
	deltalog_hint_stable_writes(limits);
}

/*----------------------------------------------------------------
 * Module
 *--------------------------------------------------------------*/

static struct target_type deltalog_target = {
	.name = "deltalog",
	.version = {0, 3, 0},
	.module = THIS_MODULE,
	.ctr = deltalog_ctr,
	.dtr = deltalog_dtr,
	.map = deltalog_map,
	.end_io = deltalog_end_io,
	.preresume = deltalog_preresume,
	.resume = deltalog_resume,
	.postsuspend = deltalog_postsuspend,
	.status = deltalog_status,
	.message = deltalog_message,
	.iterate_devices = deltalog_iterate_devices,
	.io_hints = deltalog_io_hints,
};

static int __init deltalog_init(void)
{
	int r;

	r = deltalog_index_init();
	if (r)
		return r;

	r = dm_register_target(&deltalog_target);
	if (r < 0) {
		DMERR("register failed %d", r);
		deltalog_index_exit();
	}
	return r;
}

static void __exit deltalog_exit(void)
{
	dm_unregister_target(&deltalog_target);
	deltalog_index_exit();
}

module_init(deltalog_init);
module_exit(deltalog_exit);

MODULE_DESCRIPTION(DM_NAME " write-logging target with rollback, merge and views");
MODULE_AUTHOR("dm-deltalog developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(DELTALOG_VERSION_STRING);
