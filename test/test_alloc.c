/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_alloc.c - the arena's allocator (percpu_priv_zalloc/zfree): first
 * fit, freed space reused, exact sizes on free, alignment, no overlap.
 *
 * Built MP (Linux port), SIM and UP from this source; the layout checks
 * are MP only (UP allocations are PERCPU_MALLOC'ed memory).
 */
#define _GNU_SOURCE
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "percpu.h"

/* Sizes of the exact-size checks: not all multiples of any grain. */
static const size_t odd_sizes[] = {1, 3, 7, 8, 9, 13, 16, 17, 63, 100, 4095};

Test(alloc, free_with_wrong_size_reports_the_exact_size)
{
	unsigned i;

	for (i = 0; i < sizeof(odd_sizes) / sizeof(odd_sizes[0]); i++) {
		size_t size = odd_sizes[i], actual = 0;
		void *h = percpu_priv_zalloc(size, 0);

		cr_assert_not_null(h);
		cr_assert_eq(percpu_priv_zfree(h, size + 1, &actual),
		    PERCPU_PRIV_ESIZE);
		cr_assert_eq(actual, size, "size %zu reported as %zu", size,
		    actual);
		if (size > 1) {
			actual = 0;
			cr_assert_eq(percpu_priv_zfree(h, size - 1, &actual),
			    PERCPU_PRIV_ESIZE);
			cr_assert_eq(actual, size);
		}
		cr_assert_eq(percpu_priv_zfree(h, size, NULL), PERCPU_PRIV_OK);
	}
}

#if PERCPU_MP
Test(alloc, interior_and_freed_handles_are_not_allocations)
{
	char *a = percpu_priv_zalloc(32, 0);
	char *b = percpu_priv_zalloc(32, 0);

	cr_assert_eq(percpu_priv_zfree(a + 8, 24, NULL), PERCPU_PRIV_ENOENT);
	cr_assert_eq(percpu_priv_zfree(a + 1, 31, NULL), PERCPU_PRIV_ENOENT);
	cr_assert_eq(percpu_priv_zfree(a, 32, NULL), PERCPU_PRIV_OK);
	cr_assert_eq(percpu_priv_zfree(a, 32, NULL), PERCPU_PRIV_ENOENT);
	/* b is intact: its size is still known exactly. */
	cr_assert_eq(percpu_priv_zfree(b, 32, NULL), PERCPU_PRIV_OK);
}

Test(alloc, a_freed_hole_is_filled_first)
{
	char *a = percpu_priv_zalloc(16, 0);
	char *b = percpu_priv_zalloc(16, 0);
	char *c = percpu_priv_zalloc(16, 0);
	char *x, *y, *z;

	cr_assert_eq(b - a, 16);
	cr_assert_eq(c - b, 16);
	cr_assert_eq(percpu_priv_zfree(b, 16, NULL), PERCPU_PRIV_OK);
	x = percpu_priv_zalloc(8, 0);
	y = percpu_priv_zalloc(8, 0);
	z = percpu_priv_zalloc(16, 0);
	cr_assert_eq(x, b, "the hole is reused first");
	cr_assert_eq(y, b + 8, "and its rest next");
	cr_assert_eq(z, c + 16, "a full hole is skipped");
	cr_assert_eq(percpu_priv_zfree(x, 8, NULL), PERCPU_PRIV_OK);
	cr_assert_eq(percpu_priv_zfree(y, 8, NULL), PERCPU_PRIV_OK);
	/* Coalesced: 16 bytes fit where the two 8-byte ones were. */
	x = percpu_priv_zalloc(16, 0);
	cr_assert_eq(x, b);
	percpu_priv_zfree(a, 16, NULL);
	percpu_priv_zfree(x, 16, NULL);
	percpu_priv_zfree(c, 16, NULL);
	percpu_priv_zfree(z, 16, NULL);
}

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a;
	uintptr_t y = (uintptr_t) * (void *const *)b;

	return (x < y ? -1 : x > y);
}

/*
 * Three chunks' worth of 16-byte objects; every other one freed; as many
 * allocated again land exactly in the freed slots (no new space), in
 * every chunk.  Then all freed: the same number fits again.
 */
Test(alloc, freed_space_is_reused_in_every_chunk, .timeout = 60)
{
	size_t n = 3 * (PERCPU_UNIT_SIZE / 16), i, k = 0;
	void **h = malloc(n * sizeof(*h));
	void **freed = malloc(n / 2 * sizeof(*h));
	void **again = malloc(n / 2 * sizeof(*h));

	cr_assert(h != NULL && freed != NULL && again != NULL);
	for (i = 0; i < n; i++) {
		h[i] = percpu_priv_zalloc(16, 0);
		cr_assert_not_null(h[i]);
		*(uint64_t *)h[i] = i + 1;
	}
	for (i = 1; i < n; i += 2) {
		cr_assert_eq(percpu_priv_zfree(h[i], 16, NULL), PERCPU_PRIV_OK);
		freed[k++] = h[i];
	}
	for (i = 0; i < k; i++) {
		again[i] = percpu_priv_zalloc(16, 0);
		cr_assert_not_null(again[i]);
		cr_assert_eq(*(uint64_t *)again[i], 0, "reused space is zero");
	}
	qsort(freed, k, sizeof(*freed), cmp_ptr);
	qsort(again, k, sizeof(*again), cmp_ptr);
	for (i = 0; i < k; i++)
		cr_assert_eq(again[i], freed[i],
		    "object %zu of %zu: %p, expected the freed slot %p", i, k,
		    again[i], freed[i]);
	for (i = 0; i < n; i += 2) {
		cr_assert_eq(*(uint64_t *)h[i], i + 1, "a live object changed");
		cr_assert_eq(percpu_priv_zfree(h[i], 16, NULL), PERCPU_PRIV_OK);
	}
	for (i = 0; i < k; i++)
		cr_assert_eq(percpu_priv_zfree(again[i], 16, NULL),
		    PERCPU_PRIV_OK);
	free(h);
	free(freed);
	free(again);
}

Test(alloc, alignment_is_honoured)
{
	size_t aligns[] = {1, 2, 4, 8, 16, 32, 64};
	unsigned i;

	for (i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		char *pad = percpu_priv_zalloc(8, 0);
		char *p = percpu_priv_zalloc(24, aligns[i]);

		cr_assert_not_null(p);
		cr_assert_eq((uintptr_t)p % aligns[i], 0, "align %zu: %p",
		    aligns[i], (void *)p);
		percpu_priv_zfree(pad, 8, NULL);
		percpu_priv_zfree(p, 24, NULL);
	}
	cr_assert_null(percpu_priv_zalloc(8, 3));
	cr_assert_null(percpu_priv_zalloc(8, 2 * PERCPU_CACHELINE));
}

Test(alloc, a_whole_unit_takes_a_chunk_of_its_own)
{
	char *small = percpu_priv_zalloc(8, 0);
	char *big = percpu_priv_zalloc(PERCPU_UNIT_SIZE, 0);
	char *big2 = percpu_priv_zalloc(PERCPU_UNIT_SIZE, 0);
	unsigned cpu;

	cr_assert_not_null(big);
	cr_assert_not_null(big2);
	cr_assert_neq(big, big2);
	PERCPU_FOREACH_CPU(cpu) {
		cr_assert_eq(((char *)percpu_ptr(big, cpu))[0], 0);
		cr_assert_eq(
		    ((char *)percpu_ptr(big, cpu))[PERCPU_UNIT_SIZE - 1], 0);
	}
	cr_assert_eq(percpu_priv_zfree(big, PERCPU_UNIT_SIZE, NULL),
	    PERCPU_PRIV_OK);
	cr_assert_eq(percpu_priv_zfree(big2, PERCPU_UNIT_SIZE, NULL),
	    PERCPU_PRIV_OK);
	cr_assert_eq(percpu_priv_zfree(small, 8, NULL), PERCPU_PRIV_OK);
}

/*
 * Random allocations and frees against a model: every live object is
 * filled with its own tag on every CPU and checked before it is freed,
 * so an overlap or a stray clear is caught; every new object is zero on
 * every CPU.
 */
struct live {
	unsigned char *h;
	size_t size;
	unsigned char tag;
};

static void
check_fill(const struct live *l, int check)
{
	unsigned cpu;
	size_t j;

	PERCPU_FOREACH_CPU(cpu) {
		unsigned char *p = percpu_ptr(l->h, cpu);

		for (j = 0; j < l->size; j++) {
			if (check)
				cr_assert_eq(p[j], l->tag,
				    "object %p byte %zu on CPU %u: %u, "
				    "expected %u",
				    (void *)l->h, j, cpu, p[j], l->tag);
			else {
				cr_assert_eq(p[j], 0, "not zero when new");
				p[j] = l->tag;
			}
		}
	}
}

Test(alloc, random_alloc_free_never_overlaps, .timeout = 120)
{
	enum { MAXLIVE = 600, OPS = 6000 };
	static struct live live[MAXLIVE];
	unsigned n = 0, op, x = 12345;

	for (op = 0; op < OPS; op++) {
		x = x * 1103515245u + 12345u;
		if (n < MAXLIVE && (n == 0 || (x >> 16) % 3 != 0)) {
			unsigned r = (x >> 8) % 100;
			size_t size = r < 70 ? 1 + (x >> 20) % 40 :
			    r < 95	     ? 1 + (x >> 20) % 600 :
					       1 + (x >> 12) % 9000;
			size_t align = (x >> 4) % 4 == 0 ?
			    (size_t)1 << ((x >> 24) % 7) :
			    0;
			struct live *l = &live[n];

			l->h = percpu_priv_zalloc(size, align);
			cr_assert_not_null(l->h);
			if (align != 0)
				cr_assert_eq((uintptr_t)l->h % align, 0);
			l->size = size;
			l->tag = (unsigned char)(op % 251 + 1);
			check_fill(l, 0);
			n++;
		} else {
			unsigned i = (x >> 12) % n;

			check_fill(&live[i], 1);
			cr_assert_eq(
			    percpu_priv_zfree(live[i].h, live[i].size, NULL),
			    PERCPU_PRIV_OK);
			live[i] = live[--n];
		}
	}
	while (n > 0) {
		check_fill(&live[n - 1], 1);
		cr_assert_eq(
		    percpu_priv_zfree(live[n - 1].h, live[n - 1].size, NULL),
		    PERCPU_PRIV_OK);
		n--;
	}
}
#endif
