/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for <linux/bug.h>: a WARN counts and prints (kshim.c). */
#ifndef KSHIM_LINUX_BUG_H
#define KSHIM_LINUX_BUG_H

void kshim_warn(const char *file, int line, const char *cond);

#define WARN_ON_ONCE(cond) ({						\
	int __ret = !!(cond);						\
	if (__ret)							\
		kshim_warn(__FILE__, __LINE__, #cond);			\
	__ret;								\
})

#endif /* KSHIM_LINUX_BUG_H */
