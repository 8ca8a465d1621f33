/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/cpumem.h - #include <percpu/cpumem.h> names the public header cpumem.h
 * (the installed, namespaced spelling, as <urcu/...> or <rseq/...>).
 * Installed, cpumem.h itself sits one level up, next to this folder; in the
 * source tree too.  So both spellings work with either -I.
 */
#include "../cpumem.h"
