/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fail_dpcpu_off_up.c - must NOT compile in the plain UP build: there a
 * DPCPU variable is its CPU's copy, its offset would be 0, which FreeBSD
 * code reads as "no CPU"; dpcpu_off needs DPCPU_UP_OFFSETS=1.  The
 * control (-DFAIL_CONTROL) builds with DPCPU_UP_OFFSETS=1 and must compile
 * cleanly.  test/compile/fail.sh runs it in the UP variant only.
 */
#ifdef FAIL_CONTROL
# define DPCPU_UP_OFFSETS 1
#endif
#include "dpcpu.h"

DPCPU_DEFINE(long, hits);

long fail_dpcpu_off_sum(void);

/* subr_pcpu.c's sysctl_dpcpu_long. */
long
fail_dpcpu_off_sum(void)
{
	long count = 0;
	unsigned i;

	CPU_FOREACH(i) {
		uintptr_t dpcpu = dpcpu_off[i];

		if (dpcpu == 0)
			continue;
		count += *(long *)(dpcpu + (uintptr_t)&DPCPU_NAME(hits));
	}
	return (count);
}
