/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fw_image.c - the program of the full firmware links of
 * test/cross/link-fw.sh: with size_ref.c (the implementation and the
 * reference functions), test/firmware/fw_libc.c and the target's
 * __atomic_* calls, a whole -nostdlib image whose size is reported.
 * fw_image_entry is the entry point; it is linked, never run.
 */
#include "counter.h"
#include "cpumem.h"
#include "dpcpu.h"
#include "percpu.h"

void ref_counter_add(counter_u64_t c, int64_t v);
unsigned ref_enter_leave(void);
void ref_counters_inc(struct cpumem *cm);
void fw_image_entry(void);

DPCPU_DEFINE(uint64_t, fw_image_hits);

void
fw_image_entry(void)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);
	struct cpumem *cm = counters_alloc(2);
	uint64_t v[2];

	ref_counter_add(c, 1);
	(void)ref_enter_leave();
	ref_counters_inc(cm);
	critical_enter();
	DPCPU_SET(fw_image_hits, DPCPU_GET(fw_image_hits) + 1);
	critical_exit();
	counters_read(cm, v, 2, NULL);
	if (counter_u64_fetch(c) + v[0] != 2)
		percpu_priv_panic("fw_image: wrong totals");
	for (;;)
		atomic_signal_fence(memory_order_seq_cst);
}
