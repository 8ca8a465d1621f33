/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_waiters2.c - a second review of the waiter records (percpu/core.h
 * struct percpu_priv_td: wait[], nwait; percpu/impl.h percpu_priv_count(),
 * percpu_priv_uncount(), the exit handler and the fork child).
 *
 * "A signal at every point" is driven, not hoped for: the waiting thread
 * runs its percpu_enter_cpu() under the x86 trap flag (EFLAGS.TF, set in
 * the saved context of a signal handler: the kernel then delivers SIGTRAP
 * after every user instruction), and the SIGTRAP handler acts (forks,
 * waits for another CPU, exits) at step k, for every k.  Waits for the
 * OS are bounded by HARNESS_WAIT_S.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#if PERCPU_MP && PERCPU_MD == PERCPU_MD_LINUX && defined(__x86_64__)

/* How long the toolkit may take for what it must do at once. */
# define W2_WAIT_MS 10000u
# define W2_TF 0x100 /* EFLAGS.TF */

static struct percpu_priv_pcpu *
w2_pc(unsigned cpu)
{
	return (percpu_priv_pcpu(percpu_priv_g.cpu2idx[cpu]));
}

static unsigned
w2_want(unsigned cpu)
{
	return (atomic_load(&w2_pc(cpu)->want));
}

/* ThreadSanitizer runs a signal's handler at its next safe point, not
 * after the instruction that raised it: no step can be acted at. */
# if defined(__SANITIZE_THREAD__)
#  define W2_TSAN 1
# elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#   define W2_TSAN 1
#  endif
# endif
# ifndef W2_TSAN
#  define W2_TSAN 0
# endif

/* Two possible CPUs: *c (the one waited for) and *d (another). */
static void
w2_cpus(unsigned *c, unsigned *d)
{
	if (W2_TSAN)
		cr_skip_test("ThreadSanitizer defers signal handlers to its "
			     "own safe points: no single step can be acted "
			     "at");
	percpu_init();
	cr_assert_geq(percpu_priv_g.ncpu, 2u, "needs two possible CPUs");
	*c = percpu_priv_g.ci[percpu_priv_g.ncpu - 1].ci_index;
	*d = percpu_priv_g.ci[0].ci_index;
}

static int
w2_wait_flag(atomic_int *flag, uint64_t ms)
{
	uint64_t t0 = harness_now_ms();

	while (atomic_load(flag) == 0) {
		if (harness_now_ms() - t0 > ms)
			return (0);
		usleep(1000);
	}
	return (1);
}

static void
w2_wait_want(unsigned cpu, unsigned v)
{
	uint64_t t0 = harness_now_ms();

	while (w2_want(cpu) != v) {
		cr_assert(!harness_waited_too_long(t0),
		    HARNESS_ENV "CPU %u's want stayed %#x, waiting for %#x",
		    cpu, w2_want(cpu), v);
		usleep(200);
	}
}

/* ---- A holder: another thread in a section on a CPU ---- */

struct w2_holder {
	pthread_t th;
	unsigned cpu;
	atomic_int held, release;
};

static void *
w2_hold(void *arg)
{
	struct w2_holder *h = arg;

	cr_assert_eq(percpu_enter_cpu(h->cpu), h->cpu);
	atomic_store(&h->held, 1);
	while (atomic_load(&h->release) == 0)
		usleep(1000);
	percpu_leave();
	return (NULL);
}

static void
w2_hold_start(struct w2_holder *h, unsigned cpu)
{
	memset(h, 0, sizeof(*h));
	h->cpu = cpu;
	cr_assert_eq(pthread_create(&h->th, NULL, w2_hold, h), 0);
	cr_assert(w2_wait_flag(&h->held, HARNESS_WAIT_S * 1000u),
	    HARNESS_ENV "the holder never ran");
}

static void
w2_hold_end(struct w2_holder *h)
{
	atomic_store(&h->release, 1);
	cr_assert_eq(pthread_join(h->th, NULL), 0);
}

/* ---- Single-stepping a percpu_enter_cpu() ---- */

enum w2_act { W2_NONE, W2_FORK, W2_NESTED, W2_EXIT };

static enum w2_act s_act;
static unsigned s_c, s_d;     /* waited for; the nested handler's CPU */
static volatile long s_k;     /* act at step s_k */
static volatile long s_step;  /* steps so far */
static volatile long s_first; /* first step that saw want(c) != 0 */
static volatile int s_on;
static atomic_int s_acted; /* on_act() returned (W2_NESTED: left d) */
static int s_cap;	   /* calibration of a waiter: stop after its count */
static volatile pid_t s_child; /* W2_FORK: the child, in the parent */
static pid_t s_parent;
static int s_pipe[2];

static void
w2_tf(void *ucv, int on)
{
	ucontext_t *uc = ucv;

	if (on)
		uc->uc_mcontext.gregs[REG_EFL] |= W2_TF;
	else
		uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)W2_TF;
}

static void
on_step_on(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	s_on = 1;
	w2_tf(ucv, 1);
}

static void
on_step_off(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	s_on = 0;
	w2_tf(ucv, 0);
}

static void
on_exit_sig(int sig)
{
	(void)sig;
	pthread_exit(NULL);
}

static void
on_trap(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	if (!s_on) {
		w2_tf(ucv, 0);
		return;
	}
	s_step++;
	if (s_first == 0 && w2_want(s_c) != 0)
		s_first = s_step;
	if (s_act == W2_NONE || s_step != s_k) {
		/* Calibration of a waiter: stop some steps after it counted. */
		if (s_act == W2_NONE && s_cap && s_first != 0 &&
		    s_step > s_first + 200) {
			s_on = 0;
			w2_tf(ucv, 0);
		}
		return;
	}
	s_on = 0;
	w2_tf(ucv, 0);
	/* The act in the handler of an asynchronous signal, raised here:
	 * what a program's signals can do at this step.  (SIGTRAP itself
	 * is delivered even where the toolkit blocks signals.) */
	(void)raise(SIGRTMIN + 3);
}

static void
on_act(int sig)
{
	(void)sig;
	switch (s_act) {
	case W2_FORK: {
		pid_t p = fork();

		if (p > 0)
			s_child = p;
		break;
	}
	case W2_NESTED:
		if (percpu_enter_cpu(s_d) == s_d)
			percpu_leave();
		atomic_store(&s_acted, 1);
		break;
	case W2_EXIT:
		pthread_exit(NULL);
	default:
		break;
	}
}

static void
w2_sigaction(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(sig, &sa, NULL), 0);
}

static void
w2_install(void)
{
	struct sigaction sa;

	w2_sigaction(SIGTRAP, on_trap);
	w2_sigaction(SIGRTMIN, on_step_on);
	w2_sigaction(SIGRTMIN + 1, on_step_off);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_exit_sig;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGRTMIN + 2, &sa, NULL), 0);
	sa.sa_handler = on_act;
	sa.sa_flags = SA_NODEFER;
	cr_assert_eq(sigaction(SIGRTMIN + 3, &sa, NULL), 0);
}

/* The stepped thread: percpu_enter_cpu(s_c), stepped from the start. */
static void *
w2_stepped(void *arg)
{
	unsigned got;

	(void)arg;
	(void)raise(SIGRTMIN);
	got = percpu_enter_cpu(s_c);
	(void)raise(SIGRTMIN + 1);
	if (getpid() != s_parent) {
		/* A child of W2_FORK: its only thread. */
		unsigned want;

		percpu_leave();
		want = w2_want(s_c);
		if (write(s_pipe[1], &want, sizeof(want)) !=
		    (ssize_t)sizeof(want))
			_exit(10);
		_exit(got == s_c ? 0 : 11);
	}
	if (got == s_c)
		percpu_leave();
	return (NULL);
}

static void
w2_run(enum w2_act act, long k)
{
	pthread_t th;

	s_act = act;
	s_k = k;
	s_step = 0;
	s_first = 0;
	s_child = 0;
	cr_assert_eq(pthread_create(&th, NULL, w2_stepped, NULL), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
}

/*
 * FORK in the middle of a count.  percpu_priv_count() is: record {pc,
 * one 0}, nwait + 1, fetch_add(want, one), record.one = one; the fork
 * child zeroes every want and adds back the records whose one is not 0.
 * A handler that forks after the fetch_add and before the store of one
 * (or, in percpu_priv_uncount(), after one = 0 and before the
 * fetch_sub) leaves a child whose want does not have the count that its
 * thread then takes back: want wraps to 0 - PERCPU_PRIV_WANT_REMOTE, and
 * every later leave of that CPU hands it to a waiter that does not
 * exist.  Every step of an uncontended percpu_enter_cpu(c) is tried.
 */
Test(waiters2, fork_from_a_handler_at_each_step_of_enter_cpu, .timeout = 300)
{
	long n, k;

	w2_cpus(&s_c, &s_d);
	s_parent = getpid();
	cr_assert_eq(pipe(s_pipe), 0);
	w2_install();
	/* Steps of a steady-state call: the first call of a thread does
	 * more (its owner token), so calibrate on the second. */
	w2_run(W2_NONE, 0);
	w2_run(W2_NONE, 0);
	n = s_step;
	cr_assert_gt(n, 10, HARNESS_ENV "no single steps (%ld)", n);
	for (k = 1; k <= n; k++) {
		int st = 0;
		unsigned want = ~0u;

		w2_run(W2_FORK, k);
		cr_assert_neq(s_child, 0, "step %ld of %ld: no fork", k, n);
		cr_assert_eq(waitpid(s_child, &st, 0), s_child);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "step %ld: the child %s %d", k,
		    WIFSIGNALED(st) ? "died of signal" : "exited",
		    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		cr_assert_eq(read(s_pipe[0], &want, sizeof(want)),
		    (ssize_t)sizeof(want));
		cr_assert_eq(want, 0,
		    "fork at step %ld of %ld of percpu_enter_cpu(%u): the "
		    "child's want of CPU %u after its leave is %#x",
		    k, n, s_c, s_c, want);
		cr_assert_eq(w2_want(s_c), 0, "step %ld: the parent's want %#x",
		    k, w2_want(s_c));
	}
}

/*
 * A handler that waits for CPU d at each step of its thread's count on c
 * (which another thread holds).  Its own count takes the same slot
 * (nwait is still the old one) and writes the slot's pc: if the
 * interrupted count stored its pc before nwait, its record now names d
 * while its count is in c's want.  The exit handler (the thread is ended
 * by a signal while it waits) then takes the count back from d (wraps it)
 * and leaves c's (every later leave of c hands it to nobody).
 */
Test(waiters2, a_handler_at_each_step_of_a_count_keeps_its_record,
    .timeout = 300)
{
	struct w2_holder u;
	long n, k;

	w2_cpus(&s_c, &s_d);
	s_parent = getpid();
	w2_install();
	w2_hold_start(&u, s_c);
	/* Calibrate: the step at which the count is seen. */
	{
		pthread_t th;

		s_act = W2_NONE;
		s_cap = 1;
		s_step = 0;
		s_first = 0;
		cr_assert_eq(pthread_create(&th, NULL, w2_stepped, NULL), 0);
		w2_wait_want(s_c, PERCPU_PRIV_WANT_REMOTE);
		while (s_on)
			usleep(1000);
		cr_assert_eq(pthread_kill(th, SIGRTMIN + 2), 0);
		cr_assert_eq(pthread_join(th, NULL), 0);
		cr_assert_eq(w2_want(s_c), 0);
		n = s_first;
	}
	cr_assert_gt(n, 10, HARNESS_ENV "no single steps (%ld)", n);
	for (k = 1; k <= n + 5; k++) {
		pthread_t th;

		s_act = W2_NESTED;
		s_k = k;
		s_step = 0;
		s_first = 0;
		atomic_store(&s_acted, 0);
		cr_assert_eq(pthread_create(&th, NULL, w2_stepped, NULL), 0);
		w2_wait_want(s_c, PERCPU_PRIV_WANT_REMOTE);
		while (s_on)
			usleep(1000);
		/* The thread is to die waiting for c, not inside the
		 * handler's section on d (a death there is reported: the
		 * default handler aborts). */
		cr_assert(w2_wait_flag(&s_acted, W2_WAIT_MS),
		    HARNESS_ENV "step %ld: the handler's wait for CPU %u never "
				"ended",
		    k, s_d);
		cr_assert_eq(pthread_kill(th, SIGRTMIN + 2), 0);
		cr_assert_eq(pthread_join(th, NULL), 0);
		cr_assert(w2_want(s_c) == 0 && w2_want(s_d) == 0,
		    "a handler waiting for CPU %u at step %ld of %ld of a "
		    "wait for CPU %u; the thread then died waiting: want of "
		    "%u is %#x, of %u is %#x",
		    s_d, k, n, s_c, s_c, w2_want(s_c), s_d, w2_want(s_d));
	}
	w2_hold_end(&u);
}

/*
 * A thread that dies (a handler's pthread_exit()) at each step of its
 * wait for c, held by another thread: its exit handler must leave no
 * count (else every later leave of c hands c to nobody; see
 * test_waiters.c).  Between the fetch_add and the store of one the
 * record says "not counted": the count stays.
 */
Test(waiters2, a_thread_that_dies_at_each_step_of_its_count_is_uncounted,
    .timeout = 300)
{
	struct w2_holder u;
	long n, k;

	w2_cpus(&s_c, &s_d);
	s_parent = getpid();
	w2_install();
	w2_hold_start(&u, s_c);
	{
		pthread_t th;

		s_act = W2_NONE;
		s_cap = 1;
		s_step = 0;
		s_first = 0;
		cr_assert_eq(pthread_create(&th, NULL, w2_stepped, NULL), 0);
		w2_wait_want(s_c, PERCPU_PRIV_WANT_REMOTE);
		while (s_on)
			usleep(1000);
		cr_assert_eq(pthread_kill(th, SIGRTMIN + 2), 0);
		cr_assert_eq(pthread_join(th, NULL), 0);
		n = s_first;
	}
	cr_assert_gt(n, 10, HARNESS_ENV "no single steps (%ld)", n);
	for (k = 1; k <= n + 5; k++) {
		w2_run(W2_EXIT, k);
		cr_assert_eq(w2_want(s_c), 0,
		    "a thread that died at step %ld of %ld of its wait for "
		    "CPU %u left want %#x",
		    k, n, s_c, w2_want(s_c));
	}
	w2_hold_end(&u);
}

#endif
