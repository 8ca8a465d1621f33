/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - a small consumer of the installed, namespaced headers, built
 * vendored, through pkg-config, find_package and add_subdirectory
 * (test/lib/check-consumers.sh).  Prints "consumer <version> ok" when
 * every sum is exact, including the C++ file's (cxx.cc).
 */
#include <percpu/counter.h>
#include <percpu/cpumem.h>
#include <percpu/dpcpu.h>
#include <percpu/percpu.h>
#include <stdio.h>

DPCPU_DEFINE_STATIC(unsigned, consumer_hits);

uint64_t consumer_cxx_threads(counter_u64_t c, unsigned nthreads,
    unsigned per_thread);

int
main(void)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);
	struct cpumem *cm = counters_alloc(1);
	uint64_t v;
	unsigned i;

	for (i = 0; i < 100; i++) {
		counters_inc(cm, 0);
		critical_enter();
		DPCPU_SET(consumer_hits, DPCPU_GET(consumer_hits) + 1);
		critical_exit();
	}
	counters_read(cm, &v, 1, NULL);
	if (v != 100 || DPCPU_SUM(consumer_hits) != 100 ||
	    consumer_cxx_threads(c, 4, 10000) != 40000) {
		printf("consumer: wrong sums\n");
		return (1);
	}
	printf("consumer %d.%d.%d ok\n", PERCPU_VERSION_MAJOR,
	    PERCPU_VERSION_MINOR, PERCPU_VERSION_PATCH);
	counters_free(cm, 1);
	counter_u64_free(c);
	return (0);
}
