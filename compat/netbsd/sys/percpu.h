/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compat/netbsd/sys/percpu.h - NetBSD <sys/percpu.h>: percpu(9).
 *
 * Compat tree: build kernel code with -I<toolkit>/compat/netbsd so that
 * its own #include lines resolve to the toolkit's face (README, "Porting
 * kernel code").  Nothing here but includes and the kernel-global names
 * that would clash outside a kernel file.
 */
#ifndef PERCPU_COMPAT_NETBSD_SYS_PERCPU_H
#define PERCPU_COMPAT_NETBSD_SYS_PERCPU_H

#include "../../../percpu.h"

#endif /* PERCPU_COMPAT_NETBSD_SYS_PERCPU_H */
