/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu_fp.c - an executable without DPCPU variables that uses critical
 * sections (libpc.so) and links libdpcpu_fbsd.so, whose unrelated
 * set_dpcpu the module check must not take for its own: prints "ok".
 */
#include "dpcpu.h"

#include <stdio.h>

char *other_set(void);

int
main(void)
{
	critical_enter();
	critical_exit();
	(void)printf("%s\n", other_set() != NULL ? "ok" : "no set");
	return (0);
}
