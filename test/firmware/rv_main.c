/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rv_main.c - the RISC-V firmware run: four harts of qemu virt in M-mode
 * (-bios none) on the ready port (PERCPU_MD_BAREMETAL: mhartid ids,
 * mstatus.MIE-masking sections), static arena, no C library.  Each hart
 * takes machine timer interrupts from the CLINT while it runs the
 * workload of fwtest.h; the totals must be exact.  RV64 and RV32 (whose
 * 64-bit atomics are the library calls of rv32_atomic.c).
 *
 * Devices: NS16550 UART at 0x10000000, CLINT at 0x2000000 (mtimecmp per
 * hart at +0x4000, mtime at +0xbff8, 10 MHz), the SiFive test device at
 * 0x100000 (0x5555 powers off with status 0, code << 16 | 0x3333 fails).
 */
#include <stdint.h>

#define FW_NCPU 4
#include "fwtest.h"

#define RV_UART 0x10000000ul
#define RV_UART_LSR 5u
#define RV_UART_THRE 0x20u
#define RV_CLINT_MTIMECMP 0x2004000ul
#define RV_CLINT_MTIME 0x200bff8ul
#define RV_TEST 0x100000ul
#define RV_TICK 5000u	       /* mtime units (10 MHz): 0.5 ms */
#define RV_MIE_MTIE (1ul << 7) /* mie: machine timer */
#define RV_MSTATUS_MIE 8ul
#define RV_MCAUSE_MTI 7ul

void rv_main(unsigned long hart);
void rv_trap_c(unsigned long mcause, unsigned long mepc);

void
fw_putc(char c)
{
	volatile uint8_t *u = (volatile uint8_t *)RV_UART;

	while ((u[RV_UART_LSR] & RV_UART_THRE) == 0)
		;
	u[0] = (uint8_t)c;
}

_Noreturn void
fw_exit(int ok)
{
	*(volatile uint32_t *)RV_TEST = ok ? 0x5555u : (1u << 16) | 0x3333u;
	for (;;)
		__asm__ __volatile__("wfi");
}

unsigned
fw_core(void)
{
	unsigned long hart;

	__asm__ __volatile__("csrr %0, mhartid" : "=r"(hart));
	return ((unsigned)hart);
}

static uint64_t
rv_mtime(void)
{
#if __riscv_xlen == 64
	return (*(volatile uint64_t *)RV_CLINT_MTIME);
#else
	volatile uint32_t *t = (volatile uint32_t *)RV_CLINT_MTIME;
	uint32_t hi, lo;

	do {
		hi = t[1];
		lo = t[0];
	} while (t[1] != hi);
	return ((uint64_t)hi << 32 | lo);
#endif
}

static void
rv_set_mtimecmp(uint64_t when)
{
#if __riscv_xlen == 64
	*(volatile uint64_t *)(RV_CLINT_MTIMECMP + 8u * fw_core()) = when;
#else
	volatile uint32_t *c =
	    (volatile uint32_t *)(RV_CLINT_MTIMECMP + 8u * fw_core());

	c[0] = UINT32_MAX; /* never below the old and new value meanwhile */
	c[1] = (uint32_t)(when >> 32);
	c[0] = (uint32_t)when;
#endif
}

void
fw_timer_start(void)
{
	rv_set_mtimecmp(rv_mtime() + RV_TICK);
	__asm__ __volatile__("csrs mie, %0" : : "r"(RV_MIE_MTIE) : "memory");
}

void
fw_timer_stop(void)
{
	__asm__ __volatile__("csrc mie, %0" : : "r"(RV_MIE_MTIE) : "memory");
	rv_set_mtimecmp(UINT64_MAX);
}

void
fw_irq_on(void)
{
	__asm__ __volatile__("csrsi mstatus, 8" ::: "memory");
}

void
fw_irq_off(void)
{
	__asm__ __volatile__("csrci mstatus, 8" ::: "memory");
}

int
fw_irq_masked(void)
{
	unsigned long s;

	__asm__ __volatile__("csrr %0, mstatus" : "=r"(s)::"memory");
	return ((s & RV_MSTATUS_MIE) == 0);
}

/* Called by the trap vector (rv_start.S) with interrupts masked. */
void
rv_trap_c(unsigned long mcause, unsigned long mepc)
{
	unsigned long irq = 1ul << (sizeof(long) * 8 - 1);

	if (mcause == (irq | RV_MCAUSE_MTI)) {
		rv_set_mtimecmp(rv_mtime() + RV_TICK);
		fw_tick();
		return;
	}
	percpu_priv_spin_lock(&fw_out_lock);
	fw_puts("firmware: FAIL: unexpected trap, mcause ");
	fw_putu(mcause);
	fw_puts(" mepc ");
	fw_putu(mepc);
	fw_puts("\n");
	fw_exit(0);
}

void
rv_main(unsigned long hart)
{
	fw_run((unsigned)hart);
	for (;;)
		__asm__ __volatile__("wfi");
}
