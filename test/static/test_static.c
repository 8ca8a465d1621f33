/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_static.c - the no-malloc option (PERCPU_STATIC_ARENA_SIZE): the
 * arena and the bookkeeping pool are static arrays; running out fails
 * each allocation with its documented error and never writes outside.
 *
 * Built (test/firmware.mk) with test/impl.c and
 * -DPERCPU_STATIC_ARENA_SIZE=61440 -DPERCPU_STATIC_POOL_SIZE=65536
 * -DPERCPU_UNIT_SIZE=4096, on the simulated port (CPUs 0,1,5,63,200: a
 * chunk is 5 units, the arena holds 3 chunks) and UP (the arena is a heap
 * of 48-byte blocks for a 16-byte counter: 1280 of them).
 */
#define _GNU_SOURCE
#include "harness.h"

#include <stdint.h>
#include <string.h>

#include "counter.h"
#include "cpumem.h"
#include "dpcpu.h"

#ifndef PERCPU_STATIC_ARENA_SIZE
# error "build with -DPERCPU_STATIC_ARENA_SIZE (test/firmware.mk)"
#endif

/* Of the static arena (percpu/static_arena.h). */
int percpu_priv_static_check(void);
void percpu_priv_static_bounds(const void **lo, const void **hi);

#define SLOT ((size_t)sizeof(struct counter_priv_slot))
#if PERCPU_MP
/* Chunk 0 keeps one cache line per unit for the core and the DPCPU set's
 * copies in whole lines, both made with the CPU table (this program has
 * a DPCPU variable: sa_quota below); then 3 chunks. */
# define DPCPU_LINES                                                 \
  ((dpcpu_priv_g.stop - dpcpu_priv_g.start + PERCPU_CACHELINE - 1) / \
      PERCPU_CACHELINE * PERCPU_CACHELINE)
# define NCOUNTERS                                              \
  ((PERCPU_UNIT_SIZE - PERCPU_CACHELINE - DPCPU_LINES) / SLOT + \
      (PERCPU_STATIC_ARENA_SIZE / (5 * PERCPU_UNIT_SIZE) - 1) * \
	  (PERCPU_UNIT_SIZE / SLOT))
#else
/* A heap block: a 16-byte header, then the allocation's size record (a
 * union with max_align_t) and the counter, in 16-byte granules. */
# define UPHDR \
  (sizeof(size_t) > sizeof(max_align_t) ? sizeof(size_t) : sizeof(max_align_t))
# define NCOUNTERS \
  (PERCPU_STATIC_ARENA_SIZE / (16 + (UPHDR + SLOT + 15) / 16 * 16))
#endif
#define MAXC 2048

static counter_u64_t cs[MAXC];

static void
setup(void)
{
#if PERCPU_MD == PERCPU_MD_SIM
	cr_assert_eq(percpu_sim_set_cpus("0-1,5,63,200"), 0);
#endif
}

/* Every CPU's copy of [h, h + size) lies inside the arena. */
static void
assert_inside(void *h, size_t size)
{
	const void *lo, *hi;
	unsigned cpu;

	percpu_priv_static_bounds(&lo, &hi);
	PERCPU_FOREACH_CPU(cpu) {
		const char *p = (const char *)percpu_ptr(h, cpu);

		cr_assert(p >= (const char *)lo && p + size <= (const char *)hi,
		    "CPU %u's copy %p is outside the arena [%p, %p)", cpu,
		    (const void *)p, lo, hi);
	}
}

/* Allocate counters until M_NOWAIT fails; the number allocated. */
static unsigned
fill(void)
{
	unsigned n = 0;

	while (n < MAXC && (cs[n] = counter_u64_alloc(M_NOWAIT)) != NULL) {
		assert_inside(cs[n], SLOT);
		n++;
	}
	return (n);
}

Test(static_arena, counters_fill_it_exactly, .init = setup)
{
	unsigned n, i;

	cr_assert_eq(percpu_ncpus(), PERCPU_MP ? 5u : 1u);
	n = fill();
	cr_assert_eq(n, (unsigned)NCOUNTERS, "%u counters fit, expected %u", n,
	    (unsigned)NCOUNTERS);
	cr_assert_null(counter_u64_alloc(M_NOWAIT));
	/* The storage works: each counter on every CPU, exact values. */
	for (i = 0; i < n; i++)
		counter_u64_add(cs[i], (int64_t)i + 1);
	for (i = 0; i < n; i++)
		cr_assert_eq(counter_u64_fetch(cs[i]), (uint64_t)i + 1);
	cr_assert_eq(percpu_priv_static_check(), 0, "a guard word changed");
}

Test(static_arena, free_makes_room_again, .init = setup)
{
	unsigned n, i;

	n = fill();
	cr_assert_eq(n, (unsigned)NCOUNTERS);
	counter_u64_free(cs[n / 2]);
	cs[n / 2] = counter_u64_alloc(M_NOWAIT);
	cr_assert_not_null(cs[n / 2]);
	cr_assert_eq(counter_u64_fetch(cs[n / 2]), 0);
	cr_assert_null(counter_u64_alloc(M_NOWAIT));
	for (i = 0; i < n; i++)
		counter_u64_free(cs[i]);
	/* Empty chunks went back to the arena: the same number fits. */
	cr_assert_eq(fill(), (unsigned)NCOUNTERS);
	cr_assert_eq(percpu_priv_static_check(), 0, "a guard word changed");
}

Test(static_arena, faces_report_their_documented_errors, .init = setup)
{
	struct cpumem *cm;
	percpu_t *pc;

	cr_assert_eq(fill(), (unsigned)NCOUNTERS);
	harness_capture_errors();
	cr_assert_null(counters_alloc(1));
	cr_assert_str_eq(harness_last_error(),
	    "counters_alloc: out of memory for 1 counters");
	cm = cpumem_malloc(8, 0);
	cr_assert_null(cm);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_malloc: cannot reserve 8 bytes on every CPU (limit 4080)");
	pc = percpu_alloc(8);
	cr_assert_null(pc);
	cr_assert_str_eq(harness_last_error(),
	    "percpu_alloc: cannot reserve 8 bytes on every CPU (limit 4096)");
	cr_assert_eq(harness_errors(), 3);
	cr_assert_eq(percpu_priv_static_check(), 0, "a guard word changed");
}

Test(static_arena, too_large_for_a_unit_fails_cleanly, .init = setup)
{
	cr_assert_null(percpu_priv_zalloc(PERCPU_UNIT_SIZE + 1, 0));
	cr_assert_null(percpu_priv_zalloc(PERCPU_STATIC_ARENA_SIZE + 1, 0));
	cr_assert_eq(percpu_priv_static_check(), 0, "a guard word changed");
}

/* pool_get() items come from the bookkeeping pool: exhaust it too. */
Test(static_arena, pool_exhaustion_returns_null, .init = setup)
{
	static void *items[8192];
	struct pool pp;
	unsigned n = 0, m = 0, i;

	pool_init(&pp, 48, 0, 0, 0, "sa", NULL);
	while (n < 8192 && (items[n] = pool_get(&pp, PR_NOWAIT)) != NULL) {
		memset(items[n], 0xa5, 48);
		n++;
	}
	cr_assert_gt(n, 100u);
	cr_assert_lt(n, 8192u);
	for (i = 0; i < n; i++)
		pool_put(&pp, items[i]);
	while (m < 8192 && (items[m] = pool_get(&pp, PR_NOWAIT)) != NULL)
		m++;
	cr_assert_eq(m, n, "%u items after freeing %u", m, n);
	for (i = 0; i < m; i++)
		pool_put(&pp, items[i]);
	cr_assert_eq(percpu_priv_static_check(), 0, "a guard word changed");
}

DPCPU_DEFINE_STATIC(int, sa_quota) = 7;

Test(static_arena, dpcpu_copies_live_in_the_arena, .init = setup)
{
	unsigned cpu;

	PERCPU_FOREACH_CPU(cpu) {
		cr_assert_eq(DPCPU_ID_GET(cpu, sa_quota), 7);
#if PERCPU_MP
		assert_inside(DPCPU_ID_PTR(cpu, sa_quota), sizeof(int));
#endif
	}
	cr_assert_eq(percpu_priv_static_check(), 0, "a guard word changed");
}
