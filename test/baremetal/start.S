/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * start.S - entry of the bare-metal AArch64 self-test (qemu virt, EL1).
 *
 * Every core enters at _start: core 0 from qemu's -kernel boot, the others
 * through PSCI CPU_ON (bm_cpu_on) with the same entry.  Each core takes its
 * own stack, allows FP/SIMD, turns on the MMU with the identity map below
 * (Device memory for the first GiB, where the PL011 lives; Normal
 * write-back cacheable, inner shareable for RAM, so that exclusive loads
 * and stores work), installs the exception vectors (the timer's IRQ goes
 * to bm_irq()) and calls bm_main(core).
 */
	.section .text.start, "ax"
	.global _start
_start:
	mrs	x19, mpidr_el1
	and	x19, x19, #0xff			/* core = Aff0 (qemu virt) */
	cmp	x19, #4
	b.hs	park
	/* sp = bm_stacks + (core + 1) * 16 KiB */
	adrp	x0, bm_stacks
	add	x0, x0, :lo12:bm_stacks
	add	x1, x19, #1
	lsl	x1, x1, #14
	add	sp, x0, x1
	/* FP/SIMD at EL1 and EL0 (CPACR_EL1.FPEN = 0b11). */
	mov	x0, #(3 << 20)
	msr	cpacr_el1, x0
	isb
	/* MAIR: attr0 Device-nGnRnE, attr1 Normal WB RW-allocate. */
	mov	x0, #0xff00
	msr	mair_el1, x0
	/* TCR: T0SZ=32 (4 GiB), WB WA walks, inner shareable, 4 KiB
	 * granule, no TTBR1 walks (EPD1), 32-bit PA. */
	ldr	x0, =((32 << 0) | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23))
	msr	tcr_el1, x0
	adrp	x0, bm_l1
	add	x0, x0, :lo12:bm_l1
	msr	ttbr0_el1, x0
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	/* SCTLR_EL1: M (MMU), C (data cache), I (instruction cache). */
	mrs	x0, sctlr_el1
	ldr	x1, =((1 << 0) | (1 << 2) | (1 << 12))
	orr	x0, x0, x1
	bic	x0, x0, #(1 << 1)		/* no alignment faults */
	msr	sctlr_el1, x0
	isb
	/* The exception vectors (IRQ: bm_irq_entry). */
	adrp	x0, bm_vectors
	add	x0, x0, :lo12:bm_vectors
	msr	vbar_el1, x0
	isb
	mov	x0, x19
	bl	bm_main
park:
	wfe
	b	park

/*
 * bm_psci(fn, a1, a2, a3) - a PSCI call through HVC (qemu virt's
 * conduit when the guest boots at EL1 without firmware).  Returns x0.
 */
	.text
	.global bm_psci
bm_psci:
	hvc	#0
	ret

/* bm_entry - the address secondaries start at. */
	.global bm_entry
bm_entry:
	b	_start

/*
 * The vector table: 16 entries of 128 bytes.  IRQ from the current EL
 * (SP_ELx, +0x280) saves the caller-saved registers and calls bm_irq();
 * everything else is unexpected: bm_exception(index, ESR_EL1, ELR_EL1).
 */
	.macro	bm_vec n
	.balign	128
	.if	\n == 5
	b	bm_irq_entry
	.else
	mov	x0, #\n
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	b	bm_exception
	.endif
	.endm

	.balign	2048
bm_vectors:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	bm_vec	\n
	.endr

bm_irq_entry:
	/* Frame: x29 x30 | x0..x17 | x18 ELR | SPSR, pad (192 bytes). */
	stp	x29, x30, [sp, #-192]!
	stp	x0, x1, [sp, #16]
	stp	x2, x3, [sp, #32]
	stp	x4, x5, [sp, #48]
	stp	x6, x7, [sp, #64]
	stp	x8, x9, [sp, #80]
	stp	x10, x11, [sp, #96]
	stp	x12, x13, [sp, #112]
	stp	x14, x15, [sp, #128]
	stp	x16, x17, [sp, #144]
	mrs	x0, elr_el1
	mrs	x1, spsr_el1
	stp	x18, x0, [sp, #160]
	str	x1, [sp, #176]
	bl	bm_irq
	ldr	x1, [sp, #176]
	ldp	x18, x0, [sp, #160]
	msr	elr_el1, x0
	msr	spsr_el1, x1
	ldp	x0, x1, [sp, #16]
	ldp	x2, x3, [sp, #32]
	ldp	x4, x5, [sp, #48]
	ldp	x6, x7, [sp, #64]
	ldp	x8, x9, [sp, #80]
	ldp	x10, x11, [sp, #96]
	ldp	x12, x13, [sp, #112]
	ldp	x14, x15, [sp, #128]
	ldp	x16, x17, [sp, #144]
	ldp	x29, x30, [sp], #192
	eret

/* The level-1 table: four 1 GiB blocks. */
	.section .data.pagetable, "aw"
	.balign 4096
bm_l1:
	/* 0x00000000: Device-nGnRnE (attr0), AF, block. */
	.quad	0x00000000 | (1 << 10) | (0 << 2) | 1
	/* 0x40000000: Normal (attr1), inner shareable, AF, block. */
	.quad	0x40000000 | (1 << 10) | (3 << 8) | (1 << 2) | 1
	.quad	0x80000000 | (1 << 10) | (3 << 8) | (1 << 2) | 1
	.quad	0

	.section .bss.stacks, "aw", %nobits
	.balign 16
bm_stacks:
	.space	4 * 16384
