/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for <asm/barrier.h>: a release store, an acquire load. */
#ifndef KSHIM_ASM_BARRIER_H
#define KSHIM_ASM_BARRIER_H

#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)

#endif /* KSHIM_ASM_BARRIER_H */
