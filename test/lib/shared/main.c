/* SPDX-License-Identifier: BSD-2-Clause */
/* main.c - uses the API of libpc.so (the implementation lives there):
 * prints "ok <backend>" when the sums are exact. */
#include <stdio.h>
#include <string.h>

#include "counter.h"
#include "percpu.h"

int
main(void)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);
	percpu_t *pc = percpu_alloc(8);
	unsigned i;

	for (i = 0; i < 1000; i++) {
		uint64_t *p = (uint64_t *)percpu_getref(pc);

		(*p)++;
		percpu_putref(pc);
		counter_u64_add(c, 2);
	}
	if (counter_u64_fetch(c) != 2000)
		return (1);
	printf("ok %s\n", percpu_backend());
	counter_u64_free(c);
	percpu_free(pc, 8);
	return (0);
}
