/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plugin.c - a shared object with the toolkit inside (its own
 * PERCPU_IMPLEMENTATION), for the torture suite's plugin scenario: the
 * host loads it, has several threads add through it, checks the total,
 * unloads it, and keeps those threads running (so the kernel preempts
 * them with the object gone), 20 times and more.
 *
 *   void plugin_add(uint64_t n)   n adds of 1 to one counter(9) counter
 *                                 and n increments in percpu(9) sections
 *   uint64_t plugin_total(void)   the counter's total; the sections' total
 *                                 must equal it (else UINT64_MAX)
 *   const char *plugin_backend(void)
 */
#define PERCPU_IMPLEMENTATION
#include "counter.h"
#include "percpu.h"

#include <stdint.h>

uint64_t plugin_total(void);
void plugin_add(uint64_t n);
const char *plugin_backend(void);

static counter_u64_t plugin_ctr;
static percpu_t *plugin_pc;

/* The objects, made by the first caller (the host calls plugin_add()
 * from one thread first). */
static void
plugin_init(void)
{
	if (plugin_ctr == NULL) {
		plugin_ctr = counter_u64_alloc(M_WAITOK);
		plugin_pc = percpu_alloc(sizeof(uint64_t));
	}
}

/*
 * plugin_add - @n adds to the counter and @n section increments.
 * Context: any thread; the first call from one thread alone.
 */
void
plugin_add(uint64_t n)
{
	uint64_t i;

	plugin_init();
	for (i = 0; i < n; i++) {
		uint64_t *p;

		counter_u64_add(plugin_ctr, 1);
		p = percpu_getref(plugin_pc);
		(*p)++;
		percpu_putref(plugin_pc);
	}
}

static void
plugin_sum(void *p, void *arg, struct cpu_info *ci)
{
	(void)ci;
	*(uint64_t *)arg += *(uint64_t *)p;
}

/* plugin_total - the total, when both objects agree; else UINT64_MAX. */
uint64_t
plugin_total(void)
{
	uint64_t sections = 0, adds;

	plugin_init();
	adds = counter_u64_fetch(plugin_ctr);
	percpu_foreach(plugin_pc, plugin_sum, &sections);
	return (adds == sections ? adds : UINT64_MAX);
}

/* plugin_backend - percpu_backend() of the plugin's own copy. */
const char *
plugin_backend(void)
{
	return (percpu_backend());
}
