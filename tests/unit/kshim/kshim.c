// SPDX-License-Identifier: GPL-2.0
/* The shim's kmem_cache over malloc(), with counters for the tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/slab.h>

#include "kshim.h"

unsigned long kshim_allocs;
unsigned long kshim_frees;
long kshim_live;
unsigned long kshim_fail_in;
unsigned long kshim_warnings;
unsigned int kshim_last_gfp;

struct kmem_cache {
	size_t size;
};

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     unsigned long flags, void (*ctor)(void *))
{
	struct kmem_cache *c = malloc(sizeof(*c));

	(void)name;
	(void)align;
	(void)flags;
	(void)ctor;
	if (c)
		c->size = size;
	return c;
}

void kmem_cache_destroy(struct kmem_cache *c)
{
	free(c);
}

void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp)
{
	void *p;

	kshim_last_gfp = gfp;
	if (kshim_fail_in && !--kshim_fail_in)
		return NULL;
	kshim_allocs++;
	p = malloc(c->size);
	if (!p)
		abort();
	/* Garbage, as the slab would give: nothing may rely on zeroes. */
	memset(p, 0xa5, c->size);
	kshim_live++;
	return p;
}

void kmem_cache_free(struct kmem_cache *c, void *p)
{
	(void)c;
	if (!p)
		return;
	kshim_frees++;
	kshim_live--;
	free(p);
}

unsigned int kmem_cache_size(struct kmem_cache *c)
{
	return c->size;
}

void *kcalloc(size_t n, size_t size, gfp_t gfp)
{
	void *p;

	kshim_last_gfp = gfp;
	if (kshim_fail_in && !--kshim_fail_in)
		return NULL;
	kshim_allocs++;
	p = calloc(n, size);
	if (!p)
		abort();
	kshim_live++;
	return p;
}

void kfree(const void *p)
{
	if (!p)
		return;
	kshim_frees++;
	kshim_live--;
	free((void *)p);
}

void kshim_warn(const char *file, int line, const char *cond)
{
	kshim_warnings++;
	fprintf(stderr, "WARNING: %s:%d: %s\n", file, line, cond);
}
