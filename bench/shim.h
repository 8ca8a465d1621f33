/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shim.h - the C side of the benchmarks, callable from C++.
 *
 * The toolkit's headers are C11; Google Benchmark is C++.  Each loop here
 * is compiled as C (bench/shim.c) and runs @n operations, so a benchmark
 * measures the operation, not a call per operation.  Every operation of
 * ours has baselines a user would pick instead, in the same binary.
 */
#ifndef BENCH_SHIM_H
#define BENCH_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Set up the objects the loops use (once, before any benchmark thread). */
void shim_setup(void);

/* A benchmark thread's start and end: pin it (shim_pin) or not. */
void shim_thread_start(int pin, unsigned index);
void shim_thread_end(void);

/* Ours. */
void shim_counter_u64_add(uint64_t n);	    /* counter(9) add */
void shim_counters_inc(uint64_t n);	    /* counters_alloc(9) inc */
void shim_counters_pkt(uint64_t n);	    /* counters_alloc(9) pkt */
void shim_percpu_getref_putref(uint64_t n); /* percpu(9) getref; ++; putref */
void shim_cpumem_enter_leave(uint64_t n);   /* cpumem(9) enter; ++; leave */
void shim_dpcpu_critical_inc(uint64_t n);   /* critical_enter; DPCPU ++; exit */
void shim_counter_u64_fetch(uint64_t n);    /* counter(9) fetch */
void shim_counters_read(uint64_t n);	    /* counters_alloc(9) read, 4 */
void shim_percpu_local_add64(uint64_t n);   /* percpu_local_add64 */

/* Allocation: @live counters stay allocated beside the loop's (set once
 * per benchmark, single-threaded); shim_counter_alloc_free(n) allocates n
 * counters (n <= 1000), then frees them. */
void shim_alloc_live(unsigned live);
void shim_counter_alloc_free(uint64_t n);

/*
 * Fairness: @threads threads loop on percpu_getref/putref while this one
 * runs percpu_foreach_xcall @rounds times; the mean and the largest
 * time of one xcall, in ms.
 */
void shim_xcall_under_load(unsigned threads, unsigned rounds, double *mean_ms,
    double *max_ms);

/* Baselines. */
void shim_base_tls_add(uint64_t n); /* thread-local plain add: the limit */
/* The floor of a per-CPU add: one restartable add on a static per-CPU
 * array, librseq's shape (rseq backend; else an atomic on the slot). */
void shim_base_rseq_add(uint64_t n);
/* The stores of a section (6) and of a counters section (8), alone. */
void shim_base_section_stores(uint64_t n);
void shim_base_counters_stores(uint64_t n);
/* critical_enter; a plain global ++; critical_exit: DPCPU's baseline */
void shim_base_critical_plain_inc(uint64_t n);
/* the same around an unchecked DPCPU lookup (an offset load and an add) */
void shim_base_critical_unchecked_inc(uint64_t n);
/* the same, with DPCPU's fallback for state 0 (outside a section) */
void shim_base_critical_fallback_inc(uint64_t n);
void shim_base_indexed_add(uint64_t n);	   /* plain add via a computed index */
void shim_base_shared_atomic(uint64_t n);  /* one shared atomic counter */
void shim_base_striped_atomic(uint64_t n); /* LongAdder-like stripes */
void shim_base_getcpu_atomic(uint64_t n);  /* sched_getcpu + atomic on a slot */
void shim_base_private_lock_add(uint64_t n); /* lock add on a private slot */
void shim_base_getcpu_private_lock_add(uint64_t n); /* both of the above */

/* Facts for the report. */
const char *shim_backend(void);
unsigned shim_ncpus(void);
/* Per-CPU bytes of one object, measured (two objects allocated back to
 * back): call single-threaded. */
size_t shim_bytes_counter_u64(void);
size_t shim_bytes_counters(unsigned n);
size_t shim_bytes_percpu(size_t size);

#ifdef __cplusplus
}
#endif

#endif /* BENCH_SHIM_H */
