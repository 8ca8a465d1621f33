/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu.h - FreeBSD DPCPU(9): static per-CPU variables, critical sections
 * and the CPU-set names of <sys/pcpu.h>, for userspace C11 and firmware.
 *
 * USAGE
 *	In exactly one .c file of the program (the one that defines the
 *	toolkit's state; any one header of the toolkit there emits the whole
 *	implementation, DPCPU's part included):
 *
 *		#define PERCPU_IMPLEMENTATION
 *		#include "dpcpu.h"
 *
 *	everywhere else just #include "dpcpu.h".  Then, at file scope:
 *
 *		DPCPU_DEFINE(uint64_t, pkts);		// zero on every CPU
 *		DPCPU_DEFINE(int, quota) = 100;		// 100 on every CPU
 *		DPCPU_DEFINE_STATIC(struct stats, st);	// file-local
 *		DPCPU_DEFINE(int, hist[8]);		// an array: the
 *							// dimension goes with
 *							// the name, as in
 *							// FreeBSD
 *	and in code:
 *
 *		critical_enter();
 *		DPCPU_PTR(st)->hits++;		// this CPU's copy, exclusively
 *		critical_exit();
 *		total = DPCPU_SUM(pkts);	// over every possible CPU
 *
 *	No registration: any thread may use any macro.  The copies are made
 *	once per program, with the CPU table (HOW IT WORKS).
 *
 * CONFIGURATION
 *	Everything is the core's (percpu/config.h): PERCPU_MP=0 for the
 *	uniprocessor build, PERCPU_MD for the port, PERCPU_UNIT_SIZE bounds
 *	the total size of all DPCPU variables of the program.  All global.
 *	DPCPU_UP_OFFSETS=1 (global, UP only): FreeBSD's layout in the UP
 *	build, for code that adds dpcpu_off[] itself (see UP).  Default 0.
 *
 * API (FreeBSD names and semantics; "id" is a CPU id, int or unsigned)
 *	DPCPU_DEFINE(type, name)	[= initializer];
 *		Define a per-CPU variable (file scope).  Every CPU's copy
 *		starts from the initializer's bytes, zero without one.  Any
 *		object type: scalars, structs, arrays (DPCPU_DEFINE(int,
 *		a[4])), a mutex.  `static DPCPU_DEFINE(...)` does not compile
 *		(as in FreeBSD): use
 *	DPCPU_DEFINE_STATIC(type, name)	[= initializer];
 *	DPCPU_DECLARE(type, name);
 *		extern declaration, for headers; the type must be spelled as
 *		in the definition (same array dimension).
 *	type *DPCPU_PTR(name)  /  DPCPU_GET(name)  /  DPCPU_SET(name, v)
 *		The current CPU's copy: inside a critical section the CPU the
 *		thread holds, elsewhere the one it runs on now (which may
 *		change at once: see MEMORY ORDERING).
 *	type *DPCPU_ID_PTR(id, name) / DPCPU_ID_GET(id, name) /
 *	DPCPU_ID_SET(id, name, v)
 *		CPU @id's copy.  An id that is not a possible CPU is a
 *		detected error (the template is returned).
 *	type DPCPU_SUM(name)  /  DPCPU_VARSUM(name, member)
 *		Sum of every possible CPU's copy (of one member, for a
 *		struct), in the variable's (member's) own arithmetic type.
 *	void DPCPU_ZERO(name)
 *		Zero every possible CPU's copy.
 *	DPCPU_NAME(name)  the template's symbol, pcpu_entry_<name>.
 *	uintptr_t dpcpu_off[id]
 *		CPU id's copy of any variable is at its template address +
 *		dpcpu_off[id]; 0 for an id that is not a possible CPU (and
 *		never for a possible one).  Read-only; reading it makes the
 *		copies first.  UP: needs DPCPU_UP_OFFSETS=1 (see UP).
 *	curcpu		the current CPU id (the held one inside a section)
 *	mp_maxid	the highest possible CPU id
 *	mp_ncpus	the number of possible CPUs
 *	CPU_FOREACH(id)	iterate over the possible CPU ids (ids may be sparse)
 *	CPU_ABSENT(id)	id is not a possible CPU
 *			(-DDPCPU_NO_BSD_NAMES=1 leaves these five names out)
 *	critical_enter() / critical_exit()
 *		An exclusive section on the current CPU (percpu_enter()):
 *		until the matching exit no other thread holds that CPU, and
 *		curcpu and DPCPU_PTR stay on it even if the OS migrates the
 *		thread.  Nestable.  It excludes other critical sections (and
 *		percpu_getref, counter_enter, ... users) of that CPU only; it
 *		does not stop DPCPU_ID_* access from elsewhere, nor a thread
 *		that uses DPCPU_PTR outside a section.
 *
 * MEMORY ORDERING
 *	The accessors are address arithmetic: no ordering and no
 *	synchronization, as in FreeBSD.  Outside a critical section the
 *	thread may migrate between two accessors, so use one of the man
 *	page's three patterns: an atomic on DPCPU_PTR (the variable of an
 *	_Atomic type, or a shim as in examples/freebsd_shim.h); a
 *	critical section around a read-modify-write (acquire at
 *	critical_enter, release at critical_exit: what one holder of a CPU
 *	wrote is visible to the next); or curcpu cached once and a per-CPU
 *	lock taken through DPCPU_ID_PTR.  Copy initialization happens before
 *	any accessor returns (MP: release/acquire on the CPU table's ready
 *	flag, the copies being made with the table; UP with
 *	DPCPU_UP_OFFSETS=1: on the set's own).
 *
 * CONTEXT
 *	The accessors: any thread; in a signal handler only after the
 *	program's first call of the toolkit (which makes the CPU table and
 *	the copies; UP with DPCPU_UP_OFFSETS=1: the first DPCPU access).
 *	critical_enter/exit: anywhere, signal handlers included (a handler
 *	that interrupts its own thread's section nests on the same CPU; see
 *	percpu/core.h, SIGNALS).
 *
 * UP (PERCPU_MP=0)
 *	A DPCPU variable is a plain variable: DPCPU_PTR(n) is &DPCPU_NAME(n),
 *	the id accessors check that id is 0 and use the same variable,
 *	critical sections are compiler barriers, curcpu is 0, mp_maxid 0,
 *	mp_ncpus 1.  No section, no linker set, no table, no ELF needed.
 *	There the CPU's offset would be 0, which FreeBSD code reads as "no
 *	CPU", so dpcpu_off does not compile.  DPCPU_UP_OFFSETS=1 (global)
 *	gives the UP build FreeBSD's layout for code that adds dpcpu_off[]
 *	itself (subr_pcpu's sysctls): a linker set and one copy made at
 *	its first DPCPU access, as MP with one CPU, dpcpu_off[0] != 0 (ELF, GCC or
 *	Clang; the accessors then cost what they cost in MP).
 *	UP assumes one thread of control per core, plus the handlers the
 *	port masks (or the program blocks around sections): two threads that
 *	use the toolkit at the same time lose updates silently, even on a
 *	single-core machine.  A multithreaded program uses the MP build there
 *	too.  -DPERCPU_DEBUG=1 tracks UP sections: a second thread inside one
 *	is reported through the error handler, and percpu_in_section() gives
 *	the calling thread's depth (README, "What UP assumes").
 *
 * HOW IT WORKS (MP)
 *	As in FreeBSD: DPCPU_DEFINE places pcpu_entry_<name> in the ELF
 *	section "set_dpcpu" (attributes used + section); the linker gathers
 *	the section of every object file into one block and defines
 *	__start_set_dpcpu / __stop_set_dpcpu around it.  That block is only
 *	a template.  When the CPU table is made (the program's first call
 *	of the toolkit, or percpu_init()), before any section can begin, the
 *	implementation reserves the block's size in the core's per-CPU
 *	arena (PERCPU_UNIT_SIZE per CPU at most, in whole cache lines),
 *	copies the template into every possible CPU's copy and sets
 *	dpcpu_off[cpu] = copy - __start_set_dpcpu.  CPU id's instance of
 *	a variable is then its template address + dpcpu_off[id], computed
 *	in uintptr_t.  The implementation adds one byte to the set so that it
 *	exists in a program without DPCPU variables; that byte alone costs
 *	no arena space (its copies sit in a spare byte of each CPU's core
 *	line).  Inside a section DPCPU_PTR() is the template's address plus
 *	the copies' offset plus the held CPU's unit offset (FreeBSD's
 *	dpcpu_off[curcpu], with the unit taken from the section), masked to
 *	a null pointer for a variable outside the set: no test that the
 *	copies exist (they exist before any section does) and no branch
 *	(SHARED LIBRARIES).  Outside a section it is the running CPU's copy,
 *	checked as DPCPU_ID_PTR() is.
 *
 *	Types: the MP accessors cast to a pointer to __typeof__ of the
 *	template object (GCC and Clang, which the MP build needs anyway), so
 *	that every form FreeBSD code uses works: DPCPU_GET(a[i])++,
 *	DPCPU_PTR(s.m), DPCPU_ID_PTR(id, a) (a pointer to the whole array),
 *	DPCPU_ID_GET(id, s.a[2]).  The UP build needs no type: the accessors
 *	are the object itself.  DPCPU_DEFINE and DPCPU_DECLARE also declare
 *	`typedef type dpcpu_priv_type_<name>` (a typedef may be repeated
 *	with the same type in C11): that is what makes `static DPCPU_DEFINE`
 *	an error in every compiler, with or without -Werror ("multiple
 *	storage classes"): FreeBSD's leading `struct _hack;` only draws a
 *	warning.
 *	DPCPU_SUM and DPCPU_VARSUM pick a summing function with _Generic on
 *	the template's type (all standard arithmetic types; anything else
 *	does not compile, as FreeBSD's += would not).
 *
 * FIRMWARE LINKER FRAGMENT
 *	GNU ld and lld define __start_set_dpcpu/__stop_set_dpcpu by
 *	themselves for an orphan section with a C-identifier name.  A
 *	firmware linker script that places sections explicitly, or links
 *	with --gc-sections, adds:
 *
 *		set_dpcpu : {
 *			PROVIDE(__start_set_dpcpu = .);
 *			KEEP(*(set_dpcpu))
 *			PROVIDE(__stop_set_dpcpu = .);
 *		} > FLASH
 *
 *	(shipped as firmware/dpcpu.ld, which test/baremetal/link.ld
 *	INCLUDEs: a 4-core bare-metal AArch64 image checks that every core's
 *	copy starts from the initializers.)
 *	The template is only read (once, by the copy at start-up), so it
 *	may stay in ROM: no startup copy to RAM is needed for it.  (It is
 *	emitted writable, "aw"; the region must accept that.)  Alignment
 *	of DPCPU variables above PERCPU_CACHELINE (64) is not kept in the
 *	copies.
 *
 * SHARED LIBRARIES
 *	Every ELF module (the executable and each shared object) has its
 *	own set_dpcpu and its own __start/__stop bounds.  The copies are made
 *	from the set of the module whose implementation runs (the bounds are
 *	referenced with hidden visibility, so they bind to that module's own
 *	set).  What works: all DPCPU variables in the module that defines
 *	PERCPU_IMPLEMENTATION, and that module alone defines it in the
 *	process (the toolkit in the executable, or inside one shared
 *	library).  What does not: a DPCPU variable of another module is not
 *	in the copied set, and neither is a variable of the implementation's
 *	shared library that an executable built without -fPIC names with
 *	DPCPU_DECLARE (gcc's default PIE moves it into the executable by a
 *	copy relocation, for every module: build such files with -fPIC).
 *	Such a variable never gets an out-of-bounds access.  DPCPU_ID_PTR()
 *	and DPCPU_PTR() outside a section report it ("DPCPU: 0x... is not in
 *	this program's set_dpcpu ...") and return the template.  DPCPU_PTR()
 *	in a section, which has no branch for it (a mask: the compiler keeps
 *	what it knows after critical_enter()), returns a null pointer, so
 *	the access faults at a small address.  And every file that includes
 *	dpcpu.h gives its module a load-time check (a hidden constructor
 *	that runs before the module's own): a module that defines DPCPU
 *	variables in a set that is not the implementation's is reported
 *	("DPCPU: a module's set_dpcpu (N bytes at 0x...) is not the
 *	implementation's: ...") and the program stops, before the module's
 *	constructors.  A module whose set is only the implementation's one
 *	byte (a second copy of the implementation bound to the first one's
 *	state, below) passes.  There is no module space as in FreeBSD's kernel (DPCPU_MODMIN): dlopen()
 *	adds no variables.  If several modules define PERCPU_IMPLEMENTATION
 *	with default visibility, the dynamic linker binds them all to one
 *	copy of the state (normally the executable's): one CPU table, but
 *	only that module's DPCPU variables work (another such module that
 *	defines DPCPU variables stops when it is loaded).  A shared library that
 *	wants its own DPCPU variables next to another user of the toolkit
 *	builds with -fvisibility=hidden and -DPERCPU_VISIBILITY_DEFAULT=0
 *	(or a version script): it then has a
 *	private toolkit (its own CPU table; its critical sections do not
 *	exclude the other module's).  Non-ELF targets (Mach-O, PE) have no
 *	__start_/__stop_ symbols: an MP build there is an #error.
 */
#ifndef DPCPU_H
#define DPCPU_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "percpu/core.h"

PERCPU_BEGIN_DECLS /* C++: extern "C" up to the end of this header */

/* ---- The linker set ---- */

#define DPCPU_SETNAME "set_dpcpu"
#define DPCPU_SYMPREFIX "pcpu_entry_"
#define DPCPU_NAME(n) pcpu_entry_##n
#define DPCPU_PRIV_TYPE(n) dpcpu_priv_type_##n

/* DPCPU_UP_OFFSETS=1: the UP build keeps a linker set and a copy, as MP
 * with one CPU (see UP).  Global. */
#ifndef DPCPU_UP_OFFSETS
# define DPCPU_UP_OFFSETS 0
#endif
#if PERCPU_MP || DPCPU_UP_OFFSETS
# define DPCPU_PRIV_SET 1
#else
# define DPCPU_PRIV_SET 0
#endif

#if DPCPU_PRIV_SET
# if !defined(__ELF__)
/* clang-format off */
#  error "dpcpu.h: the MP build needs an ELF target (__start_/__stop_ linker-set symbols); build with PERCPU_MP=0"
/* clang-format on */
# endif
# if !defined(__GNUC__) && !defined(__clang__)
/* clang-format off */
#  error "dpcpu.h: the MP build needs GCC or Clang (section and used attributes)"
/* clang-format on */
# endif
/* In the set, kept even if unreferenced (and against --gc-sections). */
# define DPCPU_PRIV_IN_SET __attribute__((section("set_dpcpu"), used))
# define DPCPU_PRIV_STATIC_ATTR DPCPU_PRIV_IN_SET
#else
# define DPCPU_PRIV_IN_SET
# if defined(__GNUC__) || defined(__clang__)
#  define DPCPU_PRIV_STATIC_ATTR __attribute__((unused))
# else
#  define DPCPU_PRIV_STATIC_ATTR
# endif
#endif

/*
 * The leading typedef names the type for the accessors and is the guard:
 * `static typedef` is a constraint violation, so `static DPCPU_DEFINE` is
 * an error.  An array is defined with its dimension in the name
 * (DPCPU_DEFINE(int, a[4])): the paste then typedefs the array type.
 */
#define DPCPU_DEFINE(t, n)     \
 typedef t DPCPU_PRIV_TYPE(n); \
 t DPCPU_NAME(n) DPCPU_PRIV_IN_SET
#define DPCPU_DEFINE_STATIC(t, n) \
 typedef t DPCPU_PRIV_TYPE(n);    \
 static t DPCPU_NAME(n) DPCPU_PRIV_STATIC_ATTR
#define DPCPU_DECLARE(t, n)    \
 typedef t DPCPU_PRIV_TYPE(n); \
 extern t DPCPU_NAME(n)

/* ---- CPU set names (FreeBSD <sys/smp.h>, <sys/pcpu.h>) ---- */

/*
 * Ids are < PERCPU_MAXCPU <= 65535: the masks below change no value, but
 * let the compilers see the range, so that both `int cpu = curcpu` (the
 * man page) and `u_int cpu = curcpu` are free of sign-conversion
 * warnings.
 */
/*
 * DPCPU_NO_BSD_NAMES=1 (per translation unit, before the include) leaves
 * these five lower-case and generic names out, for code that already
 * uses them (struct foo { int curcpu; }); percpu_curcpu(),
 * percpu_maxcpu(), percpu_ncpus(), PERCPU_FOREACH_CPU() and
 * percpu_cpu_possible() are the same things under the toolkit's names.
 */
#ifndef DPCPU_NO_BSD_NAMES
# define DPCPU_NO_BSD_NAMES 0
#endif
#if !DPCPU_NO_BSD_NAMES
# define curcpu (percpu_curcpu() & 0xffffu)
# define mp_maxid ((percpu_maxcpu() - 1u) & 0xffffu)
# define mp_ncpus (percpu_ncpus() & 0xffffu)
# define CPU_ABSENT(id) (!percpu_cpu_possible((unsigned)(id)))
/* Works with an int or unsigned variable; `if () {} else` so that an else
 * after the loop body binds as the caller expects. */
# define CPU_FOREACH(id)                                   \
  for ((id) = 0; (unsigned)(id) < percpu_maxcpu(); (id)++) \
   if (CPU_ABSENT(id)) {                                   \
   } else
#endif /* !DPCPU_NO_BSD_NAMES */

/*
 * critical_enter - begin an exclusive section on the current CPU.
 *
 * Context: anywhere, signal handlers included; nestable.
 * Ordering: acquire; pairs with the release in critical_exit() of the
 *           CPU's previous holder (percpu_enter()/percpu_leave()).
 * UP: a compiler barrier.
 */
static inline PERCPU_PRIV_ENTER_INLINE void
critical_enter(void)
{
	(void)percpu_enter();
#if PERCPU_MP && PERCPU_MD_HOSTED && (defined(__GNUC__) || defined(__clang__))
	/* Every return of percpu_enter() is inside a section (a nesting
	 * too deep keeps its depth), so state != 0: told to the compiler,
	 * the DPCPU_PTR() that follows drops its test for "outside a
	 * section" (dpcpu_priv_cur_ptr()).  Hosted only: there the state
	 * is thread-local and the load folds away; a board's is indexed by
	 * the CPU id, whose read (a volatile register or bus load on some
	 * ports) would stay (test/cross/check-fw.sh compares). */
	if (PERCPU_PRIV_TD.state == 0)
		__builtin_unreachable();
#endif
}

/*
 * critical_exit - end the innermost critical_enter().
 *
 * Context: the thread that entered; an exit without an enter is a
 *          detected error.
 * Ordering: release; pairs with the next holder's critical_enter().
 * UP: a compiler barrier.
 */
static inline PERCPU_PRIV_ENTER_INLINE void
critical_exit(void)
{
	percpu_priv_leave_as("critical_exit");
}

#if DPCPU_PRIV_SET
/* ---- MP: the state, defined once in the implementation block ---- */

/*
 * ready (UP with DPCPU_UP_OFFSETS=1; MP uses the CPU table's): 0 until
 * the copies exist.  start/stop: the bounds of the set the
 * copies were made from (the implementation module's).  k: unit 0's
 * copy of the set minus start, what a template's address plus a unit's
 * offset (percpu_priv_soff()) is from its copy in that unit.  All written once, by dpcpu_priv_boot() inside
 * percpu_priv_init_once(), before the CPU table is published: a thread in
 * a section has acquired that (percpu_priv_ready()), so it reads them
 * with plain loads.
 */
struct dpcpu_priv_global {
	atomic_int ready;
	uintptr_t start;
	uintptr_t stop;
	uintptr_t k;
};

extern struct dpcpu_priv_global dpcpu_priv_g;
/* The calling module's own set (hidden: each module binds its own; weak:
 * equal, 0, in a module without one). */
extern char __start_set_dpcpu[] __attribute__((weak, visibility("hidden")));
extern char __stop_set_dpcpu[] __attribute__((weak, visibility("hidden")));
extern uintptr_t dpcpu_priv_off[PERCPU_MAXCPU];
/* The implementation module's set, constants (never written): the
 * in-section lookup's bounds, which the compiler keeps in registers. */
extern const char *const dpcpu_priv_lo;
extern const char *const dpcpu_priv_hi;
void *dpcpu_priv_cur_slow(const volatile void *var);

# if !PERCPU_MP
void dpcpu_priv_init(void);
void dpcpu_priv_boot(void); /* MP: percpu/core.h */
# endif

/*
 * dpcpu_priv_ready - make sure every CPU's copy exists.
 *
 * Context: any thread; the first call of the program allocates (not in a
 *          signal handler).
 * Ordering: MP: acquire on the CPU table (percpu_priv_ready()), whose
 *           release in percpu_priv_init_once() follows dpcpu_priv_boot();
 *           UP: acquire on ready, pairs with the release store at the
 *           end of dpcpu_priv_boot().  Either way the copies and dpcpu_off
 *           are visible.
 */
static inline void
dpcpu_priv_ready(void)
{
# if PERCPU_MP
	/* The copies are made with the CPU table (dpcpu_priv_boot()),
	 * whose publication percpu_priv_ready() acquires. */
	percpu_priv_ready();
# else
	if (PERCPU_UNLIKELY(!atomic_load_explicit(&dpcpu_priv_g.ready,
		memory_order_acquire)))
		dpcpu_priv_init();
# endif
}

/*
 * dpcpu_priv_offsets - FreeBSD's dpcpu_off[]: the copies exist first, so
 * that code which reads the offsets itself (subr_pcpu's sysctls) sees them
 * even before any accessor ran.
 *
 * Context: any (see CONTEXT).
 * Ordering: acquire (dpcpu_priv_ready()).
 * Return: the array, indexed by CPU id; 0 for an id that is not a
 *         possible CPU.
 */
static inline const uintptr_t *
dpcpu_priv_offsets(void)
{
	dpcpu_priv_ready();
	return (dpcpu_priv_off);
}

# define dpcpu_off (dpcpu_priv_offsets())

/*
 * dpcpu_priv_id_ptr - CPU @cpu's instance of the variable whose template
 * is at @var (a variable or a member of one).
 *
 * Context: any (see CONTEXT).
 * Ordering: none.
 * Return: the instance; the template itself after a detected error (an
 *         id that is not a possible CPU, or a variable outside the set).
 */
static inline void *
dpcpu_priv_id_ptr(const volatile void *var, unsigned cpu)
{
	uintptr_t a = (uintptr_t)var, off;

	dpcpu_priv_ready();
	if (PERCPU_UNLIKELY(cpu >= PERCPU_MAXCPU || dpcpu_priv_off[cpu] == 0)) {
		percpu_priv_fail("DPCPU_ID_PTR: CPU %u is not a possible CPU "
				 "(mp_maxid %u)",
		    cpu, percpu_maxcpu() - 1u);
		return ((void *)a);
	}
	off = dpcpu_priv_off[cpu];
	if (PERCPU_UNLIKELY(a - dpcpu_priv_g.start >=
		dpcpu_priv_g.stop - dpcpu_priv_g.start)) {
		percpu_priv_fail(
		    "DPCPU: %p is not in this program's " DPCPU_SETNAME
		    " (a variable of another shared object?)",
		    (void *)a);
		return ((void *)a);
	}
	return ((void *)(a + off));
}

/*
 * dpcpu_priv_cur_ptr - the current CPU's instance: the held CPU inside a
 * section (FreeBSD's critical_enter(): the usual case, the template's
 * address plus two words the compiler already has, the copies' offset
 * and the held unit's offset from the state), else the CPU the caller
 * runs on (dpcpu_priv_cur_slow()).
 *
 * In a section, a variable outside the implementation's set (SHARED
 * LIBRARIES) gives a null pointer instead, without a branch: a branch
 * to an error path would join the enter's fast and slow paths before
 * the lookup, and cost the compiler the state it knows (bench/RESULTS.md,
 * 2026-12-03).  No test that the copies exist: they are made with the
 * CPU table, before any section (dpcpu_priv_boot()).
 *
 * Context: any (see CONTEXT).
 * Ordering: none of its own: a thread in a section acquired the CPU
 *           table, published after the copies and dpcpu_priv_g.k
 *           (dpcpu_priv_boot()).
 * Return: the instance; in a section NULL for a variable outside the set;
 *         outside a section, as dpcpu_priv_id_ptr().
 */
static inline PERCPU_PRIV_ENTER_INLINE void *
dpcpu_priv_cur_ptr(const volatile void *var)
{
# if PERCPU_MP
	uint32_t s = PERCPU_PRIV_TD.state;

	/* After critical_enter() the compiler knows s != 0 and drops the
	 * test; the rest shares the enter's unit offset. */
	if (PERCPU_LIKELY(s != 0)) {
		uintptr_t a = (uintptr_t)var;
		/* All ones if @var is in the set, else 0: no branch (which
		 * would cost the compiler what it knows after the enter). */
		uintptr_t in = -(uintptr_t)(a - (uintptr_t)dpcpu_priv_lo <
		    (uintptr_t)dpcpu_priv_hi - (uintptr_t)dpcpu_priv_lo);

		uintptr_t p = (a + dpcpu_priv_g.k + percpu_priv_soff(s)) & in;

		/* Opaque: else clang makes the mask a select, and a load
		 * through "p or null" a load through p (null being UB): the
		 * out-of-bounds read the mask is there to prevent (seen with
		 * LTO, where the bounds are known). */
		__asm__("" : "+r"(p));
		return ((void *)p);
	}
	return (dpcpu_priv_cur_slow(var));
# else
	/* UP with DPCPU_UP_OFFSETS=1: CPU 0's copy. */
	return (dpcpu_priv_id_ptr(var, 0));
# endif
}

/*
 * Typed with __typeof__ of the template object, as FreeBSD's _DPCPU_PTR:
 * @n may be a variable, an element (a[i]) or a member (s.m, s.a[2]) of
 * one.  (The MP build needs GCC or Clang already; __typeof__ is their
 * spelling that -pedantic accepts.)
 */
# define DPCPU_PTR(n) \
  ((__typeof__(DPCPU_NAME(n)) *)dpcpu_priv_cur_ptr(&DPCPU_NAME(n)))
# define DPCPU_ID_PTR(id, n)                                      \
  ((__typeof__(DPCPU_NAME(n)) *)dpcpu_priv_id_ptr(&DPCPU_NAME(n), \
      (unsigned)(id)))

# if PERCPU_MP && PERCPU_MD_HOSTED
/* The byte an implementation adds to its module's set (0 elsewhere). */
extern char dpcpu_priv_anchor[] __attribute__((weak, visibility("hidden")));
/* The implementation's; weak, so that a module that includes dpcpu.h
 * and uses nothing needs no implementation to load. */
void dpcpu_priv_module_verify(const char *start, const char *stop,
    const char *anchor) __attribute__((weak));
void dpcpu_priv_module_check(void)
    __attribute__((weak, visibility("hidden"), constructor(101)));

/*
 * dpcpu_priv_module_check - report a module that defines DPCPU variables
 * in a set_dpcpu that is not the implementation module's (FreeBSD
 * relocates a kernel module's set into the DPCPU area at load; here only
 * the implementation module's set is copied), then stop the program: its
 * variables have no copies.  One weak, hidden definition per module, from
 * every file that includes dpcpu.h, run when the module is loaded, before
 * its other constructors (priority 101).  What gives the message; memory
 * safety does not rest on it (dpcpu_priv_cur_ptr(), SHARED LIBRARIES).
 *
 * Context: the loader.
 * Return: only if the module's own set is empty, the implementation's, or
 *         only the anchor byte of a second implementation bound to the
 *         first one's state (dpcpu_priv_module_verify()).
 */
void
dpcpu_priv_module_check(void)
{
	if (dpcpu_priv_module_verify != NULL &&
	    &__start_set_dpcpu[0] != &__stop_set_dpcpu[0])
		dpcpu_priv_module_verify(__start_set_dpcpu, __stop_set_dpcpu,
		    dpcpu_priv_anchor);
}
# endif

#else /* !DPCPU_PRIV_SET */

/* UP: id must be 0; evaluated once, then the variable itself is used. */
static inline int
dpcpu_priv_up_id(unsigned cpu)
{
	if (PERCPU_UNLIKELY(cpu != 0))
		percpu_priv_fail("DPCPU_ID_PTR: CPU %u is not a possible CPU "
				 "(mp_maxid 0)",
		    cpu);
	return (0);
}

static inline void *
dpcpu_priv_id_ptr(const volatile void *var, unsigned cpu)
{
	(void)dpcpu_priv_up_id(cpu);
	return ((void *)(uintptr_t)var);
}

# define DPCPU_PTR(n) (&DPCPU_NAME(n))
# define DPCPU_ID_PTR(id, n) \
  ((void)dpcpu_priv_up_id((unsigned)(id)), &DPCPU_NAME(n))

/* Here the variable is the CPU's copy: its offset would be 0, which
 * FreeBSD code reads as "no CPU".  Code that adds dpcpu_off[] itself
 * builds with DPCPU_UP_OFFSETS=1 (see UP); elsewhere it does not compile. */
# define dpcpu_off dpcpu_off_needs_DPCPU_UP_OFFSETS_1_in_a_UP_build

#endif /* DPCPU_PRIV_SET */

#define DPCPU_GET(n) (*DPCPU_PTR(n))
#define DPCPU_SET(n, v) (*DPCPU_PTR(n) = (v))
#define DPCPU_ID_GET(id, n) (*DPCPU_ID_PTR(id, n))
#define DPCPU_ID_SET(id, n, v) (*DPCPU_ID_PTR(id, n) = (v))

/* ---- Derived operations: over every possible CPU ---- */

/*
 * dpcpu_priv_sum_<type> - the sum of every possible CPU's instance of
 * the template object at @var, in its own type (FreeBSD's DPCPU_SUM
 * declares `__typeof(var) sum`).
 *
 * Context: thread context or any: no locks.
 * Ordering: none; plain reads (use critical sections or atomics in the
 *           writers if the exact value matters; exact at quiescence).
 * UP: the one value.
 */
#define DPCPU_PRIV_SUM_FN(name, T)                                \
 static inline T dpcpu_priv_sum_##name(const volatile void *var)  \
 {                                                                \
  T s = 0;                                                        \
  unsigned cpu;                                                   \
                                                                  \
  PERCPU_FOREACH_CPU(cpu)                                         \
   s = (T)(s + *(const volatile T *)dpcpu_priv_id_ptr(var, cpu)); \
  return (s);                                                     \
 }

DPCPU_PRIV_SUM_FN(char, char)
DPCPU_PRIV_SUM_FN(schar, signed char)
DPCPU_PRIV_SUM_FN(uchar, unsigned char)
DPCPU_PRIV_SUM_FN(short, short)
DPCPU_PRIV_SUM_FN(ushort, unsigned short)
DPCPU_PRIV_SUM_FN(int, int)
DPCPU_PRIV_SUM_FN(uint, unsigned int)
DPCPU_PRIV_SUM_FN(long, long)
DPCPU_PRIV_SUM_FN(ulong, unsigned long)
DPCPU_PRIV_SUM_FN(llong, long long)
DPCPU_PRIV_SUM_FN(ullong, unsigned long long)
DPCPU_PRIV_SUM_FN(float, float)
DPCPU_PRIV_SUM_FN(double, double)
DPCPU_PRIV_SUM_FN(ldouble, long double)

/* Pick the summing function by the template object's type. */
#ifdef __cplusplus
/* C++ has no _Generic: one template instead (the same sum). */
extern "C++" {
template <typename T>
static inline T
dpcpu_priv_sum_cxx(const volatile T *var)
{
	T s = 0;
	unsigned cpu;

	PERCPU_FOREACH_CPU(cpu)
		s = (T)(s + *(const volatile T *)dpcpu_priv_id_ptr(var, cpu));
	return (s);
}
}
# define DPCPU_PRIV_SUM(obj) dpcpu_priv_sum_cxx(&(obj))
#else
/* clang-format off */
#define DPCPU_PRIV_SUM(obj)                                  \
	_Generic((obj),                                      \
	    char: dpcpu_priv_sum_char,                       \
	    signed char: dpcpu_priv_sum_schar,               \
	    unsigned char: dpcpu_priv_sum_uchar,             \
	    short: dpcpu_priv_sum_short,                     \
	    unsigned short: dpcpu_priv_sum_ushort,           \
	    int: dpcpu_priv_sum_int,                         \
	    unsigned int: dpcpu_priv_sum_uint,               \
	    long: dpcpu_priv_sum_long,                       \
	    unsigned long: dpcpu_priv_sum_ulong,             \
	    long long: dpcpu_priv_sum_llong,                 \
	    unsigned long long: dpcpu_priv_sum_ullong,       \
	    float: dpcpu_priv_sum_float,                     \
	    double: dpcpu_priv_sum_double,                   \
	    long double: dpcpu_priv_sum_ldouble)(&(obj))
/* clang-format on */
#endif /* __cplusplus */

#define DPCPU_SUM(n) DPCPU_PRIV_SUM(DPCPU_NAME(n))
#define DPCPU_VARSUM(n, var) DPCPU_PRIV_SUM(DPCPU_NAME(n).var)

/*
 * dpcpu_priv_zero - zero @size bytes of every possible CPU's instance of
 * the template object at @var.
 *
 * Context: any; no synchronization with users of the variable.
 * UP: one memset.
 */
static inline void
dpcpu_priv_zero(const volatile void *var, size_t size)
{
	unsigned cpu;

	PERCPU_FOREACH_CPU(cpu)
		memset(dpcpu_priv_id_ptr(var, cpu), 0, size);
}

#define DPCPU_ZERO(n) dpcpu_priv_zero(&DPCPU_NAME(n), sizeof(DPCPU_NAME(n)))

/* ---- zpcpu(9) and the pcpu zones of uma(9) ---- */

/* malloc(9) flags, FreeBSD's values (as counter.h). */
#ifndef M_NOWAIT
# define M_NOWAIT 0x0001
#endif
#ifndef M_WAITOK
# define M_WAITOK 0x0002
#endif
#ifndef M_ZERO
# define M_ZERO 0x0100
#endif

/* uma(9): zone flags and alignments (an alignment is a mask, size - 1). */
#define UMA_ZONE_PCPU 0x8000
#define UMA_ALIGN_PTR ((int)sizeof(void *) - 1)
#define UMA_ALIGN_LONG ((int)sizeof(long) - 1)
#define UMA_ALIGN_INT ((int)sizeof(int) - 1)
#define UMA_ALIGN_SHORT ((int)sizeof(short) - 1)
#define UMA_ALIGN_CHAR 0
#define UMA_ALIGN_CACHE (0 - 1) /* PERCPU_CACHELINE */

typedef int (*uma_ctor)(void *mem, int size, void *arg, int flags);
typedef void (*uma_dtor)(void *mem, int size, void *arg);
typedef int (*uma_init)(void *mem, int size, int flags);
typedef void (*uma_fini)(void *mem, int size);

/* A zone: only pcpu zones (UMA_ZONE_PCPU) exist here. */
struct uma_zone {
	const char *uz_name;
	size_t uz_size;
	size_t uz_align; /* bytes, a power of two up to PERCPU_CACHELINE */
	int uz_flags;
};
typedef struct uma_zone *uma_zone_t;

/* FreeBSD's generic pcpu zones (implementation block). */
extern struct uma_zone dpcpu_priv_pcpu_zones[5];
#define pcpu_zone_4 (&dpcpu_priv_pcpu_zones[0])
#define pcpu_zone_8 (&dpcpu_priv_pcpu_zones[1])
#define pcpu_zone_16 (&dpcpu_priv_pcpu_zones[2])
#define pcpu_zone_32 (&dpcpu_priv_pcpu_zones[3])
#define pcpu_zone_64 (&dpcpu_priv_pcpu_zones[4])

/*
 * uma_zcreate - a pcpu zone of @size-byte items (only UMA_ZONE_PCPU
 * zones: their items are per-CPU, the arena's).
 *
 * Context: thread context.
 * UP: the same.
 * Return: the zone; NULL after a detected error: @flags without
 *         UMA_ZONE_PCPU, a ctor/dtor/init/fini (not supported), @size 0
 *         or over PERCPU_UNIT_SIZE, @align not a mask of a power of two.
 */
static inline uma_zone_t
uma_zcreate(const char *name, size_t size, uma_ctor ctor, uma_dtor dtor,
    uma_init uminit, uma_fini fini, int align, uint32_t flags)
{
	size_t a =
	    align == UMA_ALIGN_CACHE ? PERCPU_CACHELINE : (size_t)align + 1u;
	uma_zone_t z;

	if ((flags & UMA_ZONE_PCPU) == 0 || ctor != NULL || dtor != NULL ||
	    uminit != NULL || fini != NULL) {
		percpu_priv_fail("uma_zcreate: %s: only UMA_ZONE_PCPU zones "
				 "without ctor, dtor, init or fini",
		    name);
		return (NULL);
	}
	if (size == 0 || size > PERCPU_UNIT_SIZE || align < -1 ||
	    (a & (a - 1)) != 0 || a > PERCPU_CACHELINE) {
		percpu_priv_fail("uma_zcreate: %s: size %zu, align mask %d: "
				 "unsupported",
		    name, size, align);
		return (NULL);
	}
	z = (uma_zone_t)percpu_priv_malloc(sizeof(*z));
	if (z == NULL) {
		percpu_priv_fail("uma_zcreate: %s: out of memory", name);
		return (NULL);
	}
	z->uz_name = name;
	z->uz_size = size;
	z->uz_align = a < 8 ? 8 : a;
	z->uz_flags = (int)flags;
	return (z);
}

/*
 * uma_zdestroy - release a uma_zcreate() zone (its items first).
 *
 * Context: thread context.
 */
static inline void
uma_zdestroy(uma_zone_t zone)
{
	percpu_priv_free(zone);
}

/*
 * uma_zalloc_pcpu - one item of the pcpu zone @zone: zero on every
 * possible CPU (M_ZERO implied), each CPU's copy in its own unit.  The
 * result is a zpcpu base: zpcpu_get(), zpcpu_get_cpu() reach the copies.
 *
 * Context: thread context.
 * UP: one zeroed item.
 * Return: the base; NULL with M_NOWAIT when memory ran out; M_WAITOK
 *         never returns NULL (error handler, then abort()).
 */
static inline void *
uma_zalloc_pcpu(uma_zone_t zone, int flags)
{
	void *h;

	if ((zone->uz_flags & UMA_ZONE_PCPU) == 0) {
		percpu_priv_fail("uma_zalloc_pcpu: %s: not a pcpu zone",
		    zone->uz_name);
		return (NULL);
	}
	h = percpu_priv_zalloc(zone->uz_size, zone->uz_align);
	if (h != NULL || (flags & M_NOWAIT) != 0)
		return (h);
	percpu_priv_fail("uma_zalloc_pcpu: %s: M_WAITOK: out of per-CPU memory",
	    zone->uz_name);
	percpu_priv_panic("uma_zalloc_pcpu: M_WAITOK: out of per-CPU memory");
}

/*
 * uma_zfree_pcpu - give back an item of @zone.
 *
 * Context: thread context; nothing may still use @item.
 * Return: nothing.  NULL is a no-op; an item of another size is a
 *         detected error (nothing is freed).
 */
static inline void
uma_zfree_pcpu(uma_zone_t zone, void *item)
{
	size_t actual = 0;

	if (item == NULL)
		return;
	if (percpu_priv_zfree(item, zone->uz_size, &actual) != PERCPU_PRIV_OK)
		percpu_priv_fail("uma_zfree_pcpu: %s: %p is not an item of "
				 "this zone",
		    zone->uz_name, item);
}

/*
 * zpcpu(9), over a uma_zalloc_pcpu() base @base (a typed pointer):
 *	zpcpu_get(base)		the current CPU's copy (the held one inside
 *				a section; else the one the thread runs on,
 *				which may change at once)
 *	zpcpu_get_cpu(base, cpu)	CPU @cpu's copy (an id), NULL if @cpu
 *				is not a possible CPU
 *	zpcpu_add(base, n) / zpcpu_sub(base, n)
 *				add to / subtract from the current CPU's copy
 *				of an integer: a relaxed atomic RMW, so that a
 *				migration loses nothing (FreeBSD's arm64 and
 *				riscv model); never lost, any context
 *	zpcpu_add_protected / zpcpu_sub_protected / zpcpu_set_protected(base, n)
 *				the same inside a critical section (asserted
 *				where the build tracks sections); set stores
 *	Word rule: a zpcpu item is atomic-from-everyone: update it only
 *	through these (or atomics), never with a plain read-modify-write
 *	outside a section.  UP: plain operations on the one copy.
 */
#if PERCPU_MP
# define zpcpu_get(base) \
  ((__typeof__(base))percpu_local_ptr((void *)(uintptr_t)(base)))
# define zpcpu_get_cpu(base, cpu) \
  ((__typeof__(base))percpu_ptr((void *)(uintptr_t)(base), (unsigned)(cpu)))
# define zpcpu_add(base, n) \
  ((void)__atomic_fetch_add(zpcpu_get(base), (n), __ATOMIC_RELAXED))
# define zpcpu_sub(base, n) \
  ((void)__atomic_fetch_sub(zpcpu_get(base), (n), __ATOMIC_RELAXED))
# define DPCPU_PRIV_CRITICAL_ASSERT() PERCPU_ASSERT(percpu_in_section() != 0)
# define zpcpu_set_protected(base, n) \
  (DPCPU_PRIV_CRITICAL_ASSERT(),      \
      __atomic_store_n(zpcpu_get(base), (n), __ATOMIC_RELAXED))
#else
# define zpcpu_get(base) (base)
# define zpcpu_get_cpu(base, cpu)                                            \
  (percpu_ptr((void *)(uintptr_t)(base), (unsigned)(cpu)) != NULL ? (base) : \
								    NULL)
# define zpcpu_add(base, n) ((void)(*(base) += (n)))
# define zpcpu_sub(base, n) ((void)(*(base) -= (n)))
# if PERCPU_DEBUG
#  define DPCPU_PRIV_CRITICAL_ASSERT() PERCPU_ASSERT(percpu_in_section() != 0)
# else
#  define DPCPU_PRIV_CRITICAL_ASSERT() ((void)0)
# endif
# define zpcpu_set_protected(base, n) \
  (DPCPU_PRIV_CRITICAL_ASSERT(), (void)(*(base) = (n)))
#endif
#define zpcpu_add_protected(base, n) \
 (DPCPU_PRIV_CRITICAL_ASSERT(), zpcpu_add(base, n))
#define zpcpu_sub_protected(base, n) \
 (DPCPU_PRIV_CRITICAL_ASSERT(), zpcpu_sub(base, n))
PERCPU_END_DECLS

#endif /* DPCPU_H */

/* ---- Implementation: once per program (see USAGE) ---- */
#if defined(PERCPU_IMPLEMENTATION) && !defined(DPCPU_IMPL_H)
#define DPCPU_IMPL_H
#if DPCPU_PRIV_SET

/* __start_set_dpcpu, __stop_set_dpcpu (the header): this module's own
 * set, which the anchor below makes exist. */
struct dpcpu_priv_global dpcpu_priv_g;
uintptr_t dpcpu_priv_off[PERCPU_MAXCPU];
const char *const dpcpu_priv_lo = __start_set_dpcpu;
const char *const dpcpu_priv_hi = __stop_set_dpcpu;

/*
 * dpcpu_priv_cur_slow - DPCPU_PTR() outside a section: the instance of
 * the CPU the caller runs on, by dpcpu_priv_id_ptr() (which checks that
 * @var is in the set).
 */
void *
dpcpu_priv_cur_slow(const volatile void *var)
{
	return (dpcpu_priv_id_ptr(var, percpu_curcpu()));
}

# if PERCPU_MP && PERCPU_MD_HOSTED
/*
 * dpcpu_priv_module_verify - dpcpu_priv_module_check() of a module whose
 * own set is [@start, @stop) (@anchor: the byte of its implementation
 * copy, or NULL): reports a set that is not this one, then stops.
 */
void
dpcpu_priv_module_verify(const char *start, const char *stop,
    const char *anchor)
{
	if (start == __start_set_dpcpu ||
	    (start == anchor && stop == start + 1))
		return;
	percpu_priv_fail("DPCPU: a module's " DPCPU_SETNAME " (%zu bytes at "
			 "%p) is not the implementation's: DPCPU variables "
			 "must be defined in the module that defines "
			 "PERCPU_IMPLEMENTATION (a variable of another shared "
			 "object?)",
	    (size_t)(stop - start), (const void *)start);
	percpu_priv_panic("DPCPU: a module's set_dpcpu has no copies");
}
# endif

# if !PERCPU_MD_HOSTED && (defined(__GNUC__) || defined(__clang__))
/* Firmware: PERCPU_UNIT_SIZE as an absolute symbol, so that
 * firmware/dpcpu.ld can refuse at link time a DPCPU set that no unit
 * can hold. */
#  define DPCPU_PRIV_STR2(x) #  x
#  define DPCPU_PRIV_STR(x) DPCPU_PRIV_STR2(x)
__asm__(".globl dpcpu_priv_unit_size\n\t"
	".set dpcpu_priv_unit_size, " DPCPU_PRIV_STR(PERCPU_UNIT_SIZE));
# endif

/* One byte in the set, so that it (and its bounds) exist in any program
 * that has the implementation. */
# if PERCPU_MP && PERCPU_MD_HOSTED
char dpcpu_priv_anchor
    [1] DPCPU_PRIV_IN_SET; /* hidden (dpcpu_priv_module_check) */
# else
static char dpcpu_priv_anchor[1] DPCPU_PRIV_IN_SET;
# endif

# if !PERCPU_MP
static int dpcpu_priv_once; /* UP: one thread of control */
# endif

/*
 * dpcpu_priv_boot - make every CPU's copy of the set, and dpcpu_off.
 *
 * Context: MP: percpu_priv_init_once(), once, before the CPU table is
 *          published (so no percpu_priv_ready() here, and no arena
 *          lock: percpu_priv_arena_take()); UP (DPCPU_UP_OFFSETS=1):
 *          dpcpu_priv_init().
 * Ordering: release on ready, pairs with dpcpu_priv_ready(); in MP the
 *           CPU table's release (percpu_priv_init_once()) comes after it,
 *           which is what a thread in a section acquired.
 */
void
dpcpu_priv_boot(void)
{
	uintptr_t start = (uintptr_t)__start_set_dpcpu;
	size_t bytes = (size_t)(__stop_set_dpcpu - __start_set_dpcpu);
	char *base;

	(void)dpcpu_priv_anchor;
# if PERCPU_MP
	if (bytes == 1) {
		/* The anchor alone (the implementation's module always has
		 * it, so this is a program without DPCPU variables): its
		 * copies take a spare byte of each unit's core line, never
		 * touched again, and the arena keeps its full size. */
		_Static_assert(sizeof(struct percpu_priv_pcpu) <
			PERCPU_CACHELINE,
		    "dpcpu: a spare byte in the core line");
		base = percpu_priv_g.unit0 + sizeof(struct percpu_priv_pcpu);
	} else {
		/* Whole lines: no small hole after the copies for the
		 * allocations that follow. */
		size_t lines = (bytes + PERCPU_CACHELINE - 1) &
		    ~(size_t)(PERCPU_CACHELINE - 1);

		base = lines <= PERCPU_PRIV_STRIDE ?
		    (char *)percpu_priv_arena_take(lines, PERCPU_CACHELINE) :
		    NULL;
	}
# else
	base = (char *)percpu_priv_zalloc(bytes, PERCPU_CACHELINE);
# endif
	if (base == NULL) {
# if PERCPU_MP
		/* Inside the CPU table's once: no error handler (it could
		 * call the toolkit, which waits for this once), as for every
		 * start-up failure (percpu_priv_die()). */
#  if PERCPU_MD_LIBC
		(void)fprintf(stderr,
		    "percpu: DPCPU: cannot reserve the %zu bytes of "
		    "set_dpcpu on every CPU (limit %u%s)\n",
		    bytes, (unsigned)PERCPU_UNIT_SIZE,
		    percpu_priv_limit_hint(bytes, PERCPU_UNIT_SIZE));
#  endif
# else
		percpu_priv_fail("DPCPU: cannot reserve the %zu bytes of "
				 "set_dpcpu on every CPU (limit %u%s)",
		    bytes, (unsigned)PERCPU_UNIT_SIZE,
		    percpu_priv_limit_hint(bytes, PERCPU_UNIT_SIZE));
# endif
		percpu_priv_panic("DPCPU: cannot reserve set_dpcpu");
	}
# if PERCPU_MP
	{
		unsigned u;

		/* The table as percpu_priv_init_once() just made it. */
		for (u = 0; u < percpu_priv_g.ncpu; u++) {
			char *copy = base + (size_t)u * PERCPU_PRIV_STRIDE;

			memcpy(copy, __start_set_dpcpu, bytes);
			dpcpu_priv_off[percpu_priv_g.ci[u].ci_index] =
			    (uintptr_t)copy - start;
		}
	}
# else
	memcpy(base, __start_set_dpcpu, bytes);
	dpcpu_priv_off[0] = (uintptr_t)base - start;
# endif
	dpcpu_priv_g.start = start;
	dpcpu_priv_g.stop = start + bytes;
	dpcpu_priv_g.k = (uintptr_t)base - start;
# if !PERCPU_MP
	/* Release: copies and dpcpu_off before ready; pairs with the
	 * acquire in dpcpu_priv_ready().  (MP: the CPU table's.) */
	atomic_store_explicit(&dpcpu_priv_g.ready, 1, memory_order_release);
# endif
}

# if !PERCPU_MP
void
dpcpu_priv_init(void)
{
	if (!dpcpu_priv_once) {
		dpcpu_priv_once = 1;
		dpcpu_priv_boot();
	}
}
# endif
#endif /* DPCPU_PRIV_SET */

/* The pcpu zones of uma(9) (see dpcpu.h, ZPCPU). */
struct uma_zone dpcpu_priv_pcpu_zones[5] = {
    {"pcpu-4", 4, 4, UMA_ZONE_PCPU},
    {"pcpu-8", 8, 8, UMA_ZONE_PCPU},
    {"pcpu-16", 16, 16, UMA_ZONE_PCPU},
    {"pcpu-32", 32, 16, UMA_ZONE_PCPU},
    {"pcpu-64", 64, 16, UMA_ZONE_PCPU},
};
#endif /* PERCPU_IMPLEMENTATION */

#ifdef PERCPU_IMPLEMENTATION
#include "percpu/whole.h" /* one switch: the whole implementation */
#endif
