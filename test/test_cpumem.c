/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_cpumem.c - the OpenBSD cpumem(9) and counters_alloc(9) face.
 *
 * Built three ways from this one source (see the Makefile): MP on the
 * Linux port, MP on the simulated sparse-CPU port (CPUs 0,1,5,63,200 by
 * default) and UP.  #if marks the few places where the three differ.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cpumem.h"

#define SIM (PERCPU_MD == PERCPU_MD_SIM)
#define LINUX (PERCPU_MD == PERCPU_MD_LINUX)

/* Counter indices, as a driver would name them. */
enum { C_PKTS, C_BYTES, C_DROPS, C_N };

/* ---- Helpers ---- */

/* Enter CPU @cpu's section and return its copy of @cm. */
static void *
enter_as(struct cpumem *cm, unsigned cpu)
{
	cr_assert_eq(percpu_enter_cpu(cpu), cpu, "cannot enter CPU %u", cpu);
	return (cpumem_enter(cm)); /* nested: the CPU just taken */
}

static void
leave_as(struct cpumem *cm, void *p)
{
	cpumem_leave(cm, p);
	percpu_leave();
}

/* The possible CPU ids, ascending, as the core lists them. */
static unsigned
possible_cpus(unsigned *ids, unsigned cap)
{
	unsigned cpu, n = 0;

	PERCPU_FOREACH_CPU(cpu) {
		cr_assert_lt(n, cap);
		ids[n++] = cpu;
	}
	cr_assert_eq(n, percpu_ncpus());
	return (n);
}

/*
 * Every possible CPU's first @size bytes of @cm are zero; then they are
 * dirtied, so that a later allocation reusing them must zero them again.
 */
static void
check_zero_then_dirty(struct cpumem *cm, size_t size)
{
	unsigned cpu, n = 0;
	size_t i;

	PERCPU_FOREACH_CPU(cpu) {
		unsigned char *p = enter_as(cm, cpu);

		for (i = 0; i < size; i++)
			cr_assert_eq(p[i], 0, "CPU %u byte %zu of %zu", cpu, i,
			    size);
		memset(p, 0xa5, size);
		leave_as(cm, p);
		n++;
	}
	cr_assert_eq(n, percpu_ncpus());
}

/*
 * Iteration over @cm visits every possible CPU exactly once, in ascending
 * id: each copy holds the id + 1 its own CPU wrote.
 */
static void
check_iteration(struct cpumem *cm)
{
	unsigned ids[PERCPU_MAXCPU], n = possible_cpus(ids, PERCPU_MAXCPU);
	struct cpumem_iter it;
	unsigned k, *p;

	for (k = 0; k < n; k++) {
		p = enter_as(cm, ids[k]);
		*p = ids[k] + 1;
		leave_as(cm, p);
	}
	k = 0;
	CPUMEM_FOREACH(p, &it, cm) {
		cr_assert_lt(k, n, "more copies than possible CPUs");
		cr_assert_eq(it.cpu, ids[k]);
		cr_assert_eq(*p, ids[k] + 1, "copy %u holds %u, not CPU %u's",
		    k, *p, ids[k]);
		k++;
	}
	cr_assert_eq(k, n);
	/* The same with first/next and a NULL test, as OpenBSD loops. */
	k = 0;
	for (p = cpumem_first(&it, cm); p != NULL; p = cpumem_next(&it, cm))
		cr_assert_eq(*p, ids[k++] + 1);
	cr_assert_eq(k, n);
	cr_assert_null(cpumem_next(&it, cm), "next past the end");
}

/* Sum of counter @c over CPUs, through counters_read(). */
static uint64_t
total(struct cpumem *cm, unsigned c)
{
	uint64_t out[C_N];

	counters_read(cm, out, C_N, NULL);
	return (out[c]);
}

/* ---- cpumem: allocation ---- */

Test(cpumem, malloc_zeroes_every_possible_cpu)
{
	/* The largest fits a 32-bit target's 64 KiB unit, less the record. */
	static const size_t sizes[] = {1, 8, 24, 100, 4096,
	    65536 <= PERCPU_UNIT_SIZE - 16 ? 65536 : PERCPU_UNIT_SIZE - 16};
	struct cpumem *cm;
	size_t i;

	harness_capture_errors();
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cm = cpumem_malloc(sizes[i], 2);
		cr_assert_not_null(cm);
		check_zero_then_dirty(cm, sizes[i]);
		cpumem_free(cm, 2, sizes[i]);
		/* Reused storage is zero again. */
		cm = cpumem_malloc(sizes[i], 2);
		check_zero_then_dirty(cm, sizes[i]);
		cpumem_free(cm, 2, sizes[i]);
	}
	cr_assert_eq(harness_errors(), 0, "%s", harness_last_error());
}

Test(cpumem, get_zeroes_every_possible_cpu)
{
	struct pool pl;
	struct cpumem *cm;
	int round;

	harness_capture_errors();
	pool_init(&pl, 100, 0, 0, 0, "tpl", NULL);
	for (round = 0; round < 2; round++) {
		cm = cpumem_get(&pl);
		cr_assert_not_null(cm);
		check_zero_then_dirty(cm, 100);
		cpumem_put(&pl, cm);
	}
	cr_assert_eq(harness_errors(), 0, "%s", harness_last_error());
}

Test(cpumem, pool_is_just_enough_pool)
{
	struct pool pl, bad;
	unsigned char *v;
	size_t i;

	pool_init(&pl, 40, 8, 0, 0, "items", NULL);
	cr_assert_eq(pl.pr_size, 40);
	v = pool_get(&pl, PR_WAITOK | PR_ZERO);
	cr_assert_not_null(v);
	for (i = 0; i < 40; i++)
		cr_assert_eq(v[i], 0);
	pool_put(&pl, v);
	harness_capture_errors();
	pool_init(&bad, 0, 0, 0, 0, "nil", NULL);
	cr_assert_str_eq(harness_last_error(), "pool_init: nil: size 0");
	pool_init(&bad, 8, 3, 0, 0, "odd", NULL);
	cr_assert_str_eq(harness_last_error(),
	    "pool_init: odd: alignment 3 is not a power of two up to 64");
	cr_assert_eq(bad.pr_align, 0);
	pool_init(&bad, 8, 0, 0, 0, "own",
	    (struct pool_allocator *)(void *)&bad);
	cr_assert_str_eq(harness_last_error(),
	    "pool_init: own: custom allocators are not supported");
	pool_put(&pl, NULL);
	cr_assert_str_eq(harness_last_error(), "pool_put: items: NULL item");
	cr_assert_eq(harness_errors(), 4);
}

/* ---- cpumem: access and iteration ---- */

Test(cpumem, iteration_visits_every_possible_cpu_once_ascending)
{
	struct pool pl;
	struct cpumem *cm;
	unsigned ids[PERCPU_MAXCPU];

#if SIM
	/* The test port's sparse default: 0-1,5,63,200. */
	cr_assert_eq(possible_cpus(ids, PERCPU_MAXCPU), 5);
	cr_assert(ids[0] == 0 && ids[1] == 1 && ids[2] == 5 && ids[3] == 63 &&
	    ids[4] == 200);
#elif !PERCPU_MP
	cr_assert_eq(possible_cpus(ids, PERCPU_MAXCPU), 1);
#else
	(void)possible_cpus(ids, PERCPU_MAXCPU);
#endif
	cm = cpumem_malloc(sizeof(unsigned), 0);
	check_iteration(cm);
	cpumem_free(cm, 0, sizeof(unsigned));
	pool_init(&pl, sizeof(unsigned), 0, 0, 0, "it", NULL);
	cm = cpumem_get(&pl);
	check_iteration(cm);
	cpumem_put(&pl, cm);
	cm = counters_alloc(1); /* a counters handle iterates too */
	check_iteration(cm);
	counters_free(cm, 1);
}

Test(cpumem, enter_returns_the_held_cpus_copy)
{
	struct cpumem *cm = cpumem_malloc(sizeof(unsigned), 0);
	unsigned cpu, *p;

	PERCPU_FOREACH_CPU(cpu) {
		p = enter_as(cm, cpu);
		*p = cpu + 1;
		leave_as(cm, p);
	}
#if SIM
	percpu_sim_migrate(63);
#endif
	p = cpumem_enter(cm);
	cpu = percpu_curcpu(); /* the CPU held */
#if SIM
	cr_assert_eq(cpu, 63);
#elif !PERCPU_MP
	cr_assert_eq(cpu, 0);
	cr_assert_eq((void *)p, (void *)cm, "UP: the handle is the memory");
#endif
	cr_assert_eq(*p, cpu + 1);
	cpumem_leave(cm, p);
	cpumem_free(cm, 0, sizeof(unsigned));
}

struct stamp {
	volatile uintptr_t owner;
	uint64_t count;
};

struct stamp_run {
	struct cpumem *cm;
	unsigned iters;
	atomic_uint violations;
};

static void *
stamp_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct stamp_run *run = ctx->arg;
	uintptr_t me = (uintptr_t)ctx->index + 1;
	uint32_t seed = ctx->index * 7919u + 1;
	unsigned i;

	for (i = 0; i < run->iters; i++) {
		struct stamp *s = cpumem_enter(run->cm);

		if (harness_stamp(&s->owner, me, &seed))
			atomic_fetch_add(&run->violations, 1);
		s->count++;
		cpumem_leave(run->cm, s);
		harness_migrate(i, &seed);
	}
	return (NULL);
}

Test(cpumem, sections_are_exclusive_and_totals_exact, .timeout = 120)
{
	struct stamp_run run = {cpumem_malloc(sizeof(struct stamp), 0), 20000,
	    0};
	unsigned n = harness_threads();
	struct cpumem_iter it;
	struct stamp *s;
	uint64_t sum = 0;

	harness_run(n, stamp_worker, &run);
	cr_assert_eq(atomic_load(&run.violations), 0);
	CPUMEM_FOREACH(s, &it, run.cm)
		sum += s->count;
	cr_assert_eq(sum, (uint64_t)n * run.iters);
	cpumem_free(run.cm, 0, sizeof(struct stamp));
}

/* ---- cpumem: misuse ---- */

Test(cpumem, free_with_wrong_size_is_detected_and_frees_nothing)
{
	struct cpumem *cm = cpumem_malloc(24, 7);
	uint64_t *p;

	harness_capture_errors();
	/* Written and read back on one CPU's copy: the thread may move
	 * between two sections of its own. */
	p = enter_as(cm, percpu_cpu_first());
	p[2] = 99;
	leave_as(cm, p);
	cpumem_free(cm, 7, 32);
	cr_assert_eq(harness_errors(), 1);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_free: size 32 does not match the allocated size 24");
	cpumem_free(cm, 7, 20); /* rounds like 24: still caught */
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_free: size 20 does not match the allocated size 24");
	/* Nothing was freed: the data is intact, the right free works (a
	 * freed handle would now be "not a cpumem_malloc() handle"). */
	p = enter_as(cm, percpu_cpu_first());
	cr_assert_eq(p[2], 99);
	leave_as(cm, p);
	cpumem_free(cm, 7, 24);
	cr_assert_eq(harness_errors(), 2);
}

Test(cpumem, free_with_wrong_type_is_detected_and_frees_nothing)
{
	struct cpumem *cm = cpumem_malloc(16, 7);

	harness_capture_errors();
	cpumem_free(cm, 8, 16);
	cr_assert_eq(harness_errors(), 1);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_free: type 8 does not match the allocated type 7");
	cpumem_free(cm, 7, 16);
	cr_assert_eq(harness_errors(), 1);
#if PERCPU_MP
	/* Now it is gone: a second free is caught (on UP the handle is the
	 * freed memory itself: not checkable). */
	cpumem_free(cm, 7, 16);
	cr_assert_eq(harness_errors(), 2);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_free: not a cpumem_malloc() handle");
#endif
}

Test(cpumem, free_with_wrong_size_aborts_by_default, .signal = SIGABRT)
{
	struct cpumem *cm = cpumem_malloc(8, 0);

	cpumem_free(cm, 0, 16);
}

Test(cpumem, other_handles_are_detected_and_not_freed)
{
	struct cpumem *c = counters_alloc(2), *m = cpumem_malloc(8, 0);
	struct pool pl;
	struct cpumem *g;

	pool_init(&pl, 24, 0, 0, 0, "tpl", NULL);
	g = cpumem_get(&pl);
	harness_capture_errors();
	cpumem_free(c, 0, 16);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_free: not a cpumem_malloc() handle");
	cpumem_free(g, 0, 8);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_free: not a cpumem_malloc() handle");
	cpumem_free(NULL, 0, 8);
	cr_assert_str_eq(harness_last_error(), "cpumem_free: NULL handle");
	cpumem_put(&pl, NULL);
	cr_assert_str_eq(harness_last_error(), "cpumem_put: tpl: NULL handle");
	counters_free(NULL, 2);
	cr_assert_str_eq(harness_last_error(), "counters_free: NULL handle");
	cr_assert_eq(harness_errors(), 5);
	/* All still allocated. */
	counters_free(c, 2);
	cpumem_free(m, 0, 8);
	cpumem_put(&pl, g);
	cr_assert_eq(harness_errors(), 5, "%s", harness_last_error());
}

Test(cpumem, put_to_wrong_pool_is_detected_and_frees_nothing)
{
	struct pool small, big;
	struct cpumem *cm;

	pool_init(&small, 64, 0, 0, 0, "small", NULL);
	pool_init(&big, 128, 0, 0, 0, "big", NULL);
	cm = cpumem_get(&small);
	harness_capture_errors();
	cpumem_put(&big, cm);
	cr_assert_eq(harness_errors(), 1);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_put: big: item size 128 does not match the allocated size "
	    "64");
	cpumem_put(&small, cm);
	cr_assert_eq(harness_errors(), 1);
}

/* ---- cpumem: boot memory ---- */

struct boot_stats {
	uint64_t a;
	uint64_t b;
};

CPUMEM_BOOT_MEMORY(t_boot, sizeof(struct boot_stats));
static struct cpumem *t_bootcm = CPUMEM_BOOT_INITIALIZER(t_boot);

Test(cpumem, boot_upgrade_keeps_the_boot_cpus_values_others_zero)
{
	struct boot_stats *s;
	struct cpumem_iter it;
	struct cpumem *cm;
	unsigned cpu, k = 0;

	harness_capture_errors();
	s = cpumem_enter(t_bootcm);
	s->a = 7;
	s->b = 9;
	cpumem_leave(t_bootcm, s);
	/* Before the upgrade there is one copy: the boot CPU's. */
	CPUMEM_FOREACH(s, &it, t_bootcm) {
		cr_assert_eq(s->a, 7);
		k++;
	}
	cr_assert_eq(k, 1);
	cm = cpumem_malloc_ncpus(t_bootcm, sizeof(struct boot_stats), 3);
	cr_assert_eq(harness_errors(), 0, "%s", harness_last_error());
#if PERCPU_MP
	cr_assert_neq(cm, t_bootcm);
#else
	cr_assert_eq(cm, t_bootcm, "UP: the boot memory is the memory");
#endif
	k = 0;
	PERCPU_FOREACH_CPU(cpu) {
		s = enter_as(cm, cpu);
		if (cpu == percpu_cpu_first())
			cr_assert(s->a == 7 && s->b == 9,
			    "boot CPU %u lost %lu", cpu, (unsigned long)s->a);
		else
			cr_assert(s->a == 0 && s->b == 0, "CPU %u not zero",
			    cpu);
		leave_as(cm, s);
		k++;
	}
	cr_assert_eq(k, percpu_ncpus());
#if PERCPU_MP
	/* The old handle forwards to the new allocation, on any CPU. */
	PERCPU_FOREACH_CPU(cpu) {
		struct boot_stats *n = enter_as(cm, cpu), *o;

		o = cpumem_enter(t_bootcm);
		cr_assert_eq(o, n, "CPU %u", cpu);
		cpumem_leave(t_bootcm, o);
		leave_as(cm, n);
	}
	cpumem_free(cm, 3, sizeof(struct boot_stats));
	cr_assert_eq(harness_errors(), 0, "%s", harness_last_error());
#endif
}

struct boot_run {
	struct cpumem *boot;
	_Atomic(struct cpumem *) up;
	unsigned iters;
};

/*
 * Every thread increments through the boot handle; thread 0 upgrades it
 * half way, while the others keep going.
 */
static void *
boot_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct boot_run *run = ctx->arg;
	uint32_t seed = ctx->index + 1;
	unsigned i;

	for (i = 0; i < run->iters; i++) {
		struct boot_stats *s = cpumem_enter(run->boot);

		s->a++;
		harness_jiggle(&seed);
		s->b += 2;
		cpumem_leave(run->boot, s);
		if (ctx->index == 0 && i == run->iters / 2)
			atomic_store(&run->up,
			    cpumem_malloc_ncpus(run->boot,
				sizeof(struct boot_stats), 0));
#if SIM
		if ((i & 15) == 0)
			percpu_sim_migrate(harness_rand(&seed) % 256);
#endif
	}
	return (NULL);
}

Test(cpumem, boot_memory_loses_nothing_across_a_concurrent_upgrade,
    .timeout = 120)
{
	struct boot_run run = {t_bootcm, NULL, 5000};
	unsigned n = harness_threads();
	struct boot_stats *s;
	struct cpumem_iter it;
	struct cpumem *cm;
	uint64_t a = 0, b = 0;

	harness_run(n, boot_worker, &run);
	cm = atomic_load(&run.up);
	cr_assert_not_null(cm);
	CPUMEM_FOREACH(s, &it, cm) {
		a += s->a;
		b += s->b;
	}
	cr_assert_eq(a, (uint64_t)n * run.iters);
	cr_assert_eq(b, 2 * (uint64_t)n * run.iters);
}

#if PERCPU_MP
Test(cpumem, boot_memory_misuse_is_detected)
{
	struct cpumem *cm = cpumem_malloc(16, 0), *up, *r;

	harness_capture_errors();
	r = cpumem_malloc_ncpus(cm, 16, 0);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_malloc_ncpus: not boot memory");
	cr_assert_eq(r, cm);
	r = cpumem_malloc_ncpus(t_bootcm, 32, 0);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_malloc_ncpus: size 32 does not match the boot memory's 16");
	cr_assert_eq(r, t_bootcm);
	(void)percpu_enter();
	r = cpumem_malloc_ncpus(t_bootcm, 16, 0);
	percpu_leave();
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_malloc_ncpus: called inside a section");
	cr_assert_eq(r, t_bootcm);
	cpumem_free(t_bootcm, 0, 16);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_free: boot memory cannot be freed");
	cr_assert_eq(harness_errors(), 4);
	up = cpumem_malloc_ncpus(t_bootcm, 16, 0);
	cr_assert_eq(harness_errors(), 4, "%s", harness_last_error());
	r = cpumem_malloc_ncpus(t_bootcm, 16, 0);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_malloc_ncpus: boot memory already upgraded");
	cr_assert_eq(r, up, "the first upgrade is returned");
	cpumem_free(up, 0, 16);
	cpumem_free(cm, 0, 16);
	cr_assert_eq(harness_errors(), 5, "%s", harness_last_error());
}

Test(cpumem, boot_memory_inside_another_cpus_section_is_detected)
{
	struct cpumem *cm = cpumem_malloc(8, 0);
	unsigned other = percpu_cpu_next(percpu_cpu_first());
	char msg[200];
	void *p, *q;

	if (other == PERCPU_NOCPU)
		cr_skip_test("one possible CPU");
	harness_capture_errors();
	p = enter_as(cm, other);
	q = cpumem_enter(t_bootcm);
	cpumem_leave(t_bootcm, q);
	leave_as(cm, p);
	snprintf(msg, sizeof(msg),
	    "cpumem_enter: boot memory entered inside a section on CPU %u "
	    "(before the upgrade it belongs to CPU %u)",
	    other, percpu_cpu_first());
	cr_assert_str_eq(harness_last_error(), msg);
	cr_assert_eq(q, t_boot_cpumem_boot.mem, "it still gets the memory");
	/* Inside the boot CPU's own section it nests normally. */
	p = enter_as(cm, percpu_cpu_first());
	q = cpumem_enter(t_bootcm);
	cpumem_leave(t_bootcm, q);
	leave_as(cm, p);
	cr_assert_eq(harness_errors(), 1);
	cpumem_free(cm, 0, 8);
}
#endif

/* ---- counters: allocation ---- */

Test(counters, alloc_zeroes_every_possible_cpu)
{
	const unsigned n = 5, words = n + PERCPU_MP;
	uint64_t out[5];
	struct cpumem *cm;
	unsigned cpu, i;
	int round;

	harness_capture_errors();
	for (round = 0; round < 2; round++) {
		cm = counters_alloc(n);
		cr_assert_not_null(cm);
		/* The raw words, the MP generation word included. */
		check_zero_then_dirty(cm, words * sizeof(uint64_t));
		counters_free(cm, n);
	}
	cm = counters_alloc(n);
	PERCPU_FOREACH_CPU(cpu) {
		memset(out, 0xff, sizeof(out));
		cr_assert_eq(counters_read_cpu(cm, cpu, out, n), 0);
		for (i = 0; i < n; i++)
			cr_assert_eq(out[i], 0, "CPU %u counter %u", cpu, i);
	}
	counters_free(cm, n);
	cr_assert_eq(harness_errors(), 0, "%s", harness_last_error());
}

Test(counters, alloc_of_zero_counters_is_detected)
{
	struct cpumem *cm;

	harness_capture_errors();
	cm = counters_alloc(0);
	cr_assert_null(cm);
	cr_assert_eq(harness_errors(), 1);
	cr_assert_str_eq(harness_last_error(),
	    "counters_alloc: n must be greater than 0");
}

Test(counters, alloc_of_zero_counters_aborts_by_default, .signal = SIGABRT)
{
	(void)counters_alloc(0);
}

Test(counters, free_with_wrong_n_is_detected_and_frees_nothing)
{
	struct cpumem *cm = counters_alloc(3);

	counters_add(cm, 2, 41);
	harness_capture_errors();
	counters_free(cm, 4);
	cr_assert_eq(harness_errors(), 1);
	cr_assert_str_eq(harness_last_error(),
	    "counters_free: n 4 does not match the allocated n 3");
	counters_free(cm, 0);
	cr_assert_str_eq(harness_last_error(),
	    "counters_free: n 0 does not match the allocated n 3");
	/* Intact, and the right free works. */
	counters_inc(cm, 2);
	cr_assert_eq(total(cm, 2), 42);
	counters_free(cm, 3);
	cr_assert_eq(harness_errors(), 2);
}

/* ---- counters: updates ---- */

Test(counters, helpers_update_the_current_cpus_set)
{
	struct cpumem *cm = counters_alloc(C_N);
	uint64_t out[C_N];
	unsigned cpu;

	counters_inc(cm, C_DROPS);
	counters_inc(cm, C_DROPS);
	counters_inc(cm, C_DROPS);
	counters_dec(cm, C_DROPS);
	counters_add(cm, C_BYTES, 40);
	counters_pkt(cm, C_PKTS, C_BYTES, 1500);
	counters_read(cm, out, C_N, NULL);
	cr_assert(
	    out[C_PKTS] == 1 && out[C_BYTES] == 1540 && out[C_DROPS] == 2);
	/* As a given CPU: only its set changes. */
	cpu = percpu_cpu_first();
	(void)percpu_enter_cpu(cpu);
	counters_pkt(cm, C_PKTS, C_BYTES, 60);
	percpu_leave();
	PERCPU_FOREACH_CPU(cpu) {
		uint64_t c[C_N];

		cr_assert_eq(counters_read_cpu(cm, cpu, c, C_N), 0);
		if (cpu == percpu_cpu_first())
			cr_assert_geq(c[C_PKTS], 1);
	}
	cr_assert_eq(total(cm, C_PKTS), 2);
	cr_assert_eq(total(cm, C_BYTES), 1600);
	counters_free(cm, C_N);
}

#if PERCPU_MP
/* Word 0 of each CPU's set: the generation, even at rest, +2 a section. */
Test(counters, generation_counts_sections_and_rests_even)
{
	struct cpumem *cm = counters_alloc(2);
	unsigned cpu, k;
	uint64_t *w;

	PERCPU_FOREACH_CPU(cpu) {
		for (k = 0; k <= cpu % 4; k++) {
			(void)percpu_enter_cpu(cpu);
			counters_inc(cm, 0);
			percpu_leave();
		}
	}
	PERCPU_FOREACH_CPU(cpu) {
		w = enter_as(cm, cpu);
		cr_assert_eq(w[0], 2 * (uint64_t)(cpu % 4 + 1), "CPU %u", cpu);
		cr_assert_eq(w[1], cpu % 4 + 1);
		leave_as(cm, w);
	}
	counters_free(cm, 2);
}
#endif

/* The counters_alloc(9) man page's usage, with a tiny spl shim. */
static sigset_t spl_saved;

static int
splnet(void)
{
	sigset_t all;

	sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, &spl_saved);
	return (1);
}

static void
splx(int s)
{
	if (s)
		(void)pthread_sigmask(SIG_SETMASK, &spl_saved, NULL);
}

enum { ifc_packets, ifc_bytes, ifc_ncounters };

Test(counters, man_page_usage_compiles_and_runs)
{
	struct cpumem *counters;
	struct counters_ref ref;
	uint64_t *c, stats[ifc_ncounters];
	unsigned i;
	int s;

	counters = counters_alloc(ifc_ncounters);
	for (i = 0; i < 10; i++) {
		s = splnet();
		c = counters_enter(&ref, counters);
		c[ifc_packets]++;
		c[ifc_bytes] += 1500;
		counters_leave(&ref, counters);
		splx(s);
	}
	counters_read(counters, stats, ifc_ncounters, NULL);
	cr_assert_eq(stats[ifc_packets], 10);
	cr_assert_eq(stats[ifc_bytes], 15000);
	counters_free(counters, ifc_ncounters);
}

/* ---- counters: the generation protocol ---- */

struct gen_run {
	struct cpumem *cm;
	unsigned writers;
	unsigned iters;
	int zeroer; /* thread 0 also zeroes */
	atomic_int writing;
	atomic_uint bad_sum, bad_cpu;
	atomic_ulong reads;
};

/* One consistent look: the sum and each CPU's set keep bytes = 100 x pkts. */
static void
gen_check(struct gen_run *run, uint64_t *scratch)
{
	uint64_t out[2];
	unsigned cpu;

	counters_read(run->cm, out, 2, scratch);
	if (out[C_BYTES] != 100 * out[C_PKTS])
		atomic_fetch_add(&run->bad_sum, 1);
	PERCPU_FOREACH_CPU(cpu) {
		if (counters_read_cpu(run->cm, cpu, out, 2) != 0 ||
		    out[C_BYTES] != 100 * out[C_PKTS])
			atomic_fetch_add(&run->bad_cpu, 1);
	}
	atomic_fetch_add(&run->reads, 1);
}

static void *
gen_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct gen_run *run = ctx->arg;
	uint32_t seed = ctx->index * 2654435761u + 1;
	uint64_t scratch[2];
	unsigned i;

	if (ctx->index >= run->writers) { /* a reader */
		while (atomic_load(&run->writing) > 0)
			gen_check(run, (ctx->index & 1) ? scratch : NULL);
		return (NULL);
	}
	for (i = 0; i < run->iters; i++) {
		counters_pkt(run->cm, C_PKTS, C_BYTES, 100);
		if ((i & 63) == 0)
			gen_check(run, scratch);
		if (run->zeroer && ctx->index == 0 && (i & 1023) == 0)
			counters_zero(run->cm, 2);
#if LINUX
		if ((i & 255) == 0)
			harness_shuffle_affinity(&seed);
#elif SIM
		if ((i & 15) == 0)
			percpu_sim_migrate(harness_rand(&seed) % 256);
#else
		(void)seed;
#endif
	}
	atomic_fetch_sub(&run->writing, 1);
	return (NULL);
}

/* Writers, plus two pure readers on MP (none on UP: one thread). */
static void
gen_stress(struct gen_run *run)
{
	unsigned readers = PERCPU_MP ? 2 : 0;

	run->cm = counters_alloc(2);
	run->writers = harness_threads();
	atomic_store(&run->writing, (int)run->writers);
	harness_run(run->writers + readers, gen_worker, run);
	cr_assert_eq(atomic_load(&run->bad_sum), 0, "%u inconsistent sums",
	    atomic_load(&run->bad_sum));
	cr_assert_eq(atomic_load(&run->bad_cpu), 0,
	    "%u inconsistent per-CPU sets", atomic_load(&run->bad_cpu));
	cr_assert_gt(atomic_load(&run->reads), 0);
}

Test(counters, readers_never_see_half_a_packet_and_totals_are_exact,
    .timeout = 120)
{
	struct gen_run run = {.iters = 20000};

	gen_stress(&run);
	cr_assert_eq(total(run.cm, C_PKTS), (uint64_t)run.writers * run.iters);
	cr_assert_eq(total(run.cm, C_BYTES),
	    100 * (uint64_t)run.writers * run.iters);
	counters_free(run.cm, 2);
}

#if SIM
Test(counters, generation_protocol_under_chaos_migration, .timeout = 120)
{
	struct gen_run run = {.iters = 5000};

	percpu_sim_chaos(1);
	gen_stress(&run);
	percpu_sim_chaos(0);
	cr_assert_eq(total(run.cm, C_PKTS), (uint64_t)run.writers * run.iters);
	cr_assert_eq(total(run.cm, C_BYTES),
	    100 * (uint64_t)run.writers * run.iters);
	counters_free(run.cm, 2);
}
#endif

Test(counters, zero_is_serialized_with_updates_and_readers, .timeout = 120)
{
	struct gen_run run = {.iters = 10000, .zeroer = 1};
	unsigned i;

	gen_stress(&run);
	cr_assert_leq(total(run.cm, C_PKTS), (uint64_t)run.writers * run.iters);
	counters_zero(run.cm, 2);
	for (i = 0; i < 7; i++)
		counters_pkt(run.cm, C_PKTS, C_BYTES, 100);
	cr_assert_eq(total(run.cm, C_PKTS), 7);
	cr_assert_eq(total(run.cm, C_BYTES), 700);
	counters_free(run.cm, 2);
}

#if PERCPU_MP
struct wait_run {
	struct cpumem *cm;
	atomic_int done;
	uint64_t seen[2];
};

static void *
wait_reader(void *arg)
{
	struct wait_run *w = arg;

	counters_read(w->cm, w->seen, 2, NULL);
	atomic_store(&w->done, 1);
	return (NULL);
}

Test(counters, a_reader_waits_for_an_open_set, .timeout = 60)
{
	struct wait_run w = {counters_alloc(2), 0, {0, 0}};
	struct timespec ms50 = {0, 50 * 1000000L};
	struct counters_ref ref;
	pthread_t t;
	uint64_t *c;

	counters_pkt(w.cm, C_PKTS, C_BYTES, 100);
	c = counters_enter(&ref, w.cm);
	c[C_PKTS]++;
	cr_assert_eq(pthread_create(&t, NULL, wait_reader, &w), 0);
	(void)nanosleep(&ms50, NULL);
	cr_assert_eq(atomic_load(&w.done), 0, "read a set being updated");
	c[C_BYTES] += 100;
	counters_leave(&ref, w.cm);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert(w.seen[C_PKTS] == 2 && w.seen[C_BYTES] == 200);
	counters_free(w.cm, 2);
}
#endif

Test(counters, read_with_and_without_scratch_agree)
{
	struct cpumem *cm = counters_alloc(C_N);
	uint64_t a[C_N], b[C_N], scratch[C_N];
	unsigned cpu;

	PERCPU_FOREACH_CPU(cpu) {
		(void)percpu_enter_cpu(cpu);
		counters_add(cm, C_BYTES, cpu + 1);
		counters_inc(cm, C_DROPS);
		percpu_leave();
	}
	counters_read(cm, a, C_N, NULL);
	counters_read(cm, b, C_N, scratch);
	cr_assert_arr_eq(a, b, sizeof(a));
	cr_assert_eq(a[C_DROPS], percpu_ncpus());
	counters_free(cm, C_N);
}

Test(counters, read_cpu_rejects_impossible_cpus)
{
	struct cpumem *cm = counters_alloc(1);
	uint64_t v = 77;

	cr_assert_eq(counters_read_cpu(cm, PERCPU_NOCPU, &v, 1), -1);
	cr_assert_eq(counters_read_cpu(cm, percpu_maxcpu(), &v, 1), -1);
#if SIM
	cr_assert_eq(counters_read_cpu(cm, 2, &v, 1), -1);
	cr_assert_eq(counters_read_cpu(cm, 200, &v, 1), 0);
#elif !PERCPU_MP
	cr_assert_eq(counters_read_cpu(cm, 1, &v, 1), -1);
#endif
	cr_assert_eq(counters_read_cpu(cm, percpu_cpu_first(), &v, 1), 0);
	cr_assert_eq(v, 0);
	counters_free(cm, 1);
}

Test(counters, zero_clears_every_cpu_and_keeps_generations)
{
	struct cpumem *cm = counters_alloc(2);
	uint64_t c[2];
	unsigned cpu;

	PERCPU_FOREACH_CPU(cpu) {
		(void)percpu_enter_cpu(cpu);
		counters_pkt(cm, C_PKTS, C_BYTES, 1000 + cpu);
		percpu_leave();
	}
	cr_assert_eq(total(cm, C_PKTS), percpu_ncpus());
	counters_zero(cm, 2);
	PERCPU_FOREACH_CPU(cpu) {
		uint64_t *w;

		cr_assert_eq(counters_read_cpu(cm, cpu, c, 2), 0);
		cr_assert(c[0] == 0 && c[1] == 0, "CPU %u", cpu);
		w = enter_as(cm, cpu);
#if PERCPU_MP
		/* One update and one zero: two generations, never reset. */
		cr_assert_eq(w[0], 4, "CPU %u generation", cpu);
#endif
		leave_as(cm, w);
	}
	/* Inside a section it still zeroes (unserialized, as OpenBSD). */
	counters_inc(cm, C_PKTS);
	(void)percpu_enter();
	counters_zero(cm, 2);
	percpu_leave();
	cr_assert_eq(total(cm, C_PKTS), 0);
	counters_free(cm, 2);
}

#if SIM
Test(counters, migration_inside_a_section_keeps_the_set)
{
	struct cpumem *cm = counters_alloc(1);
	struct counters_ref ref;
	uint64_t *c, v;

	percpu_sim_migrate(5);
	c = counters_enter(&ref, cm);
	percpu_sim_migrate(63); /* "preempted and moved" */
	c[0] += 3;
	counters_leave(&ref, cm);
	cr_assert_eq(counters_read_cpu(cm, 5, &v, 1), 0);
	cr_assert_eq(v, 3);
	cr_assert_eq(counters_read_cpu(cm, 63, &v, 1), 0);
	cr_assert_eq(v, 0);
	counters_inc(cm, 0); /* the next section is on CPU 63 */
	cr_assert_eq(counters_read_cpu(cm, 63, &v, 1), 0);
	cr_assert_eq(v, 1);
	counters_free(cm, 1);
}
#endif

/* ---- counters: signals and nesting ---- */

static struct cpumem *sig_cm;

static void
on_usr1(int sig)
{
	(void)sig;
	counters_pkt(sig_cm, C_PKTS, C_BYTES, 100);
}

Test(counters, handlers_blocked_by_splnet_update_safely)
{
	struct sigaction sa;
	struct counters_ref ref;
	uint64_t *c;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	sig_cm = counters_alloc(2);
	harness_capture_errors();
	s = splnet();
	c = counters_enter(&ref, sig_cm);
	c[C_PKTS]++;
	(void)raise(SIGUSR1); /* pending until splx() */
	c[C_BYTES] += 100;
	counters_leave(&ref, sig_cm);
	cr_assert_eq(total(sig_cm, C_PKTS), 1, "the handler ran too early");
	splx(s);
	cr_assert_eq(total(sig_cm, C_PKTS), 2);
	cr_assert_eq(total(sig_cm, C_BYTES), 200);
	cr_assert_eq(harness_errors(), 0, "%s", harness_last_error());
	counters_free(sig_cm, 2);
}

#if PERCPU_MP
static const char nested_msg[] = COUNTERS_OPEN_MSG;

Test(counters, unblocked_handler_inside_a_section_is_detected)
{
	struct sigaction sa;
	struct counters_ref ref;
	uint64_t *c;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	sig_cm = counters_alloc(2);
	harness_capture_errors();
	c = counters_enter(&ref, sig_cm);
	c[C_PKTS]++;
	(void)raise(SIGUSR1); /* runs now, nested on this CPU */
	c[C_BYTES] += 100;
	counters_leave(&ref, sig_cm);
	cr_assert_eq(harness_errors(), 1);
	cr_assert_str_eq(harness_last_error(), nested_msg);
	/* The handler's update landed; the generation stayed the outer
	 * section's, so the sets are consistent and at rest. */
	cr_assert_eq(total(sig_cm, C_PKTS), 2);
	cr_assert_eq(total(sig_cm, C_BYTES), 200);
	counters_free(sig_cm, 2);
}

Test(counters, nested_section_is_detected_and_generation_stays_odd)
{
	struct cpumem *cm = counters_alloc(2);
	struct counters_ref outer, inner;
	uint64_t *a, *b, v[2];
	unsigned cpu = percpu_cpu_first();

	harness_capture_errors();
	(void)percpu_enter_cpu(cpu);
	a = counters_enter(&outer, cm);
	a[0]++;
	b = counters_enter(&inner, cm);
	cr_assert_str_eq(harness_last_error(), nested_msg);
	cr_assert_eq(a, b);
	b[1] += 100;
	counters_leave(&inner, cm);
	cr_assert_eq(a[-1] & 1, 1, "the outer section is still open");
	counters_leave(&outer, cm);
	cr_assert_eq(a[-1], 2);
	percpu_leave();
	cr_assert_eq(counters_read_cpu(cm, cpu, v, 2), 0);
	cr_assert(v[0] == 1 && v[1] == 100);
	cr_assert_eq(harness_errors(), 1);
	counters_free(cm, 2);
}
#endif

/* ---- counters: boot counters ---- */

COUNTERS_BOOT_MEMORY(t_cboot, C_N);
static struct cpumem *t_cbootcm = COUNTERS_BOOT_INITIALIZER(t_cboot);

Test(counters, boot_upgrade_keeps_the_boot_cpus_values_others_zero)
{
	struct cpumem *cm;
	uint64_t v[C_N];
	unsigned cpu;

	harness_capture_errors();
	cr_assert_eq(sizeof(t_cboot_cpumem_boot.mem),
	    (C_N + PERCPU_MP) * sizeof(uint64_t),
	    "OpenBSD: n + 1 words on MP, n on UP");
	counters_pkt(t_cbootcm, C_PKTS, C_BYTES, 1500);
	counters_add(t_cbootcm, C_DROPS, 3);
	counters_read(t_cbootcm, v, C_N, NULL);
	cr_assert(v[C_PKTS] == 1 && v[C_BYTES] == 1500 && v[C_DROPS] == 3);
	cm = counters_alloc_ncpus(t_cbootcm, C_N);
	cr_assert_eq(harness_errors(), 0, "%s", harness_last_error());
#if !PERCPU_MP
	cr_assert_eq(cm, t_cbootcm);
#endif
	PERCPU_FOREACH_CPU(cpu) {
		cr_assert_eq(counters_read_cpu(cm, cpu, v, C_N), 0);
		if (cpu == percpu_cpu_first())
			cr_assert(v[C_PKTS] == 1 && v[C_BYTES] == 1500 &&
				v[C_DROPS] == 3,
			    "boot CPU %u", cpu);
		else
			cr_assert(v[C_PKTS] == 0 && v[C_BYTES] == 0 &&
				v[C_DROPS] == 0,
			    "CPU %u", cpu);
	}
	/* The old handle keeps counting, into the new counters. */
	counters_inc(t_cbootcm, C_DROPS);
	cr_assert_eq(total(cm, C_DROPS), 4);
	cr_assert_eq(total(t_cbootcm, C_DROPS), 4);
#if PERCPU_MP
	counters_free(t_cbootcm, C_N);
	cr_assert_str_eq(harness_last_error(),
	    "counters_free: boot counters cannot be freed");
	cr_assert_eq(counters_alloc_ncpus(t_cbootcm, C_N + 1), t_cbootcm);
	cr_assert_str_eq(harness_last_error(),
	    "counters_alloc_ncpus: n 4 does not match the boot counters' n 3");
	cr_assert_eq(harness_errors(), 2);
	counters_free(cm, C_N);
	cr_assert_eq(harness_errors(), 2, "%s", harness_last_error());
#endif
}
