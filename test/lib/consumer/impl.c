/* SPDX-License-Identifier: BSD-2-Clause */
/* impl.c - a consumer's one implementation file (test/lib/check-consumers.sh).
 */
#define PERCPU_IMPLEMENTATION
#include <percpu/percpu.h>
