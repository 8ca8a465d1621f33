/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu_copyrel.c - an executable that names libdpcpu.so's variable with
 * DPCPU_DECLARE.  Built as a position-independent executable by gcc (no
 * -fPIC), the link moves the variable into the executable by a copy
 * relocation, out of the library's set_dpcpu, for every module: the
 * library's critical section then gets a null pointer, and the access
 * faults at a small address, never out of bounds.  Built with -fPIC it
 * reaches the variable through the GOT and prints "ok 2" (the library's
 * add and its own, exact).
 */
#define _POSIX_C_SOURCE 200809L
#include "dpcpu.h"
#include "dpcpu_fault.h"

#include <stdint.h>
#include <stdio.h>

DPCPU_DECLARE(uint64_t, hits);
uint64_t lib_inc(void);

int
main(void)
{
	dpcpu_fault_catch();
	(void)setvbuf(stdout, NULL, _IONBF, 0);
	(void)printf("lib_inc %llu\n", (unsigned long long)lib_inc());
	critical_enter();
	DPCPU_SET(hits, DPCPU_GET(hits) + 1);
	critical_exit();
	(void)printf("ok %llu\n", (unsigned long long)DPCPU_SUM(hits));
	return (0);
}
