/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - the bare-metal self-test: four Cortex-A53 cores of qemu virt
 * use the toolkit at once, on the ready AArch64 port (PERCPU_MD_BAREMETAL:
 * MPIDR_EL1 ids, DAIF-masking sections) with the static arena (no malloc).
 *
 * Core 0 sets up, starts cores 1-3 with PSCI CPU_ON, and all four run
 * BM_ITERS rounds of: a cpumem section with an owner stamp (exclusivity;
 * DAIF.I must be set inside and clear after), OpenBSD counters_pkt,
 * counter(9) adds (an allocated and an early counter), a critical
 * section around a DPCPU increment, NetBSD getref/putref.  Meanwhile core
 * 0 enters the other cores' sections remotely (percpu_enter_cpu) with its
 * own stamp, and core 1 reads core 2's counter set as snapshots, which
 * must be consistent.  Every core also takes virtual-timer interrupts
 * (PPI 27 through the GICv2) whose handler updates the same counter(9),
 * counters, DPCPU, cpumem and percpu objects; each core keeps running
 * until it took BM_MIN_TICKS of them.  Then core 0 checks every total
 * exactly (main-code updates plus ticks), prints
 * "baremetal: PASS" (or what failed) on the PL011 and powers off through
 * PSCI SYSTEM_OFF.  Any toolkit panic prints and powers off too.
 */
#include <stddef.h>
#include <stdint.h>

#define PERCPU_IMPLEMENTATION
void bm_panic(const char *msg);
#define PERCPU_PANIC(msg) bm_panic(msg)
#include "counter.h"
#include "cpumem.h"
#include "dpcpu.h"
#include "percpu.h"

#define BM_NCPU 4
#define BM_ITERS 20000
#define BM_REMOTE_EVERY 16
#define BM_MIN_TICKS 20	 /* timer interrupts per core, at least */
#define BM_TICK_HZ 2000u /* virtual-timer interrupt rate */

int64_t bm_psci(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
void bm_entry(void);
void bm_main(unsigned core);
void bm_irq(void);
void bm_exception(uint64_t idx, uint64_t esr, uint64_t elr);

/* ---- PL011 and PSCI ---- */

#define BM_UART 0x09000000u
#define BM_UART_FR 0x18u
#define BM_UART_TXFF (1u << 5)
#define BM_PSCI_CPU_ON 0xc4000003u
#define BM_PSCI_SYSTEM_OFF 0x84000008u
/* GICv2 of qemu virt; the EL1 virtual timer is PPI 27. */
#define BM_GICD 0x08000000u
#define BM_GICC 0x08010000u
#define BM_GICD_CTLR 0x000u
#define BM_GICD_ISENABLER0 0x100u
#define BM_GICD_IPRIORITYR 0x400u
#define BM_GICC_CTLR 0x000u
#define BM_GICC_PMR 0x004u
#define BM_GICC_IAR 0x00cu
#define BM_GICC_EOIR 0x010u
#define BM_VTIMER_IRQ 27u

static atomic_int bm_uart_lock;

static void
bm_putc(char c)
{
	volatile uint32_t *fr = (volatile uint32_t *)(BM_UART + BM_UART_FR);
	volatile uint32_t *dr = (volatile uint32_t *)BM_UART;

	while ((*fr & BM_UART_TXFF) != 0)
		;
	*dr = (uint32_t)(unsigned char)c;
}

static void
bm_puts(const char *s)
{
	while (*s != '\0')
		bm_putc(*s++);
}

static void
bm_putu(uint64_t v)
{
	char b[24];
	int i = 0;

	do {
		b[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (i > 0)
		bm_putc(b[--i]);
}

static void
bm_off(void)
{
	(void)bm_psci(BM_PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ __volatile__("wfe");
}

void
bm_panic(const char *msg)
{
	percpu_priv_spin_lock(&bm_uart_lock);
	bm_puts("baremetal: FAIL: toolkit panic: ");
	bm_puts(msg);
	bm_puts("\n");
	bm_off();
}

/* memset, memcpy, memmove, strlen, strcmp: test/firmware/fw_libc.c. */

/* ---- The test ---- */

static uint64_t
bm_daif(void)
{
	uint64_t daif;

	__asm__ __volatile__("mrs %0, daif" : "=r"(daif)::"memory");
	return (daif);
}

#define BM_DAIF_I (1u << 7)

struct bm_slot {
	uint64_t owner;	 /* stamp of the section holder, 0 outside */
	uint64_t count;	 /* own-core sections */
	uint64_t remote; /* core 0's remote sections */
	uint64_t ticks;	 /* the core's timer handler's sections */
};

DPCPU_DEFINE(uint64_t, bm_hits);
DPCPU_DEFINE(int, bm_quota) = 100;
COUNTER_U64_DEFINE_EARLY(bm_early);

static struct cpumem *bm_cm;
static struct cpumem *bm_ctr;
static counter_u64_t bm_c;
static percpu_t *bm_pc;
static atomic_uint bm_up, bm_done, bm_errors, bm_snaps;
static atomic_uint bm_go, bm_rounds, bm_half, bm_mid, bm_mid_go;
static const char *_Atomic bm_first_error;
/* Timer interrupts taken, per core (written by its handler only). */
static volatile uint64_t bm_ticks[BM_NCPU];
extern char bm_bss_start[], bm_bss_end[];

static void
bm_error(const char *what)
{
	const char *expect = NULL;

	atomic_fetch_add(&bm_errors, 1);
	atomic_compare_exchange_strong(&bm_first_error, &expect, what);
}

static void
bm_delay(unsigned n)
{
	volatile unsigned i;

	for (i = 0; i < n; i++)
		;
}

/* The stamped section body: nobody else may hold this slot. */
static void
bm_stamped(struct bm_slot *s, uint64_t stamp, int remote, unsigned i)
{
	if ((bm_daif() & BM_DAIF_I) == 0)
		bm_error("interrupts not masked inside a section");
	if (s->owner != 0)
		bm_error("two holders in one CPU's section (owner stamp)");
	s->owner = stamp;
	if (remote)
		s->remote++;
	else
		s->count++;
	if (i % 8 == 0)
		bm_delay(50);
	if (s->owner != stamp)
		bm_error("owner stamp changed inside a section");
	s->owner = 0;
}

/* ---- The timer interrupt ---- */

static void
bm_w32(uint32_t addr, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)addr = v;
}

static uint32_t
bm_r32(uint32_t addr)
{
	return (*(volatile uint32_t *)(uintptr_t)addr);
}

/* Reload the virtual timer: the next interrupt in 1/BM_TICK_HZ s. */
static void
bm_timer_reload(void)
{
	uint64_t frq;

	__asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(frq));
	__asm__ __volatile__("msr cntv_tval_el0, %0" : : "r"(frq / BM_TICK_HZ));
	__asm__ __volatile__("isb" ::: "memory");
}

/* This core: PPI 27 enabled at the GIC, the virtual timer running. */
static void
bm_timer_start(unsigned core)
{
	if (core == 0)
		bm_w32(BM_GICD + BM_GICD_CTLR, 1);
	/* Banked per core for SGIs and PPIs. */
	bm_w32(BM_GICD + BM_GICD_IPRIORITYR + BM_VTIMER_IRQ / 4 * 4,
	    bm_r32(BM_GICD + BM_GICD_IPRIORITYR + BM_VTIMER_IRQ / 4 * 4) &
		~(0xffu << (BM_VTIMER_IRQ % 4 * 8)));
	bm_w32(BM_GICD + BM_GICD_ISENABLER0, 1u << BM_VTIMER_IRQ);
	bm_w32(BM_GICC + BM_GICC_PMR, 0xff);
	bm_w32(BM_GICC + BM_GICC_CTLR, 1);
	bm_timer_reload();
	__asm__ __volatile__("msr cntv_ctl_el0, %0" : : "r"((uint64_t)1));
	__asm__ __volatile__("isb" ::: "memory");
}

static void
bm_timer_stop(void)
{
	__asm__ __volatile__("msr cntv_ctl_el0, %0" : : "r"((uint64_t)0));
	__asm__ __volatile__("isb" ::: "memory");
}

/*
 * bm_irq - the IRQ handler (start.S saved the caller-saved registers;
 * DAIF.I is set).  The timer's: the same objects as the main code.
 */
void
bm_irq(void)
{
	uint32_t iar = bm_r32(BM_GICC + BM_GICC_IAR);
	unsigned core = percpu_curcpu();
	struct bm_slot *s;
	uint64_t *p;

	if ((iar & 0x3ffu) == 1023u)
		return; /* spurious */
	if ((iar & 0x3ffu) != BM_VTIMER_IRQ) {
		bm_error("an unexpected interrupt");
		bm_w32(BM_GICC + BM_GICC_EOIR, iar);
		return;
	}
	bm_timer_reload();
	s = (struct bm_slot *)cpumem_enter(bm_cm);
	if (s->owner != 0)
		bm_error("the timer handler ran inside a section");
	s->owner = 0x200u + core;
	s->ticks++;
	s->owner = 0;
	cpumem_leave(bm_cm, s);
	counters_pkt(bm_ctr, 0, 1, core + 1u);
	counter_u64_add(bm_c, 1);
	counter_u64_add(bm_early, 2);
	critical_enter();
	(*DPCPU_PTR(bm_hits))++;
	critical_exit();
	p = (uint64_t *)percpu_getref(bm_pc);
	(*p)++;
	percpu_putref(bm_pc);
	bm_ticks[core] = bm_ticks[core] + 1;
	bm_w32(BM_GICC + BM_GICC_EOIR, iar);
}

void
bm_exception(uint64_t idx, uint64_t esr, uint64_t elr)
{
	percpu_priv_spin_lock(&bm_uart_lock);
	bm_puts("baremetal: FAIL: exception ");
	bm_putu(idx);
	bm_puts(", ESR ");
	bm_putu(esr);
	bm_puts(", ELR ");
	bm_putu(elr);
	bm_puts("\n");
	bm_off();
}

static void
bm_work(unsigned core)
{
	unsigned i, k = 1;

	if (DPCPU_GET(bm_quota) != 100 || DPCPU_ID_GET(core, bm_quota) != 100)
		bm_error("a DPCPU initializer did not reach this core's copy");
	if (percpu_curcpu() != core)
		bm_error("percpu_curcpu() is not MPIDR's core");
	bm_timer_start(core);
	__asm__ __volatile__("msr daifclr, #2" ::: "memory"); /* unmask IRQ */
	for (i = 0; i < BM_ITERS; i++) {
		struct bm_slot *s;
		uint64_t *p;

		/* Half-way, every core waits for all the others (outside any
		 * section: they may be entering ours remotely): all four are
		 * then inside their loops at once, whenever the host runs
		 * the vCPUs.  The last to arrive records the rounds done. */
		if (i == BM_ITERS / 2) {
			/* The others go on only once the rounds are recorded
			 * (bm_mid_go), so none can add to them before. */
			if (atomic_fetch_add(&bm_half, 1) == BM_NCPU - 1) {
				atomic_store(&bm_mid, atomic_load(&bm_rounds));
				atomic_store(&bm_mid_go, 1);
			}
			while (atomic_load(&bm_mid_go) == 0)
				;
		}
		s = (struct bm_slot *)cpumem_enter(bm_cm);
		atomic_fetch_add_explicit(&bm_rounds, 1, memory_order_relaxed);

		bm_stamped(s, core + 1u, 0, i);
		cpumem_leave(bm_cm, s);
		if ((bm_daif() & BM_DAIF_I) != 0)
			bm_error("interrupts still masked after a section");
		counters_pkt(bm_ctr, 0, 1, core + 1u);
		counter_u64_add(bm_c, 1);
		counter_u64_add(bm_early, 2);
		critical_enter();
		if (curcpu != core)
			bm_error("curcpu inside a critical section");
		(*DPCPU_PTR(bm_hits))++;
		critical_exit();
		p = (uint64_t *)percpu_getref(bm_pc);
		(*p)++;
		percpu_putref(bm_pc);
		if (core == 0 && i % BM_REMOTE_EVERY == 0) {
			/* As CPU k, from core 0: excludes core k's sections. */
			if (percpu_enter_cpu(k) != k)
				bm_error("percpu_enter_cpu");
			bm_stamped((struct bm_slot *)percpu_cur_ptr(bm_cm),
			    0x100u + k, 1, i);
			percpu_leave();
			k = k % (BM_NCPU - 1) + 1;
		}
		if (core == 1 && i % 32 == 0) {
			uint64_t snap[2];

			/* Core 2's set: every packet adds 1 and 3. */
			if (counters_read_cpu(bm_ctr, 2, snap, 2) != 0 ||
			    snap[1] != 3 * snap[0])
				bm_error("an inconsistent counters snapshot");
			atomic_fetch_add(&bm_snaps, 1);
		}
	}
	/* Wait for the event asserted on: this core's timer interrupts. */
	while (bm_ticks[core] < BM_MIN_TICKS)
		__asm__ __volatile__("wfi" ::: "memory");
	__asm__ __volatile__("msr daifset, #2" ::: "memory");
	bm_timer_stop();
}

static void
bm_check(const char *what, uint64_t got, uint64_t want)
{
	percpu_priv_spin_lock(&bm_uart_lock);
	bm_puts(got == want ? "ok   " : "FAIL ");
	bm_puts(what);
	bm_puts(": ");
	bm_putu(got);
	if (got != want) {
		bm_puts(", expected ");
		bm_putu(want);
		atomic_fetch_add(&bm_errors, 1);
	}
	bm_puts("\n");
	percpu_priv_spin_unlock(&bm_uart_lock);
}

static void
bm_sum_cb(void *p, void *arg, struct cpu_info *ci)
{
	(void)ci;
	*(uint64_t *)arg += *(uint64_t *)p;
}

static void
bm_primary(void)
{
	uint64_t c[2], sum = 0, own = 0, remote = 0, ticks = 0, tbytes = 0;
	uint64_t tsum = 0, tmin = UINT64_MAX, all;
	unsigned cpu, n;

	memset(bm_bss_start, 0, (size_t)(bm_bss_end - bm_bss_start));
	bm_puts("baremetal: percpu self-test, backend ");
	bm_puts(percpu_backend());
	bm_puts(", ");
	bm_putu(percpu_ncpus());
	bm_puts(" CPUs\n");
	bm_cm = cpumem_malloc(sizeof(struct bm_slot), 0);
	bm_ctr = counters_alloc(2);
	bm_c = counter_u64_alloc(M_WAITOK);
	bm_pc = percpu_alloc(sizeof(uint64_t));
	(void)counter_u64_fetch(bm_early); /* first use: allocates */
	if (bm_cm == NULL || bm_ctr == NULL || bm_pc == NULL)
		bm_panic("allocation failed");
	atomic_store(&bm_up, 1);
	for (cpu = 1; cpu < BM_NCPU; cpu++) {
		int64_t rc =
		    bm_psci(BM_PSCI_CPU_ON, cpu, (uint64_t)bm_entry, 0);

		if (rc != 0) {
			bm_puts("baremetal: FAIL: PSCI CPU_ON returned ");
			bm_putu((uint64_t)-rc);
			bm_puts(" (negated)\n");
			bm_off();
		}
	}
	while (atomic_load(&bm_up) != BM_NCPU)
		;
	atomic_store(&bm_go, 1);
	bm_work(0);
	atomic_fetch_add(&bm_done, 1);
	while (atomic_load(&bm_done) != BM_NCPU)
		;

	n = (BM_ITERS + BM_REMOTE_EVERY - 1) / BM_REMOTE_EVERY;
	PERCPU_FOREACH_CPU(cpu) {
		struct bm_slot *s = (struct bm_slot *)percpu_ptr(bm_cm, cpu);

		own += s->count == BM_ITERS && s->ticks == bm_ticks[cpu];
		sum += s->count;
		remote += s->remote;
		tsum += s->ticks;
		ticks += bm_ticks[cpu];
		tbytes += (cpu + 1u) * bm_ticks[cpu];
		if (bm_ticks[cpu] < tmin)
			tmin = bm_ticks[cpu];
	}
	all = (uint64_t)BM_NCPU * BM_ITERS + ticks;
	bm_check("cores started (PSCI CPU_ON)", atomic_load(&bm_up), BM_NCPU);
	/* All met half-way (else the run hangs and times out): the cores ran
	 * at the same time, each exactly half its rounds done then. */
	bm_check("cores met half-way, rounds done then", atomic_load(&bm_mid),
	    (uint64_t)BM_NCPU * (BM_ITERS / 2));
	bm_check("cpumem sections, all cores", sum,
	    (uint64_t)BM_NCPU * BM_ITERS);
	bm_check("cores whose slot has exactly its own sections", own, BM_NCPU);
	bm_puts("     (timer interrupts: ");
	bm_putu(ticks);
	bm_puts(", fewest on one core: ");
	bm_putu(tmin);
	bm_puts(")\n");
	bm_check("every core took BM_MIN_TICKS timer interrupts",
	    tmin >= BM_MIN_TICKS, 1);
	bm_check("timer handler cpumem sections", tsum, ticks);
	bm_check("remote sections (percpu_enter_cpu)", remote, n);
	counters_read(bm_ctr, c, 2, NULL);
	bm_check("counters_pkt packets", c[0], all);
	bm_check("counters_pkt bytes", c[1], (uint64_t)10 * BM_ITERS + tbytes);
	bm_check("counters snapshots read by core 1", atomic_load(&bm_snaps),
	    (BM_ITERS + 31) / 32);
	bm_check("counter_u64_fetch", counter_u64_fetch(bm_c), all);
	bm_check("counter_u64_fetch, early counter",
	    counter_u64_fetch(bm_early), 2 * all);
	counter_u64_zero(bm_c);
	bm_check("counter_u64_fetch after zero", counter_u64_fetch(bm_c), 0);
	bm_check("DPCPU_SUM of critical-section increments", DPCPU_SUM(bm_hits),
	    all);
	PERCPU_FOREACH_CPU(cpu)
		bm_check("DPCPU_ID_GET(cpu, hits)", DPCPU_ID_GET(cpu, bm_hits),
		    BM_ITERS + bm_ticks[cpu]);
	sum = 0;
	percpu_foreach(bm_pc, bm_sum_cb, &sum);
	bm_check("percpu getref/putref increments", sum, all);
	bm_check("errors seen by the cores", atomic_load(&bm_errors), 0);
	if (atomic_load(&bm_first_error) != NULL) {
		bm_puts("first error: ");
		bm_puts(atomic_load(&bm_first_error));
		bm_puts("\n");
	}
	bm_puts(atomic_load(&bm_errors) == 0 ? "baremetal: PASS\n" :
					       "baremetal: FAIL\n");
	bm_off();
}

void
bm_main(unsigned core)
{
	if (core == 0)
		bm_primary();
	atomic_fetch_add(&bm_up, 1);
	while (atomic_load(&bm_go) == 0)
		;
	bm_work(core);
	atomic_fetch_add(&bm_done, 1);
	for (;;)
		__asm__ __volatile__("wfe");
}
