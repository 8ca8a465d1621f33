/* SPDX-License-Identifier: BSD-2-Clause */
/* tu.h - functions the two halves of the link test call across. */
#ifndef TU_H
#define TU_H

#include "percpu.h"

unsigned tu_b_depth(void);
void tu_b_putref(percpu_t *pc);
void *tu_b_getref(percpu_t *pc);

#endif
