/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_torn.c - 64-bit counters are never read torn, on 32-bit targets
 * too (make test runs this suite with gcc -m32).
 *
 * Writers add 0x100000001 at a time, so every value a counter ever holds
 * (a sum of such steps on each CPU, and of the CPUs' terms) has equal
 * 32-bit halves; a reader that saw the halves of two different values
 * would see them differ (the low half carries into nothing, the high
 * half moves with it).  MP: two writer threads and one reader, on
 * counter(9) and on OpenBSD counters.  UP: sections do not exclude real
 * threads there (a UP program runs on one core), so the checks run in one
 * thread.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <stdatomic.h>
#include <stdint.h>

#include "counter.h"
#include "cpumem.h"

#define TORN_STEP UINT64_C(0x100000001)
#define TORN_ADDS 200000u
#define TORN_WRITERS 2u

struct torn {
	counter_u64_t c;
	struct cpumem *cm;
	atomic_uint writing;
	atomic_uint torn;
	atomic_uint reads;
};

static int
torn_halves_differ(uint64_t v)
{
	return ((uint32_t)(v >> 32) != (uint32_t)v);
}

/* One round of the reader: both counters, halves compared. */
static void
torn_read(struct torn *t)
{
	uint64_t v[1];

	if (torn_halves_differ(counter_u64_fetch(t->c)))
		atomic_fetch_add(&t->torn, 1);
	counters_read(t->cm, v, 1, NULL);
	if (torn_halves_differ(v[0]))
		atomic_fetch_add(&t->torn, 1);
	atomic_fetch_add_explicit(&t->reads, 1, memory_order_relaxed);
}

#if PERCPU_MP
static void *
torn_thread(void *arg)
{
	struct harness_ctx *ctx = (struct harness_ctx *)arg;
	struct torn *t = (struct torn *)ctx->arg;
	unsigned i;

	if (ctx->index == TORN_WRITERS) {
		/* The reader: until the writers are done, and once more. */
		while (atomic_load(&t->writing) != 0)
			torn_read(t);
		torn_read(t);
		return (NULL);
	}
	for (i = 0; i < TORN_ADDS; i++) {
		counter_u64_add(t->c, (int64_t)TORN_STEP);
		counters_add(t->cm, 0, TORN_STEP);
	}
	atomic_fetch_sub(&t->writing, 1);
	return (NULL);
}
#endif

Test(torn, u64_counters_are_read_whole)
{
	struct torn t;
	uint64_t v[1];

	t.c = counter_u64_alloc(M_WAITOK);
	t.cm = counters_alloc(1);
	atomic_init(&t.torn, 0);
	atomic_init(&t.reads, 0);
#if PERCPU_MP
	atomic_init(&t.writing, TORN_WRITERS);
	harness_run(TORN_WRITERS + 1, torn_thread, &t);
#else
	{
		unsigned i;

		atomic_init(&t.writing, 0);
		for (i = 0; i < TORN_ADDS; i++) {
			counter_u64_add(t.c, (int64_t)TORN_STEP);
			counters_add(t.cm, 0, TORN_STEP);
			if (i % 64 == 0)
				torn_read(&t);
		}
	}
#endif
	cr_assert_eq(atomic_load(&t.torn), 0,
	    "%u of %u reads saw halves of different values",
	    atomic_load(&t.torn), atomic_load(&t.reads));
	cr_assert_gt(atomic_load(&t.reads), 0u);
	cr_assert_eq(counter_u64_fetch(t.c),
	    (uint64_t)(PERCPU_MP ? TORN_WRITERS : 1) * TORN_ADDS * TORN_STEP);
	counters_read(t.cm, v, 1, NULL);
	cr_assert_eq(v[0],
	    (uint64_t)(PERCPU_MP ? TORN_WRITERS : 1) * TORN_ADDS * TORN_STEP);
	counter_u64_free(t.c);
	counters_free(t.cm, 1);
}

/* What the test relies on, where the build claims it (x86, AArch64). */
Test(torn, u64_atomics_are_lock_free_here)
{
#if defined(__i386__) || defined(__x86_64__) || defined(__aarch64__)
	cr_assert_eq(ATOMIC_LLONG_LOCK_FREE, 2);
#endif
	cr_assert_eq(sizeof(_Atomic(uint64_t)), sizeof(uint64_t));
}
