/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu_early.c - an executable with a DPCPU variable of its own while the
 * implementation is in libpc.so, whose app_hook() a library constructor
 * calls (dpcpu_cb.c) before the executable's constructors: the check
 * runs from .preinit_array first and stops the program before that call.
 */
#include "dpcpu.h"

#include <stdint.h>
#include <stdio.h>

DPCPU_DEFINE_STATIC(uint64_t, napp);
void app_hook(void);

void
app_hook(void)
{
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
