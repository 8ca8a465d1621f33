/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_user.c - links libpc.so (the implementation), dlopen()s user.so
 * (no implementation), adds and takes sections through it, dlclose()s
 * it, then sleeps (context switches: the kernel reads rseq_cs).  Prints
 * "ok <backend> <adds> <sections>"; a SIGSEGV is the failure.
 */
#define _DEFAULT_SOURCE
#include "counter.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);
	void *h = dlopen(argc > 1 ? argv[1] : "./user.so", RTLD_NOW);
	void (*add)(counter_u64_t, uint64_t);
	uint64_t (*sections)(uint64_t);
	uint64_t s;
	int i;

	if (h == NULL) {
		fprintf(stderr, "host_user: %s\n", dlerror());
		return (2);
	}
	*(void **)&add = dlsym(h, "user_add");
	*(void **)&sections = dlsym(h, "user_sections");
	if (add == NULL || sections == NULL)
		return (2);
	add(c, 1000);
	s = sections(1000);
	if (dlclose(h) != 0)
		return (2);
	for (i = 0; i < 20; i++)
		(void)usleep(1000);
	printf("ok %s %llu %llu\n", percpu_backend(),
	    (unsigned long long)counter_u64_fetch(c), (unsigned long long)s);
	return (0);
}
