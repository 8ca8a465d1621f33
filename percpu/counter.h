/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/counter.h - #include <percpu/counter.h> names the public header
 * counter.h (the installed, namespaced spelling, as <urcu/...> or <rseq/...>).
 * Installed, counter.h itself sits one level up, next to this folder; in the
 * source tree too.  So both spellings work with either -I.
 */
#include "../counter.h"
