/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rv32_atomic.c - the 64-bit atomics an RV32 firmware image needs (RV32A
 * has 32-bit AMOs only, and there is no libatomic): __atomic_load_8,
 * __atomic_store_8, __atomic_fetch_add_8, __atomic_exchange_8 and
 * __atomic_compare_exchange_8, over one spin lock (amoswap.w) taken with
 * mstatus.MIE cleared, so that they exclude the other harts and this
 * hart's interrupt handlers.  Every access to a 64-bit atomic object
 * goes through them (the compiler emits no inline 64-bit atomics on
 * RV32), so one lock makes them atomic with respect to each other.
 *
 * The names are the compiler's library ABI; C cannot define them under
 * their own names (they are builtins), so each is an asm label.
 */
#include <stdint.h>

#include "rv32_atomic.h"

static volatile uint32_t rv32_atomic_lock;

/* Mask machine interrupts and take the lock; returns the old MIE bit. */
static unsigned long
rv32_lock(void)
{
	unsigned long mie, busy;

	__asm__ __volatile__("csrrci %0, mstatus, 8" : "=r"(mie)::"memory");
	do {
		__asm__ __volatile__("amoswap.w.aq %0, %2, %1"
				     : "=r"(busy), "+A"(rv32_atomic_lock)
				     : "r"(1ul)
				     : "memory");
	} while (busy != 0);
	return (mie & 8ul);
}

/* Release the lock (the stores before it first), then restore MIE. */
static void
rv32_unlock(unsigned long mie)
{
	__asm__ __volatile__("amoswap.w.rl zero, zero, %0"
			     : "+A"(rv32_atomic_lock)
			     :
			     : "memory");
	__asm__ __volatile__("csrs mstatus, %0" : : "r"(mie) : "memory");
}

uint64_t
rv32_atomic_load_8(const volatile void *p, int mo)
{
	unsigned long s = rv32_lock();
	uint64_t v = *(const volatile uint64_t *)p;

	(void)mo;
	rv32_unlock(s);
	return (v);
}

void
rv32_atomic_store_8(volatile void *p, uint64_t v, int mo)
{
	unsigned long s = rv32_lock();

	(void)mo;
	*(volatile uint64_t *)p = v;
	rv32_unlock(s);
}

uint64_t
rv32_atomic_fetch_add_8(volatile void *p, uint64_t v, int mo)
{
	unsigned long s = rv32_lock();
	uint64_t old = *(volatile uint64_t *)p;

	(void)mo;
	*(volatile uint64_t *)p = old + v;
	rv32_unlock(s);
	return (old);
}

uint64_t
rv32_atomic_exchange_8(volatile void *p, uint64_t v, int mo)
{
	unsigned long s = rv32_lock();
	uint64_t old = *(volatile uint64_t *)p;

	(void)mo;
	*(volatile uint64_t *)p = v;
	rv32_unlock(s);
	return (old);
}

_Bool
rv32_atomic_compare_exchange_8(volatile void *p, void *expect, uint64_t v,
    _Bool weak, int smo, int fmo)
{
	unsigned long s = rv32_lock();
	uint64_t old = *(volatile uint64_t *)p;
	_Bool ok = old == *(uint64_t *)expect;

	(void)weak;
	(void)smo;
	(void)fmo;
	if (ok)
		*(volatile uint64_t *)p = v;
	else
		*(uint64_t *)expect = old;
	rv32_unlock(s);
	return (ok);
}
