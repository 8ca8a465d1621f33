/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dpcpu_other.c - the second translation unit of the DPCPU tests
 * (helpers only, no tests): a variable defined here and declared in
 * test_dpcpu.c, one defined there and declared here, a static variable
 * with the same name as one in test_dpcpu.c, and a critical section
 * entered in one file and left in the other.
 */
#include "dpcpu.h"
#include "dpcpu_other.h"

DPCPU_DEFINE(uint64_t, other_var) = 0x1234;
DPCPU_DECLARE(int, seven);
DPCPU_DEFINE_STATIC(int, same_name) = 2;

uint64_t *
other_var_ptr(unsigned cpu)
{
	return (DPCPU_ID_PTR(cpu, other_var));
}

uint64_t
other_var_get(unsigned cpu)
{
	return (DPCPU_ID_GET(cpu, other_var));
}

uint64_t *
other_var_cur_ptr(void)
{
	return (DPCPU_PTR(other_var));
}

int *
other_seven_ptr(unsigned cpu)
{
	return (DPCPU_ID_PTR(cpu, seven));
}

int *
other_same_name_ptr(unsigned cpu)
{
	return (DPCPU_ID_PTR(cpu, same_name));
}

void
other_critical_enter(void)
{
	critical_enter();
}

void
other_critical_exit(void)
{
	critical_exit();
}
