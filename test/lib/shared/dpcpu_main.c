/* SPDX-License-Identifier: BSD-2-Clause */
/* dpcpu_main.c - a DPCPU variable in the executable, the implementation
 * in libpc.so: the documented, detected error. */
#include "dpcpu.h"

DPCPU_DEFINE_STATIC(int, exe_var);

int
main(void)
{
	return (DPCPU_GET(exe_var));
}
