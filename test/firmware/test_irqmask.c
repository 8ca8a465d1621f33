/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_irqmask.c - with a firmware port's interrupt mask, every section
 * of every face masks from enter to leave, in the UP build exactly as in
 * MP; and in UP, counter(9)'s add, fetch and zero mask around their
 * words (a handler may add to the same counter).  Built twice by
 * test/firmware.mk (PERCPU_MP=0 and 1) on the fake port of port_fake.h,
 * whose mask is a variable the tests read.
 */
#define PERCPU_IMPLEMENTATION
#include <criterion/criterion.h>

#include "counter.h"
#include "cpumem.h"
#include "dpcpu.h"
#include "percpu.h"

unsigned port_fake_masked, port_fake_saves;

DPCPU_DEFINE(uint64_t, irqmask_hits);

/* Masked inside: the state a section's body sees. */
static void
masked_inside(const char *what)
{
	cr_assert_eq(port_fake_masked, 1u, "%s: not masked inside", what);
}

static void
unmasked_after(const char *what)
{
	cr_assert_eq(port_fake_masked, 0u, "%s: still masked after", what);
}

Test(irqmask, every_section_of_every_face_masks)
{
	struct cpumem *cm = cpumem_malloc(sizeof(uint64_t), 0);
	struct cpumem *ctr = counters_alloc(2);
	percpu_t *pc = percpu_alloc(sizeof(uint64_t));
	struct counters_ref ref;
	uint64_t *p, c[2];

	cr_assert(cm != NULL && ctr != NULL && pc != NULL);
	unmasked_after("allocation");

	p = (uint64_t *)cpumem_enter(cm);
	masked_inside("cpumem_enter");
	(*p)++;
	cpumem_leave(cm, p);
	unmasked_after("cpumem_leave");

	p = counters_enter(&ref, ctr);
	masked_inside("counters_enter");
	p[0]++;
	counters_leave(&ref, ctr);
	unmasked_after("counters_leave");

	critical_enter();
	masked_inside("critical_enter");
	DPCPU_SET(irqmask_hits, DPCPU_GET(irqmask_hits) + 1);
	critical_exit();
	unmasked_after("critical_exit");

	p = (uint64_t *)percpu_getref(pc);
	masked_inside("percpu_getref");
	(*p)++;
	percpu_putref(pc);
	unmasked_after("percpu_putref");

	counter_enter();
	masked_inside("counter_enter");
	counter_exit();
	unmasked_after("counter_exit");

	(void)percpu_enter();
	masked_inside("percpu_enter");
	(void)percpu_enter();
	percpu_leave();
	masked_inside("percpu_leave of a nested section");
	percpu_leave();
	unmasked_after("percpu_leave");

	counters_read(ctr, c, 2, NULL);
	unmasked_after("counters_read");
	cr_assert_eq(c[0], 1u);
	cr_assert_eq(*(uint64_t *)percpu_ptr(cm, 0), 1u);
	cr_assert_eq(DPCPU_SUM(irqmask_hits), 1u);
}

#if !PERCPU_MP
Test(irqmask, up_counter_add_fetch_zero_mask)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);
	unsigned saves = port_fake_saves;

	counter_u64_add(c, 3);
	cr_assert_eq(port_fake_saves, saves + 1,
	    "counter_u64_add did not mask");
	unmasked_after("counter_u64_add");
	cr_assert_eq(counter_u64_fetch(c), 3u);
	cr_assert_eq(port_fake_saves, saves + 2,
	    "counter_u64_fetch did not mask");
	counter_u64_zero(c);
	cr_assert_eq(port_fake_saves, saves + 3,
	    "counter_u64_zero did not mask");
	unmasked_after("counter_u64_zero");
	cr_assert_eq(counter_u64_fetch(c), 0u);

	/* Inside a section the add leaves the mask on. */
	critical_enter();
	counter_u64_add_protected(c, 2);
	masked_inside("counter_u64_add_protected in a section");
	critical_exit();
	unmasked_after("critical_exit");
	cr_assert_eq(counter_u64_fetch(c), 2u);
	counter_u64_free(c);
}
#endif
