/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * own_pool.c - a program with a pool(9) of its own: built with
 * -DCPUMEM_NO_POOL=1, cpumem.h leaves its minimal pool out, and both
 * live in one translation unit.  Compiled by `make check-compile`.
 */
#define PERCPU_IMPLEMENTATION
#include "cpumem.h"

struct pool {
	int mine;
};

int pool_get(struct pool *pp, int flags);

int
pool_get(struct pool *pp, int flags)
{
	return (pp->mine + flags);
}

int own_pool_main(void);

int
own_pool_main(void)
{
	struct pool p = {1};
	struct cpumem *cm = counters_alloc(2);

	counters_inc(cm, 0);
	counters_free(cm, 2);
	return (pool_get(&p, 1));
}
