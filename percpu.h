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
 *		uint64_t *p = percpu_getref(hits);  // this CPU's copy
 *		(*p)++;                             // no other thread has it
 *		percpu_putref(hits);
 *		percpu_foreach(hits, sum_cb, &total);  // every possible CPU
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
 *		NetBSD's dense index, [0, ncpu), ascending with the CPU id
 *		(ids may be sparse; the id is ci->ci_index).
 *	struct cpu_info *cpu_lookup(unsigned idx)
 *		The CPU of index @idx, NULL for idx >= ncpu.
 *	struct cpu_info *percpu_curcpu_info(void)
 *		NetBSD's curcpu() (the held CPU inside a section).
 *	CPU_INFO_ITERATOR cii; for (CPU_INFO_FOREACH(cii, ci)) ...
 *		Every CPU, in cpu_index() order.
 *	kpreempt_disable() / kpreempt_enable() / int kpreempt_disabled()
 *		An exclusive section on this CPU (percpu_enter/leave) and
 *		its test, for KASSERTs (UP: see kpreempt_disabled()).
 *	uint64_t xc_broadcast(unsigned flags, xcfunc_t f, void *a1, void *a2)
 *	uint64_t xc_unicast(unsigned flags, xcfunc_t f, void *a1, void *a2,
 *	    struct cpu_info *ci)
 *	void xc_wait(uint64_t where)
 *		xcall(9): f(a1, a2) runs as each CPU (as @ci), inside that
 *		CPU's exclusive section, synchronously; xc_wait returns at
 *		once.  Thread context, outside any section.
 *	The kernel globals curcpu() and ncpu, whose names would clash with
 *	FreeBSD's curcpu (dpcpu.h), come from the compat tree:
 *	-I<toolkit>/compat/netbsd, <sys/cpu.h> (README, Porting kernel code).
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
 *	section, as NetBSD needs splraise().  A handler must not jump out
 *	(siglongjmp) of a toolkit call it interrupted: as for any function
 *	that is not async-signal-safe (POSIX), what that call had begun
 *	(a CPU taken, a wait counted) is never undone.  Callbacks of foreach
 *	and foreach_xcall must not sleep or call the toolkit's allocators;
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

PERCPU_BEGIN_DECLS /* C++: extern "C" up to the end of this header */

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
 * cpu_index - NetBSD's index of the CPU @ci describes: dense, in
 * [0, ncpu) even where the CPU ids are sparse (ascending with the id), so
 * that arrays sized by ncpu may be indexed by it.  The CPU id itself is
 * ci->ci_index (percpu/core.h).
 *
 * Context: any.
 * UP: 0.
 * Return: an index in [0, percpu_ncpus()).
 */
static inline unsigned
cpu_index(const struct cpu_info *ci)
{
	return (ci->ci_unit);
}

/*
 * cpu_lookup - the descriptor of the CPU whose cpu_index() is @idx.
 *
 * Context: any.
 * UP: the one CPU for @idx 0.
 * Return: the descriptor, or NULL if @idx >= ncpu.
 */
static inline struct cpu_info *
cpu_lookup(unsigned idx)
{
#if PERCPU_MP
	if (idx >= percpu_ncpus())
		return (NULL);
	return (&percpu_priv_g.ci[idx]);
#else
	return (idx == 0 ? percpu_cpu_info(0) : NULL);
#endif
}

/*
 * percpu_curcpu_info - NetBSD's curcpu(): the descriptor of the CPU the
 * caller holds (inside a section: kpreempt_disable(), percpu_getref(),
 * an xcall), else of the CPU it runs on now (stale at once).
 *
 * Context: any.
 * UP: the one CPU.
 * Return: never NULL.
 */
static inline struct cpu_info *
percpu_curcpu_info(void)
{
	return (percpu_cpu_info(percpu_curcpu()));
}

/*
 * CPU_INFO_FOREACH(cii, ci) - NetBSD's walk over every CPU, the inside of
 * a for: `for (CPU_INFO_FOREACH(cii, ci)) body`.  @ci takes each
 * descriptor in cpu_index() order; @cii is a CPU_INFO_ITERATOR.
 */
typedef unsigned CPU_INFO_ITERATOR;
#define CPU_INFO_FOREACH(cii, ci) \
 (cii) = 0, (ci) = cpu_lookup(0); \
 (ci) != NULL;                    \
 (ci) = cpu_lookup(++(cii))

/*
 * kpreempt_disable - stay on this CPU until kpreempt_enable(): an
 * exclusive section (percpu_enter()), so curcpu() and the slots of
 * percpu_getref() stay this CPU's, and no other thread gets the CPU.
 *
 * Context: anywhere, signal handlers included; nestable.
 * Ordering: acquire; pairs with kpreempt_enable() of the CPU's previous
 *           holder.
 * UP: a compiler barrier.
 */
static inline void
kpreempt_disable(void)
{
	(void)percpu_enter();
}

/*
 * kpreempt_enable - end the innermost kpreempt_disable().
 *
 * Context: the thread that disabled.
 * Ordering: release; pairs with the next holder's kpreempt_disable().
 * UP: a compiler barrier.
 */
static inline void
kpreempt_enable(void)
{
	percpu_leave();
}

/*
 * kpreempt_disabled - is the caller inside a section (kpreempt_disable,
 * percpu_getref, an xcall, any face's section)?  For KASSERTs.
 *
 * Context: any.
 * UP: the section depth where the UP build tracks it (PERCPU_DEBUG=1);
 *     otherwise 1: one thread of control is never preempted by another
 *     user of the toolkit (see the README, UP).
 * Return: nonzero inside a section.
 */
static inline int
kpreempt_disabled(void)
{
#if PERCPU_MP || PERCPU_DEBUG
	return (percpu_in_section() != 0);
#else
	return (1);
#endif
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
				 "every CPU (limit %u%s)",
		    size, (unsigned)PERCPU_UNIT_SIZE,
		    percpu_priv_limit_hint(size, PERCPU_UNIT_SIZE));
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
	/* Before any read of *pc: freed memory is never read. */
	if (percpu_priv_freed(pc)) {
		percpu_priv_fail("percpu_free: double free of %p", (void *)pc);
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
	/* Noted before the free: the address cannot be reused before. */
	percpu_priv_freed_note(pc);
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
static inline PERCPU_PRIV_ENTER_INLINE void *
percpu_getref(percpu_t *pc)
{
	if (PERCPU_UNLIKELY(pc == NULL)) {
		percpu_priv_fail("percpu_getref: NULL handle");
		return (NULL);
	}
	return (percpu_priv_enter_ptr(pc->pc_base));
}

/*
 * percpu_putref - leave the section percpu_getref() entered.
 *
 * Context: the thread that called percpu_getref().
 * Ordering: release; pairs with the next percpu_getref() on that CPU.
 * UP: a compiler barrier.
 */
static inline PERCPU_PRIV_ENTER_INLINE void
percpu_putref(percpu_t *pc)
{
	if (PERCPU_UNLIKELY(pc == NULL)) {
		percpu_priv_fail("percpu_putref: NULL handle");
		return;
	}
	percpu_priv_leave_as("percpu_putref");
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
	return (percpu_ptr(pc->pc_base, ci->ci_index));
}

/* ---- xcall(9): run a function as each CPU ---- */

typedef void (*xcfunc_t)(void *, void *);

/* Flags: accepted and ignored (there are no IPLs here). */
#define XC_HIGHPRI 0x01u
#define XC_HIGHPRI_IPL(ipl) (XC_HIGHPRI | ((unsigned)(ipl) << 8))

/*
 * percpu_priv_xc_on - run @func(@arg1, @arg2) as CPU @cpu: inside that
 * CPU's exclusive section, so curcpu() is that CPU, percpu_getref()
 * returns its slots, and the call is serialized with its own sections.
 *
 * Return: 0, or -1 if the section could not be entered (a detected
 *         error: the caller is inside a section).
 */
static inline int
percpu_priv_xc_on(unsigned cpu, xcfunc_t func, void *arg1, void *arg2)
{
	if (percpu_enter_cpu(cpu) == PERCPU_NOCPU)
		return (-1);
	func(arg1, arg2);
	percpu_leave();
	return (0);
}

/*
 * xc_broadcast - run @func(@arg1, @arg2) as every CPU, one after the
 * other, in ascending id; returns when all have run.
 *
 * Context: thread context, outside any section (NetBSD: not with
 *          preemption disabled); @func must not sleep; it runs inside
 *          the CPU's section and may nest others (percpu_getref()).
 * Ordering: each call is inside that CPU's section: acquire before,
 *           release after (pairs with the CPU's own holders).
 * UP: one call between compiler barriers.
 * Return: a ticket for xc_wait() (the calls are already done).
 */
static inline uint64_t
xc_broadcast(unsigned flags, xcfunc_t func, void *arg1, void *arg2)
{
	unsigned cpu;

	(void)flags;
	PERCPU_FOREACH_CPU(cpu) {
		if (percpu_priv_xc_on(cpu, func, arg1, arg2) != 0)
			break;
	}
	return (1);
}

/*
 * xc_unicast - run @func(@arg1, @arg2) as the CPU @ci describes.
 *
 * Context, Ordering, UP: as xc_broadcast().
 * Return: a ticket for xc_wait() (the call is already done).
 */
static inline uint64_t
xc_unicast(unsigned flags, xcfunc_t func, void *arg1, void *arg2,
    struct cpu_info *ci)
{
	(void)flags;
	(void)percpu_priv_xc_on(ci->ci_index, func, arg1, arg2);
	return (1);
}

/*
 * xc_wait - wait for the cross-call @where: the calls here are
 * synchronous, so it returns at once.
 *
 * Context: thread context.
 */
static inline void
xc_wait(uint64_t where)
{
	(void)where;
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

PERCPU_END_DECLS

#endif /* PERCPU_H */

#ifdef PERCPU_IMPLEMENTATION
#include "percpu/whole.h" /* one switch: the whole implementation */
#endif
