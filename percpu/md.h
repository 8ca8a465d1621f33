/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/md.h - the port layer: the only file that knows the OS.
 *
 * Internal: include <percpu.h> instead.
 *
 * A port is chosen by the numbered macro PERCPU_MD, which the user may
 * preset (on the command line, identically in every translation unit):
 *
 *   PERCPU_MD_NONE   0  uniprocessor build (PERCPU_MP=0): nothing to find.
 *   PERCPU_MD_LINUX  1  Linux hosted: the current CPU from sched_getcpu()
 *                       (rseq-backed in glibc 2.35+), C11 atomics on the
 *                       chosen slot; possible CPUs from sysfs.
 *   PERCPU_MD_SIM    2  test port: simulated sparse CPUs on any POSIX
 *                       host.  A thread's "current CPU" is a per-thread
 *                       value the test moves with percpu_sim_migrate() or
 *                       lets the port scramble (percpu_sim_chaos()).
 *
 * Without a preset the ladder below picks LINUX on Linux and NONE for a
 * uniprocessor build; any other target is a compile-time #error naming
 * the fix.  The runtime backend actually used is reported by
 * percpu_backend().
 *
 * Hooks a port provides (all static inline, all MP only):
 *
 *   unsigned percpu_md_cpu_id(void);
 *       post: the id of a CPU the calling thread ran on recently.  May be
 *       any value (even >= PERCPU_MAXCPU): the core bounds it.
 *   int percpu_md_possible(unsigned char *mask, unsigned cap);
 *       post: mask[i] = 1 for every possible CPU id i < cap; returns the
 *       number set (0 = unknown: the core falls back to one CPU).
 *       Implementation-only (may do I/O).
 *   void percpu_md_relax(unsigned spins);
 *       Called while waiting for another thread's section: pause, and
 *       after a few spins give the CPU away.
 *   void *percpu_md_map(size_t len) / void percpu_md_unmap(void *, size_t)
 *       Zero-filled chunk memory, lazily backed where the OS allows.
 */
#ifndef PERCPU_MD_H
#define PERCPU_MD_H

#include "config.h"

#define PERCPU_MD_NONE 0
#define PERCPU_MD_LINUX 1
#define PERCPU_MD_SIM 2

#ifndef PERCPU_MD
# if !PERCPU_MP
#  define PERCPU_MD PERCPU_MD_NONE
# elif defined(__linux__)
#  define PERCPU_MD PERCPU_MD_LINUX
# else
#  error \
      "percpu: no port for this target: build with -DPERCPU_MP=0 (uniprocessor), or -DPERCPU_MD=PERCPU_MD_SIM (simulated CPUs, POSIX), or add a port to percpu/md.h"
# endif
#endif

#if PERCPU_MP && PERCPU_MD == PERCPU_MD_NONE
# error "percpu: PERCPU_MD_NONE is only for PERCPU_MP=0"
#endif
#if !PERCPU_MP && PERCPU_MD != PERCPU_MD_NONE
# error "percpu: a uniprocessor build (PERCPU_MP=0) takes no port"
#endif
#if PERCPU_MD != PERCPU_MD_NONE && PERCPU_MD != PERCPU_MD_LINUX && \
    PERCPU_MD != PERCPU_MD_SIM
# error "percpu: unknown PERCPU_MD value (see percpu/md.h for the list)"
#endif

#if PERCPU_MD == PERCPU_MD_LINUX || PERCPU_MD == PERCPU_MD_SIM
# define PERCPU_MD_HOSTED 1
#else
# define PERCPU_MD_HOSTED 0
#endif

#if PERCPU_MD_HOSTED
# include <sched.h>

/*
 * sched_getcpu() is declared by <sched.h> only under _GNU_SOURCE, which a
 * header must not define behind its user's back.  Its signature is the
 * same in glibc, musl and bionic.
 */
# if PERCPU_MD == PERCPU_MD_LINUX
#  if defined(__GNUC__) || defined(__clang__)
#   pragma GCC diagnostic push
#   pragma GCC diagnostic ignored "-Wredundant-decls"
#  endif
int sched_getcpu(void);
#  if defined(__GNUC__) || defined(__clang__)
#   pragma GCC diagnostic pop
#  endif
# endif

# if PERCPU_MD == PERCPU_MD_LINUX
/*
 * percpu_md_cpu_id - the CPU the calling thread runs on (Linux).
 *
 * Context: any thread, signal handlers included (async-signal-safe).
 * Ordering: none.
 * Return: the kernel's CPU id; 0 if the kernel cannot tell.  The result
 *         may be stale by the time it is used: the core never relies on
 *         it for correctness, only for locality.
 */
static inline unsigned
percpu_md_cpu_id(void)
{
	int cpu = sched_getcpu();

	return (cpu >= 0 ? (unsigned)cpu : 0u);
}
# endif

/*
 * percpu_md_relax - wait politely for a section another thread holds.
 *
 * Context: any thread.
 * Ordering: none (the caller re-reads with acquire).
 */
static inline void
percpu_md_relax(unsigned spins)
{
	if (spins < 64) {
# if defined(__x86_64__) || defined(__i386__)
		__asm__ __volatile__("pause" ::: "memory");
# elif defined(__aarch64__)
		__asm__ __volatile__("yield" ::: "memory");
# endif
	} else
		(void)sched_yield();
}
#endif /* PERCPU_MD_HOSTED */

#endif /* PERCPU_MD_H */
