/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * prom_writer.c - exports known values and writes a snapshot, for
 * test/lib/check-prom.sh: counter(9) "net.rx" = 3000 (two threads of
 * 1500 adds), counters set "if-stats" = {100, 200, 300}, DPCPU int
 * "quota" = 7 on every possible CPU.  Prints the number of possible CPUs.
 *
 * usage: prom_writer SNAPSHOT
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define PERCPU_IMPLEMENTATION
#include "percpu_export.h"

DPCPU_DEFINE_STATIC(int, quota) = 7;

static void *
adder(void *arg)
{
	unsigned i;

	for (i = 0; i < 1500; i++)
		counter_u64_add((counter_u64_t)arg, 1);
	return (NULL);
}

int
main(int argc, char **argv)
{
	char name[64];
	counter_u64_t rx, rx2;
	struct cpumem *st, *ip;
	pthread_t t[2];
	int i;

	if (argc != 2)
		return (2);
	snprintf(name, sizeof(name), "i14prom%ld", (long)getpid());
	if (percpu_export_open(name, NULL) != 0) {
		fprintf(stderr, "prom_writer: %s\n", percpu_export_error());
		return (1);
	}
	rx = counter_u64_alloc(M_WAITOK);
	st = counters_alloc(3);
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, adder, rx);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	counters_add(st, 0, 100);
	counters_add(st, 1, 200);
	counters_add(st, 2, 300);
	/* 40 counters (more than pcpustat's text display shows), and a
	 * counter whose metric name is net.rx's (net_rx). */
	ip = counters_alloc(40);
	for (i = 0; i < 40; i++)
		counters_add(ip, (unsigned)i, (uint64_t)i + 1);
	rx2 = counter_u64_alloc(M_WAITOK);
	counter_u64_add(rx2, 5);
	if (percpu_export_counter_u64("net.rx", rx) != 0 ||
	    percpu_export_counters("if-stats", st, 3) != 0 ||
	    percpu_export_counters("ipstat", ip, 40) != 0 ||
	    percpu_export_counter_u64("net_rx", rx2) != 0 ||
	    PERCPU_EXPORT_DPCPU(quota) != 0 ||
	    percpu_export_snapshot(argv[1]) != 0) {
		fprintf(stderr, "prom_writer: %s\n", percpu_export_error());
		percpu_export_close();
		return (1);
	}
	percpu_export_close();
	printf("%u\n", percpu_ncpus());
	return (0);
}
