/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpcpu_fbsd.c - a shared library with a linker set of its own named
 * set_dpcpu that is not the toolkit's (code with its own DPCPU), and
 * nothing of the toolkit.
 */
__attribute__((section("set_dpcpu"), used)) int other_pcpu_var = 1;
extern char __start_set_dpcpu[];
char *other_set(void);

char *
other_set(void)
{
	return (__start_set_dpcpu);
}
