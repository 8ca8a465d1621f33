/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu_other.h - helpers of test_dpcpu_other.c, the second translation
 * unit of the DPCPU tests: it defines variables test_dpcpu.c declares,
 * declares one test_dpcpu.c defines, and reaches them through its own
 * expansion of the accessors.
 */
#ifndef DPCPU_OTHER_H
#define DPCPU_OTHER_H

#include <stdint.h>

uint64_t *other_var_ptr(unsigned cpu);
uint64_t other_var_get(unsigned cpu);
uint64_t *other_var_cur_ptr(void);
int *other_seven_ptr(unsigned cpu);
int *other_same_name_ptr(unsigned cpu);
void other_critical_enter(void);
void other_critical_exit(void);

#endif /* DPCPU_OTHER_H */
