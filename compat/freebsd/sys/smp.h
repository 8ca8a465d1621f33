/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compat/freebsd/sys/smp.h - FreeBSD <sys/smp.h>: mp_ncpus, mp_maxid,
 * CPU_FOREACH, CPU_ABSENT.
 *
 * Compat tree: build kernel code with -I<toolkit>/compat/freebsd so that
 * its own #include lines resolve to the toolkit's face (README, "Porting
 * kernel code").  Nothing here but includes and the kernel-global names
 * that would clash outside a kernel file.
 */
#ifndef PERCPU_COMPAT_FREEBSD_SYS_SMP_H
#define PERCPU_COMPAT_FREEBSD_SYS_SMP_H

#include "../../../dpcpu.h"

#endif /* PERCPU_COMPAT_FREEBSD_SYS_SMP_H */
