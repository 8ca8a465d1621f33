/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * torture.c - the torture suite (make torture, make soak), in the style
 * of librseq's param_test and Linux's rseq selftests.
 *
 *   torture [-t SECONDS] [-l LABEL] [-w BACKEND] [-p PLUGIN.so] [-o NAME]
 *
 * Runs every scenario below for SECONDS each (default 1; the environment
 * variable TORTURE_TIME overrides it: make soak), each in a process of
 * its own (a crash or a hang is that scenario's failure, reported, and
 * the next one runs).  LABEL names the run in the report ("rseq",
 * "getcpu", "rseq-off", "sim"); BACKEND is the backend the run must have:
 * where the process gets another one (no rseq under qemu-user or with
 * GLIBC_TUNABLES=glibc.pthread.rseq=0), its scenarios skip with a line
 * saying why.  -o runs one scenario.
 *
 * Scenarios (each checks exact totals and owner stamps, and reports
 * operations per second):
 *   stress     4 threads per CPU: counter(9) adds, percpu(9) sections
 *              with owner stamps, counters_pkt(); random yields and
 *              delays; a thread that keeps moving the others
 *              (sched_setaffinity on Linux, forced migrations on the
 *              simulated port); a thread that keeps signalling them, and
 *              handlers that add and enter sections.
 *   stress32   the same with 32 threads per CPU.
 *   narrowed   the stress load on a CPU table narrowed to one CPU (the
 *              test hook PERCPU_TEST_CPUS, or the simulated CPU list):
 *              every other CPU's id is foreign and folded; with rseq,
 *              the table holds the CPU the process started on and rseq
 *              adds stop under load.  Guard bytes after chunk 0.
 *   plugin     a shared object with the toolkit inside, loaded, used by
 *              several threads, unloaded, 20 times (or for SECONDS when
 *              soaking, up to 1000 times); the threads keep running after
 *              each dlclose(), and exit after the last one.
 *   cancel     the stress load while threads are cancelled and
 *              replaced: most at cancellation points between operations,
 *              one in four at one inside a percpu(9) section (its cleanup
 *              handler clears its owner stamp): each of those is reported
 *              once ("thread exited inside a section on CPU n...") and
 *              its CPU released, never a wedge.
 *   fork       the stress load while the main thread forks: each child
 *              checks that its copy is consistent and works.
 *
 * The last line is "torture: N passed, N failed" (skips count as
 * neither; test/run.sh adds the counts to make test's tally).
 */
#define _GNU_SOURCE
#define PERCPU_IMPLEMENTATION
#include "counter.h"
#include "cpumem.h"
#include "percpu.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINUX (PERCPU_MD == PERCPU_MD_LINUX)
#define SIM (PERCPU_MD == PERCPU_MD_SIM)

#define SKIP 77

static double opt_secs = 1.0;
static const char *opt_label = "default";
static const char *opt_want;
static const char *opt_plugin;

/* ---- Helpers ---- */

static double
now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
}

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return (*s);
}

/* The scenario's verdict: a failed check ends the process (status 1). */
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vprintf(fmt, ap);
	va_end(ap);
	(void)printf("\n");
	(void)fflush(stdout);
	_exit(1);
}

static void
skip(const char *why)
{
	(void)printf("%s\n", why);
	(void)fflush(stdout);
	_exit(SKIP);
}

/* Skip unless the process got the backend this run is for. */
static void
want_backend(void)
{
	const char *b = percpu_backend();
	char why[160];

	if (opt_want == NULL || strcmp(b, opt_want) == 0)
		return;
	(void)snprintf(why, sizeof(why),
	    "backend %s here, not %s (no rseq registered by glibc: "
	    "qemu-user, an old kernel or glibc.pthread.rseq=0)",
	    b, opt_want);
	skip(why);
}

/* The CPUs of the affinity mask. */
static unsigned
online_cpus(unsigned *ids, unsigned cap)
{
	unsigned n = 0;
#if LINUX
	cpu_set_t set;
	unsigned id;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (id = 0; id < CPU_SETSIZE && n < cap; id++)
			if (CPU_ISSET(id, &set))
				ids[n++] = id;
#else
	unsigned cpu;

	PERCPU_FOREACH_CPU(cpu)
		if (n < cap)
			ids[n++] = cpu;
#endif
	if (n == 0)
		ids[n++] = 0;
	return (n);
}

/* ---- The world every stress scenario works on ---- */

struct slot {
	uint64_t count;
	uintptr_t owner; /* owner stamp: 0, or the thread inside */
};

struct worker {
	pthread_t t;
	pid_t tid;
	unsigned index;
	int insec; /* cancellable only inside a section (cancel scenario) */
	atomic_int live;
	/* Published after each operation, before any cancellation point. */
	atomic_ullong adds, sections, pkts;
};

#define MAXW 512

static struct {
	counter_u64_t ctr;   /* counter(9): threads and handlers */
	percpu_t *pc;	     /* struct slot: threads, with owner stamps */
	percpu_t *hpc;	     /* uint64_t: handlers' sections */
	struct cpumem *cs;   /* counters: threads' counters_pkt */
	struct cpumem *hcs;  /* counters: handlers' counters_pkt */
	atomic_int stop;     /* workers stop */
	atomic_int stop_aux; /* mover and signaller stop */
	atomic_ullong h_ops; /* handler runs (each: add, section, pkt) */
	atomic_ullong bad;   /* owner stamps found broken */
	atomic_ullong gone_adds, gone_sections, gone_pkts; /* cancelled */
	struct worker w[MAXW];
	unsigned n;
	unsigned ncpu, cpus[256];
	int cancellable;
} W;

static void
on_usr1(int sig)
{
	uint64_t *p;
	int e = errno;

	(void)sig;
	counter_u64_add(W.ctr, 1);
	p = percpu_getref(W.hpc);
	(*p)++;
	percpu_putref(W.hpc);
	counters_pkt(W.hcs, 0, 1, 10);
	atomic_fetch_add_explicit(&W.h_ops, 1, memory_order_relaxed);
	errno = e;
}

static void
spin(unsigned n)
{
	volatile unsigned i;

	for (i = 0; i < n; i++)
		;
}

/* Random yields and delays (no cancellation point: a thread must never
 * be cancelled inside a section here). */
static void
jiggle(uint32_t *seed)
{
	uint32_t r = rnd(seed) % 64;

	if (r == 0)
		(void)sched_yield();
	else if (r < 8)
		spin(r * 50);
}

/* Cleanup of a thread cancelled inside a section: its stamp goes. */
static void
unstamp(void *arg)
{
	((struct slot *)arg)->owner = 0;
}

/* A cancellation point inside the section @s (insec workers). */
static void
cancel_point_inside(struct slot *s)
{
	struct timespec ts = {0, 1000};

	pthread_cleanup_push(unstamp, s);
	(void)pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	(void)nanosleep(&ts, NULL);
	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cleanup_pop(0);
}

static void *
worker_main(void *arg)
{
	struct worker *me = arg;
	uint32_t seed = me->index * 2654435761u + 17;
	uintptr_t stamp = (uintptr_t)me;
	unsigned i = 0;

	me->tid = (pid_t)syscall(SYS_gettid);
	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	while (!atomic_load_explicit(&W.stop, memory_order_relaxed)) {
		struct slot *s;

		counter_u64_add(W.ctr, 1);
		atomic_fetch_add_explicit(&me->adds, 1, memory_order_relaxed);

		s = percpu_getref(W.pc);
		if (s->owner != 0)
			atomic_fetch_add(&W.bad, 1);
		s->owner = stamp;
		if (me->insec && (i & 7) == 0)
			cancel_point_inside(s);
		jiggle(&seed);
		if (s->owner != stamp)
			atomic_fetch_add(&W.bad, 1);
		s->owner = 0;
		s->count++;
		percpu_putref(W.pc);
		atomic_fetch_add_explicit(&me->sections, 1,
		    memory_order_relaxed);

		counters_pkt(W.cs, 0, 1, 100);
		atomic_fetch_add_explicit(&me->pkts, 1, memory_order_relaxed);
		if (me->insec)
			i++;
#if SIM
		if (rnd(&seed) % 256 == 0)
			percpu_sim_migrate(W.cpus[rnd(&seed) % W.ncpu]);
#endif
		if (W.cancellable && !me->insec && (++i & 63) == 0) {
			(void)pthread_setcancelstate(PTHREAD_CANCEL_ENABLE,
			    NULL);
			pthread_testcancel();
			(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE,
			    NULL);
		}
		if (rnd(&seed) % 4096 == 0) {
			struct timespec ts = {0, 20000};

			(void)nanosleep(&ts, NULL); /* outside any section */
		}
	}
	return (NULL);
}

/* Keeps moving the workers: real affinity changes (Linux), chaos (sim). */
static void *
mover_main(void *arg)
{
	uint32_t seed = 99;

	(void)arg;
	while (!atomic_load(&W.stop_aux)) {
#if LINUX
		struct worker *w = &W.w[rnd(&seed) % W.n];
		cpu_set_t set;
		unsigned k;

		CPU_ZERO(&set);
		for (k = 0; k < W.ncpu; k++)
			if (rnd(&seed) & 1)
				CPU_SET(W.cpus[k], &set);
		if (CPU_COUNT(&set) == 0)
			CPU_SET(W.cpus[rnd(&seed) % W.ncpu], &set);
		if (w->tid != 0 && atomic_load(&w->live))
			(void)sched_setaffinity(w->tid, sizeof(set), &set);
#elif SIM
		percpu_sim_chaos((int)(rnd(&seed) & 1));
#endif
		{
			struct timespec ts = {0, 100000};

			(void)nanosleep(&ts, NULL);
		}
	}
#if SIM
	percpu_sim_chaos(0);
#endif
	return (NULL);
}

/* Keeps signalling the workers; their handlers add and enter sections. */
static void *
signaller_main(void *arg)
{
	uint32_t seed = 7;

	(void)arg;
	while (!atomic_load(&W.stop_aux)) {
		struct worker *w = &W.w[rnd(&seed) % W.n];
		struct timespec ts = {0, 50000};

		if (atomic_load(&w->live))
			(void)pthread_kill(w->t, SIGUSR1);
		(void)nanosleep(&ts, NULL);
	}
	return (NULL);
}

static void
world_init(unsigned per_cpu)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	(void)sigaction(SIGUSR1, &sa, NULL);
	W.ctr = counter_u64_alloc(M_WAITOK);
	W.pc = percpu_alloc(sizeof(struct slot));
	W.hpc = percpu_alloc(sizeof(uint64_t));
	W.cs = counters_alloc(2);
	W.hcs = counters_alloc(2);
	W.ncpu = online_cpus(W.cpus, 256);
	W.n = per_cpu * W.ncpu;
	if (W.n > MAXW)
		W.n = MAXW;
}

static void
worker_start(struct worker *w, unsigned index)
{
	w->index = index;
	w->insec = W.cancellable && index % 4 == 0;
	w->tid = 0;
	atomic_store(&w->adds, 0);
	atomic_store(&w->sections, 0);
	atomic_store(&w->pkts, 0);
	atomic_store(&w->live, 1);
	if (pthread_create(&w->t, NULL, worker_main, w) != 0)
		fail("pthread_create: %s", strerror(errno));
}

/* Retire a worker's counts (joined, or cancelled and joined). */
static void
worker_retire(struct worker *w)
{
	atomic_store(&w->live, 0);
	(void)pthread_join(w->t, NULL);
	atomic_fetch_add(&W.gone_adds, atomic_load(&w->adds));
	atomic_fetch_add(&W.gone_sections, atomic_load(&w->sections));
	atomic_fetch_add(&W.gone_pkts, atomic_load(&w->pkts));
}

static pthread_t mover, signaller;

static void
world_start(void)
{
	unsigned i;

	for (i = 0; i < W.n; i++)
		worker_start(&W.w[i], i);
	(void)pthread_create(&mover, NULL, mover_main, NULL);
	(void)pthread_create(&signaller, NULL, signaller_main, NULL);
}

static void
slot_sum(void *p, void *arg, struct cpu_info *ci)
{
	const struct slot *s = p;
	uint64_t *acc = arg;

	(void)ci;
	acc[0] += s->count;
	if (s->owner != 0)
		acc[1]++;
}

static void
u64_sum(void *p, void *arg, struct cpu_info *ci)
{
	(void)ci;
	*(uint64_t *)arg += *(uint64_t *)p;
}

/* Stop everything, check every total exactly; return the operations. */
static uint64_t
world_stop_and_check(void)
{
	uint64_t adds, sections, pkts, h, acc[2] = {0, 0}, hsec = 0;
	uint64_t c[2], hc[2];
	unsigned i;

	atomic_store(&W.stop_aux, 1);
	(void)pthread_join(mover, NULL);
	(void)pthread_join(signaller, NULL);
	atomic_store(&W.stop, 1);
	for (i = 0; i < W.n; i++)
		worker_retire(&W.w[i]);
	adds = atomic_load(&W.gone_adds);
	sections = atomic_load(&W.gone_sections);
	pkts = atomic_load(&W.gone_pkts);
	h = atomic_load(&W.h_ops);
	if (counter_u64_fetch(W.ctr) != adds + h)
		fail("counter(9) total %llu, want %llu (threads %llu + "
		     "handlers %llu)",
		    (unsigned long long)counter_u64_fetch(W.ctr),
		    (unsigned long long)(adds + h), (unsigned long long)adds,
		    (unsigned long long)h);
	percpu_foreach(W.pc, slot_sum, acc);
	if (acc[0] != sections)
		fail("percpu(9) sections total %llu, want %llu",
		    (unsigned long long)acc[0], (unsigned long long)sections);
	if (acc[1] != 0 || atomic_load(&W.bad) != 0)
		fail("owner stamps: %llu left set, %llu broken",
		    (unsigned long long)acc[1],
		    (unsigned long long)atomic_load(&W.bad));
	percpu_foreach(W.hpc, u64_sum, &hsec);
	if (hsec != h)
		fail("handlers' sections total %llu, want %llu",
		    (unsigned long long)hsec, (unsigned long long)h);
	counters_read(W.cs, c, 2, NULL);
	counters_read(W.hcs, hc, 2, NULL);
	if (c[0] != pkts || c[1] != pkts * 100)
		fail("counters_pkt totals %llu/%llu, want %llu/%llu",
		    (unsigned long long)c[0], (unsigned long long)c[1],
		    (unsigned long long)pkts, (unsigned long long)(pkts * 100));
	if (hc[0] != h || hc[1] != h * 10)
		fail("handlers' counters_pkt totals %llu/%llu, want %llu/%llu",
		    (unsigned long long)hc[0], (unsigned long long)hc[1],
		    (unsigned long long)h, (unsigned long long)(h * 10));
	return (3 * (adds + h));
}

static void
report(uint64_t ops, double secs, const char *extra)
{
	(void)printf("%llu ops, %.2f Mops/s, %u threads on %u CPUs, "
		     "backend %s%s",
	    (unsigned long long)ops, (double)ops / secs / 1e6, W.n, W.ncpu,
	    percpu_backend(), extra);
	(void)fflush(stdout);
}

/* ---- Scenarios ---- */

static void
run_stress(unsigned per_cpu)
{
	double t0, secs;
	uint64_t ops;

	want_backend();
	world_init(per_cpu);
	t0 = now();
	world_start();
	while (now() - t0 < opt_secs) {
		struct timespec ts = {0, 10000000};

		(void)nanosleep(&ts, NULL);
	}
	ops = world_stop_and_check();
	secs = now() - t0;
	report(ops, secs, "");
}

static void
sc_stress(void)
{
	run_stress(4);
}

static void
sc_stress32(void)
{
	run_stress(32);
}

#if LINUX
/* Chunk memory with guard bytes after it (the narrowed table's check). */
static unsigned char *guard_chunk;
static size_t guard_len, guard_size;

static void *
guard_map(size_t len, void *ctx)
{
	unsigned char *p;

	(void)ctx;
	p = mmap(NULL, len + guard_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return (NULL);
	memset(p + len, 0xa5, guard_size);
	if (guard_chunk == NULL) {
		guard_chunk = p;
		guard_len = len;
	}
	return (p);
}
#endif

static void
sc_narrowed(void)
{
	double t0;
	uint64_t ops;

#if LINUX
	{
		unsigned ids[256], n = online_cpus(ids, 256);
		char list[16];

		static const struct percpu_chunk_provider prov = {guard_map,
		    NULL, NULL};
		cpu_set_t one, all;
		size_t i;

		if (n < 2)
			skip("one CPU in the affinity mask: nothing is "
			     "foreign");
		(void)snprintf(list, sizeof(list), "%u", ids[0]);
		(void)setenv("PERCPU_TEST_CPUS", list, 1);
		guard_size = (size_t)(ids[n - 1] + 2) * PERCPU_UNIT_SIZE;
		(void)percpu_set_chunk_provider(&prov);
		/* Start on the table's CPU (rseq may be chosen), then let
		 * the threads run everywhere: rseq adds stop under load. */
		(void)sched_getaffinity(0, sizeof(all), &all);
		CPU_ZERO(&one);
		CPU_SET(ids[0], &one);
		(void)sched_setaffinity(0, sizeof(one), &one);
		want_backend();
		(void)sched_setaffinity(0, sizeof(all), &all);
		if (percpu_ncpus() != 1)
			fail("table of %u CPUs, want 1", percpu_ncpus());
		world_init(4);
		t0 = now();
		world_start();
		while (now() - t0 < opt_secs) {
			struct timespec ts = {0, 10000000};

			(void)nanosleep(&ts, NULL);
		}
		ops = world_stop_and_check();
		for (i = 0; i < guard_size; i++)
			if (guard_chunk[guard_len + i] != 0xa5)
				fail("guard byte %zu after chunk 0 written", i);
		report(ops, now() - t0,
		    opt_want != NULL && strcmp(opt_want, "rseq") == 0 ?
			" (rseq adds stopped)" :
			"");
		if (opt_want != NULL && strcmp(opt_want, "rseq") == 0 &&
		    strcmp(percpu_backend(), "getcpu") != 0)
			fail("rseq adds not stopped by a foreign CPU");
	}
#else
	if (percpu_sim_set_cpus("0") != 0)
		fail("percpu_sim_set_cpus: the table existed already");
	want_backend();
	world_init(4);
	W.n = 16;
	W.ncpu = 4; /* migrate among CPUs 0..3: all but one foreign */
	W.cpus[0] = 0, W.cpus[1] = 1, W.cpus[2] = 2, W.cpus[3] = 3;
	t0 = now();
	world_start();
	while (now() - t0 < opt_secs) {
		struct timespec ts = {0, 10000000};

		(void)nanosleep(&ts, NULL);
	}
	ops = world_stop_and_check();
	report(ops, now() - t0, "");
#endif
}

/* The toolkit's reports (cancel scenario): the expected one, counted. */
static atomic_ullong exit_reports, other_reports;

static void
on_report(const char *msg)
{
	static const char want[] = "thread exited inside a section on CPU ";
	static const char tail[] =
	    "; the CPU is released, its data may be half-updated";
	size_t n = strlen(msg), k = sizeof(want) - 1, t = sizeof(tail) - 1;

	if (n > k + t && strncmp(msg, want, k) == 0 &&
	    strcmp(msg + n - t, tail) == 0)
		atomic_fetch_add(&exit_reports, 1);
	else {
		atomic_fetch_add(&other_reports, 1);
		(void)printf("unexpected report: %s; ", msg);
	}
}

static void
sc_cancel(void)
{
	double t0;
	uint64_t ops, cancelled = 0, inside = 0;
	uint32_t seed = 3;

	want_backend();
	(void)percpu_set_error_handler(on_report);
	world_init(4);
	W.cancellable = 1;
	t0 = now();
	world_start();
	while (now() - t0 < opt_secs) {
		struct worker *w = &W.w[rnd(&seed) % W.n];
		struct timespec ts = {0, 5000000};

		(void)nanosleep(&ts, NULL);
		atomic_store(&w->live, 0);
		inside += w->insec != 0;
		(void)pthread_cancel(w->t);
		(void)pthread_join(w->t, NULL);
		atomic_fetch_add(&W.gone_adds, atomic_load(&w->adds));
		atomic_fetch_add(&W.gone_sections, atomic_load(&w->sections));
		atomic_fetch_add(&W.gone_pkts, atomic_load(&w->pkts));
		worker_start(w, w->index + W.n);
		cancelled++;
	}
	ops = world_stop_and_check();
	if (atomic_load(&exit_reports) != inside ||
	    atomic_load(&other_reports) != 0)
		fail("%llu threads cancelled inside a section, %llu reported; "
		     "%llu other reports",
		    (unsigned long long)inside,
		    (unsigned long long)atomic_load(&exit_reports),
		    (unsigned long long)atomic_load(&other_reports));
	{
		char extra[96];

		(void)snprintf(extra, sizeof(extra),
		    ", %llu cancelled (%llu inside a section)",
		    (unsigned long long)cancelled, (unsigned long long)inside);
		report(ops, now() - t0, extra);
	}
}

/* A forked child: its copy is consistent and works. */
static int
fork_child_check(void)
{
	uint64_t before, acc[2] = {0, 0}, c[2];
	struct slot *s;

	alarm(20); /* a hang is a failure (SIGALRM kills) */
	before = counter_u64_fetch(W.ctr);
	counter_u64_add(W.ctr, 1);
	if (counter_u64_fetch(W.ctr) != before + 1)
		return (1);
	percpu_foreach(W.pc, slot_sum, acc);
	if (acc[1] != 0)
		return (2); /* a section half-done in the child */
	s = percpu_getref(W.pc);
	s->count++;
	percpu_putref(W.pc);
	counters_read(W.cs, c, 2, NULL);
	counters_pkt(W.cs, 0, 1, 100);
	return (0);
}

static void
sc_fork(void)
{
	double t0;
	uint64_t ops, forks = 0;

	want_backend();
	world_init(4);
	t0 = now();
	world_start();
	while (now() - t0 < opt_secs) {
		struct timespec ts = {0, 20000000};
		int st;
		pid_t pid;

		(void)nanosleep(&ts, NULL);
		pid = fork();
		if (pid == 0)
			_exit(fork_child_check());
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			fail("fork/waitpid: %s", strerror(errno));
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail("forked child: %s %d",
			    WIFEXITED(st) ? "check" : "signal",
			    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		forks++;
	}
	ops = world_stop_and_check();
	{
		char extra[64];

		(void)snprintf(extra, sizeof(extra), ", %llu forks",
		    (unsigned long long)forks);
		report(ops, now() - t0, extra);
	}
}

/* ---- Plugin: load, use from several threads, unload, repeat ---- */

static struct {
	void (*add)(uint64_t);
	uint64_t (*total)(void);
	atomic_uint round; /* threads add once per round */
	atomic_uint done;
	atomic_int stop;
} P;

#define PLUGIN_ADDS 2000

static void *
plugin_thread(void *arg)
{
	unsigned r = 0;

	(void)arg;
	for (;;) {
		/* Busy wait: no system call between the last add and the
		 * unload, so the kernel's next look at rseq_cs comes at a
		 * preemption with the object gone. */
		while (atomic_load(&P.round) == r && !atomic_load(&P.stop))
			spin(100);
		if (atomic_load(&P.stop))
			return (NULL);
		r = atomic_load(&P.round);
		P.add(PLUGIN_ADDS);
		atomic_fetch_add(&P.done, 1);
	}
}

static void
sc_plugin(void)
{
	pthread_t t[64];
	unsigned ids[256], nt, i, rounds = 0, min_rounds = 20;
	double t0 = now();
	char extra[96];
	uint64_t ops = 0;

	if (opt_plugin == NULL)
		skip("no plugin given (-p)");
	nt = 2 * online_cpus(ids, 256);
	if (nt < 4)
		nt = 4;
	if (nt > 64)
		nt = 64;
	W.n = nt;
	W.ncpu = online_cpus(W.cpus, 256);
	for (i = 0; i < nt; i++)
		if (pthread_create(&t[i], NULL, plugin_thread, NULL) != 0)
			fail("pthread_create");
	/* At most 1000 rounds: an unloaded object's arena stays reserved
	 * (a few pages each), so a soak must not grow without bound. */
	while (
	    rounds < min_rounds || (now() - t0 < opt_secs && rounds < 1000)) {
		void *h = dlopen(opt_plugin, RTLD_NOW | RTLD_LOCAL);
		const char *(*backend)(void);
		uint64_t want;
		double until;

		if (h == NULL)
			fail("dlopen: %s", dlerror());
		*(void **)&P.add = dlsym(h, "plugin_add");
		*(void **)&P.total = dlsym(h, "plugin_total");
		*(void **)&backend = dlsym(h, "plugin_backend");
		if (P.add == NULL || P.total == NULL || backend == NULL)
			fail("dlsym: %s", dlerror());
		if (opt_want != NULL && strcmp(backend(), opt_want) != 0) {
			(void)snprintf(extra, sizeof(extra),
			    "the plugin's backend is %s here, not %s",
			    backend(), opt_want);
			skip(extra);
		}
		P.add(1); /* objects made by one thread */
		atomic_store(&P.done, 0);
		atomic_fetch_add(&P.round, 1);
		while (atomic_load(&P.done) != nt)
			spin(100);
		P.add(PLUGIN_ADDS); /* the unloading thread used it last */
		want = 1 + (uint64_t)(nt + 1) * PLUGIN_ADDS;
		if (P.total() != want)
			fail("round %u: plugin total %llu, want %llu", rounds,
			    (unsigned long long)P.total(),
			    (unsigned long long)want);
		ops += 2 * want;
		if (dlclose(h) != 0)
			fail("dlclose: %s", dlerror());
		if (dlopen(opt_plugin, RTLD_NOW | RTLD_NOLOAD) != NULL)
			fail("the plugin stayed mapped after dlclose()");
		/* Keep everyone running without the object: preemptions
		 * come (several threads per CPU). */
		until = now() + 0.02;
		while (now() < until)
			spin(1000);
		rounds++;
	}
	atomic_store(&P.stop, 1);
	for (i = 0; i < nt; i++)
		(void)pthread_join(t[i], NULL);
	(void)snprintf(extra, sizeof(extra), ", %u load/unload rounds", rounds);
	(void)printf("%llu ops, %.2f Mops/s, %u threads on %u CPUs%s",
	    (unsigned long long)ops, (double)ops / (now() - t0) / 1e6, nt,
	    W.ncpu, extra);
	(void)fflush(stdout);
}

/* ---- Runner ---- */

static const struct scenario {
	const char *name;
	void (*fn)(void);
} scenarios[] = {
    {"stress", sc_stress},
    {"stress32", sc_stress32},
    {"narrowed", sc_narrowed},
    {"plugin", sc_plugin},
    {"cancel", sc_cancel},
    {"fork", sc_fork},
};

/* Run one scenario in a child; print its line; 0 pass, 1 fail, 2 skip. */
static int
run_one(const struct scenario *sc)
{
	char out[4096];
	size_t len = 0;
	int fds[2], st = 0;
	double limit = 4 * opt_secs + 120, t0 = now();
	pid_t pid;

	(void)fflush(stdout);
	if (pipe(fds) != 0)
		return (1);
	pid = fork();
	if (pid == 0) {
		(void)close(fds[0]);
		(void)dup2(fds[1], 1);
		sc->fn();
		(void)fflush(stdout);
		_exit(0);
	}
	(void)close(fds[1]);
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		if (now() - t0 > limit) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &st, 0);
			(void)snprintf(out, sizeof(out),
			    "hung: killed after %.0f s", limit);
			len = strlen(out);
			st = -1;
			break;
		}
		{
			struct timespec ts = {0, 20000000};

			(void)nanosleep(&ts, NULL);
		}
	}
	if (st != -1) {
		ssize_t k;

		while (len < sizeof(out) - 1 &&
		    (k = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
			len += (size_t)k;
	}
	(void)close(fds[0]);
	out[len] = '\0';
	while (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		(void)printf("ok     %s/%s: %s\n", opt_label, sc->name, out);
		return (0);
	}
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == SKIP) {
		(void)printf("skip   %s/%s: %s\n", opt_label, sc->name, out);
		return (2);
	}
	if (st != -1 && WIFSIGNALED(st))
		(void)printf("FAIL   %s/%s: killed by signal %d (%s) %s\n",
		    opt_label, sc->name, WTERMSIG(st), strsignal(WTERMSIG(st)),
		    out);
	else
		(void)printf("FAIL   %s/%s: %s\n", opt_label, sc->name, out);
	return (1);
}

int
main(int argc, char **argv)
{
	const char *only = NULL, *env = getenv("TORTURE_TIME");
	unsigned i, pass = 0, failed = 0, skipped = 0;
	int c;

	while ((c = getopt(argc, argv, "t:l:w:p:o:")) != -1) {
		switch (c) {
		case 't':
			opt_secs = atof(optarg);
			break;
		case 'l':
			opt_label = optarg;
			break;
		case 'w':
			opt_want = optarg;
			break;
		case 'p':
			opt_plugin = optarg;
			break;
		case 'o':
			only = optarg;
			break;
		default:
			(void)fprintf(stderr,
			    "usage: torture [-t s] [-l label] [-w backend] "
			    "[-p plugin.so] [-o scenario]\n");
			return (2);
		}
	}
	if (env != NULL && atof(env) > 0)
		opt_secs = atof(env);
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (only != NULL && strcmp(only, scenarios[i].name) != 0)
			continue;
		switch (run_one(&scenarios[i])) {
		case 0:
			pass++;
			break;
		case 2:
			skipped++;
			break;
		default:
			failed++;
		}
	}
	(void)printf("torture %s: %u passed, %u failed, %u skipped\n",
	    opt_label, pass, failed, skipped);
	return (failed != 0);
}
