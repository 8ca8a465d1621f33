/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/core.h - the one engine under every face.
 *
 * Internal: include <percpu.h>, <cpumem.h>, <dpcpu.h> or <counter.h>.
 * The faces are thin: each of their functions is a few lines over what
 * is here.
 *
 * CPU SET
 *	The possible CPUs are discovered once per process (percpu/impl.h,
 *	percpu_priv_init()).  A CPU is an id in [0, percpu_maxcpu()); ids may
 *	be sparse.  Each possible CPU also has a dense "unit index" in
 *	[0, percpu_ncpus()), ascending with the id.  An id the OS reports that
 *	is not in the table (hotplug, a bad cgroup view, an id >=
 *	PERCPU_MAXCPU) is folded onto a possible CPU (id mod ncpus): never an
 *	out-of-bounds index, only lost locality.
 *
 * ARENA
 *	Each possible CPU owns one unit of PERCPU_UNIT_SIZE bytes in every
 *	arena chunk; chunks are mapped lazily (MAP_NORESERVE on Linux: a CPU
 *	that never writes costs no RAM).  An allocation is one offset valid
 *	in every unit; its handle is the address of the copy of unit index 0,
 *	and the copy of unit i is handle + i * PERCPU_UNIT_SIZE.  So a CPU's
 *	objects share its cache lines, no line is shared between CPUs, and 8
 *	bytes cost 8 bytes per CPU.  Storage never moves.  Allocations are
 *	zero on every possible CPU.  Space is kept in 8-byte grains, first
 *	fit; an allocation scans bitmap words, never the live objects.
 *
 * EXCLUSIVE SECTIONS
 *	percpu_enter() gives the calling thread one CPU: the one it runs on.
 *	Until the matching percpu_leave() no other thread is given that CPU;
 *	a thread that wants it waits.  The OS may still preempt or migrate
 *	the owner: correctness holds, only locality is lost.  Sections nest
 *	(a nested enter returns the CPU the thread already holds).  The
 *	mechanism is a lock word in the CPU's own unit (its first cache
 *	line).  With the "rseq" backend on x86-64 a thread running on the
 *	CPU takes it by restartable sequence (a plain store); everyone else
 *	(another CPU's thread, a waiter) counts itself as waiting there,
 *	restarts the CPU's sequences with membarrier, then takes it by
 *	compare-and-swap.  Other backends: compare-and-swap for all.  A
 *	thread that asks for a given CPU (percpu_enter_cpu(): an xcall,
 *	counters_zero()) is served before the CPU's own threads: the next
 *	leave hands the CPU to it, so threads that leave and enter again in
 *	a loop on that CPU cannot starve it.
 *
 *	Signals: a handler that enters while the interrupted code holds a
 *	section nests on the same CPU and so shares its slots, as an
 *	interrupt shares a CPU's data in the kernel (NetBSD percpu_getref()
 *	does not block interrupts either).  It never deadlocks, including in
 *	the windows inside enter and leave.  Code that updates the same data
 *	from a handler blocks the signal around its section.  A handler that
 *	interrupted its thread inside enter or leave, and finds the current
 *	CPU taken, uses the CPU its thread holds (after a short wait, once):
 *	two such handlers never wait for each other's CPU.
 *
 * FORK
 *	A fork child starts from consistent per-CPU data: the prepare
 *	handler (percpu/impl.h) waits for every other thread's section to
 *	end and holds every CPU, then the arena lock, until fork() returns
 *	in both processes.  So sections must be short and never wait for
 *	another thread (a lock, a condition): fork() would wait for them.
 *	The forking thread keeps its own section in both processes.
 *
 * DEAD OWNERS
 *	A thread holds CPUs under a token unique for its lifetime (not its
 *	TLS address, which a later thread may get).  A thread that exits or
 *	is cancelled inside a section is reported through the error handler
 *	("thread exited inside a section on CPU %u; ..."); if the handler
 *	returns, the CPU is released (robust-mutex style: its data stays as
 *	the dead thread left it).  No later thread inherits the section.
 *
 * UP (PERCPU_MP=0)
 *	One CPU, id 0.  Sections are compiler barriers, a handle is the
 *	memory itself, iteration yields one CPU.  Same signatures.  UP
 *	assumes one thread of control per core plus the handlers the port
 *	masks; a multithreaded program uses the MP build.  PERCPU_DEBUG=1
 *	tracks sections: a second thread inside one is reported, and
 *	percpu_in_section() gives the depth.
 *
 * ONE DEFINITION
 *	The CPU table, the arena and the error handler exist once per
 *	program: define PERCPU_IMPLEMENTATION in exactly one .c file before
 *	including any one of the toolkit's headers (stb convention): that
 *	header emits the whole implementation, every face's part included
 *	(percpu/whole.h).  Forgetting it, or files that disagree on
 *	PERCPU_MP or PERCPU_MD, is a link error that names the fix (LINK
 *	CHECK below).
 */
#ifndef PERCPU_CORE_H
#define PERCPU_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "atomic.h"

#include "config.h"

PERCPU_BEGIN_DECLS /* C++: extern "C" up to the end of this header */
#include "md.h"

/* An id that names no CPU. */
#define PERCPU_NOCPU (~0u)

/*
 * struct cpu_info - the descriptor of one possible CPU (NetBSD's name).
 * ci_index is the CPU id (cpu_index(9)); ci_unit its dense unit index.
 */
struct cpu_info {
	unsigned ci_index;
	unsigned ci_unit;
};

/* Error handler: see percpu_set_error_handler(). */
typedef void (*percpu_error_handler_t)(const char *msg);

/* Results of percpu_priv_zfree(). */
#define PERCPU_PRIV_OK 0
#define PERCPU_PRIV_ENOENT 1 /* not an allocation of this arena */
#define PERCPU_PRIV_ESIZE 2  /* size does not match the allocation */

/* ---- Functions of the implementation (percpu/impl.h) ---- */

/*
 * percpu_priv_zalloc - reserve @size bytes on every possible CPU.
 *
 * Context: thread context; takes the arena lock; may map memory.
 * Ordering: the zeroed storage is published to any thread that receives
 *           the handle through a release/acquire pair or a lock.
 * UP: PERCPU_MALLOC'ed memory; the handle is the memory.
 * Return: the handle (the unit-0 copy), zero on every possible CPU; NULL
 *         if @size is 0 or larger than PERCPU_UNIT_SIZE, or memory ran out.
 *         @align 0 picks the natural alignment (up to 16 bytes).
 */
void *percpu_priv_zalloc(size_t size, size_t align);

/*
 * percpu_priv_zfree - release a percpu_priv_zalloc() reservation.
 *
 * Context: thread context; takes the arena lock.
 * Ordering: no section may still use @h.
 * UP: checks the size recorded before the memory.
 * Return: PERCPU_PRIV_OK (freed), PERCPU_PRIV_ENOENT (@h is not an
 *         allocation) or PERCPU_PRIV_ESIZE (@size differs: *@actual gets
 *         the allocation's size).  Nothing is freed on error.
 */
int percpu_priv_zfree(void *h, size_t size, size_t *actual);

/*
 * percpu_priv_zalloc_fail_next - make the calling thread's next @n
 * percpu_priv_zalloc() calls fail (return NULL, as if memory ran out), so
 * that tests can reach the faces' allocation-failure paths (FreeBSD
 * M_NOWAIT).  0 cancels.
 *
 * Context: any thread; the count is per thread (hosted MP) or global (UP,
 *          firmware: no thread-local storage there).
 */
void percpu_priv_zalloc_fail_next(unsigned n);

/*
 * struct percpu_chunk_provider - where the MP arena's chunks come from.
 *
 * map(len, ctx): @len zero-filled bytes aligned to at least
 *   PERCPU_CACHELINE (page-aligned for lazily backed memory), or NULL.
 *   A chunk is percpu_ncpus() units of PERCPU_UNIT_SIZE bytes.
 * unmap(p, len, ctx): give a chunk back (may be NULL: chunks are then
 *   never returned).
 * The default maps anonymous memory (MAP_NORESERVE on Linux).
 */
struct percpu_chunk_provider {
	void *(*map)(size_t len, void *ctx);
	void (*unmap)(void *p, size_t len, void *ctx);
	void *ctx;
};

/*
 * percpu_set_chunk_provider - place the arena in memory the toolkit did
 * not allocate (a shared segment, a static array).
 *
 * Context: before the CPU table exists (the first call of any other
 *          function of the toolkit), from one thread.
 * UP: no arena: returns -1.
 * Return: 0, or -1 if the table already exists (nothing changed).
 *         NULL restores the default.
 */
PERCPU_API int percpu_set_chunk_provider(const struct percpu_chunk_provider *p);

/*
 * percpu_priv_malloc / percpu_priv_free - the PERCPU_MALLOC/PERCPU_FREE
 * hooks, reached from the faces' inline code.
 *
 * Context: thread context.
 * Return: memory or NULL; free accepts NULL.
 */
void *percpu_priv_malloc(size_t size);
void percpu_priv_free(void *p);

/*
 * percpu_priv_fail - report a detected misuse through the error handler.
 *
 * Context: any.  The default handler prints "percpu: <msg>" on stderr and
 * calls abort(); a handler installed by percpu_set_error_handler() may
 * return, and then the failing call returns its documented error value.
 */
void percpu_priv_fail(const char *fmt, ...) PERCPU_PRINTFLIKE(1, 2);

/*
 * percpu_priv_panic - stop the program after a fatal error @msg that the
 * error handler already reported (an M_WAITOK allocation that failed).
 *
 * Context: any.  Hosted: abort().  Firmware: PERCPU_PANIC(msg), then spin.
 * Return: never.
 */
PERCPU_NORETURN void percpu_priv_panic(const char *msg);

/*
 * percpu_set_error_handler - replace the handler of detected misuse.
 *
 * Context: any thread.
 * Return: the previous handler (NULL means the default one).  NULL
 *         restores the default.
 */
PERCPU_API percpu_error_handler_t percpu_set_error_handler(
    percpu_error_handler_t fn);

/*
 * percpu_init - set the toolkit up now rather than at first use: the CPU
 * table and the arena's first chunk.
 *
 * Context: any thread; the first call initializes, later ones return at
 *          once.  Firmware built with PERCPU_BOOT_INIT=1: the boot code
 *          must call it once before any other function of the toolkit
 *          runs on any core (the fast paths then skip the readiness
 *          check); elsewhere optional.
 * UP: nothing to do.
 */
void percpu_init(void);

/*
 * percpu_backend - the way this process finds its current CPU.
 *
 * Return: "rseq" (Linux: the CPU from glibc's rseq area, one load),
 *         "getcpu" (Linux: sched_getcpu()), "sim" (test port) or "up"
 *         (uniprocessor build).  Shared words use C11 atomics in every
 *         MP backend, and so do sections, except that with "rseq" on
 *         x86-64 a thread running on the CPU takes its lock word by
 *         restartable sequence (EXCLUSIVE SECTIONS above; kept if rseq
 *         adds stop).  Fixed for the process lifetime,
 *         except that "rseq" becomes "getcpu" for good when an add meets
 *         a CPU id outside the table (see percpu_local_add64()).  "rseq"
 *         is only chosen where membarrier(2) can stop restartable
 *         sequences and every CPU of the affinity mask at start is in
 *         the table.
 */
PERCPU_API const char *percpu_backend(void);

/*
 * percpu_priv_parse_cpulist - parse a Linux CPU list ("0-3,8,10-11").
 *
 * Context: any.
 * Return: the number of ids set in @mask[0..cap) (ids >= @cap are
 *         skipped and counted in *@dropped when it is not NULL), or -1 on
 *         a syntax error (then @mask is unspecified).
 */
int percpu_priv_parse_cpulist(const char *s, unsigned char *mask, unsigned cap,
    unsigned *dropped);

/*
 * percpu_pin - pin the calling thread to CPU @cpu (its affinity becomes
 * that CPU alone) and cache the CPU: sections skip the CPU lookup, and
 * with the "rseq" backend percpu_local_add64() commits a plain add
 * checked against that CPU.  Pinning is a correctness mode, not a hint:
 * if something moves the thread off its CPU (another sched_setaffinity()),
 * the next add detects it, reports "percpu_pin: thread pinned to CPU %u
 * runs on CPU %u" and unpins.  Sections and atomics stay correct whatever
 * the affinity.
 *
 * Context: thread context, outside a section.
 * UP: nothing to pin: 0 for CPU 0 (percpu_pinned() then says 0).
 * Return: 0; -1 if @cpu is not possible, the caller is in a section, or
 *         the OS refused (e.g. the CPU is offline or outside the cgroup).
 */
PERCPU_API int percpu_pin(unsigned cpu);

/* percpu_unpin - restore the affinity percpu_pin() replaced.  UP: no-op. */
PERCPU_API void percpu_unpin(void);

/*
 * percpu_pinned - the CPU the calling thread is pinned to, or
 * PERCPU_NOCPU.
 */
PERCPU_API unsigned percpu_pinned(void);

/*
 * percpu_backend_cost - the cost class of finding the current CPU here:
 *   0  nothing to find (UP)
 *   1  one thread-local load ("rseq"; or a pinned thread)
 *   2  a library call (vDSO/rseq-backed sched_getcpu(): "getcpu")
 *   3  simulated ("sim", tests)
 * Context: any thread (a pinned thread reports 1).
 */
PERCPU_API unsigned percpu_backend_cost(void);

/*
 * PERCPU_PRIV_ENTER_INLINE: percpu_enter() with the restartable lock, and
 * every face's enter and leave around it: the sequence, the CAS path and
 * the slow call are too much for the compiler's inlining budget, and a
 * call costs as much as the lock.  Elsewhere (UP, firmware, getcpu-only
 * ports) the compiler decides.
 */
#if PERCPU_MP && PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ && \
    defined(PERCPU_MD_RSEQ_LOCK)
# define PERCPU_PRIV_ENTER_INLINE PERCPU_ALWAYS_INLINE
#else
# define PERCPU_PRIV_ENTER_INLINE
#endif

#if PERCPU_MP
/* ---- MP state: one definition, in the implementation ---- */

# define PERCPU_PRIV_NOIDX 0xffffu
/* Bytes between two CPUs\' units: a constant, so a slot is a shift away. */
# define PERCPU_PRIV_STRIDE ((size_t)PERCPU_UNIT_SIZE)

/*
 * The core words of one CPU, at offset 0 of its unit in chunk 0.
 * owner: the token of the thread in a section on this CPU, 0 if none.
 *   Rule: taken with CAS (acquire) by a counted waiter (below) from
 *   whatever CPU it runs on, or, when percpu_priv_g.rseq_lock is set, by
 *   a restartable sequence running on this CPU that commits with a plain
 *   store only if owner and want are both 0 (percpu_md_rseq_lock());
 *   released with a store (release).  A CAS never races a plain commit:
 *   with rseq_lock every CAS taker counts itself in want, then restarts
 *   this CPU's sequences (membarrier) before its first CAS.
 *   PERCPU_PRIV_HANDOFF: released to a counted waiter; only such a
 *   thread may take it.
 * want: the waiters for this CPU: PERCPU_PRIV_WANT_REMOTE for each remote
 *   acquirer (percpu_enter_cpu(), fork), 1 for each local one that could
 *   not take the CPU by sequence (rseq_lock only).  Rule:
 *   atomic-from-everyone; a waiter counts itself before its first try
 *   and uncounts after it took the CPU (or gave up, taking back a
 *   hand-off).  percpu_leave() reads it: nonzero, it releases to
 *   PERCPU_PRIV_HANDOFF instead of 0, so that a local thread looping on
 *   enter/leave cannot starve them; a local waiter takes a hand-off only
 *   when no remote one waits.
 */
struct percpu_priv_pcpu {
	_Atomic(uintptr_t) owner;
	atomic_uint want;
};
/* Waits of one thread recorded at a time (percpu_priv_td.wait): one, and
 * signal handlers that wait while it waits.  More go unrecorded. */
# define PERCPU_PRIV_NWAIT 4
/* One count of a thread in a CPU's want (percpu_priv_td.wait). */
struct percpu_priv_wait {
	struct percpu_priv_pcpu *pc;
	unsigned one; /* its weight in want; 0: not counted */
};
/* percpu_md_rseq_lock() reads want 8 bytes after owner (x86-64). */
_Static_assert(offsetof(struct percpu_priv_pcpu, want) == sizeof(uintptr_t),
    "percpu: want follows owner");

/* An owner word released to a waiting remote acquirer: no thread's token
 * (tokens are addresses or serials counted up from 1). */
# define PERCPU_PRIV_HANDOFF (~(uintptr_t)0)
/* A remote acquirer's weight in want; local waiters (restartable
 * sections) count 1 and take a hand-off only when no remote one waits. */
# define PERCPU_PRIV_WANT_REMOTE 0x10000u

struct percpu_priv_global {
	atomic_int ready; /* 1 once the fields below are set */
	unsigned maxcpu;  /* highest possible id + 1 */
	unsigned ncpu;	  /* number of possible CPUs (units) */
	char *unit0; /* chunk 0; unit i at unit0 + i * PERCPU_PRIV_STRIDE */
	struct cpu_info *ci; /* [ncpu], ascending id */
	const char *backend;
# if PERCPU_MD == PERCPU_MD_SIM
	atomic_int sim_chaos; /* scramble the CPU at every lookup */
	atomic_uint sim_next; /* round-robin placement of threads */
# endif
	int dense; /* possible ids are 0..ncpu-1: unit index == id */
	/* Ids below this one are their own unit index (the dense prefix of
	 * the possible ids: ncpu when dense): a thread's rlim when it may
	 * take percpu_local_add64()'s inline restartable add. */
	unsigned rseq_lim;
	/* Sections take the lock word by restartable sequence (rseq on
	 * x86-64): every other acquirer counts itself in want and restarts
	 * the CPU's sequences with membarrier before its CAS.  Set once at
	 * init. */
	int rseq_lock;
	uint16_t cpu2idx[PERCPU_MAXCPU]; /* unit index or PERCPU_PRIV_NOIDX */
	/* Readers waiting, inside a section, for another CPU to have no
	 * holder (cpumem_priv_snap(): a set left open by a dead thread):
	 * fork's prepare handler gives back the CPUs it took only while
	 * one does (percpu/impl.h, percpu_priv_atfork_prepare()).  Each
	 * counted thread has its share in percpu_priv_td.stuck. */
	atomic_uint stuck;
};

/*
 * Per-thread state.  Zero is "not in a section".
 *
 * state = unit index << PERCPU_PRIV_SSHIFT (16, or 18: below) | borrowed |
 * depth, one word, so that a signal
 * handler never sees a depth without its CPU: the first enter publishes
 * both with one store.  borrowed (PERCPU_PRIV_BORROWED) is set while a
 * signal handler uses the CPU that its own thread locked but had not yet
 * (or no longer) recorded in state; in the same word as the depth, so
 * depth 0 implies not borrowed at every point a handler can observe, and
 * percpu_leave()'s one test of the low half (== 1) excludes it.
 */
struct percpu_priv_td {
	uint32_t state;
	/* The thread's owner token (written in the owner words it holds):
	 * unique for the thread's lifetime, never reused by a later thread
	 * (not its TLS address: a new thread may get a dead one's); 0 until
	 * the first slow-path acquire (percpu_priv_token()). */
	uintptr_t token;
	uint32_t pin1; /* pinned CPU id + 1 (percpu_pin()); 0 = not pinned */
	/* percpu_local_add64()'s inline rseq add takes the CPU ids in
	 * [rbase, rbase + rlim): [0, the dense prefix), or the pinned CPU
	 * alone; rlim 0 (a new thread, rseq adds off or stopping): the out
	 * of line path, which sets them again.  Only a cache: written by its
	 * own thread (signal handlers included), always to values that were
	 * true when written. */
	uint32_t rbase;
	uint32_t rlim;
# if PERCPU_MD_HAS_IRQ
	percpu_md_irq_t irq; /* firmware: the mask state before the section */
# endif
# if PERCPU_MD == PERCPU_MD_SIM
	unsigned sim_cpu1; /* simulated CPU id + 1; 0 = not placed yet */
	uint32_t sim_rng;
# endif
	/* The counts this thread has in CPUs' want (percpu/impl.h:
	 * percpu_priv_count()), a stack: a signal handler's wait nests in
	 * the wait it interrupted.  one 0: not counted (not yet, or no
	 * more).  So a handler may take a hand-off meant for the wait it
	 * interrupted, the exit handler takes back what a thread that died
	 * waiting left counted, and a fork child keeps exactly these.
	 * Written by its own thread only (signal handlers included). */
	struct percpu_priv_wait wait[PERCPU_PRIV_NWAIT];
	unsigned nwait; /* records in use */
	/* Its reads counted in percpu_priv_g.stuck (percpu_priv_stuck()),
	 * so that its exit handler takes them back.  Written by its own
	 * thread only. */
	unsigned stuck;
};

# define PERCPU_PRIV_DEPTH 0x7fffu    /* depth mask of state */
# define PERCPU_PRIV_BORROWED 0x8000u /* see struct percpu_priv_td */
/* The unit index's place in state: bit 16, or where a unit is 2^18 bytes
 * (the hosted default) bit 18, so that index << shift is the unit's byte
 * offset: the section's lock word is then unit0 + (state & ~0x3ffff) and
 * the enter makes state from the offset it computed for the lock. */
# if PERCPU_UNIT_SIZE == 0x40000 && PERCPU_MAXCPU < 0x4000
#  define PERCPU_PRIV_SSHIFT 18
# else
#  define PERCPU_PRIV_SSHIFT 16
# endif
/* Every state fits. */
_Static_assert(((uint64_t)(PERCPU_MAXCPU - 1) << PERCPU_PRIV_SSHIFT) +
	    0xffffu <=
	UINT32_MAX,
    "percpu: the unit index fits in state");

/* The unit index of a state word (in a section: state != 0). */
static inline unsigned
percpu_priv_sidx(uint32_t s)
{
	return (s >> PERCPU_PRIV_SSHIFT);
}

/* The state of a first enter that took unit @idx: depth 1. */
static inline uint32_t
percpu_priv_sfirst(unsigned idx)
{
	return ((uint32_t)idx << PERCPU_PRIV_SSHIFT | 1u);
}

/* The byte offset of the unit of state @s from unit 0 (a multiple of the
 * stride: with the shift at 18, the state with its low bits cleared). */
static inline size_t
percpu_priv_soff(uint32_t s)
{
# if PERCPU_PRIV_SSHIFT == 18
	return ((size_t)(s & ~(uint32_t)0x3ffff));
# else
	return ((size_t)percpu_priv_sidx(s) * PERCPU_PRIV_STRIDE);
# endif
}

extern struct percpu_priv_global percpu_priv_g;
# if PERCPU_MD_HOSTED
extern PERCPU_THREAD_LOCAL struct percpu_priv_td percpu_priv_td;
#  define PERCPU_PRIV_TD percpu_priv_td
# else
/* Firmware: no threads.  The state is the core's (percpu_md_cpu_id() <
 * PERCPU_MAXCPU); interrupt handlers nest on it as signal handlers do on
 * a thread's. */
extern struct percpu_priv_td percpu_priv_tds[PERCPU_MAXCPU];
#  define PERCPU_PRIV_TD (percpu_priv_tds[percpu_md_cpu_id()])
# endif

/*
 * percpu_priv_set_state - publish a thread's section state: a volatile
 * store, which no compiler drops or merges with a later one (a signal
 * handler may look at state at any instruction; inlined sections would
 * otherwise lose the enter's store to the leave's), and which leaves the
 * compiler free to keep the value it stored.
 */
static inline void
percpu_priv_set_state(struct percpu_priv_td *td, uint32_t s)
{
	*(volatile uint32_t *)&td->state = s;
}

void percpu_priv_init(void);
/* dpcpu.h's implementation: makes DPCPU's copies; called by
 * percpu_priv_init_once() before the table is published. */
void dpcpu_priv_boot(void);
void percpu_priv_stuck(int on);
unsigned percpu_priv_acquire_slow(struct percpu_priv_td *td, unsigned want);
# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ && defined(__x86_64__)
size_t percpu_priv_enter_out(int as_off);
# endif
void percpu_priv_release_slow(struct percpu_priv_pcpu *pc);
/*
 * percpu_priv_held - the CPU the calling thread holds: the one of its
 * section, else (a signal handler) one its interrupted code is taking or
 * leaving in percpu_enter()/percpu_leave(); PERCPU_NOCPU if none.
 *
 * Context: any, signal handlers included.  O(possible CPUs) outside a
 *          section.
 */
unsigned percpu_priv_held(void);
uintptr_t percpu_priv_token(struct percpu_priv_td *td);
unsigned percpu_priv_foreign(unsigned *cpu);
# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ
void percpu_priv_rseq_stop(void);
# endif
uint32_t percpu_priv_pin_lost(void);
void percpu_priv_local_add_slow(void *h, uint64_t v);
# if PERCPU_MD == PERCPU_MD_SIM
unsigned percpu_priv_sim_place(struct percpu_priv_td *td);
# endif

/*
 * percpu_priv_ready - make sure the CPU table exists.
 *
 * Context: any thread (the first call initializes; not from a signal
 *          handler that interrupted the first call).  Firmware with
 *          PERCPU_BOOT_INIT=1: nothing (percpu_init() ran at boot).
 * Ordering: acquire on ready; pairs with the release store at the end
 *           of percpu_priv_init_once() (percpu/impl.h).
 */
static inline void
percpu_priv_ready(void)
{
# if PERCPU_BOOT_INIT && !PERCPU_MD_HOSTED
	/* Firmware whose boot code called percpu_init(): nothing to check. */
# else
	if (PERCPU_UNLIKELY(!atomic_load_explicit(&percpu_priv_g.ready,
		memory_order_acquire)))
		percpu_priv_init();
# endif
}

/* The core words of unit @idx. */
static inline struct percpu_priv_pcpu *
percpu_priv_pcpu(unsigned idx)
{
	return ((struct percpu_priv_pcpu *)(void *)(percpu_priv_g.unit0 +
	    (size_t)idx * PERCPU_PRIV_STRIDE));
}

/*
 * percpu_priv_map - the unit index of CPU *@cpu.
 *
 * Context: any; the table exists.
 * Return: a unit index < ncpu, always.  An id outside the table is folded
 *         onto a possible CPU and *@cpu is rewritten to that CPU's id.
 */
static inline unsigned
percpu_priv_map(unsigned *cpu)
{
	if (PERCPU_LIKELY(*cpu < percpu_priv_g.maxcpu)) {
		unsigned idx = percpu_priv_g.cpu2idx[*cpu];

		if (PERCPU_LIKELY(idx != PERCPU_PRIV_NOIDX))
			return (idx);
	}
	return (percpu_priv_foreign(cpu));
}

/* ---- Port hooks that need the core's state ---- */
# if PERCPU_MD == PERCPU_MD_SIM
/*
 * percpu_md_cpu_id - the simulated CPU of the calling thread.
 *
 * Context: any thread.
 * Return: the id set by percpu_sim_migrate(), else a CPU assigned round
 *         robin on first use; with percpu_sim_chaos(1), a new random
 *         possible CPU at every call (a migration at every chance).
 */
static inline unsigned
percpu_md_cpu_id(void)
{
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;

	if (PERCPU_UNLIKELY(td->sim_cpu1 == 0 ||
		atomic_load_explicit(&percpu_priv_g.sim_chaos,
		    memory_order_relaxed)))
		return (percpu_priv_sim_place(td));
	return (td->sim_cpu1 - 1);
}
# endif

/*
 * percpu_priv_cpu_id - the CPU to use now: the pinned one for a pinned
 * thread (percpu_pin(): the kernel keeps it there), else the port's.
 */
static inline unsigned
percpu_priv_cpu_id(void)
{
	uint32_t pin1 = PERCPU_PRIV_TD.pin1;

	if (PERCPU_UNLIKELY(pin1 != 0))
		return (pin1 - 1);
	return (percpu_md_cpu_id());
}

/* ---- Core: MP and UP side by side, identical signatures ---- */

# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ && \
     defined(PERCPU_MD_RSEQ_LOCK) && !PERCPU_MD_HAS_IRQ
/*
 * percpu_priv_rseq_take - the restartable lock: a thread with a token
 * takes the lock word of the CPU it runs on with one plain commit, if the
 * id is below the bound the sequence reads (percpu_md_rseq_llim: rseq on,
 * the id is its own unit; 0 until then, and in a module whose sequences
 * are not the implementation's).  PERCPU_DEBUG=1: a pinned thread off
 * its CPU does not try (the slow path reports it).  It stores no state.
 *
 * Context: any thread (percpu_priv_enter_as(), percpu_priv_qenter()).
 * Ordering: the commit is the acquire (only a thread on this CPU writes
 *           the word by sequence; CAS takers restart it first).
 * Return: 0 when it committed: *@cpup is the CPU id, its own unit index,
 *         *@ownerp the address of the lock word it took and *@s1p
 *         the state of a first section on it (percpu_priv_sfirst());
 *         1 when it did not (rseq_cs cleared): *@cpup is the id read;
 *         -1 when it could not try.
 */
static inline PERCPU_PRIV_ENTER_INLINE int
percpu_priv_rseq_take(struct percpu_priv_td *td, uint32_t *cpup,
    uintptr_t *ownerp, uint32_t *s1p)
{
	uint32_t s1;
	uintptr_t tok = td->token;
	ptrdiff_t off = percpu_md_rseq_offset();
	uint32_t cpu = percpu_md_rseq_start_at(off);
	uintptr_t owner;

	*cpup = cpu;
	if (PERCPU_UNLIKELY(tok == 0) ||
	    (!PERCPU_MD_RSEQ_DIRECT && PERCPU_UNLIKELY(off == 0))
#  if PERCPU_DEBUG
	    || (td->pin1 != 0 && cpu != td->pin1 - 1)
#  endif
	)
		return (-1);
	/* The owner is an integer, dereferenced only below the bound (an
	 * id at or above it may wrap here); its offset is the state's upper
	 * bits (one shift for both, the compiler shares it). */
	s1 = percpu_priv_sfirst(cpu);
	owner = (uintptr_t)percpu_priv_g.unit0 + percpu_priv_soff(s1);
	if (PERCPU_LIKELY(percpu_md_rseq_lock(owner, tok, cpu, off) == 0)) {
		*ownerp = owner;
		*s1p = s1;
		return (0);
	}
	/* rseq_cs may name this object's own descriptor. */
	percpu_md_rseq_clear(off);
	return (1);
}
# endif

/*
 * percpu_priv_enter_slow - percpu_enter()'s wait: the CPU id taken, or
 * with @as_off its unit's byte offset from unit 0 (from state: the slow path
 * always takes the current CPU, borrowed or not).
 */
static inline size_t
percpu_priv_enter_slow(struct percpu_priv_td *td, int as_off)
{
	unsigned cpu = percpu_priv_acquire_slow(td, PERCPU_NOCPU);

	return (as_off ? percpu_priv_soff(td->state) : cpu);
}

/*
 * percpu_priv_enter_as - percpu_enter(), returning the CPU id taken, or
 * with @as_off (a constant) its unit's byte offset from unit 0 (what a copy
 * is from the handle).
 */
static inline PERCPU_PRIV_ENTER_INLINE size_t
percpu_priv_enter_as(int as_off)
{
# if PERCPU_MD_HAS_IRQ
	percpu_md_irq_t irq = percpu_md_irq_save();
# endif
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;
	uint32_t s = td->state;
	uintptr_t tok = td->token;
	struct percpu_priv_pcpu *pc;
	uintptr_t expect = 0;
	unsigned id, idx;

	if (PERCPU_UNLIKELY(s != 0)) {
		/* At the limit: reported, the depth stays (s + 1 would carry
		 * into PERCPU_PRIV_BORROWED: depth 0, a CPU never left). */
		if (PERCPU_UNLIKELY(
			(s & PERCPU_PRIV_DEPTH) == PERCPU_PRIV_DEPTH))
			percpu_priv_fail(
			    "percpu_enter: sections nested too deep");
		else
			percpu_priv_set_state(td, s + 1);
		return (as_off ?
			percpu_priv_soff(s) :
			percpu_priv_g.ci[percpu_priv_sidx(s)].ci_index);
	}
# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ && \
     defined(PERCPU_MD_RSEQ_LOCK) && !PERCPU_MD_HAS_IRQ
	/* The restartable lock; everything else waits in the slow path,
	 * which counts itself and restarts the CPU's sequences before its
	 * CAS. */
	{
		uint32_t cpu, s1;
		uintptr_t owner;
		int r = percpu_priv_rseq_take(td, &cpu, &owner, &s1);

		if (PERCPU_LIKELY(r == 0)) {
			percpu_priv_set_state(td, s1);
			/* cpu is its own unit. */
			return (as_off ? percpu_priv_soff(s1) : cpu);
		}
		/* Taken, preempted, or a module without the implementation:
		 * its sequence, then the wait. */
		if (r == 1 && cpu < percpu_md_rseq_llim)
			return (percpu_priv_enter_out(as_off));
	}
	percpu_priv_ready(); /* then rseq_lock is final */
	if (percpu_priv_g.rseq_lock)
		return (percpu_priv_enter_slow(td, as_off));
# endif
	percpu_priv_ready();
	id = percpu_priv_cpu_id();
	idx = percpu_priv_map(&id);
	pc = percpu_priv_pcpu(idx);
	/* Acquire: pairs with the release store in percpu_leave().  A thread
	 * without a token yet gets one in the slow path. */
	if (PERCPU_LIKELY(tok != 0 &&
		atomic_compare_exchange_strong_explicit(&pc->owner, &expect,
		    tok, memory_order_acquire, memory_order_relaxed))) {
		/* One store publishes CPU and depth to signal handlers. */
		percpu_priv_set_state(td, percpu_priv_sfirst(idx));
# if PERCPU_MD_HAS_IRQ
		td->irq = irq;
# endif
		return (as_off ? (size_t)idx * PERCPU_PRIV_STRIDE : id);
	}
# if PERCPU_MD_HAS_IRQ
	{
		size_t r = percpu_priv_enter_slow(td, as_off);

		td->irq = irq;
		return (r);
	}
# else
	return (percpu_priv_enter_slow(td, as_off));
# endif
}

/*
 * percpu_enter - begin an exclusive section on the current CPU.
 *
 * Context: any thread, no registration; signal handlers (see SIGNALS
 *          above).  The section must not wait for another thread (see
 *          FORK).
 * Ordering: acquire: everything the previous owner of the CPU did inside
 *           its section is visible; pairs with the release store in
 *           percpu_leave().
 * UP: a compiler barrier.
 * Firmware with an interrupt mask: the outermost enter masks the core's
 * interrupts first (before any state changes) until the matching leave.
 * Return: the CPU id now held (the same one for a nested call).
 */
static inline PERCPU_PRIV_ENTER_INLINE unsigned
percpu_enter(void)
{
	return ((unsigned)percpu_priv_enter_as(0));
}

/*
 * percpu_priv_enter_ptr - percpu_enter(), then the held CPU's copy of
 * @h: the faces' getref/enter (the unit's offset straight from the
 * lock, no second read of state).
 */
static inline PERCPU_PRIV_ENTER_INLINE void *
percpu_priv_enter_ptr(void *h)
{
	return ((char *)h + percpu_priv_enter_as(1));
}

/*
 * percpu_enter_cpu - begin an exclusive section on CPU @cpu, wherever the
 * calling thread runs (the "as that CPU" of an xcall).
 *
 * Context: thread context, outside any section (a detected error
 *          otherwise: the handler is called and PERCPU_NOCPU returned).
 *          A signal handler whose thread was inside percpu_enter() or
 *          percpu_leave(), or inside counters_add() or counters_pkt()
 *          (a quiet section: the lock word alone, no state), counts as
 *          inside that section: detected when it would wait (instead of
 *          deadlocking with another thread's handler doing the same);
 *          a free CPU is taken at once, and the thread then holds two
 *          until the handler's percpu_leave().
 * Ordering: as percpu_enter().
 * UP: a compiler barrier; @cpu must be 0.
 * Return: @cpu, or PERCPU_NOCPU if @cpu is not a possible CPU or the
 *         caller is already in a section.
 */
static inline unsigned
percpu_enter_cpu(unsigned cpu)
{
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;

	percpu_priv_ready();
	if (td->state != 0) {
		percpu_priv_fail("percpu_enter_cpu: already in a section on "
				 "CPU %u",
		    percpu_priv_g.ci[percpu_priv_sidx(td->state)].ci_index);
		return (PERCPU_NOCPU);
	}
	if (cpu >= percpu_priv_g.maxcpu ||
	    percpu_priv_g.cpu2idx[cpu] == PERCPU_PRIV_NOIDX)
		return (PERCPU_NOCPU);
# if PERCPU_MD_HAS_IRQ
	{
		percpu_md_irq_t irq = percpu_md_irq_save();

		cpu = percpu_priv_acquire_slow(td, cpu);
		if (cpu == PERCPU_NOCPU)
			percpu_md_irq_restore(irq);
		else
			td->irq = irq;
		return (cpu);
	}
# else
	return (percpu_priv_acquire_slow(td, cpu));
# endif
}

/*
 * percpu_priv_release - release the lock word of @pc, held by the caller
 * (percpu_leave(), percpu_priv_qleave()): to 0, or to a waiting remote
 * acquirer (PERCPU_PRIV_HANDOFF, percpu/impl.h).  A waiter that counts
 * itself after the load of want takes its turn at the next release.
 * Ordering: release; pairs with the acquire CAS in percpu_enter() and
 * percpu_priv_acquire_slow() and with the restartable lock's read of
 * owner (percpu_md_rseq_lock()).
 */
static inline PERCPU_PRIV_ENTER_INLINE void
percpu_priv_release(struct percpu_priv_pcpu *pc)
{
	if (PERCPU_UNLIKELY(
		atomic_load_explicit(&pc->want, memory_order_relaxed) != 0)) {
		percpu_priv_release_slow(pc);
		return;
	}
	atomic_store_explicit(&pc->owner, 0, memory_order_release);
}

/*
 * percpu_leave - end the innermost exclusive section.
 *
 * Context: the thread that entered (a leave without an enter is a
 *          detected error).
 * Ordering: release: the section's stores are visible to the next owner
 *           of the CPU; pairs with the acquire CAS in percpu_enter() and
 *           percpu_priv_acquire_slow().
 * UP: a compiler barrier.
 *
 * percpu_priv_leave_s(@s, @fn) is its body, for the face function @fn,
 * with @s the thread's state read by the caller (or known to it: what
 * its own enter stored, which every signal handler restores).
 */
static inline PERCPU_PRIV_ENTER_INLINE void
percpu_priv_leave_s(uint32_t s, const char *fn)
{
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;

# if PERCPU_MD_HAS_IRQ
	/* Depth 1 (no handler runs inside a masked section: none borrows). */
	if (PERCPU_LIKELY((s & PERCPU_PRIV_DEPTH) == 1)) {
# else
	/* Depth 1, not borrowed: one test. */
	if (PERCPU_LIKELY(
		(s & (PERCPU_PRIV_DEPTH | PERCPU_PRIV_BORROWED)) == 1)) {
# endif
# if PERCPU_MD_HAS_IRQ
		percpu_md_irq_t irq = td->irq;
		struct percpu_priv_pcpu *held =
		    percpu_priv_pcpu(percpu_priv_sidx(s));

		td->state = 0;
		percpu_priv_release(held);
		/* Unmask last: no handler ran inside the section. */
		percpu_md_irq_restore(irq);
		return;
# endif
		td->state = 0;
		/* state before the release: a handler that runs in between
		 * finds itself the owner and borrows. */
		atomic_signal_fence(memory_order_seq_cst);
# if PERCPU_PRIV_X86_ASM && PERCPU_PRIV_SSHIFT == 18
		/* The same test and release as below, addressed from unit0
		 * and the state (the unit's offset + 1: want at 7, owner at
		 * -1): three instructions where the compiler makes six.
		 * Release: a plain store on x86-64 (TSO), after the memory
		 * clobber; pairs with the acquire CAS in percpu_enter() and
		 * percpu_priv_acquire_slow() and with the restartable lock's
		 * read of owner (percpu_md_rseq_lock()). */
		__asm__ goto("cmpl $0, 7(%0,%1)\n\t"
			     "jne %l[percpu_priv_handoff]\n\t"
			     "movq $0, -1(%0,%1)"
			     :
			     : "r"(percpu_priv_g.unit0), "r"((uintptr_t)s)
			     : "memory", "cc"
			     : percpu_priv_handoff);
		return;
	percpu_priv_handoff:
		percpu_priv_release_slow(
		    (struct percpu_priv_pcpu *)(void *)(percpu_priv_g.unit0 +
			percpu_priv_soff(s)));
		return;
# else
		percpu_priv_release(
		    (struct percpu_priv_pcpu *)(void *)(percpu_priv_g.unit0 +
			percpu_priv_soff(s)));
		return;
# endif
	}
	if (PERCPU_UNLIKELY((s & PERCPU_PRIV_DEPTH) == 0)) {
		percpu_priv_fail("%s: not in a section", fn);
		return;
	}
	if ((s & PERCPU_PRIV_DEPTH) == 1) {
		/* Borrowed: a handler inside its own thread's enter/leave
		 * window; the interrupted code owns the lock word
		 * (percpu/impl.h). */
		td->state = 0;
		return;
	}
	percpu_priv_set_state(td, s - 1);
}

/*
 * percpu_priv_qenter / percpu_priv_qleave - a quiet section, for the
 * faces' own one-statement bodies (counters_add, counters_pkt: no user
 * code, no call): the restartable lock alone, with no state stored.  To
 * a signal handler the whole section is then what the window between a
 * percpu_enter()'s commit and its state store always is: the handler
 * finds its own thread's token in the lock word and borrows the CPU
 * (percpu/impl.h), exactly as a nested section; a thread that dies in a
 * handler there is released by the scan of its exit handler.  Two stores
 * and their instructions fewer than percpu_enter() + percpu_leave().
 *
 * Context: a thread outside any section (else -1).
 * Ordering: as percpu_enter() / percpu_leave() (the lock word's acquire
 *           by sequence, the release store).
 * UP, firmware, getcpu-only builds: qenter returns -1 (no such path).
 * Return: 0 with *@pcp the held CPU's core words (its lock word) and
 *         *@offp the unit's byte offset; -1 if the sequence did not
 *         commit (in a section, no rseq, taken, preempted...): then the
 *         caller takes a full section instead.
 */
static inline PERCPU_PRIV_ENTER_INLINE int
percpu_priv_qenter(struct percpu_priv_pcpu **pcp, size_t *offp)
{
# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ && \
     defined(PERCPU_MD_RSEQ_LOCK) && !PERCPU_MD_HAS_IRQ
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;
	uint32_t cpu, s1;
	uintptr_t owner;

	if (PERCPU_LIKELY(td->state == 0) &&
	    PERCPU_LIKELY(percpu_priv_rseq_take(td, &cpu, &owner, &s1) == 0)) {
		*offp = percpu_priv_soff(s1);
		*pcp = (struct percpu_priv_pcpu *)owner;
		return (0);
	}
# else
	(void)pcp;
	(void)offp;
# endif
	return (-1);
}

static inline PERCPU_PRIV_ENTER_INLINE void
percpu_priv_qleave(struct percpu_priv_pcpu *pc)
{
	/* The body's stores (asm statements with memory operands
	 * included) before the release, for the compiler too. */
	atomic_signal_fence(memory_order_seq_cst);
	percpu_priv_release(pc);
}

/*
 * percpu_priv_leave_named - percpu_leave() for the face function @fn
 * (named in "<fn>: not in a section").
 */
static inline PERCPU_PRIV_ENTER_INLINE void
percpu_priv_leave_named(const char *fn)
{
	percpu_priv_leave_s(PERCPU_PRIV_TD.state, fn);
}

static inline PERCPU_PRIV_ENTER_INLINE void
percpu_leave(void)
{
	percpu_priv_leave_named("percpu_leave");
}

/*
 * percpu_curcpu - the CPU the caller holds, or else the one it runs on.
 *
 * Context: any.  Outside a section the answer may be stale at once.
 * UP: 0.
 * Return: a possible CPU id.
 */
static inline unsigned
percpu_curcpu(void)
{
	uint32_t s = PERCPU_PRIV_TD.state;
	unsigned cpu;

	if (s != 0)
		return (percpu_priv_g.ci[percpu_priv_sidx(s)].ci_index);
	percpu_priv_ready();
	cpu = percpu_priv_cpu_id();
	(void)percpu_priv_map(&cpu);
	return (cpu);
}

/*
 * percpu_in_section - the section depth of the calling thread.
 *
 * UP: 0 (sections are not tracked); with PERCPU_DEBUG=1 the depth too.
 */
static inline unsigned
percpu_in_section(void)
{
	return (PERCPU_PRIV_TD.state & PERCPU_PRIV_DEPTH);
}

/* percpu_maxcpu - highest possible CPU id + 1.  UP: 1. */
static inline unsigned
percpu_maxcpu(void)
{
	percpu_priv_ready();
	return (percpu_priv_g.maxcpu);
}

/* percpu_ncpus - the number of possible CPUs.  UP: 1. */
static inline unsigned
percpu_ncpus(void)
{
	percpu_priv_ready();
	return (percpu_priv_g.ncpu);
}

/*
 * percpu_cpu_possible - is @cpu a possible CPU id?
 * UP: @cpu == 0.
 */
static inline int
percpu_cpu_possible(unsigned cpu)
{
	percpu_priv_ready();
	return (cpu < percpu_priv_g.maxcpu &&
	    percpu_priv_g.cpu2idx[cpu] != PERCPU_PRIV_NOIDX);
}

/*
 * percpu_priv_holds - whether CPU @cpu's lock word holds the calling
 * thread's token: its own section there, or (a signal handler) the
 * section, quiet section (counters_add) or lock window its interrupted
 * code is in, whatever CPU the handler itself holds.
 *
 * Context: any, signal handlers included.
 * Ordering: relaxed (the thread's own store, or not its token).
 * Return: 1 or 0; 0 for an id that is not a possible CPU.
 */
static inline int
percpu_priv_holds(unsigned cpu)
{
	uintptr_t tok = PERCPU_PRIV_TD.token;

	return (tok != 0 && percpu_cpu_possible(cpu) &&
	    atomic_load_explicit(
		&percpu_priv_pcpu(percpu_priv_g.cpu2idx[cpu])->owner,
		memory_order_relaxed) == tok);
}

/*
 * percpu_priv_cpu_free - whether CPU @cpu's lock word has no holder at
 * all: 0, or PERCPU_PRIV_HANDOFF (released to a counted waiter that has
 * not taken it yet).  The word is the lock of every backend: the
 * restartable lock (rseq_lock, x86-64) commits the holder's token into
 * it with a plain store on that CPU, the other takers (the getcpu
 * backend, the simulated port, remote and slow paths) with CAS; a quiet
 * section (counters_add(), counters_pkt()) and the window of an enter or
 * leave that a signal handler interrupted hold it too, with no state.  A
 * thread that exited holding it had it released (robust-mutex style) by
 * percpu_priv_thread_exit().
 *
 * Context: any, signal handlers included.
 * Ordering: acquire; pairs with the release store of percpu_leave() and
 *           percpu_priv_release() (x86-64: the asm store of percpu_leave(),
 *           TSO), with the seq_cst store of percpu_priv_release_slow() and
 *           with the release CAS of percpu_priv_thread_exit(): what the
 *           holder that released did before (closing a counters set) is
 *           visible after a 1.  A 1 says nothing of a taker whose lock
 *           store is not visible yet (the caller's business, see
 *           cpumem_priv_snap()).
 * Return: 1 or 0; 0 for an id that is not a possible CPU.
 */
static inline int
percpu_priv_cpu_free(unsigned cpu)
{
	uintptr_t o;

	if (!percpu_cpu_possible(cpu))
		return (0);
	o = atomic_load_explicit(
	    &percpu_priv_pcpu(percpu_priv_g.cpu2idx[cpu])->owner,
	    memory_order_acquire);
	return (o == 0 || o == PERCPU_PRIV_HANDOFF);
}

/*
 * percpu_cpu_first / percpu_cpu_next - walk the possible CPUs in
 * ascending id.
 *
 * Return: the first / next possible id, PERCPU_NOCPU past the last.
 * UP: 0, then PERCPU_NOCPU.
 */
static inline unsigned
percpu_cpu_first(void)
{
	percpu_priv_ready();
	return (percpu_priv_g.ci[0].ci_index);
}

static inline unsigned
percpu_cpu_next(unsigned cpu)
{
	unsigned idx;

	if (!percpu_cpu_possible(cpu))
		return (PERCPU_NOCPU);
	idx = percpu_priv_g.cpu2idx[cpu] + 1u;
	return (idx < percpu_priv_g.ncpu ? percpu_priv_g.ci[idx].ci_index :
					   PERCPU_NOCPU);
}

/*
 * percpu_cpu_info - the descriptor of CPU @cpu.
 * Return: NULL if @cpu is not possible.
 */
static inline struct cpu_info *
percpu_cpu_info(unsigned cpu)
{
	if (!percpu_cpu_possible(cpu))
		return (NULL);
	return (&percpu_priv_g.ci[percpu_priv_g.cpu2idx[cpu]]);
}

/*
 * percpu_ptr - CPU @cpu's copy of the allocation @h (remote access).
 *
 * Context: any.  No synchronization: see the face's rules.
 * UP: @h (cpu is evaluated and ignored).
 * Return: the copy, or NULL if @cpu is not a possible CPU.
 */
static inline void *
percpu_ptr(void *h, unsigned cpu)
{
	if (!percpu_cpu_possible(cpu))
		return (NULL);
	return ((char *)h +
	    (size_t)percpu_priv_g.cpu2idx[cpu] * PERCPU_PRIV_STRIDE);
}

/*
 * percpu_cur_ptr - the held CPU's copy of @h.
 *
 * Context: inside a section (percpu_enter()).
 * UP: @h.
 */
static inline void *
percpu_cur_ptr(void *h)
{
	uint32_t s = PERCPU_PRIV_TD.state;

	PERCPU_ASSERT(s != 0);
	return ((char *)h + percpu_priv_soff(s));
}

/*
 * percpu_local_ptr - the copy of @h of the CPU the caller runs on now,
 * without a section (inside one: the held CPU's copy).
 *
 * Context: any, signal handlers included.  The thread may migrate at
 *          once, so the copy is only a locality hint: update it with
 *          atomics (FreeBSD's arm64/riscv counter(9) model), never with a
 *          plain read-modify-write.
 * UP: @h.
 */
static inline void *
percpu_local_ptr(void *h)
{
	uint32_t s = PERCPU_PRIV_TD.state;
	unsigned cpu, idx;

	if (s != 0)
		idx = percpu_priv_sidx(s);
	else {
		percpu_priv_ready();
		cpu = percpu_priv_cpu_id();
		idx = percpu_priv_map(&cpu);
	}
	return ((char *)h + (size_t)idx * PERCPU_PRIV_STRIDE);
}

/*
 * percpu_local_add64 - add @v to the running CPU's copy of the 64-bit word
 * whose handle (unit-0 copy) is @h.  Never loses an update: not under
 * migration, preemption, nor signal handlers adding to the same word.
 *
 * Backends: "rseq": one restartable sequence that commits with a plain
 * add on the CPU it checked; a pinned thread skips the CPU lookup and is
 * checked against its CPU (a thread moved off it is a detected error).
 * The first id outside the table that an rseq add meets stops rseq adds
 * for the whole process (percpu_priv_rseq_stop(): no sequence still in
 * flight can commit afterwards), and the process goes on as "getcpu".
 * "getcpu" and "sim": a relaxed atomic add on the copy of the CPU the
 * thread ran on (a migration only costs locality).
 * Word rule: such a word is "local-add-only": written by
 * percpu_local_add64() alone (and zeroed by the arena), read with relaxed
 * atomic loads (percpu_load64()).  No other store, plain or atomic, from
 * any CPU: a remote atomic would race the rseq commit.
 * Context: any, signal handlers included.
 * Ordering: relaxed.
 * UP: a plain add.
 */
static inline void
percpu_local_add64(void *h, uint64_t v)
{
# if PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ && defined(__x86_64__)
	/* The inline add (x86-64): cpu_id_start, then one sequence that
	 * checks the thread still runs there and that the id is below
	 * the add bound its descriptor carries (rseq adds on, and the id is its own unit
	 * index: a foreign id is never an index).  Nothing before it but
	 * the offset (PERCPU_MD_RSEQ_DIRECT: glibc's, always valid; else
	 * the toolkit's copy, 0 until rseq is on).  PERCPU_DEBUG=1: a
	 * pinned thread off its CPU goes out of line, which reports it. */
	ptrdiff_t off = percpu_md_rseq_offset();
	uint32_t cpu = percpu_md_rseq_start_at(off);

	if ((PERCPU_MD_RSEQ_DIRECT || PERCPU_LIKELY(off != 0)) &&
#  if PERCPU_DEBUG
	    (PERCPU_PRIV_TD.pin1 == 0 || cpu == PERCPU_PRIV_TD.pin1 - 1) &&
#  endif
	    PERCPU_LIKELY(
		percpu_md_rseq_add_lim((uint64_t *)(void *)((char *)h +
					   (size_t)cpu * PERCPU_PRIV_STRIDE),
		    v, cpu, off) == 0))
		return;
	/* Not committed: a failed check leaves rseq_cs naming the
	 * descriptor, the object's own if its slot was never copied (a
	 * module without the implementation, or before init). */
	if (PERCPU_MD_RSEQ_DIRECT || off != 0)
		percpu_md_rseq_clear(off);
	/* 0 (never chosen, or stopped: percpu_priv_rseq_stop() stores 0 only
	 * after its membarrier) sends the add to the atomic path below,
	 * which is control-dependent on this load, so its write cannot be
	 * performed before the 0 is read. */
	if (__atomic_load_n(&percpu_md_rseq_adds, __ATOMIC_RELAXED) != 0) {
		percpu_priv_local_add_slow(h, v);
		return;
	}
# elif PERCPU_MD == PERCPU_MD_LINUX && PERCPU_MD_RSEQ
	/* The inline add (AArch64): cpu_id_start, one range check ([rbase,
	 * rbase + rlim): rseq is on and these ids are their own unit, so a
	 * foreign id is never an index; a pinned thread's range is its CPU
	 * alone, so a thread moved off it goes out of line and is reported;
	 * rlim 0 otherwise, and then cpu is not even an id), one sequence
	 * (which also checks that rseq adds are still on).  Anything else,
	 * an abort included, is the out-of-line path. */
	uint32_t cpu = percpu_md_rseq_cpu_start();

	if (PERCPU_LIKELY(cpu - PERCPU_PRIV_TD.rbase < PERCPU_PRIV_TD.rlim) &&
	    PERCPU_LIKELY(
		percpu_md_rseq_add((uint64_t *)(void *)((char *)h +
				       (size_t)cpu * PERCPU_PRIV_STRIDE),
		    v, cpu) == 0))
		return;
	if (__atomic_load_n(&percpu_md_rseq_adds, __ATOMIC_RELAXED) != 0) {
		percpu_priv_local_add_slow(h, v);
		return;
	}
# endif
# if !PERCPU_MD_HOSTED && !PERCPU_MD_HAS_POSSIBLE
	/*
	 * Firmware with dense ids [0, PERCPU_MD_NCPUS): the core's unit index
	 * is its exact id (md_baremetal.h), so no table and no readiness
	 * check (@h exists, so does the arena).  Inside a section taken as
	 * another CPU this is still the running core's copy: the add is an
	 * atomic RMW, any copy sums the same.
	 */
	atomic_fetch_add_explicit(
	    (_Atomic(uint64_t) *)(void *)((char *)h +
		(size_t)percpu_md_cpu_id() * PERCPU_PRIV_STRIDE),
	    v, memory_order_relaxed);
# else
	atomic_fetch_add_explicit((_Atomic(uint64_t) *)percpu_local_ptr(h), v,
	    memory_order_relaxed);
# endif
}

/*
 * percpu_load64 - CPU @cpu's copy of the 64-bit word @h, never torn.
 *
 * Context: any.  @cpu must be possible.
 * Ordering: relaxed.
 * UP: a plain load.
 */
static inline uint64_t
percpu_load64(void *h, unsigned cpu)
{
	return (atomic_load_explicit((_Atomic(uint64_t) *)percpu_ptr(h, cpu),
	    memory_order_relaxed));
}

#else /* !PERCPU_MP */

/* UP: one CPU.  The descriptor of CPU 0 lives in the implementation. */
extern struct cpu_info percpu_priv_ci0;

/* PERCPU_DEBUG=1's tracked sections (implementation; see below). */
void percpu_priv_up_dbg_enter(void);
void percpu_priv_up_dbg_leave(void);
unsigned percpu_priv_up_dbg_depth(void);

# if PERCPU_MD_HAS_IRQ
/*
 * UP firmware with an interrupt mask: sections mask interrupts, OpenBSD's
 * splhigh().  depth and irq are only touched with interrupts masked.
 */
struct percpu_priv_up {
	unsigned depth;
	percpu_md_irq_t irq; /* mask state before the outermost section */
};
extern struct percpu_priv_up percpu_priv_up;

static inline unsigned
percpu_enter(void)
{
	percpu_md_irq_t irq = percpu_md_irq_save();

	if (percpu_priv_up.depth++ == 0)
		percpu_priv_up.irq = irq;
	return (0);
}

static inline unsigned
percpu_enter_cpu(unsigned cpu)
{
	return (cpu == 0 ? percpu_enter() : PERCPU_NOCPU);
}

static inline void
percpu_leave(void)
{
	if (PERCPU_UNLIKELY(percpu_priv_up.depth == 0)) {
		percpu_priv_fail("percpu_leave: not in a section");
		return;
	}
	if (--percpu_priv_up.depth == 0)
		percpu_md_irq_restore(percpu_priv_up.irq);
}
# elif PERCPU_DEBUG
/*
 * UP, PERCPU_DEBUG=1: sections are tracked (percpu/impl.h): the calling
 * thread's depth (percpu_in_section()), and on hosted builds the thread
 * inside, so that a second thread entering while another one is inside is
 * reported through the error handler (UP assumes one thread of control
 * per core).  Not instruction-for-instruction plain code any more.
 */

static inline unsigned
percpu_enter(void)
{
	percpu_priv_up_dbg_enter();
	return (0);
}

static inline unsigned
percpu_enter_cpu(unsigned cpu)
{
	if (cpu != 0)
		return (PERCPU_NOCPU);
	percpu_priv_up_dbg_enter();
	return (0);
}

static inline void
percpu_leave(void)
{
	percpu_priv_up_dbg_leave();
}
# else
static inline unsigned
percpu_enter(void)
{
	atomic_signal_fence(memory_order_seq_cst);
	return (0);
}

static inline unsigned
percpu_enter_cpu(unsigned cpu)
{
	atomic_signal_fence(memory_order_seq_cst);
	return (cpu == 0 ? 0 : PERCPU_NOCPU);
}

static inline void
percpu_leave(void)
{
	atomic_signal_fence(memory_order_seq_cst);
}
# endif

static inline unsigned
percpu_curcpu(void)
{
	return (0);
}

/*
 * UP: 0 (sections are not tracked), except with PERCPU_DEBUG=1: the
 * calling thread's depth (the interrupt-masking depth on firmware), so
 * that KASSERT(kpreempt_disabled())-style checks work.
 */
static inline unsigned
percpu_in_section(void)
{
# if PERCPU_DEBUG && PERCPU_MD_HAS_IRQ
	return (percpu_priv_up.depth);
# elif PERCPU_DEBUG
	return (percpu_priv_up_dbg_depth());
# else
	return (0);
# endif
}

/*
 * percpu_priv_up_enter / percpu_priv_up_leave - the sections of the UP
 * faces that are plain code on a hosted build (cpumem_enter,
 * counters_enter, the word updates): nothing, except with PERCPU_DEBUG=1
 * where they are tracked as percpu_enter()/percpu_leave() are.  On
 * firmware with an interrupt mask they are percpu_enter()/percpu_leave():
 * every section of every face masks in UP exactly as in MP.
 */
static inline void
percpu_priv_up_enter(void)
{
# if PERCPU_MD_HAS_IRQ || PERCPU_DEBUG
	(void)percpu_enter();
# endif
}

static inline void
percpu_priv_up_leave(void)
{
# if PERCPU_MD_HAS_IRQ || PERCPU_DEBUG
	percpu_leave();
# endif
}

static inline unsigned
percpu_maxcpu(void)
{
	return (1);
}

static inline unsigned
percpu_ncpus(void)
{
	return (1);
}

static inline int
percpu_cpu_possible(unsigned cpu)
{
	return (cpu == 0);
}

static inline unsigned
percpu_cpu_first(void)
{
	return (0);
}

static inline unsigned
percpu_cpu_next(unsigned cpu)
{
	(void)cpu;
	return (PERCPU_NOCPU);
}

static inline struct cpu_info *
percpu_cpu_info(unsigned cpu)
{
	return (cpu == 0 ? &percpu_priv_ci0 : NULL);
}

static inline void *
percpu_ptr(void *h, unsigned cpu)
{
	return (cpu == 0 ? h : NULL);
}

static inline void *
percpu_cur_ptr(void *h)
{
	return (h);
}

static inline void *
percpu_priv_enter_ptr(void *h)
{
	(void)percpu_enter();
	return (h);
}

static inline void *
percpu_local_ptr(void *h)
{
	return (h);
}

static inline void
percpu_local_add64(void *h, uint64_t v)
{
	percpu_priv_up_enter();
	*(uint64_t *)h += v;
	percpu_priv_up_leave();
}

static inline uint64_t
percpu_load64(void *h, unsigned cpu)
{
	(void)cpu;
	return (*(uint64_t *)h);
}

#endif /* PERCPU_MP */

/*
 * percpu_priv_leave_as - percpu_leave() for the face function @fn (e.g.
 * "percpu_putref"): a leave without an enter is reported as
 * "<fn>: not in a section", the name the user called.
 *
 * Context, Ordering, UP: as percpu_leave() (UP without an interrupt mask
 * does not track sections: nothing to check).
 */
static inline PERCPU_PRIV_ENTER_INLINE void
percpu_priv_leave_as(const char *fn)
{
#if PERCPU_MP
	percpu_priv_leave_named(fn); /* one check of the depth */
#else
# if PERCPU_MD_HAS_IRQ
	if (PERCPU_UNLIKELY(percpu_priv_up.depth == 0)) {
		percpu_priv_fail("%s: not in a section", fn);
		return;
	}
# elif PERCPU_DEBUG
	if (PERCPU_UNLIKELY(percpu_priv_up_dbg_depth() == 0)) {
		percpu_priv_fail("%s: not in a section", fn);
		return;
	}
# else
	(void)fn;
# endif
	percpu_leave();
#endif
}

#if !PERCPU_MP
/*
 * percpu_priv_up_leave_as - percpu_priv_up_leave() for the UP face
 * function @fn (cpumem_leave, counters_leave): a leave without an enter
 * names @fn where the build tracks sections (a port's mask, or
 * PERCPU_DEBUG=1); plain code otherwise.
 */
static inline void
percpu_priv_up_leave_as(const char *fn)
{
# if PERCPU_MD_HAS_IRQ || PERCPU_DEBUG
	percpu_priv_leave_as(fn);
# else
	(void)fn;
# endif
}
#endif

/*
 * percpu_priv_limit_hint - the advice that ends a "cannot reserve @size
 * bytes (limit @limit...)" message: the macro that raises the limit when
 * @size is over it; nothing when the memory ran out under the limit.
 */
static inline const char *
percpu_priv_limit_hint(size_t size, size_t limit)
{
	return (size > limit ? "; raise it with -DPERCPU_UNIT_SIZE=..." : "");
}

/*
 * Recently freed handles: a double free is named as one without reading
 * the freed memory, and with PERCPU_DEBUG=1 a use after free is caught
 * (percpu/impl_diag.h).  The last PERCPU_PRIV_FREED handles freed are
 * remembered until the address is allocated again.
 *
 * percpu_priv_freed(p): 1 if @p was freed and not allocated since.
 *   Context: any, signal handlers included (loads only).
 * percpu_priv_freed_note(p): the face freed its handle @p.  Thread
 *   context.  percpu_priv_zfree() then returns PERCPU_PRIV_EFREED for it.
 * percpu_priv_freed_forget(p): @p was just allocated.  Thread context.
 * percpu_priv_quarantine(p, size): PERCPU_DEBUG: free the arena
 *   allocation @p later, after PERCPU_PRIV_FREED more frees, so that its
 *   address is not reused meanwhile and a use after free is caught.
 */
#define PERCPU_PRIV_FREED 64
#define PERCPU_PRIV_EFREED 3 /* percpu_priv_zfree(): freed already */
int percpu_priv_freed(const void *p);
/*
 * percpu_priv_instance - the address of a private marker of the copy of
 * the implementation that initialized, exported under one name by every
 * module that carries the implementation: a second copy finds the first
 * at start (percpu/impl_diag.h, percpu_priv_one_copy()).
 */
extern _Atomic(uintptr_t) percpu_priv_instance;
void percpu_priv_freed_note(const void *p);
void percpu_priv_freed_forget(void *p);
void percpu_priv_quarantine(void *p, size_t size);

/* Visit every possible CPU id in ascending order. */
#define PERCPU_FOREACH_CPU(cpu)                          \
 for ((cpu) = percpu_cpu_first(); (cpu) != PERCPU_NOCPU; \
      (cpu) = percpu_cpu_next(cpu))

#if PERCPU_MD == PERCPU_MD_SIM
/* ---- Test port controls (PERCPU_MD_SIM only) ---- */

/*
 * percpu_sim_set_cpus - choose the simulated possible CPUs.
 *
 * Context: before the first use of the toolkit in the process.  The
 *          default is $PERCPU_SIM_CPUS, else "0-1,5,63,200".
 * Return: 0, or -1 if @list does not parse, is empty, or the CPU table
 *         already exists.
 */
PERCPU_API int percpu_sim_set_cpus(const char *list);

/*
 * percpu_sim_migrate - "migrate" the calling thread to CPU @cpu.
 *
 * Context: any point, inside a section too (the section keeps the CPU it
 *          holds, as after a real migration; the next enter gets @cpu).
 *          @cpu may be any id: one outside the table exercises folding.
 */
PERCPU_API void percpu_sim_migrate(unsigned cpu);

/* percpu_sim_chaos - while @on, every CPU lookup picks a random CPU. */
PERCPU_API void percpu_sim_chaos(int on);
#endif

/*
 * LINK CHECK
 *	Every translation unit refers to one symbol that only the
 *	implementation defines, and whose name is the build (MP or UP, and
 *	the port) and what to do.  So a program without the implementation,
 *	or whose files disagree on PERCPU_MP or PERCPU_MD, fails to link
 *	with, e.g.:
 *	    undefined reference to
 *`percpu_MP_build_needs_PERCPU_IMPLEMENTATION_in_one_c_file_with_the_same_PERCPU_MP_and_PERCPU_MD'
 */
#if PERCPU_MP && PERCPU_MD == PERCPU_MD_SIM
# define PERCPU_PRIV_LINK \
  percpu_MP_SIM_build_needs_PERCPU_IMPLEMENTATION_in_one_c_file_with_the_same_PERCPU_MP_and_PERCPU_MD
#elif PERCPU_MP && PERCPU_MD_HOSTED
# define PERCPU_PRIV_LINK \
  percpu_MP_build_needs_PERCPU_IMPLEMENTATION_in_one_c_file_with_the_same_PERCPU_MP_and_PERCPU_MD
#elif PERCPU_MP
# define PERCPU_PRIV_LINK \
  percpu_MP_firmware_build_needs_PERCPU_IMPLEMENTATION_in_one_c_file_with_the_same_PERCPU_MP_and_PERCPU_MD
#else
# define PERCPU_PRIV_LINK \
  percpu_UP_build_needs_PERCPU_IMPLEMENTATION_in_one_c_file_with_the_same_PERCPU_MP_and_PERCPU_MD
#endif
PERCPU_API extern const char PERCPU_PRIV_LINK[];
#if defined(__GNUC__) || defined(__clang__)
/* Kept by "used" even where nothing else of the toolkit is: the check
 * does not depend on which functions a file calls. */
static const char *const percpu_priv_link_ref __attribute__((used)) =
    PERCPU_PRIV_LINK;
#endif

PERCPU_END_DECLS

#endif /* PERCPU_CORE_H */

#ifdef PERCPU_IMPLEMENTATION
#include "impl_diag.h"
#include "impl.h"
#ifndef PERCPU_PRIV_LINK_DEFINED
# define PERCPU_PRIV_LINK_DEFINED 1
const char PERCPU_PRIV_LINK[] = "percpu implementation";
#endif
#endif
