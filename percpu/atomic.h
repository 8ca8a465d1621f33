/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/atomic.h - C11 atomics, and the same spelling in C++.
 *
 * Internal: included by every header of the toolkit that uses atomics, so
 * that the rest of the code is written once, in C11.  The one place that
 * knows C++.
 *
 * C: <stdatomic.h>.
 * C++23 and later: <stdatomic.h> as well (the standard's compatibility
 *   header: _Atomic(T) is std::atomic<T>).
 * C++11 to C++20: <atomic>, and the names C11 code uses, as C++23's
 *   <stdatomic.h> provides them: _Atomic(T) is std::atomic<T>, and the
 *   atomic_* functions, memory_order_* constants and atomic_int-style
 *   typedefs are brought into the global namespace.  Also the C11
 *   keywords the headers use (_Static_assert, _Alignas, _Alignof).  A
 *   std::atomic<T> has the size and representation of T on every target
 *   the toolkit supports (checked where it matters with _Static_assert).
 *
 * Included before any extern "C" block (a C++ header must not be).
 */
#ifndef PERCPU_ATOMIC_H
#define PERCPU_ATOMIC_H

#include "config.h" /* first: stops a pre-C11 compile with one #error */

#ifndef __cplusplus
# include <stdatomic.h>
#elif __cplusplus > 202002L && defined(__has_include)
# if __has_include(<stdatomic.h>)
#  include <stdatomic.h>
#  define PERCPU_PRIV_CXX_STDATOMIC 1
# endif
#endif

#if defined(__cplusplus) && !defined(PERCPU_PRIV_CXX_STDATOMIC)
# include <atomic>
# ifndef _Atomic
#  define _Atomic(T) std::atomic<T>
# endif
using std::atomic_bool;
using std::atomic_compare_exchange_strong_explicit;
using std::atomic_compare_exchange_weak_explicit;
using std::atomic_exchange_explicit;
using std::atomic_fetch_add_explicit;
using std::atomic_fetch_and_explicit;
using std::atomic_fetch_or_explicit;
using std::atomic_fetch_sub_explicit;
using std::atomic_init;
using std::atomic_int;
using std::atomic_load;
using std::atomic_load_explicit;
using std::atomic_signal_fence;
using std::atomic_store;
using std::atomic_store_explicit;
using std::atomic_thread_fence;
using std::atomic_uint;
using std::atomic_uintptr_t;
using std::memory_order;
using std::memory_order_acq_rel;
using std::memory_order_acquire;
using std::memory_order_relaxed;
using std::memory_order_release;
using std::memory_order_seq_cst;
#endif

#ifdef __cplusplus
# include <type_traits> /* std::decay: C++'s stand-in for _Generic */
# ifndef _Static_assert
#  define _Static_assert(e, m) static_assert(e, m)
# endif
# ifndef _Alignas
#  define _Alignas(n) alignas(n)
# endif
# ifndef _Alignof
#  define _Alignof(t) alignof(t)
# endif
/* PERCPU_PRIV_AS(var, p): the void * @p for assignment to @var (C++ does
 * not convert void * implicitly). */
# define PERCPU_PRIV_AS(var, p) static_cast<decltype(var)>(p)
/* extern "C" around the declarations of each header. */
# define PERCPU_PRIV_EXTERN_C_BEGIN extern "C" {
# define PERCPU_PRIV_EXTERN_C_END }
#else
# define PERCPU_PRIV_EXTERN_C_BEGIN
# define PERCPU_PRIV_EXTERN_C_END
# define PERCPU_PRIV_AS(var, p) (p)
#endif

/*
 * PERCPU_BEGIN_DECLS / PERCPU_END_DECLS - around the declarations of each
 * header: extern "C" in C++, and on ELF with GCC or Clang default
 * visibility, so that a shared object built with -fvisibility=hidden
 * still exports the functions the headers declare (the public API, and
 * the internals that the headers' inline functions reach from other
 * modules).  What the implementation defines without a declaration here
 * follows the command line (hidden with -fvisibility=hidden).
 * -DPERCPU_VISIBILITY_DEFAULT=0 leaves visibility to the command line
 * everywhere: each shared object then has a private toolkit.
 */
#ifndef PERCPU_VISIBILITY_DEFAULT
# define PERCPU_VISIBILITY_DEFAULT 1
#endif
#if PERCPU_VISIBILITY_DEFAULT && (defined(__GNUC__) || defined(__clang__)) && \
    defined(__ELF__)
# define PERCPU_BEGIN_DECLS \
  PERCPU_PRIV_EXTERN_C_BEGIN _Pragma("GCC visibility push(default)")
# define PERCPU_END_DECLS _Pragma("GCC visibility pop") PERCPU_PRIV_EXTERN_C_END
#else
# define PERCPU_BEGIN_DECLS PERCPU_PRIV_EXTERN_C_BEGIN
# define PERCPU_END_DECLS PERCPU_PRIV_EXTERN_C_END
#endif

#endif /* PERCPU_ATOMIC_H */
