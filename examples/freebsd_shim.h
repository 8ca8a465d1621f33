/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * freebsd_shim.h - just enough of FreeBSD's mutex(9) and atomic(9) for
 * 05-dpcpu-manpage.c, the DPCPU(9) man page's example: struct mutex,
 * mtx_lock and mtx_unlock on pthreads, atomic_add_int on C11 atomics.
 * DPCPU(9) itself, critical_enter/exit and curcpu come from dpcpu.h.
 */
#ifndef FREEBSD_SHIM_H
#define FREEBSD_SHIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The man page's per-CPU mutex is a DPCPU variable without an
 * initializer, so every CPU's copy is zero bytes and nobody calls
 * mtx_init().  That is an unlocked default mutex wherever
 * PTHREAD_MUTEX_INITIALIZER is all zeros (glibc, musl):
 * freebsd_shim_check() makes sure at run time.
 */
struct mutex {
	pthread_mutex_t mtx_m;
};

static inline void
mtx_lock(struct mutex *m)
{
	(void)pthread_mutex_lock(&m->mtx_m);
}

static inline void
mtx_unlock(struct mutex *m)
{
	(void)pthread_mutex_unlock(&m->mtx_m);
}

/*
 * atomic_add_int(p, v) on a plain int (FreeBSD's atomic(9) works on
 * ordinary integers): a relaxed C11 fetch-add through an _Atomic view,
 * which has the int's size and representation on every target the
 * toolkit supports (checked below).
 */
_Static_assert(sizeof(_Atomic int) == sizeof(int), "_Atomic int is an int");
#define atomic_add_int(p, v)                               \
 ((void)atomic_fetch_add_explicit((_Atomic int *)(p), (v), \
     memory_order_relaxed))

/* Zero bytes must be an unlocked mutex (see struct mutex). */
static inline void
freebsd_shim_check(void)
{
	static const pthread_mutex_t init = PTHREAD_MUTEX_INITIALIZER;
	static const pthread_mutex_t zero;

	if (memcmp(&init, &zero, sizeof(init)) != 0) {
		fprintf(stderr,
		    "freebsd_shim: PTHREAD_MUTEX_INITIALIZER is "
		    "not all zeros here; give foo_lock an "
		    "initializer\n");
		exit(1);
	}
}

#endif /* FREEBSD_SHIM_H */
