/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/static_arena.h - the no-malloc option (PERCPU_STATIC_ARENA_SIZE).
 *
 * Internal: reached from percpu/impl.h when the implementation file
 * defines PERCPU_STATIC_ARENA_SIZE (bytes).  Two static arrays, both in
 * zero-initialized storage (.bss: nothing in the image):
 *
 *   the arena  PERCPU_STATIC_ARENA_SIZE bytes.  MP: the default chunk
 *              provider carves it into chunk-sized slots (a chunk is
 *              percpu_ncpus() * PERCPU_UNIT_SIZE bytes), so it holds
 *              ARENA_SIZE / chunk chunks.  UP: the allocations themselves
 *              come from it (a first-fit heap, 16-byte aligned).
 *   the pool   PERCPU_STATIC_POOL_SIZE bytes (default 4096): the default
 *              PERCPU_MALLOC of the toolkit's bookkeeping (the CPU table,
 *              chunk records and their extent lists, percpu_t handles,
 *              counters_read() scratch, pool_get() items).
 *
 * Running out of either makes the allocation in progress fail exactly as
 * malloc() returning NULL does: each face's documented error.  Nothing is
 * ever written outside the arrays; guard words around them (set at first
 * use) let tests check that (percpu_priv_static_check()).
 *
 * Sizing (MP): the first chunk must fit, or the start-up fails (a panic):
 * PERCPU_STATIC_ARENA_SIZE >= ncpus * PERCPU_UNIT_SIZE.  The first chunk
 * holds the core's cache line per CPU and the DPCPU set; each further
 * chunk is another ncpus * PERCPU_UNIT_SIZE.
 */
#ifndef PERCPU_STATIC_ARENA_H
#define PERCPU_STATIC_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "atomic.h"

#include "spin.h"

#ifndef PERCPU_STATIC_POOL_SIZE
# define PERCPU_STATIC_POOL_SIZE 4096
#endif
#if (PERCPU_STATIC_ARENA_SIZE) < PERCPU_CACHELINE
# error "percpu: PERCPU_STATIC_ARENA_SIZE must be at least PERCPU_CACHELINE"
#endif
#if PERCPU_MP && !PERCPU_MD_HOSTED && !PERCPU_MD_HAS_POSSIBLE && \
    (PERCPU_STATIC_ARENA_SIZE) < (PERCPU_MD_NCPUS) * (PERCPU_UNIT_SIZE)
/* Firmware with a known CPU count: the first chunk must fit. */
/* clang-format off */
# error "percpu: PERCPU_STATIC_ARENA_SIZE is smaller than one chunk (PERCPU_MD_NCPUS x PERCPU_UNIT_SIZE): the first chunk would not fit"
/* clang-format on */
#endif
#if (PERCPU_STATIC_POOL_SIZE) < 64
# error "percpu: PERCPU_STATIC_POOL_SIZE must be at least 64"
#endif

/* Guard word around both arrays ("PCPUGARD"). */
#define PERCPU_PRIV_GUARD UINT64_C(0x5043505547415244)
#define PERCPU_PRIV_NGUARD 4

/* Heap granule: block sizes and payload addresses are multiples of it. */
#define PERCPU_PRIV_GRAIN 16

/* A heap is needed for the pool, and for the arena of a UP build. */
#if defined(PERCPU_PRIV_POOL) || !PERCPU_MP
# define PERCPU_PRIV_HEAP 1
#else
# define PERCPU_PRIV_HEAP 0
#endif

struct percpu_priv_sa {
	uint64_t lo[PERCPU_PRIV_NGUARD];
	_Alignas(PERCPU_CACHELINE) unsigned char mem[PERCPU_STATIC_ARENA_SIZE];
	_Alignas(8) uint64_t hi[PERCPU_PRIV_NGUARD];
};

struct percpu_priv_pool {
	uint64_t lo[PERCPU_PRIV_NGUARD];
	_Alignas(PERCPU_PRIV_GRAIN) unsigned char mem[PERCPU_STATIC_POOL_SIZE];
	_Alignas(8) uint64_t hi[PERCPU_PRIV_NGUARD];
};

static struct percpu_priv_sa percpu_priv_sa;
#ifdef PERCPU_PRIV_POOL
static struct percpu_priv_pool percpu_priv_pool;
#endif
static atomic_int percpu_priv_guard_once;

/* Set the guard words, once, before the first allocation. */
static void
percpu_priv_guard_init(void)
{
	unsigned i;

	for (i = 0; i < PERCPU_PRIV_NGUARD; i++) {
		percpu_priv_sa.lo[i] = percpu_priv_sa.hi[i] = PERCPU_PRIV_GUARD;
#ifdef PERCPU_PRIV_POOL
		percpu_priv_pool.lo[i] = percpu_priv_pool.hi[i] =
		    PERCPU_PRIV_GUARD;
#endif
	}
}

static void
percpu_priv_guard(void)
{
	percpu_priv_once(&percpu_priv_guard_once, percpu_priv_guard_init);
}

#if PERCPU_PRIV_HEAP
/* ---- A first-fit heap over a static array ---- */

/*
 * A block: a header of one granule, then the payload.  size counts the
 * header and is a multiple of the granule; blocks tile the array.
 */
struct percpu_priv_blk {
	size_t size;
	size_t used;
};
_Static_assert(sizeof(struct percpu_priv_blk) <= PERCPU_PRIV_GRAIN,
    "percpu: heap header larger than a granule");

struct percpu_priv_heap {
	unsigned char *mem;
	size_t size; /* a multiple of the granule */
	atomic_int lock;
	int ready;
};

static struct percpu_priv_blk *
percpu_priv_blk_at(unsigned char *p)
{
	return ((struct percpu_priv_blk *)(void *)p);
}

/*
 * percpu_priv_heap_alloc - @n bytes of @h, aligned to the granule.
 *
 * Context: thread context (a spin lock).
 * Return: the payload, or NULL when no free block is large enough.
 */
static void *
percpu_priv_heap_alloc(struct percpu_priv_heap *h, size_t n)
{
	unsigned char *p, *end = h->mem + h->size;
	size_t need;
	void *r = NULL;

	percpu_priv_guard();
	if (n > h->size)
		return (NULL);
	need = (n + PERCPU_PRIV_GRAIN - 1) / PERCPU_PRIV_GRAIN *
		PERCPU_PRIV_GRAIN +
	    PERCPU_PRIV_GRAIN;
	percpu_priv_spin_lock(&h->lock);
	if (!h->ready) {
		percpu_priv_blk_at(h->mem)->size = h->size;
		percpu_priv_blk_at(h->mem)->used = 0;
		h->ready = 1;
	}
	for (p = h->mem; p < end; p += percpu_priv_blk_at(p)->size) {
		struct percpu_priv_blk *b = percpu_priv_blk_at(p);

		if (b->used)
			continue;
		/* Merge the free blocks that follow. */
		while (
		    p + b->size < end && !percpu_priv_blk_at(p + b->size)->used)
			b->size += percpu_priv_blk_at(p + b->size)->size;
		if (b->size < need)
			continue;
		if (b->size - need >= 2 * PERCPU_PRIV_GRAIN) {
			struct percpu_priv_blk *rest =
			    percpu_priv_blk_at(p + need);

			rest->size = b->size - need;
			rest->used = 0;
			b->size = need;
		}
		b->used = 1;
		r = p + PERCPU_PRIV_GRAIN;
		break;
	}
	percpu_priv_spin_unlock(&h->lock);
	return (r);
}

/*
 * percpu_priv_heap_free - give back a percpu_priv_heap_alloc() payload.
 *
 * Context: thread context.  NULL is a no-op; a pointer that is not a
 * payload of @h is an internal error (PERCPU_ASSERT), and is ignored.
 */
static void
percpu_priv_heap_free(struct percpu_priv_heap *h, void *v)
{
	unsigned char *p = (unsigned char *)v;

	if (p == NULL)
		return;
	PERCPU_ASSERT(p >= h->mem + PERCPU_PRIV_GRAIN && p < h->mem + h->size);
	if (p < h->mem + PERCPU_PRIV_GRAIN || p >= h->mem + h->size)
		return;
	percpu_priv_spin_lock(&h->lock);
	percpu_priv_blk_at(p - PERCPU_PRIV_GRAIN)->used = 0;
	percpu_priv_spin_unlock(&h->lock);
}

#endif /* PERCPU_PRIV_HEAP */

#ifdef PERCPU_PRIV_POOL
static struct percpu_priv_heap percpu_priv_pool_heap = {percpu_priv_pool.mem,
    PERCPU_STATIC_POOL_SIZE / PERCPU_PRIV_GRAIN *PERCPU_PRIV_GRAIN, 0, 0};

/* The default PERCPU_MALLOC / PERCPU_FREE of this mode (config.h). */
static void *
percpu_priv_pool_alloc(size_t n)
{
	return (percpu_priv_heap_alloc(&percpu_priv_pool_heap, n));
}

static void
percpu_priv_pool_free(void *p)
{
	percpu_priv_heap_free(&percpu_priv_pool_heap, p);
}
#endif /* PERCPU_PRIV_POOL */

/* ---- The arena ---- */

#if PERCPU_MP
/* Slot i of the arena is [i * len, (i + 1) * len) for the chunk size len
 * (the same for every chunk of a process).  Guarded by the arena lock. */
static unsigned char
    percpu_priv_sa_used[PERCPU_STATIC_ARENA_SIZE / PERCPU_UNIT_SIZE + 1];

/*
 * percpu_priv_sa_map - a zero-filled chunk of @len bytes from the arena.
 *
 * Context: under the arena lock (or the start-up once).
 * Return: the chunk, cache-line aligned; NULL when no slot is free.
 */
static void *
percpu_priv_sa_map(size_t len)
{
	size_t i, nslot = PERCPU_STATIC_ARENA_SIZE / len;

	percpu_priv_guard();
	for (i = 0; i < nslot && i < sizeof(percpu_priv_sa_used); i++) {
		if (!percpu_priv_sa_used[i]) {
			percpu_priv_sa_used[i] = 1;
			memset(percpu_priv_sa.mem + i * len, 0, len);
			return (percpu_priv_sa.mem + i * len);
		}
	}
	return (NULL);
}

static void
percpu_priv_sa_unmap(void *p, size_t len)
{
	size_t i = (size_t)((unsigned char *)p - percpu_priv_sa.mem) / len;

	if (i < sizeof(percpu_priv_sa_used))
		percpu_priv_sa_used[i] = 0;
}
#else
/* UP: the arena is a heap of allocations. */
static struct percpu_priv_heap percpu_priv_sa_heap = {percpu_priv_sa.mem,
    PERCPU_STATIC_ARENA_SIZE / PERCPU_PRIV_GRAIN *PERCPU_PRIV_GRAIN, 0, 0};
#endif

/* ---- For tests ---- */

PERCPU_BEGIN_DECLS
int percpu_priv_static_check(void);
void percpu_priv_static_bounds(const void **lo, const void **hi);
PERCPU_END_DECLS

/*
 * percpu_priv_static_check - are the guard words around the arena and
 * the pool intact?
 *
 * Return: 0 if they are (or nothing was allocated yet), -1 if anything
 *         wrote past either array.
 */
int
percpu_priv_static_check(void)
{
	unsigned i;

	percpu_priv_guard();
	for (i = 0; i < PERCPU_PRIV_NGUARD; i++) {
		if (percpu_priv_sa.lo[i] != PERCPU_PRIV_GUARD ||
		    percpu_priv_sa.hi[i] != PERCPU_PRIV_GUARD)
			return (-1);
#ifdef PERCPU_PRIV_POOL
		if (percpu_priv_pool.lo[i] != PERCPU_PRIV_GUARD ||
		    percpu_priv_pool.hi[i] != PERCPU_PRIV_GUARD)
			return (-1);
#endif
	}
	return (0);
}

/* percpu_priv_static_bounds - the arena's bytes: [*@lo, *@hi). */
void
percpu_priv_static_bounds(const void **lo, const void **hi)
{
	*lo = percpu_priv_sa.mem;
	*hi = percpu_priv_sa.mem + PERCPU_STATIC_ARENA_SIZE;
}

#endif /* PERCPU_STATIC_ARENA_H */
