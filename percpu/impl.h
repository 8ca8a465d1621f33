/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/impl.h - the one definition of the toolkit's state and its
 * out-of-line functions.
 *
 * Internal: reached through "#define PERCPU_IMPLEMENTATION" before the
 * first include of a toolkit header, in exactly one .c file.  Objects and
 * functions only; no code runs before main().
 */
#ifndef PERCPU_IMPL_H
#define PERCPU_IMPL_H

#include <stdarg.h>
#if PERCPU_MD_LIBC
# include <stdio.h>
# include <stdlib.h>
#else
# include "impl_fw.h"
#endif
#ifdef PERCPU_STATIC_ARENA_SIZE
# include "static_arena.h"
#endif
#if !PERCPU_MD_LIBC && defined(PERCPU_PRIV_MALLOC_LIBC)
/* clang-format off */
# error "percpu: no C library here: define PERCPU_STATIC_ARENA_SIZE (no malloc at all) or PERCPU_MALLOC/PERCPU_FREE in the implementation file"
/* clang-format on */
#endif

#if PERCPU_MD_HOSTED
# include <pthread.h>
# include <sys/mman.h>
# include <unistd.h>
/* Strict -std=c11 hides MAP_ANONYMOUS in <sys/mman.h>; the kernel's own
 * header has it (and MAP_NORESERVE for this architecture). */
# if !defined(MAP_ANONYMOUS) && defined(__linux__)
#  include <linux/mman.h>
# endif
# ifndef MAP_NORESERVE
#  define PERCPU_PRIV_MAP_NORESERVE 0
# else
#  define PERCPU_PRIV_MAP_NORESERVE MAP_NORESERVE
# endif
#endif

/* ---- Error reporting ---- */

static _Atomic(percpu_error_handler_t) percpu_priv_handler;

percpu_error_handler_t
percpu_set_error_handler(percpu_error_handler_t fn)
{
	return (atomic_exchange_explicit(&percpu_priv_handler, fn,
	    memory_order_acq_rel));
}

void
percpu_priv_fail(const char *fmt, ...)
{
	percpu_error_handler_t fn;
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
#if PERCPU_MD_LIBC
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
#elif PERCPU_NO_FORMAT
	/* No formatter in the image: the handler gets the format itself. */
	(void)ap;
	(void)msg;
#else
	percpu_priv_vfmt(msg, sizeof(msg), fmt, ap);
#endif
	va_end(ap);
#if !PERCPU_MD_LIBC && PERCPU_NO_FORMAT
# define PERCPU_PRIV_MSG fmt
#else
# define PERCPU_PRIV_MSG msg
#endif
	fn = atomic_load_explicit(&percpu_priv_handler, memory_order_acquire);
	if (fn != NULL) {
		fn(PERCPU_PRIV_MSG);
		return;
	}
#if PERCPU_MD_LIBC
	(void)fprintf(stderr, "percpu: %s\n", msg);
	abort();
#else
	percpu_priv_panic(PERCPU_PRIV_MSG);
#endif
}
#undef PERCPU_PRIV_MSG

PERCPU_NORETURN void
percpu_priv_panic(const char *msg)
{
#if PERCPU_MD_LIBC
	(void)msg;
	abort();
#else
	PERCPU_PANIC(msg);
	for (;;)
		atomic_signal_fence(memory_order_seq_cst);
#endif
}

#if PERCPU_MP
/* A failed start-up: report @msg and stop (no error handler: nothing can
 * go on without the CPU table). */
PERCPU_NORETURN static void
percpu_priv_die(const char *msg)
{
# if PERCPU_MD_LIBC
	(void)fprintf(stderr, "percpu: %s\n", msg);
# endif
	percpu_priv_panic(msg);
}
#endif

void *
percpu_priv_malloc(size_t size)
{
	void *p = PERCPU_MALLOC(size);

	percpu_priv_freed_forget(p); /* a new object at a freed address */
	return (p);
}

void
percpu_priv_free(void *p)
{
	if (p != NULL)
		PERCPU_FREE(p);
}

/* ---- Allocation-failure injection (tests) ---- */

/* Per thread on hosted MP ports; firmware has no thread-local storage
 * (no TLS at all in firmware images: a board may use TPIDR_EL0 or tp for
 * itself), so there, as on UP, one global count. */
#if PERCPU_MP && PERCPU_MD_HOSTED
static PERCPU_THREAD_LOCAL unsigned percpu_priv_zalloc_faults;
#else
static unsigned percpu_priv_zalloc_faults;
#endif

void
percpu_priv_zalloc_fail_next(unsigned n)
{
	percpu_priv_zalloc_faults = n;
}

/* Consume one injected failure; 1 if this allocation must fail. */
static int
percpu_priv_zalloc_fault(void)
{
	if (PERCPU_LIKELY(percpu_priv_zalloc_faults == 0))
		return (0);
	percpu_priv_zalloc_faults--;
	return (1);
}

/* ---- CPU lists ---- */

static int
percpu_priv_parse_num(const char **sp, unsigned long *out)
{
	const char *s = *sp;
	unsigned long v = 0;

	if (*s < '0' || *s > '9')
		return (-1);
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 1000000ul)
			return (-1);
		s++;
	}
	*sp = s;
	*out = v;
	return (0);
}

int
percpu_priv_parse_cpulist(const char *s, unsigned char *mask, unsigned cap,
    unsigned *dropped)
{
	unsigned long lo, hi, i;
	int n = 0;

	if (dropped != NULL)
		*dropped = 0;
	memset(mask, 0, cap);
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '\n')
		return (-1);
	for (;;) {
		if (percpu_priv_parse_num(&s, &lo) != 0)
			return (-1);
		hi = lo;
		if (*s == '-') {
			s++;
			if (percpu_priv_parse_num(&s, &hi) != 0 || hi < lo)
				return (-1);
		}
		for (i = lo; i <= hi; i++) {
			if (i >= cap) {
				if (dropped != NULL)
					(*dropped)++;
			} else if (!mask[i]) {
				mask[i] = 1;
				n++;
			}
		}
		if (*s != ',')
			break;
		s++;
	}
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return (*s == '\0' ? n : -1);
}

#if PERCPU_MP
/* ---- MP state ---- */

struct percpu_priv_global percpu_priv_g;
# if PERCPU_MD_HOSTED
PERCPU_THREAD_LOCAL struct percpu_priv_td percpu_priv_td;
# else
struct percpu_priv_td percpu_priv_tds[PERCPU_MAXCPU];
# endif
# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ
int percpu_md_rseq_on;
int percpu_md_rseq_adds;
ptrdiff_t percpu_md_rseq_off;
uint32_t percpu_md_rseq_llim;
static int percpu_priv_rseq_usable(void);
#  if defined(__x86_64__)
static int percpu_priv_rseq_persist(void);
static void percpu_priv_rseq_bound(uint32_t kind, uint32_t v);
static void percpu_priv_rseq_inert(void);
#  endif
# endif

/*
 * The arena's bookkeeping.  A unit is cut in grains of PERCPU_PRIV_AGRAIN
 * bytes; an allocation is a run of whole grains at one offset in every
 * unit of a chunk.  Per chunk, five bitmaps of one bit per grain (planes
 * of PERCPU_PRIV_WORDS words each, in one malloc'ed block):
 *   used   the grain belongs to an allocation (bits past the last grain
 *          are set, so no scan ever runs off the unit);
 *   start  the grain is an allocation's first (its handle);
 *   pad0..pad2  at a first grain: the bytes of its last grain the size
 *          leaves unused, so a free checks the exact byte size.
 * An allocation's grains run from its start bit to the next start bit or
 * free grain.  First fit, from the chunk's first word with a free grain
 * (hint); chunks whose free grains cannot hold the size are skipped
 * without a look at their bitmaps.  So an allocation costs the scan of
 * the words it needs, not of the live objects.
 */
# define PERCPU_PRIV_AGRAIN 8u
# define PERCPU_PRIV_NGRAIN (PERCPU_PRIV_STRIDE / PERCPU_PRIV_AGRAIN)
# define PERCPU_PRIV_WORDS ((PERCPU_PRIV_NGRAIN + 63) / 64)
enum {
	PERCPU_PRIV_USED,
	PERCPU_PRIV_START,
	PERCPU_PRIV_PAD0,
	PERCPU_PRIV_NPLANE = PERCPU_PRIV_PAD0 + 3
};

/* A chunk: ncpu units of stride bytes. */
struct percpu_priv_chunk {
	char *base;
	uint64_t *map; /* PERCPU_PRIV_NPLANE planes of PERCPU_PRIV_WORDS */
	size_t nfree;  /* free grains */
	size_t hint;   /* every word of used below this one is full */
	struct percpu_priv_chunk *next;
};

# if PERCPU_MD_HOSTED
static struct {
	pthread_mutex_t lock; /* guards chunks and every ext list */
	struct percpu_priv_chunk *chunks;
	pthread_once_t once;
#  if PERCPU_MD == PERCPU_MD_SIM
	char sim_cpus[256];
#  endif
} percpu_priv_arena = {PTHREAD_MUTEX_INITIALIZER, NULL, PTHREAD_ONCE_INIT
#  if PERCPU_MD == PERCPU_MD_SIM
    ,
    {0}
#  endif
};

static void
percpu_priv_arena_lock(void)
{
	(void)pthread_mutex_lock(&percpu_priv_arena.lock);
}

static void
percpu_priv_arena_unlock(void)
{
	(void)pthread_mutex_unlock(&percpu_priv_arena.lock);
}
# else
/* Firmware: a spin lock and a once-flag (percpu/spin.h). */
static struct {
	atomic_int lock; /* guards chunks and every ext list */
	struct percpu_priv_chunk *chunks;
	atomic_int once;
} percpu_priv_arena;

static void
percpu_priv_arena_lock(void)
{
	percpu_priv_spin_lock(&percpu_priv_arena.lock);
}

static void
percpu_priv_arena_unlock(void)
{
	percpu_priv_spin_unlock(&percpu_priv_arena.lock);
}
# endif

/* ---- Port: possible CPUs and chunk memory ---- */

/*
 * percpu_md_map / percpu_md_unmap - the default chunk memory: the static
 * arena when the implementation defines PERCPU_STATIC_ARENA_SIZE, else
 * anonymous mmap on hosted ports, else none (firmware must choose).
 */
static void *
percpu_md_map(size_t len)
{
# if defined(PERCPU_STATIC_ARENA_SIZE)
	return (percpu_priv_sa_map(len));
# elif PERCPU_MD_HOSTED
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | PERCPU_PRIV_MAP_NORESERVE, -1, 0);

	return (p == MAP_FAILED ? NULL : p);
# else
	(void)len;
	return (NULL);
# endif
}

static void
percpu_md_unmap(void *p, size_t len)
{
# if defined(PERCPU_STATIC_ARENA_SIZE)
	percpu_priv_sa_unmap(p, len);
# elif PERCPU_MD_HOSTED
	(void)munmap(p, len);
# else
	(void)p;
	(void)len;
# endif
}

/* The chunk provider; map == NULL means the port's default. */
static struct percpu_chunk_provider percpu_priv_provider;

int
percpu_set_chunk_provider(const struct percpu_chunk_provider *p)
{
	int rc = -1;

	percpu_priv_arena_lock();
	if (!atomic_load_explicit(&percpu_priv_g.ready, memory_order_acquire)) {
		if (p != NULL)
			percpu_priv_provider = *p;
		else
			memset(&percpu_priv_provider, 0,
			    sizeof(percpu_priv_provider));
		rc = 0;
	}
	percpu_priv_arena_unlock();
	return (rc);
}

static void *
percpu_priv_chunk_map(size_t len)
{
	if (percpu_priv_provider.map != NULL)
		return (
		    percpu_priv_provider.map(len, percpu_priv_provider.ctx));
	return (percpu_md_map(len));
}

static void
percpu_priv_chunk_unmap(void *p, size_t len)
{
	if (percpu_priv_provider.map == NULL)
		percpu_md_unmap(p, len);
	else if (percpu_priv_provider.unmap != NULL)
		percpu_priv_provider.unmap(p, len, percpu_priv_provider.ctx);
}

# if PERCPU_MD == PERCPU_MD_LINUX
/* Possible ids >= PERCPU_MAXCPU: then rseq stays off (see init). */
static unsigned percpu_priv_dropped;

/*
 * Possible CPUs, in this order: /sys/devices/system/cpu/possible (the
 * kernel's "could ever be online" set, sparse ids included); else
 * sysconf(_SC_NPROCESSORS_CONF) as ids 0..n-1 (configured, not merely
 * online nor merely in our affinity mask); else CPU 0 alone.  Ids >=
 * PERCPU_MAXCPU are folded (see percpu_priv_foreign()).
 */
static int
percpu_md_possible(unsigned char *mask, unsigned cap)
{
	char buf[4096];
	FILE *f;
	long n;
	int got = -1;

	/* Test hook: the CPU list a container's own /sys may show (a table
	 * that need not hold the CPUs the threads run on). */
	f = NULL;
	if (getenv("PERCPU_TEST_CPUS") != NULL) {
		got = percpu_priv_parse_cpulist(getenv("PERCPU_TEST_CPUS"),
		    mask, cap, &percpu_priv_dropped);
		if (got > 0)
			return (got);
	} else
		f = fopen("/sys/devices/system/cpu/possible", "r");
	if (f != NULL) {
		if (fgets(buf, (int)sizeof(buf), f) != NULL)
			got = percpu_priv_parse_cpulist(buf, mask, cap,
			    &percpu_priv_dropped);
		(void)fclose(f);
	}
	if (got > 0)
		return (got);
	memset(mask, 0, cap);
	n = sysconf(_SC_NPROCESSORS_CONF);
	if (n < 1)
		n = 1;
	for (got = 0; got < n && (unsigned)got < cap; got++)
		mask[got] = 1;
	return (got);
}
# elif PERCPU_MD == PERCPU_MD_SIM
static int
percpu_md_possible(unsigned char *mask, unsigned cap)
{
	const char *list = percpu_priv_arena.sim_cpus;
	int got;

	if (list[0] == '\0') {
		list = getenv("PERCPU_SIM_CPUS");
		if (list == NULL || list[0] == '\0')
			list = "0-1,5,63,200";
	}
	got = percpu_priv_parse_cpulist(list, mask, cap, NULL);
	if (got <= 0) {
		memset(mask, 0, cap);
		mask[0] = 1;
		got = 1;
	}
	return (got);
}
# endif

/* ---- The arena ---- */

/* Plane @k of chunk @c. */
static uint64_t *
percpu_priv_plane(struct percpu_priv_chunk *c, unsigned k)
{
	return (c->map + (size_t)k * PERCPU_PRIV_WORDS);
}

/*
 * percpu_priv_ctz64 - the index of the lowest set bit of @x (x != 0).
 * Shifts and masks only: no libgcc helper (__ctzdi2, __clzsi2), which a
 * -nostdlib firmware link may lack or carry for another ABI.
 */
static unsigned
percpu_priv_ctz64(uint64_t x)
{
	unsigned n = 0, k;

	for (k = 32; k != 0; k /= 2)
		if ((x & ((((uint64_t)1) << k) - 1)) == 0) {
			n += k;
			x >>= k;
		}
	return (n);
}

/*
 * The first grain in [from, lim) whose bit is set in @set or clear in
 * @clr (either may be NULL); lim if none.  Word at a time.
 */
static size_t
percpu_priv_scan(const uint64_t *set, const uint64_t *clr, size_t from,
    size_t lim)
{
	while (from < lim) {
		size_t w = from / 64;
		uint64_t x =
		    (set != NULL ? set[w] : 0) | (clr != NULL ? ~clr[w] : 0);

		x &= ~(uint64_t)0 << (from % 64);
		if (x != 0) {
			from = w * 64 + (size_t)percpu_priv_ctz64(x);
			return (from < lim ? from : lim);
		}
		from = (w + 1) * 64;
	}
	return (lim);
}

/* Set (@on) or clear bits [from, from + n) of plane @m. */
static void
percpu_priv_bits(uint64_t *m, size_t from, size_t n, int on)
{
	while (n != 0) {
		size_t b = from % 64, k = 64 - b < n ? 64 - b : n;
		uint64_t x = (k == 64 ? ~(uint64_t)0 : ((uint64_t)1 << k) - 1)
		    << b;

		if (on)
			m[from / 64] |= x;
		else
			m[from / 64] &= ~x;
		from += k;
		n -= k;
	}
}

static struct percpu_priv_chunk *
percpu_priv_chunk_new(void)
{
	struct percpu_priv_chunk *c;

	c = (struct percpu_priv_chunk *)PERCPU_MALLOC(sizeof(*c));
	if (c == NULL)
		return (NULL);
	c->map = (uint64_t *)PERCPU_MALLOC(
	    PERCPU_PRIV_NPLANE * PERCPU_PRIV_WORDS * sizeof(uint64_t));
	if (c->map == NULL) {
		PERCPU_FREE(c);
		return (NULL);
	}
	c->base = (char *)percpu_priv_chunk_map(
	    PERCPU_PRIV_STRIDE * percpu_priv_g.ncpu);
	if (c->base == NULL) {
		PERCPU_FREE(c->map);
		PERCPU_FREE(c);
		return (NULL);
	}
	memset(c->map, 0,
	    PERCPU_PRIV_NPLANE * PERCPU_PRIV_WORDS * sizeof(uint64_t));
	/* Past the last grain: used, so scans stop there. */
	percpu_priv_bits(percpu_priv_plane(c, PERCPU_PRIV_USED),
	    PERCPU_PRIV_NGRAIN, PERCPU_PRIV_WORDS * 64 - PERCPU_PRIV_NGRAIN, 1);
	c->nfree = PERCPU_PRIV_NGRAIN;
	c->hint = 0;
	c->next = NULL;
	return (c);
}

static void
percpu_priv_chunk_delete(struct percpu_priv_chunk *c)
{
	percpu_priv_chunk_unmap(c->base,
	    PERCPU_PRIV_STRIDE * percpu_priv_g.ncpu);
	PERCPU_FREE(c->map);
	PERCPU_FREE(c);
}

/*
 * First fit of @size bytes at @align in chunk @c: mark it and return its
 * offset, or (size_t)-1 if no run of free grains holds it.
 */
static size_t
percpu_priv_chunk_take(struct percpu_priv_chunk *c, size_t size, size_t align)
{
	uint64_t *used = percpu_priv_plane(c, PERCPU_PRIV_USED);
	size_t g = (size + PERCPU_PRIV_AGRAIN - 1) / PERCPU_PRIV_AGRAIN;
	size_t ag = align > PERCPU_PRIV_AGRAIN ? align / PERCPU_PRIV_AGRAIN : 1;
	size_t pos = c->hint * 64, pad = g * PERCPU_PRIV_AGRAIN - size;
	unsigned k;

	if (c->nfree < g)
		return ((size_t)-1);
	for (;;) {
		size_t u;

		pos = (pos + ag - 1) & ~(ag - 1);
		if (pos + g > PERCPU_PRIV_NGRAIN)
			return ((size_t)-1);
		u = percpu_priv_scan(used, NULL, pos, pos + g);
		if (u == pos + g)
			break;
		/* The next free grain after the used one. */
		pos = percpu_priv_scan(NULL, used, u + 1, PERCPU_PRIV_NGRAIN);
	}
	percpu_priv_bits(used, pos, g, 1);
	percpu_priv_bits(percpu_priv_plane(c, PERCPU_PRIV_START), pos, 1, 1);
	for (k = 0; k < 3; k++)
		if (pad & (1u << k))
			percpu_priv_bits(
			    percpu_priv_plane(c, PERCPU_PRIV_PAD0 + k), pos, 1,
			    1);
	c->nfree -= g;
	while (c->hint < PERCPU_PRIV_WORDS && used[c->hint] == ~(uint64_t)0)
		c->hint++;
	return (pos * PERCPU_PRIV_AGRAIN);
}

/*
 * percpu_priv_arena_take - @size bytes at @align (both checked) from the
 * first chunk with room, or a new chunk: the caller holds the arena lock,
 * or is percpu_priv_init_once(), which no other thread can reach the
 * arena before (dpcpu_priv_boot(): no lock a fork() in that window could
 * leave held in the child).  Return: the handle, NULL if out of memory.
 */
static void *
percpu_priv_arena_take(size_t size, size_t align)
{
	struct percpu_priv_chunk *c, **tail;
	size_t off = (size_t)-1;

	tail = &percpu_priv_arena.chunks;
	for (c = percpu_priv_arena.chunks; c != NULL; c = c->next) {
		off = percpu_priv_chunk_take(c, size, align);
		if (off != (size_t)-1)
			break;
		tail = &c->next;
	}
	if (c == NULL) {
		c = percpu_priv_chunk_new();
		if (c == NULL)
			return (NULL);
		*tail = c;
		off = percpu_priv_chunk_take(c, size, align);
	}
	/* Fresh and freed space is zero in every unit (see zfree). */
	return (c->base + off);
}

/*
 * percpu_priv_zalloc_in - percpu_priv_zalloc() once the CPU table exists,
 * with no injected failure.
 */
static void *
percpu_priv_zalloc_in(size_t size, size_t align)
{
	void *h;

	if (size == 0 || size > PERCPU_PRIV_STRIDE)
		return (NULL);
	if (align == 0) {
		align = 1;
		while (align < 16 && align * 2 <= size)
			align *= 2;
	}
	if ((align & (align - 1)) != 0 || align > PERCPU_CACHELINE)
		return (NULL);
	percpu_priv_arena_lock();
	h = percpu_priv_arena_take(size, align);
	percpu_priv_arena_unlock();
	percpu_priv_freed_forget(h); /* a new object at a freed address */
	return (h);
}

void *
percpu_priv_zalloc(size_t size, size_t align)
{
	percpu_priv_ready();
	if (size == 0 || size > PERCPU_PRIV_STRIDE ||
	    percpu_priv_zalloc_fault())
		return (NULL);
	return (percpu_priv_zalloc_in(size, align));
}

/* Zero [p, p + len) unless it already is: untouched pages stay unbacked. */
static void
percpu_priv_clear(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != 0) {
			memset(p + i, 0, len - i);
			return;
		}
	}
}

int
percpu_priv_zfree(void *h, size_t size, size_t *actual)
{
	struct percpu_priv_chunk *c, **prev;
	char *p = (char *)h;
	uint64_t *used, *start;
	size_t off, pos, g, have, u;
	unsigned k;
	int rc = PERCPU_PRIV_ENOENT;

	percpu_priv_ready();
	percpu_priv_arena_lock();
	prev = &percpu_priv_arena.chunks;
	for (c = percpu_priv_arena.chunks; c != NULL; c = c->next) {
		if (p >= c->base && p < c->base + PERCPU_PRIV_STRIDE)
			break;
		prev = &c->next;
	}
	if (c == NULL)
		goto out;
	off = (size_t)(p - c->base);
	pos = off / PERCPU_PRIV_AGRAIN;
	used = percpu_priv_plane(c, PERCPU_PRIV_USED);
	start = percpu_priv_plane(c, PERCPU_PRIV_START);
	if (off % PERCPU_PRIV_AGRAIN != 0 ||
	    !(start[pos / 64] >> (pos % 64) & 1) ||
	    (c == percpu_priv_arena.chunks && off == 0))
		goto out;
	/* Its grains: up to the next allocation or free grain. */
	g = percpu_priv_scan(start, used, pos + 1, PERCPU_PRIV_NGRAIN) - pos;
	have = g * PERCPU_PRIV_AGRAIN;
	for (k = 0; k < 3; k++)
		if (percpu_priv_plane(c, PERCPU_PRIV_PAD0 + k)[pos / 64] >>
			(pos % 64) &
		    1)
			have -= (size_t)1 << k;
	if (have != size) {
		if (actual != NULL)
			*actual = have;
		rc = PERCPU_PRIV_ESIZE;
		goto out;
	}
	for (u = 0; u < percpu_priv_g.ncpu; u++)
		percpu_priv_clear(p + u * PERCPU_PRIV_STRIDE, size);
	percpu_priv_bits(used, pos, g, 0);
	for (k = PERCPU_PRIV_START; k < PERCPU_PRIV_NPLANE; k++)
		percpu_priv_bits(percpu_priv_plane(c, k), pos, 1, 0);
	c->nfree += g;
	if (c->hint > pos / 64)
		c->hint = pos / 64;
	if (c->nfree == PERCPU_PRIV_NGRAIN && c != percpu_priv_arena.chunks) {
		*prev = c->next;
		percpu_priv_chunk_delete(c);
	}
	rc = PERCPU_PRIV_OK;
out:
	percpu_priv_arena_unlock();
	/* A handle its face noted as freed (percpu/impl_diag.h). */
	if (rc == PERCPU_PRIV_ENOENT && percpu_priv_freed(h))
		rc = PERCPU_PRIV_EFREED;
	return (rc);
}

# if PERCPU_MD_HOSTED
/* ---- Owner tokens and thread exit ---- */

/* Tokens handed out so far; a token is never 0 nor reused (2^64 threads,
 * or 2^32 on 32-bit targets, before it wraps). */
static _Atomic(uintptr_t) percpu_priv_serial;
/* Its destructor runs when a thread that ever took a token exits. */
static pthread_key_t percpu_priv_exit_key;
static int percpu_priv_exit_key_ok;
static void percpu_priv_unwait(struct percpu_priv_td *td, unsigned rec,
    struct percpu_priv_pcpu *pc, unsigned one);

/*
 * percpu_priv_thread_exit - the destructor of percpu_priv_exit_key: runs
 * in a thread that is exiting (return, pthread_exit(), cancellation),
 * with its thread-local state still valid.
 *
 * A thread that exits inside a section would hold its CPU forever: every
 * later thread wanting that CPU would wait for good.  So it is reported,
 * naming the CPU; if the error handler returns, the CPU is released
 * (robust-mutex style: the next holder gets the CPU's data as the dead
 * thread left it; counters close the generation it left open, see
 * cpumem.h).
 */
static void
percpu_priv_thread_exit(void *arg)
{
	struct percpu_priv_td *td = (struct percpu_priv_td *)arg;
	uint32_t s = td->state;
	int reported = 0;

	if ((s & PERCPU_PRIV_DEPTH) != 0) {
		unsigned idx = percpu_priv_sidx(s);
		uintptr_t tok = td->token;
		int borrowed = (s & PERCPU_PRIV_BORROWED) != 0;

		td->state = 0;
		reported = 1;
		percpu_priv_fail("thread exited inside a section on CPU %u; "
				 "the CPU is released, its data may be "
				 "half-updated",
		    percpu_priv_g.ci[idx].ci_index);
		/* Release: what the dead thread wrote, to the next holder;
		 * pairs with the acquire CAS in percpu_enter().  A borrowed
		 * CPU is released too: its lock word holds this thread's
		 * token (the interrupted enter or leave, which never runs
		 * again); the scan below finds it. */
		if (!borrowed)
			(void)atomic_compare_exchange_strong_explicit(
			    &percpu_priv_pcpu(idx)->owner, &tok, 0,
			    memory_order_release, memory_order_relaxed);
	}
	/* A lock word that still holds the token: the thread died (a
	 * handler that exited or was cancelled) inside a quiet section
	 * (counters_add(), counters_pkt(): no state, see percpu/core.h),
	 * inside the window of an enter or leave it interrupted, or after
	 * borrowing.  No other thread ever holds this token, so release it,
	 * and report it as a section (a quiet one may have left its data
	 * half-updated) unless the state above already did. */
	if (td->token != 0 &&
	    atomic_load_explicit(&percpu_priv_g.ready, memory_order_acquire)) {
		unsigned u;

		for (u = 0; u < percpu_priv_g.ncpu; u++) {
			uintptr_t tok = td->token;

			if (atomic_compare_exchange_strong_explicit(
				&percpu_priv_pcpu(u)->owner, &tok, 0,
				memory_order_release, memory_order_relaxed) &&
			    !reported) {
				reported = 1;
				percpu_priv_fail("thread exited inside a "
						 "section on CPU %u; the CPU "
						 "is released, its data may "
						 "be half-updated",
				    percpu_priv_g.ci[u].ci_index);
			}
		}
	}
	/* Counts a thread that died waiting left (a handler that exited or
	 * was cancelled inside a wait, or interrupted one and exited):
	 * every later leave of that CPU would hand it to nobody. */
	while (td->nwait > 0) {
		struct percpu_priv_wait *w = &td->wait[td->nwait - 1];

		if (td->nwait <= PERCPU_PRIV_NWAIT && w->one != 0)
			percpu_priv_unwait(td, td->nwait, w->pc, w->one);
		else
			td->nwait--;
	}
	/* Reads a thread that died stuck left counted (a handler that
	 * exited inside cpumem_priv_snap()'s wait): fork's prepare would
	 * give its CPUs back on every long wait for good. */
	if (td->stuck > 0) {
		atomic_fetch_sub_explicit(&percpu_priv_g.stuck, td->stuck,
		    memory_order_seq_cst);
		td->stuck = 0;
	}
	/* A later destructor that enters again gets a new token and a new
	 * round of this check (no inline lock without a token). */
	td->rlim = 0;
	td->token = 0;
}

#  if defined(__GNUC__) || defined(__clang__)
/*
 * percpu_priv_unload - the implementation's only destructor: at dlclose()
 * of a shared object that holds the implementation (and at exit), delete
 * the thread-exit key, whose destructor is code of that object: a thread
 * that used the object and exits after it was unmapped would otherwise
 * call into the void.  glibc never hands a deleted key's values to a
 * later key that reuses its slot (sequence numbers).  At dlclose() it
 * also makes the object's descriptor copies inert (x86-64 rseq, see
 * percpu_priv_rseq_inert()).  No priority: a prioritized destructor
 * would run after crtstuff's __cxa_finalize() (so after the object's
 * atexit handler, which must come second at dlclose()).  The object's
 * other destructors and C++ static destructors may run after it: their
 * sequences at dlclose() are no longer restarted, so such code must not
 * use the toolkit.
 * Context: the loader (dlclose(), exit()); no toolkit call runs in the
 *          object any more.
 */
__attribute__((destructor)) static void
percpu_priv_unload(void)
{
#   if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ && defined(__x86_64__)
	percpu_priv_rseq_inert();
#   endif
	if (percpu_priv_exit_key_ok) {
		percpu_priv_exit_key_ok = 0;
		(void)pthread_key_delete(percpu_priv_exit_key);
	}
}
#  endif
# endif

uintptr_t
percpu_priv_token(struct percpu_priv_td *td)
{
	if (PERCPU_LIKELY(td->token != 0))
		return (td->token);
# if PERCPU_MD_HOSTED
	{
		uintptr_t t;

		do
			t = atomic_fetch_add_explicit(&percpu_priv_serial, 1,
				memory_order_relaxed) +
			    1;
		while (t == 0);
		td->token = t;
		/* A key below PTHREAD_KEY_2NDLEVEL_SIZE: glibc stores the
		 * value in the thread descriptor, no allocation (so this
		 * works in a signal handler too). */
		if (percpu_priv_exit_key_ok)
			(void)pthread_setspecific(percpu_priv_exit_key, td);
	}
# else
	/* Firmware: one state per core, for the program's lifetime. */
	td->token = (uintptr_t)td;
# endif
	return (td->token);
}

# if PERCPU_MD_HOSTED
/* ---- Fork ---- */

/*
 * CPUs the prepare handler took, one bit per unit.  One fork runs its
 * handlers at a time (glibc serializes them), and the parent and child
 * handlers run in the thread that ran prepare.
 */
static unsigned char percpu_priv_fork_took[(PERCPU_MAXCPU + 7) / 8];

/*
 * A child must start from consistent per-CPU data: no section of another
 * thread half-done in it (those threads do not exist there).  So prepare
 * takes every CPU's section the forking thread does not already hold,
 * waiting for each holder to leave, and then the arena lock; parent and
 * child release them.  The forking thread keeps a section it is in (it
 * will leave it in both processes).  Order: CPUs before the arena lock,
 * as everywhere (a section holder may allocate; the arena lock holder
 * never waits for a CPU), ascending unit index (two preparing threads
 * cannot deadlock).  A signal handler of the forking thread that enters
 * meanwhile borrows the CPU prepare holds (same token, state 0), as in
 * the windows of percpu_enter().  Context: sections must not wait for a
 * thread that may fork (they must not sleep at all).
 */
#  if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ
static void percpu_priv_rseq_fence(unsigned cpu);
#  endif
static unsigned percpu_priv_count(struct percpu_priv_td *td,
    struct percpu_priv_pcpu *pc, unsigned one);
static void percpu_priv_uncount(struct percpu_priv_td *td, unsigned rec,
    struct percpu_priv_pcpu *pc, unsigned one);

/*
 * percpu_priv_fork_drop - release every CPU prepare took so far: at the
 * end of the fork (percpu_priv_atfork_release()), or on a long wait for
 * another one (see percpu_priv_atfork_prepare()).
 * Return: 1 if it released any.
 */
static int
percpu_priv_fork_drop(void)
{
	unsigned u;
	int any = 0;

	for (u = 0; u < percpu_priv_g.ncpu; u++)
		if (percpu_priv_fork_took[u / 8] & (1u << (u % 8))) {
			percpu_priv_fork_took[u / 8] &=
			    (unsigned char)~(1u << (u % 8));
			/* Release: pairs with the acquire CAS of the next
			 * holder (percpu_enter()). */
			atomic_store_explicit(&percpu_priv_pcpu(u)->owner, 0,
			    memory_order_release);
			any = 1;
		}
	return (any);
}

/*
 * A long wait for one CPU (1000 waits, the later ones yielding) while a
 * reader waits inside a section for another CPU to have no holder
 * (percpu_priv_g.stuck: a counters reader reading a set left open on a
 * CPU prepare may have taken, cpumem_priv_snap()) drops every CPU taken
 * so far, then waits for that one alone and starts again from the
 * first: the holder of that CPU may be that reader, which then goes on,
 * instead of both waiting forever.  Only then: a drop gives each CPU back
 * to its next holder, and two CPUs whose sections outlast 1000 waits
 * would never be held by prepare at once (fork() never returned; test
 * fork/long_sections_on_two_cpus_do_not_keep_fork_waiting).
 */
static void
percpu_priv_atfork_prepare(void)
{
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;
	uintptr_t self = percpu_priv_token(td);
	unsigned u;

	memset(percpu_priv_fork_took, 0, sizeof(percpu_priv_fork_took));
	for (u = 0; u < percpu_priv_g.ncpu; u++) {
		struct percpu_priv_pcpu *pc = percpu_priv_pcpu(u);
		unsigned spins = 0, rec;
		int dropped = 0;

		/* A counted waiter (restartable sections: after the fence;
		 * and so a hand-off may come to us, or to a handler of ours
		 * that waits meanwhile: percpu_priv_waits_remote()). */
		rec = percpu_priv_count(td, pc, PERCPU_PRIV_WANT_REMOTE);
#  if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ
		if (percpu_priv_g.rseq_lock)
			percpu_priv_rseq_fence(percpu_priv_g.ci[u].ci_index);
#  endif
		for (;;) {
			uintptr_t expect = 0;

			/* Acquire: pairs with the release store in
			 * percpu_leave() of the holder we waited for. */
			if (atomic_compare_exchange_strong_explicit(&pc->owner,
				&expect, self, memory_order_acquire,
				memory_order_relaxed) ||
			    (expect == PERCPU_PRIV_HANDOFF &&
				atomic_compare_exchange_strong_explicit(
				    &pc->owner, &expect, self,
				    memory_order_acquire,
				    memory_order_relaxed))) {
				percpu_priv_fork_took[u / 8] |=
				    (unsigned char)(1u << (u % 8));
				break;
			}
			if (expect == self) /* our own section or window */
				break;
			percpu_md_relax(spins);
			if (spins < 1000)
				spins++;
			else if (!dropped &&
			    atomic_load_explicit(&percpu_priv_g.stuck,
				memory_order_seq_cst) != 0)
				dropped = percpu_priv_fork_drop();
		}
		percpu_priv_uncount(td, rec, pc, PERCPU_PRIV_WANT_REMOTE);
		if (dropped)
			u = (unsigned)-1; /* again from the first; u is ours */
	}
	percpu_priv_arena_lock();
	/* Last: the recently-freed ring's lock (percpu/impl_diag.h), which
	 * every PERCPU_MALLOC of the toolkit takes (a child forked while
	 * another thread held it would spin in its first allocation).  No
	 * one takes the arena lock while holding it. */
	percpu_priv_freed_lock();
}

/* Release what prepare took, in the parent and in the child. */
static void
percpu_priv_atfork_release(void)
{
	percpu_priv_freed_unlock();
	percpu_priv_arena_unlock();
	(void)percpu_priv_fork_drop();
}

/* The child: no waiter of another thread is left to take a hand-off
 * (percpu_priv_release_slow()); this thread's own are (code that its
 * signal handler interrupted to fork waits on, and uncounts later). */
static void
percpu_priv_atfork_child(void)
{
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;
	unsigned u, i;

	for (u = 0; u < percpu_priv_g.ncpu; u++)
		atomic_store_explicit(&percpu_priv_pcpu(u)->want, 0,
		    memory_order_relaxed);
	for (i = 0; i < td->nwait && i < PERCPU_PRIV_NWAIT; i++)
		if (td->wait[i].one != 0)
			atomic_fetch_add_explicit(&td->wait[i].pc->want,
			    td->wait[i].one, memory_order_relaxed);
	/* percpu_priv_g.stuck needs nothing: a reader counted there
	 * holds a CPU, which prepare took from it, so only the forking
	 * thread's own (a handler that forked inside one) can be left. */
	percpu_priv_atfork_release();
}

# endif /* PERCPU_MD_HOSTED */

/* ---- Initialization ---- */

static void
percpu_priv_init_once(void)
{
	static unsigned char mask[PERCPU_MAXCPU];
	struct percpu_priv_chunk *c;
	unsigned id, n = 0;
	int got;

	got = percpu_md_possible(mask, PERCPU_MAXCPU);
	if (got <= 0) {
		memset(mask, 0, sizeof(mask));
		mask[0] = 1;
		got = 1;
	}
	percpu_priv_g.ci = (struct cpu_info *)PERCPU_MALLOC(
	    (size_t)got * sizeof(struct cpu_info));
	if (percpu_priv_g.ci == NULL)
		percpu_priv_die("out of memory at startup");
	for (id = 0; id < PERCPU_MAXCPU; id++) {
		percpu_priv_g.cpu2idx[id] = PERCPU_PRIV_NOIDX;
		if (!mask[id])
			continue;
		percpu_priv_g.cpu2idx[id] = (uint16_t)n;
		percpu_priv_g.ci[n].ci_index = id;
		percpu_priv_g.ci[n].ci_unit = n;
		percpu_priv_g.maxcpu = id + 1;
		n++;
	}
	percpu_priv_g.ncpu = n;
	percpu_priv_g.dense = (percpu_priv_g.maxcpu == n);
	while (percpu_priv_g.rseq_lim < n &&
	    percpu_priv_g.cpu2idx[percpu_priv_g.rseq_lim] ==
		percpu_priv_g.rseq_lim)
		percpu_priv_g.rseq_lim++;
	c = percpu_priv_chunk_new();
	if (c == NULL ||
	    percpu_priv_chunk_take(c, PERCPU_CACHELINE, PERCPU_CACHELINE) != 0)
		percpu_priv_die("cannot map the first chunk");
	/* The first line of every unit of chunk 0: the CPU's core words. */
	percpu_priv_arena.chunks = c;
	percpu_priv_g.unit0 = c->base;
# if PERCPU_MD == PERCPU_MD_LINUX
	percpu_priv_g.backend = "getcpu";
#  if PERCPU_MD_RSEQ
	{
		const char *want = getenv("PERCPU_BACKEND");

		/* rseq adds index the table with the kernel's id, so every
		 * id the threads may run on now must be in it, and an id
		 * met later outside it must be able to stop them
		 * (percpu_priv_rseq_usable()). */
		if (percpu_md_rseq_glibc() && __rseq_size >= 8 &&
		    percpu_priv_dropped == 0 &&
		    (want == NULL || strcmp(want, "getcpu") != 0) &&
		    percpu_md_rseq_cpu_id() >= 0 && percpu_priv_rseq_usable()
#   if defined(__x86_64__)
		    && percpu_priv_rseq_persist()
#   endif
		) {
			percpu_md_rseq_on = 1;
			percpu_md_rseq_off = __rseq_offset;
			percpu_md_rseq_adds = 1;
#   if defined(__x86_64__)
			percpu_priv_rseq_bound(0, percpu_priv_g.rseq_lim);
#   endif
#   if defined(PERCPU_MD_RSEQ_LOCK)
			percpu_priv_g.rseq_lock = 1;
			percpu_md_rseq_llim = percpu_priv_g.rseq_lim;
			percpu_priv_rseq_bound(1, percpu_md_rseq_llim);
#   endif
			percpu_priv_g.backend = "rseq";
		}
	}
#  endif
# elif PERCPU_MD == PERCPU_MD_SIM
	percpu_priv_g.backend = "sim";
# else
	percpu_priv_g.backend = PERCPU_MD_NAME;
# endif
	percpu_priv_one_copy(); /* a second copy in the process says so */
	/* DPCPU's copies exist before any section does (its in-section
	 * lookup has no test for them). */
	dpcpu_priv_boot();
# if PERCPU_MD_HOSTED
	percpu_priv_exit_key_ok = pthread_key_create(&percpu_priv_exit_key,
				      percpu_priv_thread_exit) == 0;
	(void)pthread_atfork(percpu_priv_atfork_prepare,
	    percpu_priv_atfork_release, percpu_priv_atfork_child);
# endif
	/* Release: the table before ready; pairs with percpu_priv_ready(). */
	atomic_store_explicit(&percpu_priv_g.ready, 1, memory_order_release);
}

void
percpu_init(void)
{
	percpu_priv_init();
}

/* Out of line: the first use only, never inlined into a fast path. */
PERCPU_NOINLINE void
percpu_priv_init(void)
{
# if PERCPU_MD_HOSTED
	(void)pthread_once(&percpu_priv_arena.once, percpu_priv_init_once);
# else
	percpu_priv_once(&percpu_priv_arena.once, percpu_priv_init_once);
# endif
}

const char *
percpu_backend(void)
{
	percpu_priv_ready();
# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ
	/* rseq adds stopped by a CPU outside the table: atomics now. */
	if (percpu_md_rseq_on &&
	    __atomic_load_n(&percpu_md_rseq_adds, __ATOMIC_RELAXED) != 1)
		return ("getcpu");
# endif
	return (percpu_priv_g.backend);
}

/* ---- Pinned threads ---- */

# if PERCPU_MD == PERCPU_MD_LINUX
/*
 * Affinity through the raw system calls: <sched.h> declares
 * sched_setaffinity() and cpu_set_t only under _GNU_SOURCE, which the
 * implementation file may not have.  syscall() has glibc's prototype.
 */
#  include <sys/syscall.h>
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wredundant-decls"
long syscall(long number, ...);
#  pragma GCC diagnostic pop

#  define PERCPU_PRIV_MASKWORDS (8192 / (8 * sizeof(unsigned long)))
static PERCPU_THREAD_LOCAL unsigned long
    percpu_priv_saved_mask[PERCPU_PRIV_MASKWORDS];

/*
 * percpu_priv_affine_one - the calling thread's affinity: CPU @cpu alone.
 * Return: 0, or -1 (an id past the mask, or refused: not in its cpuset).
 */
static int
percpu_priv_affine_one(unsigned cpu)
{
	unsigned long one[PERCPU_PRIV_MASKWORDS];

	if (cpu >= 8 * sizeof(one))
		return (-1);
	memset(one, 0, sizeof(one));
	one[cpu / (8 * sizeof(unsigned long))] = 1ul
	    << (cpu % (8 * sizeof(unsigned long)));
	return (
	    syscall(SYS_sched_setaffinity, 0, sizeof(one), one) == 0 ? 0 : -1);
}
static PERCPU_THREAD_LOCAL long percpu_priv_saved_len;
# endif

# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ
/* ---- Stopping rseq adds (a CPU id outside the table) ---- */

/* linux/membarrier.h, a stable ABI. */
#  define PERCPU_PRIV_MB_RSEQ (1 << 7) /* ..._PRIVATE_EXPEDITED_RSEQ */
#  define PERCPU_PRIV_MB_REGISTER_RSEQ (1 << 8)

/*
 * 1 if rseq adds may be selected: the process is registered for
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ), which a stop needs,
 * and every CPU the calling thread may run on (its affinity mask, at
 * init) is in the table.  A container whose /sys lists fewer CPUs than
 * the threads use thus starts as "getcpu"; an id outside the table met
 * later (a widened cpuset, hotplug beyond the list) stops rseq adds.
 */
static int
percpu_priv_rseq_usable(void)
{
	unsigned long set[PERCPU_PRIV_MASKWORDS];
	unsigned bits = 8 * sizeof(unsigned long), id;
	long len;

	if (syscall(SYS_membarrier, PERCPU_PRIV_MB_REGISTER_RSEQ, 0, 0) != 0)
		return (0);
	len = syscall(SYS_sched_getaffinity, 0, sizeof(set), set);
	if (len <= 0)
		return (0);
	for (id = 0; id < (unsigned)len * 8; id++) {
		if (!(set[id / bits] >> (id % bits) & 1))
			continue;
		if (id >= percpu_priv_g.maxcpu ||
		    percpu_priv_g.cpu2idx[id] == PERCPU_PRIV_NOIDX)
			return (0);
	}
	return (1);
}

/*
 * percpu_priv_rseq_stop - an rseq add met a CPU id outside the table (or
 * saw a stop in progress): turn rseq adds off for the process and return
 * once no restartable sequence can commit any more.
 *
 * The folded slot of a foreign id belongs to a CPU whose own threads
 * commit with plain stores, so the foreign add must be atomic, and an
 * atomic races a plain commit in flight.  Hence: percpu_md_rseq_adds 1 ->
 * 2 (every sequence reads it before its commit), then
 * membarrier(PRIVATE_EXPEDITED_RSEQ) restarts every sequence in flight on
 * every CPU (one that read 1 either committed already or aborts and sees
 * 2 on retry), then 0.  A thread that sees 2 runs the membarrier itself
 * instead of waiting (no thread ever waits for another: signal handlers
 * that interrupt the stopper are safe).
 * Context: any, signal handlers included.
 * Ordering: seq_cst store of 2 before the membarrier (which orders it
 *           against every sequence's load of the word); release store of
 *           0 after it, paired with the relaxed loads in
 *           percpu_local_add64(): a thread that sees 0 came after a
 *           completed membarrier in the order of the word.
 */
void
percpu_priv_rseq_stop(void)
{
	int one = 1;

	if (__atomic_load_n(&percpu_md_rseq_adds, __ATOMIC_ACQUIRE) == 0)
		return;
		/* Before the 2 and the membarrier: a stopper that finds 2 and runs
	 * its own membarrier then knows the inline adds' bound is 0 too. */
#  if defined(__x86_64__)
	percpu_priv_rseq_bound(0, 0);
#  endif
	(void)__atomic_compare_exchange_n(&percpu_md_rseq_adds, &one, 2, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	if (syscall(SYS_membarrier, PERCPU_PRIV_MB_RSEQ, 0, 0) != 0) {
		/* A child of fork() before its first stop may need to
		 * register again; then the barrier must work. */
		(void)syscall(SYS_membarrier, PERCPU_PRIV_MB_REGISTER_RSEQ, 0,
		    0);
		if (syscall(SYS_membarrier, PERCPU_PRIV_MB_RSEQ, 0, 0) != 0)
			percpu_priv_die("membarrier(RSEQ) failed: cannot stop "
					"restartable sequences");
	}
	__atomic_store_n(&percpu_md_rseq_adds, 0, __ATOMIC_RELEASE);
}

#  if defined(__x86_64__)
/* ---- Descriptors that outlive the object (see percpu/md.h) ---- */

/* The kernel's struct rseq_cs (linux/rseq.h, a stable ABI), then the
 * word the inline add reads as its bound (at PERCPU_MD_RSEQ_LIM_OFF; percpu/md.h). */
struct percpu_priv_rseq_cs {
	uint32_t version;
	uint32_t flags;
	uint64_t start_ip;
	uint64_t post_commit_offset;
	uint64_t abort_ip;
	uint32_t lim;
	uint32_t kind; /* 0 inline add, 1 section lock, 2 other (md.h) */
};
_Static_assert(offsetof(struct percpu_priv_rseq_cs, lim) ==
	PERCPU_MD_RSEQ_LIM_OFF,
    "percpu: the bound follows the kernel's rseq_cs");

/* The pages of copies: [0, 8) {0, signature}, a copy every 64 bytes from
 * 64 (aligned to 32, as the kernel wants).  Writable (the bounds change
 * at a stop, from any thread or handler) and never unmapped (a stale
 * rseq_cs may point into them at any later time). */
static char *percpu_priv_rseq_page;
static size_t percpu_priv_rseq_len;
static size_t percpu_priv_rseq_n;    /* copies */
static int percpu_priv_rseq_exiting; /* exit() began (atexit handler) */

#   define PERCPU_PRIV_RSEQ_COPY(i)                                      \
    ((struct percpu_priv_rseq_cs *)(void *)(percpu_priv_rseq_page + 64 + \
	64 * (i)))

/*
 * percpu_priv_rseq_bound - the bound of every copy of kind @kind = @v
 * (what those sequences read: percpu/md.h).
 * Context: any, signal handlers included.
 * Ordering: seq_cst stores: a stop's are ordered before its membarrier.
 */
static void
percpu_priv_rseq_bound(uint32_t kind, uint32_t v)
{
	size_t i;

	for (i = 0; i < percpu_priv_rseq_n; i++)
		if (PERCPU_PRIV_RSEQ_COPY(i)->kind == kind)
			__atomic_store_n(&PERCPU_PRIV_RSEQ_COPY(i)->lim, v,
			    __ATOMIC_SEQ_CST);
}

static int percpu_priv_rseq_unloaded; /* the copies were made inert */

#   if PERCPU_MD_RSEQ_DIRECT
/*
 * dladdr() and dlopen() are in glibc 2.34's libc itself (no -ldl), and
 * PERCPU_MD_RSEQ_DIRECT builds need 2.35.  <dlfcn.h> declares dladdr()
 * and Dl_info only under _GNU_SOURCE, which must be defined before the
 * first system header if at all: without it, the same declaration here.
 */
#    include <dlfcn.h>
#    if defined(_GNU_SOURCE)
typedef Dl_info percpu_priv_dl_info;
#    else
typedef struct {
	const char *dli_fname;
	void *dli_fbase;
	const char *dli_sname;
	void *dli_saddr;
} percpu_priv_dl_info;
#     pragma GCC diagnostic push
#     pragma GCC diagnostic ignored "-Wredundant-decls"
extern int dladdr(const void *addr, percpu_priv_dl_info *info);
#     pragma GCC diagnostic pop
#    endif
#   endif

/*
 * percpu_priv_rseq_mark_exit - an atexit handler of this object: at
 * exit() it runs before any destructor (and before exit handlers
 * registered earlier); at dlclose() after the object's destructors
 * (crtstuff's __cxa_finalize(__dso_handle) is the object's last one).
 * At exit, the copies must stay live (other threads may still be in
 * sequences), so the object must not be unmapped any more: a later
 * dlclose() (an earlier exit handler or a C++ static destructor that
 * unloads plugins) would leave them naming unmapped code.  So it makes
 * the object RTLD_NODELETE (PERCPU_MD_RSEQ_DIRECT builds; elsewhere such
 * a dlclose() during exit() stays unsafe).
 */
static void
percpu_priv_rseq_mark_exit(void)
{
#   if PERCPU_MD_RSEQ_DIRECT
	percpu_priv_dl_info di;
#   endif

	if (percpu_priv_rseq_unloaded)
		return; /* dlclose(): the destructor ran first */
	percpu_priv_rseq_exiting = 1;
#   if PERCPU_MD_RSEQ_DIRECT
	if (dladdr((const void *)(uintptr_t)percpu_priv_rseq_mark_exit, &di) !=
		0 &&
	    di.dli_fname != NULL && di.dli_fname[0] != '\0')
		(void)dlopen(di.dli_fname,
		    RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
#   endif
}

/*
 * percpu_priv_rseq_persist - copy every descriptor of this object into a
 * page that is never unmapped and point the slots there.  At init,
 * before rseq adds are on; until then every slot is 0 and no sequence of
 * this object starts (percpu/md.h).
 * Context: init, once.
 * Return: 1 if done (or no sequence to copy); 0 if the page cannot be
 *         mapped (then rseq stays off).
 */
static int
percpu_priv_rseq_persist(void)
{
	uintptr_t *slot = __start_percpu_rseq_slot;
	size_t i, n;
	uint32_t head[2] = {0, PERCPU_MD_RSEQ_SIG};
	void *m;

	if (slot == NULL || __stop_percpu_rseq_slot == NULL)
		return (1);
	n = (size_t)(__stop_percpu_rseq_slot - slot) / 2;
	percpu_priv_rseq_len = (64 + 64 * n + 4095) & ~(size_t)4095;
	m = mmap(NULL, percpu_priv_rseq_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return (0);
	percpu_priv_rseq_page = (char *)m;
	memcpy(percpu_priv_rseq_page, head, sizeof(head));
	for (i = 0; i < n; i++) {
		/* The kernel's 32 bytes and the kind; the bound stays 0
		 * until rseq is on (percpu_priv_rseq_bound()). */
		memcpy(PERCPU_PRIV_RSEQ_COPY(i), (const void *)slot[2 * i + 1],
		    32);
		PERCPU_PRIV_RSEQ_COPY(i)->kind =
		    ((const struct percpu_priv_rseq_cs *)slot[2 * i + 1])->kind;
		if (PERCPU_PRIV_RSEQ_COPY(i)->kind == 2)
			PERCPU_PRIV_RSEQ_COPY(i)->lim = UINT32_MAX;
		/* A sequence may load its slot now: either address names
		 * the same descriptor. */
		__atomic_store_n(&slot[2 * i],
		    (uintptr_t)PERCPU_PRIV_RSEQ_COPY(i), __ATOMIC_RELAXED);
	}
	percpu_priv_rseq_n = n;
	(void)atexit(percpu_priv_rseq_mark_exit);
	return (1);
}

/*
 * percpu_priv_rseq_inert - at dlclose() of this object: rewrite every
 * copy to cover no code (start = the page, length 0, abort just after
 * the page's signature), so that a thread whose rseq_cs still names one
 * has it cleared at its next preemption instead of being killed.  Not
 * at exit(): other threads may still be in sequences, which must keep
 * restarting.
 * Context: the object's destructor; no sequence of it runs any more.
 */
static void
percpu_priv_rseq_inert(void)
{
	size_t i, n;

	if (percpu_priv_rseq_page == NULL || percpu_priv_rseq_exiting)
		return;
	n = percpu_priv_rseq_n;
	for (i = 0; i < n; i++) {
		struct percpu_priv_rseq_cs *cs = PERCPU_PRIV_RSEQ_COPY(i);

		cs->lim = 0;
		cs->start_ip = (uintptr_t)percpu_priv_rseq_page;
		cs->post_commit_offset = 0;
		cs->abort_ip = (uintptr_t)percpu_priv_rseq_page + 8;
	}
	percpu_priv_rseq_unloaded = 1;
}
#  endif
# endif

int
percpu_pin(unsigned cpu)
{
	percpu_priv_ready();
	if (!percpu_cpu_possible(cpu) || PERCPU_PRIV_TD.state != 0)
		return (-1);
# if PERCPU_MD == PERCPU_MD_LINUX
	{
		long len = percpu_priv_saved_len;

		if (PERCPU_PRIV_TD.pin1 == 0) {
			len = syscall(SYS_sched_getaffinity, 0,
			    sizeof(percpu_priv_saved_mask),
			    percpu_priv_saved_mask);
			if (len <= 0)
				return (-1);
		}
		if (percpu_priv_affine_one(cpu) != 0)
			return (-1);
		percpu_priv_saved_len = len;
	}
# elif PERCPU_MD == PERCPU_MD_SIM
	percpu_sim_migrate(cpu);
# else
	/* Firmware: a core runs where it is. */
	if (cpu != percpu_md_cpu_id())
		return (-1);
# endif
	PERCPU_PRIV_TD.pin1 = cpu + 1;
	PERCPU_PRIV_TD.rlim = 0; /* set again, to this CPU, by the next add */
	return (0);
}

void
percpu_unpin(void)
{
	if (PERCPU_PRIV_TD.pin1 == 0)
		return;
	PERCPU_PRIV_TD.pin1 = 0;
	PERCPU_PRIV_TD.rlim = 0; /* set again by the next add */
# if PERCPU_MD == PERCPU_MD_LINUX
	(void)syscall(SYS_sched_setaffinity, 0, (size_t)percpu_priv_saved_len,
	    percpu_priv_saved_mask);
# endif
}

unsigned
percpu_pinned(void)
{
	return (
	    PERCPU_PRIV_TD.pin1 != 0 ? PERCPU_PRIV_TD.pin1 - 1 : PERCPU_NOCPU);
}

unsigned
percpu_backend_cost(void)
{
	percpu_priv_ready();
	if (PERCPU_PRIV_TD.pin1 != 0)
		return (1);
# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ
	if (__atomic_load_n(&percpu_md_rseq_adds, __ATOMIC_RELAXED) == 1)
		return (1);
# endif
	return (PERCPU_MD == PERCPU_MD_SIM ? 3 : PERCPU_MD_HOSTED ? 2 : 1);
}

/*
 * A restartable add of a pinned thread aborted.  Usually a preemption or a
 * signal: retry on the same CPU.  If the thread no longer runs there,
 * something changed its affinity behind the toolkit: report it, unpin,
 * and let the caller take the unpinned path.  Returns the new pin1.
 */
uint32_t
percpu_priv_pin_lost(void)
{
	uint32_t pin1 = PERCPU_PRIV_TD.pin1;
	unsigned now = percpu_md_cpu_id();

	if (pin1 == 0 || now == pin1 - 1)
		return (pin1);
	PERCPU_PRIV_TD.pin1 = 0;
	percpu_priv_fail("percpu_pin: thread pinned to CPU %u runs on CPU %u",
	    (unsigned)(pin1 - 1), now);
	return (0);
}

# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ
/*
 * percpu_priv_rseq_refresh - set the calling thread's inline add range
 * (rbase, rlim: AArch64's inline add) from the process's state and its
 * pin.  Context: any, signal handlers included (the thread's own fields
 * only).
 */
static void
percpu_priv_rseq_refresh(struct percpu_priv_td *td)
{
	uint32_t base = 0, lim = 0;

	if (percpu_md_rseq_on) {
		if (td->pin1 == 0)
			lim = percpu_priv_g.rseq_lim;
		else if (td->pin1 - 1 < percpu_priv_g.rseq_lim) {
			base = td->pin1 - 1;
			lim = 1;
		}
	}
	td->rlim = 0;
	atomic_signal_fence(memory_order_seq_cst);
	td->rbase = base;
	if (__atomic_load_n(&percpu_md_rseq_adds, __ATOMIC_RELAXED) == 1)
		td->rlim = lim;
}

/*
 * percpu_priv_fence_by_running - what membarrier(PRIVATE_EXPEDITED_RSEQ)
 * does for CPU @cpu, without it: run on @cpu once (the thread's affinity
 * set to it alone, then put back).  A thread that was inside a
 * restartable sequence there was switched out for us, and restarts it
 * when it runs again; one that starts a sequence there later runs after
 * us, and the switch orders what we stored before (the count in want)
 * before its reads.
 *
 * Context: a thread that may block (two affinity system calls, and a
 *          yield until the kernel moved it).
 * Return: 0, or -1 if this thread may not run on @cpu (its cpuset).
 */
static int
percpu_priv_fence_by_running(unsigned cpu)
{
	unsigned long saved[PERCPU_PRIV_MASKWORDS];
	long len = syscall(SYS_sched_getaffinity, 0, sizeof(saved), saved);
	int rc = -1;
	unsigned i;

	if (len <= 0 || percpu_priv_affine_one(cpu) != 0)
		return (-1);
	/* The kernel moves us before the call returns; wait if not. */
	for (i = 0; i < 100000; i++) {
		int here = sched_getcpu();

		if (here >= 0 && (unsigned)here == cpu) {
			rc = 0;
			break;
		}
		(void)sched_yield();
	}
	(void)syscall(SYS_sched_setaffinity, 0, (size_t)len, saved);
	return (rc);
}

/*
 * percpu_priv_rseq_fence - a remote acquirer of CPU @cpu counted itself
 * in its want word: restart every restartable sequence in flight on that
 * CPU, so that none that read want == 0 commits after this returns
 * (MEMBARRIER_CMD_FLAG_CPU, Linux 5.10; else every CPU).
 */
static void
percpu_priv_rseq_fence(unsigned cpu)
{
	if (syscall(SYS_membarrier, PERCPU_PRIV_MB_RSEQ, 1 /* FLAG_CPU */,
		(int)cpu) == 0)
		return;
	if (syscall(SYS_membarrier, PERCPU_PRIV_MB_RSEQ, 0, 0) == 0)
		return;
	/* A child of fork() may need to register again. */
	(void)syscall(SYS_membarrier, PERCPU_PRIV_MB_REGISTER_RSEQ, 0, 0);
	if (syscall(SYS_membarrier, PERCPU_PRIV_MB_RSEQ, 0, 0) == 0)
		return;
	/* Refused (a seccomp filter set up after the start, a sandbox):
	 * the same by running there once. */
	if (percpu_priv_fence_by_running(cpu) != 0)
		percpu_priv_die("membarrier(RSEQ) failed and this thread may "
				"not run on the CPU: cannot take a CPU from "
				"another one");
}
# endif

/*
 * percpu_priv_local_add_slow - percpu_local_add64() when its inline
 * restartable add does not apply: the thread's first add, a pinned
 * thread off its CPU, an id outside the dense prefix or the table, an
 * aborted sequence, rseq adds stopping or stopped.  Sets the thread's rlim for
 * the next adds, then adds as the contract of percpu_local_add64() says.
 */
void
percpu_priv_local_add_slow(void *h, uint64_t v)
{
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;

	percpu_priv_ready();
# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ
	percpu_priv_rseq_refresh(td);
	if (__atomic_load_n(&percpu_md_rseq_adds, __ATOMIC_RELAXED) != 0) {
		uint32_t pin1 = td->pin1;

		for (;;) {
			uint32_t cpu =
			    pin1 != 0 ? pin1 - 1 : percpu_md_rseq_cpu_start();
			uint32_t idx = PERCPU_PRIV_NOIDX;
			uint64_t *p;

			/* A thread the kernel keeps no rseq area for (made
			 * by a raw clone(), its registration refused by a
			 * seccomp filter, unregistered): cpu_id stays
			 * negative and every sequence aborts.  Its adds must
			 * be atomics, which may not race plain commits on
			 * the same words: rseq adds stop for the process,
			 * as for an id outside the table. */
			if (PERCPU_UNLIKELY(percpu_md_rseq_cpu_id() < 0)) {
				percpu_priv_rseq_stop();
				break;
			}
			/* An id outside the table (a container's /sys, a
			 * later cpuset) is never an index: rseq adds stop
			 * and this add, like every later one, is a folded
			 * atomic. */
			if (PERCPU_LIKELY(cpu < percpu_priv_g.maxcpu))
				idx = percpu_priv_g.cpu2idx[cpu];
			if (PERCPU_UNLIKELY(idx == PERCPU_PRIV_NOIDX)) {
				percpu_priv_rseq_stop();
				break;
			}
			p = (uint64_t *)(void *)((char *)h +
			    (size_t)idx * PERCPU_PRIV_STRIDE);
			if (PERCPU_LIKELY(percpu_md_rseq_add(p, v, cpu) == 0))
				return;
			if (__atomic_load_n(&percpu_md_rseq_adds,
				__ATOMIC_RELAXED) != 1) {
				percpu_priv_rseq_stop(); /* waits for the stop
							  */
				td->rlim = 0;
				break;
			}
			if (pin1 != 0)
				pin1 = percpu_priv_pin_lost();
		}
	}
# else
	(void)td;
# endif
	atomic_fetch_add_explicit((_Atomic(uint64_t) *)percpu_local_ptr(h), v,
	    memory_order_relaxed);
}

/* ---- Sections: the slow path ---- */

# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ && defined(__x86_64__)
/*
 * percpu_priv_enter_out - percpu_enter() after its inline sequence did
 * not commit: one more try with this object's own sequence (whose slot
 * is always copied: the inline code of a module that is not the
 * implementation's never starts its own), then the waiting path.
 * Context, Ordering: as percpu_enter().
 * Return: the CPU id taken, or with @as_off its unit's byte offset.
 */
size_t
percpu_priv_enter_out(int as_off)
{
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;
	uint32_t cpu, s1;
	uintptr_t owner;

	/* This object's own copy of the sequence (percpu/core.h). */
	if (td->state == 0 &&
	    percpu_priv_rseq_take(td, &cpu, &owner, &s1) == 0) {
		td->state = s1;
		return (as_off ? percpu_priv_soff(s1) : cpu);
	}
	cpu = percpu_priv_acquire_slow(td, PERCPU_NOCPU);
	return (as_off ? percpu_priv_soff(td->state) : cpu);
}
# endif

/* Out of line: a division, on a path no firmware core takes. */
PERCPU_NOINLINE unsigned
percpu_priv_foreign(unsigned *cpu)
{
	unsigned idx = *cpu % percpu_priv_g.ncpu;

	*cpu = percpu_priv_g.ci[idx].ci_index;
	return (idx);
}

/*
 * percpu_priv_held_unit - the unit index + 1 of a CPU whose lock word
 * holds @self, 0 if none.  Outside a section (state 0) that is a CPU
 * the code a signal handler interrupted is taking or leaving (the windows
 * described below), or one the fork prepare handler holds.
 */
static unsigned
percpu_priv_held_unit(struct percpu_priv_td *td, uintptr_t self)
{
	unsigned u;

	if (td->state != 0)
		return (percpu_priv_sidx(td->state) + 1u);
	if (self == 0)
		return (0);
	for (u = 0; u < percpu_priv_g.ncpu; u++)
		if (atomic_load_explicit(&percpu_priv_pcpu(u)->owner,
			memory_order_relaxed) == self)
			return (u + 1u);
	return (0);
}

unsigned
percpu_priv_held(void)
{
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;
	unsigned u;

	percpu_priv_ready();
	u = percpu_priv_held_unit(td, td->token);
	return (u != 0 ? percpu_priv_g.ci[u - 1].ci_index : PERCPU_NOCPU);
}

/*
 * percpu_priv_acquire_slow - take CPU @want (PERCPU_NOCPU: the current
 * one, re-read at every try so a migrated waiter follows its thread).
 *
 * A lock word that already holds our own token while our state says "not
 * in a section" means this is a signal handler that interrupted its own
 * thread between the CAS and the state store in percpu_enter(), or
 * between the state store and the release in percpu_leave().  Neither
 * window touches the CPU's data, so the handler borrows the CPU:
 * percpu_leave() then skips the release, which stays the interrupted
 * code's.  The borrowed bit is in state (one store with the depth), so a
 * deeper handler that sees depth 0 also sees it clear.
 *
 * The interrupted code may hold another CPU than the one wanted (it
 * migrated, or the handler asks for a given CPU): waiting could then
 * deadlock with another thread's handler waiting for ours (ABBA).  So a
 * waiter that has waited a while (past the pause phase of
 * percpu_md_relax()) looks once for a CPU its thread holds: percpu_enter()
 * borrows it (any CPU will do; the current one is only a locality hint);
 * percpu_enter_cpu() gets PERCPU_NOCPU and reports it.
 */
/*
 * percpu_priv_sigs_off / percpu_priv_sigs_on - block every signal of the
 * calling thread (the old mask in @old), and put the old mask back: what
 * percpu_priv_count() and percpu_priv_uncount() do with a word of want
 * and the thread's record of it is then one step for its handlers (a
 * handler that forks, exits or waits between the two would leave a count
 * with no record, or a record with no count).  Linux: the raw
 * rt_sigprocmask(SIG_SETMASK) (<signal.h> declares sigprocmask() only
 * for POSIX builds); elsewhere nothing (the firmware ports have no
 * signals; their interrupts are masked around sections).
 */
# if PERCPU_MD == PERCPU_MD_LINUX &&                                      \
     (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || \
	 defined(__arm__) || defined(__riscv))
#  define PERCPU_PRIV_SIG_SETMASK 2 /* these architectures' SIG_SETMASK */
/* Every signal but those a fault of the running code raises (SIGILL 4,
 * SIGTRAP 5, SIGBUS 7, SIGFPE 8, SIGSEGV 11, SIGSYS 31: signal n is bit
 * n - 1): the kernel delivers those even when blocked, with the default
 * action (a debugger's single step would kill the process). */
#  define PERCPU_PRIV_SIG_FAULTS                                      \
   ((1ul << 3) | (1ul << 4) | (1ul << 6) | (1ul << 7) | (1ul << 10) | \
       (1ul << 30))
static void
percpu_priv_sigs_off(unsigned long old[2])
{
	unsigned long all[2] = {~PERCPU_PRIV_SIG_FAULTS, ~0ul};

	(void)syscall(SYS_rt_sigprocmask, PERCPU_PRIV_SIG_SETMASK, all, old,
	    (size_t)8);
}

static void
percpu_priv_sigs_on(const unsigned long old[2])
{
	(void)syscall(SYS_rt_sigprocmask, PERCPU_PRIV_SIG_SETMASK, old,
	    (void *)0, (size_t)8);
}
# else
static void
percpu_priv_sigs_off(unsigned long old[2])
{
	(void)old;
}

static void
percpu_priv_sigs_on(const unsigned long old[2])
{
	(void)old;
}
# endif

/*
 * percpu_priv_stuck - count (@on 1) or uncount (@on 0) the calling
 * thread's read in percpu_priv_g.stuck (cpumem_priv_snap()), with its
 * record in percpu_priv_td.stuck, signals blocked: one step for its
 * handlers, as percpu_priv_count().  An uncount finds its count (the
 * record says so; none is taken twice, so the word never wraps).
 *
 * Context: the reading thread, signal handlers included.
 * Ordering: seq_cst; pairs with the load in percpu_priv_atfork_prepare().
 */
void
percpu_priv_stuck(int on)
{
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;
	unsigned long old[2] = {0, 0};

	percpu_priv_sigs_off(old);
	if (on) {
		td->stuck++;
		atomic_fetch_add_explicit(&percpu_priv_g.stuck, 1,
		    memory_order_seq_cst);
	} else if (td->stuck > 0) {
		td->stuck--;
		atomic_fetch_sub_explicit(&percpu_priv_g.stuck, 1,
		    memory_order_seq_cst);
	}
	percpu_priv_sigs_on(old);
}

/*
 * percpu_priv_count - count the calling thread in @pc's want with weight
 * @one (a waiter: percpu_leave() then hands the CPU over), recorded in
 * its percpu_priv_td.wait first, so that its signal handlers, its exit
 * handler and a fork child know.
 *
 * Context: the waiting thread, signal handlers included.
 * Ordering: seq_cst on want (see percpu_priv_release_slow()); signal
 *           fences order the record with the count for the thread's own
 *           handlers.
 * Return: the record's slot + 1, to give to percpu_priv_uncount(); 0 if
 *         every slot was in use (counted all the same, unrecorded).
 */
static unsigned
percpu_priv_count(struct percpu_priv_td *td, struct percpu_priv_pcpu *pc,
    unsigned one)
{
	unsigned long old[2] = {0, 0};
	unsigned slot;

	percpu_priv_sigs_off(old);
	slot = td->nwait;
	if (slot < PERCPU_PRIV_NWAIT) {
		/* The slot is ours only once nwait says so: a handler
		 * before that takes the same slot (and leaves its one 0),
		 * so pc is written after nwait (else the record could name
		 * the handler's CPU while the count is in pc's). */
		td->wait[slot].one = 0; /* a handler here: not counted yet */
		atomic_signal_fence(memory_order_seq_cst);
		td->nwait = slot + 1;
		atomic_signal_fence(memory_order_seq_cst);
		td->wait[slot].pc = pc;
		/* Signal fence: the record before the count, for our own
		 * handlers (and the exit handler of one that exits). */
		atomic_signal_fence(memory_order_seq_cst);
	}
	atomic_fetch_add_explicit(&pc->want, one, memory_order_seq_cst);
	if (slot < PERCPU_PRIV_NWAIT) {
		atomic_signal_fence(memory_order_seq_cst); /* as above */
		td->wait[slot].one = one;
	}
	percpu_priv_sigs_on(old);
	return (slot < PERCPU_PRIV_NWAIT ? slot + 1 : 0);
}

/*
 * percpu_priv_uncount - take back the count of percpu_priv_count() that
 * returned @rec, and its record, signals blocked (one step for the
 * thread's handlers); the records above it go too.  A handler that
 * jumps out (siglongjmp) of a wait it interrupted leaves that wait's
 * count for good: unsupported, as jumping out of any function that is
 * not async-signal-safe (POSIX).
 *
 * Context, Ordering: as percpu_priv_count().
 */
static void
percpu_priv_uncount(struct percpu_priv_td *td, unsigned rec,
    struct percpu_priv_pcpu *pc, unsigned one)
{
	unsigned long old[2] = {0, 0};

	percpu_priv_sigs_off(old);
	if (rec != 0) {
		td->wait[rec - 1].one = 0;
		atomic_signal_fence(memory_order_seq_cst); /* see count */
	}
	atomic_fetch_sub_explicit(&pc->want, one, memory_order_seq_cst);
	if (rec != 0)
		td->nwait = rec - 1;
	percpu_priv_sigs_on(old);
}

/*
 * percpu_priv_waits_remote - whether code of this thread that a signal
 * handler interrupted is counted in @pc's want as a remote acquirer
 * (records below @rec, all of them for 0): a hand-off is then meant for
 * this thread, and the handler may take it (its leave hands it on: want
 * is still nonzero).  Otherwise the handler would wait for a remote
 * acquirer that cannot run before it returns.
 */
static int
percpu_priv_waits_remote(const struct percpu_priv_td *td,
    const struct percpu_priv_pcpu *pc, unsigned rec)
{
	unsigned i, n = rec != 0 ? rec - 1 : td->nwait;

	for (i = 0; i < n && i < PERCPU_PRIV_NWAIT; i++)
		if (td->wait[i].pc == pc &&
		    td->wait[i].one == PERCPU_PRIV_WANT_REMOTE)
			return (1);
	return (0);
}

/*
 * percpu_priv_unwait - a counted waiter gives up without the CPU
 * (percpu_enter_cpu() reports a CPU its thread holds, a local waiter
 * follows its thread, a thread died waiting): uncount, and take back a
 * hand-off that may have been meant for it, so that no CPU stays handed
 * to nobody (a waiter still counted takes a free CPU as well).
 */
static void
percpu_priv_unwait(struct percpu_priv_td *td, unsigned rec,
    struct percpu_priv_pcpu *pc, unsigned one)
{
	uintptr_t h = PERCPU_PRIV_HANDOFF;

	if (pc == NULL)
		return;
	/* seq_cst, both: pairs with the hand-off store and the load of
	 * want in percpu_priv_release_slow() (a holder that read our count
	 * before it went either hands off after our CAS, and then sees the
	 * count gone, or before it, and then our CAS takes it back).  The
	 * CAS's release hands on what the last holder wrote; pairs with
	 * the acquire CAS of the next holder. */
	percpu_priv_uncount(td, rec, pc, one);
	(void)atomic_compare_exchange_strong_explicit(&pc->owner, &h, 0,
	    memory_order_seq_cst, memory_order_relaxed);
}

unsigned
percpu_priv_acquire_slow(struct percpu_priv_td *td, unsigned want)
{
	uintptr_t self = percpu_priv_token(td);
	unsigned spins = 0, rec = 0;
	struct percpu_priv_pcpu *waiting = NULL;
	/* Counted: every waiter when sections are restartable (it must
	 * restart the CPU's sequences before its CAS), else the remote
	 * acquirers (hand-off, see percpu_leave()). */
	int count = want != PERCPU_NOCPU;
	/* A remote acquirer counts in the high half: it goes first. */
	unsigned one = want != PERCPU_NOCPU ? PERCPU_PRIV_WANT_REMOTE : 1u;

# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ
	if (percpu_priv_g.rseq_lock) {
		count = 1;
		percpu_priv_rseq_refresh(td);
	}
# endif
	for (;;) {
		unsigned cpu =
		    want != PERCPU_NOCPU ? want : percpu_priv_cpu_id();
		unsigned idx = percpu_priv_map(&cpu);
		struct percpu_priv_pcpu *pc = percpu_priv_pcpu(idx);
		uintptr_t expect = 0;

		/* Count once per CPU waited for (a local waiter follows its
		 * thread): percpu_leave() then hands the CPU over. */
		if (count && waiting != pc) {
			percpu_priv_unwait(td, rec, waiting, one);
			waiting = pc;
			/* Before the fence: sequences that start after it
			 * see the count and leave the word alone. */
			rec = percpu_priv_count(td, pc, one);
# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ
			if (percpu_priv_g.rseq_lock)
				percpu_priv_rseq_fence(cpu);
# endif
		}
		/* Acquire: pairs with the release store in percpu_leave()
		 * and percpu_priv_release_slow().  A hand-off goes to a
		 * counted waiter (a local one only when no remote one
		 * waits), or to a handler whose interrupted code waits for
		 * this CPU as a remote acquirer. */
		if (atomic_compare_exchange_strong_explicit(&pc->owner, &expect,
			self, memory_order_acquire, memory_order_relaxed) ||
		    (expect == PERCPU_PRIV_HANDOFF &&
			((waiting != NULL &&
			     (one == PERCPU_PRIV_WANT_REMOTE ||
				 atomic_load_explicit(&pc->want,
				     memory_order_relaxed) <
				     PERCPU_PRIV_WANT_REMOTE)) ||
			    percpu_priv_waits_remote(td, pc, rec)) &&
			atomic_compare_exchange_strong_explicit(&pc->owner,
			    &expect, self, memory_order_acquire,
			    memory_order_relaxed))) {
			if (waiting != NULL)
				percpu_priv_uncount(td, rec, waiting, one);
			td->state = percpu_priv_sfirst(idx);
			return (cpu);
		}
		if (expect == self) {
			/* Our own word (a handler in its thread's window):
			 * nothing can be handed to us here. */
			if (waiting != NULL)
				percpu_priv_uncount(td, rec, waiting, one);
			td->state =
			    percpu_priv_sfirst(idx) | PERCPU_PRIV_BORROWED;
			return (cpu);
		}
		if (spins == 100) {
			unsigned held = percpu_priv_held_unit(td, self);

			if (held != 0) {
				percpu_priv_unwait(td, rec, waiting, one);
				if (want != PERCPU_NOCPU) {
					percpu_priv_fail(
					    "percpu_enter_cpu: already in a "
					    "section on CPU %u",
					    percpu_priv_g.ci[held - 1u]
						.ci_index);
					return (PERCPU_NOCPU);
				}
				idx = held - 1u;
				td->state = percpu_priv_sfirst(idx) |
				    PERCPU_PRIV_BORROWED;
				return (percpu_priv_g.ci[idx].ci_index);
			}
		}
		/* Handed to a waiter: let it run (as after a long spin). */
		percpu_md_relax(
		    expect == PERCPU_PRIV_HANDOFF && spins < 64 ? 64 : spins);
		if (spins < 1000)
			spins++;
	}
}

/*
 * percpu_priv_release_slow - percpu_leave() of a CPU that a remote
 * acquirer waits for: release it to PERCPU_PRIV_HANDOFF, which only a
 * counted waiter takes (percpu_priv_acquire_slow()).  Waiters uncount
 * once they hold the CPU, or when they give up (percpu_priv_unwait());
 * if no waiter is counted after the hand-off, it is taken back to 0,
 * so a handed-off CPU is always taken or free again.
 */
void
percpu_priv_release_slow(struct percpu_priv_pcpu *pc)
{
	uintptr_t h = PERCPU_PRIV_HANDOFF;

	/* Release: pairs with the waiter's acquire CAS.  seq_cst, with the
	 * load of want after it: pairs with the seq_cst uncount and CAS
	 * of percpu_priv_unwait() (Dekker): a waiter that gave up after
	 * our caller read want either finds the hand-off in its CAS, or
	 * its uncount is seen here, and the CPU goes back to free. */
	atomic_store_explicit(&pc->owner, PERCPU_PRIV_HANDOFF,
	    memory_order_seq_cst);
	if (atomic_load_explicit(&pc->want, memory_order_seq_cst) == 0)
		(void)atomic_compare_exchange_strong_explicit(&pc->owner, &h, 0,
		    memory_order_seq_cst, memory_order_relaxed);
}

# if PERCPU_MD == PERCPU_MD_SIM
/* ---- Test port ---- */

int
percpu_sim_set_cpus(const char *list)
{
	static unsigned char mask[PERCPU_MAXCPU];
	size_t len = strlen(list);

	if (atomic_load_explicit(&percpu_priv_g.ready, memory_order_acquire) ||
	    len >= sizeof(percpu_priv_arena.sim_cpus) ||
	    percpu_priv_parse_cpulist(list, mask, PERCPU_MAXCPU, NULL) <= 0)
		return (-1);
	memcpy(percpu_priv_arena.sim_cpus, list, len + 1);
	return (0);
}

void
percpu_sim_migrate(unsigned cpu)
{
	PERCPU_PRIV_TD.sim_cpu1 = cpu + 1;
}

void
percpu_sim_chaos(int on)
{
	percpu_priv_ready();
	atomic_store_explicit(&percpu_priv_g.sim_chaos, on != 0,
	    memory_order_relaxed);
}

unsigned
percpu_priv_sim_place(struct percpu_priv_td *td)
{
	unsigned idx;

	if (atomic_load_explicit(&percpu_priv_g.sim_chaos,
		memory_order_relaxed)) {
		uint32_t x = td->sim_rng;

		if (x == 0)
			x = (uint32_t)(uintptr_t)td | 1u;
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		td->sim_rng = x;
		idx = x % percpu_priv_g.ncpu;
	} else if (td->sim_cpu1 == 0)
		idx = atomic_fetch_add_explicit(&percpu_priv_g.sim_next, 1u,
			  memory_order_relaxed) %
		    percpu_priv_g.ncpu;
	else
		return (td->sim_cpu1 - 1);
	td->sim_cpu1 = percpu_priv_g.ci[idx].ci_index + 1;
	return (td->sim_cpu1 - 1);
}
# endif /* PERCPU_MD_SIM */

#else /* !PERCPU_MP */

/*
 * UP: no table, no arena.  An allocation is PERCPU_MALLOC'ed memory with
 * its size (and the block's start) recorded in a header before it, so
 * that a free with the wrong size is still detected.  Alignments up to
 * PERCPU_CACHELINE are kept by starting the data that far into the block.
 */
struct cpu_info percpu_priv_ci0 = {0, 0};

/* UP: nothing to set up. */
void
percpu_init(void)
{
}
# if PERCPU_MD_HAS_IRQ
struct percpu_priv_up percpu_priv_up;
# else
/*
 * PERCPU_DEBUG=1: tracked sections.  Defined whatever this file's
 * PERCPU_DEBUG, so that a translation unit built with PERCPU_DEBUG=1
 * links against an implementation built without it (--gc-sections drops
 * them from firmware images that never call them).  depth is the calling
 * thread's (a
 * signal handler nests on it); on hosted builds owner is the token of the
 * thread inside (0: none), taken by the thread's outermost section.
 */
#  if PERCPU_MD_LIBC
static PERCPU_THREAD_LOCAL unsigned percpu_priv_up_depth;
static PERCPU_THREAD_LOCAL uintptr_t percpu_priv_up_self;
static _Atomic(uintptr_t) percpu_priv_up_owner;
static _Atomic(uintptr_t) percpu_priv_up_serial;
#   if defined(__unix__) || defined(__APPLE__)
#    include <pthread.h>
#    define PERCPU_PRIV_UP_ATFORK 1
static atomic_int percpu_priv_up_atfork;

/* A fork child has only the forking thread: another thread's section is
 * not in it. */
static void
percpu_priv_up_fork_child(void)
{
	if (atomic_load_explicit(&percpu_priv_up_owner, memory_order_relaxed) !=
	    percpu_priv_up_self)
		atomic_store_explicit(&percpu_priv_up_owner, 0,
		    memory_order_relaxed);
}
#   endif
#  else
/* Freestanding: no threads, one depth. */
static unsigned percpu_priv_up_depth;
#  endif

void
percpu_priv_up_dbg_enter(void)
{
	if (percpu_priv_up_depth++ != 0)
		return;
#  if PERCPU_MD_LIBC
	{
		uintptr_t me = percpu_priv_up_self, expect = 0;

#   ifdef PERCPU_PRIV_UP_ATFORK
		if (!atomic_exchange_explicit(&percpu_priv_up_atfork, 1,
			memory_order_relaxed))
			(void)pthread_atfork(NULL, NULL,
			    percpu_priv_up_fork_child);
#   endif
		if (me == 0) {
			do
				me = atomic_fetch_add_explicit(
					 &percpu_priv_up_serial, 1,
					 memory_order_relaxed) +
				    1;
			while (me == 0);
			percpu_priv_up_self = me;
		}
		/* expect == me: a handler that interrupted this thread's
		 * leave after its depth went to 0.  Acquire: pairs with the
		 * release CAS in percpu_priv_up_dbg_leave(). */
		if (!atomic_compare_exchange_strong_explicit(
			&percpu_priv_up_owner, &expect, me,
			memory_order_acquire, memory_order_relaxed) &&
		    expect != me)
			percpu_priv_fail(
			    "UP build: a second thread entered a section "
			    "while another thread is in one; PERCPU_MP=0 "
			    "assumes one thread of control per core (build a "
			    "multithreaded program with PERCPU_MP=1)");
	}
#  endif
}

void
percpu_priv_up_dbg_leave(void)
{
	if (PERCPU_UNLIKELY(percpu_priv_up_depth == 0)) {
		percpu_priv_fail("percpu_leave: not in a section");
		return;
	}
	if (--percpu_priv_up_depth != 0)
		return;
#  if PERCPU_MD_LIBC
	{
		uintptr_t me = percpu_priv_up_self;

		/* Not ours if this thread was the second one (reported).
		 * Release: pairs with the acquire CAS in
		 * percpu_priv_up_dbg_enter(). */
		(void)atomic_compare_exchange_strong_explicit(
		    &percpu_priv_up_owner, &me, 0, memory_order_release,
		    memory_order_relaxed);
	}
#  endif
}

unsigned
percpu_priv_up_dbg_depth(void)
{
	return (percpu_priv_up_depth);
}
# endif

/* Allocations: the static arena's heap, or PERCPU_MALLOC. */
# ifdef PERCPU_STATIC_ARENA_SIZE
#  define PERCPU_PRIV_UP_ALLOC(n) \
   percpu_priv_heap_alloc(&percpu_priv_sa_heap, (n))
#  define PERCPU_PRIV_UP_FREE(p) \
   percpu_priv_heap_free(&percpu_priv_sa_heap, (p))
# else
#  define PERCPU_PRIV_UP_ALLOC(n) PERCPU_MALLOC(n)
#  define PERCPU_PRIV_UP_FREE(p) PERCPU_FREE(p)
# endif

union percpu_priv_uphdr {
	struct {
		size_t size;
		void *block; /* what PERCPU_PRIV_UP_ALLOC returned */
	} h;
	max_align_t align;
};

void *
percpu_priv_zalloc(size_t size, size_t align)
{
	union percpu_priv_uphdr *hp;
	size_t pad;
	char *block;

	if (size == 0 || size > PERCPU_UNIT_SIZE || align > PERCPU_CACHELINE ||
	    (align & (align - 1)) != 0 || percpu_priv_zalloc_fault())
		return (NULL);
	/* The block is max_align_t-aligned, so is the data after the
	 * header; a stricter alignment moves both up by less than @align. */
	pad = align > _Alignof(max_align_t) ? align - _Alignof(max_align_t) : 0;
	block = (char *)PERCPU_PRIV_UP_ALLOC(pad + sizeof(*hp) + size);
	if (block == NULL)
		return (NULL);
	if (pad != 0)
		pad =
		    (align - ((uintptr_t)block + sizeof(*hp)) % align) % align;
	hp = (union percpu_priv_uphdr *)(void *)(block + pad);
	memset(hp + 1, 0, size);
	hp->h.size = size;
	hp->h.block = block;
	percpu_priv_freed_forget(hp + 1); /* a new object at a freed address */
	return (hp + 1);
}

int
percpu_priv_zfree(void *h, size_t size, size_t *actual)
{
	union percpu_priv_uphdr *hp = (union percpu_priv_uphdr *)h - 1;

	if (h == NULL)
		return (PERCPU_PRIV_ENOENT);
	/* Freed already (its face noted it): say so without reading the
	 * freed header. */
	if (percpu_priv_freed(h))
		return (PERCPU_PRIV_EFREED);
	if (hp->h.size != size) {
		if (actual != NULL)
			*actual = hp->h.size;
		return (PERCPU_PRIV_ESIZE);
	}
	PERCPU_PRIV_UP_FREE(hp->h.block);
	return (PERCPU_PRIV_OK);
}

const char *
percpu_backend(void)
{
	return ("up");
}

int
percpu_set_chunk_provider(const struct percpu_chunk_provider *p)
{
	(void)p;
	return (-1);
}

/* UP: one CPU, so pinning only records that the caller asked. */
static int percpu_priv_up_pinned;

int
percpu_pin(unsigned cpu)
{
	if (cpu != 0)
		return (-1);
	percpu_priv_up_pinned = 1;
	return (0);
}

void
percpu_unpin(void)
{
	percpu_priv_up_pinned = 0;
}

unsigned
percpu_pinned(void)
{
	return (percpu_priv_up_pinned ? 0 : PERCPU_NOCPU);
}

unsigned
percpu_backend_cost(void)
{
	return (0);
}

#endif /* PERCPU_MP */

#endif /* PERCPU_IMPL_H */
