/* SPDX-License-Identifier: BSD-2-Clause */
/* libpc.c - a shared library that carries the implementation, built with
 * -fvisibility=hidden (test/lib/check-shared.sh). */
#define PERCPU_IMPLEMENTATION
#include "counter.h"
