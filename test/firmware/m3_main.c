/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * m3_main.c - the Cortex-M3 firmware run: a UP build (PERCPU_MP=0) with
 * the PRIMASK port (test/firmware/port_cortexm.h), static arena, no C
 * library, on qemu -M mps2-an385.  SysTick interrupts while the workload
 * of fwtest.h runs; the totals must be exact, so every section of every
 * face must mask.
 *
 * Devices: CMSDK UART0 at 0x40004000, SysTick (25 MHz core clock),
 * semihosting SYS_EXIT to stop qemu (-semihosting-config enable=on).
 */
#include <stdint.h>

#define FW_NCPU 1
#include "fwtest.h"

#define M3_UART 0x40004000u
#define M3_UART_TXFULL 1u
#define M3_SYST_CSR 0xe000e010u
#define M3_SYST_RVR 0xe000e014u
#define M3_SYST_CVR 0xe000e018u
#define M3_TICK 5000u /* core cycles: 0.2 ms at 25 MHz */

void m3_reset(void);
void m3_systick(void);
void m3_fault(void);
extern char m3_bss_start[], m3_bss_end[], m3_stack_top[];

/* The vector table: initial SP, reset, NMI, HardFault .. SysTick (15). */
__attribute__((section(".vectors"), used)) static void (*const m3_vectors[16])(
    void) = {(void (*)(void))(uintptr_t)m3_stack_top, m3_reset, m3_fault,
    m3_fault, m3_fault, m3_fault, m3_fault, 0, 0, 0, 0, m3_fault, m3_fault, 0,
    m3_fault, m3_systick};

void
fw_putc(char c)
{
	volatile uint32_t *u = (volatile uint32_t *)M3_UART;

	while ((u[1] & M3_UART_TXFULL) != 0)
		;
	u[0] = (uint8_t)c;
}

/* Semihosting SYS_EXIT: ApplicationExit (status 0) or RunTimeErrorUnknown. */
_Noreturn void
fw_exit(int ok)
{
	register uint32_t r0 __asm__("r0") = 0x18u;
	register uint32_t r1 __asm__("r1") = ok ? 0x20026u : 0x20023u;

	__asm__ __volatile__("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
	for (;;)
		;
}

unsigned
fw_core(void)
{
	return (0);
}

void
fw_timer_start(void)
{
	*(volatile uint32_t *)M3_SYST_RVR = M3_TICK - 1u;
	*(volatile uint32_t *)M3_SYST_CVR = 0;
	*(volatile uint32_t *)M3_SYST_CSR =
	    7u; /* enable, interrupt, core clock */
}

void
fw_timer_stop(void)
{
	*(volatile uint32_t *)M3_SYST_CSR = 0;
}

void
fw_irq_on(void)
{
	__asm__ __volatile__("cpsie i" ::: "memory");
}

void
fw_irq_off(void)
{
	__asm__ __volatile__("cpsid i" ::: "memory");
}

int
fw_irq_masked(void)
{
	uint32_t pm;

	__asm__ __volatile__("mrs %0, primask" : "=r"(pm)::"memory");
	return ((pm & 1u) != 0);
}

/* An exception handler is a plain function on Cortex-M. */
void
m3_systick(void)
{
	fw_tick();
}

void
m3_fault(void)
{
	fw_puts("firmware: FAIL: fault\n");
	fw_exit(0);
}

void
m3_reset(void)
{
	char *p;

	for (p = m3_bss_start; p < m3_bss_end; p++)
		*(volatile char *)p = 0;
	((volatile uint32_t *)M3_UART)[4] = 16u; /* BAUDDIV */
	((volatile uint32_t *)M3_UART)[2] = 1u;	 /* CTRL: TX enable */
	fw_irq_off();
	fw_run(0);
	fw_exit(0);
}
