/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu.h - NetBSD percpu(9) for userspace C11 and multi-core firmware.
 *
 * USAGE
 *	In exactly one .c file of the program:
 *
 *		#define PERCPU_IMPLEMENTATION
 *		#include "percpu.h"
 *
 *	everywhere else just #include "percpu.h".  Then:
 *
 *		percpu_t *hits = percpu_alloc(sizeof(uint64_t));
 *		uint64_t *p = percpu_getref(hits);	// this CPU's copy
 *		(*p)++;					// no other thread has
 *it percpu_putref(hits); percpu_foreach(hits, sum_cb, &total);	// every
 *possible CPU
 *
 *	No registration: any thread may call any function.  Threads may
 *	outnumber CPUs.
 *
 * CONFIGURATION (percpu/config.h has the full list)
 *	PERCPU_MP=0	uniprocessor build: same API, sections are compiler
 *			barriers, handles point at the memory.  Global.
 *	PERCPU_MD	port: PERCPU_MD_LINUX (default on Linux) or
 *			PERCPU_MD_SIM (simulated CPUs, for tests).  Global.
 *	PERCPU_MALLOC / PERCPU_FREE	bookkeeping allocator.
 *			Implementation file only.
 *
 * API (NetBSD percpu(9) names and semantics)
 *	percpu_t *percpu_alloc(size_t size)
 *		Reserve @size bytes on every possible CPU, zero-filled.
 *	percpu_t *percpu_create(size_t size, percpu_callback_t ctor,
 *	    percpu_callback_t dtor, void *cookie)
 *		As percpu_alloc; then for each CPU ctor(buf, cookie, ci) runs
 *		in the calling thread on a zeroed buffer that is then copied
 *		into that CPU's slot.  dtor runs at free, on a copy.
 *	void percpu_free(percpu_t *pc, size_t size)
 *		@size must be the allocation's size: a mismatch is a detected
 *		error and nothing is freed.  With a dtor: for each CPU the slot
 *		is copied out, zeroed, and dtor(copy, cookie, ci) called.
 *	void *percpu_getref(percpu_t *pc) / void percpu_putref(percpu_t *pc)
 *		An exclusive section on the current CPU: until putref no other
 *		thread gets that CPU's slot of any object.  Nestable, across
 *		objects too.  The pointer is valid only until putref.
 *	void percpu_foreach(percpu_t *pc, percpu_callback_t cb, void *arg)
 *		cb(p, arg, ci) in the caller for every possible CPU, in
 *		ascending id, without synchronization with the updaters.
 *	void percpu_foreach_xcall(percpu_t *pc, u_int xcflags,
 *	    percpu_callback_t cb, void *arg)
 *		cb runs "as" each CPU in turn: inside that CPU's exclusive
 *		section, so it is serialized with the CPU's own updaters (a
 *		consistent read of a multi-word slot).  xcflags is accepted
 *		and ignored (there are no IPLs here).
 *	unsigned cpu_index(const struct cpu_info *ci)
 *	void *percpu_getptr_remote(percpu_t *pc, struct cpu_info *ci)
 *	void percpu_traverse_enter(void) / percpu_traverse_exit(void)
 *		Storage never moves here, so these are no-ops kept for source
 *		compatibility.
 *
 *	The core under it (percpu/core.h): percpu_enter/leave (a section
 *	without an object), percpu_curcpu, percpu_maxcpu, percpu_ncpus,
 *	PERCPU_FOREACH_CPU, percpu_backend, percpu_set_error_handler.
 *
 * ERRORS
 *	Misuse is detected and reported through the error handler (default:
 *	print "percpu: <function>: <what>" to stderr and abort; see
 *	percpu_set_error_handler()).  If a handler returns, the call does
 *	this: percpu_alloc/create return NULL (size 0, size over
 *	PERCPU_UNIT_SIZE, out of memory: NetBSD's percpu_alloc cannot fail,
 *	so by default these abort); percpu_free with a NULL handle or a
 *	wrong size frees nothing; percpu_getref(NULL) returns NULL without
 *	entering; percpu_putref(NULL) does not leave; foreach and
 *	foreach_xcall with a NULL handle do nothing; foreach_xcall inside a
 *	section does nothing.
 *
 * CONTEXT
 *	alloc, create, free, foreach, foreach_xcall: thread context (not
 *	in a signal handler).  getref/putref: anywhere, signal handlers
 *	included; a handler that interrupts a section of its own thread
 *	nests on the same CPU and shares its slots (it never deadlocks), so
 *	data also updated by handlers needs the signal blocked around the
 *	section, as NetBSD needs splraise().  Callbacks of foreach and
 *	foreach_xcall must not sleep or call the toolkit's allocators;
 *	foreach_xcall must not be called inside a section.
 *
 * UP (PERCPU_MP=0)
 *	Sections are compiler barriers and a handle is the memory.
 *	UP assumes one thread of control per core, plus the handlers the
 *	port masks (or the program blocks around sections): two threads that
 *	use the toolkit at the same time lose updates silently, even on a
 *	single-core machine.  A multithreaded program uses the MP build there
 *	too.  -DPERCPU_DEBUG=1 tracks UP sections: a second thread inside one
 *	is reported through the error handler, and percpu_in_section() gives
 *	the calling thread's depth (README, "What UP assumes").
 *
 * MEMORY ORDERING
 *	getref has acquire and putref release semantics on the CPU's
 *	section: what one thread wrote in a CPU's slot is visible to the next
 *	thread that gets the same CPU, and to foreach_xcall.  percpu_foreach
 *	reads remote slots with no ordering (use foreach_xcall, or atomics,
 *	for values wider than a word).
 */
#ifndef PERCPU_H
#define PERCPU_H

#include "percpu/core.h"

/* ---- Types (identical MP and UP) ---- */

typedef struct percpu percpu_t;
typedef void (*percpu_callback_t)(void *, void *, struct cpu_info *);

struct percpu {
	void *pc_base; /* core handle: the unit-0 copy (UP: the memory) */
	size_t pc_size;
	percpu_callback_t pc_dtor;
	void *pc_cookie;
};

/* ---- The face: a few lines each over the core ---- */

/*
 * cpu_index - the id of the CPU @ci describes.
 *
 * Context: any.
 * Return: an id in [0, percpu_maxcpu()).
 */
static inline unsigned
cpu_index(const struct cpu_info *ci)
{
	return (ci->ci_index);
}

/*
 * percpu_create - reserve @size bytes per CPU, initialized by @ctor.
 *
 * Context: thread context.  @ctor and @dtor may sleep; they run in the
 *          calling thread (not on the CPU they initialize).
 * Ordering: the handle publishes the initialized slots to whoever
 *           receives it through a lock or release/acquire.
 * UP: one slot.
 * Return: the handle; NULL only if the error handler returns (see
 *         ERRORS).
 */
static inline percpu_t *
percpu_create(size_t size, percpu_callback_t ctor, percpu_callback_t dtor,
    void *cookie)
{
	percpu_t *pc;
	void *buf;
	unsigned cpu;

	if (size == 0) {
		percpu_priv_fail("percpu_alloc: size 0");
		return (NULL);
	}
	pc = (percpu_t *)percpu_priv_malloc(sizeof(*pc));
	buf = ctor != NULL ? percpu_priv_malloc(size) : NULL;
	if (pc == NULL || (ctor != NULL && buf == NULL) ||
	    (pc->pc_base = percpu_priv_zalloc(size, 0)) == NULL) {
		percpu_priv_free(buf);
		percpu_priv_free(pc);
		percpu_priv_fail("percpu_alloc: cannot reserve %zu bytes on "
				 "every CPU (limit %u)",
		    size, (unsigned)PERCPU_UNIT_SIZE);
		return (NULL);
	}
	pc->pc_size = size;
	pc->pc_dtor = dtor;
	pc->pc_cookie = cookie;
	if (ctor != NULL) {
		PERCPU_FOREACH_CPU(cpu) {
			memset(buf, 0, size);
			ctor(buf, cookie, percpu_cpu_info(cpu));
			memcpy(percpu_ptr(pc->pc_base, cpu), buf, size);
		}
		percpu_priv_free(buf);
	}
	return (pc);
}

/*
 * percpu_alloc - reserve @size zero-filled bytes on every possible CPU.
 *
 * Context: thread context.
 * UP: one zeroed buffer.
 * Return: the handle (see percpu_create()).
 */
static inline percpu_t *
percpu_alloc(size_t size)
{
	return (percpu_create(size, NULL, NULL, NULL));
}

/*
 * percpu_free - release @pc, whose size must be @size.
 *
 * Context: thread context; no thread may still hold a reference.
 * UP: one slot.
 * Return: nothing.  A NULL @pc or a wrong @size is a detected error and
 *         frees nothing.
 */
static inline void
percpu_free(percpu_t *pc, size_t size)
{
	void *buf = NULL;
	unsigned cpu;

	if (pc == NULL) {
		percpu_priv_fail("percpu_free: NULL handle");
		return;
	}
	if (size != pc->pc_size) {
		percpu_priv_fail("percpu_free: size %zu does not match the "
				 "allocated size %zu",
		    size, pc->pc_size);
		return;
	}
	if (pc->pc_dtor != NULL && (buf = percpu_priv_malloc(size)) == NULL) {
		percpu_priv_fail(
		    "percpu_free: out of memory for the dtor copy");
		return;
	}
	if (buf != NULL) {
		PERCPU_FOREACH_CPU(cpu) {
			void *p = percpu_ptr(pc->pc_base, cpu);

			memcpy(buf, p, size);
			memset(p, 0, size);
			pc->pc_dtor(buf, pc->pc_cookie, percpu_cpu_info(cpu));
		}
		percpu_priv_free(buf);
	}
	if (percpu_priv_zfree(pc->pc_base, size, NULL) != PERCPU_PRIV_OK)
		percpu_priv_fail("percpu_free: corrupt handle");
	percpu_priv_free(pc);
}

/*
 * percpu_getref - enter this CPU's exclusive section and return its copy.
 *
 * Context: any, signal handlers included (see CONTEXT).
 * Ordering: acquire; pairs with percpu_putref().
 * UP: a compiler barrier; the one copy.
 * Return: the current CPU's copy, valid until percpu_putref().
 */
static inline void *
percpu_getref(percpu_t *pc)
{
	if (PERCPU_UNLIKELY(pc == NULL)) {
		percpu_priv_fail("percpu_getref: NULL handle");
		return (NULL);
	}
	(void)percpu_enter();
	return (percpu_cur_ptr(pc->pc_base));
}

/*
 * percpu_putref - leave the section percpu_getref() entered.
 *
 * Context: the thread that called percpu_getref().
 * Ordering: release; pairs with the next percpu_getref() on that CPU.
 * UP: a compiler barrier.
 */
static inline void
percpu_putref(percpu_t *pc)
{
	if (PERCPU_UNLIKELY(pc == NULL)) {
		percpu_priv_fail("percpu_putref: NULL handle");
		return;
	}
	percpu_leave();
}

/*
 * percpu_foreach - call @cb(p, @arg, ci) for every possible CPU's copy.
 *
 * Context: thread context; @cb must not sleep or allocate per-CPU memory.
 * Ordering: none: remote slots are read as they are.
 * UP: one call.
 */
static inline void
percpu_foreach(percpu_t *pc, percpu_callback_t cb, void *arg)
{
	unsigned cpu;

	if (pc == NULL) {
		percpu_priv_fail("percpu_foreach: NULL handle");
		return;
	}
	PERCPU_FOREACH_CPU(cpu)
		cb(percpu_ptr(pc->pc_base, cpu), arg, percpu_cpu_info(cpu));
}

/*
 * percpu_foreach_xcall - run @cb as each CPU in turn.
 *
 * Context: thread context, outside any section; @cb must not sleep.
 * Ordering: each call runs inside that CPU's exclusive section: acquire
 *           before, release after; serialized with its updaters.
 * UP: one call between compiler barriers.
 */
static inline void
percpu_foreach_xcall(percpu_t *pc, unsigned xcflags, percpu_callback_t cb,
    void *arg)
{
	unsigned cpu;

	(void)xcflags;
	if (pc == NULL) {
		percpu_priv_fail("percpu_foreach_xcall: NULL handle");
		return;
	}
	PERCPU_FOREACH_CPU(cpu) {
		if (percpu_enter_cpu(cpu) == PERCPU_NOCPU)
			return;
		cb(percpu_cur_ptr(pc->pc_base), arg, percpu_cpu_info(cpu));
		percpu_leave();
	}
}

/*
 * percpu_getptr_remote - CPU @ci's copy, with no synchronization.
 *
 * Context: any; see percpu_foreach().
 * Return: the copy, or NULL if @ci names no possible CPU.
 */
static inline void *
percpu_getptr_remote(percpu_t *pc, struct cpu_info *ci)
{
	return (percpu_ptr(pc->pc_base, cpu_index(ci)));
}

/* Storage never moves here: nothing to hold off.  NetBSD compatibility. */
static inline void
percpu_traverse_enter(void)
{
}

static inline void
percpu_traverse_exit(void)
{
}

#endif /* PERCPU_H */
