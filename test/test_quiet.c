/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_quiet.c - the quiet sections of counters_add()
 * and counters_pkt() (percpu_priv_qenter()/percpu_priv_qleave(): the
 * restartable lock alone, no state stored).
 *
 * A signal cannot be made to land inside counters_pkt() on purpose from
 * C, so each test runs the quiet section's own steps (the real
 * percpu_priv_qenter(), cpumem_priv_open1(), cpumem_priv_add()) and raises
 * a signal between two of them, exactly where a signal may arrive in
 * counters_pkt().  x86-64 with the restartable lock only (elsewhere there
 * is no quiet section).
 */
#define _GNU_SOURCE
#include "harness.h"

#include "cpumem.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if PERCPU_MP && PERCPU_MD == PERCPU_MD_LINUX && defined(PERCPU_MD_RSEQ_LOCK)

/* The quiet section of the calling thread, on whatever CPU it runs on:
 * 0, or -1 if the process does not take section locks by sequence (no
 * rseq, membarrier refused, PERCPU_BACKEND=getcpu) or it never committed
 * in 20 s (the CPU always taken, preempted every time). */
static int
quiet_take(struct percpu_priv_pcpu **pc, size_t *off)
{
	uint64_t t0 = harness_now_ms();

	percpu_init();
	(void)percpu_priv_token(&PERCPU_PRIV_TD);
	if (percpu_md_rseq_llim == 0)
		return (-1);
	while (percpu_priv_qenter(pc, off) != 0) {
		if (harness_now_ms() - t0 > 20000)
			return (-1);
		(void)sched_yield();
	}
	return (0);
}

static unsigned
quiet_cpu(size_t off)
{
	return (percpu_priv_g.ci[off / PERCPU_PRIV_STRIDE].ci_index);
}

/* The highest possible CPU id. */
static unsigned
last_quiet_cpu(void)
{
	return (percpu_priv_g.ci[percpu_priv_g.ncpu - 1].ci_index);
}

static void
on_exit_signal(int sig)
{
	(void)sig;
	pthread_exit(NULL);
}

struct qdeath {
	struct cpumem *cm;
	int skipped;
	unsigned cpu;
};

/* counters_pkt(cm, 0, 1, 7) interrupted between its two adds by a
 * handler that ends the thread. */
static void *
pkt_victim(void *arg)
{
	struct qdeath *d = arg;
	struct percpu_priv_pcpu *pc;
	size_t off;
	uint64_t *g, gv;

	if (quiet_take(&pc, &off) != 0) {
		d->skipped = 1;
		return (NULL);
	}
	d->cpu = quiet_cpu(off);
	g = (uint64_t *)(void *)((char *)d->cm + off);
	gv = cpumem_priv_open1(g, 1);
	cpumem_priv_add(g + 1, 0, 1); /* the packet */
	(void)pthread_kill(pthread_self(), SIGUSR1);
	/* Not reached: the rest of counters_pkt(). */
	cpumem_priv_add(g + 1, 1, 7);
	cpumem_priv_close_asm(g, gv);
	percpu_priv_qleave(pc);
	return (NULL);
}

/*
 * core.h, DEAD OWNERS: "A thread that exits or is cancelled inside a
 * section is reported through the error handler ... its data may be
 * half-updated".  Before the quiet section a thread that ended inside
 * counters_pkt() (pthread_exit() from a handler, asynchronous cancel) was
 * reported; inside the quiet section it is released silently by the exit
 * handler's token scan, and the packet stays torn (1 packet, 0 bytes)
 * with no report.
 */
Test(quiet, a_thread_ending_inside_counters_pkt_is_reported, .timeout = 60)
{
	struct sigaction sa;
	struct qdeath d;
	pthread_t th;
	uint64_t c[2];
	char want[200];

	memset(&d, 0, sizeof(d));
	d.cm = counters_alloc(2);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_exit_signal;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	harness_capture_errors();
	cr_assert_eq(pthread_create(&th, NULL, pkt_victim, &d), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGUSR1, &sa, NULL);
	if (d.skipped)
		cr_skip_test("no restartable section lock in this process");
	counters_read(d.cm, c, 2, NULL);
	cr_assert_eq(c[0], 1);
	cr_assert_eq(c[1], 0, "the torn packet");
	(void)snprintf(want, sizeof(want),
	    "thread exited inside a section on CPU %u; the CPU is "
	    "released, its data may be half-updated",
	    d.cpu);
	cr_assert_eq(harness_errors(), 1,
	    "a thread that ended inside counters_pkt() (CPU %u) was not "
	    "reported",
	    d.cpu);
	cr_assert_str_eq(harness_last_error(), want);
	counters_free(d.cm, 2);
}

/* ---- counters_read_cpu() from a handler inside counters_add() ---- */

static struct cpumem *rd_cm;
static unsigned rd_cpu;
static uint64_t rd_out[2];
static volatile sig_atomic_t rd_done;

static void
on_read_signal(int sig)
{
	(void)sig;
	(void)counters_read_cpu(rd_cm, rd_cpu, rd_out, 2);
	rd_done = 1;
}

/*
 * counters_read_cpu(): "Context: any" (cpumem.h, CONTEXT).  A handler
 * that reads the counters of a CPU whose set its own interrupted
 * counters_add() holds open waits for the generation to become even; the
 * only writer is the code it interrupted, which cannot run: the handler
 * never returns.  (Not new with the quiet section, which a full section
 * of counters_add() had too, but every counters_add() is now one.)  Run
 * with a generous bound: on HEAD the test hangs until the timeout.
 */
Test(quiet, counters_read_cpu_from_a_handler_inside_counters_add, .timeout = 30)
{
	struct sigaction sa;
	struct percpu_priv_pcpu *pc;
	size_t off;
	uint64_t *g, gv;

	rd_cm = counters_alloc(2);
	rd_done = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_read_signal;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGUSR2, &sa, NULL), 0);
	harness_capture_errors();
	if (quiet_take(&pc, &off) != 0)
		cr_skip_test("no restartable section lock in this process");
	rd_cpu = quiet_cpu(off);
	/* counters_add(rd_cm, 0, 3), interrupted after its add. */
	g = (uint64_t *)(void *)((char *)rd_cm + off);
	gv = cpumem_priv_open1(g, 1);
	cpumem_priv_add(g + 1, 0, 3);
	(void)pthread_kill(pthread_self(), SIGUSR2);
	cpumem_priv_close_asm(g, gv);
	percpu_priv_qleave(pc);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGUSR2, &sa, NULL);
	cr_assert_eq(rd_done, 1, "the handler returned");
	cr_assert_eq(rd_out[1], 0);
	counters_free(rd_cm, 2);
}

/* ---- percpu_enter_cpu() from a handler inside counters_add() ---- */

static unsigned ec_other;
static unsigned ec_got;
static atomic_int ec_held, ec_release;

static void
on_enter_cpu_signal(int sig)
{
	(void)sig;
	ec_got = percpu_enter_cpu(ec_other);
	if (ec_got != PERCPU_NOCPU)
		percpu_leave();
}

static void *
ec_holder(void *arg)
{
	(void)arg;
	if (percpu_enter_cpu(ec_other) != ec_other)
		return (NULL);
	atomic_store(&ec_held, 1);
	while (!atomic_load(&ec_release))
		(void)sched_yield();
	percpu_leave();
	return (NULL);
}

/*
 * percpu_enter_cpu(): "A signal handler whose thread was inside
 * percpu_enter() or percpu_leave() [or counters_add(), counters_pkt():
 * a quiet section] counts as inside that section: detected when it would
 * wait".  A handler that interrupted counters_add() on one CPU and waits
 * for another CPU, held by a thread that may be waiting for ours (ABBA),
 * must be told it is in a section, not wait forever.
 */
Test(quiet, enter_cpu_from_a_handler_inside_counters_add_is_detected,
    .timeout = 60)
{
	struct sigaction sa;
	struct percpu_priv_pcpu *pc;
	pthread_t th;
	size_t off;
	unsigned cpu;
	char want[200];

	if (percpu_ncpus() < 2)
		cr_skip_test("one possible CPU: no other CPU to wait for");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_enter_cpu_signal;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGUSR2, &sa, NULL), 0);
	harness_capture_errors();
	atomic_store(&ec_held, 0);
	atomic_store(&ec_release, 0);
	if (quiet_take(&pc, &off) != 0)
		cr_skip_test("no restartable section lock in this process");
	cpu = quiet_cpu(off);
	ec_other =
	    cpu == percpu_cpu_first() ? last_quiet_cpu() : percpu_cpu_first();
	cr_assert_eq(pthread_create(&th, NULL, ec_holder, NULL), 0);
	while (!atomic_load(&ec_held))
		(void)sched_yield();
	ec_got = 0;
	(void)pthread_kill(pthread_self(), SIGUSR2);
	percpu_priv_qleave(pc);
	atomic_store(&ec_release, 1);
	cr_assert_eq(pthread_join(th, NULL), 0);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGUSR2, &sa, NULL);
	cr_assert_eq(ec_got, PERCPU_NOCPU);
	(void)snprintf(want, sizeof(want),
	    "percpu_enter_cpu: already in a section on CPU %u", cpu);
	cr_assert_eq(harness_errors(), 1, "%s", harness_last_error());
	cr_assert_str_eq(harness_last_error(), want);
	cr_assert_eq(atomic_load(&pc->owner), 0);
}

#else
/* No quiet section in this build. */
typedef int test_quiet_none;
#endif

#if PERCPU_MP && PERCPU_MD_HOSTED
/* ---- fork() while another thread reads counters ---- */

static struct cpumem *fk_cm;
static atomic_int fk_stop;
static atomic_ulong fk_reads;

static void *
fk_reader(void *arg)
{
	uint64_t c[2];

	(void)arg;
	while (!atomic_load(&fk_stop)) {
		counters_read(fk_cm, c, 2, NULL); /* PERCPU_MALLOC'ed scratch */
		atomic_fetch_add(&fk_reads, 1);
	}
	return (NULL);
}

/* Wait for child @pid at most @secs seconds: its exit status, 100 +
 * signal, or 99 (killed: it hung). */
static int
fk_wait(pid_t pid, int secs)
{
	int status, i;

	for (i = 0; i < secs * 100; i++) {
		struct timespec ts = {0, 10000000L};

		if (waitpid(pid, &status, WNOHANG) == pid)
			return (WIFEXITED(status) ? WEXITSTATUS(status) :
						    100 + WTERMSIG(status));
		(void)nanosleep(&ts, NULL);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	return (99);
}

/*
 * core.h, FORK: "A fork child starts from consistent per-CPU data".  The
 * prepare handler takes every CPU and the arena lock, but not the lock of
 * the recently-freed ring (percpu/impl_diag.h, percpu_priv_freed_lock()),
 * which percpu_priv_malloc() takes at every call (percpu_priv_freed_forget)
 * and so every counters_read() with a NULL scratch.  A child forked while
 * another thread holds it spins in its first counters_read() for good.
 * (Not from the quiet-section commits: found by their fork stress.)  The
 * child of each fork reads the counters once; a correct implementation
 * never hangs there, whatever the interleaving.
 */
Test(quiet, a_fork_child_reads_counters_while_another_thread_reads,
    .timeout = 120)
{
	pthread_t th;
	unsigned i;
	int rc = 0;

	fk_cm = counters_alloc(2);
	counters_pkt(fk_cm, 0, 1, 7);
	atomic_store(&fk_stop, 0);
	atomic_store(&fk_reads, 0);
	cr_assert_eq(pthread_create(&th, NULL, fk_reader, NULL), 0);
	while (atomic_load(&fk_reads) < 1000)
		(void)sched_yield();
	for (i = 0; i < 100 && rc == 0; i++) {
		pid_t pid = fork();

		cr_assert_neq(pid, -1);
		if (pid == 0) {
			uint64_t c[2];

			counters_read(fk_cm, c, 2, NULL);
			_exit(c[0] == 1 && c[1] == 7 ? 0 : 1);
		}
		rc = fk_wait(pid, 20);
	}
	atomic_store(&fk_stop, 1);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(rc, 0, "fork %u: the child %s", i,
	    rc == 99 ? "hung in counters_read()" : "failed");
	counters_free(fk_cm, 2);
}
#endif /* PERCPU_MP && PERCPU_MD_HOSTED */
