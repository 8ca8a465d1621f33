/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compat/freebsd/vm/uma.h - FreeBSD <vm/uma.h>: only the pcpu zones
 * (uma_zcreate with UMA_ZONE_PCPU, uma_zalloc_pcpu, uma_zfree_pcpu,
 * pcpu_zone_*).
 *
 * Compat tree: build kernel code with -I<toolkit>/compat/freebsd so that
 * its own #include lines resolve to the toolkit's face (README, "Porting
 * kernel code").  Nothing here but includes and the kernel-global names
 * that would clash outside a kernel file.
 */
#ifndef PERCPU_COMPAT_FREEBSD_VM_UMA_H
#define PERCPU_COMPAT_FREEBSD_VM_UMA_H

#include "../../../dpcpu.h"

#endif /* PERCPU_COMPAT_FREEBSD_VM_UMA_H */
