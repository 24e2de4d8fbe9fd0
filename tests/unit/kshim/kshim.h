/* SPDX-License-Identifier: GPL-2.0 */
/* The shim's counters, for the tests (C and C++). */
#ifndef KSHIM_H
#define KSHIM_H

#ifdef __cplusplus
extern "C" {
#endif

/* kmem_cache_alloc() and kmem_cache_free() calls so far. */
extern unsigned long kshim_allocs;
extern unsigned long kshim_frees;
/* Objects allocated and not freed. */
extern long kshim_live;
/* When non-zero: counts allocations down, and the one that reaches 0 fails. */
extern unsigned long kshim_fail_in;
/* WARN_ON_ONCE() conditions that were true. */
extern unsigned long kshim_warnings;
/* The gfp of the last allocation. */
extern unsigned int kshim_last_gfp;

#ifdef __cplusplus
}
#endif

#endif /* KSHIM_H */
