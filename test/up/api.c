/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * api.c - check-up: the reference functions written with cpumem.h.
 * Built with -DPERCPU_MP=0 (the proof) and -DPERCPU_MP=1 (the control).
 */
#include "counter.h"
#include "cpumem.h"
#include "dpcpu.h"
#include "ref.h"

/* Handles a UP program gets from counters_alloc() / cpumem_malloc(). */
struct cpumem *ref_counters;
struct cpumem *ref_mem;

/* Boot counters behind a constant handle: a static struct underneath. */
COUNTERS_BOOT_MEMORY(ref_boot, REF_NCOUNTERS);
static struct cpumem *const ref_bootc = COUNTERS_BOOT_INITIALIZER(ref_boot);

void
ref_inc(void)
{
	counters_inc(ref_counters, REF_DROPS);
}

void
ref_dec(void)
{
	counters_dec(ref_counters, REF_DROPS);
}

void
ref_add(uint64_t v)
{
	counters_add(ref_counters, REF_BYTES, v);
}

void
ref_pkt(uint64_t len)
{
	counters_pkt(ref_counters, REF_PKTS, REF_BYTES, len);
}

/* The counters_alloc(9) man page's update. */
void
ref_enter_leave(uint64_t len)
{
	struct counters_ref r;
	uint64_t *c = counters_enter(&r, ref_counters);

	c[REF_PKTS]++;
	c[REF_BYTES] += len;
	counters_leave(&r, ref_counters);
}

void
ref_read(uint64_t *out)
{
	counters_read(ref_counters, out, REF_NCOUNTERS, NULL);
}

void
ref_read_n(uint64_t *out, unsigned int n)
{
	counters_read(ref_counters, out, n, NULL);
}

void
ref_zero(void)
{
	counters_zero(ref_counters, REF_NCOUNTERS);
}

void
ref_boot_pkt(uint64_t len)
{
	counters_pkt(ref_bootc, REF_PKTS, REF_BYTES, len);
}

void
ref_boot_inc(void)
{
	counters_inc(ref_bootc, REF_DROPS);
}

void
ref_mem_update(uint64_t len)
{
	struct ref_stats *s = cpumem_enter(ref_mem);

	s->rx += len;
	s->tx++;
	cpumem_leave(ref_mem, s);
}

uint64_t
ref_mem_sum(void)
{
	struct cpumem_iter i;
	struct ref_stats *s;
	uint64_t sum = 0;

	CPUMEM_FOREACH(s, &i, ref_mem)
		sum += s->rx;
	return (sum);
}

void *
ref_mem_first(void)
{
	struct cpumem_iter i;

	return (cpumem_first(&i, ref_mem));
}

/* counter(9): a handle from counter_u64_alloc(). */
counter_u64_t ref_ctr;

void
ref_ctr_add(int64_t v)
{
	counter_u64_add(ref_ctr, v);
}

uint64_t
ref_ctr_fetch(void)
{
	return (counter_u64_fetch(ref_ctr));
}

void
ref_ctr_zero(void)
{
	counter_u64_zero(ref_ctr);
}

/* DPCPU(9): a per-CPU variable updated in a critical section. */
DPCPU_DEFINE(uint64_t, ref_hits);

void
ref_dpcpu_inc(void)
{
	critical_enter();
	DPCPU_SET(ref_hits, DPCPU_GET(ref_hits) + 1);
	critical_exit();
}

uint64_t
ref_dpcpu_get(void)
{
	return (DPCPU_GET(ref_hits));
}

void
ref_dpcpu_set(uint64_t v)
{
	DPCPU_SET(ref_hits, v);
}
