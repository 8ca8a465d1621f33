/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shim.c - benchmark loops, compiled as C11 (see shim.h).
 */
#define _GNU_SOURCE
#define PERCPU_IMPLEMENTATION
#include "percpu.h"

#include <sched.h>
#include <stdatomic.h>

#include "shim.h"

static percpu_t *bench_pc;
static _Atomic uint64_t bench_shared;
/* One slot per CPU id, a cache line each: the hand-rolled alternative. */
static struct {
	_Atomic uint64_t v;
	char pad[64 - sizeof(uint64_t)];
} bench_slots[PERCPU_MAXCPU];
static _Thread_local uint64_t bench_tls;

void
shim_setup(void)
{
	if (bench_pc == NULL)
		bench_pc = percpu_alloc(sizeof(uint64_t));
}

void
shim_percpu_getref_putref(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		uint64_t *p = percpu_getref(bench_pc);

		++*p;
		percpu_putref(bench_pc);
	}
}

void
shim_base_tls_add(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		/* volatile-free but kept: the compiler may not fold the loop
		 * because bench_tls is visible to other functions. */
		bench_tls++;
		__asm__ __volatile__("" ::: "memory");
	}
}

void
shim_base_shared_atomic(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		atomic_fetch_add_explicit(&bench_shared, 1,
		    memory_order_relaxed);
}

void
shim_base_getcpu_atomic(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		int cpu = sched_getcpu();

		atomic_fetch_add_explicit(
		    &bench_slots[(unsigned)cpu % PERCPU_MAXCPU].v, 1,
		    memory_order_relaxed);
	}
}

const char *
shim_backend(void)
{
	return (percpu_backend());
}
