/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * port_riscv_smode.h - a PERCPU_MD_USER port for RISC-V firmware in
 * supervisor mode (under OpenSBI), where mhartid is not readable.
 *
 *	cc -DPERCPU_MD=PERCPU_MD_USER \
 *	   -DPERCPU_MD_USER_HEADER='"firmware/port_riscv_smode.h"' ...
 *
 * CPU id: the firmware keeps a per-hart block whose first word is the
 * hart's id (OpenSBI passes it in a0 at boot) and points tp at it on
 * every hart, as S-mode kernels do; the id must be < PERCPU_MAXCPU.
 * Interrupt mask: sstatus.SIE (csrrci), restored to its old value.
 */
#ifndef PORT_RISCV_SMODE_H
#define PORT_RISCV_SMODE_H

#define PERCPU_MD_NAME "riscv-smode"
#define PERCPU_MD_HAS_CPU_ID 1
#define PERCPU_MD_HAS_IRQ 1

/* sstatus.SIE */
#define PORT_RISCV_SIE 2ul

/*
 * percpu_md_cpu_id - the executing hart: the first word of its block.
 * pre: tp points at the hart's block.
 */
static inline unsigned
percpu_md_cpu_id(void)
{
	const unsigned long *blk;

	__asm__("mv %0, tp" : "=r"(blk));
	return ((unsigned)blk[0]);
}

typedef unsigned long percpu_md_irq_t;

/* percpu_md_irq_save - clear sstatus.SIE; return its old bit. */
static inline percpu_md_irq_t
percpu_md_irq_save(void)
{
	unsigned long old;

	__asm__ __volatile__("csrrci %0, sstatus, 2" : "=r"(old) : : "memory");
	return (old & PORT_RISCV_SIE);
}

/* percpu_md_irq_restore - set sstatus.SIE back as it was. */
static inline void
percpu_md_irq_restore(percpu_md_irq_t sie)
{
	__asm__ __volatile__("csrs sstatus, %0" : : "r"(sie) : "memory");
}

#endif /* PORT_RISCV_SMODE_H */
