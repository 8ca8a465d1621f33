/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rp2040_atomic.c - a reference implementation of the __atomic_* library
 * calls a Cortex-M build of the toolkit needs where the compiler cannot
 * inline the atomic (there is no libatomic for arm-none-eabi).  Link it
 * once into an image built with firmware/port_rp2040.h (or any Cortex-M
 * port); not with the pico-sdk's pico_atomic, which defines the same.
 *
 *   ARMv6-M (RP2040's Cortex-M0+): no exclusive loads/stores at all, so
 *   every read-modify-write is a call: __atomic_compare_exchange_4,
 *   __atomic_exchange_4, __atomic_fetch_add_4 (the arena's spin lock and
 *   the sections' lock words; UP builds need the first two), and the
 *   64-bit __atomic_load_8, __atomic_store_8, __atomic_fetch_add_8,
 *   __atomic_exchange_8, __atomic_compare_exchange_8 (counter(9), the
 *   OpenBSD counters' generation words).  They take one SIO hardware
 *   spinlock (RP2040_ATOMIC_SPINLOCK, default 13: the pico-sdk's
 *   PICO_SPINLOCK_ID_ATOMIC) with PRIMASK set: a read of SPINLOCKn claims
 *   the lock (non-zero on success), a write releases it.  So they exclude
 *   the other core and this core's interrupt handlers.
 *
 *   ARMv7-M / ARMv8-M (Cortex-M4/M7/M33, RP2350): 32-bit atomics are
 *   inline (LDREX/STREX); only the 64-bit calls are here, over a software
 *   spin lock (a RAM word taken with LDREX/STREX) with PRIMASK set.  On
 *   RP2350 this follows the pico-sdk, which uses software spin locks there
 *   (PICO_USE_SW_SPIN_LOCKS defaults to 1 on RP2350) because of the
 *   chip's erratum RP2350-E2 on the SIO spinlock registers; the pico-sdk
 *   also sets ACTLR.EXTEXCLALL on each core so that exclusives work on
 *   shared SRAM: do the same in the boot code.
 *
 * All accesses of an object that any of these functions touches go
 * through them (a 64-bit atomic on a 32-bit core is never inline), so one
 * lock makes them atomic with respect to each other.  Memory orders are
 * honoured by a DMB on each side of the locked region.
 */
#include <stdint.h>

#include "rp2040_atomic.h"

#if defined(__ARM_ARCH_6M__)
# ifndef RP2040_ATOMIC_SPINLOCK
#  define RP2040_ATOMIC_SPINLOCK 13
# endif
# define RP2040_SIO_SPINLOCK(n) (0xd0000100u + 4u * (unsigned)(n))

/* Mask PRIMASK, then claim the SIO spinlock; returns the old PRIMASK. */
static uint32_t
rp2040_atomic_lock(void)
{
	volatile uint32_t *sl =
	    (volatile uint32_t *)RP2040_SIO_SPINLOCK(RP2040_ATOMIC_SPINLOCK);
	uint32_t primask;

	__asm__ __volatile__("mrs %0, primask\n\tcpsid i"
			     : "=r"(primask)
			     :
			     : "memory");
	while (*sl == 0)
		;
	__asm__ __volatile__("dmb" ::: "memory");
	return (primask);
}

/* Release the SIO spinlock (after a DMB), then restore PRIMASK. */
static void
rp2040_atomic_unlock(uint32_t primask)
{
	__asm__ __volatile__("dmb" ::: "memory");
	*(volatile uint32_t *)RP2040_SIO_SPINLOCK(RP2040_ATOMIC_SPINLOCK) = 0;
	__asm__ __volatile__("msr primask, %0" : : "r"(primask) : "memory");
}

_Bool
rp2040_atomic_compare_exchange_4(volatile void *p, void *expect, uint32_t v,
    _Bool weak, int smo, int fmo)
{
	uint32_t s = rp2040_atomic_lock();
	uint32_t old = *(volatile uint32_t *)p;
	_Bool ok = old == *(uint32_t *)expect;

	(void)weak;
	(void)smo;
	(void)fmo;
	if (ok)
		*(volatile uint32_t *)p = v;
	else
		*(uint32_t *)expect = old;
	rp2040_atomic_unlock(s);
	return (ok);
}

uint32_t
rp2040_atomic_exchange_4(volatile void *p, uint32_t v, int mo)
{
	uint32_t s = rp2040_atomic_lock();
	uint32_t old = *(volatile uint32_t *)p;

	(void)mo;
	*(volatile uint32_t *)p = v;
	rp2040_atomic_unlock(s);
	return (old);
}

uint32_t
rp2040_atomic_fetch_add_4(volatile void *p, uint32_t v, int mo)
{
	uint32_t s = rp2040_atomic_lock();
	uint32_t old = *(volatile uint32_t *)p;

	(void)mo;
	*(volatile uint32_t *)p = old + v;
	rp2040_atomic_unlock(s);
	return (old);
}

uint32_t
rp2040_atomic_fetch_sub_4(volatile void *p, uint32_t v, int mo)
{
	return (rp2040_atomic_fetch_add_4(p, 0u - v, mo));
}
#else
/* A RAM word taken with LDREX/STREX (inline C11 atomics here). */
static volatile uint32_t rp2040_atomic_word;

static uint32_t
rp2040_atomic_lock(void)
{
	uint32_t primask;

	__asm__ __volatile__("mrs %0, primask\n\tcpsid i"
			     : "=r"(primask)
			     :
			     : "memory");
	while (
	    __atomic_exchange_n(&rp2040_atomic_word, 1u, __ATOMIC_ACQUIRE) != 0)
		;
	return (primask);
}

static void
rp2040_atomic_unlock(uint32_t primask)
{
	__atomic_store_n(&rp2040_atomic_word, 0u, __ATOMIC_RELEASE);
	__asm__ __volatile__("msr primask, %0" : : "r"(primask) : "memory");
}
#endif

uint64_t
rp2040_atomic_load_8(const volatile void *p, int mo)
{
	uint32_t s = rp2040_atomic_lock();
	uint64_t v = *(const volatile uint64_t *)p;

	(void)mo;
	rp2040_atomic_unlock(s);
	return (v);
}

void
rp2040_atomic_store_8(volatile void *p, uint64_t v, int mo)
{
	uint32_t s = rp2040_atomic_lock();

	(void)mo;
	*(volatile uint64_t *)p = v;
	rp2040_atomic_unlock(s);
}

uint64_t
rp2040_atomic_fetch_add_8(volatile void *p, uint64_t v, int mo)
{
	uint32_t s = rp2040_atomic_lock();
	uint64_t old = *(volatile uint64_t *)p;

	(void)mo;
	*(volatile uint64_t *)p = old + v;
	rp2040_atomic_unlock(s);
	return (old);
}

uint64_t
rp2040_atomic_exchange_8(volatile void *p, uint64_t v, int mo)
{
	uint32_t s = rp2040_atomic_lock();
	uint64_t old = *(volatile uint64_t *)p;

	(void)mo;
	*(volatile uint64_t *)p = v;
	rp2040_atomic_unlock(s);
	return (old);
}

_Bool
rp2040_atomic_compare_exchange_8(volatile void *p, void *expect, uint64_t v,
    _Bool weak, int smo, int fmo)
{
	uint32_t s = rp2040_atomic_lock();
	uint64_t old = *(volatile uint64_t *)p;
	_Bool ok = old == *(uint64_t *)expect;

	(void)weak;
	(void)smo;
	(void)fmo;
	if (ok)
		*(volatile uint64_t *)p = v;
	else
		*(uint64_t *)expect = old;
	rp2040_atomic_unlock(s);
	return (ok);
}
