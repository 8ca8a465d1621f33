/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tu_a.c - two-file link test: state that must exist once per program
 * (the CPU table, the arena, per-thread section depth) is one.  A section
 * entered here is left in tu_b.c, and each file sees the other's depth
 * and slot.  Exits non-zero with a message on the first mismatch.
 */
#include <stdio.h>
#include <stdlib.h>

#include "percpu.h"
#include "tu.h"

#define CHECK(c)                                                      \
 do {                                                                 \
  if (!(c)) {                                                         \
   fprintf(stderr, "link test: %s:%d: %s\n", __FILE__, __LINE__, #c); \
   exit(1);                                                           \
  }                                                                   \
 } while (0)

int
main(void)
{
	percpu_t *pc = percpu_alloc(sizeof(long));
	long *a, *b;

	CHECK(pc != NULL);
	a = (long *)percpu_getref(pc);
	*a = 42;
#if PERCPU_MP
	CHECK(tu_b_depth() == 1); /* tu_b sees tu_a's section */
#endif
	b = (long *)tu_b_getref(pc); /* nested, from the other file */
	CHECK(b == a);
	CHECK(*b == 42);
#if PERCPU_MP
	CHECK(percpu_in_section() == 2);
#endif
	tu_b_putref(pc);
	tu_b_putref(pc); /* leave in the other file */
	CHECK(percpu_in_section() == 0);
	CHECK(tu_b_depth() == 0);
	a = (long *)percpu_getref(pc); /* the CPU was released: no wait */
	percpu_putref(pc);
	percpu_free(pc, sizeof(long));
	printf("link test: one state across translation units (%s)\n",
	    percpu_backend());
	return (0);
}
