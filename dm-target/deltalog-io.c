// SPDX-License-Identifier: GPL-2.0
/*
 * dm-deltalog: synchronous I/O for the constructor (superblock, fingerprint,
 * recovery scan). Buffers may come from kmalloc or vmalloc; every bio is at
 * most BIO_MAX_VECS pages and the caller's sector and length keep the
 * device's alignment.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/mm.h>

#include "deltalog.h"

static struct page *deltalog_buf_page(void *p)
{
	return is_vmalloc_addr(p) ? vmalloc_to_page(p) : virt_to_page(p);
}

/*
 * Read or write len bytes at sector of bdev from or to buf; opf is the whole
 * operation (REQ_OP_READ, or REQ_OP_WRITE | REQ_FUA ...). Sleeps.
 */
int deltalog_sync_io(struct block_device *bdev, sector_t sector, void *buf,
		     size_t len, blk_opf_t opf)
{
	bool vmapped = is_vmalloc_addr(buf);
	bool write = op_is_write(opf);
	int r = 0;

	if (WARN_ON(len & (SECTOR_SIZE - 1)))
		return -EINVAL;

	if (vmapped && write)
		flush_kernel_vmap_range(buf, len);

	while (len) {
		unsigned int nr_vecs;
		struct bio *bio;
		size_t done = 0;

		nr_vecs = min_t(size_t, BIO_MAX_VECS,
				DIV_ROUND_UP(offset_in_page(buf) + len, PAGE_SIZE));
		bio = bio_alloc(bdev, nr_vecs, opf, GFP_NOIO);
		bio->bi_iter.bi_sector = sector;

		while (done < len) {
			void *p = buf + done;
			unsigned int n = min_t(size_t, PAGE_SIZE - offset_in_page(p),
					       len - done);

			if (bio_add_page(bio, deltalog_buf_page(p), n,
					 offset_in_page(p)) != n)
				break;
			done += n;
		}

		if (!done) {
			bio_put(bio);
			r = -EIO;
			break;
		}
		r = submit_bio_wait(bio);
		bio_put(bio);
		if (r)
			break;

		if (vmapped && !write)
			invalidate_kernel_vmap_range(buf, done);
		buf += done;
		len -= done;
		sector += done >> SECTOR_SHIFT;
	}

	return r;
}
