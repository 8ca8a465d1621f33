/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compat/freebsd/sys/counter.h - FreeBSD <sys/counter.h>: counter(9).
 *
 * Compat tree: build kernel code with -I<toolkit>/compat/freebsd so that
 * its own #include lines resolve to the toolkit's face (README, "Porting
 * kernel code").  Nothing here but includes and the kernel-global names
 * that would clash outside a kernel file.
 */
#ifndef PERCPU_COMPAT_FREEBSD_SYS_COUNTER_H
#define PERCPU_COMPAT_FREEBSD_SYS_COUNTER_H

#include "../../../counter.h"

#endif /* PERCPU_COMPAT_FREEBSD_SYS_COUNTER_H */
