/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shim.h - the C side of the benchmarks, callable from C++.
 *
 * The toolkit's headers are C11; Google Benchmark is C++.  Each function
 * here is compiled as C (bench/shim.c) and runs a whole loop of @n
 * operations, so the benchmark measures the operation, not a call per
 * operation.  Every loop has a baseline twin a user would pick instead.
 */
#ifndef BENCH_SHIM_H
#define BENCH_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Set up the objects the loops use (call once, single-threaded). */
void shim_setup(void);

/* percpu(9): n x (getref; ++*p; putref). */
void shim_percpu_getref_putref(uint64_t n);

/* Baselines. */
void shim_base_tls_add(uint64_t n); /* thread-local plain add: the limit */
void shim_base_shared_atomic(uint64_t n); /* one shared atomic counter */
void shim_base_getcpu_atomic(uint64_t n); /* sched_getcpu + atomic on a slot */

/* The backend in use, for the report. */
const char *shim_backend(void);

#ifdef __cplusplus
}
#endif

#endif /* BENCH_SHIM_H */
