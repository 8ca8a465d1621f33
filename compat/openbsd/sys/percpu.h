/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compat/openbsd/sys/percpu.h - OpenBSD <sys/percpu.h>: cpumem(9) and
 * counters_alloc(9).
 *
 * Compat tree: build kernel code with -I<toolkit>/compat/openbsd so that
 * its own #include lines resolve to the toolkit's face (README, "Porting
 * kernel code").  Nothing here but includes and the kernel-global names
 * that would clash outside a kernel file.
 */
#ifndef PERCPU_COMPAT_OPENBSD_SYS_PERCPU_H
#define PERCPU_COMPAT_OPENBSD_SYS_PERCPU_H

#include "../../../cpumem.h"

#endif /* PERCPU_COMPAT_OPENBSD_SYS_PERCPU_H */
