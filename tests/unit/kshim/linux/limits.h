/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for the kernel's <linux/limits.h>: the type limits. */
#ifndef KSHIM_LINUX_LIMITS_H
#define KSHIM_LINUX_LIMITS_H

#include_next <linux/limits.h>	/* the uapi one: NAME_MAX, PATH_MAX */

#include <stdint.h>

#define U64_MAX		UINT64_MAX

#endif /* KSHIM_LINUX_LIMITS_H */
