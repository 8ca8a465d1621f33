/* SPDX-License-Identifier: BSD-2-Clause */
/* inspect_impl.c - the implementation, in a file that includes the
 * inspection headers (test/lib/check-link.sh). */
#define PERCPU_IMPLEMENTATION
#include "percpu_export.h"
#include "kvm_pcpu.h"
