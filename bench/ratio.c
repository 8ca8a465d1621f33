/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ratio.c - the hot paths against the floor, robust to a loaded machine.
 *
 * One thread, one binary.  ROUNDS rounds; in each, every loop of shim.h
 * is timed TRIES times over N operations, each try right after a try of
 * the floor (shim_base_rseq_add: one restartable add on a static per-CPU
 * array), and the fastest try of each kept (other processes only ever add
 * time, so the minimum is the operation's own cost); the operation's
 * time is divided by the floor's fastest try among those interleaved
 * with it (the same moments: a clock that moves with the host's load
 * moves both).  Built on the simulated port too (ratio-sim, run with
 * 256 possible CPUs: the fetch side; there the "floor" is an atomic).  Printed:
 * the median of the per-round ratios, and the median of the per-round minimum
 * times.  `make bench-ratio` runs it.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shim.h"

#define ROUNDS 7
#define TRIES 200
#define N 2000

struct op {
	const char *name;
	void (*loop)(uint64_t);
	double ns[ROUNDS];
	double ratio[ROUNDS];
};

static struct op ops[] = {
    {"base_rseq_add (floor)", shim_base_rseq_add, {0}, {0}},
    {"base_indexed_add", shim_base_indexed_add, {0}, {0}},
    {"base_tls_add", shim_base_tls_add, {0}, {0}},
    {"counter_u64_add", shim_counter_u64_add, {0}, {0}},
    {"percpu_local_add64", shim_percpu_local_add64, {0}, {0}},
    {"base_section_stores (6 stores)", shim_base_section_stores, {0}, {0}},
    {"base_counters_stores (8 stores)", shim_base_counters_stores, {0}, {0}},
    {"percpu_getref_putref", shim_percpu_getref_putref, {0}, {0}},
    {"cpumem_enter_leave", shim_cpumem_enter_leave, {0}, {0}},
    {"counters_inc", shim_counters_inc, {0}, {0}},
    {"counters_pkt", shim_counters_pkt, {0}, {0}},
    {"dpcpu_critical_inc", shim_dpcpu_critical_inc, {0}, {0}},
    {"base_critical_plain_inc", shim_base_critical_plain_inc, {0}, {0}},
    {"base_critical_unchecked_inc", shim_base_critical_unchecked_inc, {0}, {0}},
    {"base_critical_fallback_inc", shim_base_critical_fallback_inc, {0}, {0}},
    {"counter_u64_fetch", shim_counter_u64_fetch, {0}, {0}},
    {"counters_read (4 counters)", shim_counters_read, {0}, {0}},
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e9 + (double)ts.tv_nsec);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

static double
median(const double *v)
{
	double s[ROUNDS];
	unsigned i;

	for (i = 0; i < ROUNDS; i++)
		s[i] = v[i];
	qsort(s, ROUNDS, sizeof(s[0]), cmp_double);
	return (s[ROUNDS / 2]);
}

/* All rounds over ops[0..nops), the first being the floor. */
static void
measure(struct op *set, unsigned nops)
{
	unsigned r, i, t;

	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < nops; i++) {
			double best = 1e30, floor = 1e30;

			set[0].loop(N); /* warm */
			set[i].loop(N);
			for (t = 0; t < TRIES; t++) {
				double t0 = now_ns(), t1, t2;

				set[0].loop(N);
				t1 = now_ns();
				set[i].loop(N);
				t2 = now_ns();
				if (t1 - t0 < floor)
					floor = t1 - t0;
				if (t2 - t1 < best)
					best = t2 - t1;
			}
			set[i].ns[r] = best / N;
			set[i].ratio[r] = best / floor;
		}
	}
}

/* The same thread pinned (percpu_pin: the add's out-of-line path). */
static struct op pinned[] = {
    {"base_rseq_add (floor)", shim_base_rseq_add, {0}, {0}},
    {"counter_u64_add", shim_counter_u64_add, {0}, {0}},
};

/* PERCPU_BACKEND=getcpu: the atomic backend against its own floor, a
 * sched_getcpu() and a lock add on a private line (the earlier target:
 * counter_u64_add at most 1.2x that). */
static struct op getcpu_ops[] = {
    {"base_getcpu_private_lock_add (floor)", shim_base_getcpu_private_lock_add,
	{0}, {0}},
    {"counter_u64_add", shim_counter_u64_add, {0}, {0}},
    {"percpu_local_add64", shim_percpu_local_add64, {0}, {0}},
};

int
main(void)
{
	unsigned i;

	shim_setup();
	if (strcmp(shim_backend(), "getcpu") == 0) {
		measure(getcpu_ops, 3);
		printf("backend getcpu, %u possible CPUs; %d rounds, fastest "
		       "of %d tries of %d ops each; medians\n",
		    shim_ncpus(), ROUNDS, TRIES, N);
		printf("%-46s %10s %12s\n", "operation", "ns/op", "/ floor");
		for (i = 0; i < 3; i++)
			printf("getcpu %-39s %10.2f %12.2f\n",
			    getcpu_ops[i].name, median(getcpu_ops[i].ns),
			    median(getcpu_ops[i].ratio));
		return (0);
	}
	measure(ops, NOPS);
	printf("backend %s, %u possible CPUs; %d rounds, fastest of %d tries "
	       "of %d ops each; medians\n",
	    shim_backend(), shim_ncpus(), ROUNDS, TRIES, N);
	printf("%-32s %10s %12s\n", "operation", "ns/op", "/ floor");
	for (i = 0; i < NOPS; i++)
		printf("%-32s %10.2f %12.2f\n", ops[i].name, median(ops[i].ns),
		    median(ops[i].ratio));
	shim_thread_start(1, 0);
	measure(pinned, 2);
	shim_thread_end();
	printf("pinned thread (percpu_pin):\n");
	for (i = 0; i < 2; i++)
		printf("%-32s %10.2f %12.2f\n", pinned[i].name,
		    median(pinned[i].ns), median(pinned[i].ratio));
	return (0);
}
