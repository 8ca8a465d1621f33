/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ref.h - the reference functions of `make check-up`.
 *
 * api.c implements them with cpumem(9)/counters_alloc(9), counter(9) and
 * DPCPU(9) with critical sections in the UP build
 * (PERCPU_MP=0); plain.c implements the same behaviour on plain structs:
 * what a uniprocessor program would write without the API.  check-up
 * compiles both with gcc and clang at -O2 and requires their normalized
 * disassembly (test/up/normalize.sed) to be identical, function by
 * function; as a control it also requires the MP build of api.c to
 * differ.
 */
#ifndef REF_H
#define REF_H

#include <stdint.h>

/* Counter indices, as in the counters_alloc(9) man page. */
enum { REF_PKTS, REF_BYTES, REF_DROPS, REF_NCOUNTERS };

/* A per-CPU structure for the cpumem functions. */
struct ref_stats {
	uint64_t rx;
	uint64_t tx;
	unsigned int flags;
};

void ref_inc(void);
void ref_dec(void);
void ref_add(uint64_t v);
void ref_pkt(uint64_t len);
void ref_enter_leave(uint64_t len);
void ref_read(uint64_t *out);
void ref_read_n(uint64_t *out, unsigned int n);
void ref_zero(void);
void ref_boot_pkt(uint64_t len);
void ref_boot_inc(void);
void ref_mem_update(uint64_t len);
uint64_t ref_mem_sum(void);
void *ref_mem_first(void);
void ref_ctr_add(int64_t v);
uint64_t ref_ctr_fetch(void);
void ref_ctr_zero(void);
void ref_dpcpu_inc(void);
uint64_t ref_dpcpu_get(void);
void ref_dpcpu_set(uint64_t v);

#endif /* REF_H */
