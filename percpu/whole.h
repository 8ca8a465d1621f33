/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/whole.h - one switch: PERCPU_IMPLEMENTATION with any one public
 * header emits the whole implementation.
 *
 * Internal: every public header includes this at its very end when
 * PERCPU_IMPLEMENTATION is defined.  It includes the other public headers
 * (each whole: declarations, then its implementation part), but only
 * once no header is half-read: a header whose declarations have started
 * and whose implementation part has not (X_H without X_IMPL_H) is still
 * being read by an outer #include, and its own end brings us back here.
 * percpu.h and cpumem.h have no part of their own; they include only
 * percpu/core.h, which never comes here.  The inspection headers
 * (percpu_export.h, kvm_pcpu.h) are not pulled in: their parts bring
 * POSIX headers (<threads.h>: mtx_lock) into the implementation file, so
 * they are emitted where the implementation file includes them, and a
 * program that forgot links with a symbol that says so.
 * No include guard: re-entered from the end of each header it includes,
 * each time with one more header done.
 */
#include "core.h"

#if !(defined(DPCPU_H) && !defined(DPCPU_IMPL_H)) &&       \
    !(defined(COUNTER_H) && !defined(COUNTER_IMPL_H)) &&   \
    !(defined(KVM_PCPU_H) && !defined(KVM_PCPU_IMPL_H)) && \
    !(defined(PERCPU_EXPORT_H) && !defined(PERCPU_EXPORT_IMPL_H))
# ifndef PERCPU_H
#  include "../percpu.h"
# endif
# ifndef CPUMEM_H
#  include "../cpumem.h"
# endif
# ifndef DPCPU_H
#  include "../dpcpu.h"
# endif
# ifndef COUNTER_H
#  include "../counter.h"
# endif
#endif
