/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * user.c - a dlopen()ed module that uses the toolkit through the
 * implementation's exported API (libpc.so), as the "two copies" message
 * recommends: no PERCPU_IMPLEMENTATION here.  Its inline sequences live in
 * this object, whose slots the implementation never copies: they must
 * never start (else rseq_cs names a descriptor of an unmapped object
 * after dlclose(), a SIGSEGV at the thread's next context switch).
 */
#include "counter.h"
#include "percpu.h"

#include <stdint.h>

void user_add(counter_u64_t c, uint64_t n);
uint64_t user_sections(uint64_t n);

/* user_add - @n adds of 1 to @c (counter(9): the inline rseq add). */
void
user_add(counter_u64_t c, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		counter_u64_add(c, 1);
}

static void
user_sum(void *p, void *arg, struct cpu_info *ci)
{
	(void)ci;
	*(uint64_t *)arg += *(uint64_t *)p;
}

/* user_sections - @n percpu_getref() increments (the restartable lock);
 * returns their total. */
uint64_t
user_sections(uint64_t n)
{
	percpu_t *pc = percpu_alloc(sizeof(uint64_t));
	uint64_t i, sum = 0;

	for (i = 0; i < n; i++) {
		(*(uint64_t *)percpu_getref(pc))++;
		percpu_putref(pc);
	}
	percpu_foreach(pc, user_sum, &sum);
	percpu_free(pc, sizeof(uint64_t));
	return (sum);
}
