/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * icount.c - instructions per operation, counted by callgrind.
 *
 * Timings on a shared 2-core machine move with the load; instruction
 * counts do not.  This runs each shim loop once for N operations on one
 * thread; `make bench-icount` runs it under valgrind --tool=callgrind
 * and divides each loop's inclusive instruction count by N.  (Under
 * valgrind glibc's rseq registration is absent, so the backend is
 * "getcpu" unless PERCPU_BACKEND says otherwise; the rseq path's count is
 * taken from its disassembly in RESULTS.md.)
 */
#include <stdio.h>

#include "shim.h"

#define N 100000

int
main(void)
{
	shim_setup();
	shim_base_tls_add(N);
	shim_base_shared_atomic(N);
	shim_base_getcpu_atomic(N);
	shim_base_getcpu_private_lock_add(N);
	shim_counter_u64_add(N);
	shim_counters_inc(N);
	shim_counters_pkt(N);
	shim_percpu_getref_putref(N);
	shim_cpumem_enter_leave(N);
	shim_dpcpu_critical_inc(N);
	shim_counter_u64_fetch(N);
	printf("icount: %d operations per loop, backend %s\n", N,
	    shim_backend());
	return (0);
}
