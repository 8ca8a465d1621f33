/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tu_impl.c - the one translation unit that defines the toolkit's state.
 * Part of the two-file link test (see tu_a.c).
 */
#define PERCPU_IMPLEMENTATION
#include "percpu.h"
