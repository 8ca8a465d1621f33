/* SPDX-License-Identifier: BSD-2-Clause */
/* plugin.c - a plugin that carries its own copy of the implementation
 * (built twice, as plug_a.so and plug_b.so). */
#define PERCPU_IMPLEMENTATION
#include "counter.h"

uint64_t plugin_count(void);

uint64_t
plugin_count(void)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);
	uint64_t v;

	counter_u64_add(c, 3);
	v = counter_u64_fetch(c);
	counter_u64_free(c);
	return (v);
}
