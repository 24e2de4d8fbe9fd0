/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * dm-deltalog on-disk format, shared by the kernel target and userspace.
 *
 * docs/FORMAT.md is the specification; this header is its exact transcription.
 * Everything here is fixed-width little-endian, with no pointers, enums,
 * bitfields or bools, so that the kernel (<linux/types.h> from the kernel tree)
 * and userspace (<linux/types.h> from linux-libc-dev) compile the same layout.
 * Conversion to host order happens at each side's pack/unpack boundary.
 *
 * Delta device layout (sectors are 512 bytes):
 *
 *   0        8        16                     data_start           delta end
 *   +--------+--------+----------------------+---------------------+
 *   | sb A   | sb B   | metadata ring        | data ring           |
 *   | 4 KiB  | 4 KiB  | meta_blocks blocks   | data_sectors        |
 *   +--------+--------+----------------------+---------------------+
 *
 * The superblock is kept twice; an update overwrites the copy that is not
 * current, so a torn update leaves the other one valid. The metadata ring is a
 * hash-chained sequence of record blocks; the data ring holds the payload of
 * WRITE records, addressed by a 64-bit position that only grows.
 */
#ifndef DELTALOG_FORMAT_H
#define DELTALOG_FORMAT_H

#include <linux/types.h>

#if defined(__KERNEL__)
#include <linux/build_bug.h>
#define DLOG_STATIC_ASSERT(e) static_assert(e, #e)
#elif defined(__cplusplus)
#define DLOG_STATIC_ASSERT(e) static_assert(e, #e)
#else
#define DLOG_STATIC_ASSERT(e) _Static_assert(e, #e)
#endif

#define DLOG_SECTOR_SHIFT		9
#define DLOG_SECTOR_SIZE		512u

/* Format version: readers refuse any other value. */
#define DLOG_VERSION			2u

/* ---- Superblock ------------------------------------------------------ */

#define DLOG_SB_MAGIC			0x424c4c44u	/* "DLLB" */
#define DLOG_SB_SIZE			4096u
#define DLOG_SB_SECTORS			(DLOG_SB_SIZE >> DLOG_SECTOR_SHIFT)
#define DLOG_SB_COPIES			2u
#define DLOG_META_START			(DLOG_SB_COPIES * DLOG_SB_SECTORS)

/* Superblock flags. */
#define DLOG_SBF_MERGING		(1u << 0)	/* merge_target_seq is set */
#define DLOG_SBF_MERGE_SAMPLES		(1u << 1)	/* merge_samples are set (with MERGING) */
#define DLOG_SBF_ALL			(DLOG_SBF_MERGING | DLOG_SBF_MERGE_SAMPLES)

/* Origin fingerprint: CRC-32C of DLOG_FP_SAMPLES blocks of DLOG_FP_SAMPLE_SIZE. */
#define DLOG_FP_SAMPLES			16u
#define DLOG_FP_SAMPLE_SIZE		4096u
#define DLOG_FP_SAMPLE_SECTORS		(DLOG_FP_SAMPLE_SIZE >> DLOG_SECTOR_SHIFT)
/* The sectors of all samples, each checksummed on its own during a merge. */
#define DLOG_FP_SECTORS			(DLOG_FP_SAMPLES * DLOG_FP_SAMPLE_SECTORS)

#define DLOG_FS_UUID_LEN		40u	/* blkid's UUID string, NUL padded */

struct dlog_superblock {
	__le32 csum;		/* CRC-32C of bytes 4..4095 */
	__le32 magic;		/* DLOG_SB_MAGIC */
	__le64 blocknr;		/* 0 for copy A, 1 for copy B */
	__le32 version;		/* DLOG_VERSION */
	__le32 flags;		/* DLOG_SBF_* */
	__le64 generation;	/* +1 on every update; highest valid copy wins */
	__u8 uuid[16];		/* this log's identity; seeds block checksums */
	__le64 format_time_ns;	/* CLOCK_REALTIME at format */

	/* Geometry (sectors), fixed at format. */
	__le64 delta_sectors;	/* size of the delta device at format */
	__le32 meta_block_size;	/* bytes: 512..4096, power of two */
	__le32 reserved0;
	__le64 meta_start;	/* first sector of the metadata ring */
	__le64 meta_blocks;	/* number of blocks in the metadata ring */
	__le64 data_start;	/* first sector of the data ring, 4 KiB aligned */
	__le64 data_sectors;	/* size of the data ring, multiple of 8 */

	/* Origin identity. */
	__le64 origin_sectors;	/* origin size; must match at activation */
	__le32 origin_lbs;	/* origin logical block size in bytes */
	__le32 origin_fingerprint; /* see DLOG_FP_*; refreshed by merges */
	char origin_fs_uuid[DLOG_FS_UUID_LEN]; /* blkid UUID, "" if none */

	/* Log state, written at checkpoints (activation, merge, clean stop). */
	__le64 next_seq;	/* floor for the next sequence number */
	__le64 merged_seq;	/* every record <= this is in the origin */
	__le64 meta_tail;	/* ring index of the oldest live metadata block */
	__le64 time_floor_ns;	/* floor for the next record time */
	__le64 clean_seq;	/* newest seq at a clean stop, 0 while active */
	__le64 merge_target_seq; /* merge in progress up to this, if MERGING */

	/*
	 * With MERGE_SAMPLES: CRC-32C of each sector of the fingerprint
	 * samples, [0] as the origin was when the merge began, [1] as the
	 * merge leaves it: during a merge, every sector must be one or the
	 * other (FORMAT.md 3.1).
	 */
	__le32 merge_samples[2][DLOG_FP_SECTORS];

	__u8 padding[2864];
} __attribute__((packed));

DLOG_STATIC_ASSERT(sizeof(struct dlog_superblock) == DLOG_SB_SIZE);

/* ---- Metadata blocks and records ------------------------------------- */

#define DLOG_MB_MAGIC			0x424d4c44u	/* "DLMB" */
#define DLOG_MIN_META_BLOCK		512u
#define DLOG_MAX_META_BLOCK		4096u

struct dlog_meta_header {
	__le32 csum;		/* CRC-32C of uuid || bytes 4..block end */
	__le32 magic;		/* DLOG_MB_MAGIC */
	__le64 index;		/* ring index: slot = index % meta_blocks */
	__le32 prev_csum;	/* csum of block index - 1 (chain) */
	__le16 nr_slots;	/* record slots used, >= 1 */
	__le16 flags;		/* none defined, zero */
	__le64 durable_seq;	/* every record <= this has durable data */
} __attribute__((packed));

DLOG_STATIC_ASSERT(sizeof(struct dlog_meta_header) == 32);

/* Record kinds. */
#define DLOG_REC_WRITE			1u	/* data in the data ring */
#define DLOG_REC_ZERO			2u	/* range reads as zeros */
#define DLOG_REC_MARK			3u	/* label, takes two slots */
#define DLOG_REC_ROLLBACK		4u	/* voids records of previous block */

/* Record flags. */
#define DLOG_RF_DATA_CSUM		(1u << 0) /* WRITE: data_csum is valid */
#define DLOG_RF_DISCARD			(1u << 1) /* ZERO: came from a discard */

#define DLOG_SLOT_SIZE			48u

/* WRITE and ZERO. */
struct dlog_io_record {
	__le64 seq;		/* strictly increasing along the log */
	__le64 time_ns;		/* CLOCK_REALTIME, non-decreasing along the log */
	__le16 kind;		/* DLOG_REC_WRITE or DLOG_REC_ZERO */
	__le16 flags;		/* DLOG_RF_* */
	__le32 nr_sectors;	/* extent length, >= 1 */
	__le64 origin_sector;	/* extent start on the origin */
	__le64 data_pos;	/* WRITE: data ring position; ZERO: 0 */
	__le32 data_csum;	/* WRITE with DATA_CSUM: XXH64 of the data, low 32 bits */
	__le32 reserved;	/* zero */
} __attribute__((packed));

DLOG_STATIC_ASSERT(sizeof(struct dlog_io_record) == DLOG_SLOT_SIZE);

#define DLOG_LABEL_MAX			63u
#define DLOG_MARK_SLOTS			2u

struct dlog_mark_record {
	__le64 seq;
	__le64 time_ns;
	__le16 kind;		/* DLOG_REC_MARK */
	__le16 flags;		/* zero */
	__le32 label_len;	/* 1..DLOG_LABEL_MAX */
	char label[64];		/* [A-Za-z0-9._:-], NUL padded */
	__u8 reserved[8];	/* zero */
} __attribute__((packed));

DLOG_STATIC_ASSERT(sizeof(struct dlog_mark_record) == DLOG_MARK_SLOTS * DLOG_SLOT_SIZE);

struct dlog_rollback_record {
	__le64 seq;
	__le64 time_ns;
	__le16 kind;		/* DLOG_REC_ROLLBACK */
	__le16 flags;		/* zero */
	__le32 reserved0;	/* zero */
	__le64 to_seq;		/* records with to_seq < seq < this seq are void */
	__u8 reserved[16];	/* zero */
} __attribute__((packed));

DLOG_STATIC_ASSERT(sizeof(struct dlog_rollback_record) == DLOG_SLOT_SIZE);

/* Common prefix of every record: enough to know its kind and size. */
struct dlog_record_head {
	__le64 seq;
	__le64 time_ns;
	__le16 kind;
	__le16 flags;
} __attribute__((packed));

/* ---- Shared arithmetic ----------------------------------------------- */

static inline __u32 dlog_slots_per_block(__u32 meta_block_size)
{
	return (meta_block_size - (__u32)sizeof(struct dlog_meta_header)) /
	       DLOG_SLOT_SIZE;
}

static inline __u32 dlog_record_slots(__u16 kind)
{
	return kind == DLOG_REC_MARK ? DLOG_MARK_SLOTS : 1u;
}

/* Sector on the origin of fingerprint sample i (0 <= i < DLOG_FP_SAMPLES). */
static inline __u64 dlog_fp_sample_sector(__u64 origin_sectors, __u32 i)
{
	__u64 last = origin_sectors - DLOG_FP_SAMPLE_SECTORS;

	return (last * i / (DLOG_FP_SAMPLES - 1)) & ~(__u64)(DLOG_FP_SAMPLE_SECTORS - 1);
}

/* Smallest data ring, and a delta size below which no layout can have one. */
#define DLOG_MIN_DATA_SECTORS		2048u
#define DLOG_MIN_DELTA_SECTORS		(DLOG_META_START + DLOG_MIN_DATA_SECTORS)
/* Smallest origin: one fingerprint sample. */
#define DLOG_MIN_ORIGIN_SECTORS		DLOG_FP_SAMPLE_SECTORS

/*
 * Default layout of a delta of delta_sectors: the metadata ring takes 1/32 of
 * the device (enough for a data ring full of 1.5 KiB writes), at least 8
 * blocks; the data ring starts 4 KiB aligned and is a multiple of 4 KiB.
 * Returns 0, or -1 if the delta is too small.
 */
struct dlog_layout {
	__u64 meta_start;
	__u64 meta_blocks;
	__u64 data_start;
	__u64 data_sectors;
};

static inline int dlog_default_layout(__u64 delta_sectors, __u32 meta_block_size,
				      struct dlog_layout *l)
{
	__u64 block_sectors = meta_block_size >> DLOG_SECTOR_SHIFT;
	__u64 meta_sectors;

	if (delta_sectors < DLOG_MIN_DELTA_SECTORS || block_sectors == 0)
		return -1;
	meta_sectors = delta_sectors / 32;
	if (meta_sectors < 8 * block_sectors)
		meta_sectors = 8 * block_sectors;
	l->meta_start = DLOG_META_START;
	l->meta_blocks = meta_sectors / block_sectors;
	l->data_start = (l->meta_start + l->meta_blocks * block_sectors + 7) & ~7ull;
	if (l->data_start + 8 > delta_sectors)
		return -1;
	l->data_sectors = (delta_sectors - l->data_start) & ~7ull;
	return l->data_sectors < DLOG_MIN_DATA_SECTORS ? -1 : 0;
}

#endif /* DELTALOG_FORMAT_H */
