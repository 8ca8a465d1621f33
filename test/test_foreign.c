/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_foreign.c - CPU ids outside the table: a container whose /sys
 * lists fewer CPUs than the threads run on, simulated with the test hook
 * PERCPU_TEST_CPUS (the list the table is built from, instead of
 * /sys/devices/system/cpu/possible).  Every add must land in the table
 * (folded), none may be lost, and nothing may be written past chunk 0:
 * the arena comes from a chunk provider that puts guard bytes after it.
 * Built MP (Linux port), MP simulated and UP; the Linux tests need two
 * CPUs in the affinity mask and skip with a line saying why otherwise.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "counter.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define LINUX (PERCPU_MD == PERCPU_MD_LINUX)

#if LINUX

# define GUARD_BYTE 0xa5

/* The first chunk the toolkit maps, and the guard after it. */
static unsigned char *fg_chunk;
static size_t fg_len, fg_guard;

static void *
fg_map(size_t len, void *ctx)
{
	unsigned char *p;

	(void)ctx;
	p = mmap(NULL, len + fg_guard, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return (NULL);
	memset(p + len, GUARD_BYTE, fg_guard);
	if (fg_chunk == NULL) {
		fg_chunk = p;
		fg_len = len;
	}
	return (p);
}

/* 1 if every guard byte after chunk 0 is still GUARD_BYTE. */
static int
fg_guard_intact(void)
{
	size_t i;

	for (i = 0; i < fg_guard; i++)
		if (fg_chunk[fg_len + i] != GUARD_BYTE)
			return (0);
	return (1);
}

/* The first two CPUs of the affinity mask in *a < *b; 0 if fewer. */
static int
fg_two_cpus(unsigned *a, unsigned *b)
{
	cpu_set_t set;
	unsigned id, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return (0);
	for (id = 0; id < CPU_SETSIZE && n < 2; id++) {
		if (!CPU_ISSET(id, &set))
			continue;
		*(n++ == 0 ? a : b) = id;
	}
	return (n == 2);
}

static int
fg_affine(unsigned a, unsigned b)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(a, &set);
	CPU_SET(b, &set);
	return (sched_setaffinity(0, sizeof(set), &set));
}

/*
 * Build the table from CPU @a alone, with guard bytes after chunk 0
 * large enough for any unit index up to @b.
 */
static void
fg_narrow(unsigned a, unsigned b)
{
	static const struct percpu_chunk_provider prov = {fg_map, NULL, NULL};
	char list[16];

	(void)snprintf(list, sizeof(list), "%u", a);
	cr_assert_eq(setenv("PERCPU_TEST_CPUS", list, 1), 0);
	fg_guard = (size_t)(b + 2) * PERCPU_UNIT_SIZE;
	cr_assert_eq(percpu_set_chunk_provider(&prov), 0);
}

/* Wait (10 s at most) until the calling thread runs on CPU @cpu. */
static int
fg_reach(unsigned cpu)
{
	time_t end = time(NULL) + 10;

	while (sched_getcpu() != (int)cpu)
		if (time(NULL) > end)
			return (0);
		else
			(void)sched_yield();
	return (1);
}

struct fg_run {
	counter_u64_t c;
	unsigned a, b, iters;
};

/* Adds 1 iters times, moving between {a}, {b} and {a, b}. */
static void *
fg_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct fg_run *run = ctx->arg;
	unsigned i;

	for (i = 0; i < run->iters; i++) {
		if (i % 500 == 0)
			(void)fg_affine(i % 1500 == 0 ? run->a : run->b,
			    i % 1000 == 0 ? run->a : run->b);
		counter_u64_add(run->c, 1);
	}
	return (NULL);
}

/*
 * The rseq backend starts on a table holding the CPU the thread runs on
 * (affinity {a}), then threads move to CPU b, outside the table: the
 * first add there stops rseq adds (the process goes on as "getcpu"), and
 * every add, the ones in flight during the stop included, lands on CPU
 * a's slot.
 */
Test(foreign, rseq_add_on_a_cpu_outside_the_table_is_folded)
{
	struct fg_run run;
	unsigned a, b, n = 4;
	cpu_set_t one;

	if (!fg_two_cpus(&a, &b))
		cr_skip_test("needs two CPUs in the affinity mask");
	fg_narrow(a, b);
	CPU_ZERO(&one);
	CPU_SET(a, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	if (strcmp(percpu_backend(), "rseq") != 0)
		cr_skip_test("rseq backend not selected here (backend %s: no "
			     "rseq from glibc, or PERCPU_BACKEND=getcpu)",
		    percpu_backend());
	cr_assert_eq(percpu_ncpus(), 1);
	cr_assert_eq(percpu_maxcpu(), a + 1);
	run.c = counter_u64_alloc(M_WAITOK);
	run.a = a;
	run.b = b;
	run.iters = 20000;
	counter_u64_add(run.c, 1000); /* rseq, on CPU a */
	cr_assert_eq(percpu_load64(run.c, a), 1000);
	CPU_ZERO(&one);
	CPU_SET(b, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	if (!fg_reach(b))
		cr_skip_test("the kernel never ran us on CPU %u", b);
	counter_u64_add(run.c, 1000); /* on CPU b: outside the table */
	cr_assert_str_eq(percpu_backend(), "getcpu", "rseq adds stopped");
	cr_assert_eq(percpu_backend_cost(), 2);
	cr_assert_eq(percpu_load64(run.c, a), 2000, "folded onto CPU %u", a);
	cr_assert(fg_guard_intact(), "bytes after chunk 0 were written");
	harness_run(n, fg_worker, &run);
	cr_assert_eq(counter_u64_fetch(run.c), 2000 + (uint64_t)n * run.iters);
	cr_assert_eq(percpu_load64(run.c, a), 2000 + (uint64_t)n * run.iters);
	cr_assert(fg_guard_intact(), "bytes after chunk 0 were written");
	counter_u64_free(run.c);
}

/*
 * Threads start their adds on CPU a with rseq while one thread moves to
 * CPU b and stops rseq adds under them: no add is lost across the stop.
 */
struct fg_race {
	counter_u64_t c;
	atomic_int go;
	unsigned iters;
};

static void *
fg_racer(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct fg_race *r = ctx->arg;
	unsigned i;

	while (!atomic_load(&r->go))
		;
	for (i = 0; i < r->iters; i++)
		counter_u64_add(r->c, 1);
	return (NULL);
}

Test(foreign, no_add_is_lost_while_rseq_adds_stop)
{
	struct fg_race r;
	struct harness_ctx ctx[3];
	pthread_t t[3];
	unsigned a, b, i;
	cpu_set_t one;

	if (!fg_two_cpus(&a, &b))
		cr_skip_test("needs two CPUs in the affinity mask");
	fg_narrow(a, b);
	CPU_ZERO(&one);
	CPU_SET(a, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	if (strcmp(percpu_backend(), "rseq") != 0)
		cr_skip_test("rseq backend not selected here (backend %s)",
		    percpu_backend());
	r.c = counter_u64_alloc(M_WAITOK);
	r.iters = 2000000;
	atomic_init(&r.go, 0);
	for (i = 0; i < 3; i++) {
		ctx[i].index = i;
		ctx[i].arg = &r;
		cr_assert_eq(pthread_create(&t[i], NULL, fg_racer, &ctx[i]), 0);
	}
	CPU_ZERO(&one);
	CPU_SET(b, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	if (!fg_reach(b))
		cr_skip_test("the kernel never ran us on CPU %u", b);
	atomic_store(&r.go, 1);
	for (i = 0; i < 1000; i++)
		counter_u64_add(r.c, 1);
	for (i = 0; i < 3; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	cr_assert_str_eq(percpu_backend(), "getcpu");
	cr_assert_eq(counter_u64_fetch(r.c), 1000 + 3 * (uint64_t)r.iters);
	cr_assert(fg_guard_intact(), "bytes after chunk 0 were written");
	counter_u64_free(r.c);
}

/*
 * A table that lacks a CPU of the affinity mask at start: rseq is not
 * selected at all ("getcpu"), and every add is folded, exactly.
 */
Test(foreign, table_without_a_cpu_of_the_mask_starts_as_getcpu)
{
	struct fg_run run;
	unsigned a, b, n = 4;
	const char *env = getenv("PERCPU_BACKEND");
	int registered = 0;

# if PERCPU_MD_RSEQ
	registered = percpu_md_rseq_glibc() && __rseq_size != 0;
# endif
	if (!fg_two_cpus(&a, &b))
		cr_skip_test("needs two CPUs in the affinity mask");
	fg_narrow(a, b);
	cr_assert_str_eq(percpu_backend(), "getcpu",
	    "rseq %s with CPU %u outside the table",
	    (registered && env == NULL) ? "selected" : "unavailable", b);
	run.c = counter_u64_alloc(M_WAITOK);
	run.a = a;
	run.b = b;
	run.iters = 20000;
	harness_run(n, fg_worker, &run);
	cr_assert_eq(counter_u64_fetch(run.c), (uint64_t)n * run.iters);
	cr_assert_eq(percpu_load64(run.c, a), (uint64_t)n * run.iters);
	cr_assert(fg_guard_intact(), "bytes after chunk 0 were written");
	counter_u64_free(run.c);
}
#endif /* LINUX */

/* Every port: an id outside the table is folded for sections too. */
Test(foreign, local_ptr_of_a_foreign_id_is_inside_the_table)
{
	percpu_t *w = percpu_alloc(sizeof(uint64_t));
	uint64_t total = 0;
	unsigned cpu;

#if PERCPU_MD == PERCPU_MD_SIM
	percpu_sim_migrate(percpu_maxcpu() + 7); /* no such CPU */
#endif
	percpu_local_add64(w->pc_base, 5);
	cpu = percpu_enter();
	cr_assert(percpu_cpu_possible(cpu), "section on CPU %u", cpu);
	percpu_leave();
	PERCPU_FOREACH_CPU(cpu)
		total += percpu_load64(w->pc_base, cpu);
	cr_assert_eq(total, 5);
	percpu_free(w, sizeof(uint64_t));
}
