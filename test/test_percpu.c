/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_percpu.c - NetBSD percpu(9) face and the core under it.
 * Built MP (Linux port), MP (simulated sparse CPUs) and UP.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <string.h>

static void
check_zero(void *p, void *arg, struct cpu_info *ci)
{
	size_t *size = arg;
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < *size; i++)
		cr_assert_eq(b[i], 0, "CPU %u byte %zu", cpu_index(ci), i);
}

Test(percpu, alloc_zeroes_every_possible_cpu)
{
	size_t size = 4096;
	percpu_t *pc = percpu_alloc(size);

	cr_assert_not_null(pc);
	percpu_foreach(pc, check_zero, &size);
	percpu_free(pc, size);
}
