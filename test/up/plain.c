/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plain.c - check-up: the reference functions on plain structs, the code
 * a uniprocessor program would write without cpumem.h.
 */
#include <stddef.h>

#include "ref.h"

struct ref_counters {
	uint64_t c[REF_NCOUNTERS];
};

/* What the program would allocate with malloc(). */
struct ref_counters *ref_counters;
struct ref_stats *ref_mem;

/* A plain global struct. */
static struct ref_counters ref_boot;

void
ref_inc(void)
{
	ref_counters->c[REF_DROPS]++;
}

void
ref_dec(void)
{
	ref_counters->c[REF_DROPS]--;
}

void
ref_add(uint64_t v)
{
	ref_counters->c[REF_BYTES] += v;
}

void
ref_pkt(uint64_t len)
{
	ref_counters->c[REF_PKTS]++;
	ref_counters->c[REF_BYTES] += len;
}

void
ref_enter_leave(uint64_t len)
{
	ref_counters->c[REF_PKTS]++;
	ref_counters->c[REF_BYTES] += len;
}

void
ref_read(uint64_t *out)
{
	const uint64_t *c = ref_counters->c;
	unsigned int i;

	for (i = 0; i < REF_NCOUNTERS; i++)
		out[i] = c[i];
}

void
ref_read_n(uint64_t *out, unsigned int n)
{
	const uint64_t *c = ref_counters->c;
	unsigned int i;

	for (i = 0; i < n; i++)
		out[i] = c[i];
}

void
ref_zero(void)
{
	unsigned int i;

	for (i = 0; i < REF_NCOUNTERS; i++)
		ref_counters->c[i] = 0;
}

void
ref_boot_pkt(uint64_t len)
{
	ref_boot.c[REF_PKTS]++;
	ref_boot.c[REF_BYTES] += len;
}

void
ref_boot_inc(void)
{
	ref_boot.c[REF_DROPS]++;
}

void
ref_mem_update(uint64_t len)
{
	ref_mem->rx += len;
	ref_mem->tx++;
}

uint64_t
ref_mem_sum(void)
{
	return (ref_mem->rx);
}

void *
ref_mem_first(void)
{
	return (ref_mem);
}

/* counter(9) without the API: a count and the value it had at the last
 * zero (so a zero never writes the count, as counter.h). */
struct plain_ctr {
	uint64_t count;
	uint64_t base;
};
struct plain_ctr *ref_ctr;

void
ref_ctr_add(int64_t v)
{
	ref_ctr->count += (uint64_t)v;
}

uint64_t
ref_ctr_fetch(void)
{
	return (ref_ctr->count - ref_ctr->base);
}

void
ref_ctr_zero(void)
{
	ref_ctr->base = ref_ctr->count;
}

/* DPCPU(9) without the API: a global. */
uint64_t ref_hits;

void
ref_dpcpu_inc(void)
{
	ref_hits++;
}

uint64_t
ref_dpcpu_get(void)
{
	return (ref_hits);
}

void
ref_dpcpu_set(uint64_t v)
{
	ref_hits = v;
}
