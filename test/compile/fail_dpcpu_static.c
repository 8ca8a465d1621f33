/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fail_dpcpu_static.c - must NOT compile: `static DPCPU_DEFINE(...)` is an
 * error, as in FreeBSD (use DPCPU_DEFINE_STATIC).  test/compile/fail.sh
 * builds it without -Werror (a hard error, not a warning) and, as a
 * control, with -DFAIL_CONTROL, which spells it the right way and must
 * compile cleanly with the full warning flags.
 */
#include "dpcpu.h"

#ifdef FAIL_CONTROL
DPCPU_DEFINE_STATIC(int, x) = 1;
#else
static DPCPU_DEFINE(int, x) = 1;
#endif

int fail_dpcpu_static_get(void);

int
fail_dpcpu_static_get(void)
{
	return (DPCPU_GET(x));
}
