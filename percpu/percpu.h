/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/percpu.h - #include <percpu/percpu.h> names the public header percpu.h
 * (the installed, namespaced spelling, as <urcu/...> or <rseq/...>).
 * Installed, percpu.h itself sits one level up, next to this folder; in the
 * source tree too.  So both spellings work with either -I.
 */
#include "../percpu.h"
