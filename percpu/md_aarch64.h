/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/md_aarch64.h - ready firmware port for AArch64 (PERCPU_MD_BAREMETAL).
 *
 * Internal: reached through percpu/md_baremetal.h.  Runs at EL1 or above
 * (MPIDR_EL1 and DAIF are not readable at EL0 unless the kernel allows
 * it).  Atomics: the compiler's; build with -mno-outline-atomics (or link
 * libgcc) so that no __aarch64_* helper is called.  Exclusive loads and
 * stores need the MMU and caches on (Normal memory): with the MMU off,
 * every access is Device memory, where exclusives are not guaranteed.
 *
 * CPU id: from MPIDR_EL1's affinity fields.  The default
 * PERCPU_MD_AARCH64_ID(mpidr) numbers the cores of up to 8 clusters of
 * up to 8 cores densely: Aff0 + 8 * Aff1 (MT clear; qemu virt, Cortex-A53
 * and A72 clusters), or Aff1 + 8 * Aff2 when MPIDR.MT is set (DynamIQ
 * cores such as Cortex-A55/A76, whose Aff0 is the thread).  A SoC with
 * another numbering defines the macro (global), mapping every core to a
 * distinct id < PERCPU_MAXCPU.
 *
 * Possible CPUs: ids [0, PERCPU_MD_NCPUS) (global; default
 * PERCPU_MAXCPU).
 *
 * Interrupt mask: DAIF.I and DAIF.F (IRQ and FIQ) are set on entry, and
 * the whole DAIF restored on exit.  SError and debug stay as they were.
 */
#ifndef PERCPU_MD_AARCH64_H
#define PERCPU_MD_AARCH64_H

#include <stdint.h>

#ifndef PERCPU_MD_AARCH64_ID
# define PERCPU_MD_AARCH64_ID(mpidr)                                          \
  (((mpidr) & (1u << 24)) != 0 ?                                              \
	  (unsigned)(((mpidr) >> 8 & 0xffu) + 8u * ((mpidr) >> 16 & 0xffu)) : \
	  (unsigned)(((mpidr)&0xffu) + 8u * ((mpidr) >> 8 & 0xffu)))
#endif

#define PERCPU_MD_HAS_CPU_ID 1
#define PERCPU_MD_HAS_IRQ 1
#define PERCPU_MD_HAS_RELAX 1
#define PERCPU_MD_NAME "aarch64"

/*
 * percpu_md_cpu_id - the executing core's id, from MPIDR_EL1.
 *
 * pre: EL1 or above.
 * post: PERCPU_MD_AARCH64_ID(MPIDR_EL1): fixed for the core, < PERCPU_MAXCPU
 *       when the macro fits the SoC.
 */
static inline unsigned
percpu_md_cpu_id(void)
{
	uint64_t mpidr;

	/* Not volatile: the value of a core never changes. */
	__asm__("mrs %0, mpidr_el1" : "=r"(mpidr));
	return (PERCPU_MD_AARCH64_ID(mpidr));
}

typedef uint64_t percpu_md_irq_t;

/*
 * percpu_md_irq_save - mask IRQ and FIQ on the executing core.
 *
 * post: DAIF.I = DAIF.F = 1; returns the previous DAIF.  A compiler
 *       barrier: no memory access moves across it.
 */
static inline percpu_md_irq_t
percpu_md_irq_save(void)
{
	uint64_t daif;

	__asm__ __volatile__("mrs %0, daif\n\t"
			     "msr daifset, #3"
			     : "=r"(daif)
			     :
			     : "memory");
	return (daif);
}

/*
 * percpu_md_irq_restore - put DAIF back as percpu_md_irq_save() found it.
 *
 * post: DAIF = @daif.  A compiler barrier.
 */
static inline void
percpu_md_irq_restore(percpu_md_irq_t daif)
{
	__asm__ __volatile__("msr daif, %0" : : "r"(daif) : "memory");
}

/*
 * percpu_md_relax - wait politely for another core: a hint to the core
 * (and to an SMT sibling or a hypervisor) that this one spins.
 */
static inline void
percpu_md_relax(unsigned spins)
{
	(void)spins;
	__asm__ __volatile__("yield" ::: "memory");
}

#endif /* PERCPU_MD_AARCH64_H */
