/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * port_cortexm.h - a PERCPU_MD_USER port for any Cortex-M (ARMv6-M,
 * ARMv7-M, ARMv8-M): sections mask PRIMASK.  The CPU id is the SoC's, not
 * the architecture's, so an MP build names the core-id register:
 *
 *	cc -DPERCPU_MD=PERCPU_MD_USER \
 *	   -DPERCPU_MD_USER_HEADER='"test/firmware/port_cortexm.h"' \
 *	   [-DPERCPU_MP=1 -DPERCPU_MAXCPU=2 \
 *	    -DPORT_CORTEXM_CPUID_REG=0xd0000000u]  ...
 *
 * A UP build (PERCPU_MP=0) needs nothing more: every section masks
 * PRIMASK (test/firmware/m3_main.c runs it on qemu's mps2-an385).  For
 * RP2040/RP2350 use firmware/port_rp2040.h, which is this plus the SIO
 * CPUID register; the __atomic_* calls an ARMv6-M build needs are in
 * firmware/rp2040_atomic.c.
 *
 * CPU id: *(volatile uint32_t *)PORT_CORTEXM_CPUID_REG (MP only), which
 * must read 0 .. PERCPU_MAXCPU - 1, distinct per core.
 * Interrupt mask: PRIMASK (cpsid i); the old PRIMASK is restored.
 */
#ifndef PORT_CORTEXM_H
#define PORT_CORTEXM_H

#include <stdint.h>

#define PERCPU_MD_NAME "cortex-m"
#define PERCPU_MD_HAS_IRQ 1

#ifdef PORT_CORTEXM_CPUID_REG
# define PERCPU_MD_HAS_CPU_ID 1

/*
 * percpu_md_cpu_id - the executing core, from the SoC's core-id register.
 * post: fixed for the core, < PERCPU_MAXCPU.
 */
static inline unsigned
percpu_md_cpu_id(void)
{
	return ((unsigned)*(volatile const uint32_t *)PORT_CORTEXM_CPUID_REG);
}
#endif

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

#endif /* PORT_CORTEXM_H */
