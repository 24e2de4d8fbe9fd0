/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for <linux/slab.h>: kmem_cache over malloc (kshim.c). */
#ifndef KSHIM_LINUX_SLAB_H
#define KSHIM_LINUX_SLAB_H

#include <linux/types.h>

#define __GFP_NOWARN	0x1u
#define GFP_ATOMIC	0x10u
#define GFP_NOWAIT	0x20u
#define GFP_NOIO	0x40u
#define GFP_KERNEL	0x80u

struct kmem_cache;

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     unsigned long flags, void (*ctor)(void *));
void kmem_cache_destroy(struct kmem_cache *c);
void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp);
void kmem_cache_free(struct kmem_cache *c, void *p);
unsigned int kmem_cache_size(struct kmem_cache *c);

/* calloc() and free(), counted with the kmem_cache objects. */
void *kcalloc(size_t n, size_t size, gfp_t gfp);
void kfree(const void *p);

#endif /* KSHIM_LINUX_SLAB_H */
