/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_exit.c - the "unload plugins at exit" pattern: an exit handler
 * registered at startup dlclose()s a plugin that carries the
 * implementation, after the plugin's own atexit handler (registered
 * later, so run first) saw exit() begin.  The plugin's sequences must
 * stay valid: it becomes RTLD_NODELETE at exit, so this dlclose() does
 * not unmap it.  Prints "ok" after context switches; a SIGSEGV is the
 * failure.
 */
#define _DEFAULT_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *host_h;

static void
host_cleanup(void)
{
	int i;

	(void)dlclose(host_h);
	for (i = 0; i < 20; i++)
		(void)usleep(1000);
	printf("ok\n");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	uint64_t (*count)(void);

	(void)atexit(host_cleanup);
	host_h = dlopen(argc > 1 ? argv[1] : "./plug_a.so", RTLD_NOW);
	if (host_h == NULL) {
		fprintf(stderr, "host_exit: %s\n", dlerror());
		return (2);
	}
	*(void **)&count = dlsym(host_h, "plugin_count");
	if (count == NULL || count() != 3)
		return (2);
	exit(0);
}
