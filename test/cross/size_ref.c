/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * size_ref.c - reference functions whose code size test/cross/check-fw.sh
 * measures on each firmware target (nm --size), and the whole toolkit's
 * implementation compiled freestanding for that target.
 */
#define PERCPU_IMPLEMENTATION
#include "counter.h"
#include "cpumem.h"
#include "dpcpu.h"
#include "percpu.h"

void ref_counter_add(counter_u64_t c, int64_t v);
unsigned ref_enter_leave(void);
void ref_counters_inc(struct cpumem *cm);

/* counter(9): one lossless add. */
void
ref_counter_add(counter_u64_t c, int64_t v)
{
	counter_u64_add(c, v);
}

/* An empty exclusive section: percpu_enter() + percpu_leave(). */
unsigned
ref_enter_leave(void)
{
	unsigned cpu = percpu_enter();

	percpu_leave();
	return (cpu);
}

/* OpenBSD counters_inc(9): a section plus the generation protocol. */
void
ref_counters_inc(struct cpumem *cm)
{
	counters_inc(cm, 0);
}
