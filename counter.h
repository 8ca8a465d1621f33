/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * counter.h - FreeBSD counter(9): lossless per-CPU 64-bit counters, for
 * userspace C11 and multi-core firmware.
 *
 * USAGE
 *	In exactly one .c file of the program (the one that defines the
 *	toolkit's state; any one header of the toolkit there emits the whole
 *	implementation, counter(9)'s part included):
 *
 *		#define PERCPU_IMPLEMENTATION
 *		#include "counter.h"
 *
 *	everywhere else just #include "counter.h".  Then:
 *
 *		counter_u64_t rx = counter_u64_alloc(M_WAITOK);
 *		counter_u64_add(rx, 1);			// any thread, any time
 *		printf("%ju\n", (uintmax_t)counter_u64_fetch(rx));
 *		counter_u64_zero(rx);
 *		counter_u64_free(rx);
 *
 *	or, with no allocation call at all (file scope):
 *
 *		COUNTER_U64_DEFINE_EARLY(drops);	// usable at once
 *
 * CONFIGURATION
 *	The core's (percpu/config.h), all global; and
 *	COUNTER_RATE_NOW_NS()	per translation unit that calls
 *			counter_ratecheck(): a monotonic clock in nanoseconds
 *			(int64_t).  Default where the port has a clock
 *			(Linux, MP and UP builds): percpu_md_now_ns(),
 *			CLOCK_MONOTONIC.  Elsewhere define it,
 *			or counter_ratecheck() is not available.  Tests use
 *			it to drive the clock by hand.
 *	COUNTER_HZ	ticks per second of counter_ticks() (FreeBSD's hz);
 *			default 1000.  Global.
 *
 * API (FreeBSD names and semantics)
 *	counter_u64_t counter_u64_alloc(int flags)
 *		A counter, zero on every possible CPU.  flags: M_WAITOK (never
 *		returns NULL: a failure is reported through the error handler,
 *		then abort()) or M_NOWAIT (NULL on failure); M_ZERO is
 *		accepted and implied.
 *	void counter_u64_free(counter_u64_t c)
 *		NULL is a no-op.  No add, fetch or zero may still run on @c.
 *	void counter_u64_add(counter_u64_t c, int64_t v)
 *		A negative @v decrements.  Never lost: not under migration,
 *		preemption, nor a signal handler that adds to the same
 *		counter (see UP for the uniprocessor build).
 *	uint64_t counter_u64_fetch(counter_u64_t c)
 *		The sum over every possible CPU.  Not a snapshot (FreeBSD:
 *		"not guaranteed to reflect the real cumulative value for any
 *		moment"), never a torn 64-bit read, exact at quiescence.
 *	void counter_u64_zero(counter_u64_t c)
 *		Zero the counter.  An add that begins after zero returns is
 *		always counted; an add that finished before zero began never
 *		is; an in-flight add is counted or not, but never undoes the
 *		zero (see HOW ZERO WORKS).
 *	counter_enter() / counter_u64_add_protected(c, v) / counter_exit()
 *		Batch adds inside one exclusive per-CPU section (FreeBSD's
 *		critical section): the adds go to the held CPU's slot.
 *	COUNTER_ARRAY_ALLOC(a, n, flags) / COUNTER_ARRAY_FREE(a, n) /
 *	COUNTER_ARRAY_COPY(a, dstp, n) / COUNTER_ARRAY_ZERO(a, n)
 *		The same over the array a[0..n): ALLOC may leave NULLs with
 *		M_NOWAIT, FREE sets every element to NULL, COPY fetches into
 *		the uint64_t array at dstp.
 *	COUNTER_U64_DEFINE_EARLY(c)
 *		Define `counter_u64_t c` (file scope; may be preceded by
 *		static) that works with no allocation call: from main(), from
 *		constructors, from any thread.  See EARLY COUNTERS.
 *	COUNTER_U64_SYSINIT(c)
 *		After `counter_u64_t c;` at file scope: c is allocated before
 *		main() (a constructor, GCC and Clang).
 *	void counter_u64_sysinit(void *cp) / counter_u64_sysuninit(void *cp)
 *		Allocate / free (and NULL) the counter at cp, as FreeBSD's
 *		SYSINIT/SYSUNINIT handlers.
 *	int64_t counter_ratecheck(struct counter_rate *cr, int64_t limit)
 *		Count one event in the current window.  Return: 0 while the
 *		window's events are within @limit; -1 once they are over it;
 *		when a new window starts after a window that went over the
 *		limit, the number of events of that previous window (> 0).
 *		Either FreeBSD's older visible struct counter_rate (cr_rate a
 *		counter, allocated or early; cr_lock, cr_ticks, cr_over int,
 *		zero or cr_ticks = ticks; a one-second window of hz ticks),
 *	struct counter_rate *counter_rate_alloc(int flags, int period)
 *	uint64_t counter_rate_get(struct counter_rate *cr)
 *	void counter_rate_free(struct counter_rate *cr)
 *		or the current page's allocated one: a window of @period
 *		seconds; get is the current window's events.
 *	int counter_ticks(void)  COUNTER_HZ
 *		FreeBSD's ticks and hz (int ticks since an arbitrary start,
 *		wrapping; compat/freebsd/sys/kernel.h names them ticks, hz).
 *
 * MEMORY ORDERING
 *	Adds are relaxed atomic read-modify-writes: they order nothing else.
 *	fetch pairs with zero (acquire on each CPU's baseline, release in
 *	zero); it gives no ordering against adds.  Handles are published
 *	like any pointer (a lock, or release/acquire).
 *
 * CONTEXT
 *	add, add_protected, enter/exit: anywhere, signal handlers included
 *	(after the counter's first use for an early counter).  fetch: any
 *	thread, signal handlers too.  alloc, free, zero, the array macros,
 *	ratecheck: thread context (zero takes a mutex; alloc and free the
 *	arena lock).
 *
 * UP (PERCPU_MP=0)
 *	The handle is the memory: add is one plain add, fetch one
 *	subtraction, counter_enter/exit compiler barriers, an early
 *	counter plain static memory.  A plain add is not atomic against a
 *	signal handler or interrupt that adds to the same counter (FreeBSD:
 *	"any non-interrupt context"): mask the signal (interrupt) around
 *	the thread's adds in that case.  With a firmware port's interrupt
 *	mask (PERCPU_MD_HAS_IRQ) the toolkit does that itself: add, fetch
 *	and zero mask around their words, enter/exit mask as every
 *	section, so handlers may use the counter as on MP.
 *	UP assumes one thread of control per core, plus the handlers the
 *	port masks (or the program blocks around sections): two threads that
 *	use the toolkit at the same time lose updates silently, even on a
 *	single-core machine.  A multithreaded program uses the MP build there
 *	too.  -DPERCPU_DEBUG=1 tracks UP sections: a second thread inside one
 *	is reported through the error handler, and percpu_in_section() gives
 *	the calling thread's depth (README, "What UP assumes").
 *
 * WORDS AND RULES (MP)
 *	Each CPU's copy of a counter is two 64-bit words (16 bytes per CPU):
 *	  cs_count  local-add-only (percpu_local_add64() in the core): a
 *	            restartable sequence on the CPU it belongs to (backend
 *	            "rseq"), or a relaxed atomic add by whatever thread ran
 *	            there last ("getcpu", "sim"); one rule per process.
 *	            Relaxed loads by fetch and zero.  No other store from
 *	            any CPU: zero never writes it.
 *	  cs_base   written only by counter_u64_zero() (release store, zeros
 *	            serialized by one mutex), read by fetch (acquire load).
 *	The value is the sum over CPUs of cs_count - cs_base, modulo 2^64 (a
 *	decrement on one CPU and an increment on another cancel).  64-bit
 *	atomics are never torn, on 32-bit targets too; where they are not
 *	lock-free (ATOMIC_LLONG_LOCK_FREE != 2, some 32-bit MCUs) the
 *	compiler's libatomic takes a lock, and then an add in a signal
 *	handler is not safe.
 *
 * HOW ZERO WORKS
 *	FreeBSD zeroes each CPU's slot from that CPU (smp_rendezvous):
 *	a remote store would race the owner's read-modify-write.  Here zero
 *	never writes a slot: it records each CPU's current count as that
 *	CPU's baseline, and fetch subtracts the baselines.  An in-flight add
 *	lands in cs_count after or before the zero read it, so it is counted
 *	or not, and cannot resurrect the old value.  A fetch that runs
 *	concurrently with a zero reads each CPU's baseline (acquire) before
 *	its count: the count it then reads is never older than the one that
 *	baseline was taken from (the zero's load happens before the fetch's),
 *	so each CPU's term is what that CPU added since a zero: with only
 *	increments a fetch never goes below the adds that began after the
 *	last completed zero, and never wraps to "negative" garbage.
 *
 * EARLY COUNTERS
 *	FreeBSD's COUNTER_U64_DEFINE_EARLY points the counter at a dummy
 *	until a SYSINIT allocates it, and adds before that are lost.  There
 *	is no SYSINIT here (no global constructors), so instead the handle is
 *	a tagged address of a small static record: an arena handle is 16-byte
 *	aligned, an early handle is 8 mod 16.  The first operation on the
 *	counter allocates its per-CPU storage (M_WAITOK) and publishes it in
 *	the record with a compare-and-swap (a racing loser frees its own);
 *	from then on each operation pays one predictable branch and one
 *	load.  No add is ever lost.  The first operation must not be in a
 *	signal handler (it allocates).  An early counter is never freed
 *	(counter_u64_free() on it is a detected error in the MP build).  UP:
 *	the handle is plain static memory, no tag, no branch.
 */
#ifndef COUNTER_H
#define COUNTER_H

#include <stddef.h>
#include <stdint.h>

#include "percpu/core.h"

#if PERCPU_MD_LIBC
# include <stdlib.h>
#endif

PERCPU_BEGIN_DECLS /* C++: extern "C" up to the end of this header */
/* ---- Configuration: the ratecheck clock ---- */

#if !defined(COUNTER_RATE_NOW_NS) && PERCPU_MD_HAS_NOW
/* The default ratecheck clock: the port's monotonic nanoseconds. */
# define COUNTER_RATE_NOW_NS() percpu_md_now_ns()
#endif

/* malloc(9) flags, FreeBSD's values. */
#ifndef M_NOWAIT
# define M_NOWAIT 0x0001
#endif
#ifndef M_WAITOK
# define M_WAITOK 0x0002
#endif
#ifndef M_ZERO
# define M_ZERO 0x0100
#endif

/* ---- Types ---- */

/* One CPU's copy of a counter; see WORDS AND RULES. */
struct counter_priv_slot {
#if PERCPU_MP
	_Atomic(uint64_t) cs_count; /* local-add-only: percpu_local_add64() */
	_Atomic(uint64_t) cs_base;  /* zero: release store; fetch: acquire */
#else
	uint64_t cs_count; /* UP: plain add */
	uint64_t cs_base;  /* UP: set by zero */
#endif
};
/* counter_u64_add() hands the slot's address to percpu_local_add64(). */
_Static_assert(offsetof(struct counter_priv_slot, cs_count) == 0,
    "cs_count must be the first word of a counter slot");

/* The handle: the unit-0 copy (MP), the memory itself (UP); FreeBSD's
 * counter_u64_t is a pointer too. */
typedef struct counter_priv_slot *counter_u64_t;

/*
 * counter_ratecheck() state: FreeBSD's visible struct, its field names and
 * types (code that sets cr_ticks = ticks keeps its unit).  Zero-initialize
 * and set cr_rate, or use counter_rate_alloc().  The int fields are
 * accessed with GCC/Clang atomic builtins (relaxed; the lock acquire and
 * release), as FreeBSD's atomic(9) ops on them.
 */
struct counter_rate {
	counter_u64_t cr_rate; /* events in the current window */
	volatile int cr_lock;  /* bit 0: try-lock of the window reset; bit 1:
				  made by counter_rate_alloc() */
	int cr_ticks;	       /* window start, in ticks (counter_ticks()) */
	int cr_over;	       /* -1 once over the limit in this window */
};

/* ---- Allocation ---- */

#if PERCPU_MP
/* Arena handles are 16-aligned: bit 3 is free to mark early handles. */
# define COUNTER_PRIV_ALIGN 16
#else
# define COUNTER_PRIV_ALIGN 0
#endif

/*
 * counter_u64_alloc - a new counter, zero on every possible CPU.
 *
 * Context: thread context (takes the arena lock).
 * Ordering: publish the handle with a lock or release/acquire.
 * UP: 16 zeroed bytes of PERCPU_MALLOC memory.
 * Return: the counter.  With M_NOWAIT, NULL if memory ran out; with
 *         M_WAITOK never NULL: on failure the error handler is called,
 *         then abort().  Flags with neither or both of M_WAITOK and
 *         M_NOWAIT are a detected error (NULL).
 */
static inline counter_u64_t
counter_u64_alloc(int flags)
{
	int wait = flags & (M_WAITOK | M_NOWAIT);
	counter_u64_t c;

	if (wait != M_WAITOK && wait != M_NOWAIT) {
		percpu_priv_fail("counter_u64_alloc: flags %#x: pass exactly "
				 "one of M_WAITOK and M_NOWAIT",
		    (unsigned)flags);
		return (NULL);
	}
	c = (counter_u64_t)percpu_priv_zalloc(sizeof(struct counter_priv_slot),
	    COUNTER_PRIV_ALIGN);
	if (c != NULL || wait == M_NOWAIT)
		return (c);
	percpu_priv_fail("counter_u64_alloc: M_WAITOK: out of per-CPU memory");
	percpu_priv_panic("counter_u64_alloc: M_WAITOK: out of per-CPU memory");
}

#if PERCPU_MP
/* ---- Early counters (MP): a tagged handle, resolved on first use ---- */

/*
 * The record behind an early handle.  ce_handle: NULL, then the counter;
 * written once by compare-and-swap (release), read with acquire.  The
 * early handle is the address of ce_tag, 8 mod 16.
 */
struct counter_priv_early {
	_Alignas(16) _Atomic(counter_u64_t) ce_handle;
	_Alignas(8) unsigned char ce_tag[8];
};

/* clang-format off */
# define COUNTER_U64_DEFINE_EARLY(c)                                    \
	counter_u64_t c = (counter_u64_t)(void *)(                      \
	    &(struct counter_priv_early){NULL, {0}}.ce_tag)
/* clang-format on */

/* Is @c an early handle?  One test of bit 3. */
static inline int
counter_priv_is_early(counter_u64_t c)
{
	return (((uintptr_t)(void *)c & 8u) != 0);
}

/* The record behind the early handle @c. */
static inline struct counter_priv_early *
counter_priv_early(counter_u64_t c)
{
	return (
	    (struct counter_priv_early *)(void *)((unsigned char *)(void *)c -
		offsetof(struct counter_priv_early, ce_tag)));
}

/*
 * counter_priv_early_alloc - the first use of the early handle @c:
 * allocate its counter, or take the one another thread installed.
 *
 * Context: thread context (allocates).
 * Ordering: the CAS's release publishes the zeroed slots with the handle
 *           (pairs with the acquire load in counter_priv_resolve()).
 * Out of line (defined in the implementation): a rare path, kept out of
 * every counter_u64_add().
 */
counter_u64_t counter_priv_early_alloc(counter_u64_t c);

/* The counter behind any handle. */
static inline counter_u64_t
counter_priv_resolve(counter_u64_t c)
{
	if (PERCPU_UNLIKELY(counter_priv_is_early(c))) {
		/* Acquire: pairs with the release of the CAS in
		 * counter_priv_early_alloc(). */
		counter_u64_t h = atomic_load_explicit(
		    &counter_priv_early(c)->ce_handle, memory_order_acquire);

		return (
		    PERCPU_LIKELY(h != NULL) ? h : counter_priv_early_alloc(c));
	}
	return (c);
}

/* The zero mutex (implementation block). */
void counter_priv_zero_lock(void);
void counter_priv_zero_unlock(void);

#else /* !PERCPU_MP */

/* UP: an early counter is plain static memory. */
/* clang-format off */
# define COUNTER_U64_DEFINE_EARLY(c) \
	counter_u64_t c = &(struct counter_priv_slot){0, 0}
/* clang-format on */

static inline int
counter_priv_is_early(counter_u64_t c)
{
	(void)c;
	return (0);
}

static inline counter_u64_t
counter_priv_resolve(counter_u64_t c)
{
	return (c);
}

#endif /* PERCPU_MP */

/*
 * counter_u64_free - release @c.
 *
 * Context: thread context; nothing may still use @c.
 * UP: PERCPU_FREE.
 * Return: nothing.  NULL is a no-op; an early counter or a handle that is
 *         not a counter is a detected error (nothing is freed).
 */
static inline void
counter_u64_free(counter_u64_t c)
{
	if (c == NULL)
		return;
	if (counter_priv_is_early(c)) {
		percpu_priv_fail("counter_u64_free: an early counter "
				 "(COUNTER_U64_DEFINE_EARLY) is never freed");
		return;
	}
	if (percpu_priv_freed(c)) {
		percpu_priv_fail("counter_u64_free: double free of counter %p",
		    (void *)c);
		return;
	}
#if PERCPU_DEBUG
	/* Held back from reuse, so that a use after free is caught. */
	percpu_priv_quarantine(c, sizeof(struct counter_priv_slot));
#else
	if (percpu_priv_zfree(c, sizeof(struct counter_priv_slot), NULL) !=
	    PERCPU_PRIV_OK) {
		percpu_priv_fail("counter_u64_free: %p is not a counter",
		    (void *)c);
		return;
	}
	percpu_priv_freed_note(c);
#endif
}

/* ---- Updates ---- */

/*
 * COUNTER_PRIV_DEAD(c, fn) - with PERCPU_DEBUG=1: is @c a counter freed by
 * counter_u64_free()?  Then the use is reported as "<fn>: counter %p used
 * after counter_u64_free" and the caller returns.  Freed counters are
 * held back from reuse meanwhile (percpu_priv_quarantine()), so the use
 * cannot land in a new counter.  0 (no code) otherwise.
 */
#if PERCPU_DEBUG
# define COUNTER_PRIV_DEAD(c, fn) counter_priv_dead((const void *)(c), fn)
static inline int
counter_priv_dead(const void *c, const char *fn)
{
	if (PERCPU_LIKELY(!percpu_priv_freed(c)))
		return (0);
	percpu_priv_fail("%s: counter %p used after counter_u64_free", fn, c);
	return (1);
}
#else
# define COUNTER_PRIV_DEAD(c, fn) 0
#endif

#if PERCPU_MP
/*
 * counter_u64_add - add @v (negative: subtract) to @c.
 *
 * Context: anywhere, signal handlers included.
 * Ordering: none (relaxed).  The running CPU's copy is only a locality
 *           hint: the add is an atomic RMW, so a migration between
 *           choosing the copy and adding loses nothing (FreeBSD's
 *           arm64/riscv model).
 * UP: one plain add.
 */
static inline void
counter_u64_add(counter_u64_t c, int64_t v)
{
	if (COUNTER_PRIV_DEAD(c, "counter_u64_add"))
		return;
		/* The core's local add: an rseq commit or a relaxed atomic.
	 * cs_count is the slot's first word (asserted below the struct).
	 * With rseq, two calls, so that the usual one adds through @c
	 * itself; elsewhere one (firmware code size). */
# if defined(PERCPU_MD_RSEQ) && PERCPU_MD_RSEQ
	if (PERCPU_LIKELY(!counter_priv_is_early(c)))
		percpu_local_add64((void *)c, (uint64_t)v);
	else
		percpu_local_add64((void *)counter_priv_resolve(c),
		    (uint64_t)v);
# else
	percpu_local_add64((void *)counter_priv_resolve(c), (uint64_t)v);
# endif
}

/*
 * counter_u64_add_protected - add @v to the running CPU's copy of @c.
 *
 * Context: between counter_enter() and counter_exit() (or any section).
 * Ordering: none (relaxed).  The same local add as counter_u64_add():
 *           cs_count is local-add-only (a thread that runs on this CPU
 *           without a section may add to it at the same time).
 * UP: one plain add.
 */
static inline void
counter_u64_add_protected(counter_u64_t c, int64_t v)
{
	struct counter_priv_slot *s =
	    (struct counter_priv_slot *)counter_priv_resolve(c);

	if (COUNTER_PRIV_DEAD(c, "counter_u64_add_protected"))
		return;

	/*
	 * The running CPU's copy, as counter_u64_add(): a section does not
	 * stop migration here, and a plain add on the held CPU's copy from
	 * another CPU would race that CPU's restartable adds (word rule).
	 */
	percpu_local_add64((void *)s, (uint64_t)v);
}

/*
 * counter_u64_fetch - the value of @c: the sum over every possible CPU.
 *
 * Context: any thread, signal handlers included.
 * Ordering: per CPU, acquire on cs_base, then cs_count; pairs with the
 *           release store of cs_base in counter_u64_zero().
 * UP: cs_count - cs_base.
 * Return: the sum modulo 2^64; exact at quiescence.
 */
static inline uint64_t
counter_u64_fetch(counter_u64_t c)
{
	uint64_t sum = 0;
	unsigned cpu;

	if (COUNTER_PRIV_DEAD(c, "counter_u64_fetch"))
		return (0);

	c = counter_priv_resolve(c);
	PERCPU_FOREACH_CPU(cpu) {
		struct counter_priv_slot *s =
		    (struct counter_priv_slot *)percpu_ptr(c, cpu);
		/* Acquire: pairs with the release in counter_u64_zero(); the
		 * count below is not older than the one this base came from. */
		uint64_t base =
		    atomic_load_explicit(&s->cs_base, memory_order_acquire);

		sum +=
		    atomic_load_explicit(&s->cs_count, memory_order_relaxed) -
		    base;
	}
	return (sum);
}

/*
 * counter_u64_zero - make @c read zero.
 *
 * Context: thread context (a mutex serializes zeros); not in a signal
 *          handler.
 * Ordering: per CPU, the count is read, then stored as the baseline with
 *           release; pairs with the acquire in counter_u64_fetch().
 * UP: cs_base = cs_count.
 */
static inline void
counter_u64_zero(counter_u64_t c)
{
	unsigned cpu;

	if (COUNTER_PRIV_DEAD(c, "counter_u64_zero"))
		return;

	c = counter_priv_resolve(c);
	counter_priv_zero_lock();
	PERCPU_FOREACH_CPU(cpu) {
		struct counter_priv_slot *s =
		    (struct counter_priv_slot *)percpu_ptr(c, cpu);
		uint64_t v =
		    atomic_load_explicit(&s->cs_count, memory_order_relaxed);

		/* Release: the load above before the base; pairs with the
		 * acquire in counter_u64_fetch(). */
		atomic_store_explicit(&s->cs_base, v, memory_order_release);
	}
	counter_priv_zero_unlock();
}

#else /* !PERCPU_MP */

/*
 * UP.  Without a port: plain code.  With a firmware port's interrupt
 * mask (PERCPU_MD_HAS_IRQ), add, fetch and zero mask around their words,
 * so that handlers may add to the same counter (as on MP): a 64-bit add
 * or load is several instructions on a 32-bit core.
 */
static inline void
counter_u64_add(counter_u64_t c, int64_t v)
{
	if (COUNTER_PRIV_DEAD(c, "counter_u64_add"))
		return;
# if PERCPU_MD_HAS_IRQ
	percpu_md_irq_t irq = percpu_md_irq_save();

	c->cs_count += (uint64_t)v;
	percpu_md_irq_restore(irq);
# else
	percpu_priv_up_enter(); /* nothing unless PERCPU_DEBUG=1 */
	c->cs_count += (uint64_t)v;
	percpu_priv_up_leave();
# endif
}

static inline void
counter_u64_add_protected(counter_u64_t c, int64_t v)
{
	if (COUNTER_PRIV_DEAD(c, "counter_u64_add_protected"))
		return;
	counter_u64_add(c, v);
}

static inline uint64_t
counter_u64_fetch(counter_u64_t c)
{
	if (COUNTER_PRIV_DEAD(c, "counter_u64_fetch"))
		return (0);
# if PERCPU_MD_HAS_IRQ
	percpu_md_irq_t irq = percpu_md_irq_save();
	uint64_t v = c->cs_count - c->cs_base;

	percpu_md_irq_restore(irq);
	return (v);
# else
	return (c->cs_count - c->cs_base);
# endif
}

static inline void
counter_u64_zero(counter_u64_t c)
{
	if (COUNTER_PRIV_DEAD(c, "counter_u64_zero"))
		return;
# if PERCPU_MD_HAS_IRQ
	percpu_md_irq_t irq = percpu_md_irq_save();

	c->cs_base = c->cs_count;
	percpu_md_irq_restore(irq);
# else
	percpu_priv_up_enter();
	c->cs_base = c->cs_count;
	percpu_priv_up_leave();
# endif
}

#endif /* PERCPU_MP */

/*
 * counter_enter / counter_exit - bracket counter_u64_add_protected()
 * calls: an exclusive section on the current CPU (percpu_enter()).
 *
 * Context: anywhere, signal handlers included; nestable.
 * Ordering: acquire / release on the CPU's section (percpu_enter() /
 *           percpu_leave()).
 * UP: compiler barriers.
 */
static inline void
counter_enter(void)
{
	(void)percpu_enter();
}

static inline void
counter_exit(void)
{
	percpu_priv_leave_as("counter_exit");
}

/* ---- Arrays ---- */

static inline void
counter_priv_array_alloc(counter_u64_t *a, size_t n, int flags)
{
	size_t i;

	for (i = 0; i < n; i++)
		a[i] = counter_u64_alloc(flags);
}

static inline void
counter_priv_array_free(counter_u64_t *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		counter_u64_free(a[i]);
		a[i] = NULL;
	}
}

static inline void
counter_priv_array_copy(counter_u64_t *a, uint64_t *dst, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = counter_u64_fetch(a[i]);
}

static inline void
counter_priv_array_zero(counter_u64_t *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		counter_u64_zero(a[i]);
}

#define COUNTER_ARRAY_ALLOC(a, n, wait) \
 counter_priv_array_alloc((a), (size_t)(n), (wait))
#define COUNTER_ARRAY_FREE(a, n) counter_priv_array_free((a), (size_t)(n))
#define COUNTER_ARRAY_COPY(a, dstp, n) \
 counter_priv_array_copy((a), (uint64_t *)(void *)(dstp), (size_t)(n))
#define COUNTER_ARRAY_ZERO(a, n) counter_priv_array_zero((a), (size_t)(n))

/* ---- System initialization (FreeBSD SYSINIT users) ---- */

/*
 * counter_u64_sysinit - allocate the counter *(counter_u64_t *)@arg
 * (M_WAITOK), as FreeBSD's SYSINIT handler of COUNTER_U64_SYSINIT.
 *
 * Context: thread context (or a constructor).
 * UP: the same.
 */
static inline void
counter_u64_sysinit(void *arg)
{
	*(counter_u64_t *)arg = counter_u64_alloc(M_WAITOK);
}

/*
 * counter_u64_sysuninit - free the counter *(counter_u64_t *)@arg (the
 * SYSUNINIT half), leaving NULL.
 *
 * Context: thread context; nothing may still use the counter.
 * UP: the same.
 */
static inline void
counter_u64_sysuninit(void *arg)
{
	counter_u64_free(*(counter_u64_t *)arg);
	*(counter_u64_t *)arg = NULL;
}

/*
 * COUNTER_U64_SYSINIT(c) - after `counter_u64_t c;` at file scope:
 * allocate c before main() runs, FreeBSD's SYSINIT at SI_SUB_COUNTER.
 * There is no SYSINIT here: the allocation is a constructor (GCC and
 * Clang), the one global constructor the toolkit ever makes, and only
 * where this macro asks for it.  c is never freed by it (a shared object
 * that is unloaded calls counter_u64_sysuninit(&c) itself).  The
 * toolkit is then in use before main(): a program that exports
 * (percpu_export_open(), which must come first) uses
 * COUNTER_U64_DEFINE_EARLY instead.
 */
#if defined(__GNUC__) || defined(__clang__)
# define COUNTER_U64_SYSINIT(c)                                            \
  static void counter_priv_sysinit_##c(void) __attribute__((constructor)); \
  static void counter_priv_sysinit_##c(void)                               \
  {                                                                        \
   counter_u64_sysinit(&(c));                                              \
  }                                                                        \
  struct counter_priv_sysinit_##c
#endif

/* ---- Rate check ---- */

#ifdef COUNTER_RATE_NOW_NS
/* FreeBSD's hz: ticks per second of counter_ticks() (global). */
# ifndef COUNTER_HZ
#  define COUNTER_HZ 1000
# endif
# if COUNTER_HZ < 1 || COUNTER_HZ > 1000000000 || 1000000000 % COUNTER_HZ != 0
#  error "counter.h: COUNTER_HZ must divide 1000000000"
# endif

/*
 * counter_ticks - FreeBSD's ticks: COUNTER_RATE_NOW_NS() in units of
 * 1/COUNTER_HZ s, wrapping as an int (compare differences, as FreeBSD).
 * The compat tree (compat/freebsd/sys/kernel.h) names it ticks, and
 * COUNTER_HZ hz.
 *
 * Context: any.
 */
static inline int
counter_ticks(void)
{
	uint64_t t = (uint64_t)(COUNTER_RATE_NOW_NS()) /
	    (uint64_t)(1000000000 / COUNTER_HZ);

	return ((int)(uint32_t)t);
}

/* The int fields of struct counter_rate: FreeBSD's atomic(9) on ints. */
# if defined(__GNUC__) || defined(__clang__)
static inline int
counter_priv_ld(const volatile int *p)
{
	return (__atomic_load_n(p, __ATOMIC_RELAXED));
}

static inline void
counter_priv_st(volatile int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* Release: the window reset before the unlock; pairs with the acquire of
 * counter_priv_trylock(). */
static inline void
counter_priv_unlock(volatile int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Acquire: pairs with counter_priv_unlock() of the previous reset. */
static inline int
counter_priv_trylock(volatile int *p, int old, int v)
{
	return (__atomic_compare_exchange_n(p, &old, v, 0, __ATOMIC_ACQUIRE,
	    __ATOMIC_RELAXED));
}
# elif !PERCPU_MP
/* UP with another compiler: one thread of control, plain accesses. */
static inline int
counter_priv_ld(const volatile int *p)
{
	return (*p);
}

static inline void
counter_priv_st(volatile int *p, int v)
{
	*p = v;
}

static inline void
counter_priv_unlock(volatile int *p, int v)
{
	*p = v;
}

static inline int
counter_priv_trylock(volatile int *p, int old, int v)
{
	if (*p != old)
		return (0);
	*p = v;
	return (1);
}
# else
#  error "counter.h: the MP build of counter_ratecheck() needs GCC or Clang"
# endif

# define COUNTER_PRIV_RATE_LOCKED 1
# define COUNTER_PRIV_RATE_ALLOCATED 2

/* What counter_rate_alloc() returns: the visible struct and the period. */
struct counter_priv_rate {
	struct counter_rate cpr_cr; /* first: the handle is its address */
	int cpr_period;		    /* seconds */
};

/*
 * counter_ratecheck - count one event of @cr and compare the current
 * window's events with @limit.  The window is one second (hz ticks) for
 * a struct the caller set up, the period of counter_rate_alloc()
 * otherwise.
 *
 * Context: thread context (the window reset zeroes the counter).
 * Ordering: the window reset is guarded by a try-lock (acquire CAS in
 *           counter_priv_trylock(), release in counter_priv_unlock());
 *           a thread that loses it while the window expires neither waits
 *           nor counts (FreeBSD does the same).
 * UP: the same code; nothing contends.
 * Return: 0 while the window's events are within @limit; -1 once they
 *         are over it; when this call starts a new window and the
 *         previous window went over @limit, that window's number of
 *         events (> 0).
 */
static inline int64_t
counter_ratecheck(struct counter_rate *cr, int64_t limit)
{
	int64_t val = counter_priv_ld(&cr->cr_over);
	int now = counter_ticks();
	int l = counter_priv_ld(&cr->cr_lock) & ~COUNTER_PRIV_RATE_LOCKED;
	unsigned window = COUNTER_HZ;

	if ((l & COUNTER_PRIV_RATE_ALLOCATED) != 0)
		window =
		    (unsigned)((const struct counter_priv_rate *)(void *)cr)
			->cpr_period *
		    (unsigned)COUNTER_HZ;
	if ((unsigned)now - (unsigned)counter_priv_ld(&cr->cr_ticks) >=
	    window) {
		/* Try the lock only if it looks free: no RMW storm at the
		 * window's end. */
		if ((counter_priv_ld(&cr->cr_lock) &
			COUNTER_PRIV_RATE_LOCKED) != 0 ||
		    !counter_priv_trylock(&cr->cr_lock, l,
			l | COUNTER_PRIV_RATE_LOCKED))
			return (val);
		/* Re-check: another thread may have just reset it. */
		if ((unsigned)now - (unsigned)counter_priv_ld(&cr->cr_ticks) >=
		    window) {
			val = (int64_t)counter_u64_fetch(cr->cr_rate);
			counter_u64_zero(cr->cr_rate);
			counter_priv_st(&cr->cr_over, 0);
			counter_priv_st(&cr->cr_ticks, now);
			if (val <= limit)
				val = 0;
		}
		counter_priv_unlock(&cr->cr_lock, l);
	}
	counter_u64_add(cr->cr_rate, 1);
	if (counter_priv_ld(&cr->cr_over) != 0)
		return (-1);
	if ((int64_t)counter_u64_fetch(cr->cr_rate) > limit) {
		counter_priv_st(&cr->cr_over, -1);
		val = -1;
	}
	return (val);
}

/*
 * counter_rate_alloc - a rate check with a window of @period seconds
 * (period * hz ticks; FreeBSD's page says only "the time period to check
 * the rate"), starting now.
 *
 * Context: thread context.
 * UP: the same.
 * Return: the handle; NULL with M_NOWAIT when memory ran out; M_WAITOK
 *         never returns NULL (error handler, then abort()).  A @period
 *         below 1 is a detected error (NULL).
 */
static inline struct counter_rate *
counter_rate_alloc(int flags, int period)
{
	struct counter_priv_rate *r;

	if (period < 1) {
		percpu_priv_fail("counter_rate_alloc: period %d: must be at "
				 "least 1 second",
		    period);
		return (NULL);
	}
	r = (struct counter_priv_rate *)percpu_priv_malloc(sizeof(*r));
	if (r == NULL && (flags & M_NOWAIT) != 0)
		return (NULL);
	if (r == NULL) {
		percpu_priv_fail("counter_rate_alloc: out of memory");
		percpu_priv_panic("counter_rate_alloc: out of memory");
	}
	memset(r, 0, sizeof(*r));
	r->cpr_cr.cr_rate = counter_u64_alloc(flags);
	if (r->cpr_cr.cr_rate == NULL) {
		percpu_priv_free(r);
		return (NULL);
	}
	r->cpr_period = period;
	r->cpr_cr.cr_ticks = counter_ticks();
	r->cpr_cr.cr_lock = COUNTER_PRIV_RATE_ALLOCATED;
	return (&r->cpr_cr);
}

/*
 * counter_rate_get - the events of @cr's current window.
 *
 * Context: any thread.
 * Return: the count (not a snapshot; see counter_u64_fetch()).
 */
static inline uint64_t
counter_rate_get(struct counter_rate *cr)
{
	return (counter_u64_fetch(cr->cr_rate));
}

/*
 * counter_rate_free - release a counter_rate_alloc() handle.
 *
 * Context: thread context; nothing may still use @cr.
 * Return: nothing.  NULL is a no-op; a struct the caller set up itself is
 *         a detected error (nothing is freed).
 */
static inline void
counter_rate_free(struct counter_rate *cr)
{
	if (cr == NULL)
		return;
	if ((counter_priv_ld(&cr->cr_lock) & COUNTER_PRIV_RATE_ALLOCATED) ==
	    0) {
		percpu_priv_fail(
		    "counter_rate_free: not a counter_rate_alloc() "
		    "handle");
		return;
	}
	counter_u64_free(cr->cr_rate);
	percpu_priv_free(cr);
}
#endif /* COUNTER_RATE_NOW_NS */

PERCPU_END_DECLS

#endif /* COUNTER_H */

/* ---- Implementation: once per program (see USAGE) ---- */
#if defined(PERCPU_IMPLEMENTATION) && !defined(COUNTER_IMPL_H)
#define COUNTER_IMPL_H
#if PERCPU_MP
/* counter_priv_early_alloc - see its declaration above. */
counter_u64_t
counter_priv_early_alloc(counter_u64_t c)
{
	struct counter_priv_early *e = counter_priv_early(c);
	counter_u64_t h, expect = NULL;

	h = counter_u64_alloc(M_WAITOK);
	/* Release: the zeroed slots before the handle; pairs with the acquire
	 * load in counter_priv_resolve().  Acquire on failure: the winner's
	 * slots. */
	if (atomic_compare_exchange_strong_explicit(&e->ce_handle, &expect, h,
		memory_order_acq_rel, memory_order_acquire))
		return (h);
	if (percpu_priv_zfree(h, sizeof(struct counter_priv_slot), NULL) !=
	    PERCPU_PRIV_OK)
		percpu_priv_fail("counter: early counter: corrupt arena");
	return (expect);
}
#endif

#if PERCPU_MP && !PERCPU_MD_HOSTED
/* Firmware: a spin lock serializes counter_u64_zero() (no fork). */
static atomic_int counter_priv_zero_spin;

void
counter_priv_zero_lock(void)
{
	percpu_priv_spin_lock(&counter_priv_zero_spin);
}

void
counter_priv_zero_unlock(void)
{
	percpu_priv_spin_unlock(&counter_priv_zero_spin);
}
#elif PERCPU_MP
# include <pthread.h>

/* Serializes counter_u64_zero(). */
static pthread_mutex_t counter_priv_zero_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t counter_priv_zero_once = PTHREAD_ONCE_INIT;

static void
counter_priv_zero_prepare(void)
{
	(void)pthread_mutex_lock(&counter_priv_zero_mtx);
}

static void
counter_priv_zero_release(void)
{
	(void)pthread_mutex_unlock(&counter_priv_zero_mtx);
}

/* A fork child must not inherit the mutex locked by a vanished thread. */
static void
counter_priv_zero_atfork(void)
{
	(void)pthread_atfork(counter_priv_zero_prepare,
	    counter_priv_zero_release, counter_priv_zero_release);
}

void
counter_priv_zero_lock(void)
{
	(void)pthread_once(&counter_priv_zero_once, counter_priv_zero_atfork);
	(void)pthread_mutex_lock(&counter_priv_zero_mtx);
}

void
counter_priv_zero_unlock(void)
{
	(void)pthread_mutex_unlock(&counter_priv_zero_mtx);
}
#endif /* PERCPU_MP */
#endif /* PERCPU_IMPLEMENTATION */

#ifdef PERCPU_IMPLEMENTATION
#include "percpu/whole.h" /* one switch: the whole implementation */
#endif
