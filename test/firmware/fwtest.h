/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwtest.h - the workload of the firmware runs under QEMU (RISC-V
 * M-mode with 4 harts, RV64 and RV32; Cortex-M3 UP): every core's main
 * code and its timer interrupt handler update the same objects of every
 * face, and the totals must be exact.
 *
 * The platform file (rv_main.c, m3_main.c) defines, before including
 * this file once:
 *
 *   FW_NCPU                    cores that run the workload
 *   void fw_putc(char c);      one byte out (any core; callers serialize)
 *   _Noreturn void fw_exit(int ok);   stop the machine, status ok / not
 *   unsigned fw_core(void);    the executing core, < FW_NCPU
 *   void fw_timer_start(void); arm this core's periodic timer interrupt
 *   void fw_timer_stop(void);  and stop it
 *   void fw_irq_on(void);      unmask this core's interrupts
 *   void fw_irq_off(void);     mask them
 *   int fw_irq_masked(void);   1 if this core's interrupts are masked
 *
 * and calls fw_tick() from the timer handler (after re-arming), and
 * fw_run(core) on every core once the C environment exists (BSS zero).
 * Link test/firmware/fw_libc.c (memset, memcpy, ...: no C library).
 *
 * What is checked, per object (counter(9), OpenBSD counters, DPCPU,
 * cpumem, NetBSD percpu): sum = every core's main-code updates + every
 * timer tick's.  The main code does its section updates as a read, a
 * pause (an out-of-line call, so the emulator can deliver an interrupt
 * in between), then the write: a section that does not mask interrupts
 * loses the handler's updates made in that window, and is also caught
 * directly: interrupts must be masked inside every section.
 */
#ifndef FWTEST_H
#define FWTEST_H

#include <stddef.h>
#include <stdint.h>

#define PERCPU_IMPLEMENTATION
void fw_panic(const char *msg);
#define PERCPU_PANIC(msg) fw_panic(msg)
#include "counter.h"
#include "cpumem.h"
#include "dpcpu.h"
#include "percpu.h"

#ifndef FW_MIN_ITERS
# define FW_MIN_ITERS 3000 /* main-code rounds per core, at least */
#endif
#ifndef FW_MIN_TICKS
# define FW_MIN_TICKS 40 /* timer interrupts per core, at least */
#endif
#ifndef FW_MAX_ITERS
# define FW_MAX_ITERS 50000000u /* gives up waiting for ticks */
#endif

_Noreturn void fw_exit(int ok);
void fw_putc(char c);
unsigned fw_core(void);
void fw_timer_start(void);
void fw_timer_stop(void);
void fw_irq_on(void);
void fw_irq_off(void);
int fw_irq_masked(void);
void fw_tick(void);
void fw_run(unsigned core);
void fw_pause(void);

static atomic_int fw_out_lock;

static void
fw_puts(const char *s)
{
	while (*s != '\0')
		fw_putc(*s++);
}

static void
fw_putu(uint64_t v)
{
	char b[24];
	int i = 0;

	do {
		b[i++] = (char)('0' + (unsigned)(v % 10u));
		v /= 10u;
	} while (v != 0);
	while (i > 0)
		fw_putc(b[--i]);
}

/* A toolkit panic: print it and stop with a failure. */
void
fw_panic(const char *msg)
{
	percpu_priv_spin_lock(&fw_out_lock);
	fw_puts("firmware: FAIL: toolkit panic: ");
	fw_puts(msg);
	fw_puts("\n");
	fw_exit(0);
}

/* ---- The workload ---- */

DPCPU_DEFINE(uint64_t, fw_hits);

static counter_u64_t fw_c;
static struct cpumem *fw_ctr; /* counters: [0] spread RMW, [1] pkt bytes */
static struct cpumem *fw_cm;  /* uint64_t per CPU */
static percpu_t *fw_pc;	      /* uint64_t per CPU */
static atomic_uint fw_go, fw_done, fw_errors;
static const char *_Atomic fw_first_error;
/* Written by the core itself (ticks: its handler), read after fw_done. */
static volatile uint64_t fw_iters[FW_NCPU], fw_ticks[FW_NCPU];

static void
fw_error(const char *what)
{
	const char *expect = NULL;

	atomic_fetch_add(&fw_errors, 1);
	atomic_compare_exchange_strong(&fw_first_error, &expect, what);
}

/* Out of line: the emulator may deliver an interrupt at the call. */
void
fw_pause(void)
{
	volatile unsigned i;

	for (i = 0; i < 4; i++)
		;
}

/* Inside a section: interrupts must be masked. */
static void
fw_in_section(const char *face)
{
	if (!fw_irq_masked())
		fw_error(face);
}

/*
 * fw_update - one round of updates of every object.  @spread: the main
 * code's read, pause, write inside each section; the handler (0) updates
 * at once.
 */
static void
fw_update(int spread)
{
	struct counters_ref ref;
	uint64_t *cs, *p, v;

	counter_u64_add(fw_c, 1);

	cs = counters_enter(&ref, fw_ctr);
	if (spread)
		fw_in_section("counters_enter does not mask interrupts");
	v = cs[0];
	if (spread)
		fw_pause();
	cs[0] = v + 1;
	counters_leave(&ref, fw_ctr);
	counters_add(fw_ctr, 1, 3);

	p = (uint64_t *)cpumem_enter(fw_cm);
	if (spread)
		fw_in_section("cpumem_enter does not mask interrupts");
	v = *p;
	if (spread)
		fw_pause();
	*p = v + 1;
	cpumem_leave(fw_cm, p);

	critical_enter();
	if (spread)
		fw_in_section("critical_enter does not mask interrupts");
	v = DPCPU_GET(fw_hits);
	if (spread)
		fw_pause();
	DPCPU_SET(fw_hits, v + 1);
	critical_exit();

	p = (uint64_t *)percpu_getref(fw_pc);
	if (spread)
		fw_in_section("percpu_getref does not mask interrupts");
	v = *p;
	if (spread)
		fw_pause();
	*p = v + 1;
	percpu_putref(fw_pc);
}

/* The timer handler's part (interrupts masked: the handler's context). */
void
fw_tick(void)
{
	unsigned core = fw_core();

	if (atomic_load_explicit(&fw_go, memory_order_relaxed) == 0)
		return;
	fw_update(0);
	fw_ticks[core] = fw_ticks[core] + 1;
}

static void
fw_check(const char *what, uint64_t got, uint64_t want)
{
	fw_puts(got == want ? "ok   " : "FAIL ");
	fw_puts(what);
	fw_puts(": ");
	fw_putu(got);
	if (got != want) {
		fw_puts(", expected ");
		fw_putu(want);
		atomic_fetch_add(&fw_errors, 1);
	}
	fw_puts("\n");
}

static void
fw_sum_cb(void *p, void *arg, struct cpu_info *ci)
{
	(void)ci;
	*(uint64_t *)arg += *(uint64_t *)p;
}

static void
fw_report(void)
{
	uint64_t all = 0, ticks = 0, sum = 0, c[2];
	struct cpumem_iter it;
	uint64_t *p;
	unsigned cpu, mincpu = 0;

	for (cpu = 0; cpu < FW_NCPU; cpu++) {
		all += fw_iters[cpu] + fw_ticks[cpu];
		ticks += fw_ticks[cpu];
		if (fw_ticks[cpu] < fw_ticks[mincpu])
			mincpu = cpu;
	}
	fw_puts("firmware: ");
	fw_putu(FW_NCPU);
	fw_puts(" cores, backend ");
	fw_puts(percpu_backend());
	fw_puts(", timer interrupts ");
	fw_putu(ticks);
	fw_puts("\n");
	fw_puts("     (fewest on one core: ");
	fw_putu(fw_ticks[mincpu]);
	fw_puts(")\n");
	fw_check("every core took FW_MIN_TICKS timer interrupts",
	    fw_ticks[mincpu] >= FW_MIN_TICKS, 1);
	fw_check("counter_u64_fetch (counter(9))", counter_u64_fetch(fw_c),
	    all);
	counters_read(fw_ctr, c, 2, NULL);
	fw_check("counters_read [0] (section RMW)", c[0], all);
	fw_check("counters_read [1] (counters_add)", c[1], 3 * all);
	CPUMEM_FOREACH(p, &it, fw_cm)
		sum += *p;
	fw_check("cpumem sum", sum, all);
	fw_check("DPCPU_SUM", DPCPU_SUM(fw_hits), all);
	sum = 0;
	percpu_foreach(fw_pc, fw_sum_cb, &sum);
	fw_check("percpu getref/putref sum", sum, all);
	for (cpu = 0; cpu < FW_NCPU; cpu++) {
		fw_check("this core's cpumem copy",
		    *(uint64_t *)percpu_ptr(fw_cm, cpu),
		    fw_iters[cpu] + fw_ticks[cpu]);
		fw_check("this core's DPCPU copy", DPCPU_ID_GET(cpu, fw_hits),
		    fw_iters[cpu] + fw_ticks[cpu]);
	}
	fw_check("errors seen by the cores", atomic_load(&fw_errors), 0);
	if (atomic_load(&fw_first_error) != NULL) {
		fw_puts("first error: ");
		fw_puts(atomic_load(&fw_first_error));
		fw_puts("\n");
	}
	fw_puts(atomic_load(&fw_errors) == 0 ? "firmware: PASS\n" :
					       "firmware: FAIL\n");
	fw_exit(atomic_load(&fw_errors) == 0);
}

/*
 * fw_run - every core: core 0 allocates and releases the others; each
 * core runs until it did FW_MIN_ITERS rounds and saw FW_MIN_TICKS timer
 * interrupts (at most FW_MAX_ITERS rounds), then stops its timer; core 0
 * checks the totals.
 */
void
fw_run(unsigned core)
{
	uint64_t i;

	if (core == 0) {
		percpu_init(); /* boot: before any other core uses the toolkit
				*/
		fw_c = counter_u64_alloc(M_WAITOK);
		fw_ctr = counters_alloc(2);
		fw_cm = cpumem_malloc(sizeof(uint64_t), 0);
		fw_pc = percpu_alloc(sizeof(uint64_t));
		if (fw_ctr == NULL || fw_cm == NULL || fw_pc == NULL)
			fw_panic("allocation failed");
		atomic_store(&fw_go, 1);
	}
	while (atomic_load(&fw_go) == 0)
		;
	fw_timer_start();
	fw_irq_on();
	for (i = 0; i < FW_MAX_ITERS; i++) {
		if (i >= FW_MIN_ITERS && fw_ticks[core] >= FW_MIN_TICKS)
			break;
		fw_update(1);
		if (fw_irq_masked())
			fw_error("interrupts still masked after the sections");
	}
	fw_irq_off();
	fw_timer_stop();
	fw_iters[core] = i;
	atomic_fetch_add(&fw_done, 1);
	if (core != 0)
		return;
	while (atomic_load(&fw_done) != FW_NCPU)
		;
	fw_report();
}

#endif /* FWTEST_H */
