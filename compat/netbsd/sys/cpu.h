/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compat/netbsd/sys/cpu.h - NetBSD <sys/cpu.h>: struct cpu_info, curcpu(),
 * ncpu, cpu_index(), cpu_lookup(), CPU_INFO_FOREACH, kpreempt_*.
 *
 * Compat tree: build kernel code with -I<toolkit>/compat/netbsd so that
 * its own #include lines resolve to the toolkit's face (README, "Porting
 * kernel code").  Nothing here but includes and the kernel-global names
 * that would clash outside a kernel file.
 */
#ifndef PERCPU_COMPAT_NETBSD_SYS_CPU_H
#define PERCPU_COMPAT_NETBSD_SYS_CPU_H

#include "../../../percpu.h"

/* The descriptor of the current CPU (the held one inside a section). */
#define curcpu() percpu_curcpu_info()
/* The number of CPUs: cpu_index() is below it. */
#define ncpu ((int)percpu_ncpus())

#endif /* PERCPU_COMPAT_NETBSD_SYS_CPU_H */
