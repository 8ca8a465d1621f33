/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_dpcpu.c - links libpc.so (the implementation), installs an error
 * handler that returns, then dlopen()s dpcpu_plug.so (a module with its
 * own DPCPU variable): the handler hears of the module's set_dpcpu when
 * the module is loaded, and the program then stops (abort) before any of
 * the module's code runs; "dlopen returned" must never be printed.
 */
#include "percpu.h"

#include <dlfcn.h>
#include <stdio.h>

static void
handler(const char *msg)
{
	(void)printf("handler: %s\n", msg);
	(void)fflush(stdout);
}

int
main(int argc, char **argv)
{
	void *h;

	if (argc != 2)
		return (2);
	percpu_set_error_handler(handler);
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	(void)printf("dlopen returned %s\n",
	    h != NULL ? "a handle" : dlerror());
	return (0);
}
