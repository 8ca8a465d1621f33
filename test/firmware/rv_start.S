/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rv_start.S - entry of the RISC-V firmware run (qemu virt, -bios none,
 * M-mode): every hart enters at _start with a0 = mhartid.  Each hart takes
 * its own stack and its trap vector; hart 0 zeroes the BSS and releases
 * the others; all call rv_main(hartid).  RV32 and RV64 (XLEN-sized saves).
 */
#if __riscv_xlen == 64
# define REG_S sd
# define REG_L ld
# define SZREG 8
#else
# define REG_S sw
# define REG_L lw
# define SZREG 4
#endif

	.section .text.start, "ax"
	.global _start
_start:
	csrr	a0, mhartid
	li	t0, 4
	bgeu	a0, t0, park
	/* sp = rv_stacks + (hart + 1) * 8 KiB */
	la	sp, rv_stacks
	addi	t0, a0, 1
	slli	t0, t0, 13
	add	sp, sp, t0
	la	t0, rv_trap
	csrw	mtvec, t0
	bnez	a0, wait
	/* Hart 0: zero the BSS, then release the others. */
	la	t0, rv_bss_start
	la	t1, rv_bss_end
1:	bgeu	t0, t1, 2f
	REG_S	zero, 0(t0)
	addi	t0, t0, SZREG
	j	1b
2:	fence	rw, rw
	la	t0, rv_released
	li	t1, 1
	sw	t1, 0(t0)
	j	go
wait:	la	t0, rv_released
3:	lw	t1, 0(t0)
	beqz	t1, 3b
	fence	rw, rw
go:	call	rv_main
park:	wfi
	j	park

/* The trap vector: save the caller-saved registers, call rv_trap_c(mcause). */
	.balign 4
rv_trap:
	addi	sp, sp, -16 * SZREG
	REG_S	ra, 0 * SZREG(sp)
	REG_S	t0, 1 * SZREG(sp)
	REG_S	t1, 2 * SZREG(sp)
	REG_S	t2, 3 * SZREG(sp)
	REG_S	a0, 4 * SZREG(sp)
	REG_S	a1, 5 * SZREG(sp)
	REG_S	a2, 6 * SZREG(sp)
	REG_S	a3, 7 * SZREG(sp)
	REG_S	a4, 8 * SZREG(sp)
	REG_S	a5, 9 * SZREG(sp)
	REG_S	a6, 10 * SZREG(sp)
	REG_S	a7, 11 * SZREG(sp)
	REG_S	t3, 12 * SZREG(sp)
	REG_S	t4, 13 * SZREG(sp)
	REG_S	t5, 14 * SZREG(sp)
	REG_S	t6, 15 * SZREG(sp)
	csrr	a0, mcause
	csrr	a1, mepc
	call	rv_trap_c
	REG_L	ra, 0 * SZREG(sp)
	REG_L	t0, 1 * SZREG(sp)
	REG_L	t1, 2 * SZREG(sp)
	REG_L	t2, 3 * SZREG(sp)
	REG_L	a0, 4 * SZREG(sp)
	REG_L	a1, 5 * SZREG(sp)
	REG_L	a2, 6 * SZREG(sp)
	REG_L	a3, 7 * SZREG(sp)
	REG_L	a4, 8 * SZREG(sp)
	REG_L	a5, 9 * SZREG(sp)
	REG_L	a6, 10 * SZREG(sp)
	REG_L	a7, 11 * SZREG(sp)
	REG_L	t3, 12 * SZREG(sp)
	REG_L	t4, 13 * SZREG(sp)
	REG_L	t5, 14 * SZREG(sp)
	REG_L	t6, 15 * SZREG(sp)
	addi	sp, sp, 16 * SZREG
	mret

	.section .data
	.balign 4
rv_released:
	.word	0

	.section .bss.stacks, "aw", @nobits
	.balign 16
rv_stacks:
	.space	4 * 8192
