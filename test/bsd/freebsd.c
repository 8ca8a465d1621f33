/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test/bsd/freebsd.c - consumers in the shape of FreeBSD kernel code,
 * built through the compat tree (-Icompat/freebsd): <sys/pcpu.h>,
 * <sys/smp.h>, <sys/counter.h>, <sys/kernel.h>, <vm/uma.h>.  Our code,
 * written from dpcpu(9), counter(9) and the zpcpu/uma pcpu-zone
 * semantics: scheduler-style DPCPU arrays and structs, a subr_pcpu-style
 * sysctl that adds dpcpu_off[] itself, TCPSTAT-style counter arrays zeroed
 * under load, an ena-style counter_enter block, ICMP-bandlim-style rate
 * checks (the visible struct with ticks, and counter_rate_alloc), zpcpu
 * items of pcpu zones, and counters made by COUNTER_U64_SYSINIT and
 * COUNTER_U64_DEFINE_EARLY.
 */
#define _GNU_SOURCE
#include "../harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The rate-check clock of this file, driven by hand. */
static _Atomic(int64_t) fb_clock_ns = 7 * (int64_t)1000000000;

static int64_t
fb_now_ns(void)
{
	return (atomic_load(&fb_clock_ns));
}

static void
fb_advance_ms(int64_t ms)
{
	atomic_fetch_add(&fb_clock_ns, ms * 1000000);
}

#define COUNTER_RATE_NOW_NS() fb_now_ns()
#include <sys/counter.h>
#include <sys/kernel.h>
#include <sys/pcpu.h>
#include <sys/smp.h>
#include <vm/uma.h>

/* A porter's shim (README, Porting kernel code): curthread->td_critnest. */
#define td_critnest_of_curthread() percpu_in_section()

/* Does the build track sections (MP, or a UP build with PERCPU_DEBUG=1)? */
#if PERCPU_MP || PERCPU_DEBUG
# define TRACKS_SECTIONS 1
#else
# define TRACKS_SECTIONS 0
#endif

/* ---- Scheduler-style DPCPU arrays and structs ---- */

#define SWT_COUNT 4

struct tdq_stat {
	uint64_t ts_switches;
	uint64_t ts_load;
	long ts_hist[3];
};

DPCPU_DEFINE_STATIC(long, sched_switch_stats[SWT_COUNT]);
DPCPU_DEFINE_STATIC(struct tdq_stat, tdq_stats);
DPCPU_DEFINE(int, sched_quota) = 7;

static atomic_uint critnest_missing;

static void *
mi_switch(void *arg)
{
	struct harness_ctx *ctx = arg;
	uint32_t seed = ctx->index * 17u + 3;
	unsigned i;

	for (i = 0; i < 20000; i++) {
		int flag = (int)(i % SWT_COUNT);

		critical_enter();
		if (td_critnest_of_curthread() == 0 && TRACKS_SECTIONS)
			atomic_fetch_add(&critnest_missing, 1);
		DPCPU_GET(sched_switch_stats[flag])++;
		(*DPCPU_PTR(tdq_stats.ts_switches))++;
		DPCPU_GET(tdq_stats.ts_load) += 2;
		DPCPU_GET(tdq_stats.ts_hist[i % 3]) += 1;
		critical_exit();
		harness_migrate(i, &seed);
	}
	return (NULL);
}

#if PERCPU_MP || DPCPU_UP_OFFSETS
/* subr_pcpu.c's sysctl_dpcpu_long: the offsets added by hand, absent CPUs
 * (offset 0) skipped. */
static long
sysctl_dpcpu_long(const void *arg1)
{
	long count = 0;
	uintptr_t dpcpu;
	unsigned i;

	CPU_FOREACH(i) {
		dpcpu = dpcpu_off[i];
		if (dpcpu == 0)
			continue;
		count += *(const long *)(dpcpu + (uintptr_t)arg1);
	}
	return (count);
}
#endif

/* td_critnest-style checks: nonzero inside critical_enter(), nested
 * ones counted, zero outside (where the build tracks sections). */
Test(freebsd, critnest_shim_follows_critical_sections)
{
	cr_assert_eq(td_critnest_of_curthread(), 0);
	critical_enter();
	cr_assert_eq(td_critnest_of_curthread(), TRACKS_SECTIONS ? 1u : 0u);
	counter_enter();
	cr_assert_eq(td_critnest_of_curthread(), TRACKS_SECTIONS ? 2u : 0u);
	counter_exit();
	critical_exit();
	cr_assert_eq(td_critnest_of_curthread(), 0);
}

Test(freebsd, scheduler_dpcpu_arrays_and_members_sum_exactly)
{
	unsigned n = harness_threads(), cpu, k;
	long per = (long)n * 20000 / SWT_COUNT;

	harness_run(n, mi_switch, NULL);
	cr_assert_eq(atomic_load(&critnest_missing), 0);
	for (k = 0; k < SWT_COUNT; k++) {
		long by_id = 0;

		cr_assert_eq(DPCPU_SUM(sched_switch_stats[k]), per, "flag %u",
		    k);
		CPU_FOREACH(cpu) {
			/* The whole array of one CPU, and one element. */
			long(*a)[SWT_COUNT] =
			    DPCPU_ID_PTR(cpu, sched_switch_stats);

			cr_assert_eq((*a)[k],
			    DPCPU_ID_GET(cpu, sched_switch_stats[k]));
			by_id += (*a)[k];
		}
		cr_assert_eq(by_id, per);
#if PERCPU_MP || DPCPU_UP_OFFSETS
		cr_assert_eq(
		    sysctl_dpcpu_long(&DPCPU_NAME(sched_switch_stats[k])), per);
#endif
	}
	cr_assert_eq(DPCPU_VARSUM(tdq_stats, ts_switches), (uint64_t)n * 20000);
	cr_assert_eq(DPCPU_VARSUM(tdq_stats, ts_load), (uint64_t)n * 40000);
	cr_assert_eq(DPCPU_VARSUM(tdq_stats, ts_hist[0]) +
		DPCPU_VARSUM(tdq_stats, ts_hist[1]) +
		DPCPU_VARSUM(tdq_stats, ts_hist[2]),
	    (long)n * 20000);
	DPCPU_ZERO(sched_switch_stats);
	for (k = 0; k < SWT_COUNT; k++)
		cr_assert_eq(DPCPU_SUM(sched_switch_stats[k]), 0);
}

#if PERCPU_MP || DPCPU_UP_OFFSETS
Test(freebsd, dpcpu_off_is_zero_exactly_for_absent_cpus)
{
	unsigned id, present = 0;

	/* Read before any accessor of this process touched DPCPU. */
	for (id = 0; id <= mp_maxid; id++) {
		cr_assert_eq(dpcpu_off[id] == 0, CPU_ABSENT(id), "CPU %u", id);
		present += !CPU_ABSENT(id);
	}
	cr_assert_eq(present, mp_ncpus);
	cr_assert_eq(sysctl_dpcpu_long(&DPCPU_NAME(sched_quota)),
	    7 * (long)mp_ncpus);
}
#endif

/* ---- TCPSTAT-style counter arrays, zeroed under load ---- */

struct tcpstat {
	uint64_t tcps_connattempt;
	uint64_t tcps_sndpack;
	uint64_t tcps_sndbyte;
	uint64_t tcps_rcvpack;
};

#define TCPSTAT_N (sizeof(struct tcpstat) / sizeof(uint64_t))
static counter_u64_t tcpstat[TCPSTAT_N];
#define TCPSTAT_ADD(name, val)                                               \
 counter_u64_add(tcpstat[offsetof(struct tcpstat, name) / sizeof(uint64_t)], \
     (val))
#define TCPSTAT_INC(name) TCPSTAT_ADD(name, 1)

struct tcp_run {
	atomic_int stop;
	unsigned per_thread;
	_Atomic(uint64_t) started; /* sends begun, across threads */
	unsigned zeros, bad;
};

static void *
tcp_output(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct tcp_run *r = ctx->arg;
	uint32_t seed = ctx->index * 5u + 1;
	unsigned i;

	for (i = 0; i < r->per_thread; i++) {
		atomic_fetch_add(&r->started, 1);
		TCPSTAT_INC(tcps_sndpack);
		TCPSTAT_ADD(tcps_sndbyte, 1460);
		harness_migrate(i, &seed);
	}
	return (NULL);
}

/* The sysctl handler: a copy, and a write zeroes (VNET_PCPUSTAT). */
static void *
tcp_sysctl(void *arg)
{
	struct tcp_run *r = arg;

	while (!atomic_load(&r->stop) || r->zeros == 0) {
		struct tcpstat ts;
		uint64_t bound;

		COUNTER_ARRAY_COPY(tcpstat, &ts, TCPSTAT_N);
		bound = atomic_load(&r->started);
		/* Never above what was sent, never "negative". */
		r->bad += (ts.tcps_sndpack > bound);
		r->bad += (ts.tcps_sndbyte > 1460 * bound);
		r->bad += (ts.tcps_sndpack > ((uint64_t)1 << 62));
		COUNTER_ARRAY_ZERO(tcpstat, TCPSTAT_N);
		r->zeros++;
	}
	return (NULL);
}

Test(freebsd, tcpstat_counter_arrays_zeroed_under_load)
{
	struct tcp_run r;
	struct tcpstat ts;
	unsigned n = harness_threads();
	pthread_t sysctl;

	memset(&r, 0, sizeof(r));
	COUNTER_ARRAY_ALLOC(tcpstat, TCPSTAT_N, M_WAITOK);
	r.per_thread = 20000;
	if (PERCPU_MP)
		cr_assert_eq(pthread_create(&sysctl, NULL, tcp_sysctl, &r), 0);
	harness_run(n, tcp_output, &r);
	atomic_store(&r.stop, 1);
	if (PERCPU_MP)
		cr_assert_eq(pthread_join(sysctl, NULL), 0);
	else
		(void)tcp_sysctl(&r);
	cr_assert_eq(r.bad, 0);
	/* After a zero, every add that begins is counted: exactly. */
	COUNTER_ARRAY_ZERO(tcpstat, TCPSTAT_N);
	r.per_thread = 5000;
	harness_run(n, tcp_output, &r);
	COUNTER_ARRAY_COPY(tcpstat, &ts, TCPSTAT_N);
	cr_assert_eq(ts.tcps_sndpack, (uint64_t)n * 5000);
	cr_assert_eq(ts.tcps_sndbyte, (uint64_t)n * 5000 * 1460);
	cr_assert_eq(ts.tcps_connattempt, 0);
	COUNTER_ARRAY_FREE(tcpstat, TCPSTAT_N);
	cr_assert_null(tcpstat[0]);
}

/* ---- ena-style counter_enter blocks ---- */

struct ena_stats_rx {
	counter_u64_t cnt;
	counter_u64_t bytes;
	counter_u64_t refil_partial;
};

static void *
ena_rx_cleanup(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct ena_stats_rx *rx = ctx->arg;
	uint32_t seed = ctx->index + 9;
	unsigned i;

	for (i = 0; i < 20000; i++) {
		counter_enter();
		counter_u64_add_protected(rx->cnt, 1);
		counter_u64_add_protected(rx->bytes, 1500);
		if (i % 10 == 0)
			counter_u64_add_protected(rx->refil_partial, 1);
		counter_exit();
		harness_migrate(i, &seed);
	}
	return (NULL);
}

Test(freebsd, ena_counter_enter_blocks_are_exact)
{
	struct ena_stats_rx rx;
	unsigned n = harness_threads();

	COUNTER_ARRAY_ALLOC((counter_u64_t *)&rx, 3, M_WAITOK);
	harness_run(n, ena_rx_cleanup, &rx);
	cr_assert_eq(counter_u64_fetch(rx.cnt), (uint64_t)n * 20000);
	cr_assert_eq(counter_u64_fetch(rx.bytes), (uint64_t)n * 20000 * 1500);
	cr_assert_eq(counter_u64_fetch(rx.refil_partial), (uint64_t)n * 2000);
	COUNTER_ARRAY_FREE((counter_u64_t *)&rx, 3);
}

/* ---- ICMP-bandlim-style rate checks ---- */

_Static_assert(
    _Generic(((struct counter_rate *)0)->cr_ticks, int : 1, default : 0),
    "cr_ticks is an int, in ticks, as FreeBSD");

Test(freebsd, bandlim_visible_struct_with_ticks)
{
	static struct counter_rate icmp_rates[2];
	int64_t r;
	unsigned i;

	for (i = 0; i < 2; i++) {
		icmp_rates[i].cr_rate = counter_u64_alloc(M_WAITOK);
		icmp_rates[i].cr_ticks = ticks;
	}
	cr_assert_eq(hz, 1000);
	/* Window 1: 3 within the limit, then over it. */
	cr_assert_eq(counter_ratecheck(&icmp_rates[0], 3), 0);
	cr_assert_eq(counter_ratecheck(&icmp_rates[0], 3), 0);
	cr_assert_eq(counter_ratecheck(&icmp_rates[0], 3), 0);
	cr_assert_eq(counter_ratecheck(&icmp_rates[0], 3), -1);
	fb_advance_ms(999);
	cr_assert_eq(counter_ratecheck(&icmp_rates[0], 3), -1, "same second");
	fb_advance_ms(1);
	/* hz ticks later: the previous window's 5 events. */
	r = counter_ratecheck(&icmp_rates[0], 3);
	cr_assert_eq(r, 5);
	cr_assert_eq(icmp_rates[0].cr_ticks, ticks);
	cr_assert_eq(counter_ratecheck(&icmp_rates[1], 100), 0);
	for (i = 0; i < 2; i++)
		counter_u64_free(icmp_rates[i].cr_rate);
}

Test(freebsd, counter_rate_alloc_period_get_free)
{
	struct counter_rate *cr = counter_rate_alloc(M_WAITOK, 2);
	unsigned i;

	cr_assert_not_null(cr);
	for (i = 0; i < 4; i++)
		cr_assert_eq(counter_ratecheck(cr, 2), i < 2 ? 0 : -1);
	cr_assert_eq(counter_rate_get(cr), 4);
	fb_advance_ms(1500);
	cr_assert_eq(counter_ratecheck(cr, 2), -1, "a 2 s window");
	cr_assert_eq(counter_rate_get(cr), 5);
	fb_advance_ms(500);
	cr_assert_eq(counter_ratecheck(cr, 2), 5);
	cr_assert_eq(counter_rate_get(cr), 1);
	counter_rate_free(cr);
	counter_rate_free(NULL);
}

Test(freebsd, counter_rate_misuse_is_reported)
{
	struct counter_rate mine;

	harness_capture_errors();
	cr_assert_null(counter_rate_alloc(M_WAITOK, 0));
	cr_assert_str_eq(harness_last_error(),
	    "counter_rate_alloc: period 0: must be at least 1 second");
	memset(&mine, 0, sizeof(mine));
	counter_rate_free(&mine);
	cr_assert_str_eq(harness_last_error(),
	    "counter_rate_free: not a counter_rate_alloc() handle");
	cr_assert_eq(harness_errors(), 2);
}

struct bandlim_run {
	struct counter_rate *cr;
	_Atomic(uint64_t) calls, zeros;
};

static void *
icmp_error(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct bandlim_run *b = ctx->arg;
	uint32_t seed = ctx->index + 1;
	unsigned i;

	for (i = 0; i < 3000; i++) {
		if (counter_ratecheck(b->cr, 200) == 0)
			atomic_fetch_add(&b->zeros, 1);
		atomic_fetch_add(&b->calls, 1);
		harness_migrate(i, &seed);
	}
	return (NULL);
}

Test(freebsd, bandlim_concurrent_window_counts_every_call)
{
	struct bandlim_run b;
	unsigned n = harness_threads();

	memset(&b, 0, sizeof(b));
	b.cr = counter_rate_alloc(M_WAITOK, 1);
	/* The clock stands still: one window. */
	harness_run(n, icmp_error, &b);
	cr_assert_eq(atomic_load(&b.calls), (uint64_t)n * 3000);
	cr_assert_leq(atomic_load(&b.zeros), 200, "at most the limit pass");
	cr_assert_eq(counter_rate_get(b.cr), (uint64_t)n * 3000);
	fb_advance_ms(1000);
	cr_assert_eq(counter_ratecheck(b.cr, 200), (int64_t)n * 3000);
	counter_rate_free(b.cr);
}

/* ---- zpcpu items of pcpu zones ---- */

static void *
zpcpu_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	uint64_t *zc = ctx->arg;
	uint32_t seed = ctx->index + 21;
	unsigned i;

	for (i = 0; i < 20000; i++) {
		zpcpu_add(zc + i % 4, 1);
		zpcpu_add(&zc[5], 3);
		zpcpu_sub(&zc[5], 1);
		harness_migrate(i, &seed);
	}
	return (NULL);
}

Test(freebsd, zpcpu_items_of_pcpu_zones_sum_exactly)
{
	uint64_t *zc = uma_zalloc_pcpu(pcpu_zone_64, M_WAITOK | M_ZERO);
	uint64_t sum[8] = {0};
	unsigned n = harness_threads(), cpu, k;
	uma_zone_t z;

	cr_assert_not_null(zc);
	harness_run(n, zpcpu_worker, zc);
	CPU_FOREACH(cpu) {
		for (k = 0; k < 8; k++)
			sum[k] += *zpcpu_get_cpu(zc + k, cpu);
	}
	for (k = 0; k < 4; k++)
		cr_assert_eq(sum[k], (uint64_t)n * 5000, "word %u", k);
	cr_assert_eq(sum[5], (uint64_t)n * 40000);
	cr_assert_eq(sum[6], 0);
	critical_enter();
	zpcpu_set_protected(&zc[6], 42);
	zpcpu_add_protected(&zc[6], 1);
	cr_assert_eq(*zpcpu_get(&zc[6]), 43);
	cr_assert_eq(*zpcpu_get_cpu(&zc[6], curcpu), 43);
	critical_exit();
	uma_zfree_pcpu(pcpu_zone_64, zc);
	uma_zfree_pcpu(pcpu_zone_64, NULL);

	/* A cache-aligned pcpu zone of the caller's own. */
	z = uma_zcreate("rxq", 24, NULL, NULL, NULL, NULL, UMA_ALIGN_CACHE,
	    UMA_ZONE_PCPU);
	cr_assert_not_null(z);
	zc = uma_zalloc_pcpu(z, M_WAITOK);
	CPU_FOREACH(cpu) {
		cr_assert_eq((uintptr_t)zpcpu_get_cpu(zc, cpu) % 64, 0);
		cr_assert_eq(zpcpu_get_cpu(zc, cpu)[2], 0);
	}
	uma_zfree_pcpu(z, zc);
	uma_zdestroy(z);
	harness_capture_errors();
	cr_assert_null(
	    uma_zcreate("plain", 8, NULL, NULL, NULL, NULL, UMA_ALIGN_PTR, 0));
	cr_assert_str_eq(harness_last_error(),
	    "uma_zcreate: plain: only UMA_ZONE_PCPU zones without ctor, dtor, "
	    "init or fini");
}

/* ---- Counters made by SYSINIT and DEFINE_EARLY ---- */

static counter_u64_t sysinit_ctr;
COUNTER_U64_SYSINIT(sysinit_ctr);
COUNTER_U64_DEFINE_EARLY(early_ctr);

static void *
early_worker(void *arg)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < 10000; i++) {
		counter_u64_add(sysinit_ctr, 1);
		counter_u64_add(early_ctr, 2);
	}
	return (NULL);
}

Test(freebsd, sysinit_and_early_counters_work_from_the_start)
{
	counter_u64_t c = NULL;
	unsigned n = harness_threads();

	cr_assert_not_null(sysinit_ctr, "allocated before main()");
	cr_assert_eq(counter_u64_fetch(sysinit_ctr), 0);
	harness_run(n, early_worker, NULL);
	cr_assert_eq(counter_u64_fetch(sysinit_ctr), (uint64_t)n * 10000);
	cr_assert_eq(counter_u64_fetch(early_ctr), (uint64_t)n * 20000);
	counter_u64_sysinit(&c);
	cr_assert_not_null(c);
	counter_u64_add(c, 5);
	cr_assert_eq(counter_u64_fetch(c), 5);
	counter_u64_sysuninit(&c);
	cr_assert_null(c);
	counter_u64_sysuninit(&sysinit_ctr);
	cr_assert_null(sysinit_ctr);
}
