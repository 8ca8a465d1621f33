/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/md.h - the port layer: the only file that knows the OS.
 *
 * Internal: include <percpu.h> instead.
 *
 * A port is chosen by the numbered macro PERCPU_MD, which the user may
 * preset (on the command line, identically in every translation unit):
 *
 *   PERCPU_MD_NONE   0  uniprocessor build (PERCPU_MP=0): nothing to find.
 *   PERCPU_MD_LINUX  1  Linux hosted: the current CPU from glibc's rseq
 *                       area when glibc registered one (backend "rseq"),
 *                       else sched_getcpu() (backend "getcpu"); C11
 *                       atomics on shared words; possible CPUs from sysfs.
 *   PERCPU_MD_SIM    2  test port: simulated sparse CPUs on any POSIX
 *                       host.  A thread's "current CPU" is a per-thread
 *                       value the test moves with percpu_sim_migrate() or
 *                       lets the port scramble (percpu_sim_chaos()).
 *   PERCPU_MD_BAREMETAL 3  firmware, ready ports: AArch64 (MPIDR_EL1,
 *                       DAIF) and RISC-V M-mode (mhartid, mstatus.MIE).
 *   PERCPU_MD_USER   4  firmware, the user's hooks in the header named by
 *                       PERCPU_MD_USER_HEADER.
 *                       Both firmware ports (percpu/md_baremetal.h, which
 *                       documents their hooks) also serve PERCPU_MP=0
 *                       builds, whose sections then mask interrupts.
 *
 * Without a preset the ladder below picks LINUX on Linux and NONE for a
 * uniprocessor build; any other target is a compile-time #error naming
 * the fix.  The runtime backend actually used is reported by
 * percpu_backend().
 *
 * Hooks a port provides (all static inline, all MP only):
 *
 *   unsigned percpu_md_cpu_id(void);
 *       post: the id of a CPU the calling thread ran on recently.  May be
 *       any value (even >= PERCPU_MAXCPU): the core bounds it.
 *   int percpu_md_possible(unsigned char *mask, unsigned cap);
 *       post: mask[i] = 1 for every possible CPU id i < cap; returns the
 *       number set (0 = unknown: the core falls back to one CPU).
 *       Implementation-only (may do I/O).
 *   void percpu_md_relax(unsigned spins);
 *       Called while waiting for another thread's section: pause, and
 *       after a few spins give the CPU away.
 *   void *percpu_md_map(size_t len) / void percpu_md_unmap(void *, size_t)
 *       Zero-filled chunk memory, lazily backed where the OS allows.
 */
#ifndef PERCPU_MD_H
#define PERCPU_MD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define PERCPU_MD_NONE 0
#define PERCPU_MD_LINUX 1
#define PERCPU_MD_SIM 2
#define PERCPU_MD_BAREMETAL 3
#define PERCPU_MD_USER 4

#ifndef PERCPU_MD
# if !PERCPU_MP
#  define PERCPU_MD PERCPU_MD_NONE
# elif defined(__linux__)
#  define PERCPU_MD PERCPU_MD_LINUX
# else
/* clang-format off */
#  error "percpu: no port for this target: build with -DPERCPU_MP=0 (uniprocessor), or -DPERCPU_MD=PERCPU_MD_BAREMETAL (firmware on AArch64/RISC-V), or -DPERCPU_MD=PERCPU_MD_USER with -DPERCPU_MD_USER_HEADER='\"my_port.h\"' (firmware hooks: percpu/md_baremetal.h), or -DPERCPU_MD=PERCPU_MD_SIM (simulated CPUs, POSIX)"
/* clang-format on */
# endif
#endif

#if PERCPU_MP && PERCPU_MD == PERCPU_MD_NONE
# error "percpu: PERCPU_MD_NONE is only for PERCPU_MP=0"
#endif
#if !PERCPU_MP && PERCPU_MD != PERCPU_MD_NONE && \
    PERCPU_MD != PERCPU_MD_BAREMETAL && PERCPU_MD != PERCPU_MD_USER
/* clang-format off */
# error "percpu: a uniprocessor build (PERCPU_MP=0) takes no port, or a firmware one (interrupt mask)"
/* clang-format on */
#endif
#if PERCPU_MD != PERCPU_MD_NONE && PERCPU_MD != PERCPU_MD_LINUX &&    \
    PERCPU_MD != PERCPU_MD_SIM && PERCPU_MD != PERCPU_MD_BAREMETAL && \
    PERCPU_MD != PERCPU_MD_USER
# error "percpu: unknown PERCPU_MD value (see percpu/md.h for the list)"
#endif

#if PERCPU_MD == PERCPU_MD_LINUX || PERCPU_MD == PERCPU_MD_SIM
# define PERCPU_MD_HOSTED 1
#else
# define PERCPU_MD_HOSTED 0
#endif

/*
 * PERCPU_MD_LIBC: 1 where the implementation may use the C library's
 * stdio and stdlib (error messages on stderr, abort(), malloc()): the
 * hosted ports, and a UP build compiled hosted.  0 for the firmware ports
 * and freestanding UP builds (-ffreestanding): there the implementation
 * needs only the compiler's freestanding headers and <string.h>.
 */
#if PERCPU_MD_HOSTED || (PERCPU_MD == PERCPU_MD_NONE && __STDC_HOSTED__)
# define PERCPU_MD_LIBC 1
#else
# define PERCPU_MD_LIBC 0
#endif

/* mmap'd chunks: units are whole pages (firmware: cache lines). */
#if PERCPU_MD_HOSTED && (PERCPU_UNIT_SIZE % 4096) != 0
# error "percpu: PERCPU_UNIT_SIZE must be a multiple of 4096 on hosted ports"
#endif

#if PERCPU_MD == PERCPU_MD_BAREMETAL || PERCPU_MD == PERCPU_MD_USER
# include "md_baremetal.h"
#else
# define PERCPU_MD_HAS_IRQ 0
#endif

#if PERCPU_MD_HOSTED
# include <sched.h>

/*
 * sched_getcpu() is declared by <sched.h> only under _GNU_SOURCE, which a
 * header must not define behind its user's back.  Its signature is the
 * same in glibc, musl and bionic.
 */
# if PERCPU_MD == PERCPU_MD_LINUX
#  if defined(__GNUC__) || defined(__clang__)
#   pragma GCC diagnostic push
#   pragma GCC diagnostic ignored "-Wredundant-decls"
#  endif
int sched_getcpu(void);
#  if defined(__GNUC__) || defined(__clang__)
#   pragma GCC diagnostic pop
#  endif
# endif

# if PERCPU_MD == PERCPU_MD_LINUX
/*
 * rseq: glibc 2.35+ registers a struct rseq for every thread and exports
 * where it is (__rseq_offset from the thread pointer) and how big
 * (__rseq_size; 0 when glibc did not register: older kernel,
 * GLIBC_TUNABLES=glibc.pthread.rseq=0, some emulators).  The toolkit
 * adopts that registration and never registers a second one.  It reads
 * only the documented field cpu_id (offset 4 of the kernel's ABI) and
 * writes nothing there.  The symbols are weak, so an older libc still
 * links (their address is then NULL) and the process uses sched_getcpu().
 * PERCPU_NO_RSEQ=1 (global) compiles the rseq path out; the environment
 * variable PERCPU_BACKEND=getcpu turns it off at run time (debuggers,
 * rr, CRIU, TSan).
 */
#  ifndef PERCPU_NO_RSEQ
#   define PERCPU_NO_RSEQ 0
#  endif
#  if !PERCPU_NO_RSEQ &&                                       \
      (defined(__x86_64__) ||                                  \
	  (defined(__aarch64__) && defined(__AARCH64EL__))) && \
      (defined(__GNUC__) || defined(__clang__))
#   define PERCPU_MD_RSEQ 1
#  else
#   define PERCPU_MD_RSEQ 0
#  endif

#  if PERCPU_MD_RSEQ
/*
 * PERCPU_MD_RSEQ_DIRECT (global, 0 or 1): the inline add and lock
 * (x86-64) read glibc's __rseq_offset itself, which glibc 2.35 and later
 * set before any code of the program runs (the area exists even when
 * glibc did not register it: its cpu_id is then negative and never
 * matches): no check before the sequence that the toolkit is ready.  1
 * when compiled against glibc 2.35 or later headers (the program then
 * needs that glibc to run); 0 otherwise, or preset 0: the toolkit's copy
 * percpu_md_rseq_off, 0 until init, tested before the sequence.
 */
#   ifndef PERCPU_MD_RSEQ_DIRECT
#    if defined(__x86_64__) && defined(__GLIBC__) && \
	(__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#     define PERCPU_MD_RSEQ_DIRECT 1
#    else
#     define PERCPU_MD_RSEQ_DIRECT 0
#    endif
#   endif
#   if PERCPU_MD_RSEQ_DIRECT && !defined(__x86_64__)
#    error "percpu: PERCPU_MD_RSEQ_DIRECT=1 is for x86-64"
#   endif

#   pragma GCC diagnostic push
#   pragma GCC diagnostic ignored "-Wredundant-decls"
#   if PERCPU_MD_RSEQ_DIRECT
/* Strong: the program needs glibc 2.35 anyway, and the compiler may then
 * keep the offset in a register across a loop of adds. */
extern const ptrdiff_t __rseq_offset;
extern const unsigned int __rseq_size;
#   else
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));
#   endif
#   pragma GCC diagnostic pop

/*
 * percpu_md_rseq_glibc - does the C library export its rseq area?
 * Return: 1 if __rseq_offset and __rseq_size exist (glibc 2.35+).
 */
static inline int
percpu_md_rseq_glibc(void)
{
#   if PERCPU_MD_RSEQ_DIRECT
	return (1);
#   else
	return (&__rseq_size != NULL && &__rseq_offset != NULL);
#   endif
}

/* 1 once the process adopted glibc's rseq area (set once, at init). */
extern int percpu_md_rseq_on;

/*
 * percpu_md_rseq_adds - may percpu_local_add64() commit with a plain store
 * in a restartable sequence?  1: yes (the "rseq" backend); 2: stopping
 * (a CPU id outside the table was met: the stopper waits for in-flight
 * sequences with membarrier); 0: stopped for good, every add is atomic.
 * Word rule: written only by percpu_priv_rseq_stop() (percpu/impl.h) and
 * at init; read with relaxed __atomic loads in C, and inside every
 * sequence (percpu_md_rseq_add() commits only while it is 1).
 */
extern int percpu_md_rseq_adds;

/*
 * percpu_md_rseq_off - __rseq_offset, copied at init where glibc has it;
 * else 0.  A plain global (no GOT load for a weak symbol), and 0 names
 * the first word of the thread control block, which every thread may
 * read: percpu_md_rseq_cpu_start() may run before knowing whether rseq is
 * on, and its answer is then only compared with a bound of 0.
 * Word rule: written once, at init, before ready; read plainly (a reader
 * before init sees 0 or the value, and either is safe).
 */
extern ptrdiff_t percpu_md_rseq_off;

/* The thread pointer, from which __rseq_offset counts. */
static inline char *
percpu_md_thread_pointer(void)
{
	char *tp;

#   if defined(__x86_64__)
	__asm__("mov %%fs:0, %0" : "=r"(tp));
#   else
	__asm__("mrs %0, tpidr_el0" : "=r"(tp));
#   endif
	return (tp);
}

/*
 * The kernel's struct rseq (linux/rseq.h, a stable ABI): cpu_id_start at
 * offset 0, cpu_id at 4, rseq_cs at 8.  The signature is the one glibc
 * registers; the kernel checks that it precedes every abort handler.
 */
#   define PERCPU_MD_RSEQ_CPU_ID_START 0
#   define PERCPU_MD_RSEQ_CPU_ID 4
#   define PERCPU_MD_RSEQ_CS 8
/* The offsets as text, for the sequences' assembly. */
#   define PERCPU_MD_STR(x) PERCPU_MD_STR2(x)
#   define PERCPU_MD_STR2(x) #	x

/* The calling thread's rseq area (glibc's registration). */
static inline char *
percpu_md_rseq_area(void)
{
	return (percpu_md_thread_pointer() + __rseq_offset);
}

/*
 * percpu_md_rseq_cpu_id - the rseq area's cpu_id field.
 *
 * Context: any thread of a process whose libc registered rseq.
 * Return: the CPU id, or a negative value while the kernel has not (or
 *         could not) register the area.  Volatile: the kernel rewrites it
 *         when the thread moves.
 */
static inline int32_t
percpu_md_rseq_cpu_id(void)
{
	return (*(const volatile int32_t *)(void *)(percpu_md_rseq_area() +
	    PERCPU_MD_RSEQ_CPU_ID));
}

/*
 * percpu_md_rseq_cpu_start - the CPU to attempt a restartable sequence on.
 *
 * Context: any thread.
 * Return: with percpu_md_rseq_on, cpu_id_start: always a valid CPU id
 *         (the kernel keeps it so); else a meaningless number.
 */
static inline uint32_t
percpu_md_rseq_cpu_start(void)
{
	uint32_t cpu;

#   if defined(__x86_64__)
	/* %fs-relative: no separate load of the thread pointer. */
	__asm__ __volatile__("movl %%fs:(%1), %0"
			     : "=r"(cpu)
			     : "r"(percpu_md_rseq_off));
#   else
	cpu = *(const volatile uint32_t *)(void *)(percpu_md_thread_pointer() +
	    percpu_md_rseq_off + PERCPU_MD_RSEQ_CPU_ID_START);
#   endif
	return (cpu);
}

/*
 * percpu_md_rseq_add - *@p += @v as one restartable sequence on CPU @cpu.
 *
 * The sequence: publish its descriptor in rseq_cs, check that the thread
 * still runs on @cpu and that rseq adds are still on (percpu_md_rseq_adds
 * is 1: read inside the sequence, so the membarrier of a stop restarts
 * any sequence that read it earlier), then add with one plain store as
 * the commit.  The
 * kernel sends the thread to the abort handler if it is preempted,
 * migrated or signalled before the commit, so the update is never lost
 * and never lands on another CPU's word.
 * Word rule: *@p must be rseq-only-from-its-CPU: written by no atomic from
 * another CPU and by no plain store outside such a sequence, ever (see
 * DESIGN.md: a plain commit races any remote atomic on the same word).
 * Context: any thread of a process with percpu_md_rseq_on; signal
 *          handlers included.
 * Ordering: none (relaxed); readers use relaxed atomic loads.
 * Return: 0 if committed; 1 if aborted, no longer on @cpu, or rseq adds
 *         no longer on (the caller re-reads percpu_md_rseq_adds, then
 *         retries with a fresh cpu_id_start).
 */
/*
 * PERCPU_MD_ASM_GOTO_OUTPUT (global, 0 or 1): asm goto with an output
 * ("+m" on the word: gcc 11, clang 11 and later) lets the compiler keep
 * other values in registers across the sequence; 0 passes the word as an
 * input operand with a memory clobber instead (older compilers).
 * Detected from the compiler version; preset 0 to force the older form
 * (make test builds and runs the fast-path suites so).
 */
#   ifndef PERCPU_MD_ASM_GOTO_OUTPUT
#    if (defined(__clang__) && __clang_major__ >= 11) || \
	(!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 11)
#     define PERCPU_MD_ASM_GOTO_OUTPUT 1
#    else
#     define PERCPU_MD_ASM_GOTO_OUTPUT 0
#    endif
#   endif
#   if PERCPU_MD_ASM_GOTO_OUTPUT
#    define PERCPU_MD_RSEQ_OUT(p) [word] "+m"(*(p))
#    define PERCPU_MD_RSEQ_IN(p)
#    define PERCPU_MD_RSEQ_CLOBBER
#   else
#    define PERCPU_MD_RSEQ_OUT(p)
#    define PERCPU_MD_RSEQ_IN(p) , [word] "m"(*(p))
#    define PERCPU_MD_RSEQ_CLOBBER "memory",
#   endif

/*
 * Leaving rseq_cs set after a sequence (x86-64).
 *
 * The kernel reads the descriptor rseq_cs points at, and the signature
 * before its abort handler, at the thread's next preemption, signal or
 * migration, however long after the sequence.  librseq leaves rseq_cs set
 * and so must never be unloaded: a dlclose()d object's descriptor is a
 * SIGSEGV at the next preemption of every thread that used it.  Here
 * each sequence loads its descriptor's address from a slot (section
 * percpu_rseq_slot): at init the implementation copies every descriptor
 * of its object into a page it never unmaps and points the slots there
 * (percpu_priv_rseq_persist(), percpu/impl.h); when the object is
 * dlclose()d its destructor rewrites the copies to cover no code, with
 * the signature in that page, so a stale rseq_cs is cleared by the
 * kernel.  No store to clear rseq_cs is needed after a commit nor after
 * a failed check (one load of the slot instead of the lea, and a test).
 * A slot is 0 until copied, and a sequence with a 0 slot never starts:
 * so code of a module that is not the implementation's (it uses the
 * implementation's exported functions), whose slots nobody copies, and
 * any sequence that runs before init, always take the out-of-line path
 * (the implementation's own sequences).  AArch64 still clears rseq_cs
 * at every exit (PERCPU_MD_RSEQ_A64_CLEAR).
 */
/* clang-format off */
#   define PERCPU_MD_RSEQ_SIG 0x53053053
/*
 * PERCPU_MD_RSEQ_X86_ENTER(kind, off) - the start of every x86-64
 * sequence: its descriptor (3:) with, after the kernel's 32 bytes, a
 * bound (0 here) and its @kind (the add bound, below); its slot (5: the
 * address of the descriptor the sequence publishes, first this one, then
 * its copy; and this one's address, which percpu_priv_rseq_persist()
 * copies from); the store that enters the sequence, which starts at 1:,
 * commits at the instruction before 2: and aborts to 4:; and its first
 * checks: still on CPU %[cpu], and %[cpu] below the descriptor's bound
 * (so a sequence whose slot was never copied never commits).
 */
#   define PERCPU_MD_RSEQ_X86_ENTER(kind, off) \
	".pushsection __rseq_cs, \"aw\"\n\t" \
	".balign 32\n\t" \
	"3:\n\t" \
	".long 0x0, 0x0\n\t"		/* version, flags */ \
	".quad 1f, (2f - 1f), 4f\n\t"	/* start, post-commit offset, abort */ \
	".long 0, " kind "\n\t"	/* bound, kind */ \
	".popsection\n\t" \
	".pushsection percpu_rseq_slot, \"aw\"\n\t" \
	".balign 16\n\t" \
	"5:\n\t" \
	".quad 3b, 3b\n\t"		/* the slot, the descriptor */ \
	".popsection\n\t" \
	"movq 5b(%%rip), %%rax\n\t" \
	"movq %%rax, %%fs:" PERCPU_MD_STR(PERCPU_MD_RSEQ_CS) "(" off ")\n\t" \
	"1:\n\t" \
	"cmpl %[cpu], %%fs:" PERCPU_MD_STR(PERCPU_MD_RSEQ_CPU_ID) "(" off ")\n\t" \
	"jnz %l[abort]\n\t" \
	"cmpl " PERCPU_MD_STR(PERCPU_MD_RSEQ_LIM_OFF) "(%%rax), %[cpu]\n\t" \
	"jae %l[abort]\n\t"
/* The slots of every sequence of this object (exe or shared object): the
 * linker's bounds of section percpu_rseq_slot, this object's own (hidden;
 * ld still lists them in a shared object's dynamic symbols). */
extern uintptr_t __start_percpu_rseq_slot[]
    __attribute__((weak, visibility("hidden")));
extern uintptr_t __stop_percpu_rseq_slot[]
    __attribute__((weak, visibility("hidden")));
/* The abort handler: ud1 with the signature as disp32, then the C label. */
#   define PERCPU_MD_RSEQ_X86_ABORT \
	".pushsection __rseq_failure, \"ax\"\n\t" \
	".byte 0x0f, 0xb9, 0x3d\n\t" \
	".long " PERCPU_MD_STR(PERCPU_MD_RSEQ_SIG) "\n\t" \
	"4:\n\t" \
	"jmp %l[abort]\n\t" \
	".popsection\n\t"
#   define PERCPU_MD_RSEQ_A64_CLEAR \
	"str xzr, [%[rs], #" PERCPU_MD_STR(PERCPU_MD_RSEQ_CS) "]\n\t"
/* clang-format on */

/*
 * The add bound: percpu_local_add64()'s
 * inline add (x86-64) takes
 * the CPU ids below this one: the dense prefix of the table while rseq
 * adds are on; 0 before init, when rseq is off, and from the start of a
 * stop (percpu_priv_rseq_stop() stores 0 before its membarrier).  The
 * sequence reads it through its descriptor: each copy of an add's
 * descriptor carries it in the word after the kernel's 32 bytes
 * (PERCPU_MD_RSEQ_LIM_OFF), the descriptor in the object carries 0 (a
 * sequence whose slot was never copied never commits); one load, no
 * separate test of the slot, so the inline add stays within one 64-byte
 * fetch block.  Read inside the sequence, so a stop's membarrier
 * restarts every sequence that read the old value.
 * Word rule: the copies' bounds are written at init and by
 * percpu_priv_rseq_stop() (percpu_priv_rseq_bound()); read inside
 * sequences.
 */
/* After the kernel's 32 bytes every descriptor of ours has two words:
 * the bound its sequence compares the CPU id with (0 in the object;
 * a copy's is set by the implementation), and its kind: 0 an inline add
 * (the bound above), 1 a section lock (percpu_md_rseq_llim), 2 other
 * (UINT32_MAX: no bound once copied). */
#   define PERCPU_MD_RSEQ_LIM_OFF 32

/*
 * percpu_md_rseq_llim - percpu_enter()'s restartable lock (x86-64) takes
 * the CPU ids below this one: the dense prefix of the table when the
 * process takes section locks by sequence; 0 before init and otherwise.
 * Unlike the add bound it stays when rseq adds stop (sections never
 * race an add).  Word rule: written once at init (before ready), read
 * plainly (0 or the final value: either is safe).
 */
extern uint32_t percpu_md_rseq_llim;

/*
 * percpu_md_rseq_offset - the offset of the thread's rseq area from the
 * thread pointer, for the inline sequences.
 * Return: __rseq_offset (PERCPU_MD_RSEQ_DIRECT); else percpu_md_rseq_off
 *         (0 until rseq is on: the caller goes out of line).
 */
static inline ptrdiff_t
percpu_md_rseq_offset(void)
{
#   if PERCPU_MD_RSEQ_DIRECT
	return (__rseq_offset);
#   else
	return (percpu_md_rseq_off);
#   endif
}

/*
 * percpu_md_rseq_start_at - cpu_id_start of the rseq area at offset @off
 * (percpu_md_rseq_offset()).
 * Context: any thread.  Return: as percpu_md_rseq_cpu_start().
 */
static inline uint32_t
percpu_md_rseq_start_at(ptrdiff_t off)
{
	uint32_t cpu;

#   if defined(__x86_64__)
	__asm__ __volatile__("movl %%fs:(%1), %0" : "=r"(cpu) : "r"(off));
#   else
	cpu = *(const volatile uint32_t *)(void *)(percpu_md_thread_pointer() +
	    off + PERCPU_MD_RSEQ_CPU_ID_START);
#   endif
	return (cpu);
}

/*
 * percpu_md_rseq_clear - store 0 to the rseq_cs of the area at offset
 * @off: outside any sequence, so that the kernel never reads the
 * descriptor of a sequence that did not commit (which may be one in an
 * object that is unloaded later).
 * Context: any thread; @off is a valid percpu_md_rseq_offset().
 */
static inline void
percpu_md_rseq_clear(ptrdiff_t off)
{
	*(volatile uint64_t *)(void *)(percpu_md_thread_pointer() + off +
	    PERCPU_MD_RSEQ_CS) = 0;
}

#   if defined(__x86_64__)
/*
 * percpu_md_rseq_add_lim - *@p += @v as one restartable sequence on CPU
 * @cpu, committed only while @cpu is below the add bound (rseq adds on,
 * and @cpu is its own unit index; read from the descriptor's copy: see
 * above): the inline add of percpu_local_add64().  Its slot
 * starts as the descriptor in the object (whose lim is 0), not 0.
 * Word rule, context and ordering: as percpu_md_rseq_add().  @off is
 * percpu_md_rseq_offset(), nonzero.
 * Return: 0 if committed; 1 if aborted or a check failed (then rseq_cs
 *         may still name the descriptor: the caller clears it with
 *         percpu_md_rseq_clear(), as that may be the object's own).
 */
static inline int
percpu_md_rseq_add_lim(uint64_t *p, uint64_t v, uint32_t cpu, ptrdiff_t off)
{
	/* clang-format off */
	__asm__ goto(
	    PERCPU_MD_RSEQ_X86_ENTER("0" /* add */, "%[off]")
	    "addq %[v], %[word]\n\t"		/* the commit: one instruction */
	    "2:\n\t"
	    PERCPU_MD_RSEQ_X86_ABORT
	    : PERCPU_MD_RSEQ_OUT(p)
	    : [off] "r"(off), [cpu] "r"(cpu), [v] "er"(v) PERCPU_MD_RSEQ_IN(p)
	    : PERCPU_MD_RSEQ_CLOBBER "cc", "rax"
	    : abort);
	/* clang-format on */
	return (0);
abort:
	return (1);
}
#   endif

static inline int
percpu_md_rseq_add(uint64_t *p, uint64_t v, uint32_t cpu)
{
	/* clang-format off */
#   if defined(__x86_64__)
	__asm__ goto(
	    PERCPU_MD_RSEQ_X86_ENTER("2" /* other: no bound once copied */,
		"%[off]")
	    "cmpl $1, %[adds]\n\t"
	    "jnz %l[abort]\n\t"
	    "addq %[v], %[word]\n\t"		/* the commit: one instruction */
	    "2:\n\t"
	    PERCPU_MD_RSEQ_X86_ABORT
	    : PERCPU_MD_RSEQ_OUT(p)
	    : [off] "r"(percpu_md_rseq_off), [cpu] "r"(cpu), [v] "r"(v),
	      [adds] "m"(percpu_md_rseq_adds) PERCPU_MD_RSEQ_IN(p)
	    : PERCPU_MD_RSEQ_CLOBBER "cc", "rax"
	    : abort);
#   else /* AArch64, little endian */
	char *rs = percpu_md_thread_pointer() + percpu_md_rseq_off;

	__asm__ goto(
	    ".pushsection __rseq_cs, \"aw\"\n\t"
	    ".balign 32\n\t"
	    "3:\n\t"
	    ".long 0x0, 0x0\n\t"
	    ".quad 1f, (2f - 1f), 4f\n\t"
	    ".popsection\n\t"
	    "adrp x9, 3b\n\t"
	    "add x9, x9, :lo12:3b\n\t"
	    "str x9, [%[rs], #" PERCPU_MD_STR(PERCPU_MD_RSEQ_CS) "]\n\t"
	    "1:\n\t"
	    "ldr w9, [%[rs], #" PERCPU_MD_STR(PERCPU_MD_RSEQ_CPU_ID) "]\n\t"
	    "cmp w9, %w[cpu]\n\t"
	    "b.ne %l[abort]\n\t"
	    "ldr w9, [%[adds]]\n\t"
	    "cmp w9, #1\n\t"
	    "b.ne %l[abort]\n\t"
	    "ldr x9, [%[p]]\n\t"
	    "add x9, x9, %[v]\n\t"
	    "str x9, [%[p]]\n\t"		/* the commit */
	    "2:\n\t"
	    PERCPU_MD_RSEQ_A64_CLEAR
	    ".pushsection __rseq_failure, \"ax\"\n\t"
	    ".inst 0xd428bc00\n\t"		/* the signature, as a brk instruction */
	    "4:\n\t"
	    "b %l[abort]\n\t"
	    ".popsection\n\t"
	    :
	    : [rs] "r"(rs), [cpu] "r"(cpu), [p] "r"(p), [v] "r"(v),
	      [adds] "r"(&percpu_md_rseq_adds)
	    : "memory", "cc", "x9"
	    : abort);
#   endif
	/* clang-format on */
	return (0);
abort:
	/* AArch64: the kernel cleared rseq_cs if it aborted us; a failed
	 * check did not.  Out of the sequence here: a preemption before
	 * this store finds the descriptor mapped and clears it. */
#   if !defined(__x86_64__)
	*(volatile uint64_t *)(void *)(percpu_md_rseq_area() +
	    PERCPU_MD_RSEQ_CS) = 0;
#   endif
	return (1);
}
#   if defined(__x86_64__)
/*
 * percpu_md_rseq_lock - take the section lock word *@owner of CPU @cpu
 * for @tok as one restartable sequence: publish the descriptor, check
 * that the thread still runs on @cpu, that *@owner is 0 and that no
 * remote acquirer waits (want, the 32-bit word 8 bytes after owner, is
 * 0), then commit with one plain store.
 * Remote acquirers count themselves in *@want, then restart every
 * sequence on @cpu with membarrier(PRIVATE_EXPEDITED_RSEQ) before their
 * compare-and-swap, so no plain commit ever races it (percpu/impl.h).
 * The sequence also checks @cpu against the bound in its descriptor's
 * copy (percpu_md_rseq_llim; 0 in the object's own, so a module whose
 * slots were never copied never commits), before any access through
 * @owner, which may be computed from any id (an integer, never
 * dereferenced unless the id is below the bound).
 * Context: any thread; @off is percpu_md_rseq_offset(), nonzero.
 * Ordering: acquire (x86 loads are ordered; the memory clobber keeps the
 *           section's accesses after it); pairs with the release store
 *           of percpu_leave().
 * Return: 0 if committed (the lock is @tok's); 1 otherwise (rseq_cs may
 *         still name the descriptor: the caller clears it).
 */
#    define PERCPU_MD_RSEQ_LOCK 1
static inline int
percpu_md_rseq_lock(uintptr_t owner, uintptr_t tok, uint32_t cpu, ptrdiff_t off)
{
	/* clang-format off */
	/* The bound comes before any access through @owner: an id at or
	 * past it (or any id, in the object's own descriptor) never names a
	 * lock word. */
	__asm__ goto(
	    PERCPU_MD_RSEQ_X86_ENTER("1" /* lock */, "%[off]")
	    "cmpq $0, (%[owner])\n\t"
	    "jnz %l[abort]\n\t"
	    "cmpl $0, 8(%[owner])\n\t"		/* want */
	    "jnz %l[abort]\n\t"
	    "movq %[tok], (%[owner])\n\t"	/* the commit */
	    "2:\n\t"
	    PERCPU_MD_RSEQ_X86_ABORT
	    :
	    : [off] "r"(off), [cpu] "r"(cpu), [owner] "r"(owner), [tok] "r"(tok)
	    : "memory", "cc", "rax"
	    : abort);
	/* clang-format on */
	return (0);
abort:
	return (1);
}
#   endif
#  endif

/*
 * percpu_md_cpu_id - the CPU the calling thread runs on (Linux).
 *
 * Context: any thread, signal handlers included (async-signal-safe); the
 *          table exists (percpu_priv_ready()).
 * Ordering: none.
 * Return: the kernel's CPU id (rseq cpu_id, else sched_getcpu()); 0 if
 *         the kernel cannot tell.  The result may be stale by the time it
 *         is used: the core never relies on it for correctness, only for
 *         locality.
 */
static inline unsigned
percpu_md_cpu_id(void)
{
	int cpu;

#  if PERCPU_MD_RSEQ
	if (PERCPU_LIKELY(percpu_md_rseq_on)) {
		int32_t id = percpu_md_rseq_cpu_id();

		if (PERCPU_LIKELY(id >= 0))
			return ((unsigned)id);
	}
#  endif
	cpu = sched_getcpu();
	return (cpu >= 0 ? (unsigned)cpu : 0u);
}
# endif

/*
 * percpu_md_relax - wait politely for a section another thread holds.
 *
 * Context: any thread.
 * Ordering: none (the caller re-reads with acquire).
 */
static inline void
percpu_md_relax(unsigned spins)
{
	if (spins < 64) {
# if defined(__x86_64__) || defined(__i386__)
		__asm__ __volatile__("pause" ::: "memory");
# elif defined(__aarch64__)
		__asm__ __volatile__("yield" ::: "memory");
# endif
	} else
		(void)sched_yield();
}
#endif /* PERCPU_MD_HOSTED */

/*
 * percpu_md_now_ns - monotonic nanoseconds, where the port has a clock
 * (PERCPU_MD_HAS_NOW): counter(9)'s ratecheck window.
 *
 * clock_gettime() and CLOCK_MONOTONIC are hidden by <time.h> under strict
 * -std=c11 (POSIX), and a header must not define feature macros behind
 * its user's back.  Linux (glibc, musl): clockid_t is int, and
 * CLOCK_MONOTONIC is 1 on every architecture.
 * Context: any.
 * Return: nanoseconds since an arbitrary start; 0 if the clock fails.
 */
#if (PERCPU_MD_HOSTED || (PERCPU_MD == PERCPU_MD_NONE && PERCPU_MD_LIBC)) && \
    defined(__linux__)
# define PERCPU_MD_HAS_NOW 1
# include <time.h>
# if defined(__GNUC__) || defined(__clang__)
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wredundant-decls"
# endif
int clock_gettime(int clk, struct timespec *ts);
# if defined(__GNUC__) || defined(__clang__)
#  pragma GCC diagnostic pop
# endif

static inline int64_t
percpu_md_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(1 /* CLOCK_MONOTONIC */, &ts) != 0)
		return (0);
	return ((int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec);
}
#else
# define PERCPU_MD_HAS_NOW 0
#endif

#endif /* PERCPU_MD_H */
