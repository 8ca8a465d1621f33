/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * 03-dpcpu-stats.c - per-CPU packet statistics with FreeBSD DPCPU(9).
 *
 * The statistics are a static per-CPU variable (DPCPU_DEFINE): no
 * allocation call, every CPU's copy starts from the definition's
 * initializer.  Eight "receive" threads account packets in a critical
 * section, so the plain ++ and += on this CPU's copy are exclusive; a
 * per-CPU budget (initialized to the same value on every CPU) is spent
 * the same way.  The main thread then walks CPU_FOREACH and sums with
 * DPCPU_VARSUM.
 *
 *	cc -std=c11 -I.. 03-dpcpu-stats.c -pthread && ./a.out
 */
#define PERCPU_IMPLEMENTATION
#include "dpcpu.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#define THREADS 8
#define PACKETS 200000

struct rx_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t over_budget;
};

DPCPU_DEFINE_STATIC(struct rx_stats, rx);
DPCPU_DEFINE_STATIC(int64_t, budget) = 400000000; /* bytes, every CPU */

static void *
receive(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	unsigned i;

	for (i = 0; i < PACKETS; i++) {
		uint64_t len = 64 + (i * 7 + id) % 1400; /* a "packet" */
		struct rx_stats *s;

		critical_enter(); /* this CPU's copies are ours until exit */
		s = DPCPU_PTR(rx);
		s->packets++;
		s->bytes += len;
		if (DPCPU_GET(budget) >= (int64_t)len)
			DPCPU_SET(budget, DPCPU_GET(budget) - (int64_t)len);
		else
			s->over_budget++;
		critical_exit();
	}
	return (NULL);
}

int
main(void)
{
	pthread_t t[THREADS];
	uint64_t packets;
	unsigned i, cpu;

	printf("DPCPU(9) receive statistics: %u possible CPUs (mp_maxid %u), "
	       "backend %s\n",
	    mp_ncpus, mp_maxid, percpu_backend());
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, receive, (void *)(uintptr_t)i);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	CPU_FOREACH(cpu) {
		struct rx_stats *s = DPCPU_ID_PTR(cpu, rx);

		if (s->packets != 0)
			printf("  cpu %3u: %9" PRIu64 " packets %11" PRIu64
			       " bytes, budget left %10" PRId64 ", %7" PRIu64
			       " over budget\n",
			    cpu, s->packets, s->bytes,
			    DPCPU_ID_GET(cpu, budget), s->over_budget);
	}
	packets = DPCPU_VARSUM(rx, packets);
	printf("  total  : %9" PRIu64 " packets %11" PRIu64
	       " bytes, budget left %10" PRId64 " of %" PRId64 "\n",
	    packets, DPCPU_VARSUM(rx, bytes), DPCPU_SUM(budget),
	    (int64_t)400000000 * mp_ncpus);
	printf("  expected %9u packets: %s\n", THREADS * PACKETS,
	    packets == (uint64_t)THREADS * PACKETS ? "exact" : "MISMATCH");
	return (packets == (uint64_t)THREADS * PACKETS ? 0 : 1);
}
