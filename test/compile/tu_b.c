/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tu_b.c - second half of the two-file link test: leaves the section that
 * tu_a.c entered, and reports what it sees of the shared state.
 */
#include "percpu.h"
#include "tu.h"

unsigned
tu_b_depth(void)
{
	return (percpu_in_section());
}

void
tu_b_putref(percpu_t *pc)
{
	percpu_putref(pc);
}

void *
tu_b_getref(percpu_t *pc)
{
	return (percpu_getref(pc));
}
