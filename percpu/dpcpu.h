/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/dpcpu.h - #include <percpu/dpcpu.h> names the public header dpcpu.h
 * (the installed, namespaced spelling, as <urcu/...> or <rseq/...>).
 * Installed, dpcpu.h itself sits one level up, next to this folder; in the
 * source tree too.  So both spellings work with either -I.
 */
#include "../dpcpu.h"
