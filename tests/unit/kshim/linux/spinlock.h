/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for <linux/spinlock.h>: the tests run on one thread. */
#ifndef KSHIM_LINUX_SPINLOCK_H
#define KSHIM_LINUX_SPINLOCK_H

typedef struct {
	int locked;
} spinlock_t;

#define DEFINE_SPINLOCK(x)	spinlock_t x = { 0 }

#define spin_lock_irqsave(lock, flags) do {				\
	(lock)->locked++;						\
	(flags) = 0;							\
} while (0)

#define spin_unlock_irqrestore(lock, flags) do {			\
	(lock)->locked--;						\
	(void)(flags);							\
} while (0)

#endif /* KSHIM_LINUX_SPINLOCK_H */
