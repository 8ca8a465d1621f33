/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * 02-cpumem-counters.c - per-CPU packet and byte counters with OpenBSD
 * counters_alloc(9).
 *
 * Eight "receive" threads count packets: counters_pkt() adds one packet
 * and its length to the counters of the CPU the thread runs on, in one
 * exclusive section (no shared atomic, no lock shared between CPUs).
 * Meanwhile the main thread reads the totals over and over with
 * counters_read(): each CPU's set is read as a consistent snapshot (the
 * generation protocol), so a packet is never seen without its bytes, and
 * every live total satisfies 64 <= bytes / packets <= 1500.  At the end it
 * prints every CPU's counters (counters_read_cpu()) and their sum, which
 * must be exact.
 *
 *	cc -std=c11 -I.. 02-cpumem-counters.c -pthread && ./a.out
 *
 * The threads run in parallel, so this needs the MP build (the default).
 * A uniprocessor program (-DPERCPU_MP=0) makes the same calls on its one
 * core, where counters_pkt() compiles to two plain adds (make check-up).
 */
#define PERCPU_IMPLEMENTATION
#include "cpumem.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define THREADS 8
#define PACKETS 200000

enum { ifc_packets, ifc_bytes, ifc_drops, ifc_ncounters };

static struct cpumem *ifc_counters;
static atomic_int receiving = THREADS;

/* The length of packet @i of thread @id: 64 .. 1500 bytes. */
static uint64_t
pkt_len(unsigned id, unsigned i)
{
	return (64 + (i * 7u + id * 131u) % 1437u);
}

static void *
receive(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	unsigned i;

	for (i = 0; i < PACKETS; i++) {
		counters_pkt(ifc_counters, ifc_packets, ifc_bytes,
		    pkt_len(id, i));
		if (i % 1000 == 999)
			counters_inc(ifc_counters, ifc_drops);
	}
	atomic_fetch_sub(&receiving, 1);
	return (NULL);
}

int
main(void)
{
	uint64_t c[ifc_ncounters], want_bytes = 0;
	unsigned long reads = 0, bad = 0;
	pthread_t t[THREADS];
	unsigned cpu, i;
	int exact;

	ifc_counters = counters_alloc(ifc_ncounters);
	printf("counters_alloc(9) packet counters: %u possible CPUs, backend "
	       "%s\n",
	    percpu_ncpus(), percpu_backend());
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, receive, (void *)(uintptr_t)i);

	/* Live reads while the receivers run. */
	while (atomic_load(&receiving) > 0) {
		counters_read(ifc_counters, c, ifc_ncounters, NULL);
		if (c[ifc_bytes] < 64 * c[ifc_packets] ||
		    c[ifc_bytes] > 1500 * c[ifc_packets])
			bad++;
		reads++;
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("  %lu live reads while receiving, %lu inconsistent\n", reads,
	    bad);

	PERCPU_FOREACH_CPU(cpu) {
		(void)counters_read_cpu(ifc_counters, cpu, c, ifc_ncounters);
		if (c[ifc_packets] != 0)
			printf("  cpu %3u: %9" PRIu64 " packets %12" PRIu64
			       " bytes %5" PRIu64 " drops\n",
			    cpu, c[ifc_packets], c[ifc_bytes], c[ifc_drops]);
	}
	counters_read(ifc_counters, c, ifc_ncounters, NULL);
	printf("  total  : %9" PRIu64 " packets %12" PRIu64 " bytes %5" PRIu64
	       " drops\n",
	    c[ifc_packets], c[ifc_bytes], c[ifc_drops]);

	for (i = 0; i < THREADS; i++) {
		unsigned j;

		for (j = 0; j < PACKETS; j++)
			want_bytes += pkt_len(i, j);
	}
	exact = c[ifc_packets] == (uint64_t)THREADS * PACKETS &&
	    c[ifc_bytes] == want_bytes &&
	    c[ifc_drops] == (uint64_t)THREADS * (PACKETS / 1000) && bad == 0;
	printf("  expected %9u packets %12" PRIu64 " bytes: %s\n",
	    THREADS * PACKETS, want_bytes, exact ? "exact" : "MISMATCH");
	counters_free(ifc_counters, ifc_ncounters);
	return (exact ? 0 : 1);
}
