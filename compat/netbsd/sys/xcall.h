/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compat/netbsd/sys/xcall.h - NetBSD <sys/xcall.h>: xc_broadcast, xc_unicast,
 * xc_wait.
 *
 * Compat tree: build kernel code with -I<toolkit>/compat/netbsd so that
 * its own #include lines resolve to the toolkit's face (README, "Porting
 * kernel code").  Nothing here but includes and the kernel-global names
 * that would clash outside a kernel file.
 */
#ifndef PERCPU_COMPAT_NETBSD_SYS_XCALL_H
#define PERCPU_COMPAT_NETBSD_SYS_XCALL_H

#include "../../../percpu.h"

#endif /* PERCPU_COMPAT_NETBSD_SYS_XCALL_H */
