/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cpumem.h - OpenBSD cpumem(9) and counters_alloc(9) for userspace C11 and
 * multi-core firmware: a thin face over the percpu core.
 *
 * USAGE
 *	In exactly one .c file of the program:
 *
 *		#define PERCPU_IMPLEMENTATION
 *		#include "cpumem.h"
 *
 *	everywhere else just #include "cpumem.h".  Then, as in the kernel:
 *
 *		enum { ifc_packets, ifc_bytes, ifc_ncounters };
 *		struct cpumem *ifc = counters_alloc(ifc_ncounters);
 *
 *		counters_pkt(ifc, ifc_packets, ifc_bytes, len); // hot path
 *
 *		uint64_t c[ifc_ncounters];
 *		counters_read(ifc, c, ifc_ncounters, NULL);	// any thread
 *
 *	and for any per-CPU structure:
 *
 *		struct cpumem *cm = cpumem_malloc(sizeof(struct st), M_X);
 *		struct st *s = cpumem_enter(cm);  // this CPU's copy
 *		s->hits++;                        // no other thread has it
 *		cpumem_leave(cm, s);
 *		CPUMEM_FOREACH(s, &iter, cm)      // every possible CPU
 *			total += s->hits;
 *
 *	No registration: any thread may call any function.  Threads may
 *	outnumber CPUs.
 *
 * CONFIGURATION (percpu/config.h has the full list; all are global: the
 * same in every translation unit)
 *	PERCPU_MP=0	uniprocessor build, OpenBSD's !MULTIPROCESSOR model:
 *			a struct cpumem * is the memory itself, enter returns
 *			it, leave does nothing, the iterator yields it once,
 *			counters have n words and no generation word (see UP
 *			below).  `make check-up` proves that such code
 *			compiles to the same instructions as code using a
 *			plain struct.  Default 1 (multiprocessor).
 *	PERCPU_MD	port: PERCPU_MD_LINUX (default on Linux) or
 *			PERCPU_MD_SIM (simulated sparse CPUs, for tests).
 *	PERCPU_UNIT_SIZE  bytes each CPU owns per arena chunk: the largest
 *			cpumem or counters object (see the limits below).
 *	CPUMEM_NO_POOL=1  leave out the minimal pool(9) (struct pool,
 *			pool_init/get/put, PR_* flags), for programs that have
 *			a pool of their own under those names (OpenBSD's
 *			subr_pool.c).  cpumem_get/cpumem_put then take the
 *			program's struct pool and read its item size,
 *			alignment and name as pp->pr_size, pp->pr_align and
 *			pp->pr_wchan (OpenBSD's fields), or through
 *			CPUMEM_POOL_SIZE(pp), CPUMEM_POOL_ALIGN(pp) and
 *			CPUMEM_POOL_NAME(pp) if the program defines them.
 *			Default 0.
 *
 * API (OpenBSD names and semantics; "(ext)" marks additions)
 *   Per-CPU memory, cpumem_get(9):
 *	struct cpumem *cpumem_get(struct pool *pp)
 *	void cpumem_put(struct pool *pp, struct cpumem *cm)
 *		One item of @pp's size per possible CPU, zero-filled.
 *	struct cpumem *cpumem_malloc(size_t sz, int type)
 *	void cpumem_free(struct cpumem *cm, int type, size_t sz)
 *		@sz zero-filled bytes per possible CPU, each CPU's copy
 *		aligned to the cache line (PERCPU_CACHELINE, 64: OpenBSD
 *		rounds to CACHELINESIZE).  @type is any int
 *		(the port's M_DEVBUF ...): recorded, and checked with @sz at
 *		free in every build.
 *	struct cpumem *cpumem_malloc_ncpus(struct cpumem *bootcm, size_t sz,
 *	    int type)
 *		Upgrade boot memory to per-CPU memory: the boot CPU keeps
 *		its values, every other CPU starts at zero.
 *	CPUMEM_BOOT_MEMORY(name, sz);
 *	struct cpumem *cm = CPUMEM_BOOT_INITIALIZER(name);
 *		Static memory usable before anything is allocated.
 *	void *cpumem_enter(struct cpumem *cm)
 *	void cpumem_leave(struct cpumem *cm, void *m)
 *		An exclusive section (percpu_enter/leave): until leave no
 *		other thread gets this CPU's copy of any object.  Nestable.
 *	void *cpumem_first(struct cpumem_iter *i, struct cpumem *cm)
 *	void *cpumem_next(struct cpumem_iter *i, struct cpumem *cm)
 *	CPUMEM_FOREACH(var, struct cpumem_iter *i, struct cpumem *cm)
 *		Every possible CPU's copy once, ascending id (sparse ids
 *		skipped), in the caller, with no synchronization.
 *   pool(9), only as much as cpumem_get needs:
 *	void pool_init(struct pool *pp, size_t size, unsigned align,
 *	    int ipl, int flags, const char *wchan, struct pool_allocator *)
 *	void *pool_get(struct pool *pp, int flags)  PR_WAITOK|PR_NOWAIT|PR_ZERO
 *	void pool_put(struct pool *pp, void *v)
 *		Items come from PERCPU_MALLOC.  There is no caching, no
 *		limits, no IPL; ipl and flags are accepted and ignored; the
 *		allocator must be NULL.
 *   Counters, counters_alloc(9):
 *	struct cpumem *counters_alloc(unsigned n)
 *	void counters_free(struct cpumem *cm, unsigned n)
 *		n 64-bit counters per possible CPU, zero; n > 0.
 *	struct cpumem *counters_alloc_ncpus(struct cpumem *cm, unsigned n)
 *	COUNTERS_BOOT_MEMORY(name, n);
 *	struct cpumem *cm = COUNTERS_BOOT_INITIALIZER(name);
 *		Boot counters and their upgrade (never pass them to
 *		counters_free).
 *	uint64_t *counters_enter(struct counters_ref *ref, struct cpumem *cm)
 *	void counters_leave(struct counters_ref *ref, struct cpumem *cm)
 *		An exclusive section on this CPU's counter set; the set is
 *		marked "being updated" (odd generation) until leave.
 *	void counters_inc(cm, unsigned c)  counters_dec(cm, unsigned c)
 *	void counters_add(cm, unsigned c, uint64_t v)
 *	void counters_pkt(cm, unsigned pc, unsigned bc, uint64_t bytes)
 *		One section each; counters_pkt does c[pc]++, c[bc] += bytes.
 *	void counters_read(struct cpumem *cm, uint64_t *out, unsigned n,
 *	    uint64_t *scratch)
 *		out[i] = the sum over CPUs of counter i; each CPU's set is
 *		read as a consistent snapshot.  @scratch: n words, or NULL
 *		(then it is PERCPU_MALLOC'ed for the call).  The pre-2023
 *		three-argument form counters_read(cm, out, n) is accepted
 *		too (a macro picks by the argument count; the function
 *		itself is the four-argument one).
 *	int counters_read_cpu(struct cpumem *cm, unsigned cpu, uint64_t *out,
 *	    unsigned n)  (ext)
 *		One CPU's set, consistent.
 *	void counters_zero(struct cpumem *cm, unsigned n)
 *		Zero every CPU's set.
 *
 *	Limits: one object must fit in a CPU's unit: cpumem_malloc up to
 *	PERCPU_UNIT_SIZE - 16 bytes (the 16 hold size and type), pool items
 *	up to PERCPU_UNIT_SIZE, counters up to PERCPU_UNIT_SIZE / 8 - 1.
 *
 * MEMORY LAYOUT (MP)
 *	An object is one offset in the core's arena, in which every possible
 *	CPU owns its own unit: no cache line is ever shared by two CPUs, so
 *	unlike OpenBSD nothing is rounded up to a cache line: a counter costs
 *	8 bytes per CPU, plus 8 for the set's generation word.  The handle is
 *	the first possible CPU's copy; the storage never moves.
 *
 * CONTEXT
 *	get, put, malloc, free, the ncpus upgrades, counters_alloc and
 *	counters_free: thread context, outside sections.  counters_read may
 *	call PERCPU_MALLOC (@scratch NULL) and waits for a CPU whose set is
 *	being updated.  enter, leave, first, next, FOREACH, counters_read_cpu
 *	and counters_zero: any context (counters_zero from a signal handler
 *	whose thread holds a section zeroes unserialized, see MEMORY
 *	ORDERING; a read of a set that the reader's own thread holds open,
 *	from a handler or nested, returns it as it stands).  Sections must not wait for other threads: fork() waits
 *	for them (see percpu/core.h, FORK).
 *
 * SIGNALS (OpenBSD's splnet())
 *	A handler that runs while its thread is inside a section nests on the
 *	same CPU and shares its copies (the core never deadlocks).  So a
 *	handler that updates an object must be blocked (pthread_sigmask)
 *	around the sections of the code it interrupts, as the kernel raises
 *	the IPL with splnet() around counters_enter()/counters_leave().
 *	counters_add/inc/dec/pkt hold their CPU without recording a section
 *	in the thread's state (the quiet section of percpu/core.h): to a
 *	handler that interrupts one, percpu_in_section() is 0, and its own
 *	sections take that CPU as nested ones (the core's borrowed CPU).
 *	Counters detect the common violation: a counters section opened on
 *	a set that is already open (a direct nested call, or a handler that
 *	interrupted the body of a section) reports "counters_enter: nested
 *	section on the same counters; block signals whose handlers update
 *	them around the section".  Not detected: a handler that lands in the
 *	two instructions of counters_enter() between reading and writing the
 *	generation (the generation can then step back and a reader can accept
 *	a half-updated set; counters_add/inc/dec/pkt on x86-64 open and close
 *	it with one instruction each, so there they have no such window), and
 *	any lost update of plain cpumem data.
 *
 * ERRORS
 *	Misuse is detected and reported through the core's error handler
 *	(default: print "percpu: <message>" and abort; see
 *	percpu_set_error_handler()).  The messages, grouped by what the call
 *	does when a handler returns:
 *	returns NULL (OpenBSD's M_WAITOK allocations never fail):
 *	  "cpumem_malloc: size 0"
 *	  "cpumem_malloc: cannot reserve %zu bytes on every CPU (limit %zu;
 *	  raise it with -DPERCPU_UNIT_SIZE=...)" (over the limit; out of
 *	  memory under it: "(limit %zu)"), the same for
 *	  "cpumem_get: %s: cannot reserve ..." and
 *	  "counters_alloc: n must be greater than 0" (OpenBSD KASSERTs it)
 *	  "counters_alloc: %u counters do not fit in a CPU's unit (limit %zu;
 *	  raise it with -DPERCPU_UNIT_SIZE=...)"
 *	  "counters_alloc: out of memory for %u counters"
 *	  "pool_get: %s: out of memory" (not with PR_NOWAIT: plain NULL)
 *	frees nothing:
 *	  "cpumem_free: size %zu does not match the allocated size %zu"
 *	  "cpumem_free: type %d does not match the allocated type %d"
 *	  "cpumem_free: not a cpumem_malloc() handle"
 *	  "cpumem_free: boot memory cannot be freed"
 *	  "cpumem_free: NULL handle"
 *	  "cpumem_put: %s: item size %zu does not match the allocated size %zu"
 *	  "cpumem_put: %s: not a cpumem_get() handle"
 *	  "cpumem_put: %s: boot memory cannot be freed"
 *	  "cpumem_put: %s: NULL handle"
 *	  "counters_free: n %u does not match the allocated n %zu"
 *	  "counters_free: not a counters_alloc() handle"
 *	  "counters_free: boot counters cannot be freed"
 *	  "counters_free: NULL handle"
 *	  "pool_put: %s: NULL item"
 *	returns the boot handle, not upgraded:
 *	  "cpumem_malloc_ncpus: not boot memory"
 *	  "cpumem_malloc_ncpus: size %zu does not match the boot memory's %zu"
 *	  "cpumem_malloc_ncpus: called inside a section"
 *	  "counters_alloc_ncpus: not boot memory"
 *	  "counters_alloc_ncpus: n %u does not match the boot counters' n %zu"
 *	  "counters_alloc_ncpus: called inside a section"
 *	returns the allocation of the first upgrade:
 *	  "cpumem_malloc_ncpus: boot memory already upgraded"
 *	  "counters_alloc_ncpus: boot memory already upgraded"
 *	goes on (see SIGNALS and BOOT MEMORY):
 *	  "cpumem_enter: boot memory entered inside a section on CPU %u
 *	  (before the upgrade it belongs to CPU %u)": returns the boot memory,
 *	  unserialized.
 *	  "counters_enter: the counters are already open on this CPU: ...":
 *	  the section leaves the generation to the one that opened it, so
 *	  readers stay consistent.  The opener is an outer section of this
 *	  thread (or the code its signal handler interrupted), or a thread
 *	  that exited inside a section of the set (reported when it exited;
 *	  a section that is the thread's outermost one then closes the set
 *	  silently, a nested one cannot tell the two apart: the generation
 *	  word has no owner, and the fast path stores none).
 *	others:
 *	  "counters_read: out of memory for %u counters": @out stays zero.
 *	  "pool_init: %s: size 0", "pool_init: %s: alignment %u is not a
 *	  power of two up to 64" (PERCPU_CACHELINE), "pool_init: %s: custom
 *allocators are not supported": the pool keeps its other settings (alignment:
 *natural). UP: a handle that is no allocation at all is not recognized (the
 *	handle is the memory); passing boot memory to a free is undefined
 *	there, as in OpenBSD.
 *
 * MEMORY ORDERING
 *	cpumem_enter has acquire and cpumem_leave release semantics on the
 *	CPU's section: what one thread wrote in a CPU's copy is visible to
 *	the next thread that enters the same CPU.  cpumem_first/next and
 *	FOREACH read remote copies with no ordering (use counters, or your
 *	own atomics, for data read while it is updated).
 *
 *	Counters use OpenBSD's generation protocol, in C11 terms.  Word 0 of
 *	each CPU's set is its generation; only the holder of that CPU's
 *	section writes it (rule: section-holder-only, read by anyone).
 *	  writer  g = gen + 1 (odd); release fence; update the counters;
 *		  release fence; gen = g + 1 (even).
 *	  reader  wait while gen is odd (acquire load); copy the counters;
 *		  acquire fence; re-read gen; retry if it changed.
 *	Every access to a counter or generation word by this header is a
 *	relaxed (or stronger) C11 atomic: no data race, no torn 64-bit read
 *	on 32-bit targets; the protocol gives the consistency.  The pointer
 *	counters_enter() returns is a plain uint64_t *: code that updates
 *	through it (the man page's c[i]++) makes plain accesses, which the
 *	protocol makes safe on the supported targets (a torn or half-done
 *	read is always retried) but which C11 and ThreadSanitizer call a race
 *	with a concurrent reader; counters_inc/add/dec/pkt do not.
 *	counters_zero enters each CPU's section in turn and zeroes its set
 *	with the same protocol, so it loses no update and readers never see
 *	half a zero (stronger than OpenBSD, whose zero is unserialized);
 *	called inside a section (or from a signal handler whose thread is in
 *	one, or inside percpu_enter()/percpu_leave()) it cannot take other
 *	CPUs and falls back to OpenBSD's unserialized zero.  The generation
 *	word is never zeroed.  A set left open by a thread that exited inside
 *	its section (the core reports it) is closed by the next reader that
 *	waits on it outside any section (it takes the CPU's section once, to
 *	tell a dead writer from a slow one) or by the CPU's next outermost
 *	counters section; its counters stay as the dead thread left them.
 *	A reader that holds another CPU (a read inside a section, or from a
 *	signal handler whose thread holds one) must not wait for that CPU:
 *	it tells a dead writer by the CPU's lock word instead (the same odd
 *	generation for 100 waits, and no holder of the CPU: a live writer
 *	holds it while its set is open) and returns the set as the dead
 *	thread left it, which stays open for the closers above.
 *
 * BOOT MEMORY (MP)
 *	A boot handle names one static buffer, the boot CPU's (the first
 *	possible CPU).  cpumem_enter() on it takes the boot CPU's section
 *	wherever the thread runs, so any thread may use it, serialized.
 *	cpumem_malloc_ncpus() copies the buffer into the boot CPU's copy of a
 *	new allocation inside that section (no update is lost) and forwards
 *	the boot handle to the new one: a boot handle used after the upgrade
 *	behaves as the new handle.  (OpenBSD adopts the buffer itself; boot
 *	memory is used there only while the boot CPU alone runs.)  Free the
 *	upgraded allocation only when the boot handle is no longer used.
 *
 * UP (PERCPU_MP=0)
 *	OpenBSD's model exactly: the handle is the memory; cpumem_enter
 *	returns it and cpumem_leave does nothing; counters_enter returns it
 *	as the counters (n words, no generation) and counters_leave does
 *	nothing (with a firmware port's interrupt mask, PERCPU_MD_HAS_IRQ,
 *	both pairs mask from enter to leave, as every section does there
 *	and on MP); first returns it and next NULL; boot memory is the buffer
 *	for good (the upgrades return their argument).  counters_read and
 *	counters_zero are plain loops inside percpu_enter()/percpu_leave(),
 *	OpenBSD's splhigh(): a compiler barrier, or an interrupt mask where
 *	the port has one.  Sections are not even compiler barriers: without
 *	an interrupt mask a barrier orders nothing against a handler, which
 *	can run at any point, and it takes scheduling freedom from the
 *	compiler (with barriers, gcc orders counters_pkt() differently from
 *	the plain code).  Code shared with handlers masks them, as on MP
 *	(splnet()); pthread_sigmask() and interrupt-masking intrinsics are
 *	barriers themselves.  So code using cpumem and counters compiles to
 *	the instructions of code using a plain struct; `make check-up`
 *	checks it (test/up/).  Sections do not exclude real parallel threads
 *	there: a UP program runs on one core.
 *	UP assumes one thread of control per core, plus the handlers the
 *	port masks (or the program blocks around sections): two threads that
 *	use the toolkit at the same time lose updates silently, even on a
 *	single-core machine.  A multithreaded program uses the MP build there
 *	too.  -DPERCPU_DEBUG=1 tracks UP sections: a second thread inside one
 *	is reported through the error handler, and percpu_in_section() gives
 *	the calling thread's depth (README, "What UP assumes").
 */
#ifndef CPUMEM_H
#define CPUMEM_H

#include <limits.h>

#include "percpu/core.h"

PERCPU_BEGIN_DECLS /* C++: extern "C" up to the end of this header */

/* ---- Types (identical MP and UP) ---- */

/*
 * struct cpumem - opaque handle, never dereferenced.  MP: the first
 * possible CPU's copy in the arena, or a tagged pointer (odd address) to
 * boot memory's descriptor.  UP: the memory itself.  It is byte-aligned
 * so that each of those addresses is a valid struct cpumem pointer.
 */
struct cpumem {
	unsigned char cpumem_priv_opaque;
};
_Static_assert(_Alignof(struct cpumem) == 1,
    "cpumem: struct cpumem must be byte-aligned on this ABI");

/* Iterator of cpumem_first/cpumem_next: the CPU id of the last copy. */
struct cpumem_iter {
	unsigned int cpu;
};

/* State of one counters section: its generation and this CPU's set. */
struct counters_ref {
	uint64_t g;
	uint64_t *c;
};

#ifndef CPUMEM_NO_POOL
# define CPUMEM_NO_POOL 0
#endif

#if !CPUMEM_NO_POOL
/* pool(9) flags (OpenBSD's values). */
# define PR_WAITOK 0x0001 /* failure is a detected error */
# define PR_NOWAIT 0x0002 /* failure returns NULL */
# define PR_ZERO 0x0008	  /* zero-fill the item */

struct pool_allocator; /* accepted as NULL only */

/* A pool: only what cpumem_get() needs (the item size and alignment). */
struct pool {
	size_t pr_size;
	size_t pr_align; /* 0: natural */
	const char *pr_wchan;
};
#endif /* !CPUMEM_NO_POOL */

/* ---- Internals (cpumem_priv_*) ---- */

/* Recorded after the caller's bytes by cpumem_malloc() (unit 0 only). */
struct cpumem_priv_tag {
	size_t size;
	int type;
	unsigned int magic;
};
#define CPUMEM_PRIV_MAGIC 0x6370756du /* "cpum" */

/* Bytes of a cpumem_malloc(@sz) allocation: @sz, padding, the tag. */
static inline size_t
cpumem_priv_tagged(size_t sz)
{
	size_t a = _Alignof(struct cpumem_priv_tag);

	return ((sz + a - 1) / a * a + sizeof(struct cpumem_priv_tag));
}

/*
 * Arena alignment of an object of @size bytes (@align 0: natural).  At
 * least 8, so an arena handle is never odd (odd means boot memory); at
 * most PERCPU_CACHELINE (pool_init() checks it).
 */
static inline size_t
cpumem_priv_align(size_t size, size_t align)
{
	if (align == 0)
		align = size >= 16 ? 16 : 8;
	return (align < 8 ? 8 : align);
}

/* Bytes of a set of @n counters: n words, plus the generation on MP. */
static inline size_t
cpumem_priv_cbytes(unsigned int n)
{
	return (((size_t)n + PERCPU_MP) * sizeof(uint64_t));
}

/* The most counters an object can hold. */
static inline size_t
cpumem_priv_cmax(void)
{
	size_t max = PERCPU_UNIT_SIZE / sizeof(uint64_t) - PERCPU_MP;

	return (max < UINT_MAX ? max : UINT_MAX);
}

#if PERCPU_MP
/*
 * Boot memory's descriptor.  The handle is &tag[1]: an odd address, as
 * the descriptor is at least 2-aligned; arena handles are 8-aligned.
 * up: the allocation the boot memory was upgraded to, NULL before.
 *   Rule: written once, inside the boot CPU's section (release); read
 *   anywhere (acquire).
 */
struct cpumem_priv_boot {
	unsigned char tag[2];
	size_t size;
	void *mem;
	_Atomic(void *) up;
};
_Static_assert(_Alignof(struct cpumem_priv_boot) >= 2,
    "cpumem: boot descriptors must be at least 2-aligned");

# define CPUMEM_PRIV_BOOT(name, elem, count, bytes, upalign) \
  static struct {                                            \
   struct cpumem_priv_boot hdr;                              \
   _Alignas(PERCPU_CACHELINE) elem mem[count];               \
  } name##_cpumem_boot = {                                   \
      .hdr = {.size = (bytes), .mem = name##_cpumem_boot.mem}}
# define CPUMEM_PRIV_BOOT_HANDLE(name) \
  ((struct cpumem *)&name##_cpumem_boot.hdr.tag[1])
#else
# define CPUMEM_PRIV_BOOT(name, elem, count, bytes, upalign) \
  static struct {                                            \
   _Alignas(upalign) elem mem[count];                        \
  } name##_cpumem_boot
# define CPUMEM_PRIV_BOOT_HANDLE(name) \
  ((struct cpumem *)(void *)name##_cpumem_boot.mem)
#endif

/* ---- Boot memory ---- */

/*
 * CPUMEM_BOOT_MEMORY - define @sz bytes of static boot-CPU memory named
 * after @name (file scope; the object is static).  MP: cache-line
 * aligned, with a descriptor.  UP: the bytes alone, max_align_t aligned.
 * CPUMEM_BOOT_INITIALIZER - its handle, a constant expression:
 *	struct cpumem *cm = CPUMEM_BOOT_INITIALIZER(name);
 */
#define CPUMEM_BOOT_MEMORY(name, sz) \
 CPUMEM_PRIV_BOOT(name, unsigned char, (sz), (sz), _Alignof(max_align_t))
#define CPUMEM_BOOT_INITIALIZER(name) CPUMEM_PRIV_BOOT_HANDLE(name)

/*
 * COUNTERS_BOOT_MEMORY - static boot counters: @n counters plus the
 * generation word on MP (OpenBSD: n + 1 words), @n words 8-aligned on UP.
 * COUNTERS_BOOT_INITIALIZER - its handle, a constant expression.
 */
#define COUNTERS_BOOT_MEMORY(name, n)              \
 CPUMEM_PRIV_BOOT(name, uint64_t, (n) + PERCPU_MP, \
     ((n) + PERCPU_MP) * sizeof(uint64_t), 8)
#define COUNTERS_BOOT_INITIALIZER(name) CPUMEM_PRIV_BOOT_HANDLE(name)

/* ---- Core: MP and UP side by side, identical signatures ---- */

#if PERCPU_MP
static inline int
cpumem_priv_isboot(const struct cpumem *cm)
{
	return (((uintptr_t)(const void *)cm & 1u) != 0);
}

static inline struct cpumem_priv_boot *
cpumem_priv_boot(struct cpumem *cm)
{
	return ((struct cpumem_priv_boot *)(void *)((unsigned char *)cm - 1));
}

/*
 * cpumem_priv_bootmem - resolve @cm: boot memory or an arena handle.
 *
 * Ordering: acquire on a boot descriptor's up; pairs with the release
 *           store in cpumem_priv_upgrade(): the copied values are
 *           visible.
 * Return: the boot memory (the only copy) if @cm is boot memory not yet
 *         upgraded; else NULL, and *@h is the arena handle (@cm, or the
 *         allocation boot memory was upgraded to).
 */
static inline void *
cpumem_priv_bootmem(struct cpumem *cm, void **h)
{
	struct cpumem_priv_boot *b;

	*h = (void *)cm;
	if (PERCPU_LIKELY(!cpumem_priv_isboot(cm)))
		return (NULL);
	b = cpumem_priv_boot(cm);
	*h = atomic_load_explicit(&b->up, memory_order_acquire);
	return (*h == NULL ? b->mem : NULL);
}

/*
 * cpumem_priv_boot_enter - cpumem_enter() on boot memory: take the boot
 * CPU's section wherever the thread runs (nested: keep the held CPU).
 */
static inline void *
cpumem_priv_boot_enter(struct cpumem *cm)
{
	unsigned boot = percpu_cpu_first(), cpu = boot;
	void *mem, *h;

	if (percpu_in_section() == 0)
		(void)percpu_enter_cpu(boot);
	else
		cpu = percpu_enter();
	/* After the wait: the upgrade may have happened meanwhile. */
	if ((mem = cpumem_priv_bootmem(cm, &h)) == NULL)
		return (percpu_cur_ptr(h));
	if (cpu != boot)
		percpu_priv_fail("cpumem_enter: boot memory entered inside a "
				 "section on CPU %u (before the upgrade it "
				 "belongs to CPU %u)",
		    cpu, boot);
	return (mem);
}

/*
 * cpumem_priv_upgrade - copy boot memory into the boot CPU's copy of the
 * fresh allocation @h and forward the boot handle to @h.
 *
 * Context: thread context, outside any section (the caller checked).
 * Ordering: runs inside the boot CPU's section, so it is serialized
 *           with every section on the boot memory; release store of up,
 *           pairs with the acquire load in cpumem_priv_bootmem().
 * Return: NULL (done), or the allocation of an earlier upgrade (then @h
 *         is unused).
 */
static inline void *
cpumem_priv_upgrade(struct cpumem_priv_boot *b, void *h)
{
	void *up;

	(void)percpu_enter_cpu(percpu_cpu_first());
	/* Relaxed: up is only written inside this section. */
	up = atomic_load_explicit(&b->up, memory_order_relaxed);
	if (up == NULL) {
		memcpy(percpu_cur_ptr(h), b->mem, b->size);
		/* Release: the copy before the forward; pairs with the
		 * acquire load in cpumem_priv_bootmem(). */
		atomic_store_explicit(&b->up, h, memory_order_release);
	}
	percpu_leave();
	return (up);
}
#endif /* PERCPU_MP */

/*
 * cpumem_enter - begin an exclusive section and return this CPU's copy.
 *
 * Context: any, signal handlers included (see SIGNALS).  Nestable.
 * Ordering: acquire; pairs with cpumem_leave() of the CPU's previous
 *           holder.
 * UP: returns @cm, nothing else (see UP above); with a firmware port's
 *     interrupt mask, also masks until cpumem_leave(), as on MP.
 * Return: the copy of the CPU now held, valid until cpumem_leave().
 */
#if PERCPU_MP
static inline PERCPU_PRIV_ENTER_INLINE void *
cpumem_enter(struct cpumem *cm)
{
	if (PERCPU_UNLIKELY(cpumem_priv_isboot(cm)))
		return (cpumem_priv_boot_enter(cm));
	return (percpu_priv_enter_ptr(cm));
}
#else  /* !PERCPU_MP */
static inline PERCPU_PRIV_ENTER_INLINE void *
cpumem_enter(struct cpumem *cm)
{
	percpu_priv_up_enter(); /* masks with a port; else plain */
	return ((void *)cm);	/* UP: the handle is the memory */
}
#endif /* PERCPU_MP */

/*
 * cpumem_leave - end the section cpumem_enter() began.
 *
 * Context: the thread that entered.  @m is the pointer enter returned.
 * Ordering: release; pairs with the next cpumem_enter() on that CPU.
 * UP: nothing; with a firmware port's interrupt mask, unmasks.
 */
#if PERCPU_MP
static inline PERCPU_PRIV_ENTER_INLINE void
cpumem_leave(struct cpumem *cm, void *m)
{
	(void)cm;
	(void)m;
	percpu_priv_leave_as("cpumem_leave");
}
#else  /* !PERCPU_MP */
static inline PERCPU_PRIV_ENTER_INLINE void
cpumem_leave(struct cpumem *cm, void *m)
{
	(void)cm;
	(void)m;
	percpu_priv_up_leave_as("cpumem_leave");
}
#endif /* PERCPU_MP */

/*
 * cpumem_first - the first possible CPU's copy; starts an iteration.
 *
 * Context: any.  No synchronization with the CPUs' updaters.
 * UP: returns @cm.
 * Return: the copy of the lowest possible CPU id (MP boot memory before
 *         its upgrade: the boot memory, the only copy).
 */
#if PERCPU_MP
static inline void *
cpumem_first(struct cpumem_iter *i, struct cpumem *cm)
{
	void *h, *mem = cpumem_priv_bootmem(cm, &h);

	i->cpu = percpu_cpu_first();
	return (mem != NULL ? mem : percpu_ptr(h, i->cpu));
}
#else  /* !PERCPU_MP */
static inline void *
cpumem_first(struct cpumem_iter *i, struct cpumem *cm)
{
	i->cpu = 0;
	return ((void *)cm);
}
#endif /* PERCPU_MP */

/*
 * cpumem_next - the next possible CPU's copy, in ascending id.
 *
 * Context: any, after cpumem_first() on the same iterator.
 * UP: returns NULL.
 * Return: the copy, or NULL past the last possible CPU (and at every
 *         later call).
 */
#if PERCPU_MP
static inline void *
cpumem_next(struct cpumem_iter *i, struct cpumem *cm)
{
	void *h, *mem = cpumem_priv_bootmem(cm, &h);

	i->cpu = mem != NULL ? PERCPU_NOCPU : percpu_cpu_next(i->cpu);
	return (i->cpu != PERCPU_NOCPU ? percpu_ptr(h, i->cpu) : NULL);
}
#else  /* !PERCPU_MP */
static inline void *
cpumem_next(struct cpumem_iter *i, struct cpumem *cm)
{
	(void)cm;
	i->cpu = PERCPU_NOCPU;
	return (NULL);
}
#endif /* PERCPU_MP */

/*
 * CPUMEM_FOREACH - set @var to every possible CPU's copy in turn.  The
 * loop is driven by the iterator (equivalent to var != NULL), so that
 * on UP it compiles to the body, once.
 */
#define CPUMEM_FOREACH(var, iter, cm)                          \
 for ((var) = PERCPU_PRIV_AS(var, cpumem_first((iter), (cm))); \
      (iter)->cpu != PERCPU_NOCPU;                             \
      (var) = PERCPU_PRIV_AS(var, cpumem_next((iter), (cm))))

/* ---- Counter words: MP and UP ---- */

#if PERCPU_MP
/*
 * cpumem_priv_word - counter word @p as a C11 atomic.  The arena and the
 * boot buffers are 8-aligned, and _Atomic(uint64_t) has the size of a
 * uint64_t (checked below).
 */
static inline _Atomic(uint64_t) *
cpumem_priv_word(uint64_t *p)
{
	return ((_Atomic(uint64_t) *)(void *)p);
}
_Static_assert(sizeof(_Atomic(uint64_t)) == sizeof(uint64_t),
    "cpumem: _Atomic(uint64_t) must have the size of uint64_t");

/*
 * cpumem_priv_open - mark the counter set @c "being updated".
 *
 * Context: inside the section of the CPU that owns @c.
 * Ordering: the generation is section-holder-only: relaxed load (the
 *           section's acquire made the previous holder's store visible)
 *           and relaxed store of the odd value; then a release fence
 *           (membar_producer) orders it before the updates that follow;
 *           pairs with the acquire fence in cpumem_priv_snap().
 * Return: the new, odd generation; 0 if the set was already open (a
 *         nested section: the generation is left alone).
 */
static inline uint64_t
cpumem_priv_open(uint64_t *c)
{
	_Atomic(uint64_t) *gen = cpumem_priv_word(c);
	uint64_t g = atomic_load_explicit(gen, memory_order_relaxed);

	if (PERCPU_UNLIKELY((g & 1u) != 0))
		return (0);
	atomic_store_explicit(gen, ++g, memory_order_relaxed);
	/* Release fence: pairs with the acquire fence in
	 * cpumem_priv_snap(). */
	atomic_thread_fence(memory_order_release);
	return (g);
}

/*
 * CPUMEM_PRIV_X86_RMW: the holder's updates of a counter word as one
 * plain x86-64 read-modify-write instruction (addq, orq): the same
 * single-copy-atomic 8-byte store a reader sees as a relaxed atomic
 * store, in one instruction instead of three.  Only the holder of the
 * set's CPU writes the word, so no lock prefix.  Not under
 * ThreadSanitizer (PERCPU_PRIV_X86_ASM).
 */
# define CPUMEM_PRIV_X86_RMW PERCPU_PRIV_X86_ASM

/*
 * cpumem_priv_inc - counter word @w += @v by the holder of its CPU (the
 * only writer), in the set whose generation is @gen.  Context: inside
 * that CPU's section.  Ordering: after the open and before the close of
 * the set (with CPUMEM_PRIV_X86_RMW, the asm names the generation as an
 * operand too, so the compiler keeps that order).
 */
static inline void
cpumem_priv_inc(uint64_t *gen, uint64_t *w, uint64_t v)
{
# if CPUMEM_PRIV_X86_RMW
	__asm__ __volatile__("addq %2, %0" : "+m"(*w), "+m"(*gen) : "er"(v));
# else
	_Atomic(uint64_t) *a = cpumem_priv_word(w);

	(void)gen;
	atomic_store_explicit(a,
	    atomic_load_explicit(a, memory_order_relaxed) + v,
	    memory_order_relaxed);
# endif
}

/*
 * cpumem_priv_close - publish the updates of the set @c, which this
 * section opened (its generation is odd, and only the holder writes it).
 *
 * Ordering: release fence (membar_producer) orders the updates before
 *           the even generation; pairs with the acquire load of the
 *           generation in cpumem_priv_snap().
 */
static inline void
cpumem_priv_close(uint64_t *c)
{
	/* Release fence: pairs with the acquire load in cpumem_priv_snap(). */
	atomic_thread_fence(memory_order_release);
	cpumem_priv_inc(c, c, 1);
}

/*
 * cpumem_priv_close_asm - cpumem_priv_close() of a set opened with the
 * odd generation @g by cpumem_priv_open1(@c, 1), after updates made only
 * with cpumem_priv_inc().  With CPUMEM_PRIV_X86_RMW those are volatile
 * asm statements that name the generation as an operand, so the compiler
 * keeps this store after them, and x86-64 makes stores visible in program
 * order (TSO): that is the release fence's whole effect there, so it is
 * left out (and the compiler keeps what it knows of the section state).
 * Elsewhere: the fence.  The store is from the register: the
 * generation's chain from section to section is one store-to-load
 * forwarding.
 */
static inline void
cpumem_priv_close_asm(uint64_t *c, uint64_t g)
{
# if !CPUMEM_PRIV_X86_RMW
	/* Release fence: pairs with the acquire load in cpumem_priv_snap(). */
	atomic_thread_fence(memory_order_release);
# endif
	atomic_store_explicit(cpumem_priv_word(c), g + 1u,
	    memory_order_relaxed);
}

/*
 * cpumem_priv_open1 - cpumem_priv_open() for the thread's outermost
 * section (depth 1, not borrowed) or a quiet one, where the set cannot be
 * open by this thread: it is odd only if a thread died inside a section
 * of it, and then it stays odd (readers still wait) and the close makes
 * it even.
 *
 * Ordering: as cpumem_priv_open(); with @asm_only (updates only by
 *           cpumem_priv_inc(), closed by cpumem_priv_close_asm()) and
 *           CPUMEM_PRIV_X86_RMW, program order and TSO as there.
 * Return: the odd generation.
 */
static inline uint64_t
cpumem_priv_open1(uint64_t *c, int asm_only)
{
	_Atomic(uint64_t) *gen = cpumem_priv_word(c);
	uint64_t g = atomic_load_explicit(gen, memory_order_relaxed) | 1u;

	atomic_store_explicit(gen, g, memory_order_relaxed);
	/* Release fence: pairs with the acquire fence in
	 * cpumem_priv_snap(). */
	if (!asm_only || !CPUMEM_PRIV_X86_RMW)
		atomic_thread_fence(memory_order_release);
	return (g);
}

/*
 * cpumem_priv_qopen / cpumem_priv_qclose - cpumem_priv_open1(@c, 1) and
 * cpumem_priv_close_asm() for a quiet section (counters_add, _pkt), where
 * the whole update is the toolkit's own code.  With CPUMEM_PRIV_X86_RMW
 * each is one instruction (orq, addq on the word), so no signal handler
 * can land between reading and writing the generation: one that updates
 * the same set (a misuse) either runs before the orq (and the set
 * opens after it) or finds the set open and reports the nesting; it never
 * makes the generation step back.  Elsewhere: the register forms.
 */
static inline uint64_t
cpumem_priv_qopen(uint64_t *c)
{
# if CPUMEM_PRIV_X86_RMW
	__asm__ __volatile__("orq $1, %0" : "+m"(*c));
	return (1);
# else
	return (cpumem_priv_open1(c, 1));
# endif
}

static inline void
cpumem_priv_qclose(uint64_t *c, uint64_t g)
{
# if CPUMEM_PRIV_X86_RMW
	(void)g;
	cpumem_priv_inc(c, c, 1);
# else
	cpumem_priv_close_asm(c, g);
# endif
}

/*
 * cpumem_priv_add - counter @i += @v in the set whose counters start at
 * @c (its generation is c[-1]) by the section holder (cpumem_priv_inc).
 */
static inline void
cpumem_priv_add(uint64_t *c, unsigned int i, uint64_t v)
{
	cpumem_priv_inc(c - 1, &c[i], v);
}

/*
 * cpumem_priv_begin - open the set @c for its CPU's section holder.
 *
 * A set already open when the holder's section is the outermost one
 * (depth 1) cannot be open by a live writer (sections are exclusive, and
 * a handler or nested call of this thread would be at depth 2 or more):
 * it was left open by a thread that exited inside its section (the core
 * reported it; percpu/impl.h, percpu_priv_thread_exit()).  That stale
 * generation is closed first, so that readers and this writer go on.
 * Context, Ordering: as cpumem_priv_open().
 * Return: the new, odd generation; 0 if an outer section of this thread
 *         has the set open (a nested section).
 */
static inline uint64_t
cpumem_priv_begin(uint64_t *c)
{
	uint64_t g = cpumem_priv_open(c);

	/* Depth 1 and not borrowed: a handler that borrowed its thread's
	 * CPU finds the set open by the code it interrupted (a quiet
	 * section of counters_add()): a nested section, not a dead one. */
	if (PERCPU_UNLIKELY(g == 0) &&
	    (PERCPU_PRIV_TD.state &
		(PERCPU_PRIV_DEPTH | PERCPU_PRIV_BORROWED)) == 1) {
		cpumem_priv_close(c);
		g = cpumem_priv_open(c);
	}
	return (g);
}

/* cpumem_priv_wait - one step of a reader's wait for a writer. */
static inline void
cpumem_priv_wait(unsigned *spins)
{
	percpu_md_relax(*spins);
	if (*spins < 1000)
		(*spins)++;
}

/*
 * cpumem_priv_snap - copy the @n counters of one CPU's set @c into @tmp,
 * as a consistent snapshot (OpenBSD's counters_read() loop).
 *
 * Context: any thread; waits (spinning, then yielding: percpu_md_relax)
 *          while the set is being updated, so for as long as one section
 *          of its CPU @cpu lasts (outside a section, a long wait takes
 *          @cpu's section once: see cpumem_priv_begin()).  A thread that
 *          holds @cpu itself (a signal handler inside counters_add() or
 *          a section of that set; a read nested in one) gets the set as
 *          it stands, after 100 spins: its writer cannot run (the
 *          test is the lock word of @cpu holding this thread's token,
 *          whatever other CPU the handler holds itself).  A thread that
 *          holds another CPU (a read inside a section; a handler whose
 *          thread holds one) must not wait for @cpu: a set left open by
 *          a thread that exited inside its section (the same odd
 *          generation for 100 waits, and no holder of @cpu) is returned
 *          as that thread left it, and stays open.  That wait is counted
 *          in percpu_priv_g.stuck: a fork's prepare handler that took
 *          @cpu and waits for this thread's CPU then gives @cpu back
 *          (percpu/impl.h).
 * Ordering: acquire load of the generation; pairs with the release fence
 *           in cpumem_priv_close().  Acquire fence (membar_consumer)
 *           after the copy; pairs with the release fence in
 *           cpumem_priv_open(): a copied word written by a later section
 *           makes the re-read see that section's odd generation.  A set
 *           returned open (dead writer): see the comment in the loop.
 */
static inline void
cpumem_priv_snap(uint64_t *c, uint64_t *tmp, unsigned int n, unsigned cpu)
{
	_Atomic(uint64_t) *gen = cpumem_priv_word(c);
	uint64_t enter, leave, odd = 0;
	unsigned i, spins = 0, same = 0;
	/* asis: this thread holds @cpu (copy as it stands); stuck: it can
	 * neither hold nor take @cpu; dead: the copy is of a set that looks
	 * left open by a dead thread, to be confirmed after it. */
	int asis = 0, stuck = 0, dead = 0;

	for (;;) {
		/* Acquire: pairs with the release fence in
		 * cpumem_priv_close(). */
		while (
		    ((enter = atomic_load_explicit(gen, memory_order_acquire)) &
			1u) != 0) {
			/* A long wait: the set may have been left open by a
			 * thread that died in its section.  Holding the CPU
			 * tells (no live writer then); close it if so.  Or
			 * this thread itself holds @cpu (a handler that
			 * interrupted counters_add() or a section, a read
			 * nested in a section): the only writer is the code
			 * it interrupted, which cannot run before it returns;
			 * the set is copied as it stands. */
			if (spins == 100) {
				if (percpu_priv_holds(cpu)) {
					asis = 1;
					break;
				}
				if (percpu_priv_held() == PERCPU_NOCPU &&
				    percpu_enter_cpu(cpu) != PERCPU_NOCPU) {
					(void)cpumem_priv_begin(c);
					cpumem_priv_close(c);
					percpu_leave();
				} else {
					/* Counted: a fork's prepare that took
					 * @cpu and waits for ours gives @cpu
					 * back (percpu/impl.h). */
					stuck = 1;
					percpu_priv_stuck(1);
				}
			}
			/* Or this thread holds another CPU (or could not take
			 * @cpu): taking @cpu while holding one could deadlock,
			 * so it tells a dead writer by the lock word.  A live
			 * writer holds @cpu for as long as its generation is
			 * odd: it takes the lock before it opens the set and
			 * releases it after the close (percpu_leave() after
			 * cpumem_priv_close()).  So the same odd generation
			 * for 100 waits and no holder of @cpu at all means
			 * the writer died (percpu_priv_thread_exit() released
			 * its CPU); the set is copied as it was left, then
			 * confirmed below. */
			if (enter != odd) {
				odd = enter;
				same = 0;
			} else if (same < 1000)
				same++;
			/* Acquire: pairs with the release of the last holder
			 * of @cpu (percpu_leave(), or the release CAS of
			 * percpu_priv_thread_exit() for the dead writer):
			 * the copy sees everything it wrote. */
			if (stuck && same >= 100 && percpu_priv_cpu_free(cpu)) {
				dead = 1;
				break;
			}
			cpumem_priv_wait(&spins);
		}
		for (i = 0; i < n; i++)
			tmp[i] = atomic_load_explicit(
			    cpumem_priv_word(&c[i + 1]), memory_order_relaxed);
		/* Acquire fence: pairs with the release fence in
		 * cpumem_priv_open(). */
		atomic_thread_fence(memory_order_acquire);
		if (dead) {
			/* Confirm: @cpu still free, then the generation
			 * still the same odd value.  A new holder X may have
			 * taken @cpu after the test above; its outermost
			 * section reopens a set left odd with the same odd
			 * value (cpumem_priv_open1(), cpumem_priv_qopen()),
			 * so the generation alone cannot tell.  If the copy
			 * has a word X wrote, the acquire fence above pairs
			 * with the release fence after X's open (X86_RMW: TSO
			 * keeps X's lock store before its counter stores, and
			 * these loads in order), which X made after taking the
			 * lock: this load sees X's token, or a later release
			 * (acquire: then X's close, the generation's step
			 * past @odd, is seen by the load after it).  So a
			 * copy confirmed here holds only what was written
			 * before the test above: the set as left.
			 *
			 * Residual caveat: a live writer's lock store is not
			 * ordered before its generation store for other
			 * threads in C11 (the acquire of its CAS orders what
			 * follows its read, not its write); on weak-memory
			 * hardware (AArch64, not x86-64's TSO) its odd
			 * generation may become visible before its lock word
			 * for the time a store waits in its buffer.  The 100
			 * waits (at least 36 of them sched_yield()) of the
			 * same odd value before the test cover that window;
			 * and a copy confirmed then has none of that writer's
			 * words (above), only the values before its update.
			 * A section nested in another of its thread on a set
			 * left open (reported: the counters are already
			 * open) makes no open, no fence and no close: a
			 * confirmed copy may have some of its words and not
			 * others, on any hardware (the set was half-updated by
			 * the dead thread already, and that error is
			 * reported). */
			dead = 0;
			if (percpu_priv_cpu_free(cpu) &&
			    atomic_load_explicit(gen, memory_order_relaxed) ==
				enter)
				break; /* left open by a dead writer */
			continue;
		}
		leave = atomic_load_explicit(gen, memory_order_relaxed);
		if (enter == leave || asis)
			break; /* consistent; or our own open set, as is */
	}
	if (stuck)
		percpu_priv_stuck(0);
}

/*
 * cpumem_priv_zero_set - zero the @n counters of the set @c, with the
 * writer's protocol when @locked (the caller holds the set's CPU), with
 * plain relaxed stores otherwise (OpenBSD's unserialized zero).  The
 * generation word is never zeroed: it never steps back.
 */
static inline void
cpumem_priv_zero_set(uint64_t *c, unsigned int n, int locked)
{
	uint64_t g = locked ? cpumem_priv_begin(c) : 0;
	unsigned i;

	for (i = 0; i < n; i++)
		atomic_store_explicit(cpumem_priv_word(&c[i + 1]), 0,
		    memory_order_relaxed);
	if (g != 0)
		cpumem_priv_close(c);
}
#endif /* PERCPU_MP */

#if !CPUMEM_NO_POOL
/* ---- pool(9): only what cpumem_get() needs ---- */

/*
 * pool_init - describe a pool of @size-byte items.
 *
 * Context: thread context.
 * UP: the same.
 * Return: nothing.  @align (0 = natural) must be a power of two up to
 *         PERCPU_CACHELINE (64: OpenBSD's pool caches ask for
 *         CACHELINESIZE); @ipl and @flags are ignored; @palloc must be
 *         NULL.
 */
static inline void
pool_init(struct pool *pp, size_t size, unsigned int align, int ipl, int flags,
    const char *wchan, struct pool_allocator *palloc)
{
	(void)ipl;
	(void)flags;
	pp->pr_size = size;
	pp->pr_align = 0;
	pp->pr_wchan = wchan != NULL ? wchan : "pool";
	if (size == 0)
		percpu_priv_fail("pool_init: %s: size 0", pp->pr_wchan);
	if (align > PERCPU_CACHELINE || (align & (align - 1)) != 0)
		percpu_priv_fail("pool_init: %s: alignment %u is not a power "
				 "of two up to %u",
		    pp->pr_wchan, align, (unsigned)PERCPU_CACHELINE);
	else
		pp->pr_align = align;
	if (palloc != NULL)
		percpu_priv_fail("pool_init: %s: custom allocators are not "
				 "supported",
		    pp->pr_wchan);
}

/* Extra bytes of an over-aligned item (beyond max_align_t), else 0. */
static inline size_t
cpumem_priv_pool_pad(const struct pool *pp)
{
	return (pp->pr_align > _Alignof(max_align_t) ? pp->pr_align : 0);
}

/*
 * pool_get - one item of @pp, aligned as pool_init() asked.
 *
 * Context: thread context.
 * Return: the item (zero-filled with PR_ZERO).  Out of memory: NULL with
 *         PR_NOWAIT, else a detected error (then NULL).
 */
static inline void *
pool_get(struct pool *pp, int flags)
{
	size_t a = cpumem_priv_pool_pad(pp);
	void *v = percpu_priv_malloc((pp->pr_size != 0 ? pp->pr_size : 1) + a);

	if (v != NULL && a != 0) {
		/* Over-aligned: the item starts at the next multiple of the
		 * alignment (at least 16 bytes in, since PERCPU_MALLOC gives
		 * max_align_t alignment), the block's address just before. */
		char *item = (char *)v + (a - (uintptr_t)v % a);

		memcpy(item - sizeof(v), &v, sizeof(v));
		v = item;
	}
	if (v == NULL) {
		if ((flags & PR_NOWAIT) == 0)
			percpu_priv_fail("pool_get: %s: out of memory",
			    pp->pr_wchan);
		return (NULL);
	}
	if ((flags & PR_ZERO) != 0)
		memset(v, 0, pp->pr_size);
	return (v);
}

/*
 * pool_put - give back an item of @pp.
 *
 * Context: thread context.
 */
static inline void
pool_put(struct pool *pp, void *v)
{
	if (v == NULL) {
		percpu_priv_fail("pool_put: %s: NULL item", pp->pr_wchan);
		return;
	}
	if (cpumem_priv_pool_pad(pp) != 0)
		memcpy(&v, (char *)v - sizeof(v), sizeof(v));
	percpu_priv_free(v);
}
#endif /* !CPUMEM_NO_POOL */

/* ---- Derived operations: written once on top of the core ---- */

/*
 * cpumem_priv_get - one zero-filled item of @size bytes aligned to @align
 * (0: natural) for every possible CPU; @name names the pool in errors.
 *
 * The items are not taken from the pool: they are one arena allocation of
 * the item size, so each CPU's item lies in its own unit (the pool gives
 * the size and alignment).
 *
 * Context: thread context.
 * UP: one item (from the same allocator).
 * Return: the handle; NULL only if the error handler returns.
 */
static inline struct cpumem *
cpumem_priv_get(size_t size, size_t align, const char *name)
{
	void *h = NULL;

	if (align <= PERCPU_CACHELINE && (align & (align - 1)) == 0)
		h = percpu_priv_zalloc(size, cpumem_priv_align(size, align));
	if (h == NULL)
		percpu_priv_fail("cpumem_get: %s: cannot reserve %zu bytes "
				 "aligned to %zu on every CPU (limit %zu%s)",
		    name, size, align, (size_t)PERCPU_UNIT_SIZE,
		    percpu_priv_limit_hint(size, PERCPU_UNIT_SIZE));
	return ((struct cpumem *)h);
}

/*
 * cpumem_priv_put - release a cpumem_priv_get(@size) handle.
 *
 * Context: thread context; no section may still use @cm.
 * UP: the same checks (a pointer that is no allocation is undetected).
 * Return: nothing.  A wrong item size is a detected error and frees
 *         nothing.
 */
static inline void
cpumem_priv_put(size_t size, const char *name, struct cpumem *cm)
{
	size_t actual = 0;
	int rc;

	if (cm == NULL) {
		percpu_priv_fail("cpumem_put: %s: NULL handle", name);
		return;
	}
#if PERCPU_MP
	if (cpumem_priv_isboot(cm)) {
		percpu_priv_fail("cpumem_put: %s: boot memory cannot be freed",
		    name);
		return;
	}
#endif
	rc = percpu_priv_zfree(cm, size, &actual);
	if (rc == PERCPU_PRIV_ESIZE)
		percpu_priv_fail("cpumem_put: %s: item size %zu does not match "
				 "the allocated size %zu",
		    name, size, actual);
	else if (rc != PERCPU_PRIV_OK)
		percpu_priv_fail("cpumem_put: %s: not a cpumem_get() handle",
		    name);
}

#if !CPUMEM_NO_POOL
/*
 * cpumem_get - one zero-filled item of @pp's size for every possible CPU.
 *
 * Context: thread context.
 * UP: one item.
 * Return: the handle; NULL only if the error handler returns.
 */
static inline struct cpumem *
cpumem_get(struct pool *pp)
{
	return (cpumem_priv_get(pp->pr_size, pp->pr_align, pp->pr_wchan));
}

/*
 * cpumem_put - release a cpumem_get(@pp) handle.
 *
 * Context: thread context; no section may still use @cm.
 * Return: nothing.  A wrong pool (item size) is a detected error and frees
 *         nothing.
 */
static inline void
cpumem_put(struct pool *pp, struct cpumem *cm)
{
	cpumem_priv_put(pp->pr_size, pp->pr_wchan, cm);
}
#else /* CPUMEM_NO_POOL */
/*
 * The program's own struct pool: cpumem_get/put read its item size,
 * alignment and name through these (OpenBSD's field names by default;
 * define them before including cpumem.h for other names).  Macros, as the
 * struct is only known to the program.
 */
# ifndef CPUMEM_POOL_SIZE
#  define CPUMEM_POOL_SIZE(pp) ((size_t)(pp)->pr_size)
# endif
# ifndef CPUMEM_POOL_ALIGN
#  define CPUMEM_POOL_ALIGN(pp) ((size_t)(pp)->pr_align)
# endif
# ifndef CPUMEM_POOL_NAME
#  define CPUMEM_POOL_NAME(pp) ((const char *)(pp)->pr_wchan)
# endif
# define cpumem_get(pp)                                        \
  cpumem_priv_get(CPUMEM_POOL_SIZE(pp), CPUMEM_POOL_ALIGN(pp), \
      CPUMEM_POOL_NAME(pp))
# define cpumem_put(pp, cm) \
  cpumem_priv_put(CPUMEM_POOL_SIZE(pp), CPUMEM_POOL_NAME(pp), (cm))
#endif /* CPUMEM_NO_POOL */

/*
 * cpumem_malloc - @sz zero-filled bytes for every possible CPU.
 *
 * The first CPU's copy is followed by a 16-byte record of @sz and @type
 * (every CPU's unit reserves it), so that cpumem_free() can check both.
 *
 * Context: thread context.
 * UP: one zeroed buffer (plus the record).
 * Return: the handle; NULL only if the error handler returns (size 0,
 *         over the limit, out of memory: OpenBSD's M_WAITOK never fails).
 */
static inline struct cpumem *
cpumem_malloc(size_t sz, int type)
{
	struct cpumem_priv_tag tag;
	size_t max = PERCPU_UNIT_SIZE - sizeof(tag), tsz;
	char *h;

	if (sz == 0) {
		percpu_priv_fail("cpumem_malloc: size 0");
		return (NULL);
	}
	tsz = cpumem_priv_tagged(sz);
	h = sz <= max ? (char *)percpu_priv_zalloc(tsz, PERCPU_CACHELINE) :
			NULL;
	if (h == NULL) {
		percpu_priv_fail("cpumem_malloc: cannot reserve %zu bytes on "
				 "every CPU (limit %zu%s)",
		    sz, max, percpu_priv_limit_hint(sz, max));
		return (NULL);
	}
	tag.size = sz;
	tag.type = type;
	tag.magic = CPUMEM_PRIV_MAGIC;
	memcpy(h + tsz - sizeof(tag), &tag, sizeof(tag));
	return ((struct cpumem *)(void *)h);
}

/*
 * cpumem_free - release a cpumem_malloc(@sz, @type) handle.
 *
 * Context: thread context; no section may still use @cm.
 * UP: the same checks (a pointer that is no allocation is undetected).
 * Return: nothing.  A size or type that differs from the allocation's, a
 *         handle of another allocator, and boot memory are detected errors
 *         and free nothing.
 */
static inline void
cpumem_free(struct cpumem *cm, int type, size_t sz)
{
	struct cpumem_priv_tag tag;
	size_t actual = 0;
	char *h = (char *)(void *)cm;

	if (cm == NULL) {
		percpu_priv_fail("cpumem_free: NULL handle");
		return;
	}
#if PERCPU_MP
	if (cpumem_priv_isboot(cm)) {
		percpu_priv_fail("cpumem_free: boot memory cannot be freed");
		return;
	}
#endif
	/* Size 0 never matches: a probe that frees nothing and reports the
	 * allocation's size, so that the record can be read first. */
	if (percpu_priv_zfree(h, 0, &actual) != PERCPU_PRIV_ESIZE ||
	    actual < sizeof(tag)) {
		percpu_priv_fail("cpumem_free: not a cpumem_malloc() handle");
		return;
	}
	memcpy(&tag, h + actual - sizeof(tag), sizeof(tag));
	if (tag.magic != CPUMEM_PRIV_MAGIC ||
	    cpumem_priv_tagged(tag.size) != actual) {
		percpu_priv_fail("cpumem_free: not a cpumem_malloc() handle");
		return;
	}
	if (sz != tag.size) {
		percpu_priv_fail("cpumem_free: size %zu does not match the "
				 "allocated size %zu",
		    sz, tag.size);
		return;
	}
	if (type != tag.type) {
		percpu_priv_fail("cpumem_free: type %d does not match the "
				 "allocated type %d",
		    type, tag.type);
		return;
	}
	if (percpu_priv_zfree(h, actual, NULL) != PERCPU_PRIV_OK)
		percpu_priv_fail("cpumem_free: not a cpumem_malloc() handle");
}

/*
 * cpumem_malloc_ncpus - upgrade boot memory @bootcm (CPUMEM_BOOT_MEMORY
 * of @sz bytes) to per-CPU memory.
 *
 * Context: thread context, outside any section.  The boot memory stays
 *          allocated (it is static); the boot handle forwards to the new
 *          handle (see BOOT MEMORY).
 * Ordering: the copy is made inside the boot CPU's section: serialized
 *           with every section on the boot memory.
 * UP: returns @bootcm (the boot memory is the memory for good).
 * Return: the new handle: the boot CPU (the first possible CPU) holds the
 *         boot memory's bytes, every other CPU zero.  On a detected error,
 *         @bootcm (or the handle of an earlier upgrade).
 */
#if PERCPU_MP
static inline struct cpumem *
cpumem_malloc_ncpus(struct cpumem *bootcm, size_t sz, int type)
{
	struct cpumem_priv_boot *b;
	struct cpumem *cm;
	void *prev;

	if (!cpumem_priv_isboot(bootcm)) {
		percpu_priv_fail("cpumem_malloc_ncpus: not boot memory");
		return (bootcm);
	}
	b = cpumem_priv_boot(bootcm);
	if (sz != b->size) {
		percpu_priv_fail("cpumem_malloc_ncpus: size %zu does not match "
				 "the boot memory's %zu",
		    sz, b->size);
		return (bootcm);
	}
	if (percpu_in_section() != 0) {
		percpu_priv_fail(
		    "cpumem_malloc_ncpus: called inside a section");
		return (bootcm);
	}
	if ((cm = cpumem_malloc(sz, type)) == NULL)
		return (bootcm);
	if ((prev = cpumem_priv_upgrade(b, cm)) != NULL) {
		cpumem_free(cm, type, sz);
		percpu_priv_fail(
		    "cpumem_malloc_ncpus: boot memory already upgraded");
		return ((struct cpumem *)prev);
	}
	return (cm);
}
#else  /* !PERCPU_MP */
static inline struct cpumem *
cpumem_malloc_ncpus(struct cpumem *bootcm, size_t sz, int type)
{
	(void)sz;
	(void)type;
	return (bootcm);
}
#endif /* PERCPU_MP */

/* ---- Counters ---- */

/*
 * counters_alloc - @n zeroed 64-bit counters for every possible CPU.
 *
 * Context: thread context.
 * UP: n words, no generation.
 * Return: the handle (MP: n + 1 words per CPU, word 0 the generation).
 *         NULL only if the error handler returns (n == 0, too many, out
 *         of memory).
 */
static inline struct cpumem *
counters_alloc(unsigned int n)
{
	void *h;

	if (n == 0) {
		percpu_priv_fail("counters_alloc: n must be greater than 0");
		return (NULL);
	}
	if (n > cpumem_priv_cmax()) {
		percpu_priv_fail("counters_alloc: %u counters do not fit in a "
				 "CPU's unit (limit %zu"
				 "; raise it with -DPERCPU_UNIT_SIZE=...)",
		    n, cpumem_priv_cmax());
		return (NULL);
	}
	h = percpu_priv_zalloc(cpumem_priv_cbytes(n), sizeof(uint64_t));
	if (h == NULL)
		percpu_priv_fail("counters_alloc: out of memory for %u "
				 "counters",
		    n);
	return ((struct cpumem *)h);
}

/*
 * counters_free - release a counters_alloc(@n) handle.
 *
 * Context: thread context; no section or reader may still use @cm.
 * UP: the same checks (a pointer that is no allocation is undetected).
 * Return: nothing.  A different @n, another allocator's handle and boot
 *         counters are detected errors and free nothing.
 */
static inline void
counters_free(struct cpumem *cm, unsigned int n)
{
	size_t actual = 0;
	int rc;

	if (cm == NULL) {
		percpu_priv_fail("counters_free: NULL handle");
		return;
	}
#if PERCPU_MP
	if (cpumem_priv_isboot(cm)) {
		percpu_priv_fail(
		    "counters_free: boot counters cannot be freed");
		return;
	}
#endif
	rc = percpu_priv_zfree(cm,
	    n != 0 && n <= cpumem_priv_cmax() ? cpumem_priv_cbytes(n) : 0,
	    &actual);
	if (rc == PERCPU_PRIV_ESIZE)
		percpu_priv_fail("counters_free: n %u does not match the "
				 "allocated n %zu",
		    n, actual / sizeof(uint64_t) - PERCPU_MP);
	else if (rc != PERCPU_PRIV_OK)
		percpu_priv_fail(
		    "counters_free: not a counters_alloc() handle");
}

/*
 * counters_alloc_ncpus - upgrade boot counters @cm (COUNTERS_BOOT_MEMORY
 * of @n) to per-CPU counters.
 *
 * Context, Ordering: as cpumem_malloc_ncpus().
 * UP: returns @cm.
 * Return: the new handle; the boot CPU keeps the boot values, the others
 *         are zero.  On a detected error, @cm (or an earlier upgrade).
 */
#if PERCPU_MP
static inline struct cpumem *
counters_alloc_ncpus(struct cpumem *cm, unsigned int n)
{
	struct cpumem_priv_boot *b;
	struct cpumem *ncm;
	void *prev;

	if (!cpumem_priv_isboot(cm)) {
		percpu_priv_fail("counters_alloc_ncpus: not boot memory");
		return (cm);
	}
	b = cpumem_priv_boot(cm);
	if (n == 0 || n > cpumem_priv_cmax() ||
	    cpumem_priv_cbytes(n) != b->size) {
		percpu_priv_fail("counters_alloc_ncpus: n %u does not match "
				 "the boot counters' n %zu",
		    n, b->size / sizeof(uint64_t) - 1);
		return (cm);
	}
	if (percpu_in_section() != 0) {
		percpu_priv_fail(
		    "counters_alloc_ncpus: called inside a section");
		return (cm);
	}
	if ((ncm = counters_alloc(n)) == NULL)
		return (cm);
	if ((prev = cpumem_priv_upgrade(b, ncm)) != NULL) {
		counters_free(ncm, n);
		percpu_priv_fail(
		    "counters_alloc_ncpus: boot memory already upgraded");
		return ((struct cpumem *)prev);
	}
	return (ncm);
}
#else  /* !PERCPU_MP */
static inline struct cpumem *
counters_alloc_ncpus(struct cpumem *cm, unsigned int n)
{
	(void)n;
	return (cm);
}
#endif /* PERCPU_MP */

/*
 * counters_enter - begin an update of this CPU's counter set.
 *
 * Context: any; signal handlers only if blocked around the sections they
 *          may interrupt (see SIGNALS).  No nesting on the same @cm (a
 *          detected error).
 * Ordering: the section's acquire; the odd generation is ordered before
 *           the updates (release fence; pairs with counters_read()).
 * UP: returns @cm as the counters; no generation, no barrier (with a
 *     firmware port's interrupt mask: masks until counters_leave()).
 * Return: this CPU's counters (index 0 .. n-1), valid until
 *         counters_leave().
 */
#if PERCPU_MP
/*
 * counters_priv_enter - counters_enter(), which also returns the thread's
 * state in *@sp; with @asm_only (a constant) for a body of
 * cpumem_priv_inc() calls only (counters_add, counters_pkt).
 */
static inline PERCPU_PRIV_ENTER_INLINE uint64_t *
counters_priv_enter(struct counters_ref *ref, struct cpumem *cm, int asm_only,
    uint32_t *sp)
{
	uint32_t s;

	ref->c = (uint64_t *)cpumem_enter(cm);
	/* The outermost section (what the enter just stored, which the
	 * compiler knows after a first enter): the set is not open by this
	 * thread, no check. */
	*sp = s = PERCPU_PRIV_TD.state;
	if (PERCPU_LIKELY(
		(s & (PERCPU_PRIV_DEPTH | PERCPU_PRIV_BORROWED)) == 1)) {
		ref->g = cpumem_priv_open1(ref->c, asm_only);
		return (ref->c + 1);
	}
	ref->g = cpumem_priv_begin(ref->c);
	if (PERCPU_UNLIKELY(ref->g == 0))
		percpu_priv_fail("counters_enter: the counters are already "
				 "open on this CPU: a nested section on them "
				 "(block signals whose handlers update them "
				 "around the section), or one a thread exited "
				 "inside (reported then)");
	return (ref->c + 1);
}

static inline PERCPU_PRIV_ENTER_INLINE uint64_t *
counters_enter(struct counters_ref *ref, struct cpumem *cm)
{
	uint32_t s;

	return (counters_priv_enter(ref, cm, 0, &s));
}
#else  /* !PERCPU_MP */
static inline PERCPU_PRIV_ENTER_INLINE uint64_t *
counters_enter(struct counters_ref *ref, struct cpumem *cm)
{
	percpu_priv_up_enter();		 /* masks with a port; else plain */
	ref->c = (uint64_t *)(void *)cm; /* UP: no generation word */
	return (ref->c);
}
#endif /* PERCPU_MP */

/*
 * counters_leave - publish the updates and end the section.
 *
 * Context: the thread that entered, with the same @ref.
 * Ordering: the updates are ordered before the even generation (release
 *           fence; pairs with counters_read()); the section's release.
 * UP: nothing (with a firmware port's interrupt mask: unmasks).
 */
#if PERCPU_MP
/*
 * counters_priv_leave_asm - counters_leave() after a body of
 * cpumem_priv_inc() calls only, in the function that entered: @s is the
 * state counters_priv_enter() returned, the thread's state still (its
 * handlers restore it), which the compiler then need not reload after
 * the asm statements (they may alias it for all it knows).
 */
static inline PERCPU_PRIV_ENTER_INLINE void
counters_priv_leave_asm(struct counters_ref *ref, uint32_t s)
{
	if (PERCPU_LIKELY(ref->g != 0))
		cpumem_priv_close_asm(ref->c, ref->g);
	percpu_priv_leave_s(s, "counters_leave");
}

static inline PERCPU_PRIV_ENTER_INLINE void
counters_leave(struct counters_ref *ref, struct cpumem *cm)
{
	if (PERCPU_LIKELY(ref->g != 0))
		cpumem_priv_close(ref->c);
	(void)cm;
	percpu_priv_leave_as("counters_leave");
}
#else  /* !PERCPU_MP */
static inline PERCPU_PRIV_ENTER_INLINE void
counters_leave(struct counters_ref *ref, struct cpumem *cm)
{
	(void)ref;
	(void)cm;
	percpu_priv_up_leave_as("counters_leave");
}
#endif /* PERCPU_MP */

/*
 * counters_add - add @v to counter @c of this CPU, in one section.
 *
 * Context, Ordering: as counters_enter()/counters_leave().
 * UP: ((uint64_t *)cm)[c] += v.
 */
static inline PERCPU_PRIV_ENTER_INLINE void
counters_add(struct cpumem *cm, unsigned int c, uint64_t v)
{
	struct counters_ref ref;

#if PERCPU_MP
	uint32_t s;
	struct percpu_priv_pcpu *pc;
	size_t off;

	/* A quiet section where the lock sequence commits at once (see
	 * percpu_priv_qenter()); else a full one. */
	if (PERCPU_LIKELY(!cpumem_priv_isboot(cm)) &&
	    PERCPU_LIKELY(percpu_priv_qenter(&pc, &off) == 0)) {
		uint64_t *g = (uint64_t *)(void *)((char *)cm + off);

		uint64_t gv = cpumem_priv_qopen(g);

		cpumem_priv_add(g + 1, c, v);
		cpumem_priv_qclose(g, gv);
		percpu_priv_qleave(pc);
		return;
	}
	cpumem_priv_add(counters_priv_enter(&ref, cm, 1, &s), c, v);
	counters_priv_leave_asm(&ref, s);
#else
	counters_enter(&ref, cm)[c] += v;
	counters_leave(&ref, cm);
#endif
}

/* counters_inc / counters_dec - counters_add() of 1 / of -1 (mod 2^64). */
static inline PERCPU_PRIV_ENTER_INLINE void
counters_inc(struct cpumem *cm, unsigned int c)
{
	counters_add(cm, c, 1);
}

static inline PERCPU_PRIV_ENTER_INLINE void
counters_dec(struct cpumem *cm, unsigned int c)
{
	counters_add(cm, c, UINT64_MAX);
}

/*
 * counters_pkt - one packet: counter @pc += 1 and counter @bc += @bytes,
 * in one section (a reader sees both or neither).
 *
 * Context, Ordering: as counters_enter()/counters_leave().
 * UP: two plain adds.
 */
static inline PERCPU_PRIV_ENTER_INLINE void
counters_pkt(struct cpumem *cm, unsigned int pc, unsigned int bc,
    uint64_t bytes)
{
	struct counters_ref ref;
#if PERCPU_MP
	uint32_t s;
	struct percpu_priv_pcpu *held;
	size_t off;
	uint64_t *cs;

	/* As counters_add(). */
	if (PERCPU_LIKELY(!cpumem_priv_isboot(cm)) &&
	    PERCPU_LIKELY(percpu_priv_qenter(&held, &off) == 0)) {
		uint64_t *g = (uint64_t *)(void *)((char *)cm + off);

		uint64_t gv = cpumem_priv_qopen(g);

		cpumem_priv_add(g + 1, pc, 1);
		cpumem_priv_add(g + 1, bc, bytes);
		cpumem_priv_qclose(g, gv);
		percpu_priv_qleave(held);
		return;
	}
	cs = counters_priv_enter(&ref, cm, 1, &s);
	cpumem_priv_add(cs, pc, 1);
	cpumem_priv_add(cs, bc, bytes);
	counters_priv_leave_asm(&ref, s);
#else
	uint64_t *cs = counters_enter(&ref, cm);

	cs[pc]++;
	cs[bc] += bytes;
	counters_leave(&ref, cm);
#endif
}

/*
 * counters_read - @out[i] = counter i summed over every possible CPU.
 *
 * Context: thread context (with @scratch NULL it calls PERCPU_MALLOC);
 *          waits while a CPU's set is being updated.  @n must not exceed
 *          the allocation's count.
 * Ordering: each CPU's set is a consistent snapshot (generation protocol,
 *           see MEMORY ORDERING); the sum across CPUs is not atomic.
 * UP: a plain copy inside percpu_enter()/percpu_leave() (OpenBSD's
 *     splhigh(): a compiler barrier, or an interrupt mask where the port
 *     has one); @scratch is unused.
 * Return: nothing; @out[0..n) is overwritten (zero on a detected error).
 */
#if PERCPU_MP
static inline void
counters_read(struct cpumem *cm, uint64_t *out, unsigned int n,
    uint64_t *scratch)
{
	uint64_t *tmp = scratch;
	void *mem, *h;
	unsigned cpu, i;

	for (i = 0; i < n; i++)
		out[i] = 0;
	if (n == 0)
		return;
	if (tmp == NULL &&
	    (n > cpumem_priv_cmax() ||
		(tmp = (uint64_t *)percpu_priv_malloc(n * sizeof(*tmp))) ==
		    NULL)) {
		percpu_priv_fail("counters_read: out of memory for %u counters",
		    n);
		return;
	}
	if ((mem = cpumem_priv_bootmem(cm, &h)) != NULL) {
		cpumem_priv_snap((uint64_t *)mem, tmp, n, percpu_cpu_first());
		for (i = 0; i < n; i++)
			out[i] += tmp[i];
	} else {
		PERCPU_FOREACH_CPU(cpu) {
			cpumem_priv_snap((uint64_t *)percpu_ptr(h, cpu), tmp, n,
			    cpu);
			for (i = 0; i < n; i++)
				out[i] += tmp[i];
		}
	}
	if (tmp != scratch)
		percpu_priv_free(tmp);
}
#else  /* !PERCPU_MP */
static inline void
counters_read(struct cpumem *cm, uint64_t *out, unsigned int n,
    uint64_t *scratch)
{
	const uint64_t *c = (const uint64_t *)(void *)cm;
	unsigned int i;

	(void)scratch;
	(void)percpu_enter(); /* splhigh() */
	for (i = 0; i < n; i++)
		out[i] = c[i];
	percpu_leave();
}
#endif /* PERCPU_MP */

/*
 * counters_read(cm, out, n) - the pre-2023 three-argument form (OpenBSD
 * before scratch): the four-argument function with @scratch NULL.  The
 * macro picks by the argument count; counters_read without arguments
 * (its address) is the four-argument function.
 */
#define CPUMEM_PRIV_ARG5(a, b, c, d, e, ...) e
#define counters_read(...)                                       \
 CPUMEM_PRIV_ARG5(__VA_ARGS__, counters_read, cpumem_priv_read3, \
     counters_read_needs_3_or_4_arguments)                       \
 (__VA_ARGS__)

/* The three-argument form. */
static inline void
cpumem_priv_read3(struct cpumem *cm, uint64_t *out, unsigned int n)
{
	(counters_read)(cm, out, n, NULL); /* the function, not the macro */
}

/*
 * counters_read_cpu - (ext) CPU @cpu's @n counters as a consistent
 * snapshot.
 *
 * Context: any; waits while that CPU's set is being updated (by
 *          another thread: a set the caller's own thread holds open is
 *          read as it stands, see CONTEXT).
 * Ordering: as counters_read() for one CPU.
 * UP: @cpu 0 only; counters_read().
 * Return: 0; -1 if @cpu is not a possible CPU (then @out is untouched).
 *         MP boot counters before the upgrade: the boot CPU has the boot
 *         values, the other possible CPUs read as zero.
 */
#if PERCPU_MP
static inline int
counters_read_cpu(struct cpumem *cm, unsigned int cpu, uint64_t *out,
    unsigned int n)
{
	void *mem, *h;
	unsigned i;

	if (!percpu_cpu_possible(cpu))
		return (-1);
	if ((mem = cpumem_priv_bootmem(cm, &h)) == NULL)
		cpumem_priv_snap((uint64_t *)percpu_ptr(h, cpu), out, n, cpu);
	else if (cpu == percpu_cpu_first())
		cpumem_priv_snap((uint64_t *)mem, out, n, cpu);
	else
		for (i = 0; i < n; i++)
			out[i] = 0;
	return (0);
}
#else  /* !PERCPU_MP */
static inline int
counters_read_cpu(struct cpumem *cm, unsigned int cpu, uint64_t *out,
    unsigned int n)
{
	if (cpu != 0)
		return (-1);
	(counters_read)(cm, out, n, NULL); /* the function, not the macro */
	return (0);
}
#endif /* PERCPU_MP */

/*
 * counters_zero - zero the @n counters of every possible CPU.
 *
 * Context: any.  Outside a section it enters each CPU's section in turn
 *          (waiting for its current holder); inside one it cannot take
 *          other CPUs and zeroes unserialized, as OpenBSD does (updates
 *          that run meanwhile may survive or be half-zeroed).  So does a
 *          signal handler whose thread is inside a section or inside
 *          percpu_enter()/percpu_leave(): waiting for other CPUs there
 *          could deadlock with another such handler (it never hangs).
 * Ordering: outside a section, each CPU's zero is a generation like an
 *           update: readers see the set before or after it.
 * UP: plain stores inside percpu_enter()/percpu_leave() (splhigh()).
 */
#if PERCPU_MP
static inline void
counters_zero(struct cpumem *cm, unsigned int n)
{
	/* Not inside a section, nor a signal handler whose thread was
	 * inside percpu_enter()/percpu_leave(): waiting for other CPUs
	 * could deadlock there (two such handlers wait for each other). */
	int locked = percpu_priv_held() == PERCPU_NOCPU;
	void *mem, *h;
	unsigned cpu;

	if (cpumem_priv_bootmem(cm, &h) != NULL) {
		/* Boot counters: their writers hold the boot CPU. */
		if (locked)
			(void)percpu_enter_cpu(percpu_cpu_first());
		mem = cpumem_priv_bootmem(cm, &h); /* upgraded meanwhile? */
		if (mem != NULL)
			cpumem_priv_zero_set((uint64_t *)mem, n, locked);
		if (locked)
			percpu_leave();
		if (mem != NULL)
			return;
	}
	PERCPU_FOREACH_CPU(cpu) {
		if (locked)
			(void)percpu_enter_cpu(cpu);
		cpumem_priv_zero_set((uint64_t *)percpu_ptr(h, cpu), n, locked);
		if (locked)
			percpu_leave();
	}
}
#else  /* !PERCPU_MP */
static inline void
counters_zero(struct cpumem *cm, unsigned int n)
{
	uint64_t *c = (uint64_t *)(void *)cm;
	unsigned int i;

	(void)percpu_enter(); /* splhigh() */
	for (i = 0; i < n; i++)
		c[i] = 0;
	percpu_leave();
}
#endif /* PERCPU_MP */

PERCPU_END_DECLS

#endif /* CPUMEM_H */

#ifdef PERCPU_IMPLEMENTATION
#include "percpu/whole.h" /* one switch: the whole implementation */
#endif
