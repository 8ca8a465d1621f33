/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/kvm_pcpu.h - #include <percpu/kvm_pcpu.h> names the public header
 * kvm_pcpu.h (the installed, namespaced spelling, as <urcu/...> or <rseq/...>).
 * Installed, kvm_pcpu.h itself sits one level up, next to this folder; in the
 * source tree too.  So both spellings work with either -I.
 */
#include "../kvm_pcpu.h"
