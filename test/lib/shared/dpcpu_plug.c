/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu_plug.c - a dlopen()ed module without the implementation (it uses
 * libpc.so's) that defines a DPCPU variable of its own: its set_dpcpu has
 * no copies.  Its constructor writes the variable inside a critical
 * section, the access that DPCPU_PTR() no longer bounds-checks; the
 * module must be stopped before this constructor runs.
 */
#include "dpcpu.h"

#include <stdint.h>
#include <stdio.h>

DPCPU_DEFINE_STATIC(uint64_t, plug_var);

static void plug_init(void) __attribute__((constructor));

static void
plug_init(void)
{
	critical_enter();
	DPCPU_SET(plug_var, DPCPU_GET(plug_var) + 1);
	critical_exit();
	(void)printf("plugin constructor ran\n");
	(void)fflush(stdout);
}
