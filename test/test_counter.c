/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_counter.c - FreeBSD counter(9) (counter.h).
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
#include <stdint.h>
#include <string.h>

/* The ratecheck clock of this file: driven by hand. */
static _Atomic(int64_t) test_clock_ns = 10 * (int64_t)1000000000;

static int64_t
test_now_ns(void)
{
	return (atomic_load(&test_clock_ns));
}

#define COUNTER_RATE_NOW_NS() test_now_ns()
#include "counter.h"

#define SIM (PERCPU_MD == PERCPU_MD_SIM)
#define LINUX (PERCPU_MD == PERCPU_MD_LINUX)

/* A CPU's words, read the way the build declares them. */
static uint64_t
slot_count(counter_u64_t c, unsigned cpu)
{
	struct counter_priv_slot *s = percpu_ptr(c, cpu);

#if PERCPU_MP
	return (atomic_load(&s->cs_count));
#else
	return (s->cs_count);
#endif
}

static uint64_t
slot_base(counter_u64_t c, unsigned cpu)
{
	struct counter_priv_slot *s = percpu_ptr(c, cpu);

#if PERCPU_MP
	return (atomic_load(&s->cs_base));
#else
	return (s->cs_base);
#endif
}

/* Add @v on CPU @cpu: the thread goes there first. */
static void
add_on(counter_u64_t c, unsigned cpu, int64_t v)
{
	/* Adds land on the running CPU's copy: run there (percpu_pin();
	 * on the simulated port it moves the thread). */
	cr_assert_eq(percpu_pin(cpu), 0, "pin to CPU %u", cpu);
	counter_u64_add(c, v);
	percpu_unpin();
}

/* ---- Allocation ---- */

Test(counter, alloc_zeroes_every_possible_cpu)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK), d;
	uint64_t want = 0;
	unsigned cpu;

	cr_assert_not_null(c);
	PERCPU_FOREACH_CPU(cpu) {
		add_on(c, cpu, cpu + 1);
		cr_assert_eq(slot_count(c, cpu), cpu + 1, "CPU %u", cpu);
		want += cpu + 1;
	}
	cr_assert_eq(counter_u64_fetch(c), want);
	counter_u64_zero(c); /* dirty the baselines too */
	counter_u64_free(c);
	/* The same storage comes back (first fit), zero on every CPU.
	 * PERCPU_DEBUG=1 keeps a freed counter's storage away from the next
	 * allocation (use-after-free detection): there it is other storage,
	 * zero all the same. */
	d = counter_u64_alloc(M_WAITOK | M_ZERO);
#if !PERCPU_DEBUG
	cr_assert_eq(d, c);
#endif
	PERCPU_FOREACH_CPU(cpu) {
		cr_assert_eq(slot_count(d, cpu), 0, "CPU %u", cpu);
		cr_assert_eq(slot_base(d, cpu), 0, "CPU %u", cpu);
	}
	cr_assert_eq(counter_u64_fetch(d), 0);
	counter_u64_free(d);
}

Test(counter, free_null_is_a_noop)
{
	harness_capture_errors();
	counter_u64_free(NULL);
	cr_assert_eq(harness_errors(), 0);
}

Test(counter, nowait_failure_returns_null)
{
	counter_u64_t c, a[4];

	harness_capture_errors();
	percpu_priv_zalloc_fail_next(1);
	cr_assert_null(counter_u64_alloc(M_NOWAIT));
	c = counter_u64_alloc(M_NOWAIT); /* only the next one failed */
	cr_assert_not_null(c);
	counter_u64_free(c);
	percpu_priv_zalloc_fail_next(2);
	COUNTER_ARRAY_ALLOC(a, 4, M_NOWAIT);
	cr_assert_null(a[0]);
	cr_assert_null(a[1]);
	cr_assert_not_null(a[2]);
	cr_assert_not_null(a[3]);
	COUNTER_ARRAY_FREE(a, 4); /* NULLs are no-ops */
	cr_assert_null(a[2]);
	cr_assert_eq(harness_errors(), 0); /* M_NOWAIT reports nothing */
}

Test(counter, waitok_failure_aborts, .signal = SIGABRT)
{
	percpu_priv_zalloc_fail_next(1);
	(void)counter_u64_alloc(M_WAITOK);
}

/* Even a handler that returns does not make M_WAITOK return NULL. */
Test(counter, waitok_failure_aborts_after_reporting, .signal = SIGABRT)
{
	harness_capture_errors();
	percpu_priv_zalloc_fail_next(1);
	(void)counter_u64_alloc(M_WAITOK);
}

Test(counter, bad_flags_are_detected)
{
	harness_capture_errors();
	cr_assert_null(counter_u64_alloc(0));
	cr_assert_null(counter_u64_alloc(M_WAITOK | M_NOWAIT));
	cr_assert_eq(harness_errors(), 2);
	cr_assert(strstr(harness_last_error(), "M_WAITOK") != NULL);
}

/* ---- Adds and fetch ---- */

Test(counter, negative_add_decrements)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);
	unsigned first = percpu_cpu_first(), last = first, cpu;

	PERCPU_FOREACH_CPU(cpu)
		last = cpu;
	counter_u64_add(c, 10);
	counter_u64_add(c, -3);
	cr_assert_eq(counter_u64_fetch(c), 7);
	counter_u64_add(c, -7);
	cr_assert_eq(counter_u64_fetch(c), 0);
	counter_u64_add(c, -1); /* no wraparound protection, as in FreeBSD */
	cr_assert_eq(counter_u64_fetch(c), UINT64_MAX);
	counter_u64_add(c, 1);
	/* +5 on one CPU, -5 on another: the sum is exact modulo 2^64. */
	add_on(c, first, 5);
	add_on(c, last, -5);
	cr_assert_eq(counter_u64_fetch(c), 0);
	counter_u64_free(c);
}

#if SIM
Test(counter, add_goes_to_the_running_cpu)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);

	percpu_sim_migrate(63);
	counter_u64_add(c, 4);
	percpu_sim_migrate(200);
	counter_u64_add(c, 1);
	cr_assert_eq(slot_count(c, 63), 4);
	cr_assert_eq(slot_count(c, 200), 1);
	cr_assert_eq(slot_count(c, 0), 0);
	percpu_sim_migrate(7); /* not possible: folded onto a possible CPU */
	counter_u64_add(c, 2);
	cr_assert_eq(counter_u64_fetch(c), 7);
	counter_u64_free(c);
}
#endif

Test(counter, arrays)
{
	counter_u64_t a[4];
	uint64_t out[4];
	unsigned i;

	COUNTER_ARRAY_ALLOC(a, 4, M_WAITOK);
	for (i = 0; i < 4; i++)
		counter_u64_add(a[i], (int64_t)i + 1);
	COUNTER_ARRAY_COPY(a, out, 4);
	for (i = 0; i < 4; i++)
		cr_assert_eq(out[i], i + 1);
	COUNTER_ARRAY_ZERO(a, 4);
	COUNTER_ARRAY_COPY(a, out, 4);
	for (i = 0; i < 4; i++)
		cr_assert_eq(out[i], 0);
	COUNTER_ARRAY_FREE(a, 4);
	for (i = 0; i < 4; i++)
		cr_assert_null(a[i]);
}

/* Batches in counter_enter/exit, with forced migrations inside. */
static void *
protected_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	counter_u64_t c = ctx->arg;
	uint32_t seed = ctx->index * 31u + 7;
	unsigned i, j;

	for (i = 0; i < 5000; i++) {
		counter_enter();
		for (j = 0; j < 4; j++) {
			counter_u64_add_protected(c, 1);
#if SIM
			percpu_sim_migrate(harness_rand(&seed) % 256);
#endif
		}
		counter_u64_add(c, 1); /* a plain add inside a section too */
		counter_exit();
#if LINUX
		if ((i & 255) == 0)
			harness_shuffle_affinity(&seed);
#endif
	}
	(void)seed;
	return (NULL);
}

Test(counter, protected_adds_lose_nothing, .timeout = 120)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);
	unsigned n = harness_threads();

	harness_run(n, protected_worker, c);
	cr_assert_eq(counter_u64_fetch(c), (uint64_t)n * 5000 * 5);
	counter_u64_free(c);
}

/*
 * Adds from many threads, with real or forced migrations, while another
 * thread sends signals whose handler adds to the same counter.  Every
 * worker keeps adding until it has done its share and at least one
 * handler ran on it (waiting for that, yielding, as long as it takes up
 * to HARNESS_WAIT_S: when the sender runs is the scheduler's choice), so
 * the handler path is always exercised.  The sender keeps sending, round
 * robin, until every worker is done.  At the end the fetch is exactly
 * the threads' sum plus the handlers' sum.
 */
#define SIG_WORKERS_MAX 256

static counter_u64_t sig_c;
static atomic_ullong sig_handler_sum;
static _Thread_local volatile unsigned sig_runs_here;

static void
on_usr1(int sig)
{
	(void)sig;
	counter_u64_add(sig_c, 3);
	atomic_fetch_add(&sig_handler_sum, 3);
	sig_runs_here++;
}

struct sig_run {
	unsigned nworkers;
	unsigned iters;
	pthread_t tid[SIG_WORKERS_MAX];
	atomic_uint registered;
	atomic_uint finished;
	atomic_int stop;
	atomic_ullong thread_sum;
	atomic_uint starved; /* workers that saw no handler run in time */
	atomic_ulong sent;
};

static void
sig_worker(struct sig_run *r, unsigned w)
{
	uint32_t seed = w * 2654435761u + 1;
	uint64_t mine = 0, since = 0;
	unsigned i;
#if !PERCPU_MP
	sigset_t usr1, old;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
#endif

	r->tid[w] = pthread_self();
	atomic_fetch_add(&r->registered, 1);
	for (i = 0; i < r->iters || sig_runs_here == 0; i++) {
		int64_t v = (i % 7 == 0) ? -2 : 5;

#if !PERCPU_MP
		/* UP: a plain add; the handler's add must not interrupt it. */
		(void)pthread_sigmask(SIG_BLOCK, &usr1, &old);
#endif
		counter_u64_add(sig_c, v);
#if !PERCPU_MP
		(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
#endif
		mine += (uint64_t)v;
#if LINUX
		if ((i & 1023) == 0)
			harness_shuffle_affinity(&seed);
#elif SIM
		if ((i & 15) == 0)
			percpu_sim_migrate(harness_rand(&seed) % 256);
#endif
		if (i + 1 >= r->iters && sig_runs_here == 0) {
			/* Share done, no handler yet: let the sender run. */
			if (since == 0)
				since = harness_now_ms();
			else if (harness_waited_too_long(since)) {
				atomic_fetch_add(&r->starved, 1);
				break;
			}
			(void)sched_yield();
		}
	}
	(void)seed;
	atomic_fetch_add(&r->thread_sum, mine);
	atomic_fetch_add(&r->finished, 1);
	while (!atomic_load(&r->stop)) /* stay signalable until the end */
		(void)sched_yield();
}

static void
sig_killer(struct sig_run *r)
{
	unsigned long sent = 0;

	while (atomic_load(&r->registered) < r->nworkers)
		(void)sched_yield();
	while (atomic_load(&r->finished) < r->nworkers) {
		if (pthread_kill(r->tid[sent % r->nworkers], SIGUSR1) == 0)
			sent++;
		if ((sent & 31) == 0)
			(void)sched_yield();
	}
	atomic_store(&r->sent, sent);
	atomic_store(&r->stop, 1);
}

static void *
sig_thread(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct sig_run *r = ctx->arg;

	if (ctx->index == 0)
		sig_killer(r);
	else
		sig_worker(r, ctx->index - 1);
	return (NULL);
}

Test(counter, adds_never_lost_under_migration_and_signals, .timeout = 150)
{
	static struct sig_run r;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	r.nworkers = harness_threads();
	if (r.nworkers > SIG_WORKERS_MAX)
		r.nworkers = SIG_WORKERS_MAX;
	r.iters = 20000;
	sig_c = counter_u64_alloc(M_WAITOK);
#if SIM
	percpu_sim_chaos(1); /* every CPU lookup migrates */
#endif
	harness_run(r.nworkers + 1, sig_thread, &r);
#if SIM
	percpu_sim_chaos(0);
#endif
	cr_assert_eq(atomic_load(&r.starved), 0,
	    HARNESS_ENV "%u of %u workers saw no signal handler run within "
			"%d s while %lu signals were sent",
	    atomic_load(&r.starved), r.nworkers, HARNESS_WAIT_S,
	    atomic_load(&r.sent));
	cr_assert_gt(atomic_load(&sig_handler_sum), 0);
	cr_assert_eq(counter_u64_fetch(sig_c),
	    atomic_load(&r.thread_sum) + atomic_load(&sig_handler_sum));
	counter_u64_free(sig_c);
}

/* ---- Zero ---- */

#if PERCPU_MP
/*
 * The test controls when adds begin: writers add freely, then park at a
 * barrier (no add in flight), the counter is zeroed, and the writers are
 * released for exactly K adds each.  Then the fetch must be exactly the
 * adds that began after the zero.  While they run, a reader checks that
 * every fetch lies between the adds it can prove finished (published by
 * the writers after each add) and the adds that can have begun.
 */
# define ZW_MAX 256
# define ZW_K 20000

struct zero_run {
	counter_u64_t c;
	unsigned nwriters;
	atomic_int phase; /* 0 free run, 1 park, 2 counted run */
	atomic_uint parked;
	atomic_uint finished;
	atomic_ullong free_adds;
	_Atomic(uint64_t) done[ZW_MAX]; /* counted adds finished, per writer */
	/* results, checked by the test's thread */
	uint64_t at_park, after_zero, final;
	atomic_uint below, above;
	unsigned long reads;
};

static void
zero_writer(struct zero_run *z, unsigned w)
{
	uint64_t n = 0;
	unsigned i;

	while (atomic_load(&z->phase) == 0) {
		counter_u64_add(z->c, 1);
		n++;
	}
	atomic_fetch_add(&z->free_adds, n);
	atomic_fetch_add(&z->parked, 1);
	while (atomic_load(&z->phase) == 1)
		(void)sched_yield();
	for (i = 0; i < ZW_K; i++) {
		counter_u64_add(z->c, 1);
		/* Release: the add before the count the reader trusts. */
		atomic_store_explicit(&z->done[w], i + 1u,
		    memory_order_release);
	}
	atomic_fetch_add(&z->finished, 1);
}

static void
zero_controller(struct zero_run *z)
{
	uint64_t limit = (uint64_t)z->nwriters * ZW_K;

	while (counter_u64_fetch(z->c) < 1000)
		(void)sched_yield();
	atomic_store(&z->phase, 1);
	while (atomic_load(&z->parked) < z->nwriters)
		(void)sched_yield();
	z->at_park = counter_u64_fetch(z->c);
	counter_u64_zero(z->c);
	z->after_zero = counter_u64_fetch(z->c);
	atomic_store(&z->phase, 2);
	while (atomic_load(&z->finished) < z->nwriters) {
		uint64_t proven = 0, f;
		unsigned w;

		/* Acquire: pairs with the writers' release of done[w]. */
		for (w = 0; w < z->nwriters; w++)
			proven += atomic_load_explicit(&z->done[w],
			    memory_order_acquire);
		f = counter_u64_fetch(z->c);
		if (f < proven)
			atomic_fetch_add(&z->below, 1);
		if (f > limit)
			atomic_fetch_add(&z->above, 1);
		z->reads++;
	}
	z->final = counter_u64_fetch(z->c);
}

static void *
zero_thread(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct zero_run *z = ctx->arg;

	if (ctx->index == 0)
		zero_controller(z);
	else
		zero_writer(z, ctx->index - 1);
	return (NULL);
}

Test(counter, zero_counts_exactly_the_adds_that_begin_after_it, .timeout = 120)
{
	static struct zero_run z;

	z.c = counter_u64_alloc(M_WAITOK);
	z.nwriters = harness_threads();
	if (z.nwriters > ZW_MAX)
		z.nwriters = ZW_MAX;
	harness_run(z.nwriters + 1, zero_thread, &z);
	cr_assert_eq(z.at_park, atomic_load(&z.free_adds));
	cr_assert_eq(z.after_zero, 0);
	cr_assert_eq(atomic_load(&z.below), 0, "%u of %lu reads below proof",
	    atomic_load(&z.below), z.reads);
	cr_assert_eq(atomic_load(&z.above), 0);
	cr_assert_eq(z.final, (uint64_t)z.nwriters * ZW_K);
	counter_u64_free(z.c);
}

/*
 * Zeros at random moments while writers add: each writer publishes how
 * many adds it began (before the add) and finished (after it).  The last
 * zero's bounds: at quiescence the fetch is at least the adds begun after
 * that zero returned, and at most those not finished before it began.  A
 * concurrent reader checks no fetch exceeds the adds ever begun (a zero
 * racing a fetch must never produce wrapped, "negative" garbage).
 */
struct zrand_run {
	counter_u64_t c;
	unsigned nwriters;
	atomic_int stop;
	atomic_int zeros_done;
	_Atomic(uint64_t) begun[ZW_MAX];
	_Atomic(uint64_t) done[ZW_MAX];
	uint64_t lo, hi, final;
	atomic_uint garbage;
};

static uint64_t
zr_sum(_Atomic(uint64_t) *v, unsigned n)
{
	uint64_t s = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		s += atomic_load(&v[i]);
	return (s);
}

static void *
zrand_thread(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct zrand_run *z = ctx->arg;
	uint32_t seed = ctx->index + 99;

	if (ctx->index == 0) { /* zeroer */
		uint64_t before = 0, after = 0;
		int k;

		for (k = 0; k < 200; k++) {
			harness_jiggle(&seed);
			before = zr_sum(z->done, z->nwriters);
			counter_u64_zero(z->c);
			after = zr_sum(z->begun, z->nwriters);
		}
		atomic_store(&z->stop, 1);
		z->lo = after;	      /* begun before the zero returned */
		z->hi = before;	      /* finished before it began */
	} else if (ctx->index == 1) { /* reader */
		while (!atomic_load(&z->stop)) {
			uint64_t f = counter_u64_fetch(z->c);

			if (f > zr_sum(z->begun, z->nwriters))
				atomic_fetch_add(&z->garbage, 1);
		}
	} else { /* writer */
		unsigned w = ctx->index - 2;

		while (!atomic_load(&z->stop)) {
			atomic_fetch_add(&z->begun[w], 1);
			counter_u64_add(z->c, 1);
			atomic_fetch_add(&z->done[w], 1);
# if SIM
			percpu_sim_migrate(harness_rand(&seed) % 256);
# endif
		}
	}
	return (NULL);
}

Test(counter, zero_while_adds_run_stays_within_bounds, .timeout = 120)
{
	static struct zrand_run z;
	uint64_t total;

	z.c = counter_u64_alloc(M_WAITOK);
	z.nwriters = harness_threads();
	if (z.nwriters > ZW_MAX)
		z.nwriters = ZW_MAX;
	harness_run(z.nwriters + 2, zrand_thread, &z);
	total = zr_sum(z.done, z.nwriters);
	z.final = counter_u64_fetch(z.c);
	cr_assert_eq(atomic_load(&z.garbage), 0);
	cr_assert_geq(z.final, total - z.lo, "final %ju, total %ju, lo %ju",
	    (uintmax_t)z.final, (uintmax_t)total, (uintmax_t)z.lo);
	cr_assert_leq(z.final, total - z.hi, "final %ju, total %ju, hi %ju",
	    (uintmax_t)z.final, (uintmax_t)total, (uintmax_t)z.hi);
	counter_u64_free(z.c);
}
#endif /* PERCPU_MP */

Test(counter, zero_then_adds_count_from_zero)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);
	unsigned cpu;

	PERCPU_FOREACH_CPU(cpu)
		add_on(c, cpu, 100);
	counter_u64_zero(c);
	cr_assert_eq(counter_u64_fetch(c), 0);
	PERCPU_FOREACH_CPU(cpu) /* zero never writes the hot words */
		cr_assert_eq(slot_count(c, cpu), 100);
	counter_u64_add(c, 3);
	add_on(c, percpu_cpu_first(), -1);
	cr_assert_eq(counter_u64_fetch(c), 2);
	counter_u64_zero(c);
	counter_u64_zero(c);
	cr_assert_eq(counter_u64_fetch(c), 0);
	counter_u64_free(c);
}

/* ---- Early counters ---- */

COUNTER_U64_DEFINE_EARLY(early_hits);
static COUNTER_U64_DEFINE_EARLY(early_raced);

Test(counter, define_early_works_without_alloc)
{
	harness_capture_errors();
#if PERCPU_MP
	cr_assert(counter_priv_is_early(early_hits));
#endif
	counter_u64_add(early_hits, 3); /* the first use */
	cr_assert_eq(counter_u64_fetch(early_hits), 3);
	counter_u64_zero(early_hits);
	cr_assert_eq(counter_u64_fetch(early_hits), 0);
	counter_u64_add(early_hits, -1);
	cr_assert_eq(counter_u64_fetch(early_hits), UINT64_MAX);
#if PERCPU_MP
	counter_u64_free(early_hits); /* never freed: a detected error */
	cr_assert_eq(harness_errors(), 1);
	cr_assert_eq(counter_u64_fetch(early_hits), UINT64_MAX);
#endif
	cr_assert_eq(harness_errors(), PERCPU_MP ? 1 : 0);
}

static void *
early_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	unsigned i;

	(void)ctx;
	for (i = 0; i < 10000; i++)
		counter_u64_add(early_raced, 1);
	return (NULL);
}

/* Many threads race the first use: one allocation wins, nothing lost. */
Test(counter, define_early_first_use_race_loses_nothing, .timeout = 120)
{
	unsigned n = harness_threads();

	harness_run(n, early_worker, NULL);
	cr_assert_eq(counter_u64_fetch(early_raced), (uint64_t)n * 10000);
}

/* ---- Rate check ---- */

static void
advance_ms(int64_t ms)
{
	atomic_fetch_add(&test_clock_ns, ms * 1000000);
}

Test(counter, ratecheck_three_cases)
{
	struct counter_rate cr;

	memset(&cr, 0, sizeof(cr));
	cr.cr_rate = counter_u64_alloc(M_WAITOK);
	/* Window 1: 3 events within the limit, then over it. */
	cr_assert_eq(counter_ratecheck(&cr, 3), 0);
	cr_assert_eq(counter_ratecheck(&cr, 3), 0);
	cr_assert_eq(counter_ratecheck(&cr, 3), 0);
	cr_assert_eq(counter_ratecheck(&cr, 3), -1);
	cr_assert_eq(counter_ratecheck(&cr, 3), -1);
	advance_ms(999);
	cr_assert_eq(counter_ratecheck(&cr, 3), -1); /* same window */
	advance_ms(1);
	/* Window 2 starts: the previous one went over with 6 events. */
	cr_assert_eq(counter_ratecheck(&cr, 3), 6);
	cr_assert_eq(counter_ratecheck(&cr, 3), 0);
	advance_ms(1500);
	/* Window 3: the previous one stayed within the limit. */
	cr_assert_eq(counter_ratecheck(&cr, 3), 0);
	/* A reset in progress elsewhere (the try-lock is taken): the call
	 * neither waits nor counts. */
	advance_ms(1000);
	cr.cr_lock = 1;
	cr_assert_eq(counter_ratecheck(&cr, 3), 0);
	cr_assert_eq(counter_u64_fetch(cr.cr_rate), 1);
	cr.cr_lock = 0;
	cr_assert_eq(counter_ratecheck(&cr, 3), 0);
	cr_assert_eq(counter_u64_fetch(cr.cr_rate), 1);
	counter_u64_free(cr.cr_rate);
}
