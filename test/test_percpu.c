/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_percpu.c - the NetBSD percpu(9) face and the core under it.
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
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIM (PERCPU_MD == PERCPU_MD_SIM)
#define LINUX (PERCPU_MD == PERCPU_MD_LINUX)

#if PERCPU_MP
static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}
#endif

/* ---- CPU set and arena ---- */

/*
 * The backend, as the build and the environment choose it.  With
 * $PERCPU_EXPECT_BACKEND set, this test checks that value instead: the
 * tests below re-run it in a child with another environment.
 */
Test(percpu, backend_is_reported)
{
	const char *want = getenv("PERCPU_EXPECT_BACKEND");

#if SIM
	if (want == NULL)
		want = "sim";
#elif LINUX
	if (want == NULL)
# if PERCPU_MD_RSEQ
		/* glibc registered rseq for this process: adopt it, where
		 * membarrier(2) can stop its sequences (MEMBARRIER_CMD_QUERY:
		 * bit 7 is PRIVATE_EXPEDITED_RSEQ). */
		want = (percpu_md_rseq_glibc() && __rseq_size != 0 &&
			   syscall(SYS_membarrier, 0, 0, 0) > 0 &&
			   (syscall(SYS_membarrier, 0, 0, 0) & (1 << 7))) ?
		    "rseq" :
		    "getcpu";
# else
		want = "getcpu";
# endif
#else
	if (want == NULL)
		want = "up";
#endif
	cr_assert_str_eq(percpu_backend(), want);
}

#if LINUX
/*
 * Run backend_is_reported in a fresh process with @env added; its exit.
 * BXFI_MAP would make the child believe it is a Criterion worker.
 */
static int
backend_child(const char *env)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
	    "env -u BXFI_MAP %s /proc/%d/exe --filter 'percpu/backend_is_reported' "
	    ">/dev/null 2>&1",
	    env, (int)getpid());
	return (system(cmd));
}

Test(percpu, getcpu_backend_when_glibc_rseq_is_off)
{
	cr_assert_eq(backend_child("GLIBC_TUNABLES=glibc.pthread.rseq=0 "
				   "PERCPU_EXPECT_BACKEND=getcpu"),
	    0);
	cr_assert_eq(backend_child("PERCPU_BACKEND=getcpu "
				   "PERCPU_EXPECT_BACKEND=getcpu"),
	    0);
	/* The child really checks: a wrong expectation fails. */
	cr_assert_neq(backend_child("PERCPU_EXPECT_BACKEND=nonesuch"), 0);
}

Test(percpu, cpu_id_matches_the_kernel)
{
	cpu_set_t set;
	unsigned cpu, seen = 0;

	PERCPU_FOREACH_CPU(cpu) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			continue;
		cr_assert_eq(sched_getcpu(), (int)cpu);
		cr_assert_eq(percpu_curcpu(), cpu, "backend %s",
		    percpu_backend());
		cr_assert_eq(percpu_enter(), cpu);
		percpu_leave();
		seen++;
	}
	cr_assert_gt(seen, 0);
}
#endif

Test(percpu, possible_cpus_sparse_and_ascending)
{
	unsigned cpu, n = 0, last = 0;

	PERCPU_FOREACH_CPU(cpu) {
		cr_assert(percpu_cpu_possible(cpu));
		cr_assert(n == 0 || cpu > last, "ascending: %u after %u", cpu,
		    last);
		cr_assert_lt(cpu, percpu_maxcpu());
		cr_assert_eq(percpu_cpu_info(cpu)->ci_index, cpu);
		cr_assert_eq(cpu_index(percpu_cpu_info(cpu)), n, "dense");
		last = cpu;
		n++;
	}
	cr_assert_eq(n, percpu_ncpus());
	cr_assert_eq(last + 1, percpu_maxcpu());
#if SIM
	cr_assert_eq(n, 5);
	cr_assert_eq(percpu_maxcpu(), 201);
	cr_assert(percpu_cpu_possible(63));
	cr_assert(!percpu_cpu_possible(2));
	cr_assert(!percpu_cpu_possible(64));
	cr_assert_null(percpu_cpu_info(7));
#elif !PERCPU_MP
	cr_assert_eq(n, 1);
	cr_assert_eq(last, 0);
#endif
	cr_assert(!percpu_cpu_possible(PERCPU_NOCPU));
}

#if LINUX
Test(percpu, possible_cpus_match_sysfs)
{
	unsigned char mask[PERCPU_MAXCPU];
	char buf[4096] = "";
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	unsigned cpu;
	int n;

	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	n = percpu_priv_parse_cpulist(buf, mask, PERCPU_MAXCPU, NULL);
	cr_assert_eq((unsigned)n, percpu_ncpus());
	PERCPU_FOREACH_CPU(cpu)
		cr_assert(mask[cpu], "CPU %u not in sysfs '%s'", cpu, buf);
}
#endif

Test(percpu, cpulist_parser)
{
	unsigned char m[16];
	unsigned dropped = 0;

	cr_assert_eq(percpu_priv_parse_cpulist("0-3,8,10-11\n", m, 16, NULL),
	    7);
	cr_assert(m[0] && m[3] && m[8] && m[10] && m[11]);
	cr_assert(!m[4] && !m[9] && !m[12]);
	cr_assert_eq(percpu_priv_parse_cpulist("5", m, 16, NULL), 1);
	cr_assert_eq(percpu_priv_parse_cpulist("3,3,2-3", m, 16, NULL), 2);
	cr_assert_eq(percpu_priv_parse_cpulist("0-19", m, 16, &dropped), 16);
	cr_assert_eq(dropped, 4);
	cr_assert_eq(percpu_priv_parse_cpulist("", m, 16, NULL), -1);
	cr_assert_eq(percpu_priv_parse_cpulist("3-1", m, 16, NULL), -1);
	cr_assert_eq(percpu_priv_parse_cpulist("0,,1", m, 16, NULL), -1);
	cr_assert_eq(percpu_priv_parse_cpulist("0-", m, 16, NULL), -1);
	cr_assert_eq(percpu_priv_parse_cpulist("x", m, 16, NULL), -1);
	cr_assert_eq(percpu_priv_parse_cpulist("1 2", m, 16, NULL), -1);
	cr_assert_eq(percpu_priv_parse_cpulist("99999999", m, 16, NULL), -1);
}

static void
check_zero(void *p, void *arg, struct cpu_info *ci)
{
	size_t *size = arg;
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < *size; i++)
		cr_assert_eq(b[i], 0, "CPU %u byte %zu", ci->ci_index, i);
}

static void
fill(void *p, void *arg, struct cpu_info *ci)
{
	(void)ci;
	memset(p, 0xa5, *(size_t *)arg);
}

static void
count_cpu(void *p, void *arg, struct cpu_info *ci)
{
	(void)p;
	(void)ci;
	(*(unsigned *)arg)++;
}

Test(percpu, alloc_zeroes_every_possible_cpu)
{
	size_t sizes[] = {1, 8, 24, 4096, PERCPU_UNIT_SIZE / 2};
	unsigned i, n;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		percpu_t *pc = percpu_alloc(sizes[i]);

		cr_assert_not_null(pc);
		n = 0;
		percpu_foreach(pc, count_cpu, &n);
		cr_assert_eq(n, percpu_ncpus());
		percpu_foreach(pc, check_zero, &sizes[i]);
		percpu_free(pc, sizes[i]);
	}
}

Test(percpu, reused_storage_is_zero_again)
{
	size_t size = 64;
	percpu_t *a = percpu_alloc(size), *b;

	percpu_foreach(a, fill, &size);
	percpu_free(a, size);
	b = percpu_alloc(size);
	percpu_foreach(b, check_zero, &size);
	percpu_free(b, size);
}

#if PERCPU_MP
Test(percpu, eight_bytes_cost_eight_bytes_per_cpu)
{
	percpu_t *a = percpu_alloc(8), *b = percpu_alloc(8);
	unsigned cpu, prev = PERCPU_NOCPU;

	/* Packed back to back in the unit: no padding to a line. */
	cr_assert_eq((char *)b->pc_base - (char *)a->pc_base, 8);
	/* No two CPUs' copies share a cache line. */
	PERCPU_FOREACH_CPU(cpu) {
		if (prev != PERCPU_NOCPU) {
			char *x = percpu_ptr(a->pc_base, prev);
			char *y = percpu_ptr(a->pc_base, cpu);

			cr_assert_geq(y - x, PERCPU_CACHELINE);
			cr_assert_eq(((uintptr_t)x / PERCPU_CACHELINE) ==
				((uintptr_t)y / PERCPU_CACHELINE),
			    0);
		}
		prev = cpu;
	}
	percpu_free(a, 8);
	percpu_free(b, 8);
}
#endif

#if SIM
Test(percpu, many_sparse_cpus)
{
	unsigned cpu, n = 0;
	size_t size = 16;
	percpu_t *pc;

	cr_assert_eq(percpu_sim_set_cpus("0-299,512,1000"), 0);
	pc = percpu_alloc(size);
	cr_assert_eq(percpu_ncpus(), 302);
	cr_assert_eq(percpu_maxcpu(), 1001);
	percpu_foreach(pc, check_zero, &size);
	PERCPU_FOREACH_CPU(cpu)
		n++;
	cr_assert_eq(n, 302);
	cr_assert_eq(percpu_sim_set_cpus("0-3"), -1, "table already made");
	percpu_free(pc, size);
}
#endif

/* ---- percpu_create: ctor and dtor ---- */

struct ctor_log {
	unsigned ctor_calls, dtor_calls;
	unsigned ctor_cpus[512], dtor_cpus[512];
	void *slots[512];
	int dtor_saw_zero_slot, dtor_got_copy;
};

struct ctor_obj {
	uint64_t cpu_plus;
	char tag[8];
};

static void
obj_ctor(void *p, void *cookie, struct cpu_info *ci)
{
	struct ctor_log *log = cookie;
	struct ctor_obj *o = p;
	size_t i;

	for (i = 0; i < sizeof(*o); i++)
		cr_assert_eq(((unsigned char *)p)[i], 0, "ctor buffer zeroed");
	o->cpu_plus = ci->ci_index + 1000;
	memcpy(o->tag, "ctor", 5);
	log->ctor_cpus[log->ctor_calls++] = ci->ci_index;
}

static void
obj_dtor(void *p, void *cookie, struct cpu_info *ci)
{
	struct ctor_log *log = cookie;
	struct ctor_obj *o = p;
	unsigned i = log->dtor_calls;
	struct ctor_obj *slot = log->slots[i];

	cr_assert_eq(o->cpu_plus, ci->ci_index + 2000u);
	cr_assert_str_eq(o->tag, "ctor");
	log->dtor_got_copy += (p != log->slots[i]);
	log->dtor_saw_zero_slot += (slot->cpu_plus == 0 && slot->tag[0] == 0);
	log->dtor_cpus[log->dtor_calls++] = ci->ci_index;
}

static void
bump(void *p, void *arg, struct cpu_info *ci)
{
	struct ctor_obj *o = p;

	(void)arg;
	cr_assert_eq(o->cpu_plus, ci->ci_index + 1000u);
	o->cpu_plus += 1000;
}

Test(percpu, create_runs_ctor_per_cpu_and_dtor_on_copies)
{
	static struct ctor_log log;
	percpu_t *pc;
	unsigned cpu, i = 0;

	pc = percpu_create(sizeof(struct ctor_obj), obj_ctor, obj_dtor, &log);
	cr_assert_not_null(pc);
	cr_assert_eq(log.ctor_calls, percpu_ncpus());
	cr_assert_eq(log.dtor_calls, 0);
	PERCPU_FOREACH_CPU(cpu) {
		cr_assert_eq(log.ctor_cpus[i], cpu);
		log.slots[i++] = percpu_getptr_remote(pc, percpu_cpu_info(cpu));
	}
	percpu_foreach(pc, bump, NULL);
	percpu_free(pc, sizeof(struct ctor_obj));
	cr_assert_eq(log.dtor_calls, percpu_ncpus());
	cr_assert_eq(log.dtor_got_copy, (int)percpu_ncpus());
	cr_assert_eq(log.dtor_saw_zero_slot, (int)percpu_ncpus());
	i = 0;
	PERCPU_FOREACH_CPU(cpu)
		cr_assert_eq(log.dtor_cpus[i++], cpu);
}

/* ---- getref returns the current CPU's slot ---- */

Test(percpu, getref_returns_current_cpu_slot)
{
	percpu_t *pc = percpu_alloc(sizeof(long));
	long *p = percpu_getref(pc);
	unsigned cpu = percpu_curcpu();

	cr_assert_eq(p, percpu_ptr(pc->pc_base, cpu));
	cr_assert_eq(percpu_in_section(), PERCPU_MP || PERCPU_DEBUG ? 1u : 0u);
	percpu_putref(pc);
	cr_assert_eq(percpu_in_section(), 0);
	percpu_free(pc, sizeof(long));
}

#if SIM
Test(percpu, getref_follows_forced_migration)
{
	percpu_t *pc = percpu_alloc(sizeof(long));
	unsigned ids[] = {5, 200, 0, 63, 1};
	unsigned i;
	long *p;

	for (i = 0; i < 5; i++) {
		percpu_sim_migrate(ids[i]);
		p = percpu_getref(pc);
		cr_assert_eq(p, percpu_ptr(pc->pc_base, ids[i]));
		cr_assert_eq(percpu_curcpu(), ids[i]);
		/* A migration inside the section keeps the held CPU. */
		percpu_sim_migrate(ids[(i + 1) % 5]);
		cr_assert_eq(percpu_getref(pc), p);
		cr_assert_eq(percpu_curcpu(), ids[i]);
		percpu_putref(pc);
		percpu_putref(pc);
	}
	percpu_free(pc, sizeof(long));
}

Test(percpu, foreign_cpu_ids_fold_into_the_table)
{
	unsigned bad[] = {2, 7, 64, 201, 1023, 1024, 70000, PERCPU_NOCPU - 1};
	unsigned i, cpu;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		percpu_sim_migrate(bad[i]);
		cpu = percpu_enter();
		cr_assert(percpu_cpu_possible(cpu), "id %u folded to %u",
		    bad[i], cpu);
		cr_assert_eq(percpu_curcpu(), cpu);
		percpu_leave();
	}
}
#endif

#if LINUX
Test(percpu, getref_uses_the_pinned_cpu)
{
	percpu_t *pc = percpu_alloc(sizeof(long));
	cpu_set_t set;
	unsigned cpu;

	PERCPU_FOREACH_CPU(cpu) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			continue; /* offline or outside our cgroup */
		cr_assert_eq(percpu_getref(pc), percpu_ptr(pc->pc_base, cpu));
		cr_assert_eq(percpu_curcpu(), cpu);
		percpu_putref(pc);
	}
	percpu_free(pc, sizeof(long));
}
#endif

/* ---- Exclusivity and exact totals ---- */

struct stamp_slot {
	volatile uintptr_t owner;
	uint64_t count;
};

struct stamp_run {
	percpu_t *pc;
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
		struct stamp_slot *s = percpu_getref(run->pc);

		if (harness_stamp(&s->owner, me, &seed))
			atomic_fetch_add(&run->violations, 1);
		s->count++;
		percpu_putref(run->pc);
		harness_migrate(i, &seed);
	}
	return (NULL);
}

static void
sum_count(void *p, void *arg, struct cpu_info *ci)
{
	(void)ci;
	*(uint64_t *)arg += ((struct stamp_slot *)p)->count;
}

Test(percpu, sections_are_exclusive_and_totals_exact, .timeout = 120)
{
	struct stamp_run run = {percpu_alloc(sizeof(struct stamp_slot)), 20000,
	    0};
	unsigned n = harness_threads();
	uint64_t total = 0;

	harness_run(n, stamp_worker, &run);
	cr_assert_eq(atomic_load(&run.violations), 0);
	percpu_foreach(run.pc, sum_count, &total);
	cr_assert_eq(total, (uint64_t)n * run.iters);
	percpu_free(run.pc, sizeof(struct stamp_slot));
}

#if SIM
Test(percpu, sections_exclusive_under_chaos_migration, .timeout = 120)
{
	struct stamp_run run = {percpu_alloc(sizeof(struct stamp_slot)), 20000,
	    0};
	unsigned n = harness_threads();
	uint64_t total = 0;

	percpu_sim_chaos(1);
	harness_run(n, stamp_worker, &run);
	percpu_sim_chaos(0);
	cr_assert_eq(atomic_load(&run.violations), 0);
	percpu_foreach(run.pc, sum_count, &total);
	cr_assert_eq(total, (uint64_t)n * run.iters);
	percpu_free(run.pc, sizeof(struct stamp_slot));
}
#endif

#if PERCPU_MP
/* A second thread that wants the held CPU waits for the first to leave. */
struct wait_run {
	unsigned cpu;
	atomic_int holding, released, entered_after_release;
};

static void
go_to(unsigned cpu)
{
# if SIM
	percpu_sim_migrate(cpu);
# else
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
# endif
}

static void *
waiter(void *arg)
{
	struct wait_run *w = arg;

	go_to(w->cpu);
	while (!atomic_load(&w->holding))
		sched_yield();
	cr_assert_eq(percpu_enter(), w->cpu);
	atomic_store(&w->entered_after_release, atomic_load(&w->released));
	percpu_leave();
	return (NULL);
}

Test(percpu, other_threads_wait_for_the_held_cpu)
{
	struct wait_run w = {percpu_cpu_first(), 0, 0, 0};
	pthread_t t;

	go_to(w.cpu);
	cr_assert_eq(pthread_create(&t, NULL, waiter, &w), 0);
	cr_assert_eq(percpu_enter(), w.cpu);
	cr_assert_eq(percpu_enter(), w.cpu); /* nested */
	atomic_store(&w.holding, 1);
	sleep_ms(100);
	percpu_leave();
	sleep_ms(20); /* still held at depth 1 */
	atomic_store(&w.released, 1);
	percpu_leave();
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(atomic_load(&w.entered_after_release), 1);
}
#endif

/* ---- foreach_xcall: serialized with each CPU's updaters ---- */

struct pair {
	uint64_t a, b; /* updated a then b inside one section: equal outside */
};

struct xcall_run {
	percpu_t *pc;
	unsigned iters;
	atomic_int stop;
};

static void *
pair_writer(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct xcall_run *run = ctx->arg;
	uint32_t seed = ctx->index + 11;
	unsigned i;

	for (i = 0; i < run->iters; i++) {
		struct pair *p = percpu_getref(run->pc);

		p->a++;
		harness_jiggle(&seed);
		p->b++;
		percpu_putref(run->pc);
#if SIM
		percpu_sim_migrate(harness_rand(&seed) % 256);
#endif
	}
	return (NULL);
}

struct xcall_read {
	uint64_t last[1024]; /* per unit: the previous pass's value */
	uint64_t sum;
	unsigned torn, decreased, calls;
};

static void
pair_reader(void *p, void *arg, struct cpu_info *ci)
{
	struct pair *x = p;
	struct xcall_read *r = arg;
	unsigned u = ci->ci_unit;

	cr_assert_eq(percpu_curcpu(), ci->ci_index, "runs as that CPU");
	r->torn += (x->a != x->b);
	r->decreased += (x->a < r->last[u]);
	r->last[u] = x->a;
	r->sum += x->a;
	r->calls++;
}

static void *
pair_checker(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct xcall_run *run = ctx->arg;
	struct xcall_read *r = calloc(1, sizeof(*r));
	uint64_t prev = 0;
	unsigned passes = 0;

	while (!atomic_load(&run->stop) || passes < 2) {
		r->sum = 0;
		percpu_foreach_xcall(run->pc, 0, pair_reader, r);
		cr_assert_geq(r->sum, prev, "sum never decreases");
		prev = r->sum;
		passes++;
	}
	cr_assert_eq(r->torn, 0);
	cr_assert_eq(r->decreased, 0);
	cr_assert_eq(r->calls, passes * percpu_ncpus());
	free(r);
	return (NULL);
}

static void *
xcall_role(void *arg)
{
	struct harness_ctx *ctx = arg;

	return (ctx->index == 0 ? pair_checker(arg) : pair_writer(arg));
}

static void
sum_pair(void *p, void *arg, struct cpu_info *ci)
{
	(void)ci;
	*(uint64_t *)arg += ((struct pair *)p)->b;
}

Test(percpu, foreach_xcall_never_sees_torn_or_decreasing, .timeout = 120)
{
	struct xcall_run run = {percpu_alloc(sizeof(struct pair)), 20000, 0};
	unsigned n = harness_threads();
	uint64_t total = 0;

#if PERCPU_MP
	pthread_t t;
	struct harness_ctx c0 = {0, &run};

	/* The checker runs beside n writers until they are done. */
	cr_assert_eq(pthread_create(&t, NULL, xcall_role, &c0), 0);
	harness_run(n, pair_writer, &run);
	atomic_store(&run.stop, 1);
	cr_assert_eq(pthread_join(t, NULL), 0);
#else
	/* UP: no parallel threads; alternate writer and checker. */
	struct harness_ctx c = {1, &run};

	(void)xcall_role;
	pair_writer(&c);
	atomic_store(&run.stop, 1);
	c.index = 0;
	pair_checker(&c);
#endif
	percpu_foreach(run.pc, sum_pair, &total);
	cr_assert_eq(total, (uint64_t)n * run.iters);
	percpu_free(run.pc, sizeof(struct pair));
}

/* ---- Nesting ---- */

Test(percpu, nested_sections_over_two_objects)
{
	percpu_t *a = percpu_alloc(sizeof(int)), *b = percpu_alloc(64);
	int *pa = percpu_getref(a);
	unsigned cpu = percpu_curcpu();
	char *pb = percpu_getref(b);

	cr_assert_eq(pa, percpu_ptr(a->pc_base, cpu));
	cr_assert_eq(pb, percpu_ptr(b->pc_base, cpu), "same CPU when nested");
	cr_assert_eq(percpu_in_section(), PERCPU_MP || PERCPU_DEBUG ? 2u : 0u);
	*pa = 7;
	pb[63] = 9;
	percpu_putref(b);
	cr_assert_eq(percpu_curcpu(), cpu);
	percpu_putref(a);
	cr_assert_eq(percpu_in_section(), 0);
	cr_assert_eq(*(int *)percpu_ptr(a->pc_base, cpu), 7);
	cr_assert_eq(((char *)percpu_ptr(b->pc_base, cpu))[63], 9);
	percpu_free(a, sizeof(int));
	percpu_free(b, 64);
}

/* ---- Signals: a handler nests on the interrupted section's CPU ---- */

static percpu_t *sig_pc;
static void *volatile sig_slot;
static volatile unsigned sig_depth;

static void
on_usr1(int sig)
{
	(void)sig;
	sig_slot = percpu_getref(sig_pc);
	sig_depth = percpu_in_section();
	percpu_putref(sig_pc);
}

Test(percpu, signal_handler_nests_on_the_held_cpu, .timeout = 60)
{
	struct sigaction sa;
	void *p;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	sig_pc = percpu_alloc(sizeof(long));
	p = percpu_getref(sig_pc);
	cr_assert_eq(raise(SIGUSR1), 0); /* delivered before raise returns */
	cr_assert_eq(sig_slot, p, "the handler shares the held CPU's slot");
	cr_assert_eq(sig_depth, PERCPU_MP || PERCPU_DEBUG ? 2u : 0u);
	cr_assert_eq(percpu_in_section(), PERCPU_MP || PERCPU_DEBUG ? 1u : 0u);
	percpu_putref(sig_pc);
	cr_assert_eq(percpu_in_section(), 0);
	percpu_free(sig_pc, sizeof(long));
}

/*
 * Signals land anywhere, the windows inside enter and leave included: no
 * deadlock, and the handler's and the interrupted code's fields (disjoint)
 * both total exactly.  The target loops until it has done its share and
 * a handler ran (up to HARNESS_WAIT_S: when the sender runs is the
 * scheduler's choice).
 */
struct sig_slot2 {
	uint64_t main_adds;
	uint64_t handler_adds;
};

static atomic_ulong handler_runs;

static void
on_usr2(int sig)
{
	struct sig_slot2 *s;

	(void)sig;
	s = percpu_getref(sig_pc);
	s->handler_adds++;
	percpu_putref(sig_pc);
	atomic_fetch_add(&handler_runs, 1);
}

struct sig_run {
	unsigned iters;
	atomic_int done;
	uint64_t adds; /* the target's, published by done */
	int starved;   /* no handler ran within the bound */
};

static void *
sig_target(void *arg)
{
	struct sig_run *r = arg;
	uint64_t i, since = 0;

	for (i = 0; i < r->iters || atomic_load(&handler_runs) == 0; i++) {
		struct sig_slot2 *s = percpu_getref(sig_pc);

		s->main_adds++;
		percpu_putref(sig_pc);
		if (i + 1 >= r->iters && atomic_load(&handler_runs) == 0) {
			/* Share done, no handler yet: let the sender run. */
			if (since == 0)
				since = harness_now_ms();
			else if (harness_waited_too_long(since)) {
				r->starved = 1;
				i++;
				break;
			}
			(void)sched_yield();
		}
	}
	r->adds = i;
	atomic_store(&r->done, 1); /* release: adds, starved */
	return (NULL);
}

static void
sum_sig(void *p, void *arg, struct cpu_info *ci)
{
	struct sig_slot2 *s = p;
	uint64_t *t = arg;

	(void)ci;
	t[0] += s->main_adds;
	t[1] += s->handler_adds;
}

Test(percpu, signals_anywhere_never_deadlock, .timeout = 150)
{
	struct sig_run r = {2000000, 0, 0, 0};
	struct sigaction sa;
	uint64_t t[2] = {0, 0};
	unsigned long sent = 0;
	pthread_t th;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_RESTART;
	cr_assert_eq(sigaction(SIGUSR2, &sa, NULL), 0);
	sig_pc = percpu_alloc(sizeof(struct sig_slot2));
	cr_assert_eq(pthread_create(&th, NULL, sig_target, &r), 0);
	/* One signal in flight at a time: each lands at a random point of
	 * the target's loop, and no storm starves it (TSan delivers slowly). */
	while (!atomic_load(&r.done)) {
		if (atomic_load(&handler_runs) == sent &&
		    pthread_kill(th, SIGUSR2) == 0)
			sent++;
	}
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(r.starved, 0,
	    HARNESS_ENV "no signal handler ran within %d s (%lu sent)",
	    HARNESS_WAIT_S, sent);
	percpu_foreach(sig_pc, sum_sig, t);
	cr_assert_geq(r.adds, r.iters);
	cr_assert_eq(t[0], r.adds);
	cr_assert_eq(t[1], atomic_load(&handler_runs));
	cr_assert_gt(atomic_load(&handler_runs), 0);
	percpu_free(sig_pc, sizeof(struct sig_slot2));
}

/* ---- Fork ---- */

static void *
hold_a_cpu(void *arg)
{
	atomic_int *state = arg;

	(void)percpu_enter();
	atomic_store(state, 1);
	while (atomic_load(state) < 2)
		sched_yield();
	percpu_leave();
	/* Still running at fork: ThreadSanitizer reports a thread that
	 * ended unjoined before fork() as leaked in the child. */
	while (atomic_load(state) != 3)
		sched_yield();
	return (NULL);
}

static void
set_all(void *p, void *arg, struct cpu_info *ci)
{
	(void)ci;
	*(long *)p = *(long *)arg;
}

static void
check_all(void *p, void *arg, struct cpu_info *ci)
{
	cr_assert_eq(*(long *)p, *(long *)arg, "CPU %u", cpu_index(ci));
}

/* fork() waits for the sections of other threads: the holder leaves when
 * fork begins (this prepare handler runs before the toolkit's, which was
 * registered earlier). */
static atomic_int *fork_holder;

static void
release_holder(void)
{
	if (fork_holder != NULL)
		atomic_store(fork_holder, 2);
}

Test(percpu, fork_child_has_its_own_copy, .timeout = 120)
{
	percpu_t *pc = percpu_alloc(sizeof(long));
	long parent = 1, child = 2;
	atomic_int state = 0;
	pthread_t th;
	int status;
	pid_t pid;

	percpu_foreach(pc, set_all, &parent);
	fork_holder = &state;
	cr_assert_eq(pthread_atfork(release_holder, NULL, NULL), 0);
	/* Another thread holds a CPU when fork is called: the child must
	 * not inherit that lock (the thread does not exist there). */
	cr_assert_eq(pthread_create(&th, NULL, hold_a_cpu, &state), 0);
	while (atomic_load(&state) != 1)
		sched_yield();
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		unsigned cpu, bad = 0;

		/* Every CPU can be entered; writes stay in the child. */
		percpu_foreach_xcall(pc, 0, set_all, &child);
		PERCPU_FOREACH_CPU(cpu)
			bad += *(long *)percpu_ptr(pc->pc_base, cpu) != child;
		_exit(bad == 0 ? 0 : 1);
	}
	atomic_store(&state, 3);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	percpu_foreach(pc, check_all, &parent);
	cr_assert_eq(pthread_join(th, NULL), 0);
	percpu_free(pc, sizeof(long));
}

/* ---- Bad input: exact documented results ---- */

static void
never(void *p, void *arg, struct cpu_info *ci)
{
	(void)p;
	(void)ci;
	(*(unsigned *)arg)++;
}

Test(percpu, free_with_wrong_size_is_detected_and_frees_nothing)
{
	percpu_t *pc = percpu_alloc(8);
	long *p;

	harness_capture_errors();
	/* Written and read back in one CPU's copy (nested in its section):
	 * the thread may move between two sections of its own. */
	cr_assert_eq(percpu_enter_cpu(percpu_cpu_first()), percpu_cpu_first());
	p = percpu_getref(pc);
	*p = 99;
	percpu_putref(pc);
	percpu_leave();
	percpu_free(pc, 16);
	cr_assert_eq(harness_errors(), 1);
	cr_assert_str_eq(harness_last_error(),
	    "percpu_free: size 16 does not match the allocated size 8");
	/* Still allocated and intact. */
	cr_assert_eq(percpu_enter_cpu(percpu_cpu_first()), percpu_cpu_first());
	p = percpu_getref(pc);
	cr_assert_eq(*p, 99);
	percpu_putref(pc);
	percpu_leave();
	percpu_free(pc, 8);
	cr_assert_eq(harness_errors(), 1);
}

Test(percpu, free_with_wrong_size_aborts_by_default, .signal = SIGABRT)
{
	percpu_t *pc = percpu_alloc(8);

	percpu_free(pc, 4);
}

Test(percpu, null_handles_are_detected)
{
	unsigned calls = 0;

	harness_capture_errors();
	percpu_free(NULL, 8);
	cr_assert_str_eq(harness_last_error(), "percpu_free: NULL handle");
	cr_assert_null(percpu_getref(NULL));
	cr_assert_str_eq(harness_last_error(), "percpu_getref: NULL handle");
	cr_assert_eq(percpu_in_section(), 0, "getref(NULL) did not enter");
	percpu_putref(NULL);
	cr_assert_str_eq(harness_last_error(), "percpu_putref: NULL handle");
	percpu_foreach(NULL, never, &calls);
	cr_assert_str_eq(harness_last_error(), "percpu_foreach: NULL handle");
	percpu_foreach_xcall(NULL, 0, never, &calls);
	cr_assert_str_eq(harness_last_error(),
	    "percpu_foreach_xcall: NULL handle");
	cr_assert_eq(calls, 0);
	cr_assert_eq(harness_errors(), 5);
}

Test(percpu, bad_sizes_are_detected)
{
	char want[128];

	harness_capture_errors();
	cr_assert_null(percpu_alloc(0));
	cr_assert_str_eq(harness_last_error(), "percpu_alloc: size 0");
	cr_assert_null(percpu_alloc((size_t)PERCPU_UNIT_SIZE + 1));
	snprintf(want, sizeof(want),
	    "percpu_alloc: cannot reserve %zu bytes on every CPU (limit %u; "
	    "raise it with -DPERCPU_UNIT_SIZE=...)",
	    (size_t)PERCPU_UNIT_SIZE + 1, (unsigned)PERCPU_UNIT_SIZE);
	cr_assert_str_eq(harness_last_error(), want);
	cr_assert_eq(harness_errors(), 2);
}

Test(percpu, unbalanced_leave_and_xcall_in_section_are_detected)
{
	percpu_t *pc = percpu_alloc(8);
	unsigned calls = 0;

	harness_capture_errors();
#if PERCPU_MP
	percpu_leave();
	cr_assert_str_eq(harness_last_error(),
	    "percpu_leave: not in a section");
	(void)percpu_getref(pc);
	percpu_foreach_xcall(pc, 0, never, &calls);
	cr_assert_eq(calls, 0);
	{
		char want[96];

		snprintf(want, sizeof(want),
		    "percpu_enter_cpu: already in a section on CPU %u",
		    percpu_curcpu());
		cr_assert_str_eq(harness_last_error(), want);
	}
	percpu_putref(pc);
	cr_assert_eq(harness_errors(), 2);
#endif
	/* Outside a section it runs once per CPU. */
	percpu_foreach_xcall(pc, 0, never, &calls);
	cr_assert_eq(calls, percpu_ncpus());
	percpu_free(pc, 8);
}

/* ---- The arena in memory the toolkit did not allocate ---- */

#if PERCPU_MP
static _Alignas(4096) unsigned char prov_buf[4 * 1024 * 1024];
static size_t prov_used, prov_maps, prov_unmaps;

static void *
prov_map(size_t len, void *ctx)
{
	void *p;

	cr_assert_eq(ctx, (void *)prov_buf);
	if (len > sizeof(prov_buf) - prov_used)
		return (NULL);
	p = prov_buf + prov_used;
	prov_used += len;
	prov_maps++;
	return (p);
}

static void
prov_unmap(void *p, size_t len, void *ctx)
{
	(void)p;
	(void)len;
	(void)ctx;
	prov_unmaps++;
}

Test(percpu, arena_lives_in_a_provided_chunk)
{
	struct percpu_chunk_provider prov = {prov_map, prov_unmap, prov_buf};
	size_t size = 1000;
	percpu_t *pc;
	unsigned cpu;

	cr_assert_eq(percpu_set_chunk_provider(&prov), 0);
	pc = percpu_alloc(size);
	cr_assert_eq(prov_maps, 1, "chunk 0 came from the provider");
	cr_assert_eq(prov_used, (size_t)PERCPU_UNIT_SIZE * percpu_ncpus());
	PERCPU_FOREACH_CPU(cpu) {
		unsigned char *p = percpu_ptr(pc->pc_base, cpu);

		cr_assert(p >= prov_buf && p + size <= prov_buf + prov_used);
	}
	percpu_foreach(pc, check_zero, &size);
	cr_assert_eq(percpu_set_chunk_provider(NULL), -1, "table exists");
	percpu_free(pc, size);
	cr_assert_eq(prov_unmaps, 0, "chunk 0 is never returned");
}
#else
Test(percpu, chunk_provider_is_refused_on_up)
{
	cr_assert_eq(percpu_set_chunk_provider(NULL), -1);
}
#endif
