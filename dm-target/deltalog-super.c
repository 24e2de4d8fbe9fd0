// SPDX-License-Identifier: GPL-2.0
/*
 * dm-deltalog: the superblock (docs/FORMAT.md section 3).
 *
 * Two copies, A at sector 0 and B at sector 8; the valid copy with the highest
 * generation is the current one. A delta whose copy A is all zeros and whose
 * copy B is not valid is unformatted and is formatted here. The origin's
 * identity (size, logical block size, fingerprint of sampled blocks) is
 * checked at every activation.
 */
#include <linux/crc32c.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uuid.h>

#include "deltalog.h"

#define DELTALOG_SB_OPF_READ	(REQ_OP_READ | REQ_META | REQ_SYNC)
#define DELTALOG_SB_OPF_WRITE	(REQ_OP_WRITE | REQ_META | REQ_SYNC | REQ_FUA)

/* CRC-32C as FORMAT.md defines it. */
u32 deltalog_crc32c(const void *buf, size_t len)
{
	return ~crc32c(~0u, buf, len);
}

static u32 deltalog_sb_csum(const struct dlog_superblock *d)
{
	return deltalog_crc32c((const u8 *)d + sizeof(d->csum),
			       DLOG_SB_SIZE - sizeof(d->csum));
}

static void deltalog_sb_unpack(const struct dlog_superblock *d, struct deltalog_sb *sb)
{
	unsigned int i;

	sb->flags = le32_to_cpu(d->flags);
	sb->generation = le64_to_cpu(d->generation);
	memcpy(sb->uuid, d->uuid, sizeof(sb->uuid));
	sb->format_time_ns = le64_to_cpu(d->format_time_ns);

	sb->delta_sectors = le64_to_cpu(d->delta_sectors);
	sb->meta_block_size = le32_to_cpu(d->meta_block_size);
	sb->meta_start = le64_to_cpu(d->meta_start);
	sb->meta_blocks = le64_to_cpu(d->meta_blocks);
	sb->data_start = le64_to_cpu(d->data_start);
	sb->data_sectors = le64_to_cpu(d->data_sectors);

	sb->origin_sectors = le64_to_cpu(d->origin_sectors);
	sb->origin_lbs = le32_to_cpu(d->origin_lbs);
	sb->origin_fingerprint = le32_to_cpu(d->origin_fingerprint);
	memcpy(sb->origin_fs_uuid, d->origin_fs_uuid, sizeof(sb->origin_fs_uuid));

	sb->next_seq = le64_to_cpu(d->next_seq);
	sb->merged_seq = le64_to_cpu(d->merged_seq);
	sb->meta_tail = le64_to_cpu(d->meta_tail);
	sb->time_floor_ns = le64_to_cpu(d->time_floor_ns);
	sb->clean_seq = le64_to_cpu(d->clean_seq);
	sb->merge_target_seq = le64_to_cpu(d->merge_target_seq);
	for (i = 0; i < DLOG_FP_SECTORS; i++) {
		sb->merge_samples[0][i] = le32_to_cpu(d->merge_samples[0][i]);
		sb->merge_samples[1][i] = le32_to_cpu(d->merge_samples[1][i]);
	}
}

/* Fill d (DLOG_SB_SIZE bytes) as copy blocknr of sb, checksum included. */
static void deltalog_sb_pack(const struct deltalog_sb *sb, u64 blocknr,
			     struct dlog_superblock *d)
{
	unsigned int i;

	memset(d, 0, sizeof(*d));
	d->magic = cpu_to_le32(DLOG_SB_MAGIC);
	d->blocknr = cpu_to_le64(blocknr);
	d->version = cpu_to_le32(DLOG_VERSION);
	d->flags = cpu_to_le32(sb->flags);
	d->generation = cpu_to_le64(sb->generation);
	memcpy(d->uuid, sb->uuid, sizeof(d->uuid));
	d->format_time_ns = cpu_to_le64(sb->format_time_ns);

	d->delta_sectors = cpu_to_le64(sb->delta_sectors);
	d->meta_block_size = cpu_to_le32(sb->meta_block_size);
	d->meta_start = cpu_to_le64(sb->meta_start);
	d->meta_blocks = cpu_to_le64(sb->meta_blocks);
	d->data_start = cpu_to_le64(sb->data_start);
	d->data_sectors = cpu_to_le64(sb->data_sectors);

	d->origin_sectors = cpu_to_le64(sb->origin_sectors);
	d->origin_lbs = cpu_to_le32(sb->origin_lbs);
	d->origin_fingerprint = cpu_to_le32(sb->origin_fingerprint);
	memcpy(d->origin_fs_uuid, sb->origin_fs_uuid, sizeof(d->origin_fs_uuid));

	d->next_seq = cpu_to_le64(sb->next_seq);
	d->merged_seq = cpu_to_le64(sb->merged_seq);
	d->meta_tail = cpu_to_le64(sb->meta_tail);
	d->time_floor_ns = cpu_to_le64(sb->time_floor_ns);
	d->clean_seq = cpu_to_le64(sb->clean_seq);
	d->merge_target_seq = cpu_to_le64(sb->merge_target_seq);
	for (i = 0; i < DLOG_FP_SECTORS && (sb->flags & DLOG_SBF_MERGE_SAMPLES); i++) {
		d->merge_samples[0][i] = cpu_to_le32(sb->merge_samples[0][i]);
		d->merge_samples[1][i] = cpu_to_le32(sb->merge_samples[1][i]);
	}

	d->csum = cpu_to_le32(deltalog_sb_csum(d));
}

/*
 * Validity of one copy (FORMAT.md section 3). Returns NULL if it is valid,
 * else why not, worded for ti->error.
 */
static const char *deltalog_sb_check(const struct dlog_superblock *d, u64 blocknr)
{
	u64 delta = le64_to_cpu(d->delta_sectors);
	u64 meta_start = le64_to_cpu(d->meta_start);
	u64 meta_blocks = le64_to_cpu(d->meta_blocks);
	u64 data_start = le64_to_cpu(d->data_start);
	u64 data_sectors = le64_to_cpu(d->data_sectors);
	u64 merged_seq = le64_to_cpu(d->merged_seq);
	u64 merge_target = le64_to_cpu(d->merge_target_seq);
	u32 mbs = le32_to_cpu(d->meta_block_size);
	u32 flags = le32_to_cpu(d->flags);
	u32 lbs = le32_to_cpu(d->origin_lbs);
	u64 meta_end, data_end;

	if (le32_to_cpu(d->magic) != DLOG_SB_MAGIC)
		return "Bad superblock magic (not a deltalog delta)";
	if (le32_to_cpu(d->csum) != deltalog_sb_csum(d))
		return "Superblock checksum mismatch";
	if (le64_to_cpu(d->blocknr) != blocknr)
		return "Superblock in the wrong place (blocknr mismatch)";
	if (le32_to_cpu(d->version) != DLOG_VERSION)
		return "Unsupported delta format version";
	if (flags & ~DLOG_SBF_ALL)
		return "Superblock has unknown flags";
	if ((flags & DLOG_SBF_MERGE_SAMPLES) && !(flags & DLOG_SBF_MERGING))
		return "Superblock has merge samples without a merge";

	if (mbs < DLOG_MIN_META_BLOCK || mbs > DLOG_MAX_META_BLOCK ||
	    !is_power_of_2(mbs))
		return "Invalid metadata block size in superblock";
	if (meta_start < DLOG_META_START)
		return "Metadata ring overlaps the superblocks";
	if (meta_blocks < 8)
		return "Metadata ring has fewer than 8 blocks";
	if (data_start % DLOG_FP_SAMPLE_SECTORS || data_sectors % DLOG_FP_SAMPLE_SECTORS)
		return "Data ring not 4 KiB aligned";
	if (data_sectors < DLOG_MIN_DATA_SECTORS)
		return "Data ring smaller than 1 MiB";
	if (data_start < DLOG_META_START)
		return "Data ring overlaps the superblocks";
	if (meta_start > delta ||
	    meta_blocks > (delta - meta_start) / (mbs >> DLOG_SECTOR_SHIFT))
		return "Metadata ring exceeds the delta";
	if (data_start > delta || data_sectors > delta - data_start)
		return "Data ring exceeds the delta";
	meta_end = meta_start + meta_blocks * (mbs >> DLOG_SECTOR_SHIFT);
	data_end = data_start + data_sectors;
	if (data_start < meta_end && meta_start < data_end)
		return "Metadata and data rings overlap";

	if (le64_to_cpu(d->origin_sectors) < DLOG_MIN_ORIGIN_SECTORS)
		return "Origin size in superblock below 4 KiB";
	if (lbs != 512 && lbs != 4096)
		return "Invalid origin logical block size in superblock";
	if (le64_to_cpu(d->meta_tail) >= DELTALOG_U63 || le64_to_cpu(d->next_seq) > DELTALOG_U63)
		return "Superblock meta_tail or next_seq beyond 2^63";
	if (le64_to_cpu(d->next_seq) <= merged_seq)
		return "Superblock next_seq not above merged_seq";
	if (!!(flags & DLOG_SBF_MERGING) != !!merge_target)
		return "Superblock MERGING flag and merge_target_seq disagree";
	if (merge_target && merge_target <= merged_seq)
		return "Superblock merge target not above merged_seq";

	return NULL;
}

/* The origin's 16 sample blocks (FORMAT.md 3.1), one after the other, into buf. */
int deltalog_read_samples(struct deltalog_c *dc, u8 *buf)
{
	u32 i;
	int r = 0;

	for (i = 0; i < DLOG_FP_SAMPLES && !r; i++)
		r = deltalog_sync_io(dc->origin->bdev, dlog_fp_sample_sector(dc->origin_sectors, i),
				     buf + i * DLOG_FP_SAMPLE_SIZE, DLOG_FP_SAMPLE_SIZE,
				     REQ_OP_READ | REQ_SYNC);
	return r;
}

/* CRC-32C of the origin's 16 sample blocks (FORMAT.md 3.1). */
int deltalog_origin_fingerprint(struct deltalog_c *dc, u32 *fp)
{
	u8 *buf;
	int r;

	buf = kvmalloc(DLOG_FP_SAMPLES * DLOG_FP_SAMPLE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	r = deltalog_read_samples(dc, buf);
	if (!r)
		*fp = deltalog_crc32c(buf, DLOG_FP_SAMPLES * DLOG_FP_SAMPLE_SIZE);
	kvfree(buf);
	return r;
}

/*
 * During a merge: every sample sector is as it was when the merge began or
 * as the merge leaves it (FORMAT.md 3.1). Returns the first that is
 * neither, or -1.
 */
static int deltalog_check_merge_samples(struct deltalog_c *dc, int *err)
{
	u8 *buf;
	int i, bad = -1;

	buf = kvmalloc(DLOG_FP_SAMPLES * DLOG_FP_SAMPLE_SIZE, GFP_KERNEL);
	*err = buf ? deltalog_read_samples(dc, buf) : -ENOMEM;
	for (i = 0; !*err && i < DLOG_FP_SECTORS; i++) {
		u32 c = deltalog_crc32c(buf + i * SECTOR_SIZE, SECTOR_SIZE);

		if (c != dc->sb.merge_samples[0][i] && c != dc->sb.merge_samples[1][i]) {
			bad = i;
			break;
		}
	}
	kvfree(buf);
	return bad;
}

/* Write copy blocknr (0 A, 1 B) of sb, durably. */
static int deltalog_sb_write(struct deltalog_c *dc, const struct deltalog_sb *sb,
			     u64 blocknr, struct dlog_superblock *buf)
{
	deltalog_sb_pack(sb, blocknr, buf);
	return deltalog_sync_io(dc->delta->bdev, blocknr * DLOG_SB_SECTORS, buf,
				DLOG_SB_SIZE, DELTALOG_SB_OPF_WRITE);
}

/*
 * Write dc->sb over the copy that is not current, with the next generation,
 * and make it the current one (FORMAT.md 3: a torn write leaves the other).
 * REQ_FUA makes it durable; callers flush first what it must come after.
 */
int deltalog_sb_update(struct deltalog_c *dc)
{
	struct dlog_superblock *buf;
	unsigned int copy = !dc->sb_copy;
	int r;

	buf = kmalloc(DLOG_SB_SIZE, GFP_NOIO);
	if (!buf)
		return -ENOMEM;
	dc->sb.generation++;
	r = deltalog_sb_write(dc, &dc->sb, copy, buf);
	kfree(buf);
	if (r) {
		dc->sb.generation--;
		DMERR("%s: delta %s: cannot write superblock copy %c: %d",
		      deltalog_name(dc), dc->delta->name, copy ? 'B' : 'A', r);
		return r;
	}
	dc->sb_copy = copy;
	return 0;
}

/*
 * Format an unformatted delta: the default layout, a fresh uuid, the origin's
 * identity, an empty log. Copy A is written with generation 1 and then copy B
 * with generation 2, each with FUA.
 */
static int deltalog_sb_format(struct deltalog_c *dc, struct dlog_superblock *buf,
			      char **error)
{
	struct deltalog_sb *sb = &dc->sb;
	struct dlog_layout layout;
	unsigned int mbs;
	int r;

	mbs = max(bdev_logical_block_size(dc->delta->bdev),
		  bdev_physical_block_size(dc->delta->bdev));
	mbs = clamp_t(unsigned int, mbs, DLOG_MIN_META_BLOCK, DLOG_MAX_META_BLOCK);

	if (dlog_default_layout(dc->delta_dev_sectors, mbs, &layout)) {
		DMERR("%s: delta of %llu sectors is too small to format (at least %u)",
		      deltalog_name(dc), (unsigned long long)dc->delta_dev_sectors,
		      DLOG_MIN_DELTA_SECTORS);
		*error = "Delta too small to format";
		return -EINVAL;
	}

	memset(sb, 0, sizeof(*sb));
	generate_random_uuid(sb->uuid);
	sb->format_time_ns = ktime_get_real_ns();
	sb->delta_sectors = dc->delta_dev_sectors;
	sb->meta_block_size = mbs;
	sb->meta_start = layout.meta_start;
	sb->meta_blocks = layout.meta_blocks;
	sb->data_start = layout.data_start;
	sb->data_sectors = layout.data_sectors;
	sb->origin_sectors = dc->origin_sectors;
	sb->origin_lbs = dc->origin_lbs;
	sb->next_seq = 1;
	sb->time_floor_ns = sb->format_time_ns;

	r = deltalog_origin_fingerprint(dc, &sb->origin_fingerprint);
	if (r) {
		*error = "Cannot read the origin to fingerprint it";
		return r;
	}

	sb->generation = 1;
	r = deltalog_sb_write(dc, sb, 0, buf);
	if (!r) {
		sb->generation = 2;
		r = deltalog_sb_write(dc, sb, 1, buf);
	}
	if (r) {
		*error = "Cannot write the superblock while formatting the delta";
		return r;
	}
	dc->sb_copy = 1;
	dc->formatted = true;

	DMINFO("%s: formatted delta %s: uuid %pUb, metadata %llu blocks of %u bytes at sector %llu, data %llu sectors at sector %llu, origin %llu sectors lbs %u fingerprint %08x",
	       deltalog_name(dc), dc->delta->name, sb->uuid,
	       sb->meta_blocks, sb->meta_block_size, sb->meta_start,
	       sb->data_sectors, sb->data_start,
	       sb->origin_sectors, sb->origin_lbs, sb->origin_fingerprint);
	return 0;
}

/*
 * Read both copies of the superblock and choose one, or format the delta if
 * it is unformatted (copy A all zeros, copy B not valid).
 */
int deltalog_sb_load(struct deltalog_c *dc, char **error)
{
	struct dlog_superblock *copies;
	const char *why_a, *why_b;
	u64 gen_a, gen_b;
	int r;

	BUILD_BUG_ON(sizeof(struct dlog_superblock) != DLOG_SB_SIZE);

	copies = kmalloc_array(DLOG_SB_COPIES, DLOG_SB_SIZE, GFP_KERNEL);
	if (!copies) {
		*error = "Cannot allocate superblock buffer";
		return -ENOMEM;
	}

	r = deltalog_sync_io(dc->delta->bdev, 0, copies, DLOG_SB_COPIES * DLOG_SB_SIZE,
			     DELTALOG_SB_OPF_READ);
	if (r) {
		*error = "Cannot read the delta's superblock";
		goto out;
	}

	why_a = deltalog_sb_check(&copies[0], 0);
	why_b = deltalog_sb_check(&copies[1], 1);

	if (why_a && !memchr_inv(&copies[0], 0, DLOG_SB_SIZE)) {
		if (!why_b) {
			*error = "First superblock zeroed but second valid; refusing to format";
			r = -EINVAL;
			goto out;
		}
		if (deltalog_is_view(dc)) {
			*error = "Delta is not formatted (a view cannot format it)";
			r = -EINVAL;
			goto out;
		}
		if (!deltalog_mode_writable(dm_table_get_mode(dc->ti->table))) {
			*error = "Delta is not formatted and the table is read-only";
			r = -EINVAL;
			goto out;
		}
		r = deltalog_sb_format(dc, &copies[0], error);
		goto out;
	}

	if (why_a && why_b) {
		DMERR("%s: delta %s: superblock copy A: %s", deltalog_name(dc),
		      dc->delta->name, why_a);
		DMERR("%s: delta %s: superblock copy B: %s", deltalog_name(dc),
		      dc->delta->name, why_b);
		*error = (char *)why_a;
		r = -EINVAL;
		goto out;
	}

	gen_a = le64_to_cpu(copies[0].generation);
	gen_b = le64_to_cpu(copies[1].generation);
	dc->sb_copy = (why_a || (!why_b && gen_b > gen_a)) ? 1 : 0;
	if (why_a || why_b)
		DMWARN("%s: delta %s: superblock copy %c ignored: %s", deltalog_name(dc),
		       dc->delta->name, why_a ? 'A' : 'B', why_a ? why_a : why_b);
	deltalog_sb_unpack(&copies[dc->sb_copy], &dc->sb);
	r = 0;
out:
	kfree(copies);
	return r;
}

/*
 * The delta must belong to this origin (FORMAT.md 3.1) and fit the devices
 * as they are now.
 */
int deltalog_check_origin(struct deltalog_c *dc, char **error)
{
	struct deltalog_sb *sb = &dc->sb;
	u32 fp;
	int r;

	if (sb->origin_sectors != dc->origin_sectors) {
		DMERR("%s: Delta belongs to an origin of %llu sectors, this one has %llu",
		      deltalog_name(dc), sb->origin_sectors,
		      (unsigned long long)dc->origin_sectors);
		*error = "Delta belongs to an origin of another size";
		return -EINVAL;
	}
	if (sb->origin_lbs != dc->origin_lbs) {
		DMERR("%s: Delta belongs to an origin with %u-byte logical blocks, this one has %u",
		      deltalog_name(dc), sb->origin_lbs, dc->origin_lbs);
		*error = "Origin logical block size differs from the delta's";
		return -EINVAL;
	}
	if (dc->delta_dev_sectors < sb->delta_sectors) {
		DMERR("%s: Delta has %llu sectors, it was formatted with %llu",
		      deltalog_name(dc), (unsigned long long)dc->delta_dev_sectors,
		      sb->delta_sectors);
		*error = "Delta is smaller than when it was formatted";
		return -EINVAL;
	}
	if (dc->delta_lbs > sb->meta_block_size) {
		DMERR("%s: Delta has %u-byte logical blocks, its metadata blocks are %u bytes",
		      deltalog_name(dc), dc->delta_lbs, sb->meta_block_size);
		*error = "Delta logical block size exceeds its metadata block size";
		return -EINVAL;
	}

	if (dc->formatted)
		return 0;
	if ((sb->flags & DLOG_SBF_MERGING) && !(sb->flags & DLOG_SBF_MERGE_SAMPLES)) {
		DMWARN("%s: a merge up to seq %llu was interrupted; origin fingerprint not checked",
		       deltalog_name(dc), sb->merge_target_seq);
		return 0;
	}
	if (sb->flags & DLOG_SBF_MERGING) {
		int bad = deltalog_check_merge_samples(dc, &r);

		if (r) {
			*error = "Cannot read the origin to check its fingerprint";
			return r;
		}
		if (bad >= 0) {
			DMERR("%s: origin sector %llu is neither as it was before the interrupted merge up to seq %llu nor as the merge writes it",
			      deltalog_name(dc),
			      (unsigned long long)(dlog_fp_sample_sector(dc->origin_sectors,
									 bad / DLOG_FP_SAMPLE_SECTORS) +
						   bad % DLOG_FP_SAMPLE_SECTORS),
			      sb->merge_target_seq);
			*error = "Delta belongs to another origin (fingerprint mismatch)";
			return -EINVAL;
		}
		return 0;
	}

	r = deltalog_origin_fingerprint(dc, &fp);
	if (r) {
		*error = "Cannot read the origin to check its fingerprint";
		return r;
	}
	if (fp != sb->origin_fingerprint) {
		DMERR("%s: origin fingerprint %08x, the delta was made for %08x",
		      deltalog_name(dc), fp, sb->origin_fingerprint);
		*error = "Delta belongs to another origin (fingerprint mismatch)";
		return -EINVAL;
	}
	return 0;
}
