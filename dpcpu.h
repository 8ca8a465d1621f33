/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu.h - FreeBSD DPCPU(9): static per-CPU variables, critical sections
 * and the CPU-set names of <sys/pcpu.h>, for userspace C11 and firmware.
 *
 * USAGE
 *	In exactly one .c file of the program (the one that defines the
 *	toolkit's state; it must include dpcpu.h, or the link fails naming
 *	dpcpu_off / dpcpu_priv_init):
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
 *	at the first use of any DPCPU accessor (once per program).
 *
 * CONFIGURATION
 *	Everything is the core's (percpu/config.h): PERCPU_MP=0 for the
 *	uniprocessor build, PERCPU_MD for the port, PERCPU_UNIT_SIZE bounds
 *	the total size of all DPCPU variables of the program.  All global.
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
 *		dpcpu_off[id]; 0 for an id that is not a possible CPU.  Read it
 *		only after a DPCPU accessor ran.
 *	curcpu		the current CPU id (the held one inside a section)
 *	mp_maxid	the highest possible CPU id
 *	mp_ncpus	the number of possible CPUs
 *	CPU_FOREACH(id)	iterate over the possible CPU ids (ids may be sparse)
 *	CPU_ABSENT(id)	id is not a possible CPU
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
 *	any accessor returns (release/acquire on the set's ready flag).
 *
 * CONTEXT
 *	The accessors: any thread; in a signal handler only after the
 *	program's first DPCPU access (which allocates the copies).
 *	critical_enter/exit: anywhere, signal handlers included (a handler
 *	that interrupts its own thread's section nests on the same CPU; see
 *	percpu/core.h, SIGNALS).
 *
 * UP (PERCPU_MP=0)
 *	A DPCPU variable is a plain variable: DPCPU_PTR(n) is &DPCPU_NAME(n),
 *	the id accessors check that id is 0 and use the same variable,
 *	critical sections are compiler barriers, curcpu is 0, mp_maxid 0,
 *	mp_ncpus 1.  No section, no linker set, no table, no ELF needed.
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
 *	a template.  At first use the implementation reserves the block's
 *	size in the core's per-CPU arena (PERCPU_UNIT_SIZE per CPU at most),
 *	copies the template into every possible CPU's copy and sets
 *	dpcpu_off[cpu] = copy - __start_set_dpcpu.  CPU id's instance of
 *	a variable is then its template address + dpcpu_off[id], computed
 *	in uintptr_t.  The implementation adds one byte to the set so that it
 *	exists in a program without DPCPU variables.
 *
 *	Types without typeof: DPCPU_DEFINE and DPCPU_DECLARE also declare
 *	`typedef type dpcpu_priv_type_<name>` (a typedef may be repeated
 *	with the same type in C11), and the accessors cast to a pointer to
 *	it.  The typedef is also what makes `static DPCPU_DEFINE` an error
 *	in every compiler, with or without -Werror ("multiple storage
 *	classes"): FreeBSD's leading `struct _hack;` only draws a warning.
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
 *	The template is only read (once, by the copy at first use), so it
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
 *	in the copied set; every accessor detects that (its address is
 *	outside the set) and reports it through the error handler.  There
 *	is no module space as in FreeBSD's kernel (DPCPU_MODMIN): dlopen()
 *	adds no variables.  If several modules define PERCPU_IMPLEMENTATION
 *	with default visibility, the dynamic linker binds them all to one
 *	copy of the state (normally the executable's): one CPU table, but
 *	only that module's DPCPU variables work.  A shared library that
 *	wants its own DPCPU variables next to another user of the toolkit
 *	builds with -fvisibility=hidden (or a version script): it then has a
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

/* ---- The linker set ---- */

#define DPCPU_SETNAME "set_dpcpu"
#define DPCPU_SYMPREFIX "pcpu_entry_"
#define DPCPU_NAME(n) pcpu_entry_##n
#define DPCPU_PRIV_TYPE(n) dpcpu_priv_type_##n

#if PERCPU_MP
# if !defined(__ELF__)
#  error \
      "dpcpu.h: the MP build needs an ELF target (__start_/__stop_ linker-set symbols); build with PERCPU_MP=0"
# endif
# if !defined(__GNUC__) && !defined(__clang__)
#  error \
      "dpcpu.h: the MP build needs GCC or Clang (section and used attributes)"
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
#define curcpu (percpu_curcpu() & 0xffffu)
#define mp_maxid ((percpu_maxcpu() - 1u) & 0xffffu)
#define mp_ncpus (percpu_ncpus() & 0xffffu)
#define CPU_ABSENT(id) (!percpu_cpu_possible((unsigned)(id)))
/* Works with an int or unsigned variable; `if () {} else` so that an else
 * after the loop body binds as the caller expects. */
#define CPU_FOREACH(id)                                   \
 for ((id) = 0; (unsigned)(id) < percpu_maxcpu(); (id)++) \
  if (CPU_ABSENT(id)) {                                   \
  } else

/*
 * critical_enter - begin an exclusive section on the current CPU.
 *
 * Context: anywhere, signal handlers included; nestable.
 * Ordering: acquire; pairs with the release in critical_exit() of the
 *           CPU's previous holder (percpu_enter()/percpu_leave()).
 * UP: a compiler barrier.
 */
static inline void
critical_enter(void)
{
	(void)percpu_enter();
}

/*
 * critical_exit - end the innermost critical_enter().
 *
 * Context: the thread that entered; an exit without an enter is a
 *          detected error.
 * Ordering: release; pairs with the next holder's critical_enter().
 * UP: a compiler barrier.
 */
static inline void
critical_exit(void)
{
	percpu_leave();
}

#if PERCPU_MP
/* ---- MP: the state, defined once in the implementation block ---- */

/*
 * ready: 0 until the copies exist.  start/stop: the bounds of the set the
 * copies were made from (the implementation module's).  base: the arena
 * handle of the copies (unit 0).
 */
struct dpcpu_priv_global {
	atomic_int ready;
	uintptr_t start;
	uintptr_t stop;
	char *base;
};

extern struct dpcpu_priv_global dpcpu_priv_g;
extern uintptr_t dpcpu_off[PERCPU_MAXCPU];

void dpcpu_priv_init(void);

/*
 * dpcpu_priv_ready - make sure every CPU's copy exists.
 *
 * Context: any thread; the first call of the program allocates (not in a
 *          signal handler).
 * Ordering: acquire on ready; pairs with the release store at the end of
 *           dpcpu_priv_init_once(): the copies and dpcpu_off are visible.
 */
static inline void
dpcpu_priv_ready(void)
{
	if (PERCPU_UNLIKELY(!atomic_load_explicit(&dpcpu_priv_g.ready,
		memory_order_acquire)))
		dpcpu_priv_init();
}

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
	if (PERCPU_UNLIKELY(cpu >= PERCPU_MAXCPU || dpcpu_off[cpu] == 0)) {
		percpu_priv_fail("DPCPU_ID_PTR: CPU %u is not a possible CPU "
				 "(mp_maxid %u)",
		    cpu, percpu_maxcpu() - 1u);
		return ((void *)a);
	}
	off = dpcpu_off[cpu];
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

/* The current CPU's instance: the held CPU inside a section. */
static inline void *
dpcpu_priv_cur_ptr(const volatile void *var)
{
	return (dpcpu_priv_id_ptr(var, percpu_curcpu()));
}

# define DPCPU_PTR(n) ((DPCPU_PRIV_TYPE(n) *)dpcpu_priv_cur_ptr(&DPCPU_NAME(n)))
# define DPCPU_ID_PTR(id, n) \
  ((DPCPU_PRIV_TYPE(n) *)dpcpu_priv_id_ptr(&DPCPU_NAME(n), (unsigned)(id)))

#else /* !PERCPU_MP */

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

#endif /* PERCPU_MP */

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

#endif /* DPCPU_H */

/* ---- Implementation: once per program (see USAGE) ---- */
#if defined(PERCPU_IMPLEMENTATION) && !defined(DPCPU_IMPL_H)
#define DPCPU_IMPL_H
#if PERCPU_MP
# if PERCPU_MD_HOSTED
#  include <pthread.h>
# endif

struct dpcpu_priv_global dpcpu_priv_g;
uintptr_t dpcpu_off[PERCPU_MAXCPU];

/* One byte in the set, so that it (and its bounds) exist in any program
 * that has the implementation. */
static char dpcpu_priv_anchor DPCPU_PRIV_IN_SET;

/* Hidden: bind to this module's own set, never to another module's. */
extern char __start_set_dpcpu[] __attribute__((visibility("hidden")));
extern char __stop_set_dpcpu[] __attribute__((visibility("hidden")));

# if PERCPU_MD_HOSTED
static pthread_once_t dpcpu_priv_once = PTHREAD_ONCE_INIT;
# else
static atomic_int dpcpu_priv_once; /* percpu/spin.h */
# endif

static void
dpcpu_priv_init_once(void)
{
	uintptr_t start = (uintptr_t)__start_set_dpcpu;
	size_t bytes = (size_t)(__stop_set_dpcpu - __start_set_dpcpu);
	unsigned cpu;

	(void)dpcpu_priv_anchor;
	dpcpu_priv_g.base = (char *)percpu_priv_zalloc(bytes, PERCPU_CACHELINE);
	if (dpcpu_priv_g.base == NULL) {
		percpu_priv_fail("DPCPU: cannot reserve the %zu bytes of "
				 "set_dpcpu on every CPU (limit %u)",
		    bytes, (unsigned)PERCPU_UNIT_SIZE);
		percpu_priv_panic("DPCPU: cannot reserve set_dpcpu");
	}
	PERCPU_FOREACH_CPU(cpu) {
		char *copy = (char *)percpu_ptr(dpcpu_priv_g.base, cpu);

		memcpy(copy, __start_set_dpcpu, bytes);
		dpcpu_off[cpu] = (uintptr_t)copy - start;
	}
	dpcpu_priv_g.start = start;
	dpcpu_priv_g.stop = start + bytes;
	/* Release: copies and dpcpu_off before ready; pairs with the
	 * acquire in dpcpu_priv_ready(). */
	atomic_store_explicit(&dpcpu_priv_g.ready, 1, memory_order_release);
}

void
dpcpu_priv_init(void)
{
# if PERCPU_MD_HOSTED
	(void)pthread_once(&dpcpu_priv_once, dpcpu_priv_init_once);
# else
	percpu_priv_once(&dpcpu_priv_once, dpcpu_priv_init_once);
# endif
}
#endif /* PERCPU_MP */
#endif /* PERCPU_IMPLEMENTATION */
