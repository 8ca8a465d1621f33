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
/* Not folded into one another (gcc -Os would make one call the other). */
#if defined(__GNUC__) && !defined(__clang__)
# define REF_OWN __attribute__((no_icf))
#else
# define REF_OWN
#endif
void ref_critical(void) REF_OWN;
void ref_enter_leave_void(void) REF_OWN;

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

/* FreeBSD critical_enter(9)/critical_exit(9): must compile to what the
 * section below, their own parts without critical_enter()'s hint to the
 * compiler, does (check-fw.sh compares the sizes): the hint must cost a
 * board nothing (no read of the CPU id left behind). */
void
ref_critical(void)
{
	critical_enter();
	critical_exit();
}

void
ref_enter_leave_void(void)
{
	(void)percpu_enter();
	percpu_priv_leave_as("critical_exit");
}

/* OpenBSD counters_inc(9): a section plus the generation protocol. */
void
ref_counters_inc(struct cpumem *cm)
{
	counters_inc(cm, 0);
}
