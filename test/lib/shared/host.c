/* SPDX-License-Identifier: BSD-2-Clause */
/* host.c - dlopen()s each plugin named on the command line, RTLD_LOCAL,
 * and calls its plugin_count(): prints "ok" when each returns 3. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		void *h = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
		uint64_t (*fn)(void);

		if (h == NULL) {
			fprintf(stderr, "host: %s\n", dlerror());
			return (2);
		}
		*(void **)&fn = dlsym(h, "plugin_count");
		if (fn == NULL || fn() != 3)
			return (1);
	}
	printf("ok\n");
	return (0);
}
