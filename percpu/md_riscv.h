/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/md_riscv.h - ready firmware port for RISC-V in machine mode
 * (PERCPU_MD_BAREMETAL), RV32 and RV64.
 *
 * Internal: reached through percpu/md_baremetal.h.  Runs in M-mode:
 * mhartid and mstatus are machine CSRs.  Firmware in S-mode (under
 * OpenSBI) has no mhartid: write a user port (PERCPU_MD_USER) that keeps
 * the hart id in a register or memory of its own and masks sstatus.SIE.
 * The MP build needs the A extension (lr/sc, amo*); 64-bit atomics on
 * RV32 become __atomic_*_8 library calls the firmware provides
 * (test/firmware/rv32_atomic.c is a reference: one amoswap.w lock taken
 * with mstatus.MIE cleared).
 *
 * CPU id: mhartid, as PERCPU_MD_RISCV_ID(hartid) (global; default the
 * hart id itself).  Harts must be numbered densely enough to stay below
 * PERCPU_MAXCPU; define the macro to fold a SoC's sparse hart ids.
 * Possible CPUs: ids [0, PERCPU_MD_NCPUS) (default PERCPU_MAXCPU).
 *
 * Interrupt mask: mstatus.MIE cleared on entry (csrrci), restored to its
 * old value on exit; other mstatus bits are left alone.
 */
#ifndef PERCPU_MD_RISCV_H
#define PERCPU_MD_RISCV_H

#ifndef PERCPU_MD_RISCV_ID
# define PERCPU_MD_RISCV_ID(hartid) ((unsigned)(hartid))
#endif

#define PERCPU_MD_HAS_CPU_ID 1
#define PERCPU_MD_HAS_IRQ 1
#define PERCPU_MD_HAS_RELAX 1
#define PERCPU_MD_NAME "riscv"

/* mstatus.MIE: machine-mode interrupt enable. */
#define PERCPU_MD_RISCV_MIE 8ul

/*
 * percpu_md_cpu_id - the executing hart's id.
 *
 * pre: M-mode.
 * post: PERCPU_MD_RISCV_ID(mhartid); fixed for the hart.
 */
static inline unsigned
percpu_md_cpu_id(void)
{
	unsigned long hart;

	__asm__("csrr %0, mhartid" : "=r"(hart));
	return (PERCPU_MD_RISCV_ID(hart));
}

typedef unsigned long percpu_md_irq_t;

/*
 * percpu_md_irq_save - mask machine interrupts on the executing hart.
 *
 * post: mstatus.MIE = 0; returns the old mstatus.MIE bit (as a mask).
 *       A compiler barrier.
 */
static inline percpu_md_irq_t
percpu_md_irq_save(void)
{
	unsigned long old;

	__asm__ __volatile__("csrrci %0, mstatus, 8" : "=r"(old) : : "memory");
	return (old & PERCPU_MD_RISCV_MIE);
}

/*
 * percpu_md_irq_restore - set mstatus.MIE back to what
 * percpu_md_irq_save() returned.
 *
 * post: mstatus.MIE as before the matching save.  A compiler barrier.
 */
static inline void
percpu_md_irq_restore(percpu_md_irq_t mie)
{
	__asm__ __volatile__("csrs mstatus, %0" : : "r"(mie) : "memory");
}

/*
 * percpu_md_relax - wait for another hart.  A plain compiler barrier:
 * the pause hint (Zihintpause) is not in every core's ISA.
 */
static inline void
percpu_md_relax(unsigned spins)
{
	(void)spins;
	__asm__ __volatile__("" ::: "memory");
}

#endif /* PERCPU_MD_RISCV_H */
