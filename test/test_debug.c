/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_debug.c - PERCPU_DEBUG=1 (this translation unit only) catches a
 * counter(9) counter used after counter_u64_free(), and the freed
 * counter's storage is not handed to the next counter meanwhile (issue
 * 14, item 6).
 */
#define _GNU_SOURCE
#define PERCPU_DEBUG 1
#include "harness.h"

#include <stdio.h>

#include "counter.h"

Test(debug, a_counter_used_after_free_is_caught)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK), next;
	char want[128];

	harness_capture_errors();
	counter_u64_add(c, 1);
	counter_u64_free(c);
	cr_assert_eq(harness_errors(), 0);
	next = counter_u64_alloc(M_WAITOK);
	cr_assert_neq((void *)next, (void *)c,
	    "a freed counter's storage was reused at once");
	counter_u64_add(c, 100);
	snprintf(want, sizeof(want),
	    "counter_u64_add: counter %p used after counter_u64_free",
	    (void *)c);
	cr_assert_str_eq(harness_last_error(), want);
	cr_assert_eq(counter_u64_fetch(c), 0);
	snprintf(want, sizeof(want),
	    "counter_u64_fetch: counter %p used after counter_u64_free",
	    (void *)c);
	cr_assert_str_eq(harness_last_error(), want);
	counter_u64_zero(c);
	cr_assert_eq(harness_errors(), 3);
	/* The next counter never saw the stray add. */
	cr_assert_eq(counter_u64_fetch(next), 0);
	counter_u64_free(next);
	counter_u64_free(c);
	snprintf(want, sizeof(want),
	    "counter_u64_free: double free of counter %p", (void *)c);
	cr_assert_str_eq(harness_last_error(), want);
	cr_assert_eq(harness_errors(), 4);
}
