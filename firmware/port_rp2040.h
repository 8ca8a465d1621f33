/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * port_rp2040.h - a PERCPU_MD_USER port for a dual-core Cortex-M: RP2040
 * (two Cortex-M0+) and parts with the same SIO block (RP2350's M33s).
 *
 *	cc -DPERCPU_MD=PERCPU_MD_USER \
 *	   -DPERCPU_MD_USER_HEADER='"firmware/port_rp2040.h"' \
 *	   -DPERCPU_MAXCPU=2 -DPERCPU_UNIT_SIZE=256 ...
 *
 * and in the one implementation file -DPERCPU_STATIC_ARENA_SIZE=<bytes>
 * (no malloc).  A UP build (PERCPU_MP=0) with this port masks PRIMASK in
 * its sections.
 *
 * CPU id: the SIO CPUID register (0 on core 0, 1 on core 1).
 * Interrupt mask: PRIMASK (cpsid i); the old PRIMASK is restored.
 * Atomics: ARMv6-M has no exclusive loads/stores, so every C11 atomic
 * read-modify-write (and any 64-bit atomic) is an __atomic_* library
 * call; link firmware/rp2040_atomic.c, which defines them over an SIO
 * hardware spinlock taken with PRIMASK set (a read of SPINLOCKn claims
 * it and returns non-zero on success; a write releases it), so they
 * exclude the other core as well as interrupts.  Cortex-M33 (RP2350) has
 * exclusives for 32-bit atomics; its 64-bit ones take a software spin
 * lock in rp2040_atomic.c, as the pico-sdk does on RP2350 (erratum E2).
 */
#ifndef PORT_RP2040_H
#define PORT_RP2040_H

#include <stdint.h>

#define PERCPU_MD_NAME "rp2040"
#define PERCPU_MD_HAS_CPU_ID 1
#define PERCPU_MD_NCPUS 2
#define PERCPU_MD_HAS_IRQ 1
#define PERCPU_MD_HAS_RELAX 1

/* SIO CPUID: which core reads it. */
#define PORT_RP2040_SIO_CPUID 0xd0000000u

/*
 * percpu_md_cpu_id - the executing core.
 * post: 0 or 1, fixed for the core.
 */
static inline unsigned
percpu_md_cpu_id(void)
{
	return ((unsigned)*(volatile const uint32_t *)PORT_RP2040_SIO_CPUID);
}

typedef uint32_t percpu_md_irq_t;

/*
 * percpu_md_irq_save - mask interrupts (PRIMASK = 1).
 * post: returns the previous PRIMASK; a compiler barrier.
 */
static inline percpu_md_irq_t
percpu_md_irq_save(void)
{
	uint32_t primask;

	__asm__ __volatile__("mrs %0, primask\n\t"
			     "cpsid i"
			     : "=r"(primask)
			     :
			     : "memory");
	return (primask);
}

/*
 * percpu_md_irq_restore - PRIMASK back to @primask.
 * post: a compiler barrier.
 */
static inline void
percpu_md_irq_restore(percpu_md_irq_t primask)
{
	__asm__ __volatile__("msr primask, %0" : : "r"(primask) : "memory");
}

/* percpu_md_relax - wait for the other core (a nop: no yield on M0+). */
static inline void
percpu_md_relax(unsigned spins)
{
	(void)spins;
	__asm__ __volatile__("nop" ::: "memory");
}

#endif /* PORT_RP2040_H */
