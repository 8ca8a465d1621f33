/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fair.c - a remote acquirer (percpu_enter_cpu(), the xcall's
 * "as that CPU") is not starved by a local thread that leaves and enters
 * again: once it waits, the CPU is handed to it at the next leave.
 *
 * Built MP (Linux port) and SIM; nothing to hand over in UP.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "percpu.h"

#if PERCPU_MP
static unsigned fair_cpu;
static atomic_int fair_remote_ran;

static void *
fair_remote(void *arg)
{
	(void)arg;
	cr_assert_eq(percpu_enter_cpu(fair_cpu), fair_cpu);
	atomic_store(&fair_remote_ran, 1);
	percpu_leave();
	return (NULL);
}

/* Wait up to 20 s for *@w to become @v. */
static int
fair_wait(atomic_uint *w, unsigned v)
{
	struct timespec ms = {0, 1000000};
	unsigned i;

	for (i = 0; i < 20000; i++) {
		if (atomic_load(w) == v)
			return (1);
		nanosleep(&ms, NULL);
	}
	return (0);
}

Test(fair, a_waiting_remote_acquirer_gets_the_cpu_at_the_next_leave,
    .timeout = 60)
{
	struct percpu_priv_pcpu *pc;
	pthread_t t;

	fair_cpu = percpu_cpu_first();
	if (percpu_pin(fair_cpu) != 0)
		cr_skip_test("cannot pin to CPU %u here", fair_cpu);
	pc = percpu_priv_pcpu(percpu_priv_g.cpu2idx[fair_cpu]);
	cr_assert_eq(percpu_enter(), fair_cpu);
	cr_assert_eq(pthread_create(&t, NULL, fair_remote, NULL), 0);
	cr_assert(fair_wait(&pc->want, PERCPU_PRIV_WANT_REMOTE),
	    "the remote acquirer never waited");
	percpu_leave();
	/* Local again at once: the waiter goes first. */
	cr_assert_eq(percpu_enter(), fair_cpu);
	cr_assert_eq(atomic_load(&fair_remote_ran), 1,
	    "the local thread took the CPU back before the waiting remote "
	    "acquirer");
	percpu_leave();
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(atomic_load(&pc->want), 0);
	cr_assert_eq(atomic_load(&pc->owner), 0);
	percpu_unpin();
}

Test(fair, a_leave_without_waiters_releases_to_zero)
{
	unsigned cpu = percpu_enter();
	struct percpu_priv_pcpu *pc =
	    percpu_priv_pcpu(percpu_priv_g.cpu2idx[cpu]);

	cr_assert_neq(atomic_load(&pc->owner), 0);
	percpu_leave();
	cr_assert_eq(atomic_load(&pc->owner), 0);
	cr_assert_eq(atomic_load(&pc->want), 0);
}

/*
 * A remote acquirer that finds its own token in the word (a signal
 * handler inside its thread's enter/leave window) borrows the CPU, and
 * must not stay counted as waiting: the next leaves would hand the CPU to
 * nobody.  The window is made by hand: the word holds our token while
 * our state says "not in a section".
 */
Test(fair, a_borrowing_remote_acquirer_is_no_longer_counted, .timeout = 30)
{
	unsigned cpu = percpu_cpu_first();
	struct percpu_priv_td *td = &PERCPU_PRIV_TD;
	struct percpu_priv_pcpu *pc =
	    percpu_priv_pcpu(percpu_priv_g.cpu2idx[cpu]);
	uintptr_t tok = percpu_priv_token(td);

	atomic_store(&pc->owner, tok);
	cr_assert_eq(percpu_enter_cpu(cpu), cpu, "borrowed");
	cr_assert_eq(td->state & PERCPU_PRIV_BORROWED, PERCPU_PRIV_BORROWED);
	percpu_leave();
	cr_assert_eq(atomic_load(&pc->want), 0, "still counted as waiting");
	cr_assert_eq(atomic_load(&pc->owner), tok, "the window's word");
	atomic_store(&pc->owner, 0);
	/* And the CPU is free for everyone again. */
	cr_assert_eq(percpu_enter_cpu(cpu), cpu);
	percpu_leave();
	cr_assert_eq(atomic_load(&pc->owner), 0);
}
#endif
