/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * 04-counter.c - FreeBSD counter(9): lossless per-CPU 64-bit counters.
 *
 * Eight threads count requests and bytes (counter_u64_add: no lock, no
 * shared cache line), a latency histogram (COUNTER_ARRAY_*), and drops on
 * a counter nobody allocates (COUNTER_U64_DEFINE_EARLY).  Then the main
 * thread fetches, zeroes, and shows counter_ratecheck() limiting a log
 * message to 5 per second.
 *
 *	cc -std=c11 -I.. 04-counter.c -pthread && ./a.out
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#define PERCPU_IMPLEMENTATION
#include "counter.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define THREADS 8
#define REQUESTS 200000
#define BUCKETS 4

static counter_u64_t requests, bytes;
static counter_u64_t latency[BUCKETS];	/* <1ms, <10ms, <100ms, more */
static COUNTER_U64_DEFINE_EARLY(drops); /* no alloc call anywhere */

static void *
worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	unsigned i;

	for (i = 0; i < REQUESTS; i++) {
		unsigned r = i * 2654435761u + id;

		counter_u64_add(requests, 1);
		counter_u64_add(bytes, 100 + r % 900);
		counter_u64_add(latency[(r >> 8) % BUCKETS], 1);
		if (r % 1000 == 0)
			counter_u64_add(drops, 1);
	}
	return (NULL);
}

int
main(void)
{
	struct counter_rate cr = {NULL, 0, 0, 0};
	struct timespec pause = {1, 100000000};
	uint64_t hist[BUCKETS], sum = 0;
	pthread_t t[THREADS];
	unsigned i, logged = 0, suppressed = 0;
	int64_t r;

	requests = counter_u64_alloc(M_WAITOK);
	bytes = counter_u64_alloc(M_WAITOK);
	COUNTER_ARRAY_ALLOC(latency, BUCKETS, M_WAITOK);
	printf("counter(9): %u possible CPUs, backend %s\n", percpu_ncpus(),
	    percpu_backend());
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	COUNTER_ARRAY_COPY(latency, hist, BUCKETS);
	for (i = 0; i < BUCKETS; i++)
		sum += hist[i];
	printf("  requests %" PRIu64 " (expected %u), bytes %" PRIu64
	       ", drops %" PRIu64 "\n",
	    counter_u64_fetch(requests), THREADS * REQUESTS,
	    counter_u64_fetch(bytes), counter_u64_fetch(drops));
	printf("  latency histogram %" PRIu64 " %" PRIu64 " %" PRIu64
	       " %" PRIu64 " (sum %" PRIu64 ")\n",
	    hist[0], hist[1], hist[2], hist[3], sum);
	if (counter_u64_fetch(requests) != (uint64_t)THREADS * REQUESTS ||
	    sum != (uint64_t)THREADS * REQUESTS)
		return (1);

	counter_u64_zero(requests);
	counter_u64_add(requests, 5);
	printf("  after counter_u64_zero and 5 adds: %" PRIu64 "\n",
	    counter_u64_fetch(requests));

	/* A noisy event, logged at most 5 times per second. */
	cr.cr_rate = counter_u64_alloc(M_WAITOK);
	for (i = 0; i < 20; i++) {
		if (counter_ratecheck(&cr, 5) == 0)
			logged++;
		else
			suppressed++;
	}
	printf("  ratecheck, 20 events in one second, limit 5: %u logged, "
	       "%u suppressed\n",
	    logged, suppressed);
	(void)nanosleep(&pause, NULL);
	r = counter_ratecheck(&cr, 5);
	printf("  next second: counter_ratecheck returns %" PRId64
	       " (events of the window that went over the limit)\n",
	    r);

	counter_u64_free(cr.cr_rate);
	COUNTER_ARRAY_FREE(latency, BUCKETS);
	counter_u64_free(bytes);
	counter_u64_free(requests);
	return (logged == 5 && r == 20 ? 0 : 1);
}
