/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * 01-percpu-stats.c - per-CPU request statistics with NetBSD percpu(9).
 *
 * Eight "server" threads handle requests.  Each request updates the
 * statistics of the CPU the thread runs on, inside percpu_getref() /
 * percpu_putref(): no shared atomic, no lock shared between CPUs.  At the
 * end the main thread prints every CPU's statistics and their sum, read
 * consistently with percpu_foreach_xcall().
 *
 *	cc -std=c11 -I.. 01-percpu-stats.c -pthread && ./a.out
 */
#define PERCPU_IMPLEMENTATION
#include "percpu.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#define THREADS 8
#define REQUESTS 200000

struct req_stats {
	uint64_t requests;
	uint64_t bytes;
	uint64_t errors;
};

static percpu_t *stats;

static void *
server(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	unsigned i;

	for (i = 0; i < REQUESTS; i++) {
		uint64_t size = 100 + (i + id) % 900; /* a "response" */
		struct req_stats *s = percpu_getref(stats);

		s->requests++;
		s->bytes += size;
		s->errors += (i % 1000 == 0);
		percpu_putref(stats);
	}
	return (NULL);
}

static void
show(void *p, void *arg, struct cpu_info *ci)
{
	struct req_stats *s = p, *total = arg;

	if (s->requests != 0)
		printf("  cpu %3u: %9" PRIu64 " requests %11" PRIu64
		       " bytes %5" PRIu64 " errors\n",
		    cpu_index(ci), s->requests, s->bytes, s->errors);
	total->requests += s->requests;
	total->bytes += s->bytes;
	total->errors += s->errors;
}

int
main(void)
{
	struct req_stats total = {0, 0, 0};
	pthread_t t[THREADS];
	unsigned i;

	stats = percpu_alloc(sizeof(struct req_stats));
	printf("percpu(9) request statistics: %u possible CPUs, backend %s\n",
	    percpu_ncpus(), percpu_backend());
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, server, (void *)(uintptr_t)i);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	percpu_foreach_xcall(stats, 0, show, &total);
	printf("  total  : %9" PRIu64 " requests %11" PRIu64 " bytes %5" PRIu64
	       " errors\n",
	    total.requests, total.bytes, total.errors);
	printf("  expected %9u requests: %s\n", THREADS * REQUESTS,
	    total.requests == (uint64_t)THREADS * REQUESTS ? "exact" :
							     "MISMATCH");
	percpu_free(stats, sizeof(struct req_stats));
	return (total.requests == (uint64_t)THREADS * REQUESTS ? 0 : 1);
}
