/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fw_init.c - percpu_init(): the explicit set-up for boot code
 * (firmware builds with PERCPU_BOOT_INIT=1 depend on it; elsewhere it is
 * optional and idempotent).
 */
#define _GNU_SOURCE
#include "harness.h"

#include <criterion/criterion.h>

#include "counter.h"
#include "percpu.h"

Test(percpu_init, is_idempotent_and_leaves_a_working_toolkit)
{
	counter_u64_t c;

	percpu_init();
	percpu_init();
	cr_assert_geq(percpu_ncpus(), 1u);
	c = counter_u64_alloc(M_WAITOK);
	counter_u64_add(c, 5);
	counter_u64_add(c, -2);
	cr_assert_eq(counter_u64_fetch(c), 3u);
	counter_u64_free(c);
}
