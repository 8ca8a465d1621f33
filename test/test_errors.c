/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_errors.c - errors a user can act on (issue 14, item 6): a leave
 * without an enter names the function called; a double free is named as
 * one, without reading freed memory (the ASan suites prove the latter);
 * the limit messages name the macro that raises the limit.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include "counter.h"
#include "cpumem.h"
#include "dpcpu.h"

#if PERCPU_MP
/* UP sections are compiler barriers: nothing is tracked, nothing to say. */
Test(errors, a_leave_without_enter_names_the_function_called)
{
	percpu_t *pc = percpu_alloc(8);
	struct cpumem *cm = cpumem_malloc(8, 1);
	struct cpumem *ctr = counters_alloc(1);
	struct counters_ref ref;

	cr_assert_not_null(pc);
	harness_capture_errors();
	percpu_putref(pc);
	cr_assert_str_eq(harness_last_error(),
	    "percpu_putref: not in a section");
	critical_exit();
	cr_assert_str_eq(harness_last_error(),
	    "critical_exit: not in a section");
	counter_exit();
	cr_assert_str_eq(harness_last_error(),
	    "counter_exit: not in a section");
	cpumem_leave(cm, NULL);
	cr_assert_str_eq(harness_last_error(),
	    "cpumem_leave: not in a section");
	ref.g = 0;
	ref.c = NULL;
	counters_leave(&ref, ctr);
	cr_assert_str_eq(harness_last_error(),
	    "counters_leave: not in a section");
	percpu_leave();
	cr_assert_str_eq(harness_last_error(),
	    "percpu_leave: not in a section");
	cr_assert_eq(harness_errors(), 6);
	cr_assert_eq(percpu_in_section(), 0);
	/* Balanced use still works and says nothing. */
	(void)percpu_getref(pc);
	percpu_putref(pc);
	critical_enter();
	critical_exit();
	cr_assert_eq(harness_errors(), 6);
	percpu_free(pc, 8);
	cpumem_free(cm, 1, 8);
	counters_free(ctr, 1);
}
#endif

Test(errors, a_second_percpu_free_is_a_double_free)
{
	percpu_t *pc = percpu_alloc(24);
	char want[96];

	cr_assert_not_null(pc);
	harness_capture_errors();
	percpu_free(pc, 24);
	cr_assert_eq(harness_errors(), 0);
	/* ASan (test-*-asan) would stop here if *pc were read. */
	percpu_free(pc, 24);
	snprintf(want, sizeof(want), "percpu_free: double free of %p",
	    (void *)pc);
	cr_assert_str_eq(harness_last_error(), want);
	cr_assert_eq(harness_errors(), 1);
}

Test(errors, a_second_counter_u64_free_is_a_double_free)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);
	char want[96];

	harness_capture_errors();
	counter_u64_add(c, 5);
	counter_u64_free(c);
	cr_assert_eq(harness_errors(), 0);
	counter_u64_free(c);
	snprintf(want, sizeof(want),
	    "counter_u64_free: double free of counter %p", (void *)c);
	cr_assert_str_eq(harness_last_error(), want);
	cr_assert_eq(harness_errors(), 1);
}

Test(errors, a_freed_address_allocated_again_is_a_live_object)
{
	counter_u64_t a = counter_u64_alloc(M_WAITOK), b;

	harness_capture_errors();
	counter_u64_free(a);
	b = counter_u64_alloc(M_WAITOK);
	counter_u64_add(b, 7);
	cr_assert_eq(counter_u64_fetch(b), 7);
	counter_u64_free(b); /* even at a's old address: no error */
	cr_assert_eq(harness_errors(), 0);
}

Test(errors, limits_name_the_macro_that_raises_them)
{
	char want[160];

	harness_capture_errors();
	cr_assert_null(cpumem_malloc((size_t)PERCPU_UNIT_SIZE, 1));
	snprintf(want, sizeof(want),
	    "cpumem_malloc: cannot reserve %zu bytes on every CPU (limit ",
	    (size_t)PERCPU_UNIT_SIZE);
	cr_assert(strncmp(harness_last_error(), want, strlen(want)) == 0, "%s",
	    harness_last_error());
	cr_assert(strstr(harness_last_error(),
		      "; raise it with -DPERCPU_UNIT_SIZE=...)") != NULL,
	    "%s", harness_last_error());
	cr_assert_null(counters_alloc(PERCPU_UNIT_SIZE / 8 + 1));
	cr_assert(strstr(harness_last_error(),
		      "; raise it with -DPERCPU_UNIT_SIZE=...)") != NULL,
	    "%s", harness_last_error());
	/* Under the limit (memory ran out), no advice to raise it. */
	cr_assert_str_eq(percpu_priv_limit_hint(8, PERCPU_UNIT_SIZE), "");
	cr_assert_eq(harness_errors(), 2);
}
