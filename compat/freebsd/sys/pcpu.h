/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compat/freebsd/sys/pcpu.h - FreeBSD <sys/pcpu.h>: DPCPU(9), zpcpu, curcpu,
 * critical_enter/exit.
 *
 * Compat tree: build kernel code with -I<toolkit>/compat/freebsd so that
 * its own #include lines resolve to the toolkit's face (README, "Porting
 * kernel code").  Nothing here but includes and the kernel-global names
 * that would clash outside a kernel file.
 */
#ifndef PERCPU_COMPAT_FREEBSD_SYS_PCPU_H
#define PERCPU_COMPAT_FREEBSD_SYS_PCPU_H

#include "../../../dpcpu.h"

#endif /* PERCPU_COMPAT_FREEBSD_SYS_PCPU_H */
