/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * 05-dpcpu-manpage.c - the example of the DPCPU(9) man page, as written.
 *
 * Between the two "man page" markers is the text of the man page's
 * example, unchanged but for one fix: its last DPCPU_ID_SET lacks the
 * value argument (marked below).  Everything else it needs comes from
 * dpcpu.h (DPCPU_*, critical_enter/exit, curcpu) and the small shim
 * freebsd_shim.h (struct mutex, mtx_lock/mtx_unlock, atomic_add_int).
 *
 * foo_int_increment() adds 1 three times, once per pattern: an atomic
 * add, a critical section, a per-CPU mutex.  Run from one thread the
 * total is exact.  Run from several threads it may fall short: as the
 * man page's comments say, the critical section only keeps out other
 * critical sections of the same CPU, not the atomic add of a thread
 * running there nor the mutex holder working on that CPU's copy from
 * elsewhere; its plain read-modify-write can lose their updates.
 *
 *	cc -std=c11 -I.. 05-dpcpu-manpage.c -pthread && ./a.out
 */
#define PERCPU_IMPLEMENTATION
#include "dpcpu.h"
#include "freebsd_shim.h"

#include <pthread.h>
#include <stdio.h>

void foo_int_increment(void); /* what a kernel header would declare */

/* ---- man page: begin ---- */
DPCPU_DEFINE_STATIC(int, foo_int);
DPCPU_DEFINE_STATIC(struct mutex, foo_lock);

void
foo_int_increment(void)
{
	int cpu, value;

	/* Safe as atomic access. */
	atomic_add_int(DPCPU_PTR(foo_int), 1);

	/*
	 * Protect with a critical section, which prevents preemption
	 * and migration.  However, access to instances from remote CPUs
	 * is not safe, as critical sections prevent concurrent access
	 * only from the current CPU.
	 */
	critical_enter();
	value = DPCPU_GET(foo_int);
	value++;
	DPCPU_SET(foo_int, value);
	critical_exit();

	/*
	 * Protect with a per-CPU mutex, tolerating migration, but
	 * potentially accessing the variable from multiple CPUs if
	 * migration occurs after reading curcpu.  Remote access to a
	 * per-CPU variable is safe as long as the correct mutex is
	 * acquired.
	 */
	cpu = curcpu;
	mtx_lock(DPCPU_ID_PTR(cpu, foo_lock));
	value = DPCPU_ID_GET(cpu, foo_int);
	value++;
	/* Fixed: the man page has DPCPU_ID_SET(cpu, foo_int); */
	DPCPU_ID_SET(cpu, foo_int, value);
	mtx_unlock(DPCPU_ID_PTR(cpu, foo_lock));
}
/* ---- man page: end ---- */

#define CALLS 100000
#define THREADS 4

static void *
caller(void *arg)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < CALLS; i++)
		foo_int_increment();
	return (NULL);
}

int
main(void)
{
	pthread_t t[THREADS];
	int total;
	unsigned i;

	freebsd_shim_check();
	printf("DPCPU(9) man page example: %u possible CPUs, backend %s\n",
	    mp_ncpus, percpu_backend());
	(void)caller(NULL);
	total = DPCPU_SUM(foo_int);
	printf("  one thread, %d calls: foo_int summed over CPUs = %d "
	       "(expected %d: %s)\n",
	    CALLS, total, 3 * CALLS, total == 3 * CALLS ? "exact" : "WRONG");
	if (total != 3 * CALLS)
		return (1);
	DPCPU_ZERO(foo_int);
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, caller, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	total = DPCPU_SUM(foo_int);
	printf("  %d threads: %d (at most %d; any shortfall is the critical "
	       "section's plain\n  read-modify-write racing the other two "
	       "patterns, as the man page warns)\n",
	    THREADS, total, 3 * CALLS * THREADS);
	return (total <= 3 * CALLS * THREADS ? 0 : 1);
}
