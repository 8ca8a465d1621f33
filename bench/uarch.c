/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uarch.c - what bounds the hot paths on this machine: the throughput of
 * stores, loads, branches and read-modify-writes, in cycles per loop
 * iteration, against a chain of dependent adds (one cycle each) as the
 * clock.
 *
 * Each loop is an asm statement (the compiler adds nothing), timed 300
 * times over N iterations, fastest kept.  `make bench-uarch` runs it;
 * x86-64 only (elsewhere it says so and exits 0).  bench/RESULTS.md
 * quotes its output: the sections' cost follows their instruction count
 * (about 5.5 instructions per cycle), not their stores.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define N 100000

#if defined(__x86_64__)
static uint64_t uarch_buf[32] __attribute__((aligned(64)));

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e9 + (double)ts.tv_nsec);
}

/* UARCH_LOOP(name, body): N iterations of @body (%0 = uarch_buf). */
# define UARCH_LOOP(name, body)                                    \
  static void name(void)                                           \
  {                                                                \
   uint64_t *p = uarch_buf;                                        \
   long i;                                                         \
                                                                   \
   for (i = 0; i < N; i++)                                         \
    __asm__ __volatile__(body : : "r"(p) : "memory", "rax", "cc"); \
  }

/* 12 dependent adds: 12 cycles, the clock. */
UARCH_LOOP(uarch_adds12,
    "add $1,%%rax\n\tadd $1,%%rax\n\tadd $1,%%rax\n\tadd $1,%%rax\n\t"
    "add $1,%%rax\n\tadd $1,%%rax\n\tadd $1,%%rax\n\tadd $1,%%rax\n\t"
    "add $1,%%rax\n\tadd $1,%%rax\n\tadd $1,%%rax\n\tadd $1,%%rax")
UARCH_LOOP(uarch_stores2, "movq $1,0(%0)\n\tmovq $2,8(%0)")
UARCH_LOOP(uarch_stores4,
    "movq $1,0(%0)\n\tmovq $2,8(%0)\n\tmovq $3,16(%0)\n\tmovq $4,24(%0)")
UARCH_LOOP(uarch_stores8,
    "movq $1,0(%0)\n\tmovq $2,8(%0)\n\tmovq $3,16(%0)\n\tmovq $4,24(%0)\n\t"
    "movq $5,32(%0)\n\tmovq $6,40(%0)\n\tmovq $7,48(%0)\n\tmovq $8,56(%0)")
UARCH_LOOP(uarch_stores4_lines,
    "movq $1,0(%0)\n\tmovq $2,64(%0)\n\tmovq $3,128(%0)\n\t"
    "movq $4,192(%0)")
UARCH_LOOP(uarch_loads8,
    "movq 0(%0),%%rax\n\tmovq 8(%0),%%rax\n\tmovq 16(%0),%%rax\n\t"
    "movq 24(%0),%%rax\n\tmovq 32(%0),%%rax\n\tmovq 40(%0),%%rax\n\t"
    "movq 48(%0),%%rax\n\tmovq 56(%0),%%rax")
UARCH_LOOP(uarch_branches6,
    "test %0,%0\n\tjz 1f\n\ttest %0,%0\n\tjz 1f\n\ttest %0,%0\n\tjz 1f\n\t"
    "test %0,%0\n\tjz 1f\n\ttest %0,%0\n\tjz 1f\n\ttest %0,%0\n\tjz 1f\n"
    "1:")
UARCH_LOOP(uarch_rmw1, "addq $1,0(%0)")
UARCH_LOOP(uarch_rmw2_same, "orq $1,0(%0)\n\taddq $1,0(%0)")
UARCH_LOOP(uarch_rmw2_apart, "addq $1,0(%0)\n\taddq $1,64(%0)")

static double
uarch_time(void (*loop)(void))
{
	double best = 1e30;
	int t;

	for (t = 0; t < 300; t++) {
		double t0 = now_ns(), d;

		loop();
		d = now_ns() - t0;
		if (d < best)
			best = d;
	}
	return (best / N);
}

int
main(void)
{
	static const struct {
		const char *name;
		void (*loop)(void);
	} rows[] = {
	    {"2 stores (one cache line)", uarch_stores2},
	    {"4 stores (one cache line)", uarch_stores4},
	    {"8 stores (one cache line)", uarch_stores8},
	    {"4 stores, 4 cache lines", uarch_stores4_lines},
	    {"8 loads", uarch_loads8},
	    {"6 not-taken branches", uarch_branches6},
	    {"1 add to memory (a chain)", uarch_rmw1},
	    {"or + add to one word (a chain)", uarch_rmw2_same},
	    {"2 adds to memory, 2 lines", uarch_rmw2_apart},
	};
	double cycle = uarch_time(uarch_adds12) / 12.0;
	unsigned i;

	printf("clock: %.3f ns per cycle (%.2f GHz), from 12 dependent adds\n",
	    cycle, 1.0 / cycle);
	printf("%-34s %s\n", "loop body (+ the loop's own 3)", "cycles/iter");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		printf("%-34s %8.2f\n", rows[i].name,
		    uarch_time(rows[i].loop) / cycle);
	return (0);
}
#else
int
main(void)
{
	printf("uarch: x86-64 only; nothing measured here\n");
	return (0);
}
#endif
