/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rp2040_atomic.h - the functions of firmware/rp2040_atomic.c, each bound
 * by an asm label to the compiler's library name (__atomic_*_4 on
 * ARMv6-M only; __atomic_*_8 on every Cortex-M).  C cannot define those
 * names directly: they are the compiler's builtins.
 */
#ifndef RP2040_ATOMIC_H
#define RP2040_ATOMIC_H

#include <stdint.h>

#if defined(__ARM_ARCH_6M__)
_Bool rp2040_atomic_compare_exchange_4(volatile void *p, void *expect,
    uint32_t v, _Bool weak, int smo,
    int fmo) __asm__("__atomic_compare_exchange_4");
uint32_t rp2040_atomic_exchange_4(volatile void *p, uint32_t v, int mo) __asm__(
    "__atomic_exchange_4");
uint32_t rp2040_atomic_fetch_add_4(volatile void *p, uint32_t v,
    int mo) __asm__("__atomic_fetch_add_4");
uint32_t rp2040_atomic_fetch_sub_4(volatile void *p, uint32_t v,
    int mo) __asm__("__atomic_fetch_sub_4");
#endif
uint64_t rp2040_atomic_load_8(const volatile void *p, int mo) __asm__(
    "__atomic_load_8");
void rp2040_atomic_store_8(volatile void *p, uint64_t v, int mo) __asm__(
    "__atomic_store_8");
uint64_t rp2040_atomic_fetch_add_8(volatile void *p, uint64_t v,
    int mo) __asm__("__atomic_fetch_add_8");
uint64_t rp2040_atomic_exchange_8(volatile void *p, uint64_t v, int mo) __asm__(
    "__atomic_exchange_8");
_Bool rp2040_atomic_compare_exchange_8(volatile void *p, void *expect,
    uint64_t v, _Bool weak, int smo,
    int fmo) __asm__("__atomic_compare_exchange_8");

#endif /* RP2040_ATOMIC_H */
