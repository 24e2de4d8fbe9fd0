/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for <linux/bits.h>. */
#ifndef KSHIM_LINUX_BITS_H
#define KSHIM_LINUX_BITS_H

#define BIT_ULL(nr)	(1ULL << (nr))

#endif /* KSHIM_LINUX_BITS_H */
