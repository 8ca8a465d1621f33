/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu_cb.c - a shared library whose constructor calls app_hook(), a
 * function of the executable (dpcpu_early.c), before the executable's
 * own constructors run.
 */
#include <stdio.h>

void app_hook(void);
static void cb_init(void) __attribute__((constructor));

static void
cb_init(void)
{
	(void)printf("library constructor calls app_hook\n");
	(void)fflush(stdout);
	app_hook();
}
