/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for <linux/minmax.h>: only what the index uses. */
#ifndef KSHIM_LINUX_MINMAX_H
#define KSHIM_LINUX_MINMAX_H

#define clamp(val, lo, hi) ({						\
	__typeof__(val) __v = (val);					\
	__typeof__(lo) __lo = (lo);					\
	__typeof__(hi) __hi = (hi);					\
	__v < __lo ? __lo : __v > __hi ? __hi : __v;			\
})

#define min(a, b) ({						\
	__typeof__(a) __a = (a);					\
	__typeof__(b) __b = (b);					\
	__a < __b ? __a : __b;						\
})

#endif /* KSHIM_LINUX_MINMAX_H */
