/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-in for the kernel's <linux/errno.h>. glibc's <errno.h>
 * includes <linux/errno.h> too, so this one only passes on to the uapi one.
 */
#ifndef KSHIM_LINUX_ERRNO_H
#define KSHIM_LINUX_ERRNO_H

#include_next <linux/errno.h>

#endif /* KSHIM_LINUX_ERRNO_H */
