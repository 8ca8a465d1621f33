/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test/bsd/openbsd.c - consumers in the shape of OpenBSD kernel code,
 * built through the compat tree (-Icompat/openbsd, <sys/percpu.h>).  Our
 * code, written from cpumem_get(9) and counters_alloc(9): a pool with a
 * per-CPU item cache in the manner of subr_pool.c (the program's own
 * struct pool, CPUMEM_NO_POOL=1, caches cache-line aligned), ipstat-style
 * counter arrays read by the pre-2023 three-argument counters_read while
 * they are updated, and an mbstat-style multi-word update in one section.
 */
#define _GNU_SOURCE
/* This file has a pool(9) of its own, as subr_pool.c. */
#define CPUMEM_NO_POOL 1
#include <sys/percpu.h>

#include "../harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define M_DEVBUF 2
#define CACHELINESIZE 64

/* ---- A pool with per-CPU caches (subr_pool.c's shape) ---- */

struct pool_item {
	struct pool_item *pi_next;
	uintptr_t pi_owner; /* stamp of the thread holding the item */
	unsigned pi_seen;   /* for the final walk */
};

/* The program's own pool: OpenBSD's field names for what cpumem_get()
 * reads (pr_size, pr_align, pr_wchan). */
struct pool {
	pthread_mutex_t pr_mtx;
	const char *pr_wchan;
	unsigned int pr_size;
	unsigned int pr_align;
	struct pool_item *pr_free; /* the depot, under pr_mtx */
	unsigned pr_nitems;	   /* items ever made */
	struct pool_item **pr_all; /* every item made, for the final walk */
	struct cpumem *pr_cache;   /* struct pool_cache per CPU, or NULL */
	struct cpumem *pr_stats;   /* counters: gets, puts */
};

enum { pool_nget, pool_nput, pool_ncounters };

/* One CPU's cache: a short free list, as pool_cache's pc_actv. */
struct pool_cache {
	struct pool_item *pc_actv;
	unsigned pc_nactv;
	uint64_t pc_nlget; /* gets served from the depot */
};

#define POOL_CACHE_MAX 8
#define POOL_ITEMS_MAX 4096

static struct pool pool_caches; /* items: struct pool_cache */
static atomic_uint pool_bad;	/* items seen owned by another thread */
static _Atomic(uint64_t) pool_gets;

static void
pool_init(struct pool *pp, unsigned size, unsigned align, const char *wchan)
{
	memset(pp, 0, sizeof(*pp));
	cr_assert_eq(pthread_mutex_init(&pp->pr_mtx, NULL), 0);
	pp->pr_wchan = wchan;
	pp->pr_size = size;
	pp->pr_align = align;
	pp->pr_all = calloc(POOL_ITEMS_MAX, sizeof(*pp->pr_all));
	cr_assert_not_null(pp->pr_all);
	pp->pr_stats = counters_alloc(pool_ncounters);
}

static void
pool_cache_init(struct pool *pp)
{
	struct cpumem_iter i;
	struct pool_cache *pc;

	pp->pr_cache = cpumem_get(&pool_caches);
	cr_assert_not_null(pp->pr_cache);
	CPUMEM_FOREACH(pc, &i, pp->pr_cache) {
		cr_assert_eq((uintptr_t)pc % CACHELINESIZE, 0,
		    "a CPU's cache shares a cache line");
		cr_assert_null(pc->pc_actv, "zero-filled");
		cr_assert_eq(pc->pc_nactv, 0);
	}
}

/* The depot (slow path): under the pool's mutex. */
static struct pool_item *
pool_depot_get(struct pool *pp)
{
	struct pool_item *pi;

	pthread_mutex_lock(&pp->pr_mtx);
	pi = pp->pr_free;
	if (pi != NULL) {
		pp->pr_free = pi->pi_next;
	} else {
		if (pp->pr_nitems >= POOL_ITEMS_MAX)
			abort(); /* more items than threads can hold */
		pi = calloc(1, pp->pr_size);
		if (pi == NULL)
			abort();
		pp->pr_all[pp->pr_nitems++] = pi;
	}
	pthread_mutex_unlock(&pp->pr_mtx);
	return (pi);
}

static void
pool_depot_put(struct pool *pp, struct pool_item *list)
{
	pthread_mutex_lock(&pp->pr_mtx);
	while (list != NULL) {
		struct pool_item *next = list->pi_next;

		list->pi_next = pp->pr_free;
		pp->pr_free = list;
		list = next;
	}
	pthread_mutex_unlock(&pp->pr_mtx);
}

static void *
pool_get(struct pool *pp)
{
	struct pool_cache *pc = cpumem_enter(pp->pr_cache);
	struct pool_item *pi = pc->pc_actv;

	if (pi != NULL) {
		pc->pc_actv = pi->pi_next;
		pc->pc_nactv--;
	} else {
		pc->pc_nlget++;
	}
	cpumem_leave(pp->pr_cache, pc);
	if (pi == NULL)
		pi = pool_depot_get(pp);
	counters_inc(pp->pr_stats, pool_nget);
	return (pi);
}

static void
pool_put(struct pool *pp, void *v)
{
	struct pool_cache *pc = cpumem_enter(pp->pr_cache);
	struct pool_item *pi = v, *spill = NULL;

	pi->pi_next = pc->pc_actv;
	pc->pc_actv = pi;
	if (++pc->pc_nactv > POOL_CACHE_MAX) {
		/* Give the whole list to the depot, as a full pc_actv. */
		spill = pc->pc_actv;
		pc->pc_actv = NULL;
		pc->pc_nactv = 0;
	}
	cpumem_leave(pp->pr_cache, pc);
	if (spill != NULL)
		pool_depot_put(pp, spill);
	counters_inc(pp->pr_stats, pool_nput);
}

static void *
pool_worker(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct pool *pp = ctx->arg;
	uintptr_t me = (uintptr_t)ctx->index + 1;
	uint32_t seed = ctx->index * 31u + 7;
	struct pool_item *held[3];
	unsigned i, j;

	for (i = 0; i < 3000; i++) {
		unsigned n = 1 + harness_rand(&seed) % 3;

		for (j = 0; j < n; j++) {
			held[j] = pool_get(pp);
			/* An item is never handed out twice. */
			if (held[j]->pi_owner != 0)
				atomic_fetch_add(&pool_bad, 1);
			held[j]->pi_owner = me;
		}
		atomic_fetch_add(&pool_gets, n);
		harness_jiggle(&seed);
		for (j = 0; j < n; j++) {
			if (held[j]->pi_owner != me)
				atomic_fetch_add(&pool_bad, 1);
			held[j]->pi_owner = 0;
			pool_put(pp, held[j]);
		}
		harness_migrate(i, &seed);
	}
	return (NULL);
}

Test(openbsd, pool_cache_over_own_pool_loses_and_duplicates_nothing)
{
	struct pool items;
	struct cpumem_iter it;
	struct pool_cache *pc;
	struct pool_item *pi;
	uint64_t st[pool_ncounters];
	unsigned n = harness_threads(), found = 0, k;

	pool_init(&pool_caches, sizeof(struct pool_cache), CACHELINESIZE,
	    "plcache");
	pool_init(&items, sizeof(struct pool_item), 0, "items");
	pool_cache_init(&items);
	harness_run(n, pool_worker, &items);
	/* pre-2023 form: three arguments. */
	counters_read(items.pr_stats, st, pool_ncounters);
	cr_assert_eq(atomic_load(&pool_bad), 0, "an item was owned twice");
	cr_assert_eq(st[pool_nget], atomic_load(&pool_gets));
	cr_assert_eq(st[pool_nput], st[pool_nget]);
	/* Every item is in exactly one place: a CPU's cache or the depot. */
	CPUMEM_FOREACH(pc, &it, items.pr_cache) {
		unsigned len = 0;

		for (pi = pc->pc_actv; pi != NULL; pi = pi->pi_next, len++) {
			cr_assert_eq(pi->pi_seen, 0, "item in two lists");
			pi->pi_seen = 1;
			found++;
		}
		cr_assert_eq(len, pc->pc_nactv);
	}
	for (pi = items.pr_free; pi != NULL; pi = pi->pi_next) {
		cr_assert_eq(pi->pi_seen, 0, "item in two lists");
		pi->pi_seen = 1;
		found++;
	}
	cr_assert_eq(found, items.pr_nitems);
	for (k = 0; k < items.pr_nitems; k++) {
		cr_assert_eq(items.pr_all[k]->pi_seen, 1);
		cr_assert_eq(items.pr_all[k]->pi_owner, 0);
		free(items.pr_all[k]);
	}
	cpumem_put(&pool_caches, items.pr_cache);
	counters_free(items.pr_stats, pool_ncounters);
	counters_free(pool_caches.pr_stats, pool_ncounters);
	free(items.pr_all);
	free(pool_caches.pr_all);
}

/* ---- cpumem_malloc: each CPU's copy on its own cache line ---- */

Test(openbsd, cpumem_malloc_copies_are_cache_line_aligned)
{
	size_t sizes[] = {1, 8, 24, 64, 100, 4000};
	unsigned i, cpus;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct cpumem *cm = cpumem_malloc(sizes[i], M_DEVBUF);
		struct cpumem_iter it;
		unsigned char *p;

		cpus = 0;
		CPUMEM_FOREACH(p, &it, cm) {
			cr_assert_eq((uintptr_t)p % CACHELINESIZE, 0,
			    "size %zu: copy at %p", sizes[i], (void *)p);
			cr_assert_eq(p[0], 0);
			cr_assert_eq(p[sizes[i] - 1], 0);
			cpus++;
		}
		cr_assert_eq(cpus, percpu_ncpus());
		cpumem_free(cm, M_DEVBUF, sizes[i]);
	}
}

/* ---- ipstat / interface counters, read while updated ---- */

enum { ips_total, ips_delivered, ifc_ipackets, ifc_ibytes, ips_ncounters };

struct ipstat_run {
	struct cpumem *cm;
	atomic_int stop;
	unsigned reads, bad;
};

static void *
ip_input(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct ipstat_run *r = ctx->arg;
	uint32_t seed = ctx->index * 13u + 5;
	unsigned i;

	for (i = 0; i < 20000; i++) {
		counters_inc(r->cm, ips_total);
		counters_pkt(r->cm, ifc_ipackets, ifc_ibytes, 100);
		counters_add(r->cm, ips_delivered, 3);
		harness_migrate(i, &seed);
	}
	return (NULL);
}

static void *
ipstat_sysctl(void *arg)
{
	struct ipstat_run *r = arg;
	uint64_t out[ips_ncounters], last = 0, scratch[ips_ncounters];

	while (!atomic_load(&r->stop) || r->reads == 0) {
		if (r->reads % 2 == 0)
			counters_read(r->cm, out, ips_ncounters); /* pre-2023 */
		else
			counters_read(r->cm, out, ips_ncounters, scratch);
		/* Each CPU's set is a consistent snapshot: counters_pkt's
		 * two words always agree, sums of snapshots too. */
		r->bad += (out[ifc_ibytes] != 100 * out[ifc_ipackets]);
		r->bad += (out[ifc_ipackets] < last);
		last = out[ifc_ipackets];
		r->reads++;
	}
	return (NULL);
}

Test(openbsd, ipstat_counters_read_three_and_four_args_under_load)
{
	struct ipstat_run r;
	uint64_t out[ips_ncounters];
	unsigned n = harness_threads();
	pthread_t reader;

	memset(&r, 0, sizeof(r));
	r.cm = counters_alloc(ips_ncounters);
	if (PERCPU_MP)
		cr_assert_eq(pthread_create(&reader, NULL, ipstat_sysctl, &r),
		    0);
	harness_run(n, ip_input, &r);
	atomic_store(&r.stop, 1);
	if (PERCPU_MP)
		cr_assert_eq(pthread_join(reader, NULL), 0);
	else
		(void)ipstat_sysctl(&r);
	cr_assert_eq(r.bad, 0);
	counters_read(r.cm, out, ips_ncounters);
	cr_assert_eq(out[ips_total], (uint64_t)n * 20000);
	cr_assert_eq(out[ifc_ipackets], (uint64_t)n * 20000);
	cr_assert_eq(out[ifc_ibytes], (uint64_t)n * 20000 * 100);
	cr_assert_eq(out[ips_delivered], (uint64_t)n * 20000 * 3);
	counters_free(r.cm, ips_ncounters);
}

/* ---- mbstat: several words in one counters_enter section ---- */

enum { mbs_alloc, mbs_clusters, mbs_ncounters };

static void *
m_get(void *arg)
{
	struct harness_ctx *ctx = arg;
	struct cpumem *mbstat = ctx->arg;
	uint32_t seed = ctx->index + 3;
	unsigned i;

	for (i = 0; i < 20000; i++) {
		struct counters_ref ref;
		uint64_t *c = counters_enter(&ref, mbstat);

		c[mbs_alloc]++;
		harness_jiggle(&seed);
		c[mbs_clusters] += 2;
		counters_leave(&ref, mbstat);
		harness_migrate(i, &seed);
	}
	return (NULL);
}

Test(openbsd, mbstat_section_updates_are_exact_and_consistent)
{
	struct cpumem *mbstat = counters_alloc(mbs_ncounters);
	uint64_t out[mbs_ncounters], one[mbs_ncounters];
	unsigned n = harness_threads(), cpu;

	harness_run(n, m_get, mbstat);
	counters_read(mbstat, out, mbs_ncounters, NULL);
	cr_assert_eq(out[mbs_alloc], (uint64_t)n * 20000);
	cr_assert_eq(out[mbs_clusters], 2 * out[mbs_alloc]);
	PERCPU_FOREACH_CPU(cpu) {
		cr_assert_eq(counters_read_cpu(mbstat, cpu, one, mbs_ncounters),
		    0);
		cr_assert_eq(one[mbs_clusters], 2 * one[mbs_alloc]);
	}
	counters_free(mbstat, mbs_ncounters);
}
