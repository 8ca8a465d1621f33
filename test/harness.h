/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * harness.h - shared helpers of the Criterion suites.
 *
 * Every test file defines _GNU_SOURCE before any include (for
 * sched_setaffinity and CPU_SET) and includes this header first.  The
 * helpers are defined once, in test/impl.c, which also holds the
 * toolkit's PERCPU_IMPLEMENTATION.
 *
 *   harness_threads()      threads for stress tests: 4x the possible CPUs
 *                          (at least 8) on MP; 1 on UP, where sections
 *                          do not exclude real parallel threads.
 *   harness_run(n, fn, a)  start n threads running fn(&ctx) and join
 *                          them; ctx.index in [0, n), ctx.arg = a.
 *   harness_rand(&seed)    xorshift32.
 *   harness_jiggle(&seed)  sometimes yield, sometimes spin: widens races.
 *   harness_shuffle_affinity(&seed)
 *                          move the calling thread to a random non-empty
 *                          subset of the online CPUs (real migration).
 *   harness_migrate(i, &seed)
 *                          every so often (by iteration @i), move the
 *                          calling thread: a real affinity change on the
 *                          Linux port, a forced migration on the
 *                          simulated one, nothing on UP.
 *   harness_stamp(&owner, me, &seed)
 *                          write the owner stamp @me, widen the race,
 *                          then check it and clear it: 1 if another
 *                          thread wrote it meanwhile (exclusivity broken).
 *   harness_now_ms()       a monotonic clock, in milliseconds.
 *   harness_waited_too_long(since_ms)
 *                          1 once HARNESS_WAIT_S seconds have passed since
 *                          @since_ms: the bound on waiting for an event
 *                          that the OS schedules when it likes (a thread
 *                          running, a signal arriving).  A test that runs
 *                          out of it fails with a message that begins
 *                          HARNESS_ENV: the machine, not the toolkit.
 *                          The test's .timeout must exceed the bound.
 *   harness_capture_errors()
 *                          route the toolkit's detected errors into a
 *                          buffer instead of abort(); harness_errors()
 *                          counts them, harness_last_error() is the
 *                          latest message.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdint.h>

#include <criterion/criterion.h>

#include "percpu.h"

/* Waits for what the OS promises only "eventually", and their verdict. */
#ifndef HARNESS_WAIT_S
# define HARNESS_WAIT_S 60
#endif
#define HARNESS_ENV "environment, not the toolkit: "
/* The report of a counters section that finds its set already open. */
#define COUNTERS_OPEN_MSG                                        \
 "counters_enter: the counters are already open on this CPU: a " \
 "nested section on them (block signals whose handlers update "  \
 "them around the section), or one a thread exited inside "      \
 "(reported then)"

struct harness_ctx {
	unsigned index;
	void *arg;
};

unsigned harness_threads(void);
void harness_run(unsigned n, void *(*fn)(void *), void *arg);
uint32_t harness_rand(uint32_t *seed);
void harness_jiggle(uint32_t *seed);
void harness_shuffle_affinity(uint32_t *seed);
void harness_migrate(unsigned i, uint32_t *seed);
uint64_t harness_now_ms(void);
int harness_waited_too_long(uint64_t since_ms);
int harness_stamp(volatile uintptr_t *owner, uintptr_t me, uint32_t *seed);
void harness_capture_errors(void);
unsigned harness_errors(void);
const char *harness_last_error(void);

#endif /* HARNESS_H */
