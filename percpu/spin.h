/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/spin.h - a spin lock and a once-flag in plain C11 atomics, for
 * builds without pthreads (firmware ports, the static arena).
 *
 * Internal: reached from percpu/md_baremetal.h and the implementation.
 * Both are for thread context: an interrupt handler that takes a lock its
 * own core holds spins forever (the toolkit never takes them in a
 * section, so only allocation and first-use paths do, which are
 * documented as thread context).
 */
#ifndef PERCPU_SPIN_H
#define PERCPU_SPIN_H

#include "atomic.h"

#include "config.h"

/* Lock states of percpu_priv_spin_lock(); a zero-filled int is unlocked. */
#define PERCPU_PRIV_SPIN_FREE 0
#define PERCPU_PRIV_SPIN_HELD 1

/* Once states of percpu_priv_once(); a zero-filled int has not run. */
#define PERCPU_PRIV_ONCE_NEW 0
#define PERCPU_PRIV_ONCE_RUNNING 1
#define PERCPU_PRIV_ONCE_DONE 2

/* One step of a wait: the port's pause on MP, nothing to wait for on UP. */
static inline void
percpu_priv_spin_wait(unsigned *spins)
{
#if PERCPU_MP
	percpu_md_relax(*spins);
#endif
	atomic_signal_fence(memory_order_seq_cst);
	if (*spins < 1000)
		(*spins)++;
}

/*
 * percpu_priv_spin_lock - take the lock word @l.
 *
 * Context: thread context (see above); not recursive.
 * Ordering: acquire; pairs with the release in percpu_priv_spin_unlock().
 */
static inline void
percpu_priv_spin_lock(atomic_int *l)
{
	unsigned spins = 0;
	int expect = PERCPU_PRIV_SPIN_FREE;

	/* Acquire: pairs with the release store in percpu_priv_spin_unlock. */
	while (!atomic_compare_exchange_weak_explicit(l, &expect,
	    PERCPU_PRIV_SPIN_HELD, memory_order_acquire,
	    memory_order_relaxed)) {
		expect = PERCPU_PRIV_SPIN_FREE;
		while (atomic_load_explicit(l, memory_order_relaxed) !=
		    PERCPU_PRIV_SPIN_FREE)
			percpu_priv_spin_wait(&spins);
	}
}

/*
 * percpu_priv_spin_unlock - release @l.
 *
 * Context: the holder.
 * Ordering: release; pairs with the acquire CAS in percpu_priv_spin_lock().
 */
static inline void
percpu_priv_spin_unlock(atomic_int *l)
{
	/* Release: pairs with the acquire CAS in percpu_priv_spin_lock(). */
	atomic_store_explicit(l, PERCPU_PRIV_SPIN_FREE, memory_order_release);
}

/*
 * percpu_priv_once - run @fn exactly once for the flag @st; every caller
 * returns after it finished (pthread_once() without pthreads).
 *
 * Context: thread context; @fn must not call percpu_priv_once() on @st.
 * Ordering: the winner's release store of DONE pairs with the acquire
 *           loads of the others: what @fn wrote is visible to all.
 */
static inline void
percpu_priv_once(atomic_int *st, void (*fn)(void))
{
	unsigned spins = 0;
	int expect = PERCPU_PRIV_ONCE_NEW;

	/* Acquire: pairs with the release store of DONE below. */
	if (atomic_load_explicit(st, memory_order_acquire) ==
	    PERCPU_PRIV_ONCE_DONE)
		return;
	if (atomic_compare_exchange_strong_explicit(st, &expect,
		PERCPU_PRIV_ONCE_RUNNING, memory_order_acquire,
		memory_order_acquire)) {
		fn();
		/* Release: fn's stores before DONE; pairs with the acquire
		 * loads of the waiters. */
		atomic_store_explicit(st, PERCPU_PRIV_ONCE_DONE,
		    memory_order_release);
		return;
	}
	/* Acquire: pairs with the release store of DONE above. */
	while (atomic_load_explicit(st, memory_order_acquire) !=
	    PERCPU_PRIV_ONCE_DONE)
		percpu_priv_spin_wait(&spins);
}

#endif /* PERCPU_SPIN_H */
