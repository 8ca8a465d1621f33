/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu_early.c - an executable with a DPCPU variable of its own while the
 * implementation is in libpc.so, whose app_hook() a library constructor
 * calls (dpcpu_cb.c) before the executable's constructors, so before its
 * load-time check: the critical section gets a null pointer for the
 * variable, and the access faults at a small address, never out of
 * bounds.
 */
#define _POSIX_C_SOURCE 200809L
#include "dpcpu.h"
#include "dpcpu_fault.h"

#include <stdint.h>
#include <stdio.h>

DPCPU_DEFINE_STATIC(uint64_t, napp);
void app_hook(void);

void
app_hook(void)
{
	dpcpu_fault_catch();
	critical_enter();
	DPCPU_SET(napp, DPCPU_GET(napp) + 1);
	critical_exit();
}

int
main(void)
{
	(void)printf("main\n");
	return (0);
}
