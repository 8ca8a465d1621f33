/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * impl.c - the test programs' one definition of the toolkit's state, and
 * the helpers of harness.h.
 */
#define _GNU_SOURCE
#define PERCPU_IMPLEMENTATION
#include "harness.h"
/* The faces with state of their own: their implementation blocks. */
#include "counter.h"
#include "dpcpu.h"
/* Inspection: the writer's and the reader's implementation blocks. */
#include "kvm_pcpu.h"
#include "percpu_export.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

unsigned
harness_threads(void)
{
#if PERCPU_MP
	unsigned n = 4 * percpu_ncpus();

	return (n < 8 ? 8 : n > 64 ? 64 : n);
#else
	return (1);
#endif
}

void
harness_run(unsigned n, void *(*fn)(void *), void *arg)
{
	pthread_t *t = calloc(n, sizeof(*t));
	struct harness_ctx *c = calloc(n, sizeof(*c));
	unsigned i;

	cr_assert(t != NULL && c != NULL);
	for (i = 0; i < n; i++) {
		c[i].index = i;
		c[i].arg = arg;
		cr_assert_eq(pthread_create(&t[i], NULL, fn, &c[i]), 0);
	}
	for (i = 0; i < n; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	free(t);
	free(c);
}

uint32_t
harness_rand(uint32_t *seed)
{
	uint32_t x = *seed != 0 ? *seed : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*seed = x;
	return (x);
}

void
harness_jiggle(uint32_t *seed)
{
	uint32_t r = harness_rand(seed) % 16;
	volatile unsigned spin;

	if (r == 0)
		(void)sched_yield();
	else if (r < 4)
		for (spin = 0; spin < 200; spin++)
			;
}

void
harness_shuffle_affinity(uint32_t *seed)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t pick;
	size_t cpu, any = 0;

	if (n < 1 || n > 1024)
		n = 1;
	CPU_ZERO(&pick);
	for (cpu = 0; cpu < (size_t)n; cpu++) {
		if (harness_rand(seed) & 1u) {
			CPU_SET(cpu, &pick);
			any = 1;
		}
	}
	if (!any)
		CPU_SET(harness_rand(seed) % (size_t)n, &pick);
	/* EINVAL when a cgroup forbids the pick: then the thread stays. */
	(void)sched_setaffinity(0, sizeof(pick), &pick);
}

void
harness_migrate(unsigned i, uint32_t *seed)
{
#if PERCPU_MD == PERCPU_MD_LINUX
	if ((i & 255) == 0)
		harness_shuffle_affinity(seed);
#elif PERCPU_MD == PERCPU_MD_SIM
	if ((i & 15) == 0)
		percpu_sim_migrate(harness_rand(seed) % 256);
#else
	(void)i;
	(void)seed;
#endif
}

uint64_t
harness_now_ms(void)
{
	struct timespec ts = {0, 0};

	(void)clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail here */
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

int
harness_waited_too_long(uint64_t since_ms)
{
	return (harness_now_ms() - since_ms > (uint64_t)HARNESS_WAIT_S * 1000);
}

int
harness_stamp(volatile uintptr_t *owner, uintptr_t me, uint32_t *seed)
{
	int stolen;

	*owner = me;
	harness_jiggle(seed);
	stolen = (*owner != me);
	*owner = 0;
	return (stolen);
}

static atomic_uint harness_nerr;
static char harness_msg[256];

static void
harness_on_error(const char *msg)
{
	snprintf(harness_msg, sizeof(harness_msg), "%s", msg);
	atomic_fetch_add(&harness_nerr, 1);
}

void
harness_capture_errors(void)
{
	(void)percpu_set_error_handler(harness_on_error);
}

unsigned
harness_errors(void)
{
	return (atomic_load(&harness_nerr));
}

const char *
harness_last_error(void)
{
	return (harness_msg);
}
