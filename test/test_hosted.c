/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_hosted.c - where real programs go: fork() while other threads are
 * inside sections, threads that die inside a section, counters_zero()
 * and sections from signal handlers that interrupted their thread's
 * enter or leave (issue 10, items 1, 4 and 5).
 *
 * The windows inside percpu_enter()/percpu_leave() (the CPU's lock word
 * holds the thread's token, its state says "not in a section") cannot be
 * hit on purpose from C: the tests put the thread in that state through
 * the core's internals, then raise a signal whose handler runs there.
 */
#define _GNU_SOURCE
#include "harness.h"

#include "counter.h"
#include "cpumem.h"
#include "dpcpu.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if PERCPU_MP

/* ---- Helpers ---- */

/* The lock word of CPU @cpu. */
static _Atomic(uintptr_t) *
owner_of(unsigned cpu)
{
	return (&percpu_priv_pcpu(percpu_priv_g.cpu2idx[cpu])->owner);
}

/* The last possible CPU (the first is the boot CPU of boot memory). */
static unsigned
last_cpu(void)
{
	unsigned cpu, last = 0;

	PERCPU_FOREACH_CPU(cpu)
		last = cpu;
	return (last);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL);
}

/*
 * Wait for child @pid for at most @secs seconds; a child still running
 * then is killed (it hung) and reported as exit status 99.
 */
static int
wait_child(pid_t pid, int secs)
{
	int status, i;

	for (i = 0; i < secs * 100; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return (WIFEXITED(status) ? WEXITSTATUS(status) :
						    100 + WTERMSIG(status));
		sleep_ms(10);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	return (99);
}

/* ---- Fork ---- */

/* Two words that every section writes together (percpu_getref slots). */
struct pair {
	uint64_t a;
	uint64_t b;
};

/*
 * The child's checks; the exit status names the first that failed:
 *   1 a generation is odd   2 a CPU's counters disagree (bytes != 3 pkts)
 *   3 a pair disagrees      4 a CPU cannot be entered
 *   5 counters_pkt/getref do not work (wrong totals after one more)
 * A hang (counters_read spinning, an enter waiting for a thread that
 * does not exist here) is 99 (wait_child()) or SIGALRM.
 */
static int
child_checks(struct cpumem *cm, percpu_t *pc)
{
	uint64_t before[2], after[2], c[2];
	unsigned cpu;
	struct pair *p;

	(void)alarm(20);
	PERCPU_FOREACH_CPU(cpu) {
		uint64_t *set = (uint64_t *)percpu_ptr(cm, cpu);

		if ((atomic_load((_Atomic(uint64_t) *)(void *)set) & 1u) != 0)
			return (1);
	}
	PERCPU_FOREACH_CPU(cpu) {
		if (counters_read_cpu(cm, cpu, c, 2) != 0 || c[1] != 3 * c[0])
			return (2);
		p = (struct pair *)percpu_ptr(pc->pc_base, cpu);
		if (p->a != p->b)
			return (3);
	}
	PERCPU_FOREACH_CPU(cpu) {
		if (percpu_enter_cpu(cpu) != cpu)
			return (4);
		percpu_leave();
	}
	counters_read(cm, before, 2, NULL);
	counters_pkt(cm, 0, 1, 3);
	p = percpu_getref(pc);
	p->a++;
	p->b++;
	percpu_putref(pc);
	counters_read(cm, after, 2, NULL);
	if (after[0] != before[0] + 1 || after[1] != before[1] + 3)
		return (5);
	return (0);
}

struct mid_update {
	struct cpumem *cm;
	percpu_t *pc;
	atomic_int inside; /* 1: in the section, halfway */
	atomic_int forking;
	atomic_int forked; /* the writer outlives fork() (see mid_writer) */
};

static struct mid_update *mid_arg;

/* Registered after the toolkit's: runs before its prepare handler. */
static void
mid_prepare(void)
{
	if (mid_arg != NULL)
		atomic_store(&mid_arg->forking, 1);
}

static void *
mid_writer(void *arg)
{
	struct mid_update *m = arg;
	struct counters_ref ref;
	uint64_t *c = counters_enter(&ref, m->cm);
	struct pair *p = percpu_getref(m->pc);

	/* Half of each update, then fork begins, then the other half. */
	c[0] += 1;
	p->a += 1;
	atomic_store(&m->inside, 1);
	while (atomic_load(&m->forking) == 0)
		sched_yield();
	sleep_ms(50);
	c[1] += 3;
	p->b += 1;
	percpu_putref(m->pc);
	counters_leave(&ref, m->cm);
	/* Still running at fork: ThreadSanitizer reports a thread that
	 * ended unjoined before fork() as leaked in the child. */
	while (atomic_load(&m->forked) == 0)
		sched_yield();
	return (NULL);
}

Test(fork, child_of_a_fork_during_a_half_done_section_is_consistent,
    .timeout = 60)
{
	struct mid_update m;
	uint64_t c[2];
	pthread_t th;
	pid_t pid;
	int rc;

	memset(&m, 0, sizeof(m));
	m.cm = counters_alloc(2);
	m.pc = percpu_alloc(sizeof(struct pair));
	mid_arg = &m;
	cr_assert_eq(pthread_atfork(mid_prepare, NULL, NULL), 0);
	cr_assert_eq(pthread_create(&th, NULL, mid_writer, &m), 0);
	while (atomic_load(&m.inside) == 0)
		sched_yield();
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0)
		_exit(child_checks(m.cm, m.pc));
	atomic_store(&m.forked, 1);
	rc = wait_child(pid, 30);
	cr_assert_eq(rc, 0, "child check %d failed", rc);
	cr_assert_eq(pthread_join(th, NULL), 0);
	counters_read(m.cm, c, 2, NULL);
	cr_assert_eq(c[0], 1);
	cr_assert_eq(c[1], 3);
	mid_arg = NULL;
}

/* Hammer counters_pkt, getref pairs and plain cpumem sections. */
struct hammer {
	struct cpumem *cm;
	percpu_t *pc;
	struct cpumem *mem; /* one uint64_t per CPU, cpumem_enter() */
	atomic_int stop;
	atomic_ullong ops;
};

static void *
hammer_thread(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct hammer *h = ctx->arg;
	uint32_t seed = ctx->index * 7919u + 1u;
	unsigned long long n = 0;

	while (!atomic_load_explicit(&h->stop, memory_order_relaxed)) {
		struct pair *p;
		uint64_t *w;

		counters_pkt(h->cm, 0, 1, 3);
		p = percpu_getref(h->pc);
		p->a++;
		harness_jiggle(&seed);
		p->b++;
		percpu_putref(h->pc);
		w = cpumem_enter(h->mem);
		(*w)++;
		cpumem_leave(h->mem, w);
		harness_migrate((unsigned)n, &seed);
		n++;
	}
	atomic_fetch_add(&h->ops, n);
	return (NULL);
}

struct forker {
	struct hammer *h;
	atomic_int bad;
	unsigned forks;
};

static void *
fork_loop(void *arg)
{
	struct forker *f = arg;
	unsigned i;

	for (i = 0; i < f->forks; i++) {
		pid_t pid;
		int rc;

		sleep_ms(5);
		pid = fork();
		if (pid == -1) {
			atomic_store(&f->bad, 200);
			break;
		}
		if (pid == 0)
			_exit(child_checks(f->h->cm, f->h->pc));
		rc = wait_child(pid, 30);
		if (rc != 0) {
			atomic_store(&f->bad, rc);
			break;
		}
	}
	atomic_store(&f->h->stop, 1);
	return (NULL);
}

static void *
hammer_or_fork(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct forker *f = ctx->arg;

	if (ctx->index == 0)
		return (fork_loop(f));
	ctx->arg = f->h;
	return (hammer_thread(ctx));
}

static void
sum_pair(void *p, void *arg, struct cpu_info *ci)
{
	struct pair *s = p, *t = arg;

	(void)ci;
	t->a += s->a;
	t->b += s->b;
}

Test(fork, forks_while_threads_hammer_sections_keep_child_consistent,
    .timeout = 120)
{
	struct hammer h;
	struct forker f;
	struct pair tot = {0, 0};
	struct cpumem_iter it;
	uint64_t c[2], *w, words = 0;
	unsigned long long ops;

	memset(&h, 0, sizeof(h));
	memset(&f, 0, sizeof(f));
	h.cm = counters_alloc(2);
	h.pc = percpu_alloc(sizeof(struct pair));
	h.mem = cpumem_malloc(sizeof(uint64_t), 0);
	f.h = &h;
	f.forks = 20;
	harness_run(1 + (harness_threads() < 8 ? harness_threads() : 8),
	    hammer_or_fork, &f);
	cr_assert_eq(atomic_load(&f.bad), 0, "child check %d failed",
	    atomic_load(&f.bad));
	ops = atomic_load(&h.ops);
	cr_assert_gt(ops, 0);
	counters_read(h.cm, c, 2, NULL);
	cr_assert_eq(c[0], ops);
	cr_assert_eq(c[1], 3 * ops);
	percpu_foreach(h.pc, sum_pair, &tot);
	cr_assert_eq(tot.a, ops);
	cr_assert_eq(tot.b, ops);
	CPUMEM_FOREACH(w, &it, h.mem)
		words += *w;
	cr_assert_eq(words, ops);
}

/* A thread that forks from inside its own section: the child keeps it. */
Test(fork, forking_thread_keeps_its_own_section_in_both_processes,
    .timeout = 60)
{
	struct cpumem *cm = counters_alloc(2);
	struct counters_ref ref;
	uint64_t *c = counters_enter(&ref, cm), out[2];
	unsigned held = percpu_curcpu();
	pid_t pid;
	int rc;

	c[0] += 1;
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		(void)alarm(20);
		if (percpu_in_section() != 1 || percpu_curcpu() != held)
			_exit(1);
		c[1] += 3;
		counters_leave(&ref, cm);
		if (percpu_in_section() != 0)
			_exit(2);
		counters_read(cm, out, 2, NULL);
		_exit(out[0] == 1 && out[1] == 3 ? 0 : 3);
	}
	c[1] += 3;
	counters_leave(&ref, cm);
	rc = wait_child(pid, 30);
	cr_assert_eq(rc, 0, "child check %d failed", rc);
	counters_read(cm, out, 2, NULL);
	cr_assert_eq(out[0], 1);
	cr_assert_eq(out[1], 3);
}

/* ---- Threads that die inside a section ---- */

# define DEAD_MSG                                         \
  "thread exited inside a section on CPU %u; the CPU is " \
  "released, its data may be half-updated"

struct dying {
	unsigned cpu;
	uintptr_t token;
	const void *td;
	atomic_int ready;
	int cancel;
};

static void *
die_inside(void *arg)
{
	struct dying *d = arg;

	if (percpu_enter_cpu(d->cpu) != d->cpu)
		return (NULL);
	d->token = PERCPU_PRIV_TD.token;
	d->td = &PERCPU_PRIV_TD;
	atomic_store(&d->ready, 1);
	/* pause() is a cancellation point with no stack buffer of ours:
	 * ASan does not unpoison the frames a cancellation unwinds. */
	if (d->cancel)
		for (;;)
			(void)pause();
	pthread_exit(NULL);
}

static void
expect_dead_owner_reported(unsigned cpu)
{
	char want[200];

	(void)snprintf(want, sizeof(want), DEAD_MSG, cpu);
	cr_assert_eq(harness_errors(), 1);
	cr_assert_str_eq(harness_last_error(), want);
	cr_assert_eq(atomic_load(owner_of(cpu)), 0, "CPU %u still held", cpu);
	/* And the CPU can be taken again. */
	cr_assert_eq(percpu_enter_cpu(cpu), cpu);
	percpu_leave();
}

Test(dead_owner, pthread_exit_inside_a_section_is_reported_and_frees_the_cpu,
    .timeout = 30)
{
	struct dying d;
	pthread_t th;

	memset(&d, 0, sizeof(d));
	d.cpu = last_cpu();
	harness_capture_errors();
	cr_assert_eq(pthread_create(&th, NULL, die_inside, &d), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(atomic_load(&d.ready), 1);
	expect_dead_owner_reported(d.cpu);
}

Test(dead_owner, cancel_inside_a_section_is_reported_and_frees_the_cpu,
    .timeout = 30)
{
	struct dying d;
	pthread_t th;
	void *ret;

	memset(&d, 0, sizeof(d));
	d.cpu = last_cpu();
	d.cancel = 1;
	harness_capture_errors();
	cr_assert_eq(pthread_create(&th, NULL, die_inside, &d), 0);
	while (atomic_load(&d.ready) == 0)
		sched_yield();
	cr_assert_eq(pthread_cancel(th), 0);
	cr_assert_eq(pthread_join(th, &ret), 0);
	cr_assert_eq(ret, PTHREAD_CANCELED);
	expect_dead_owner_reported(d.cpu);
}

struct heir {
	unsigned cpu;
	unsigned got;
	uint32_t borrowed;
	uintptr_t token, owner;
	const void *td;
};

static void *
enter_as_heir(void *arg)
{
	struct heir *h = arg;

	h->got = percpu_enter_cpu(h->cpu);
	h->borrowed = PERCPU_PRIV_TD.state & PERCPU_PRIV_BORROWED;
	h->token = PERCPU_PRIV_TD.token;
	h->td = &PERCPU_PRIV_TD;
	h->owner = atomic_load(owner_of(h->cpu));
	percpu_leave();
	return (NULL);
}

/*
 * The next thread (glibc usually gives it the dead one's stack and TLS)
 * takes the CPU as a new owner: not the borrow path of a signal handler
 * of the owner, whose token it does not have.
 */
Test(dead_owner, a_new_thread_never_inherits_a_dead_threads_section,
    .timeout = 30)
{
	struct dying d;
	struct heir h;
	pthread_t th;

	memset(&d, 0, sizeof(d));
	memset(&h, 0, sizeof(h));
	d.cpu = h.cpu = last_cpu();
	harness_capture_errors();
	cr_assert_eq(pthread_create(&th, NULL, die_inside, &d), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(pthread_create(&th, NULL, enter_as_heir, &h), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(h.got, h.cpu);
	cr_assert_eq(h.borrowed, 0,
	    "the new thread borrowed the dead one's "
	    "section (same TLS address: %d)",
	    h.td == d.td);
	cr_assert_neq(h.token, d.token);
	cr_assert_eq(h.owner, h.token);
	cr_assert_eq(atomic_load(owner_of(h.cpu)), 0);
}

/* Tokens are unique per thread lifetime, whatever the TLS address. */
static void *
report_token(void *arg)
{
	uintptr_t *t = arg;

	(void)percpu_enter();
	*t = PERCPU_PRIV_TD.token;
	percpu_leave();
	return (NULL);
}

/*
 * A thread that dies in a signal handler (pthread_exit, or a cancellation
 * acted on inside it) while the code it interrupted was in the window of
 * percpu_enter() (the lock word holds its token, its state is still 0):
 * that code never runs again, so the thread's exit must release the CPU;
 * so too when the handler had borrowed the CPU (entered in the window).
 */
struct window_death {
	unsigned cpu;
	int borrow;
	atomic_int done;
};
static _Thread_local struct window_death *wd_cur;

static void
wd_on_signal(int sig)
{
	(void)sig;
	if (wd_cur->borrow)
		(void)percpu_enter(); /* borrows the window's CPU */
	atomic_store(&wd_cur->done, 1);
	pthread_exit(NULL);
}

static void *
wd_victim(void *arg)
{
	struct window_death *d = arg;

	wd_cur = d;
	if (percpu_pin(d->cpu) != 0)
		return (NULL);
	(void)percpu_enter(); /* a token */
	percpu_leave();
	/* percpu_enter()'s window: the lock word is ours, state is not. */
	atomic_store(owner_of(d->cpu), PERCPU_PRIV_TD.token);
	(void)raise(SIGUSR1);
	return (NULL);
}

static void
wd_run(struct window_death *d)
{
	struct sigaction sa;
	pthread_t th;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wd_on_signal;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	d->cpu = last_cpu();
	harness_capture_errors();
	cr_assert_eq(pthread_create(&th, NULL, wd_victim, d), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(atomic_load(&d->done), 1, "the handler ran");
}

Test(dead_owner,
    a_thread_dying_in_a_handler_inside_the_enter_window_frees_the_cpu,
    .timeout = 30)
{
	struct window_death d;

	memset(&d, 0, sizeof(d));
	wd_run(&d);
	/* Reported like a section: the exit handler cannot tell this window
	 * from a quiet section (counters_add(): the lock, no state), whose
	 * data may be half-updated (test_quiet.c). */
	expect_dead_owner_reported(d.cpu);
}

Test(dead_owner, a_thread_dying_in_a_handler_that_borrowed_its_cpu_frees_it,
    .timeout = 30)
{
	struct window_death d;

	memset(&d, 0, sizeof(d));
	d.borrow = 1;
	wd_run(&d);
	expect_dead_owner_reported(d.cpu);
}

/* One enter past the deepest nesting is reported and changes nothing:
 * the matching leaves free the CPU (the depth once carried into the
 * state's other bits: a CPU never left). */
Test(sections, one_enter_past_the_deepest_nesting_changes_nothing)
{
	unsigned i, cpu;

	harness_capture_errors();
	cpu = percpu_enter();
	for (i = 1; i < PERCPU_PRIV_DEPTH; i++)
		(void)percpu_enter();
	cr_assert_eq(percpu_in_section(), PERCPU_PRIV_DEPTH);
	cr_assert_eq(percpu_enter(), cpu);
	cr_assert_eq(harness_errors(), 1);
	cr_assert_str_eq(harness_last_error(),
	    "percpu_enter: sections nested too deep");
	cr_assert_eq(percpu_in_section(), PERCPU_PRIV_DEPTH);
	for (i = 0; i < PERCPU_PRIV_DEPTH; i++)
		percpu_leave();
	cr_assert_eq(PERCPU_PRIV_TD.state, 0);
	cr_assert_eq(atomic_load(owner_of(cpu)), 0, "CPU %u still held", cpu);
	cr_assert_eq(harness_errors(), 1);
}

Test(dead_owner, tokens_are_never_reused_by_later_threads)
{
	uintptr_t t[16];
	pthread_t th;
	unsigned i, j;

	for (i = 0; i < 16; i++) {
		cr_assert_eq(pthread_create(&th, NULL, report_token, &t[i]), 0);
		cr_assert_eq(pthread_join(th, NULL), 0);
		cr_assert_neq(t[i], 0);
		for (j = 0; j < i; j++)
			cr_assert_neq(t[i], t[j], "threads %u and %u", i, j);
	}
}

/* Counters a dead thread left open: readers and writers go on. */
static void *
die_in_counters(void *arg)
{
	struct cpumem *cm = arg;
	struct counters_ref ref;
	uint64_t *c;

	if (percpu_enter_cpu(last_cpu()) == PERCPU_NOCPU)
		return (NULL);
	c = counters_enter(&ref, cm);
	c[0] += 1; /* c[1] never gets its 3: the thread dies first */
	pthread_exit(NULL);
}

static void
counters_left_open(int reader_first)
{
	struct cpumem *cm = counters_alloc(2);
	unsigned cpu = last_cpu();
	uint64_t c[2];
	pthread_t th;

	harness_capture_errors();
	cr_assert_eq(pthread_create(&th, NULL, die_in_counters, cm), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	expect_dead_owner_reported(cpu);
	if (reader_first) {
		/* A reader does not wait forever for the dead writer. */
		cr_assert_eq(counters_read_cpu(cm, cpu, c, 2), 0);
		cr_assert_eq(c[0], 1);
		cr_assert_eq(c[1], 0);
	}
	/* A writer on that CPU (its outermost section) is not told it
	 * nested.  Pinned: a section of this thread goes to that CPU. */
	if (percpu_pin(cpu) != 0)
		cr_skip_test("cannot run on CPU %u here", cpu);
	counters_add(cm, 1, 3);
	percpu_unpin();
	cr_assert_eq(harness_errors(), 1, "%s", harness_last_error());
	counters_read(cm, c, 2, NULL);
	cr_assert_eq(c[0], 1);
	cr_assert_eq(c[1], 3);
	cr_assert_eq(*(uint64_t *)percpu_ptr(cm, cpu) & 1u, 0);
}

Test(dead_owner, counters_left_open_by_a_dead_thread_do_not_stall_readers,
    .timeout = 30)
{
	counters_left_open(1);
}

Test(dead_owner, counters_left_open_by_a_dead_thread_take_new_writers,
    .timeout = 30)
{
	counters_left_open(0);
}

/*
 * A reader inside a section on CPU e must not wait for CPU d (taking d
 * while holding e could deadlock), and nobody else closes a set a dead
 * thread left open on d: it gets the set as the dead thread left it.
 */
struct dead_set {
	struct cpumem *cm;
	unsigned cpu;
	atomic_int open;    /* the writer has the set open */
	atomic_int reading; /* the reader is about to read */
	uint64_t k;	    /* the live writer's rounds */
};

static void *
die_in_counters_on(void *arg)
{
	struct dead_set *w = arg;
	struct counters_ref ref;
	uint64_t *c;

	if (percpu_enter_cpu(w->cpu) != w->cpu)
		return (NULL);
	c = counters_enter(&ref, w->cm);
	c[0] += 7;
	c[1] += 11;
	pthread_exit(NULL); /* inside both sections, the set open */
}

/* The other CPU than @d (the first possible one), or PERCPU_NOCPU. */
static unsigned
other_cpu(unsigned d)
{
	unsigned e = percpu_cpu_first();

	return (e != d ? e : PERCPU_NOCPU);
}

/* @w: a new set of 2 counters that a thread left open on CPU @d, dying
 * inside its section after adding 7 and 11 (the death reported). */
static void
dead_set_left_open(struct dead_set *w, unsigned d)
{
	pthread_t th;

	memset(w, 0, sizeof(*w));
	w->cm = counters_alloc(2);
	w->cpu = d;
	harness_capture_errors();
	cr_assert_eq(pthread_create(&th, NULL, die_in_counters_on, w), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	expect_dead_owner_reported(d);
}

Test(dead_owner,
    a_reader_inside_a_section_returns_a_set_a_dead_thread_left_open,
    .timeout = 60)
{
	struct dead_set w;
	unsigned d = last_cpu(), e = other_cpu(d);
	uint64_t c[2], all[2], scratch[2];
	struct counters_ref ref;
	uint64_t *p;

	if (e == PERCPU_NOCPU)
		cr_skip_test("one possible CPU: no other CPU to read from");
	dead_set_left_open(&w, d);
	cr_assert_eq(*(uint64_t *)percpu_ptr(w.cm, d) & 1u, 1);
	/* Inside a section on e: one CPU, then all of them. */
	cr_assert_eq(percpu_enter_cpu(e), e);
	cr_assert_eq(counters_read_cpu(w.cm, d, c, 2), 0);
	counters_read(w.cm, all, 2, scratch);
	percpu_leave();
	cr_assert_eq(c[0], 7);
	cr_assert_eq(c[1], 11);
	cr_assert_eq(all[0], 7);
	cr_assert_eq(all[1], 11);
	cr_assert_eq(*(uint64_t *)percpu_ptr(w.cm, d) & 1u, 1,
	    "an in-section reader leaves the set as the dead thread left it");
	cr_assert_eq(harness_errors(), 1, "%s", harness_last_error());
	/* An outermost read then closes it, and d takes writers again. */
	cr_assert_eq(counters_read_cpu(w.cm, d, c, 2), 0);
	cr_assert_eq(c[0], 7);
	cr_assert_eq(c[1], 11);
	cr_assert_eq(*(uint64_t *)percpu_ptr(w.cm, d) & 1u, 0);
	cr_assert_eq(percpu_enter_cpu(d), d);
	p = counters_enter(&ref, w.cm);
	p[1] += 1;
	counters_leave(&ref, w.cm);
	percpu_leave();
	cr_assert_eq(harness_errors(), 1, "%s", harness_last_error());
	counters_read(w.cm, all, 2, scratch);
	cr_assert_eq(all[0], 7);
	cr_assert_eq(all[1], 12);
	counters_free(w.cm, 2);
}

/* A live writer keeps d and its set open, at one odd generation, for
 * 200 ms after the reader starts; then closes it. */
static void *
write_slowly_on(void *arg)
{
	struct dead_set *w = arg;
	struct counters_ref ref;
	uint64_t *c, since;

	if (percpu_enter_cpu(w->cpu) != w->cpu)
		return (NULL);
	c = counters_enter(&ref, w->cm);
	atomic_store(&w->open, 1);
	since = harness_now_ms();
	while (atomic_load(&w->reading) == 0 && !harness_waited_too_long(since))
		sched_yield();
	since = harness_now_ms();
	while (harness_now_ms() - since < 200) {
		c[0] += 1;
		c[1] += 2;
		w->k++;
		sched_yield();
	}
	counters_leave(&ref, w->cm);
	percpu_leave();
	return (NULL);
}

Test(dead_owner, a_reader_inside_a_section_waits_for_a_live_writer,
    .timeout = 60)
{
	struct dead_set w;
	unsigned d = last_cpu(), e = other_cpu(d);
	uint64_t c[2], since;
	pthread_t th;

	if (e == PERCPU_NOCPU)
		cr_skip_test("one possible CPU: no other CPU to read from");
	memset(&w, 0, sizeof(w));
	w.cm = counters_alloc(2);
	w.cpu = d;
	harness_capture_errors();
	cr_assert_eq(pthread_create(&th, NULL, write_slowly_on, &w), 0);
	since = harness_now_ms();
	while (atomic_load(&w.open) == 0) {
		cr_assert(!harness_waited_too_long(since),
		    HARNESS_ENV "the writer did not run");
		sched_yield();
	}
	cr_assert_eq(percpu_enter_cpu(e), e);
	atomic_store(&w.reading, 1);
	cr_assert_eq(counters_read_cpu(w.cm, d, c, 2), 0);
	percpu_leave();
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_gt(w.k, 0);
	cr_assert_eq(c[0], w.k,
	    "read %llu of %llu: a live writer taken for "
	    "dead",
	    (unsigned long long)c[0], (unsigned long long)w.k);
	cr_assert_eq(c[1], 2 * w.k);
	cr_assert_eq(*(uint64_t *)percpu_ptr(w.cm, d) & 1u, 0);
	cr_assert_eq(harness_errors(), 0, "%s", harness_last_error());
	counters_free(w.cm, 2);
}

/* fork() from another thread: its prepare handler takes every CPU in
 * unit order, waiting for each holder. */
struct dead_forker {
	atomic_int done;
	int status;
};

static void *
fork_beside(void *arg)
{
	struct dead_forker *f = arg;
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid < 0 || waitpid(pid, &f->status, 0) != pid)
		f->status = -1;
	atomic_store(&f->done, 1);
	return (NULL);
}

/* A reader inside a section on CPU e, reading a set left open on CPU d
 * (held meanwhile by the test): stuck, counted in percpu_priv_g.stuck,
 * until SIGUSR1 ends it inside that wait. */
struct stuck_reader {
	struct dead_set *w;
	unsigned e;
};

static void
stuck_exit(int sig)
{
	(void)sig;
	pthread_exit(NULL);
}

static void *
stuck_read(void *arg)
{
	struct stuck_reader *r = arg;
	uint64_t c[2];

	if (percpu_enter_cpu(r->e) != r->e)
		return (NULL);
	(void)counters_read_cpu(r->w->cm, r->w->cpu, c, 2);
	percpu_leave();
	return (NULL);
}

/*
 * A thread that dies while its read is counted as stuck (a handler's
 * pthread_exit() in the wait) must take its count back: else fork's
 * prepare would give back the CPUs it took on every long wait for good
 * (two long sections then keep fork() waiting: see
 * long_sections_on_two_cpus_do_not_keep_fork_waiting).
 */
Test(dead_owner, a_stuck_reader_that_dies_is_uncounted, .timeout = 60)
{
	struct dead_set w;
	struct stuck_reader r;
	struct sigaction sa, old;
	unsigned d = percpu_cpu_first(), e = last_cpu();
	uint64_t since;
	pthread_t th;

	if (d == e)
		cr_skip_test("one possible CPU: no other CPU to read from");
	dead_set_left_open(&w, d);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stuck_exit;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGUSR1, &sa, &old), 0);
	cr_assert_eq(percpu_enter_cpu(d), d); /* d has a holder: no end */
	r.w = &w;
	r.e = e;
	cr_assert_eq(pthread_create(&th, NULL, stuck_read, &r), 0);
	since = harness_now_ms();
	while (atomic_load(&percpu_priv_g.stuck) == 0) {
		cr_assert(!harness_waited_too_long(since),
		    HARNESS_ENV "the reader never counted itself stuck");
		sched_yield();
	}
	cr_assert_eq(pthread_kill(th, SIGUSR1), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	percpu_leave();
	(void)sigaction(SIGUSR1, &old, NULL);
	cr_assert_eq(atomic_load(&percpu_priv_g.stuck), 0,
	    "a dead reader stays counted as stuck");
	/* It died inside its section on e: reported, e released. */
	cr_assert_eq(harness_errors(), 2, "%s", harness_last_error());
	cr_assert_eq(atomic_load(owner_of(e)), 0);
	counters_free(w.cm, 2);
}

/*
 * A reader inside a section on CPU e reading a set a dead thread left
 * open on d returns it only once d's lock word is free.  A thread that
 * forks meanwhile takes d first (fork's prepare handler takes the CPUs in
 * unit order, d's unit below e's) and then waits for e, which the reader
 * holds while it waits for d to be free: both waited forever, until a
 * long wait of prepare learnt to drop what it took (percpu/impl.h,
 * percpu_priv_atfork_prepare()).
 */
Test(dead_owner, a_reader_inside_a_section_and_a_fork_do_not_deadlock,
    .timeout = 60)
{
	struct dead_set w;
	struct dead_forker f;
	unsigned d = percpu_cpu_first(), e = last_cpu();
	uint64_t c[2], since;
	pthread_t fth;

	if (d == e)
		cr_skip_test("one possible CPU: no other CPU to read from");
	memset(&f, 0, sizeof(f));
	dead_set_left_open(&w, d);
	cr_assert_eq(percpu_enter_cpu(e), e);
	cr_assert_eq(pthread_create(&fth, NULL, fork_beside, &f), 0);
	/* Fork's prepare took d and waits for e, held here: it counted
	 * itself in e's want (after taking every unit below e's). */
	since = harness_now_ms();
	while (atomic_load(&percpu_priv_pcpu(percpu_priv_g.cpu2idx[e])->want) ==
	    0) {
		cr_assert(!harness_waited_too_long(since),
		    HARNESS_ENV "fork() never waited for CPU %u", e);
		sched_yield();
	}
	cr_assert_eq(counters_read_cpu(w.cm, d, c, 2), 0);
	percpu_leave();
	cr_assert_eq(pthread_join(fth, NULL), 0);
	cr_assert_eq(f.status, 0);
	cr_assert_eq(c[0], 7);
	cr_assert_eq(c[1], 11);
	counters_free(w.cm, 2);
}

/*
 * A holder of CPU @cpu, section after section (percpu_enter_cpu()): each
 * one lasts until another thread waits for the CPU (its want is
 * nonzero), then 100 ms more; after it, the holder lets the waiter take
 * the hand-off before it asks again.
 */
struct long_holder {
	unsigned cpu;
	atomic_int stop;
};

static void *
hold_long(void *arg)
{
	struct long_holder *l = arg;
	_Atomic(uintptr_t) *o = owner_of(l->cpu);
	atomic_uint *want =
	    &percpu_priv_pcpu(percpu_priv_g.cpu2idx[l->cpu])->want;

	while (!atomic_load(&l->stop)) {
		uint64_t since;

		if (percpu_enter_cpu(l->cpu) != l->cpu)
			return (NULL);
		while (atomic_load(want) == 0 && !atomic_load(&l->stop))
			sched_yield();
		since = harness_now_ms();
		while (harness_now_ms() - since < 100 && !atomic_load(&l->stop))
			sched_yield();
		percpu_leave();
		while (atomic_load(o) == PERCPU_PRIV_HANDOFF &&
		    !atomic_load(&l->stop))
			sched_yield();
	}
	return (NULL);
}

/*
 * fork() waits for one section per CPU, however long: prepare holds the
 * CPUs it took while it waits for the next.  Two CPUs whose holders keep
 * them 100 ms past the moment a waiter shows up: fork() returns after
 * about two such sections.  A prepare that dropped what it took after a
 * long wait for another CPU (no reader waiting for one of ours) gave
 * each CPU back to its holder and never held both: fork() never
 * returned.
 */
Test(fork, long_sections_on_two_cpus_do_not_keep_fork_waiting, .timeout = 60)
{
	struct long_holder l[2];
	struct dead_forker f;
	pthread_t th[2], fth;
	uint64_t since;
	unsigned i;
	int late;

	memset(l, 0, sizeof(l));
	memset(&f, 0, sizeof(f));
	l[0].cpu = percpu_cpu_first();
	l[1].cpu = last_cpu();
	if (l[0].cpu == l[1].cpu)
		cr_skip_test("one possible CPU: one section at a time");
	for (i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, hold_long, &l[i]), 0);
	for (i = 0; i < 2; i++) {
		since = harness_now_ms();
		while (atomic_load(owner_of(l[i].cpu)) == 0) {
			cr_assert(!harness_waited_too_long(since),
			    HARNESS_ENV "the holder of CPU %u did not run",
			    l[i].cpu);
			sched_yield();
		}
	}
	cr_assert_eq(pthread_create(&fth, NULL, fork_beside, &f), 0);
	since = harness_now_ms();
	while (atomic_load(&f.done) == 0 && harness_now_ms() - since < 10000)
		sched_yield();
	late = atomic_load(&f.done) == 0;
	for (i = 0; i < 2; i++)
		atomic_store(&l[i].stop, 1);
	cr_assert_eq(pthread_join(fth, NULL), 0);
	for (i = 0; i < 2; i++)
		cr_assert_eq(pthread_join(th[i], NULL), 0);
	cr_assert(!late,
	    "fork() still waiting after 10 s for two CPUs whose sections "
	    "last 100 ms past a waiter");
	cr_assert_eq(f.status, 0);
}

/*
 * A section nested in another of this thread (here: inside a
 * percpu_enter_cpu() section) finds the set a dead thread left open: it
 * cannot tell that from a nesting on the same set, and the report says
 * both; nothing is lost, and the set stays open until an outermost
 * section closes it.
 */
Test(dead_owner, a_nested_section_on_a_set_left_open_names_both_causes,
    .timeout = 30)
{
	struct cpumem *cm = counters_alloc(2);
	unsigned cpu = last_cpu();
	struct counters_ref ref;
	uint64_t c[2], *p;
	pthread_t th;

	harness_capture_errors();
	cr_assert_eq(pthread_create(&th, NULL, die_in_counters, cm), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	expect_dead_owner_reported(cpu);
	cr_assert_eq(percpu_enter_cpu(cpu), cpu);
	p = counters_enter(&ref, cm); /* depth 2 */
	p[1] += 5;
	counters_leave(&ref, cm);
	cr_assert_eq(*(uint64_t *)percpu_ptr(cm, cpu) & 1u, 1,
	    "a nested section does not close the opener's set");
	percpu_leave();
	cr_assert_eq(harness_errors(), 2, "%s", harness_last_error());
	cr_assert_str_eq(harness_last_error(), COUNTERS_OPEN_MSG);
	/* A reader waits a while, then closes it from an outermost section
	 * of that CPU, and sees every add. */
	cr_assert_eq(counters_read_cpu(cm, cpu, c, 2), 0);
	cr_assert_eq(c[0], 1);
	cr_assert_eq(c[1], 5);
	cr_assert_eq(*(uint64_t *)percpu_ptr(cm, cpu) & 1u, 0);
	cr_assert_eq(harness_errors(), 2, "%s", harness_last_error());
	counters_free(cm, 2);
}

/* ---- Signal handlers inside the lock windows ---- */

/*
 * Each of two threads holds one CPU's lock word as if interrupted between
 * the CAS and the state store of percpu_enter(), then raises a signal
 * whose handler runs @fn; both handlers run at the same time.
 */
struct window {
	unsigned cpu[2];
	unsigned to[2]; /* sim: where each thread "migrates" first */
	void (*fn)(unsigned who);
	pthread_barrier_t both;
	unsigned got[2];
};

static struct window *win;
static _Thread_local unsigned win_who;

static void
on_window_signal(int sig)
{
	(void)sig;
	win->fn(win_who);
}

static void *
window_thread(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;
	unsigned who = ctx->index;
	uintptr_t tok = percpu_priv_token(td);
	uintptr_t expect = 0;

	win_who = who;
	/* The CAS of percpu_enter(), without its state store. */
	while (!atomic_compare_exchange_strong(owner_of(win->cpu[who]), &expect,
	    tok))
		expect = 0;
# if PERCPU_MD == PERCPU_MD_SIM
	percpu_sim_migrate(win->to[who]);
# endif
	(void)pthread_barrier_wait(&win->both);
	(void)pthread_kill(pthread_self(), SIGUSR1);
	/* Both handlers are done before either window closes. */
	(void)pthread_barrier_wait(&win->both);
	cr_assert_eq(td->state, 0);
	cr_assert_eq(td->state & PERCPU_PRIV_BORROWED, 0);
	cr_assert_eq(atomic_load(owner_of(win->cpu[who])), tok);
	/* The rest of the window: the state store; then leave. */
	td->state = percpu_priv_sfirst(percpu_priv_g.cpu2idx[win->cpu[who]]);
	percpu_leave();
	return (NULL);
}

static void
run_windows(struct window *w)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_window_signal;
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	win = w;
	cr_assert_eq(pthread_barrier_init(&w->both, NULL, 2), 0);
	harness_run(2, window_thread, w);
	(void)pthread_barrier_destroy(&w->both);
	cr_assert_eq(atomic_load(owner_of(w->cpu[0])), 0);
	cr_assert_eq(atomic_load(owner_of(w->cpu[1])), 0);
}

static struct cpumem *zero_cm;

static void
zero_in_handler(unsigned who)
{
	counters_zero(zero_cm, 2);
	win->got[who] = 1;
}

Test(counters, zero_from_handlers_in_two_threads_lock_windows_returns,
    .timeout = 60)
{
	struct window w;
	unsigned cpu;
	uint64_t c[2];

	if (percpu_ncpus() < 2)
		cr_skip_test("one possible CPU: no second lock window");
	memset(&w, 0, sizeof(w));
	zero_cm = counters_alloc(2);
	PERCPU_FOREACH_CPU(cpu) {
		cr_assert_eq(percpu_enter_cpu(cpu), cpu);
		counters_pkt(zero_cm, 0, 1, 3);
		percpu_leave();
	}
	w.cpu[0] = percpu_cpu_first();
	w.cpu[1] = last_cpu();
	w.to[0] = w.cpu[0];
	w.to[1] = w.cpu[1];
	w.fn = zero_in_handler;
	run_windows(&w);
	cr_assert_eq(w.got[0], 1);
	cr_assert_eq(w.got[1], 1);
	counters_read(zero_cm, c, 2, NULL);
	cr_assert_eq(c[0], 0);
	cr_assert_eq(c[1], 0);
	PERCPU_FOREACH_CPU(cpu) {
		cr_assert_eq(*(uint64_t *)percpu_ptr(zero_cm, cpu) & 1u, 0);
		cr_assert_eq(percpu_enter_cpu(cpu), cpu);
		percpu_leave();
	}
	/* From thread context again: serialized, every CPU. */
	counters_pkt(zero_cm, 0, 1, 3);
	counters_zero(zero_cm, 2);
	counters_read(zero_cm, c, 2, NULL);
	cr_assert_eq(c[0], 0);
	cr_assert_eq(c[1], 0);
}

/* ---- Quiet sections (counters_add/pkt: the lock, no state) ---- */

static struct cpumem *quiet_cm;
static unsigned quiet_handled;

static void
on_quiet_signal(int sig)
{
	(void)sig;
	counters_add(quiet_cm, 1, 5);
	quiet_handled++;
}

/*
 * What a counters_add() interrupted inside its quiet section leaves: this
 * thread's token in the lock words, state 0, the set open.  Every CPU
 * is held so, so wherever the handler runs it finds its own thread's
 * section: it must report the nesting and leave the generation to the
 * interrupted code (a borrowed CPU, not a dead thread's open set, which
 * the handler would close and reopen under the interrupted update).
 */
Test(counters, a_handler_inside_a_quiet_section_on_the_same_set_is_nested)
{
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;
	uintptr_t tok = percpu_priv_token(td);
	struct sigaction sa;
	unsigned cpu;
	uint64_t c[2];

	quiet_cm = counters_alloc(2);
	quiet_handled = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_quiet_signal;
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	harness_capture_errors();
	PERCPU_FOREACH_CPU(cpu) {
		uintptr_t expect = 0;
		uint64_t *g = percpu_ptr(quiet_cm, cpu);

		cr_assert(atomic_compare_exchange_strong(owner_of(cpu), &expect,
		    tok));
		*g |= 1u; /* open, as the quiet section's first store */
		g[1] += 2;
	}
	cr_assert_eq(td->state, 0);
	(void)pthread_kill(pthread_self(), SIGUSR1);
	cr_assert_eq(quiet_handled, 1);
	cr_assert_eq(harness_errors(), 1, "%s", harness_last_error());
	cr_assert_str_eq(harness_last_error(), COUNTERS_OPEN_MSG);
	cr_assert_eq(td->state, 0, "the handler's borrow is undone");
	PERCPU_FOREACH_CPU(cpu) {
		uint64_t *g = percpu_ptr(quiet_cm, cpu);

		cr_assert_eq(*g & 1u, 1,
		    "CPU %u: still the interrupted "
		    "section's open set",
		    cpu);
		cr_assert_eq(atomic_load(owner_of(cpu)), tok);
		*g += 1u; /* close */
		atomic_store(owner_of(cpu), 0);
	}
	counters_read(quiet_cm, c, 2, NULL);
	cr_assert_eq(c[0], 2u * percpu_ncpus()); /* g[1]: counter 0 */
	cr_assert_eq(c[1], 5);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGUSR1, &sa, NULL);
	counters_free(quiet_cm, 2);
}

/*
 * Handlers landing anywhere in a loop of counters_add() and counters_pkt()
 * (inside their quiet sections most of the time) that update other
 * counters: no error, no lost count, no torn packet, and every lock free
 * at the end.
 */
static struct cpumem *quiet_other;
/* quiet_hits: the main thread's (its handler's) own. */
static volatile sig_atomic_t quiet_hits;
static atomic_int quiet_stop;

static void
on_quiet_other(int sig)
{
	(void)sig;
	counters_pkt(quiet_other, 0, 1, 7);
	quiet_hits++;
}

static void *
quiet_kicker(void *arg)
{
	pthread_t target = *(pthread_t *)arg;

	while (!atomic_load(&quiet_stop)) {
		(void)pthread_kill(target, SIGUSR2);
		sched_yield();
	}
	return (NULL);
}

Test(counters, handlers_inside_quiet_sections_of_other_sets_lose_nothing,
    .timeout = 60)
{
	struct sigaction sa;
	pthread_t self = pthread_self(), kick;
	unsigned long i, n = 300000;
	uint64_t c[2], o[2];
	unsigned cpu;
	time_t t0 = time(NULL);

	quiet_cm = counters_alloc(2);
	quiet_other = counters_alloc(2);
	atomic_store(&quiet_stop, 0);
	quiet_hits = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_quiet_other;
	cr_assert_eq(sigaction(SIGUSR2, &sa, NULL), 0);
	harness_capture_errors();
	cr_assert_eq(pthread_create(&kick, NULL, quiet_kicker, &self), 0);
	/* At least n rounds and 1000 handlers (the kicker may start late
	 * on a loaded machine), within 20 s. */
	for (i = 0; i < n || (quiet_hits < 1000 && time(NULL) - t0 < 20); i++) {
		counters_add(quiet_cm, 0, 1);
		counters_pkt(quiet_cm, 0, 1, 3);
	}
	n = i;
	atomic_store(&quiet_stop, 1);
	cr_assert_eq(pthread_join(kick, NULL), 0);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGUSR2, &sa, NULL);
	cr_assert_eq(harness_errors(), 0, "%s", harness_last_error());
	counters_read(quiet_cm, c, 2, NULL);
	cr_assert_eq(c[0], 2 * n);
	cr_assert_eq(c[1], 3 * n);
	counters_read(quiet_other, o, 2, NULL);
	cr_assert_gt(quiet_hits, 0, "no signal was handled in 20 s");
	cr_assert_eq(o[0], (uint64_t)quiet_hits);
	cr_assert_eq(o[1], 7 * o[0],
	    "a torn packet: %llu packets, %llu "
	    "bytes",
	    (unsigned long long)o[0], (unsigned long long)o[1]);
	PERCPU_FOREACH_CPU(cpu) {
		cr_assert_eq(atomic_load(owner_of(cpu)), 0, "CPU %u held", cpu);
		cr_assert_eq(*(uint64_t *)percpu_ptr(quiet_cm, cpu) & 1u, 0);
	}
	cr_assert_eq(PERCPU_PRIV_TD.state, 0);
	counters_free(quiet_cm, 2);
	counters_free(quiet_other, 2);
}

# if PERCPU_MD == PERCPU_MD_SIM
static void
enter_in_handler(unsigned who)
{
	win->got[who] = percpu_enter();
	percpu_leave();
}

/*
 * The windows' threads then "migrate" onto each other's CPU, so each
 * handler's enter finds the other thread's CPU: it must use the one its
 * own interrupted code holds, not wait (ABBA).
 */
Test(sections, handlers_in_crossed_lock_windows_take_their_threads_cpu,
    .timeout = 60)
{
	struct window w;

	memset(&w, 0, sizeof(w));
	w.cpu[0] = percpu_cpu_first();
	w.cpu[1] = last_cpu();
	w.to[0] = w.cpu[1];
	w.to[1] = w.cpu[0];
	w.fn = enter_in_handler;
	run_windows(&w);
	cr_assert_eq(w.got[0], w.cpu[0]);
	cr_assert_eq(w.got[1], w.cpu[1]);
}

/* Both handlers report at once: count exact messages, no shared buffer. */
static atomic_uint window_errors;

static void
on_window_error(const char *msg)
{
	char want[80];
	unsigned i;

	for (i = 0; i < 2; i++) {
		(void)snprintf(want, sizeof(want),
		    "percpu_enter_cpu: already in a section on CPU %u",
		    win->cpu[i]);
		if (strcmp(msg, want) == 0)
			atomic_fetch_add(&window_errors, 1u << (8 * i));
	}
}

static void
enter_cpu_in_handler(unsigned who)
{
	win->got[who] = percpu_enter_cpu(win->cpu[1 - who]);
	if (win->got[who] != PERCPU_NOCPU)
		percpu_leave();
}

/* As CPU x from such a handler: a detected error, never a deadlock. */
Test(sections, enter_cpu_from_handlers_in_crossed_windows_is_detected,
    .timeout = 60)
{
	struct window w;

	memset(&w, 0, sizeof(w));
	w.cpu[0] = percpu_cpu_first();
	w.cpu[1] = last_cpu();
	w.to[0] = w.cpu[0];
	w.to[1] = w.cpu[1];
	w.fn = enter_cpu_in_handler;
	(void)percpu_set_error_handler(on_window_error);
	run_windows(&w);
	cr_assert_eq(w.got[0], PERCPU_NOCPU);
	cr_assert_eq(w.got[1], PERCPU_NOCPU);
	/* Each handler named the CPU its own thread holds. */
	cr_assert_eq(atomic_load(&window_errors), 0x101u);
}
# endif /* PERCPU_MD_SIM */

#endif /* PERCPU_MP */

#if !PERCPU_MP && PERCPU_DEBUG
/* ---- UP with PERCPU_DEBUG=1: tracked sections ---- */

# define UP_SECOND                                                    \
  "UP build: a second thread entered a section while another thread " \
  "is in one; PERCPU_MP=0 assumes one thread of control per core "    \
  "(build a multithreaded program with PERCPU_MP=1)"

struct up_holder {
	percpu_t *pc;
	atomic_int state; /* 1: inside; 2: may leave */
};

static void *
up_hold(void *arg)
{
	struct up_holder *h = arg;
	uint64_t *p = percpu_getref(h->pc);

	atomic_store(&h->state, 1);
	while (atomic_load(&h->state) != 2)
		sched_yield();
	(*p)++;
	percpu_putref(h->pc);
	return (NULL);
}

Test(up_debug, a_second_thread_inside_a_section_is_reported, .timeout = 30)
{
	struct up_holder h = {percpu_alloc(sizeof(uint64_t)), 0};
	struct cpumem *cm = counters_alloc(2);
	counter_u64_t ctr = counter_u64_alloc(M_WAITOK);
	uint64_t c[2], *p;
	pthread_t th;

	harness_capture_errors();
	cr_assert_eq(pthread_create(&th, NULL, up_hold, &h), 0);
	while (atomic_load(&h.state) != 1)
		sched_yield();
	/* Each face's section, and the single-word updates. */
	p = percpu_getref(h.pc);
	cr_assert_eq(harness_errors(), 1);
	cr_assert_str_eq(harness_last_error(), UP_SECOND);
	percpu_putref(h.pc);
	counters_pkt(cm, 0, 1, 3);
	cr_assert_eq(harness_errors(), 2);
	counter_u64_add(ctr, 1);
	cr_assert_eq(harness_errors(), 3);
	(void)percpu_enter();
	percpu_leave();
	cr_assert_eq(harness_errors(), 4);
	cr_assert_str_eq(harness_last_error(), UP_SECOND);
	/* The second thread's leaves left the holder's section alone. */
	atomic_store(&h.state, 2);
	cr_assert_eq(pthread_join(th, NULL), 0);
	/* Now alone: no report. */
	counters_pkt(cm, 0, 1, 3);
	p = percpu_getref(h.pc);
	(*p)++;
	percpu_putref(h.pc);
	cr_assert_eq(harness_errors(), 4);
	counters_read(cm, c, 2, NULL);
	cr_assert_eq(c[0], 2);
	cr_assert_eq(c[1], 6);
	counter_u64_free(ctr);
}

static void *
up_use(void *arg)
{
	struct cpumem *cm = arg;

	counters_pkt(cm, 0, 1, 3);
	return (NULL);
}

Test(up_debug, threads_one_after_another_are_not_reported)
{
	struct cpumem *cm = counters_alloc(2);
	uint64_t c[2];
	pthread_t th;
	int i;

	harness_capture_errors();
	for (i = 0; i < 4; i++) {
		cr_assert_eq(pthread_create(&th, NULL, up_use, cm), 0);
		cr_assert_eq(pthread_join(th, NULL), 0);
		counters_pkt(cm, 0, 1, 3);
	}
	cr_assert_eq(harness_errors(), 0, "%s", harness_last_error());
	counters_read(cm, c, 2, NULL);
	cr_assert_eq(c[0], 8);
	cr_assert_eq(c[1], 24);
}

static atomic_uint up_sig_depth;

static void
up_on_signal(int sig)
{
	(void)sig;
	(void)percpu_enter();
	atomic_store(&up_sig_depth, percpu_in_section());
	percpu_leave();
}

/* issue 12: KASSERT(kpreempt_disabled())-style checks in a UP build. */
Test(up_debug, in_section_reports_the_depth_of_every_faces_section)
{
	struct cpumem *cm = counters_alloc(2);
	struct cpumem *mem = cpumem_malloc(8, 0);
	percpu_t *pc = percpu_alloc(8);
	struct counters_ref ref;
	struct sigaction sa;
	void *m;

	harness_capture_errors();
	cr_assert_eq(percpu_in_section(), 0);
	(void)percpu_enter();
	cr_assert_eq(percpu_in_section(), 1);
	(void)percpu_getref(pc);
	cr_assert_eq(percpu_in_section(), 2);
	(void)counters_enter(&ref, cm);
	cr_assert_eq(percpu_in_section(), 3);
	m = cpumem_enter(mem);
	cr_assert_eq(percpu_in_section(), 4);
	counter_enter();
	cr_assert_eq(percpu_in_section(), 5);
	/* A signal handler nests on the thread's depth: no report. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = up_on_signal;
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	(void)pthread_kill(pthread_self(), SIGUSR1);
	cr_assert_eq(atomic_load(&up_sig_depth), 6);
	counter_exit();
	cpumem_leave(mem, m);
	counters_leave(&ref, cm);
	percpu_putref(pc);
	percpu_leave();
	cr_assert_eq(percpu_in_section(), 0);
	cr_assert_eq(harness_errors(), 0, "%s", harness_last_error());
	/* One leave too many is still detected. */
	percpu_leave();
	cr_assert_eq(harness_errors(), 1);
	cr_assert_str_eq(harness_last_error(),
	    "percpu_leave: not in a section");
}

/* issue 14: a leave without an enter names the function called, in UP. */
Test(up_debug, a_leave_without_enter_names_the_function_called)
{
	struct cpumem *cm = counters_alloc(1);
	struct cpumem *mem = cpumem_malloc(8, 0);
	percpu_t *pc = percpu_alloc(8);
	struct counters_ref ref;

	harness_capture_errors();
	cpumem_leave(mem, NULL);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_leave: not in a section");
	counters_leave(&ref, cm);
	cr_assert_str_eq(harness_last_error(),
	    "counters_leave: not in a section");
	percpu_putref(pc);
	cr_assert_str_eq(harness_last_error(),
	    "percpu_putref: not in a section");
	critical_exit();
	cr_assert_str_eq(harness_last_error(),
	    "critical_exit: not in a section");
	cr_assert_eq(harness_errors(), 4);
	cr_assert_eq(percpu_in_section(), 0);
}
#endif /* !PERCPU_MP && PERCPU_DEBUG */
