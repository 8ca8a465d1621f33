/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/md_baremetal.h - the firmware ports: no OS, no threads, one
 * thread of control per core plus the interrupt handlers that preempt it.
 *
 * Internal: reached through percpu/md.h when PERCPU_MD is
 *
 *   PERCPU_MD_BAREMETAL  a ready port, picked by the compiler's target:
 *                        AArch64 (percpu/md_aarch64.h: MPIDR_EL1, DAIF)
 *                        or RISC-V M-mode (percpu/md_riscv.h: mhartid,
 *                        mstatus.MIE).  Any other CPU is an #error.
 *   PERCPU_MD_USER       the hooks below come from the header named by
 *                        PERCPU_MD_USER_HEADER (global), e.g.
 *                        -DPERCPU_MD_USER_HEADER='"my_port.h"'.
 *
 * Both work for MP (PERCPU_MP=1) and UP (PERCPU_MP=0) builds.  A UP build
 * uses only the interrupt mask, if the port has one.
 *
 * HOOKS (each a static inline function or macro of the port header)
 *
 *   #define PERCPU_MD_HAS_CPU_ID 1
 *   unsigned percpu_md_cpu_id(void);              MP: required
 *       pre: any context of a core (thread or interrupt handler).
 *       post: the executing core's id: fixed for the core's life, distinct
 *       per core, < PERCPU_MAXCPU.  (Unlike a hosted port, the id also
 *       picks the core's section state, so it must be exact and in
 *       range: it is not folded.)
 *
 *   #define PERCPU_MD_NCPUS n                     optional
 *       The possible CPUs are ids [0, n).  Default PERCPU_MAXCPU.  Or:
 *   #define PERCPU_MD_HAS_POSSIBLE 1
 *   int percpu_md_possible(unsigned char *mask, unsigned cap);
 *       post: mask[i] = 1 for every possible id i < cap; returns how many
 *       (ids may be sparse).  Called once, at first use.
 *
 *   #define PERCPU_MD_HAS_IRQ 1                   optional
 *   typedef <integer type> percpu_md_irq_t;
 *   percpu_md_irq_t percpu_md_irq_save(void);
 *       post: the executing core's (maskable) interrupts are masked;
 *       returns the previous mask state.  A compiler barrier ("memory"
 *       clobber).
 *   void percpu_md_irq_restore(percpu_md_irq_t prev);
 *       post: the mask state is @prev again.  A compiler barrier.
 *   With a mask, every exclusive section (percpu_enter/leave, getref/
 *   putref, cpumem_enter/leave, counters_enter/leave, critical_enter/exit,
 *   counter_enter/exit) masks the core's interrupts from enter to leave,
 *   in the UP build exactly as in MP: no handler runs inside a section,
 *   and nothing preempts it.  UP counter(9) add, fetch and zero mask
 *   around their words too (MP adds are atomic).  Without a mask, a
 *   handler that enters a section while its core's code is inside one
 *   nests on it and shares the slots (as a signal handler does on a
 *   hosted thread: see percpu/core.h, SIGNALS).  The README has the
 *   table of what a handler may share in each build.
 *
 *   #define PERCPU_MD_HAS_RELAX 1                 optional
 *   void percpu_md_relax(unsigned spins);
 *       Called while a core waits for another (a section taken through
 *       percpu_enter_cpu(), a counters snapshot).  Default: a compiler
 *       barrier.
 *
 *   Atomics: the toolkit uses C11 <stdatomic.h> on word-sized and 64-bit
 *   objects.  Where the CPU has no instructions for them (ARMv6-M such as
 *   Cortex-M0+: no exclusives at all; 64-bit atomics on any 32-bit core)
 *   the compiler emits __atomic_* library calls, which the firmware
 *   provides (libatomic does not exist there).  On a multi-core part they
 *   must exclude the other cores too, not only interrupts: e.g. RP2040
 *   hardware spinlock plus a PRIMASK mask.
 *
 * HOW A SECTION WORKS HERE (MP)
 *	The core's engine is unchanged: each CPU has a lock word taken by
 *	compare-and-swap, because another core can take a CPU's section on
 *	its behalf (percpu_enter_cpu(): percpu_foreach_xcall, counters_zero,
 *	boot memory).  What a hosted port keeps per thread is kept per core
 *	(indexed by percpu_md_cpu_id()), and with an interrupt mask the
 *	outermost enter masks first and the matching leave unmasks last, so
 *	the lock word is only contended by other cores' remote enters.
 *	While it waits for such a core the caller spins with its
 *	interrupts masked.
 *
 * DUAL-CORE CORTEX-M (guidance; no ready port: the CPU-id register is
 * the SoC's, not the architecture's)
 *	RP2040 (two Cortex-M0+): the id is the SIO CPUID register,
 *	*(volatile uint32_t *)0xd0000000 (0 or 1); mask with PRIMASK
 *	("mrs %0, primask; cpsid i" to save, "msr primask, %0" to restore).
 *	PERCPU_MAXCPU=2.  ARMv6-M has no exclusives: provide the __atomic_*
 *	functions with one of the SIO hardware spinlocks (0xd0000100 +
 *	4 * n: a read claims it, non-zero on success; a write frees it),
 *	taken with PRIMASK set.  Cortex-M33 pairs (RP2350) and Cortex-M4/M7
 *	pairs (STM32H745's M7+M4: read the core from a SoC register, or let
 *	each core's firmware define its id) have exclusives for 32-bit
 *	atomics; 64-bit ones still need the library calls.  On RP2350 take
 *	a software spin lock for them, not an SIO one: the pico-sdk does
 *	(PICO_USE_SW_SPIN_LOCKS defaults to 1 there) because of the chip's
 *	erratum E2.  firmware/port_rp2040.h is such a port (SIO CPUID) and
 *	firmware/rp2040_atomic.c the __atomic_* calls (SIO spinlock on
 *	ARMv6-M, software lock elsewhere): make test compiles and links
 *	them for Cortex-M0+, M4 and M33 (test/cross/check-fw.sh,
 *	link-fw.sh).  test/firmware/port_cortexm.h is a generic Cortex-M
 *	port (PRIMASK; an MP build names the SoC's core-id register),
 *	run by make test as a Cortex-M3 UP image on qemu's mps2-an385.
 *
 * BOOT AND STORAGE
 *	No thread-local storage anywhere in a firmware build: what a hosted
 *	port keeps per thread is per core here (a board may use TPIDR_EL0
 *	or tp for its own per-core block).  percpu_init() sets the toolkit
 *	up at boot; with PERCPU_BOOT_INIT=1 (global) the boot code must call
 *	it before any other core uses the toolkit, and the fast paths skip
 *	the readiness check.
 *
 * MEMORY
 *	No mmap: the arena's chunks come from PERCPU_STATIC_ARENA_SIZE (a
 *	static array; implementation knob; smaller than PERCPU_MD_NCPUS x
 *	PERCPU_UNIT_SIZE is a compile error) or from a provider
 *	(percpu_set_chunk_provider()).  Sizes are multiples of
 *	PERCPU_CACHELINE; set PERCPU_UNIT_SIZE (bytes per CPU) and
 *	PERCPU_MAXCPU (number of cores) for the part.
 */
#ifndef PERCPU_MD_BAREMETAL_H
#define PERCPU_MD_BAREMETAL_H

#include <stddef.h>
#include <stdint.h>
#include "atomic.h"

#include "config.h"

#if PERCPU_MD == PERCPU_MD_USER
# ifndef PERCPU_MD_USER_HEADER
/* clang-format off */
#  error "percpu: PERCPU_MD_USER needs -DPERCPU_MD_USER_HEADER='\"my_port.h\"' (the hooks are listed in percpu/md_baremetal.h)"
/* clang-format on */
# endif
# include PERCPU_MD_USER_HEADER
# ifndef PERCPU_MD_NAME
#  define PERCPU_MD_NAME "user"
# endif
#elif defined(__aarch64__)
# include "md_aarch64.h"
#elif defined(__riscv)
# include "md_riscv.h"
#else
/* clang-format off */
# error "percpu: PERCPU_MD_BAREMETAL has ready ports for AArch64 and RISC-V only: build with -DPERCPU_MD=PERCPU_MD_USER -DPERCPU_MD_USER_HEADER='\"my_port.h\"' (hooks and Cortex-M guidance in percpu/md_baremetal.h)"
/* clang-format on */
#endif

#if PERCPU_MP && !defined(PERCPU_MD_HAS_CPU_ID)
/* clang-format off */
# error "percpu: the firmware port defines no percpu_md_cpu_id(): define it and PERCPU_MD_HAS_CPU_ID 1 in the port header (percpu/md_baremetal.h)"
/* clang-format on */
#endif
#ifndef PERCPU_MD_HAS_IRQ
# define PERCPU_MD_HAS_IRQ 0
#endif
#ifndef PERCPU_MD_HAS_POSSIBLE
# define PERCPU_MD_HAS_POSSIBLE 0
#endif
#ifndef PERCPU_MD_NCPUS
# define PERCPU_MD_NCPUS PERCPU_MAXCPU
#endif
#if PERCPU_MP && (PERCPU_MD_NCPUS < 1 || PERCPU_MD_NCPUS > PERCPU_MAXCPU)
# error "percpu: PERCPU_MD_NCPUS must be in [1, PERCPU_MAXCPU]"
#endif

#ifndef PERCPU_MD_HAS_RELAX
/* Default wait: a compiler barrier, so that the waiting loop re-reads. */
static inline void
percpu_md_relax(unsigned spins)
{
	(void)spins;
	atomic_signal_fence(memory_order_seq_cst);
}
#endif

#if PERCPU_MP && !PERCPU_MD_HAS_POSSIBLE
/*
 * percpu_md_possible - ids [0, PERCPU_MD_NCPUS).
 *
 * Context: the first use of the toolkit (implementation).
 * Return: the number of ids set.
 */
static inline int
percpu_md_possible(unsigned char *mask, unsigned cap)
{
	unsigned i;

	for (i = 0; i < cap; i++)
		mask[i] = i < (unsigned)PERCPU_MD_NCPUS;
	return (
	    (int)(cap < (unsigned)PERCPU_MD_NCPUS ? cap :
						    (unsigned)PERCPU_MD_NCPUS));
}
#endif

#include "spin.h"

#endif /* PERCPU_MD_BAREMETAL_H */
