/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compat/freebsd/sys/kernel.h - FreeBSD <sys/kernel.h>: ticks and hz (for
 * counter_ratecheck users that set cr_ticks = ticks).
 *
 * Compat tree: build kernel code with -I<toolkit>/compat/freebsd so that
 * its own #include lines resolve to the toolkit's face (README, "Porting
 * kernel code").  Nothing here but includes and the kernel-global names
 * that would clash outside a kernel file.
 */
#ifndef PERCPU_COMPAT_FREEBSD_SYS_KERNEL_H
#define PERCPU_COMPAT_FREEBSD_SYS_KERNEL_H

#include "../../../counter.h"

#ifdef COUNTER_RATE_NOW_NS
/* ticks: COUNTER_HZ per second since an arbitrary start, wrapping. */
# define ticks counter_ticks()
# define hz COUNTER_HZ
#endif

#endif /* PERCPU_COMPAT_FREEBSD_SYS_KERNEL_H */
