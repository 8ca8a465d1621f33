/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test/bsd/netbsd.c - consumers in the shape of NetBSD kernel code, built
 * through the compat tree (-Icompat/netbsd): the includes below are the
 * kernel's own.  Our code, written from the man pages: a psref(9)-style
 * passive reference counter, if_stats-style counters read and zeroed
 * through an xcall, and code that sizes arrays by ncpu and indexes them
 * by cpu_index().  Run MP (Linux), on the simulated sparse CPUs
 * (0,1,5,63,200) and UP (one thread), and under ASan+UBSan.
 */
#define _GNU_SOURCE
#include <sys/cpu.h>
#include <sys/percpu.h>
#include <sys/xcall.h>

#include "../harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* KASSERT: counted (worker threads must not abort a Criterion test);
 * every test checks the count at its end. */
static atomic_uint kassert_failed;
/* Does the build track sections (MP, or a UP build with PERCPU_DEBUG=1)? */
#if PERCPU_MP || PERCPU_DEBUG
# define TRACKS_SECTIONS 1
#else
# define TRACKS_SECTIONS 0
#endif

#define KASSERT(x) ((x) ? (void)0 : (void)atomic_fetch_add(&kassert_failed, 1))

/* ---- CPU names: dense cpu_index, cpu_lookup, CPU_INFO_FOREACH ---- */

Test(netbsd, cpu_index_is_dense_and_cpu_lookup_inverts_it)
{
	CPU_INFO_ITERATOR cii;
	struct cpu_info *ci;
	unsigned n = 0, last = 0, id;

	cr_assert_eq(ncpu, (int)percpu_ncpus());
	for (CPU_INFO_FOREACH(cii, ci)) {
		cr_assert_eq(cpu_index(ci), cii, "dense");
		cr_assert_eq(cpu_lookup(cii), ci);
		cr_assert(n == 0 || ci->ci_index > last, "ascending id");
		last = ci->ci_index;
		n++;
	}
	cr_assert_eq(n, (unsigned)ncpu);
	cr_assert_null(cpu_lookup((unsigned)ncpu));
	cr_assert_null(cpu_lookup(~0u));
	/* Every id maps to the index of its position. */
	n = 0;
	PERCPU_FOREACH_CPU(id)
		cr_assert_eq(cpu_index(percpu_cpu_info(id)), n++);
#if PERCPU_MD == PERCPU_MD_SIM
	/* Sparse ids: the last CPU's id is far above ncpu - 1. */
	cr_assert_eq(cpu_lookup((unsigned)ncpu - 1)->ci_index, last);
	cr_assert_gt(last, (unsigned)ncpu - 1);
#endif
}

/* Arrays sized by ncpu, indexed by cpu_index(curcpu()) (ASan checks). */
struct by_index {
	uint64_t *hits; /* [ncpu] */
	_Atomic(uint64_t) total;
};

static void *
by_index_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct by_index *b = ctx->arg;
	uint32_t seed = ctx->index + 1;
	unsigned i;

	for (i = 0; i < 20000; i++) {
		struct cpu_info *ci;

		kpreempt_disable();
		ci = curcpu();
		KASSERT(kpreempt_disabled());
		KASSERT(cpu_index(ci) < (unsigned)ncpu);
		/* No other thread holds this CPU: a plain increment. */
		b->hits[cpu_index(ci)]++;
		/* A hash picks a CPU: never NULL. */
		KASSERT(
		    cpu_lookup(harness_rand(&seed) % (unsigned)ncpu) != NULL);
		kpreempt_enable();
		atomic_fetch_add(&b->total, 1);
		harness_migrate(i, &seed);
	}
	return (NULL);
}

Test(netbsd, arrays_by_ncpu_indexed_by_cpu_index_under_stress)
{
	struct by_index b;
	uint64_t sum = 0;
	unsigned i, n = harness_threads();

	b.hits = calloc((size_t)ncpu, sizeof(*b.hits));
	cr_assert_not_null(b.hits);
	atomic_init(&b.total, 0);
	harness_run(n, by_index_worker, &b);
	for (i = 0; i < (unsigned)ncpu; i++)
		sum += b.hits[i];
	cr_assert_eq(sum, (uint64_t)n * 20000);
	cr_assert_eq(atomic_load(&b.total), sum);
	cr_assert_eq(atomic_load(&kassert_failed), 0);
	free(b.hits);
}

/* KASSERT(kpreempt_disabled()) holds inside and (where the build tracks
 * sections: MP, UP with PERCPU_DEBUG=1) fails outside. */
Test(netbsd, kpreempt_disabled_follows_the_sections)
{
	percpu_t *pc = percpu_alloc(sizeof(int));

	cr_assert_eq(kpreempt_disabled(), !TRACKS_SECTIONS);
	kpreempt_disable();
	cr_assert_neq(kpreempt_disabled(), 0);
	kpreempt_disable();
	kpreempt_enable();
	cr_assert_neq(kpreempt_disabled(), 0, "still inside the outer one");
	kpreempt_enable();
	cr_assert_eq(kpreempt_disabled(), !TRACKS_SECTIONS);
	(void)percpu_getref(pc);
	cr_assert_neq(kpreempt_disabled(), 0, "getref is a section");
	percpu_putref(pc);
	cr_assert_eq(kpreempt_disabled(), !TRACKS_SECTIONS);
	percpu_free(pc, sizeof(int));
}

/* ---- xcall: as each CPU, inside its section ---- */

struct xc_log {
	unsigned ids[1024];
	unsigned n;
	unsigned bad;
};

static void
xc_record(void *a1, void *a2)
{
	struct xc_log *log = a1;
	percpu_t *pc = a2;
	void *p;

	log->bad += !kpreempt_disabled();
	/* getref nests inside the xcall's section: the same CPU's slot. */
	p = percpu_getref(pc);
	log->bad += (p != percpu_getptr_remote(pc, curcpu()));
	percpu_putref(pc);
	log->ids[log->n++] = curcpu()->ci_index;
}

Test(netbsd, xc_broadcast_and_unicast_run_as_each_cpu)
{
	static struct xc_log log;
	percpu_t *pc = percpu_alloc(sizeof(int));
	CPU_INFO_ITERATOR cii;
	struct cpu_info *ci;
	unsigned i = 0, id;

	xc_wait(xc_broadcast(0, xc_record, &log, pc));
	cr_assert_eq(log.n, (unsigned)ncpu);
	PERCPU_FOREACH_CPU(id)
		cr_assert_eq(log.ids[i++], id);
	log.n = 0;
	for (CPU_INFO_FOREACH(cii, ci))
		xc_wait(xc_unicast(XC_HIGHPRI, xc_record, &log, pc, ci));
	cr_assert_eq(log.n, (unsigned)ncpu);
	i = 0;
	for (CPU_INFO_FOREACH(cii, ci))
		cr_assert_eq(log.ids[i++], ci->ci_index);
	cr_assert_eq(log.bad, 0);
	percpu_free(pc, sizeof(int));
}

/* ---- psref(9)-style passive references ---- */

/*
 * Each CPU counts the references taken on it, per target.  A reference
 * remembers its CPU (NetBSD binds the LWP; here the release runs as that
 * CPU through an xcall).  target_drain() asks every CPU, by xcall, whether
 * it holds references to a target, as psref_target_destroy() does.
 */
#define NTARGET 4

struct psref_cpu {
	uint32_t held[NTARGET];
	uint64_t acquired;
};

struct psref {
	unsigned cpu; /* cpu_index() of the acquiring CPU */
	unsigned target;
};

struct psref_class {
	percpu_t *pcpu;
	_Atomic(uint64_t) released;
	atomic_int stop;
	unsigned bad;
	unsigned drains;
};

static void
psref_acquire(struct psref *ref, unsigned target, struct psref_class *cls)
{
	struct psref_cpu *pc;

	kpreempt_disable();
	pc = percpu_getref(cls->pcpu);
	KASSERT(pc == percpu_getptr_remote(cls->pcpu, curcpu()));
	ref->cpu = cpu_index(curcpu());
	ref->target = target;
	pc->held[target]++;
	pc->acquired++;
	percpu_putref(cls->pcpu);
	kpreempt_enable();
}

static void
psref_release_xc(void *a1, void *a2)
{
	struct psref *ref = a1;
	struct psref_class *cls = a2;
	struct psref_cpu *pc = percpu_getref(cls->pcpu);

	KASSERT(cpu_index(curcpu()) == ref->cpu);
	KASSERT(pc->held[ref->target] > 0);
	pc->held[ref->target]--;
	percpu_putref(cls->pcpu);
}

static void
psref_release(struct psref *ref, struct psref_class *cls)
{
	xc_wait(
	    xc_unicast(0, psref_release_xc, ref, cls, cpu_lookup(ref->cpu)));
	atomic_fetch_add(&cls->released, 1);
}

struct drain {
	struct psref_class *cls;
	uint64_t held[NTARGET];
};

static void
drain_xc(void *a1, void *a2)
{
	struct drain *d = a1;
	struct psref_cpu *pc = percpu_getref(d->cls->pcpu);
	unsigned t;

	uint64_t held = 0;

	(void)a2;
	for (t = 0; t < NTARGET; t++) {
		d->held[t] += pc->held[t];
		held += pc->held[t];
	}
	d->cls->bad += (held > pc->acquired);
	percpu_putref(d->cls->pcpu);
}

static void *
psref_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct psref_class *cls = ctx->arg;
	uint32_t seed = ctx->index * 7919u + 1;
	struct psref ref;
	unsigned i;

	for (i = 0; i < 4000; i++) {
		psref_acquire(&ref, harness_rand(&seed) % NTARGET, cls);
		harness_jiggle(&seed);
		harness_migrate(i, &seed);
		psref_release(&ref, cls);
	}
	return (NULL);
}

static void *
psref_checker(void *arg)
{
	struct psref_class *cls = arg;

	/* Drains race the workers; what they see is checked as each CPU
	 * (drain_xc): a CPU never holds more than it acquired. */
	while (!atomic_load(&cls->stop) || cls->drains == 0) {
		struct drain d;

		memset(&d, 0, sizeof(d));
		d.cls = cls;
		xc_wait(xc_broadcast(0, drain_xc, &d, NULL));
		cls->drains++;
	}
	return (NULL);
}

Test(netbsd, psref_style_references_balance_per_cpu_under_stress)
{
	struct psref_class cls;
	struct drain d;
	uint64_t acquired = 0;
	unsigned cpu, t, workers = harness_threads();
	pthread_t checker;

	memset(&cls, 0, sizeof(cls));
	cls.pcpu = percpu_alloc(sizeof(struct psref_cpu));
	/* MP: a thread drains by xcall while the workers run; UP: one
	 * thread of control, so it drains after them. */
	if (PERCPU_MP)
		cr_assert_eq(
		    pthread_create(&checker, NULL, psref_checker, &cls), 0);
	harness_run(workers, psref_worker, &cls);
	atomic_store(&cls.stop, 1);
	if (PERCPU_MP)
		cr_assert_eq(pthread_join(checker, NULL), 0);
	cr_assert_eq(cls.bad, 0);
	cr_assert(cls.drains > 0 || !PERCPU_MP, "the checker drained");
	cr_assert_eq(atomic_load(&cls.released), (uint64_t)workers * 4000);
	/* Drained: no CPU holds a reference, and every acquire counted. */
	memset(&d, 0, sizeof(d));
	d.cls = &cls;
	xc_wait(xc_broadcast(0, drain_xc, &d, NULL));
	for (t = 0; t < NTARGET; t++)
		cr_assert_eq(d.held[t], 0, "target %u", t);
	PERCPU_FOREACH_CPU(cpu) {
		struct psref_cpu *pc =
		    percpu_getptr_remote(cls.pcpu, percpu_cpu_info(cpu));

		acquired += pc->acquired;
	}
	cr_assert_eq(acquired, (uint64_t)workers * 4000);
	cr_assert_eq(atomic_load(&kassert_failed), 0);
	percpu_free(cls.pcpu, sizeof(struct psref_cpu));
}

/* ---- if_stats-style counters: read and zero through an xcall ---- */

/* Two words that must agree: bytes is always 64 * packets. */
struct if_stats {
	uint64_t ipackets;
	uint64_t ibytes;
};

struct if_reader {
	percpu_t *stats;
	atomic_int stop;
	uint64_t collected; /* packets read and zeroed */
	unsigned torn;
};

static void
if_stats_to_if_data_cb(void *p, void *arg, struct cpu_info *ci)
{
	struct if_stats *s = p;
	struct if_reader *r = arg;

	(void)ci;
	r->torn += (s->ibytes != 64 * s->ipackets);
	r->collected += s->ipackets;
	/* zero_stats: as that CPU, serialized with its updaters. */
	s->ipackets = 0;
	s->ibytes = 0;
}

static void *
if_input(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct if_reader *r = ctx->arg;
	uint32_t seed = ctx->index + 11;
	unsigned i;

	for (i = 0; i < 20000; i++) {
		struct if_stats *s = percpu_getref(r->stats);

		s->ipackets++;
		harness_jiggle(&seed);
		s->ibytes += 64;
		percpu_putref(r->stats);
		harness_migrate(i, &seed);
	}
	return (NULL);
}

static void *
if_reader_thread(void *arg)
{
	struct if_reader *r = arg;

	while (!atomic_load(&r->stop))
		percpu_foreach_xcall(r->stats, 0, if_stats_to_if_data_cb, r);
	return (NULL);
}

Test(netbsd, if_stats_read_and_zero_through_xcall_loses_nothing)
{
	struct if_reader r;
	unsigned workers = harness_threads();
	pthread_t reader;

	memset(&r, 0, sizeof(r));
	r.stats = percpu_alloc(sizeof(struct if_stats));
	/* MP: one reader zeroes by xcall while the workers count; UP: one
	 * thread of control, the read comes after. */
	if (PERCPU_MP)
		cr_assert_eq(
		    pthread_create(&reader, NULL, if_reader_thread, &r), 0);
	harness_run(workers, if_input, &r);
	atomic_store(&r.stop, 1);
	if (PERCPU_MP)
		cr_assert_eq(pthread_join(reader, NULL), 0);
	percpu_foreach_xcall(r.stats, 0, if_stats_to_if_data_cb, &r);
	cr_assert_eq(r.torn, 0, "a slot read half-updated");
	cr_assert_eq(r.collected, (uint64_t)workers * 20000);
	percpu_free(r.stats, sizeof(struct if_stats));
}
