/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/config.h - compile-time configuration of the percpu toolkit.
 *
 * Internal: include <percpu.h>, <cpumem.h>, <dpcpu.h> or <counter.h>
 * instead.  Every knob below is a value macro tested with #if, so a typo
 * is caught by -Wundef.  Scope: "global" knobs must be identical in every
 * translation unit of a program (set them on the compiler command line);
 * "implementation" knobs only matter where PERCPU_IMPLEMENTATION is
 * defined.
 *
 *   PERCPU_MP         global.  1 (default): multiprocessor build.
 *                     0: uniprocessor build; every section is a compiler
 *                     barrier, every handle is the memory itself.
 *   PERCPU_MAXCPU     global.  Cap on CPU ids (ids >= the cap are never
 *                     used as an index; see percpu.h, "CPU ids").
 *                     Default 1024 on MP, 1 on UP.
 *   PERCPU_UNIT_SIZE  global.  Bytes each CPU owns in one arena chunk
 *                     (address space, not RAM: pages are only backed
 *                     once written).  The largest single per-CPU object.
 *                     Default 256 KiB on 64-bit hosts, 64 KiB otherwise.
 *                     A multiple of 4096 on hosted ports (mmap'd), of
 *                     PERCPU_CACHELINE on firmware ports.
 *   PERCPU_MD         global.  The port (see percpu/md.h).
 *   PERCPU_DEBUG      global.  0 (default) or 1: checks that cost time.
 *                     UP build: sections are tracked, so a second thread
 *                     inside a section while another thread is in one is
 *                     reported through the error handler (UP assumes one
 *                     thread of control per core), and percpu_in_section()
 *                     gives the calling thread's depth.  MP: no effect.
 *   PERCPU_ASSERT(x)  global.  Internal consistency checks; default
 *                     assert(3).
 *   PERCPU_MALLOC(n) / PERCPU_FREE(p)
 *                     implementation.  Allocator for the toolkit's own
 *                     bookkeeping; define both or neither.  Defaults
 *                     malloc(3)/free(3); with PERCPU_STATIC_ARENA_SIZE a
 *                     static pool (below).  A NULL return is handled (the
 *                     allocation in progress fails cleanly).
 *   PERCPU_STATIC_ARENA_SIZE
 *                     implementation.  No malloc anywhere: the arena's
 *                     chunks (MP: PERCPU_UNIT_SIZE bytes per possible CPU
 *                     each) are carved from a static array of this many
 *                     bytes, and the toolkit's bookkeeping comes from a
 *                     static pool of PERCPU_STATIC_POOL_SIZE bytes
 *                     (default 4096) unless PERCPU_MALLOC is defined.
 *                     Running out is an allocation failure (each face's
 *                     documented error), never a write past the end.
 *   PERCPU_NO_FORMAT  implementation, firmware (no C library).  1: no
 *                     message formatter in the image (nor the 64-bit
 *                     division it needs); the error handler and
 *                     PERCPU_PANIC get the format string unformatted.
 *                     Default 0.
 *   PERCPU_BOOT_INIT  global, firmware ports.  1: the boot code calls
 *                     percpu_init() once, before any other function of
 *                     the toolkit runs on any core; the fast paths then
 *                     skip the readiness check (no first-use
 *                     initialization).  Default 0: every entry point
 *                     checks and initializes on first use.
 *   PERCPU_PANIC(msg) implementation, firmware (no C library).  Called
 *                     with the message of a fatal error (the default error
 *                     handler's misuse reports, a failed start-up);
 *                     default: spin forever.  Hosted builds print and
 *                     abort().
 */
#ifndef PERCPU_CONFIG_H
#define PERCPU_CONFIG_H

/*
 * The toolkit's version (CHANGELOG.md), reachable from every public
 * header.  The Makefile's install reads these three lines.
 */
#define PERCPU_VERSION_MAJOR 0
#define PERCPU_VERSION_MINOR 1
#define PERCPU_VERSION_PATCH 0
/* One number to compare: 0x00MMmmpp. */
#define PERCPU_VERSION                                         \
 ((PERCPU_VERSION_MAJOR << 16) | (PERCPU_VERSION_MINOR << 8) | \
     PERCPU_VERSION_PATCH)

/*
 * C11 or C++11 and later.  An older C stops here, with one message: the
 * #error, then a missing include that ends the compilation (so that no
 * cascade of errors follows).
 */
#if !defined(__cplusplus) && \
    (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L)
/* clang-format off */
# error "percpu: the toolkit needs C11 or later: compile with -std=c11 or -std=gnu11 (or c17, gnu17, c2x), or as C++11 or later"
# include <percpu: C11 required: compile with -std=c11 or later>
/* clang-format on */
#endif

/* #define PERCPU_MP 0	// uniprocessor: no atomics, compiler barriers only */
#ifndef PERCPU_MP
# define PERCPU_MP 1
#endif
#if PERCPU_MP != 0 && PERCPU_MP != 1
# error "percpu: PERCPU_MP must be 0 (uniprocessor) or 1 (multiprocessor)"
#endif

#ifndef PERCPU_DEBUG
# define PERCPU_DEBUG 0
#endif
#if PERCPU_DEBUG != 0 && PERCPU_DEBUG != 1
# error "percpu: PERCPU_DEBUG must be 0 or 1"
#endif

#ifndef PERCPU_MAXCPU
# if PERCPU_MP
#  define PERCPU_MAXCPU 1024
# else
#  define PERCPU_MAXCPU 1
# endif
#endif
#if !PERCPU_MP && PERCPU_MAXCPU != 1
# error "percpu: PERCPU_MP=0 requires PERCPU_MAXCPU == 1"
#endif
#if PERCPU_MAXCPU < 1 || PERCPU_MAXCPU > 65535
# error "percpu: PERCPU_MAXCPU must be in [1, 65535]"
#endif

#ifndef PERCPU_UNIT_SIZE
# if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ >= 8
#  define PERCPU_UNIT_SIZE (256 * 1024)
# else
#  define PERCPU_UNIT_SIZE (64 * 1024)
# endif
#endif

/* Size of a cache line: per-CPU units never share one. */
#ifndef PERCPU_NO_FORMAT
# define PERCPU_NO_FORMAT 0
#endif
#ifndef PERCPU_BOOT_INIT
# define PERCPU_BOOT_INIT 0
#endif

#ifndef PERCPU_CACHELINE
# define PERCPU_CACHELINE 64
#endif
#if PERCPU_CACHELINE < 16 || (PERCPU_CACHELINE & (PERCPU_CACHELINE - 1)) != 0
# error "percpu: PERCPU_CACHELINE must be a power of two, at least 16"
#endif
/* Hosted ports also want whole pages (percpu/md.h). */
#if PERCPU_UNIT_SIZE < PERCPU_CACHELINE || \
    (PERCPU_UNIT_SIZE % PERCPU_CACHELINE) != 0
# error "percpu: PERCPU_UNIT_SIZE must be a multiple of PERCPU_CACHELINE"
#endif

#ifndef PERCPU_ASSERT
# if __STDC_HOSTED__
#  include <assert.h>
#  define PERCPU_ASSERT(x) assert(x)
# else
/* Freestanding: no <assert.h>; the check is compiled, never run. */
#  define PERCPU_ASSERT(x) ((void)sizeof(!(x)))
# endif
#endif

#if defined(PERCPU_MALLOC) != defined(PERCPU_FREE)
# error "percpu: define both PERCPU_MALLOC and PERCPU_FREE, or neither"
#endif
#ifndef PERCPU_MALLOC
# ifdef PERCPU_STATIC_ARENA_SIZE
/* The static pool of percpu/static_arena.h (implementation only). */
#  define PERCPU_MALLOC(n) percpu_priv_pool_alloc(n)
#  define PERCPU_FREE(p) percpu_priv_pool_free(p)
#  define PERCPU_PRIV_POOL 1
# else
#  define PERCPU_MALLOC(n) malloc(n)
#  define PERCPU_FREE(p) free(p)
#  define PERCPU_PRIV_MALLOC_LIBC 1
# endif
#endif

/*
 * PERCPU_DEBUG  per translation unit.  1: extra checks on paths that are
 * plain code otherwise (a counter(9) counter used after
 * counter_u64_free(), with freed counters held back from reuse).
 * Default 0.
 */
#ifndef PERCPU_DEBUG
# define PERCPU_DEBUG 0
#endif

/*
 * PERCPU_API - before the public functions the implementation defines
 * out of line (stb's STBIDEF; percpu/core.h).  Default: ELF default
 * visibility, so that the API stays exported from a shared library built
 * with -fvisibility=hidden.  The rest of what the headers declare (the
 * faces' functions, and the internals their inline functions reach from
 * other modules) gets the same through PERCPU_BEGIN_DECLS
 * (percpu/atomic.h); what the implementation defines without a
 * declaration is static or follows the command line.  Predefine it to
 * change it (e.g. empty, with -DPERCPU_VISIBILITY_DEFAULT=0, for a
 * private toolkit in each shared object).
 */
#ifndef PERCPU_API
# if (defined(__GNUC__) || defined(__clang__)) && defined(__ELF__)
#  define PERCPU_API __attribute__((visibility("default")))
# else
#  define PERCPU_API
# endif
#endif

/* Branch hints and attributes; plain C11 elsewhere. */
#if defined(__GNUC__) || defined(__clang__)
# define PERCPU_LIKELY(x) __builtin_expect(!!(x), 1)
# define PERCPU_UNLIKELY(x) __builtin_expect(!!(x), 0)
# define PERCPU_NOINLINE __attribute__((noinline))
# define PERCPU_ALWAYS_INLINE __attribute__((always_inline))
# define PERCPU_PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))
#else
# define PERCPU_LIKELY(x) (x)
# define PERCPU_UNLIKELY(x) (x)
# define PERCPU_NOINLINE
# define PERCPU_ALWAYS_INLINE
# define PERCPU_PRINTFLIKE(f, a)
#endif

/*
 * PERCPU_PRIV_X86_ASM (0 or 1): the hot paths' x86-64 asm for plain
 * stores and read-modify-writes that C11 atomics would spell as several
 * instructions (x86-64 is TSO: a plain store is a release store).  0
 * under ThreadSanitizer, which must see the C11 atomics it checks.
 */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(__SANITIZE_THREAD__)
# if defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#   define PERCPU_PRIV_X86_ASM 0
#  endif
# endif
# ifndef PERCPU_PRIV_X86_ASM
#  define PERCPU_PRIV_X86_ASM 1
# endif
#else
# define PERCPU_PRIV_X86_ASM 0
#endif

#ifdef __cplusplus
# define PERCPU_NORETURN [[noreturn]]
#else
# define PERCPU_NORETURN _Noreturn
#endif

#ifdef __cplusplus
# define PERCPU_THREAD_LOCAL thread_local
#else
# define PERCPU_THREAD_LOCAL _Thread_local
#endif

#endif /* PERCPU_CONFIG_H */
