/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu_foreign.c - a program with the implementation that reaches a
 * variable outside set_dpcpu (as another module's DPCPU variable would
 * be) inside a critical section, reading it ("r") or adding to it ("w"):
 * either must fault at a small address (DPCPU_PTR()'s null pointer),
 * never reach template + offsets.  Built with clang -flto too, which
 * turned the mask into a select and then into no check at all.
 */
#define _POSIX_C_SOURCE 200809L
#define PERCPU_IMPLEMENTATION
#include "dpcpu.h"
#include "dpcpu_fault.h"

#include <stdio.h>

DPCPU_DEFINE(long, mine);
long foreign_var[4] = {1, 2, 3, 4};

static long get_foreign(long *p) __attribute__((noinline));
static void inc_foreign(long *p) __attribute__((noinline));

static long
get_foreign(long *p)
{
	long v;

	critical_enter();
	v = *(long *)dpcpu_priv_cur_ptr(p);
	critical_exit();
	return (v);
}

static void
inc_foreign(long *p)
{
	critical_enter();
	(*(long *)dpcpu_priv_cur_ptr(p))++;
	critical_exit();
}

int
main(int argc, char **argv)
{
	dpcpu_fault_catch();
	critical_enter();
	DPCPU_SET(mine, DPCPU_GET(mine) + 1);
	critical_exit();
	if (argc > 1 && argv[1][0] == 'r')
		(void)printf("read %ld\n", get_foreign(&foreign_var[1]));
	else
		inc_foreign(&foreign_var[1]);
	(void)printf("no fault: %ld %ld\n", foreign_var[1], foreign_var[2]);
	return (0);
}
