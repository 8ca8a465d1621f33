/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_waiters.c - the restartable section lock under attack: its
 * waiter counts (want) and hand-offs (PERCPU_PRIV_HANDOFF), and the rseq
 * fall-backs (percpu/core.h, percpu/impl.h, percpu/md.h).
 *
 * Each test states the interleaving it drives.  Threads are placed with
 * sched_setaffinity() where a test needs a thread (or its signal handler)
 * to run on a given CPU: the OS promises that a thread runs only on the
 * CPUs of its mask.  Waits for the OS (a thread running, a signal
 * arriving) are bounded by HARNESS_WAIT_S; waits for the toolkit by
 * REVIEW_WAIT_MS, after which the toolkit is taken to hang.
 */
#define _GNU_SOURCE
#include "harness.h"

#include "counter.h"
#include "cpumem.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if PERCPU_MP && PERCPU_MD == PERCPU_MD_LINUX

/* How long the toolkit may take for what it must do at once. */
# define REVIEW_WAIT_MS 10000u

/* A possible CPU in the process's affinity mask: the highest one (so that
 * other threads of the test tend to run elsewhere); PERCPU_NOCPU if none. */
static unsigned
review_cpu(void)
{
	cpu_set_t set;
	unsigned u;

	percpu_init();
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return (PERCPU_NOCPU);
	for (u = percpu_priv_g.ncpu; u-- > 0;) {
		unsigned id = percpu_priv_g.ci[u].ci_index;

		if (id < CPU_SETSIZE && CPU_ISSET(id, &set))
			return (id);
	}
	return (PERCPU_NOCPU);
}

/* CPU @cpu's core words (its lock word and waiter count). */
static struct percpu_priv_pcpu *
review_pc(unsigned cpu)
{
	return (percpu_priv_pcpu(percpu_priv_g.cpu2idx[cpu]));
}

static unsigned
review_want(unsigned cpu)
{
	return (atomic_load(&review_pc(cpu)->want));
}

/* Run the calling thread on @cpu alone. */
static void
review_bind(unsigned cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

/* Wait until *@flag != 0 for at most @ms: 1 if it became set. */
static int
review_wait_flag(atomic_int *flag, uint64_t ms)
{
	uint64_t t0 = harness_now_ms();

	while (atomic_load(flag) == 0) {
		if (harness_now_ms() - t0 > ms)
			return (0);
		usleep(1000);
	}
	return (1);
}

/* Wait until CPU @cpu's want is @v (an OS wait: a thread must run). */
static void
review_wait_want(unsigned cpu, unsigned v)
{
	uint64_t t0 = harness_now_ms();

	while (review_want(cpu) != v) {
		cr_assert(!harness_waited_too_long(t0),
		    HARNESS_ENV "CPU %u's want stayed %#x, waiting for %#x",
		    cpu, review_want(cpu), v);
		usleep(1000);
	}
}

/* ---- A holder: another thread in a section on a given CPU ---- */

struct review_holder {
	pthread_t th;
	unsigned cpu;
	atomic_int held;
	atomic_int release;
};

static void *
review_hold(void *arg)
{
	struct review_holder *h = arg;

	cr_assert_eq(percpu_enter_cpu(h->cpu), h->cpu);
	atomic_store(&h->held, 1);
	while (atomic_load(&h->release) == 0)
		usleep(1000);
	percpu_leave();
	return (NULL);
}

static void
review_hold_start(struct review_holder *h, unsigned cpu)
{
	memset(h, 0, sizeof(*h));
	h->cpu = cpu;
	cr_assert_eq(pthread_create(&h->th, NULL, review_hold, h), 0);
	cr_assert(review_wait_flag(&h->held, HARNESS_WAIT_S * 1000u),
	    HARNESS_ENV "the holder never ran");
}

static void
review_hold_end(struct review_holder *h)
{
	atomic_store(&h->release, 1);
	cr_assert_eq(pthread_join(h->th, NULL), 0);
}

/* A thread (pinned to @cpu first unless PERCPU_NOCPU is passed as pin)
 * that enters: by percpu_enter_cpu(cpu) if remote, else percpu_enter(). */
struct review_waiter {
	pthread_t th;
	unsigned cpu;
	unsigned pin;
	int remote;
	atomic_int done;
	unsigned got;
};

static void *
review_wait_thread(void *arg)
{
	struct review_waiter *w = arg;

	if (w->pin != PERCPU_NOCPU)
		review_bind(w->pin);
	w->got = w->remote ? percpu_enter_cpu(w->cpu) : percpu_enter();
	percpu_leave();
	atomic_store(&w->done, 1);
	return (NULL);
}

static void
review_waiter_start(struct review_waiter *w, unsigned cpu, unsigned pin,
    int remote)
{
	memset(w, 0, sizeof(*w));
	w->cpu = cpu;
	w->pin = pin;
	w->remote = remote;
	cr_assert_eq(pthread_create(&w->th, NULL, review_wait_thread, w), 0);
}

static void
review_signal(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(sig, &sa, NULL), 0);
}

/* ---- 1. A handler's percpu_enter() while its thread waits remotely ---- */

static atomic_int h1_done;
static unsigned h1_got;

static void
on_enter_signal(int sig)
{
	(void)sig;
	h1_got = percpu_enter();
	percpu_leave();
	atomic_store(&h1_done, 1);
}

/*
 * SIGNALS (percpu/core.h): handlers may enter sections and "it never
 * deadlocks".  Thread T, bound to CPU c, waits in percpu_enter_cpu(c)
 * (counted: want = PERCPU_PRIV_WANT_REMOTE) while holder U has c.  A
 * signal lands in T; its handler calls percpu_enter() on c: it waits as
 * a local waiter (want + 1).  U leaves: want != 0, so c is released to
 * PERCPU_PRIV_HANDOFF.  Only a remote waiter may take a hand-off while a
 * remote one is counted, and the only remote waiter is T itself, which
 * cannot run until its handler returns; the handler's check at 100 spins
 * (percpu_priv_held_unit()) finds no CPU its thread holds.  The handler
 * spins forever.  (Same with the "getcpu" backend, where a local waiter
 * never takes a hand-off.)
 */
Test(waiters, handler_enter_while_its_thread_waits_in_enter_cpu, .timeout = 120)
{
	struct review_holder u;
	struct review_waiter t;
	unsigned c = review_cpu();

	cr_assert_neq(c, PERCPU_NOCPU);
	atomic_store(&h1_done, 0);
	review_signal(SIGUSR1, on_enter_signal);
	review_hold_start(&u, c);
	review_waiter_start(&t, c, c, 1);
	review_wait_want(c, PERCPU_PRIV_WANT_REMOTE);
	cr_assert_eq(pthread_kill(t.th, SIGUSR1), 0);
	if (percpu_priv_g.rseq_lock)
		review_wait_want(c, PERCPU_PRIV_WANT_REMOTE + 1u);
	else
		usleep(200000);
	review_hold_end(&u);
	cr_assert(review_wait_flag(&h1_done, REVIEW_WAIT_MS),
	    "the handler's percpu_enter() on CPU %u never returned (want "
	    "%#x, owner %#lx): the hand-off waits for the thread it "
	    "interrupted",
	    c, review_want(c),
	    (unsigned long)atomic_load(&review_pc(c)->owner));
	cr_assert_eq(h1_got, c);
	cr_assert(review_wait_flag(&t.done, REVIEW_WAIT_MS));
	cr_assert_eq(t.got, c);
	cr_assert_eq(pthread_join(t.th, NULL), 0);
	cr_assert_eq(review_want(c), 0);
}

/* ---- 2, 3. A thread that dies while it waits ---- */

static void
on_exit_signal(int sig)
{
	(void)sig;
	pthread_exit(NULL);
}

/* The calling thread, bound to @cpu, takes it by sequence (a quiet
 * section) within REVIEW_WAIT_MS: 1 if it did. */
static int
review_quiet_commits(unsigned cpu)
{
# if defined(PERCPU_MD_RSEQ_LOCK)
	struct percpu_priv_pcpu *pc;
	uint64_t t0 = harness_now_ms();
	size_t off;

	review_bind(cpu);
	(void)percpu_priv_token(&PERCPU_PRIV_TD);
	while (harness_now_ms() - t0 < REVIEW_WAIT_MS) {
		if (percpu_priv_qenter(&pc, &off) == 0) {
			percpu_priv_qleave(pc);
			return (1);
		}
		(void)sched_yield();
	}
# else
	(void)cpu;
# endif
	return (0);
}

/*
 * DEAD OWNERS: a thread that ends is cleaned up by its exit handler.  T
 * waits in percpu_enter_cpu(c) (want = PERCPU_PRIV_WANT_REMOTE) while U
 * holds c; a handler ends T (pthread_exit(), as the quiet-section tests
 * do).  percpu_priv_thread_exit() releases lock words that hold T's
 * token but never uncounts T from want: c keeps a remote waiter that
 * does not exist.  Every later leave of c hands it off, and no local
 * waiter ever takes a hand-off while a remote one is counted: the next
 * percpu_enter() on c waits forever.
 */
Test(waiters, a_thread_that_dies_waiting_in_enter_cpu_is_uncounted,
    .timeout = 120)
{
	struct review_holder u;
	struct review_waiter t, l;
	unsigned c = review_cpu();

	cr_assert_neq(c, PERCPU_NOCPU);
	review_signal(SIGUSR1, on_exit_signal);
	review_hold_start(&u, c);
	review_waiter_start(&t, c, PERCPU_NOCPU, 1);
	review_wait_want(c, PERCPU_PRIV_WANT_REMOTE);
	cr_assert_eq(pthread_kill(t.th, SIGUSR1), 0);
	cr_assert_eq(pthread_join(t.th, NULL), 0);
	review_signal(SIGUSR1, SIG_DFL);
	cr_assert_eq(review_want(c), 0,
	    "CPU %u still counts the dead waiter: want %#x", c, review_want(c));
	review_hold_end(&u);
	/* A thread of CPU c enters. */
	review_waiter_start(&l, c, c, 0);
	cr_assert(review_wait_flag(&l.done, REVIEW_WAIT_MS),
	    "percpu_enter() on CPU %u never returned after a waiter died "
	    "(want %#x, owner %#lx)",
	    c, review_want(c),
	    (unsigned long)atomic_load(&review_pc(c)->owner));
	cr_assert_eq(pthread_join(l.th, NULL), 0);
}

/*
 * The same with a local waiter (the restartable lock: every waiter
 * counts 1).  T, bound to c, waits in percpu_enter() (want = 1) while U
 * holds c; a handler ends T.  want stays 1: no sequence on c ever commits
 * again (percpu_md_rseq_lock() requires want == 0), so every section on
 * c takes the slow path (membarrier included) and every leave of c hands
 * off, for the rest of the process.
 */
Test(waiters, a_thread_that_dies_waiting_in_percpu_enter_is_uncounted,
    .timeout = 120)
{
	struct review_holder u;
	struct review_waiter t;
	unsigned c = review_cpu();

	cr_assert_neq(c, PERCPU_NOCPU);
	if (!percpu_priv_g.rseq_lock)
		cr_skip_test("no restartable section lock in this process");
	review_signal(SIGUSR1, on_exit_signal);
	review_hold_start(&u, c);
	review_waiter_start(&t, c, c, 0);
	review_wait_want(c, 1);
	cr_assert_eq(pthread_kill(t.th, SIGUSR1), 0);
	cr_assert_eq(pthread_join(t.th, NULL), 0);
	review_signal(SIGUSR1, SIG_DFL);
	review_hold_end(&u);
	cr_assert_eq(review_want(c), 0,
	    "CPU %u still counts the dead waiter: want %#x", c, review_want(c));
	cr_assert(review_quiet_commits(c),
	    "no restartable lock commits on CPU %u any more (want %#x)", c,
	    review_want(c));
}

/* ---- 4. fork() from a handler that interrupted a counted waiter ---- */

static atomic_int f_forked;
static pid_t f_parent;
static int f_pipe[2];

static void
on_fork_signal(int sig)
{
	pid_t p;

	(void)sig;
	p = fork();
	if (p > 0)
		atomic_store(&f_forked, (int)p);
}

struct f_waiter {
	pthread_t th;
	unsigned cpu;
};

static void *
f_wait(void *arg)
{
	struct f_waiter *w = arg;
	unsigned got = percpu_enter_cpu(w->cpu);
	unsigned want;

	if (getpid() == f_parent) {
		percpu_leave();
		return (NULL);
	}
	/* The child: its only thread, in the section it waited for. */
	want = atomic_load(&review_pc(w->cpu)->want);
	percpu_leave();
	if (write(f_pipe[1], &want, sizeof(want)) != (ssize_t)sizeof(want))
		_exit(10);
	if (got != w->cpu)
		_exit(11);
	/* A thread of that CPU enters again. */
	review_bind(w->cpu);
	alarm(10);
	(void)percpu_enter();
	percpu_leave();
	_exit(0);
}

/*
 * FORK: "A fork child starts from consistent per-CPU data".  T waits in
 * percpu_enter_cpu(c) (counted in want) while U holds c; a signal
 * handler of T forks (the prepare handler waits for U, takes c from the
 * hand-off; the child zeroes every want).  In the child T's wait resumes,
 * takes c and uncounts itself from a want that the child already
 * zeroed: want wraps to 0 - PERCPU_PRIV_WANT_REMOTE.  From then on every
 * leave of c hands off to a remote waiter that does not exist, and the
 * child's next percpu_enter() on c waits forever.
 */
Test(waiters, fork_from_a_handler_that_interrupted_a_waiter, .timeout = 120)
{
	struct review_holder u;
	struct f_waiter w;
	unsigned c = review_cpu(), want = ~0u;
	uint64_t t0;
	int st = 0;
	pid_t child;

	cr_assert_neq(c, PERCPU_NOCPU);
	cr_assert_eq(pipe(f_pipe), 0);
	f_parent = getpid();
	atomic_store(&f_forked, 0);
	review_signal(SIGUSR1, on_fork_signal);
	review_hold_start(&u, c);
	w.cpu = c;
	cr_assert_eq(pthread_create(&w.th, NULL, f_wait, &w), 0);
	review_wait_want(c, PERCPU_PRIV_WANT_REMOTE);
	cr_assert_eq(pthread_kill(w.th, SIGUSR1), 0);
	/* The prepare handler counts itself on c too, then waits for U. */
	review_wait_want(c, 2u * PERCPU_PRIV_WANT_REMOTE);
	review_hold_end(&u);
	t0 = harness_now_ms();
	while ((child = (pid_t)atomic_load(&f_forked)) == 0) {
		cr_assert(!harness_waited_too_long(t0), HARNESS_ENV "no fork");
		usleep(1000);
	}
	cr_assert_eq(pthread_join(w.th, NULL), 0);
	cr_assert_eq(waitpid(child, &st, 0), child);
	cr_assert_eq(read(f_pipe[0], &want, sizeof(want)),
	    (ssize_t)sizeof(want));
	review_signal(SIGUSR1, SIG_DFL);
	cr_assert_eq(want, 0, "the child's want of CPU %u is %#x", c, want);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the child's percpu_enter() on CPU %u: %s %d", c,
	    WIFSIGNALED(st) ? "killed by signal (alarm: hung)" : "exit",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	cr_assert_eq(review_want(c), 0);
}

/* ---- 6. membarrier refused after start-up ---- */

/* Make membarrier() fail with EPERM in the calling thread (seccomp). */
static int
review_deny_membarrier(void)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_membarrier, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = 4, .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return (-1);
	return (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0));
}

/*
 * A process that confines itself after the toolkit started (a seccomp
 * allow-list without membarrier: sandboxes, older container profiles)
 * keeps the restartable lock, whose every CAS taker needs
 * membarrier(PRIVATE_EXPEDITED_RSEQ) (percpu_priv_rseq_fence()).  On
 * failure the fence calls percpu_priv_die(): abort() from
 * percpu_enter_cpu(), counters_zero(), fork(), and from any contended
 * percpu_enter() (a local waiter fences too).  Run in a child; it should
 * return the CPU.
 */
Test(waiters, enter_cpu_with_membarrier_refused_after_start, .timeout = 60)
{
	unsigned c = review_cpu();
	int st = 0;
	pid_t p;

	cr_assert_neq(c, PERCPU_NOCPU);
	if (!percpu_priv_g.rseq_lock)
		cr_skip_test("no restartable section lock in this process");
	p = fork();
	cr_assert_neq(p, -1);
	if (p == 0) {
		if (review_deny_membarrier() != 0)
			_exit(77);
		if (percpu_enter_cpu(c) != c)
			_exit(3);
		percpu_leave();
		_exit(0);
	}
	cr_assert_eq(waitpid(p, &st, 0), p);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		cr_skip_test("seccomp unavailable");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "percpu_enter_cpu(%u) with membarrier refused: %s %d", c,
	    WIFSIGNALED(st) ? "killed by signal" : "exit status",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

/* ---- 7. A remote waiter that gives up, against the leave ---- */

/*
 * The "getcpu" backend (local waiters are never counted, so never take a
 * hand-off).  A remote waiter W is counted on c (a handler in
 * percpu_enter_cpu(c), its thread inside an enter window elsewhere)
 * while the holder U leaves c.  The steps, in this order, are the real
 * ones of both sides:
 *   U  percpu_priv_release(): loads want, nonzero;
 *   W  gives up at 100 spins (percpu_priv_unwait()): want - REMOTE = 0,
 *      CAS PERCPU_PRIV_HANDOFF -> 0 fails (U still owns c);
 *   U  percpu_priv_release_slow(): owner = PERCPU_PRIV_HANDOFF.
 * c is handed to nobody: want is 0, and only a counted waiter takes a
 * hand-off.  Every percpu_enter() on c waits forever.  (With the
 * restartable lock a local waiter counts itself and takes it.)
 */
Test(waiters, a_remote_waiter_giving_up_during_a_leave_getcpu, .timeout = 60)
{
	struct review_waiter l;
	struct percpu_priv_pcpu *pc;
	unsigned c;
	uintptr_t h = PERCPU_PRIV_HANDOFF;

	if (atomic_load(&percpu_priv_g.ready))
		cr_skip_test("the toolkit started before the test");
	cr_assert_eq(setenv("PERCPU_BACKEND", "getcpu", 1), 0);
	c = review_cpu();
	cr_assert_neq(c, PERCPU_NOCPU);
	cr_assert_eq(percpu_priv_g.rseq_lock, 0);
	pc = review_pc(c);
	cr_assert_eq(percpu_enter_cpu(c), c);		      /* U */
	atomic_fetch_add(&pc->want, PERCPU_PRIV_WANT_REMOTE); /* W counts */
	/* U's leave: the load of want. */
	cr_assert_neq(atomic_load_explicit(&pc->want, memory_order_relaxed), 0);
	/* W gives up (percpu_priv_unwait()). */
	atomic_fetch_sub(&pc->want, PERCPU_PRIV_WANT_REMOTE);
	cr_assert(!atomic_compare_exchange_strong(&pc->owner, &h, 0));
	/* U's leave: the rest of it. */
	PERCPU_PRIV_TD.state = 0;
	percpu_priv_release_slow(pc);
	/* A thread of CPU c enters. */
	review_waiter_start(&l, c, c, 0);
	cr_assert(review_wait_flag(&l.done, REVIEW_WAIT_MS),
	    "percpu_enter() on CPU %u never returned: owner %#lx, want %#x", c,
	    (unsigned long)atomic_load(&pc->owner), review_want(c));
	cr_assert_eq(pthread_join(l.th, NULL), 0);
}

/* ---- 8. A handler's read inside its own section on another CPU ---- */

# if defined(PERCPU_MD_RSEQ_LOCK)
static struct cpumem *q_cm;
static unsigned q_cpu, q_other;
static uint64_t q_out[2];
static atomic_int q_done;

static void
on_read_in_section(int sig)
{
	(void)sig;
	if (percpu_enter_cpu(q_other) != q_other)
		return;
	(void)counters_read_cpu(q_cm, q_cpu, q_out, 2);
	percpu_leave();
	atomic_store(&q_done, 1);
}

static void *
q_thread(void *arg)
{
	struct percpu_priv_pcpu *pc;
	uint64_t t0 = harness_now_ms();
	uint64_t *g, gv;
	size_t off;

	(void)arg;
	(void)percpu_priv_token(&PERCPU_PRIV_TD);
	while (percpu_priv_qenter(&pc, &off) != 0) {
		if (harness_now_ms() - t0 > 20000)
			return (NULL);
		(void)sched_yield();
	}
	q_cpu = percpu_priv_g.ci[off / PERCPU_PRIV_STRIDE].ci_index;
	q_other = percpu_priv_g
		      .ci[(off / PERCPU_PRIV_STRIDE + 1) % percpu_priv_g.ncpu]
		      .ci_index;
	/* counters_add(q_cm, 0, 3), interrupted after its add. */
	g = (uint64_t *)(void *)((char *)q_cm + off);
	gv = cpumem_priv_open1(g, 1);
	cpumem_priv_add(g + 1, 0, 3);
	(void)pthread_kill(pthread_self(), SIGUSR1);
	cpumem_priv_close_asm(g, gv);
	percpu_priv_qleave(pc);
	return (NULL);
}

/*
 * percpu_enter_cpu(): a handler inside counters_add() "takes a free CPU
 * at once, and the thread then holds two"; counters_read_cpu(): "a set
 * the caller's own thread holds open is read as it stands".  The handler
 * takes CPU e by percpu_enter_cpu(e), then reads CPU d, whose set the
 * interrupted counters_add() holds open.  cpumem_priv_snap() asks
 * percpu_priv_held(), which answers e (the state's CPU) and not d (held
 * by the lock word alone): it waits for the generation of d to become
 * even, which only the interrupted code can do.  The handler never
 * returns.
 */
Test(waiters, handler_reading_its_quiet_cpu_from_a_section_elsewhere,
    .timeout = 60)
{
	pthread_t th;

	percpu_init();
	if (!percpu_priv_g.rseq_lock)
		cr_skip_test("no restartable section lock in this process");
	if (percpu_ncpus() < 2)
		cr_skip_test("one CPU");
	q_cm = counters_alloc(2);
	atomic_store(&q_done, 0);
	review_signal(SIGUSR1, on_read_in_section);
	cr_assert_eq(pthread_create(&th, NULL, q_thread, NULL), 0);
	cr_assert(review_wait_flag(&q_done, REVIEW_WAIT_MS),
	    "the handler (in a section on CPU %u) never finished reading CPU "
	    "%u, held by its own counters_add()",
	    q_other, q_cpu);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(q_out[0], 3);
	counters_free(q_cm, 2);
}
# endif

/* ---- 5. A thread whose rseq registration is gone ---- */

# if PERCPU_MD_RSEQ && defined(__x86_64__)
struct r_adder {
	void *h;
	atomic_int unregistered;
	atomic_int done;
};

static void *
r_add(void *arg)
{
	struct r_adder *a = arg;
	char *area = percpu_md_thread_pointer() + __rseq_offset;
	long r;

	/* What a thread has whose registration failed (seccomp without
	 * rseq after start-up) or that unregistered to register its own:
	 * the kernel leaves cpu_id_start 0 and cpu_id -1. */
	r = syscall(SYS_rseq, area, 32, 1 /* RSEQ_FLAG_UNREGISTER */,
	    PERCPU_MD_RSEQ_SIG);
	if (r != 0)
		r = syscall(SYS_rseq, area, __rseq_size, 1, PERCPU_MD_RSEQ_SIG);
	if (r != 0)
		return (NULL);
	atomic_store(&a->unregistered, 1);
	percpu_local_add64(a->h, 5);
	atomic_store(&a->done, 1);
	return (NULL);
}

/*
 * md.h: __rseq_size 0 or a thread whose registration failed must fall
 * back.  In a process with rseq on, a thread without a registration
 * (cpu_id < 0): percpu_local_add64()'s inline sequence aborts (cpu_id
 * never matches cpu_id_start), and percpu_priv_local_add_slow() retries
 * the same sequence on cpu_id_start (0) forever: rseq adds stay on and
 * the thread is not pinned, so nothing ends the loop.
 */
Test(waiters, an_add_in_a_thread_without_rseq_returns, .timeout = 120)
{
	struct r_adder a;
	percpu_t *pc;
	pthread_t th;
	void *h;

	percpu_init();
	if (strcmp(percpu_backend(), "rseq") != 0)
		cr_skip_test("backend %s", percpu_backend());
	pc = percpu_alloc(sizeof(uint64_t));
	h = pc->pc_base; /* the arena handle percpu_local_add64() takes */
	memset(&a, 0, sizeof(a));
	a.h = h;
	cr_assert_eq(pthread_create(&th, NULL, r_add, &a), 0);
	if (!review_wait_flag(&a.unregistered, 2000)) {
		(void)pthread_join(th, NULL);
		cr_skip_test("the kernel refused to unregister rseq");
	}
	cr_assert(review_wait_flag(&a.done, REVIEW_WAIT_MS),
	    "percpu_local_add64() never returned in a thread without rseq");
	cr_assert_eq(pthread_join(th, NULL), 0);
	{
		uint64_t sum = 0;
		unsigned u;

		/* rseq adds stopped for the process (atomics from now on),
		 * and every add is there. */
		cr_assert_str_eq(percpu_backend(), "getcpu");
		percpu_local_add64(h, 1);
		for (u = 0; u < percpu_ncpus(); u++)
			sum += percpu_load64(h, percpu_priv_g.ci[u].ci_index);
		cr_assert_eq(sum, 6);
	}
	percpu_free(pc, sizeof(uint64_t));
}
# endif

#endif /* PERCPU_MP && PERCPU_MD == PERCPU_MD_LINUX */
