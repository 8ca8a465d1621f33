/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * switch_use.c - every face, in a file without the implementation; it
 * links only if switch_impl.c's one switch emitted all of it.  Prints
 * "ok" and exits 0 when the sums are exact.
 */
#include <stdint.h>
#include <stdio.h>

#include "counter.h"
#include "cpumem.h"
#include "dpcpu.h"
#include "percpu.h"

DPCPU_DEFINE_STATIC(uint64_t, switch_hits);

int
main(void)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);
	struct cpumem *cm = counters_alloc(2);
	percpu_t *pc = percpu_alloc(sizeof(uint64_t));
	uint64_t *p, st[2];
	unsigned i;

	for (i = 0; i < 1000; i++) {
		counter_u64_add(c, 3);
		counters_pkt(cm, 0, 1, 10);
		critical_enter();
		DPCPU_SET(switch_hits, DPCPU_GET(switch_hits) + 1);
		critical_exit();
		p = (uint64_t *)percpu_getref(pc);
		(*p)++;
		percpu_putref(pc);
	}
	counters_read(cm, st, 2, NULL);
	if (counter_u64_fetch(c) != 3000 || st[0] != 1000 || st[1] != 10000 ||
	    DPCPU_SUM(switch_hits) != 1000) {
		printf("wrong sums\n");
		return (1);
	}
	counter_u64_free(c);
	counters_free(cm, 2);
	percpu_free(pc, sizeof(uint64_t));
	printf("ok\n");
	return (0);
}
