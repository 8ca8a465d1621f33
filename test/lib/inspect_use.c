/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inspect_use.c - uses the inspection headers in a file without the
 * implementation (test/lib/check-link.sh): it links with an
 * implementation file that includes them (inspect_impl.c), and fails,
 * naming what to do, with one that includes percpu.h only.
 */
#include <stdio.h>

#include "kvm_pcpu.h"
#include "percpu_export.h"

int
main(void)
{
	printf("%s %d\n", percpu_export_path() == NULL ? "ok" : "exporting?",
	    kvm_getmaxcpu(NULL));
	return (0);
}
