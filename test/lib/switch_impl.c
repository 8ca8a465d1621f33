/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * switch_impl.c - the README's vendoring recipe, exactly: the one
 * implementation file includes percpu.h alone, while switch_use.c uses
 * every face (test/lib/check-link.sh).
 */
#define PERCPU_IMPLEMENTATION
#include "percpu.h"
