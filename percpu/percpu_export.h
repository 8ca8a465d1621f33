/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/percpu_export.h - #include <percpu/percpu_export.h> names the public
 * header percpu_export.h (the installed, namespaced spelling, as <urcu/...> or
 * <rseq/...>). Installed, percpu_export.h itself sits one level up, next to
 * this folder; in the source tree too.  So both spellings work with either -I.
 */
#include "../percpu_export.h"
