/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu_lib.c - a shared library with the implementation and a DPCPU
 * variable, hits, that executables name with DPCPU_DECLARE
 * (dpcpu_copyrel.c): lib_inc() adds 1 on the running CPU and returns
 * the sum.
 */
#define PERCPU_IMPLEMENTATION
#include "dpcpu.h"

#include <stdint.h>

DPCPU_DEFINE(uint64_t, hits);
uint64_t lib_inc(void);

uint64_t
lib_inc(void)
{
	critical_enter();
	DPCPU_SET(hits, DPCPU_GET(hits) + 1);
	critical_exit();
	return (DPCPU_SUM(hits));
}
