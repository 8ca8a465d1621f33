/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rv32_atomic.h - prototypes of rv32_atomic.c, each bound to the
 * compiler's library name by an asm label.
 */
#ifndef RV32_ATOMIC_H
#define RV32_ATOMIC_H

#include <stdint.h>

uint64_t rv32_atomic_load_8(const volatile void *p, int mo) __asm__(
    "__atomic_load_8");
void rv32_atomic_store_8(volatile void *p, uint64_t v, int mo) __asm__(
    "__atomic_store_8");
uint64_t rv32_atomic_fetch_add_8(volatile void *p, uint64_t v, int mo) __asm__(
    "__atomic_fetch_add_8");
uint64_t rv32_atomic_exchange_8(volatile void *p, uint64_t v, int mo) __asm__(
    "__atomic_exchange_8");
_Bool rv32_atomic_compare_exchange_8(volatile void *p, void *expect, uint64_t v,
    _Bool weak, int smo, int fmo) __asm__("__atomic_compare_exchange_8");

#endif /* RV32_ATOMIC_H */
