/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fastpath.c - the backends' fast paths: pinned threads, the local
 * add primitive under every backend, and the forced atomic backend.
 * Built MP (Linux port: "rseq" where glibc registered it), MP simulated,
 * and UP.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "counter.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIM (PERCPU_MD == PERCPU_MD_SIM)
#define LINUX (PERCPU_MD == PERCPU_MD_LINUX)

Test(fastpath, pin_caches_the_cpu_and_unpin_restores)
{
	unsigned cpu;

#if LINUX
	cpu_set_t before, after;

	cr_assert_eq(sched_getaffinity(0, sizeof(before), &before), 0);
#endif
	cr_assert_eq(percpu_pinned(), PERCPU_NOCPU);
	PERCPU_FOREACH_CPU(cpu) {
		cr_assert_eq(percpu_pin(cpu), 0, "CPU %u", cpu);
		cr_assert_eq(percpu_pinned(), cpu);
		cr_assert_eq(percpu_curcpu(), cpu);
		cr_assert_eq(percpu_enter(), cpu);
		percpu_leave();
		cr_assert_eq(percpu_backend_cost(), PERCPU_MP ? 1u : 0u);
#if LINUX
		cr_assert_eq(sched_getcpu(), (int)cpu, "the kernel moved us");
#endif
	}
	percpu_unpin();
	cr_assert_eq(percpu_pinned(), PERCPU_NOCPU);
#if LINUX
	cr_assert_eq(sched_getaffinity(0, sizeof(after), &after), 0);
	cr_assert(CPU_EQUAL(&before, &after), "affinity restored");
#endif
}

Test(fastpath, pin_refuses_bad_cpus_and_sections)
{
	cr_assert_eq(percpu_pin(percpu_maxcpu()), -1);
	cr_assert_eq(percpu_pin(PERCPU_NOCPU), -1);
#if SIM
	cr_assert_eq(percpu_pin(2), -1, "a hole in the sparse set");
#endif
#if PERCPU_MP
	(void)percpu_enter();
	cr_assert_eq(percpu_pin(percpu_cpu_first()), -1, "inside a section");
	percpu_leave();
#endif
	cr_assert_eq(percpu_pinned(), PERCPU_NOCPU);
}

Test(fastpath, cost_class_matches_the_backend)
{
	const char *b = percpu_backend();
	unsigned want = !strcmp(b, "up") ? 0 :
	    !strcmp(b, "rseq")		 ? 1 :
	    !strcmp(b, "getcpu")	 ? 2 :
					   3;

	cr_assert_eq(percpu_backend_cost(), want, "backend %s", b);
}

#if LINUX && PERCPU_MD_RSEQ && PERCPU_DEBUG
/* Moving a pinned thread behind the toolkit's back is detected by the
 * inline add with PERCPU_DEBUG=1 (without it the add lands on the CPU the
 * thread runs on, and the next section or aborted add reports it). */
Test(fastpath, pinned_thread_moved_away_is_detected)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);
	unsigned first = percpu_cpu_first(), other;
	cpu_set_t set;
	char want[96];

	if (strcmp(percpu_backend(), "rseq") != 0 || percpu_ncpus() < 2)
		cr_skip_test("needs the rseq backend and two CPUs");
	other = percpu_cpu_next(first);
	harness_capture_errors();
	cr_assert_eq(percpu_pin(first), 0);
	CPU_ZERO(&set);
	CPU_SET(other, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
	counter_u64_add(c, 5);
	snprintf(want, sizeof(want),
	    "percpu_pin: thread pinned to CPU %u runs on CPU %u", first, other);
	cr_assert_eq(harness_errors(), 1);
	cr_assert_str_eq(harness_last_error(), want);
	cr_assert_eq(percpu_pinned(), PERCPU_NOCPU, "unpinned");
	cr_assert_eq(counter_u64_fetch(c), 5, "the add still landed");
	cr_assert_eq(percpu_load64(c, other), 5, "on the CPU it ran on");
	counter_u64_free(c);
}
#endif

/*
 * The local add under stress: 4x threads, some pinned, some migrating
 * (real affinity changes, or forced migrations on the simulated port),
 * and signal handlers adding to the same word.  Exact total.  Each worker
 * adds until it has done its share and a handler ran on it (up to
 * HARNESS_WAIT_S: when the sending thread runs is the scheduler's
 * choice), so the handler path is always exercised.
 */
static percpu_t *fp_word;
static atomic_ulong fp_handler_adds;
static _Thread_local volatile unsigned fp_runs_here;

static void
fp_on_signal(int sig)
{
	(void)sig;
	percpu_local_add64(fp_word->pc_base, 1000);
	atomic_fetch_add(&fp_handler_adds, 1);
	fp_runs_here++;
}

struct fp_run {
	unsigned iters;
	atomic_uint running;
	atomic_ullong adds;  /* the workers' adds of 1 */
	atomic_uint starved; /* workers that saw no handler run in time */
};

static void *
fp_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct fp_run *run = ctx->arg;
	uint32_t seed = ctx->index * 2654435761u + 1;
	unsigned i, ncpu = percpu_ncpus(), k = 0, cpu;
	uint64_t since = 0;

	(void)seed; /* UP: no migrations to force */

	if (ctx->index % 3 == 0) {
		/* Pin to the index-th possible CPU. */
		PERCPU_FOREACH_CPU(cpu) {
			if (k++ == (ctx->index / 3) % ncpu)
				break;
		}
		cr_assert_eq(percpu_pin(cpu), 0);
	}
	for (i = 0; i < run->iters || (PERCPU_MP && fp_runs_here == 0); i++) {
		percpu_local_add64(fp_word->pc_base, 1);
		if (ctx->index % 3 != 0 && (i & 1023) == 0) {
#if LINUX
			harness_shuffle_affinity(&seed);
#elif SIM
			percpu_sim_migrate(harness_rand(&seed) % 256);
#endif
		}
		if (PERCPU_MP && i + 1 >= run->iters && fp_runs_here == 0) {
			/* Share done, no handler yet: let the sender run. */
			if (since == 0)
				since = harness_now_ms();
			else if (harness_waited_too_long(since)) {
				atomic_fetch_add(&run->starved, 1);
				i++;
				break;
			}
			(void)sched_yield();
		}
	}
	atomic_fetch_add(&run->adds, i);
	percpu_unpin();
	atomic_fetch_sub(&run->running, 1);
	return (NULL);
}

static void
fp_sum(void *p, void *arg, struct cpu_info *ci)
{
	(void)ci;
	*(uint64_t *)arg += *(uint64_t *)p;
}

static void
fp_stress(void)
{
	struct fp_run run = {200000, 0, 0, 0};
	unsigned n = harness_threads();
	struct sigaction sa;
	uint64_t total = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fp_on_signal;
	sa.sa_flags = SA_RESTART;
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	fp_word = percpu_alloc(sizeof(uint64_t));
	atomic_store(&run.running, n);
#if PERCPU_MP
	{
		pthread_t *t = calloc(n, sizeof(*t));
		struct harness_ctx *c = calloc(n, sizeof(*c));
		unsigned i, k = 0;

		for (i = 0; i < n; i++) {
			c[i].index = i;
			c[i].arg = &run;
			cr_assert_eq(
			    pthread_create(&t[i], NULL, fp_worker, &c[i]), 0);
		}
		/* Signals at the workers while they add, round robin, until
		 * every one is done (one done may have exited already). */
		while (atomic_load(&run.running) != 0) {
			(void)pthread_kill(t[k++ % n], SIGUSR1);
			if ((k & 31) == 0)
				(void)sched_yield();
		}
		for (i = 0; i < n; i++)
			cr_assert_eq(pthread_join(t[i], NULL), 0);
		free(t);
		free(c);
	}
#else
	{
		struct harness_ctx c = {1, &run};

		fp_worker(&c);
		raise(SIGUSR1);
	}
#endif
	percpu_foreach(fp_word, fp_sum, &total);
	cr_assert_eq(atomic_load(&run.starved), 0,
	    HARNESS_ENV "%u of %u workers saw no signal handler run within "
			"%d s",
	    atomic_load(&run.starved), n, HARNESS_WAIT_S);
	cr_assert_gt(atomic_load(&fp_handler_adds), 0);
	cr_assert_geq(atomic_load(&run.adds), (uint64_t)n * run.iters);
	cr_assert_eq(total,
	    atomic_load(&run.adds) + 1000 * atomic_load(&fp_handler_adds),
	    "backend %s", percpu_backend());
	percpu_free(fp_word, sizeof(uint64_t));
}

Test(fastpath, local_add_exact_under_pins_migration_and_signals, .timeout = 150)
{
	fp_stress();
}

#if LINUX
/*
 * The same stress, and the counter(9) suite, with the atomic backend
 * forced from the environment (as for a debugger, rr or TSan): a fresh
 * process each, since the backend is chosen once per process.
 */
static int
rerun(const char *env, const char *filter)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
	    "env -u BXFI_MAP %s /proc/%d/exe --filter '%s' >/dev/null 2>&1",
	    env, (int)getpid(), filter);
	return (system(cmd));
}

Test(forced, atomic_backend_passes_the_fast_path_suites, .timeout = 600)
{
	const char *env = "PERCPU_BACKEND=getcpu PERCPU_EXPECT_BACKEND=getcpu";

	cr_assert_eq(rerun(env, "percpu/backend_is_reported"), 0);
	cr_assert_eq(rerun(env, "fastpath/*"), 0);
	cr_assert_eq(rerun(env, "counter/*"), 0);
	cr_assert_eq(rerun("GLIBC_TUNABLES=glibc.pthread.rseq=0", "counter/*"),
	    0);
}
#endif
