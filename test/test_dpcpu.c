/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dpcpu.c - FreeBSD DPCPU(9) and critical sections (dpcpu.h).
 *
 * Built three ways from this one source (see the Makefile): MP on the
 * Linux port, MP on the simulated sparse-CPU port (CPUs 0,1,5,63,200 by
 * default) and UP.  #if marks the few places where the three differ.
 * test_dpcpu_other.c is the second translation unit of the DECLARE tests.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpcpu.h"
#include "dpcpu_other.h"

#define SIM (PERCPU_MD == PERCPU_MD_SIM)
#define LINUX (PERCPU_MD == PERCPU_MD_LINUX)

struct tri {
	int a;
	long b;
	char name[8];
};

DPCPU_DEFINE(int, seven) = 7;
DPCPU_DEFINE(long, zeroed);
DPCPU_DEFINE(struct tri, tri) = {1, 2, "tri"};
DPCPU_DEFINE(int, arr[4]) = {10, 20, 30, 40};
DPCPU_DEFINE(uint64_t, sumv);
DPCPU_DEFINE(double, half) = 0.5;
DPCPU_DEFINE(pthread_mutex_t, pmtx) = PTHREAD_MUTEX_INITIALIZER;
DPCPU_DEFINE(uint64_t, locked_count);
DPCPU_DEFINE(uintptr_t, stamp);
DPCPU_DEFINE(uint64_t, crit_count);
DPCPU_DEFINE(_Atomic(uint64_t), ahits);
DPCPU_DEFINE_STATIC(int, same_name) = 1;
DPCPU_DECLARE(uint64_t, other_var); /* defined in test_dpcpu_other.c */

/* The possible CPU ids, ascending; returns how many. */
static unsigned
possible_ids(unsigned *ids, unsigned cap)
{
	unsigned cpu, n = 0;

	CPU_FOREACH(cpu) {
		if (n < cap)
			ids[n] = cpu;
		n++;
	}
	return (n);
}

/* ---- Definition, initial values, layout ---- */

Test(dpcpu, initializer_reaches_every_possible_cpu)
{
	unsigned ids[1024], n, i, j;

	n = possible_ids(ids, 1024);
	cr_assert_eq(n, mp_ncpus);
	cr_assert_eq(ids[n - 1], mp_maxid);
#if SIM
	if (getenv("PERCPU_SIM_CPUS") == NULL) {
		static const unsigned want[] = {0, 1, 5, 63, 200};

		cr_assert_eq(n, 5);
		for (i = 0; i < 5; i++)
			cr_assert_eq(ids[i], want[i]);
	}
#endif
	for (i = 0; i < n; i++) {
		cr_assert_eq(DPCPU_ID_GET(ids[i], seven), 7, "CPU %u", ids[i]);
		cr_assert_eq(DPCPU_ID_GET(ids[i], zeroed), 0, "CPU %u", ids[i]);
		for (j = 0; j < i; j++)
			cr_assert_neq(DPCPU_ID_PTR(ids[i], seven),
			    DPCPU_ID_PTR(ids[j], seven));
#if PERCPU_MP
		/* A CPU's instance is a copy, never the template. */
		cr_assert_neq(DPCPU_ID_PTR(ids[i], seven), &DPCPU_NAME(seven));
		cr_assert_eq((uintptr_t)DPCPU_ID_PTR(ids[i], seven),
		    (uintptr_t)&DPCPU_NAME(seven) + dpcpu_off[ids[i]]);
#else
		cr_assert_eq(DPCPU_ID_PTR(ids[i], seven), &DPCPU_NAME(seven));
#endif
	}
	cr_assert_eq(DPCPU_GET(seven), 7);
}

Test(dpcpu, structs_and_arrays)
{
	unsigned ids[1024], n, i, last;

	n = possible_ids(ids, 1024);
	last = ids[n - 1];
	for (i = 0; i < n; i++) {
		struct tri *t = DPCPU_ID_PTR(ids[i], tri);
		int(*a)[4] = DPCPU_ID_PTR(ids[i], arr);

		cr_assert_eq(t->a, 1);
		cr_assert_eq(t->b, 2);
		cr_assert_str_eq(t->name, "tri");
		cr_assert_eq((*a)[0], 10);
		cr_assert_eq((*a)[3], 40);
		cr_assert_eq(DPCPU_ID_GET(ids[i], arr)[2], 30);
	}
	(*DPCPU_ID_PTR(last, arr))[2] = 99;
	DPCPU_ID_PTR(last, tri)->b = 5;
	for (i = 0; i < n; i++) {
		cr_assert_eq(DPCPU_ID_GET(ids[i], arr)[2],
		    ids[i] == last ? 99 : 30);
		cr_assert_eq(DPCPU_ID_GET(ids[i], tri).b,
		    ids[i] == last ? 5 : 2);
	}
	cr_assert_eq(DPCPU_VARSUM(tri, b), 2 * (long)(n - 1) + 5);
	cr_assert_eq(DPCPU_VARSUM(tri, a), (int)n);
}

/* ---- Two translation units ---- */

Test(dpcpu, declared_in_another_file_is_the_same_variable)
{
	unsigned cpu;

	CPU_FOREACH(cpu) {
		/* Defined there, declared here. */
		cr_assert_eq(DPCPU_ID_PTR(cpu, other_var), other_var_ptr(cpu));
		cr_assert_eq(DPCPU_ID_GET(cpu, other_var), 0x1234);
		DPCPU_ID_SET(cpu, other_var, 3u * cpu + 1);
		/* Defined here, declared there. */
		cr_assert_eq(other_seven_ptr(cpu), DPCPU_ID_PTR(cpu, seven));
		/* Static: one variable per file. */
		cr_assert_eq(DPCPU_ID_GET(cpu, same_name), 1);
		cr_assert_eq(*other_same_name_ptr(cpu), 2);
		cr_assert_neq(other_same_name_ptr(cpu),
		    DPCPU_ID_PTR(cpu, same_name));
	}
	CPU_FOREACH(cpu)
		cr_assert_eq(other_var_get(cpu), 3u * cpu + 1);
}

Test(dpcpu, critical_section_spans_files)
{
	unsigned cpu;

	other_critical_enter();
	cpu = curcpu;
	cr_assert_eq(other_var_cur_ptr(), DPCPU_PTR(other_var));
	cr_assert_eq(other_var_cur_ptr(), DPCPU_ID_PTR(cpu, other_var));
#if PERCPU_MP
	cr_assert_eq(percpu_in_section(), 1);
#endif
	critical_exit(); /* entered in the other file */
#if PERCPU_MP
	cr_assert_eq(percpu_in_section(), 0);
#endif
	critical_enter();
	other_critical_exit();
#if PERCPU_MP
	cr_assert_eq(percpu_in_section(), 0);
#endif
}

/*
 * DPCPU_PTR() in a section is the held CPU's copy (dpcpu_priv_cur_ptr():
 * the template plus the copies' offset plus the unit's, taken from the
 * state): for every CPU, taken as that CPU (percpu_enter_cpu(), the unit
 * need not be the running CPU's), nested, and after critical_enter().
 */
Test(dpcpu, ptr_in_a_section_is_the_held_cpus_copy)
{
	unsigned c;

#if PERCPU_MP
	CPU_FOREACH(c) {
		cr_assert_eq(percpu_enter_cpu(c), c);
		cr_assert_eq(DPCPU_PTR(sumv), DPCPU_ID_PTR(c, sumv), "CPU %u",
		    c);
		critical_enter(); /* nested: the same CPU */
		cr_assert_eq(DPCPU_PTR(sumv), DPCPU_ID_PTR(c, sumv));
		cr_assert_eq(DPCPU_PTR(arr[2]), DPCPU_ID_PTR(c, arr[2]));
		cr_assert_eq(DPCPU_GET(seven), 7);
		critical_exit();
		percpu_leave();
	}
#endif
	critical_enter();
	c = curcpu;
	cr_assert_eq(DPCPU_PTR(sumv), DPCPU_ID_PTR(c, sumv));
	critical_exit();
}

#if PERCPU_MP
/* A variable outside the set, as a DPCPU variable of another module is:
 * DPCPU_PTR() reaches it through dpcpu_priv_cur_ptr() with its address. */
static uint64_t not_in_set[4];

/*
 * A variable without a copy is never reached out of bounds: outside a
 * section the lookup reports it and gives the template; in a section
 * (no branch there) it gives a null pointer, so the access faults at a
 * small address.  Before the mask, in-section lookups of such a
 * variable returned template + the copies' offset: a wild address.
 */
Test(dpcpu, a_variable_outside_the_set_is_never_reached_out_of_bounds)
{
	void *p;

	harness_capture_errors();
	p = dpcpu_priv_cur_ptr(&not_in_set[1]);
	cr_assert_eq(p, (void *)&not_in_set[1]);
	cr_assert_eq(harness_errors(), 1);
	cr_assert(strstr(harness_last_error(),
		      "is not in this program's set_dpcpu (a variable of "
		      "another shared object?)") != NULL,
	    "%s", harness_last_error());
	critical_enter();
	p = dpcpu_priv_cur_ptr(&not_in_set[1]);
	cr_assert_null(p);
	/* The set's own first and last bytes are still copies. */
	cr_assert_not_null(dpcpu_priv_cur_ptr(dpcpu_priv_lo));
	cr_assert_not_null(dpcpu_priv_cur_ptr(dpcpu_priv_hi - 1));
	cr_assert_null(dpcpu_priv_cur_ptr(dpcpu_priv_hi));
	critical_exit();
	cr_assert_eq(harness_errors(), 1);
}
#endif

/* ---- Remote access and sums ---- */

Test(dpcpu, id_set_is_invisible_on_other_cpus)
{
	unsigned c, d;

	CPU_FOREACH(c) {
		CPU_FOREACH(d)
			DPCPU_ID_SET(d, sumv, 0);
		DPCPU_ID_SET(c, sumv, 1000 + c);
		CPU_FOREACH(d)
			cr_assert_eq(DPCPU_ID_GET(d, sumv),
			    d == c ? 1000 + c : 0, "set %u, read %u", c, d);
	}
}

Test(dpcpu, sum_is_exact_at_quiescence)
{
	uint64_t want = 0;
	unsigned c, n = 0;

	CPU_FOREACH(c) {
		DPCPU_ID_SET(c, sumv, c + 1u);
		want += c + 1u;
		n++;
	}
#if SIM
	if (getenv("PERCPU_SIM_CPUS") == NULL)
		cr_assert_eq(want, 1 + 2 + 6 + 64 + 201);
#endif
	cr_assert_eq(DPCPU_SUM(sumv), want);
	cr_assert_eq(DPCPU_SUM(seven), 7 * (int)n);
	cr_assert_eq(DPCPU_SUM(half), 0.5 * n);
}

Test(dpcpu, zero_clears_every_cpu)
{
	static const char zero[sizeof(struct tri)];
	unsigned c;

	CPU_FOREACH(c)
		DPCPU_ID_PTR(c, tri)->a = 100 + (int)c;
	DPCPU_ZERO(tri);
	CPU_FOREACH(c)
		cr_assert_eq(memcmp(DPCPU_ID_PTR(c, tri), zero, sizeof(zero)),
		    0, "CPU %u", c);
	cr_assert_eq(DPCPU_VARSUM(tri, a), 0);
#if PERCPU_MP
	/* The template keeps its initializer: only copies are written. */
	cr_assert_eq(DPCPU_NAME(tri).a, 1);
#endif
}

/* ---- CPU set names ---- */

Test(dpcpu, cpu_foreach_and_cpu_absent)
{
	unsigned u, nu = 0, id;
	int i, ni = 0, last = -1;

	CPU_FOREACH(i) {
		ni++;
		last = i;
	}
	CPU_FOREACH(u)
		nu++;
	cr_assert_eq(ni, mp_ncpus);
	cr_assert_eq(nu, (unsigned)ni);
	cr_assert_eq(last, mp_maxid);
	for (id = 0; id <= mp_maxid + 2; id++)
		cr_assert_eq(CPU_ABSENT(id), !percpu_cpu_possible(id));
	cr_assert(!CPU_ABSENT(curcpu));
#if SIM
	if (getenv("PERCPU_SIM_CPUS") == NULL) {
		cr_assert(CPU_ABSENT(2) && CPU_ABSENT(62) && CPU_ABSENT(199));
		cr_assert(
		    !CPU_ABSENT(5) && !CPU_ABSENT(63) && !CPU_ABSENT(200));
		cr_assert(CPU_ABSENT(201));
	}
#elif !PERCPU_MP
	cr_assert_eq(mp_maxid, 0);
	cr_assert_eq(mp_ncpus, 1);
	cr_assert_eq(curcpu, 0);
	cr_assert(CPU_ABSENT(1));
#endif
}

Test(dpcpu, absent_cpu_is_a_detected_error)
{
	unsigned bad = mp_maxid + 1, want = 1;
	int *p;

	harness_capture_errors();
	p = DPCPU_ID_PTR(bad, seven);
	cr_assert_eq(harness_errors(), want);
	cr_assert(strstr(harness_last_error(), "not a possible CPU") != NULL,
	    "%s", harness_last_error());
	cr_assert_eq(p, &DPCPU_NAME(seven)); /* the template, as offset 0 */
#if SIM
	if (getenv("PERCPU_SIM_CPUS") == NULL) {
		(void)DPCPU_ID_GET(2, seven); /* a hole in the sparse ids */
		cr_assert_eq(harness_errors(), ++want);
	}
#endif
	(void)DPCPU_ID_PTR(-1, seven); /* an int id works, and is checked */
	cr_assert_eq(harness_errors(), ++want);
}

/* ---- Critical sections ---- */

Test(dpcpu, critical_sections_nest)
{
	unsigned cpu;
	int *p;

	critical_enter();
	cpu = curcpu;
	p = DPCPU_PTR(seven);
	cr_assert_eq(p, DPCPU_ID_PTR(cpu, seven));
#if SIM
	/* The OS moves the thread: the section keeps its CPU. */
	percpu_sim_migrate(cpu == 63 ? 200 : 63);
#endif
	critical_enter();
	cr_assert_eq(curcpu, cpu);
	cr_assert_eq(DPCPU_PTR(seven), p);
	critical_enter();
	cr_assert_eq(DPCPU_PTR(seven), p);
#if PERCPU_MP
	cr_assert_eq(percpu_in_section(), 3);
#endif
	critical_exit();
	critical_exit();
	cr_assert_eq(curcpu, cpu);
	critical_exit();
#if PERCPU_MP
	cr_assert_eq(percpu_in_section(), 0);
#endif
#if SIM
	cr_assert_eq(curcpu, cpu == 63 ? 200u : 63u); /* now where it runs */
#endif
}

/*
 * Owner stamps: inside a critical section a thread writes its id into the
 * CPU's DPCPU stamp, dawdles, migrates (sim) and checks the stamp is
 * still its own; the plain ++ of crit_count inside the sections must add
 * up exactly.
 */
struct crit_run {
	unsigned iters;
	atomic_uint violations;
};

static void *
crit_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct crit_run *run = ctx->arg;
	uintptr_t me = (uintptr_t)ctx->index + 1;
	uint32_t seed = ctx->index * 7919u + 3;
	unsigned i;

	for (i = 0; i < run->iters; i++) {
		volatile uintptr_t *p;
		unsigned cpu;

		critical_enter();
		cpu = curcpu;
		p = DPCPU_PTR(stamp);
		if (*p != 0)
			atomic_fetch_add(&run->violations, 1);
		*p = me;
#if SIM
		if ((i & 3) == 0)
			percpu_sim_migrate(harness_rand(&seed) % 256);
#endif
		if ((i & 7) == 0) {
			critical_enter();
			if (DPCPU_PTR(stamp) != p || curcpu != cpu)
				atomic_fetch_add(&run->violations, 1);
			critical_exit();
		}
		harness_jiggle(&seed);
		if (*p != me || DPCPU_PTR(stamp) != p)
			atomic_fetch_add(&run->violations, 1);
		(*DPCPU_PTR(crit_count))++;
		*p = 0;
		critical_exit();
		harness_migrate(i, &seed);
	}
	return (NULL);
}

Test(dpcpu, critical_sections_are_exclusive, .timeout = 120)
{
	struct crit_run run = {20000, 0};
	unsigned n = harness_threads();

	harness_run(n, crit_worker, &run);
	cr_assert_eq(atomic_load(&run.violations), 0);
	cr_assert_eq(DPCPU_SUM(crit_count), (uint64_t)n * run.iters);
}

#if SIM
Test(dpcpu, critical_sections_exclusive_under_chaos, .timeout = 120)
{
	struct crit_run run = {20000, 0};
	unsigned n = harness_threads();

	percpu_sim_chaos(1);
	harness_run(n, crit_worker, &run);
	percpu_sim_chaos(0);
	cr_assert_eq(atomic_load(&run.violations), 0);
	cr_assert_eq(DPCPU_SUM(crit_count), (uint64_t)n * run.iters);
}
#endif

/*
 * The man page's other two patterns: an atomic add through DPCPU_PTR
 * with no section (migration only moves the add to another copy), and
 * curcpu cached once with a per-CPU mutex (initialized on every CPU by
 * the template's PTHREAD_MUTEX_INITIALIZER) taken through DPCPU_ID_PTR.
 */
static void *
pattern_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	unsigned iters = *(unsigned *)ctx->arg, i;
	uint32_t seed = ctx->index * 104729u + 5;

	for (i = 0; i < iters; i++) {
		unsigned cpu;
		uint64_t v;

		atomic_fetch_add_explicit(DPCPU_PTR(ahits), 1,
		    memory_order_relaxed);
		cpu = curcpu;
#if SIM
		percpu_sim_migrate(harness_rand(&seed) % 256);
#endif
		(void)pthread_mutex_lock(DPCPU_ID_PTR(cpu, pmtx));
		v = DPCPU_ID_GET(cpu, locked_count);
		harness_jiggle(&seed);
		DPCPU_ID_SET(cpu, locked_count, v + 1);
		(void)pthread_mutex_unlock(DPCPU_ID_PTR(cpu, pmtx));
#if LINUX
		if ((i & 255) == 0)
			harness_shuffle_affinity(&seed);
#endif
	}
	return (NULL);
}

Test(dpcpu, atomic_and_mutex_patterns_lose_nothing, .timeout = 120)
{
	unsigned iters = 20000, n = harness_threads(), cpu;
	uint64_t hits = 0;

	harness_run(n, pattern_worker, &iters);
	CPU_FOREACH(cpu)
		hits += atomic_load(DPCPU_ID_PTR(cpu, ahits));
	cr_assert_eq(hits, (uint64_t)n * iters);
	cr_assert_eq(DPCPU_SUM(locked_count), (uint64_t)n * iters);
}
