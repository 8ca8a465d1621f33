/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu_fault.h - for the check-shared programs that reach a DPCPU
 * variable without a copy inside a critical section: a SIGSEGV handler
 * that says whether the fault was at a small address (the null pointer
 * DPCPU_PTR() gives such a variable, plus its offset) or anywhere else
 * (an out-of-bounds access), then exits 3.
 */
#ifndef DPCPU_FAULT_H
#define DPCPU_FAULT_H

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static void
dpcpu_fault_handler(int sig, siginfo_t *si, void *uc)
{
	static const char low[] = "fault at a small address\n";
	static const char high[] = "fault at a wild address\n";

	(void)sig;
	(void)uc;
	if ((uintptr_t)si->si_addr < 65536)
		(void)write(1, low, sizeof(low) - 1);
	else
		(void)write(1, high, sizeof(high) - 1);
	_exit(3);
}

static void
dpcpu_fault_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = dpcpu_fault_handler;
	sa.sa_flags = SA_SIGINFO;
	(void)sigaction(SIGSEGV, &sa, NULL);
}

#endif /* DPCPU_FAULT_H */
