/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shim.c - benchmark loops, compiled as C11 (see shim.h).
 *
 * Each loop keeps its object in a global so the compiler cannot fold the
 * loop away; the baselines are written the way a user would write them.
 */
#define _GNU_SOURCE
#define PERCPU_IMPLEMENTATION
#include "percpu.h"
#include "cpumem.h"
#include "counter.h"
#include "dpcpu.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "shim.h"

#define STRIPES 64 /* >= 2 x CPUs on the machines this runs on */

static percpu_t *bench_pc;
static struct cpumem *bench_mem;
static struct cpumem *bench_ctrs;
static counter_u64_t bench_ctr;
DPCPU_DEFINE_STATIC(uint64_t, bench_dpcpu);

static _Atomic uint64_t bench_shared;
/* One padded slot per CPU id or stripe: the hand-rolled alternatives. */
struct bench_line {
	_Atomic uint64_t v;
	char pad[64 - sizeof(uint64_t)];
};
static struct bench_line bench_slots[1024];
static struct bench_line bench_stripes[STRIPES];
static struct {
	uint64_t v;
	char pad[64 - sizeof(uint64_t)];
} bench_plain[64];
/* The floor: a static per-CPU array, one line per possible CPU id. */
static struct {
	uint64_t v;
	char pad[64 - sizeof(uint64_t)];
} bench_floor[PERCPU_MAXCPU];
static _Thread_local uint64_t bench_tls;
static _Thread_local struct bench_line bench_private;
static _Thread_local unsigned bench_stripe;

void
shim_setup(void)
{
	if (bench_pc != NULL)
		return;
	bench_pc = percpu_alloc(sizeof(uint64_t));
	bench_mem = cpumem_malloc(sizeof(uint64_t), 0);
	bench_ctrs = counters_alloc(4);
	bench_ctr = counter_u64_alloc(M_WAITOK);
	critical_enter(); /* makes the DPCPU copies */
	critical_exit();
}

void
shim_thread_start(int pin, unsigned index)
{
	unsigned cpu, k = 0, want = index % percpu_ncpus();

	bench_stripe = (index * 2654435761u) >> 26; /* a hash, as LongAdder */
	if (!pin)
		return;
	PERCPU_FOREACH_CPU(cpu) {
		if (k++ == want)
			break;
	}
	(void)percpu_pin(cpu);
}

void
shim_thread_end(void)
{
	percpu_unpin();
}

/* Each loop keeps its handle in a local, as a loop over one object does
 * (the floor's array is a constant). */
void
shim_counter_u64_add(uint64_t n)
{
	counter_u64_t c = bench_ctr;
	uint64_t i;

	for (i = 0; i < n; i++)
		counter_u64_add(c, 1);
}

void
shim_counters_inc(uint64_t n)
{
	struct cpumem *cm = bench_ctrs;
	uint64_t i;

	for (i = 0; i < n; i++)
		counters_inc(cm, 0);
}

void
shim_counters_pkt(uint64_t n)
{
	struct cpumem *cm = bench_ctrs;
	uint64_t i;

	for (i = 0; i < n; i++)
		counters_pkt(cm, 1, 2, 100);
}

void
shim_percpu_getref_putref(uint64_t n)
{
	percpu_t *pc = bench_pc;
	uint64_t i;

	for (i = 0; i < n; i++) {
		uint64_t *p = percpu_getref(pc);

		++*p;
		percpu_putref(pc);
	}
}

void
shim_cpumem_enter_leave(uint64_t n)
{
	struct cpumem *cm = bench_mem;
	uint64_t i;

	for (i = 0; i < n; i++) {
		uint64_t *p = cpumem_enter(cm);

		++*p;
		cpumem_leave(cm, p);
	}
}

void
shim_dpcpu_critical_inc(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		critical_enter();
		DPCPU_SET(bench_dpcpu, DPCPU_GET(bench_dpcpu) + 1);
		critical_exit();
	}
}

/*
 * The same critical section around a plain increment of a global (no
 * DPCPU_PTR): what shim_dpcpu_critical_inc() costs beyond its lookup.
 */
static volatile uint64_t bench_plain_glob;

void
shim_base_critical_plain_inc(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		critical_enter();
		bench_plain_glob++;
		critical_exit();
	}
}

/*
 * The same section around DPCPU's lookup as FreeBSD does it, with no
 * check, written by hand: one load of the copies' offset from their
 * templates (placed at run time), plus the held unit's offset from the
 * state.  DPCPU_PTR() in a section is this shape plus a mask (a null
 * pointer for a variable outside the set, computed out of the loop; one
 * `and` per operation): the row shows what that mask costs.
 */
static uintptr_t bench_dpcpu_k;

void
shim_base_critical_unchecked_inc(uint64_t n)
{
	uint64_t i;

	if (bench_dpcpu_k == 0)
		bench_dpcpu_k = dpcpu_priv_off[percpu_priv_g.ci[0].ci_index];
	for (i = 0; i < n; i++) {
		critical_enter();
		++*(uint64_t *)((uintptr_t)&DPCPU_NAME(bench_dpcpu) +
		    bench_dpcpu_k + percpu_priv_soff(PERCPU_PRIV_TD.state));
		critical_exit();
	}
}

/*
 * The unchecked lookup above, plus the one test FreeBSD semantics need in
 * userspace: DPCPU_PTR() outside a section is the running CPU's copy, so
 * state 0 takes the out-of-line path (DPCPU's own).  After
 * critical_enter() the compiler knows the state is not 0 and drops the
 * test (dpcpu.h), so this row and the one above now compile alike.
 */
void
shim_base_critical_fallback_inc(uint64_t n)
{
	uint64_t i;

	if (bench_dpcpu_k == 0)
		bench_dpcpu_k = dpcpu_priv_off[percpu_priv_g.ci[0].ci_index];
	for (i = 0; i < n; i++) {
		uint32_t s;
		uint64_t *p;

		critical_enter();
		s = PERCPU_PRIV_TD.state;
		if (PERCPU_LIKELY(s != 0))
			p = (uint64_t *)((uintptr_t)&DPCPU_NAME(bench_dpcpu) +
			    bench_dpcpu_k + percpu_priv_soff(s));
		else
			p = (uint64_t *)dpcpu_priv_cur_slow(
			    &DPCPU_NAME(bench_dpcpu));
		++*p;
		critical_exit();
	}
}

void
shim_counter_u64_fetch(uint64_t n)
{
	uint64_t i, sum = 0;

	for (i = 0; i < n; i++)
		sum += counter_u64_fetch(bench_ctr);
	__asm__ __volatile__("" : : "r"(sum) : "memory");
}

void
shim_counters_read(uint64_t n)
{
	uint64_t i, out[4], sum = 0;

	for (i = 0; i < n; i++) {
		counters_read(bench_ctrs, out, 4, NULL);
		sum += out[0];
	}
	__asm__ __volatile__("" : : "r"(sum) : "memory");
}

void
shim_percpu_local_add64(uint64_t n)
{
	void *h = bench_pc->pc_base;
	uint64_t i;

	for (i = 0; i < n; i++)
		percpu_local_add64(h, 1);
}

/* ---- Allocation ---- */

static counter_u64_t *bench_live;
static unsigned bench_nlive;

void
shim_alloc_live(unsigned live)
{
	if (bench_live == NULL)
		bench_live = calloc(1000000, sizeof(*bench_live));
	if (live > 1000000)
		live = 1000000;
	while (bench_nlive > live)
		counter_u64_free(bench_live[--bench_nlive]);
	while (bench_nlive < live)
		bench_live[bench_nlive++] = counter_u64_alloc(M_WAITOK);
}

void
shim_counter_alloc_free(uint64_t n)
{
	counter_u64_t c[1000];
	uint64_t i;

	if (n > 1000)
		n = 1000;
	for (i = 0; i < n; i++)
		c[i] = counter_u64_alloc(M_WAITOK);
	for (i = 0; i < n; i++)
		counter_u64_free(c[i]);
}

/* ---- Fairness of a remote acquirer ---- */

static atomic_int bench_stop;

static void *
bench_getref_loop(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&bench_stop, memory_order_relaxed))
		shim_percpu_getref_putref(100);
	return (NULL);
}

static void
bench_xcall_cb(void *p, void *arg, struct cpu_info *ci)
{
	(void)ci;
	*(uint64_t *)arg += *(uint64_t *)p;
}

static double
bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
}

void
shim_xcall_under_load(unsigned threads, unsigned rounds, double *mean_ms,
    double *max_ms)
{
	pthread_t t[64];
	double sum = 0, max = 0;
	unsigned i;

	if (threads > 64)
		threads = 64;
	atomic_store(&bench_stop, 0);
	for (i = 0; i < threads; i++)
		(void)pthread_create(&t[i], NULL, bench_getref_loop, NULL);
	for (i = 0; i < rounds; i++) {
		struct timespec gap = {0, 2000000};
		uint64_t total = 0;
		double t0 = bench_now_ms(), d;

		percpu_foreach_xcall(bench_pc, 0, bench_xcall_cb, &total);
		d = bench_now_ms() - t0;
		__asm__ __volatile__("" : : "r"(total) : "memory");
		sum += d;
		if (d > max)
			max = d;
		(void)nanosleep(&gap, NULL);
	}
	atomic_store(&bench_stop, 1);
	for (i = 0; i < threads; i++)
		(void)pthread_join(t[i], NULL);
	*mean_ms = rounds != 0 ? sum / rounds : 0;
	*max_ms = max;
}

#if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ && defined(__x86_64__)
/*
 * The floor, written out as librseq writes it (rseq_addv): publish the
 * descriptor, compare cpu_id with the CPU the element was chosen by,
 * add.  Nothing else: no mode word, no bounds, no stop word.
 */
static inline int
bench_rseq_addv(uint64_t *p, uint64_t v, uint32_t cpu)
{
	__asm__ goto(
	    ".pushsection __rseq_cs, \"aw\"\n\t"
	    ".balign 32\n\t"
	    "3:\n\t"
	    ".long 0x0, 0x0\n\t"
	    ".quad 1f, (2f - 1f), 4f\n\t"
	    ".popsection\n\t"
	    "leaq 3b(%%rip), %%rax\n\t"
	    "movq %%rax, %%fs:8(%[off])\n\t"
	    "1:\n\t"
	    "cmpl %[cpu], %%fs:4(%[off])\n\t"
	    "jnz %l[abort]\n\t"
	    "addq %[v], (%[p])\n\t"
	    "2:\n\t"
	    ".pushsection __rseq_failure, \"ax\"\n\t"
	    ".byte 0x0f, 0xb9, 0x3d\n\t"
	    ".long 0x53053053\n\t"
	    "4:\n\t"
	    "jmp %l[abort]\n\t"
	    ".popsection\n\t"
	    :
	    : [off] "r"(__rseq_offset), [cpu] "r"(cpu), [v] "r"(v), [p] "r"(p)
	    : "memory", "cc", "rax"
	    : abort);
	return (0);
abort:
	return (1);
}
#endif

void
shim_base_rseq_add(uint64_t n)
{
	uint64_t i;

#if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ && defined(__x86_64__)
	/* librseq's shape: rseq checked once, then cpu_id_start and the
	 * sequence on that CPU's element (every possible id is below
	 * PERCPU_MAXCPU when the backend is rseq). */
	if (percpu_md_rseq_on) {
		for (i = 0; i < n; i++) {
			for (;;) {
				uint32_t cpu = percpu_md_rseq_cpu_start();

				if (PERCPU_LIKELY(
					bench_rseq_addv(&bench_floor[cpu].v, 1,
					    cpu) == 0))
					break;
			}
		}
		return;
	}
#endif
	for (i = 0; i < n; i++)
		atomic_fetch_add_explicit(
		    (_Atomic uint64_t *)&bench_floor[percpu_curcpu()].v, 1,
		    memory_order_relaxed);
}

/*
 * The stores a section must make, and nothing else: the store-throughput
 * floor of a section on this machine (stores to different cache lines
 * retire one per cycle here, two to one line: make bench-uarch; the
 * floor above is two stores, rseq_cs and the add).  A section publishes
 * its descriptor (rseq_cs), takes the CPU's lock word, publishes its
 * state to signal handlers (one thread-local word), makes the user's
 * update, and undoes state and lock: 6 stores.  OpenBSD's counters add
 * their generation, odd at enter and even at leave: 8.  No loads, checks
 * nor branches: volatile stores to the lines the real code writes.
 */
static _Thread_local struct {
	uint64_t cs;	/* as rseq_cs */
	uint32_t state; /* as percpu_priv_td.state */
} bench_fake_td;
/* Thread-local too: a thread's own lines, as a CPU's are to its holder. */
static _Thread_local struct {
	uintptr_t owner;
	char pad[64 - sizeof(uintptr_t)];
} bench_fake_lock;
static _Thread_local struct {
	uint64_t gen;
	uint64_t c[7];
} bench_fake_ctrs;

static inline void
bench_store64(volatile uint64_t *p, uint64_t v)
{
	*p = v;
}

void
shim_base_section_stores(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		bench_store64(&bench_fake_td.cs, i);
		bench_store64((volatile uint64_t *)&bench_fake_lock.owner, 1);
		*(volatile uint32_t *)&bench_fake_td.state = 1;
		bench_store64(&bench_fake_ctrs.c[0], bench_fake_ctrs.c[0] + 1);
		*(volatile uint32_t *)&bench_fake_td.state = 0;
		bench_store64((volatile uint64_t *)&bench_fake_lock.owner, 0);
	}
}

void
shim_base_counters_stores(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		bench_store64(&bench_fake_td.cs, i);
		bench_store64((volatile uint64_t *)&bench_fake_lock.owner, 1);
		*(volatile uint32_t *)&bench_fake_td.state = 1;
		bench_store64(&bench_fake_ctrs.gen, 2 * i + 1);
		bench_store64(&bench_fake_ctrs.c[0], bench_fake_ctrs.c[0] + 1);
		bench_store64(&bench_fake_ctrs.gen, 2 * i + 2);
		*(volatile uint32_t *)&bench_fake_td.state = 0;
		bench_store64((volatile uint64_t *)&bench_fake_lock.owner, 0);
	}
}

void
shim_base_tls_add(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		bench_tls++;
		/* Keep one add per iteration, as in the other loops. */
		__asm__ __volatile__("" ::: "memory");
	}
}

void
shim_base_indexed_add(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		unsigned idx = bench_stripe % 64; /* opaque, as a CPU id */

		__asm__ __volatile__("" : "+r"(idx));
		bench_plain[idx].v++; /* plain (non-atomic) through an index */
		__asm__ __volatile__("" ::: "memory");
	}
}

void
shim_base_shared_atomic(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		atomic_fetch_add_explicit(&bench_shared, 1,
		    memory_order_relaxed);
}

void
shim_base_striped_atomic(uint64_t n)
{
	struct bench_line *l = &bench_stripes[bench_stripe % STRIPES];
	uint64_t i;

	for (i = 0; i < n; i++)
		atomic_fetch_add_explicit(&l->v, 1, memory_order_relaxed);
}

void
shim_base_getcpu_atomic(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		int cpu = sched_getcpu();

		atomic_fetch_add_explicit(&bench_slots[(unsigned)cpu % 1024].v,
		    1, memory_order_relaxed);
	}
}

void
shim_base_private_lock_add(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		atomic_fetch_add_explicit(&bench_private.v, 1,
		    memory_order_relaxed);
}

void
shim_base_getcpu_private_lock_add(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		int cpu = sched_getcpu();

		__asm__ __volatile__("" : : "r"(cpu));
		atomic_fetch_add_explicit(&bench_private.v, 1,
		    memory_order_relaxed);
	}
}

const char *
shim_backend(void)
{
	return (percpu_backend());
}

unsigned
shim_ncpus(void)
{
	return (percpu_ncpus());
}

/*
 * Per-CPU bytes of one object, measured: the arena's stride between
 * objects allocated back to back (padding and hidden words count).  Holes
 * left by earlier frees may place one pair apart, so the smallest
 * distance between consecutive objects of SHIM_MEASURE allocations is
 * taken: objects never overlap, so it cannot undercount.  UP has no
 * arena: there the layout is the answer.
 */
#define SHIM_MEASURE 32

static size_t
shim_stride(void *const *h)
{
	size_t best = (size_t)-1, d;
	unsigned i;

	for (i = 1; i < SHIM_MEASURE; i++) {
		const char *a = h[i - 1], *b = h[i];

		d = (size_t)(a < b ? b - a : a - b);
		if (d < best)
			best = d;
	}
	return (best);
}

size_t
shim_bytes_counter_u64(void)
{
#if PERCPU_MP
	counter_u64_t c[SHIM_MEASURE];
	void *h[SHIM_MEASURE];
	unsigned i;
	size_t d;

	for (i = 0; i < SHIM_MEASURE; i++)
		h[i] = c[i] = counter_u64_alloc(M_WAITOK);
	d = shim_stride(h);
	for (i = 0; i < SHIM_MEASURE; i++)
		counter_u64_free(c[i]);
	return (d);
#else
	return (sizeof(struct counter_priv_slot));
#endif
}

size_t
shim_bytes_counters(unsigned n)
{
#if PERCPU_MP
	struct cpumem *c[SHIM_MEASURE];
	void *h[SHIM_MEASURE];
	unsigned i;
	size_t d;

	for (i = 0; i < SHIM_MEASURE; i++)
		h[i] = c[i] = counters_alloc(n);
	d = shim_stride(h);
	for (i = 0; i < SHIM_MEASURE; i++)
		counters_free(c[i], n);
	return (d);
#else
	return ((size_t)n * sizeof(uint64_t));
#endif
}

size_t
shim_bytes_percpu(size_t size)
{
#if PERCPU_MP
	percpu_t *c[SHIM_MEASURE];
	void *h[SHIM_MEASURE];
	unsigned i;
	size_t d;

	for (i = 0; i < SHIM_MEASURE; i++)
		h[i] = (c[i] = percpu_alloc(size))->pc_base;
	d = shim_stride(h);
	for (i = 0; i < SHIM_MEASURE; i++)
		percpu_free(c[i], size);
	return (d);
#else
	return (size);
#endif
}
