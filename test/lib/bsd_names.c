/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bsd_names.c - ordinary code that uses the names of dpcpu.h's BSD
 * convenience macros: it compiles with DPCPU_NO_BSD_NAMES=1 (the
 * opt-out), and without it must not (test/compile/fail.sh style, in
 * test/lib/check-hygiene.sh).
 */
#define DPCPU_NO_BSD_NAMES 1
#ifdef FAIL_WITHOUT_OPT_OUT
# undef DPCPU_NO_BSD_NAMES
#endif
#include "dpcpu.h"

struct foo {
	int curcpu;
	unsigned mp_maxid, mp_ncpus;
};

int bsd_names_sum(const struct foo *f);

int
bsd_names_sum(const struct foo *f)
{
	return (f->curcpu + (int)f->mp_maxid + (int)f->mp_ncpus +
	    (int)percpu_curcpu());
}
