/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shim_keepcs.c - counter_u64_add() with PERCPU_MD_RSEQ_CLEAR_CS=0: the
 * sequence leaves rseq_cs set after its commit (as librseq does), so the
 * row counter_u64_add_keep_cs against counter_u64_add is the price of
 * making the toolkit's code safe to dlclose() (one store per add).  Same
 * counter as shim.c's (the macro only changes this file's inline code).
 */
#define _GNU_SOURCE
#define PERCPU_MD_RSEQ_CLEAR_CS 0
#include "counter.h"

#include "shim.h"

void
shim_counter_u64_add_keep_cs(uint64_t n)
{
	counter_u64_t c = (counter_u64_t)shim_counter_handle();
	uint64_t i;

	for (i = 0; i < n; i++)
		counter_u64_add(c, 1);
}
