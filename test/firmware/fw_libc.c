/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fw_libc.c - the little of a C library the firmware images need: what
 * the toolkit's implementation calls from <string.h> (memset, memcpy,
 * strlen, strcmp) and what the compiler may emit (memmove).  No C
 * library is linked (-nostdlib).
 */
#include <stddef.h>
#include <string.h>

/* Volatile stores keep gcc from turning the loops back into calls. */
void *
memset(void *d, int c, size_t n)
{
	volatile unsigned char *p = (volatile unsigned char *)d;

	while (n-- != 0)
		*p++ = (unsigned char)c;
	return (d);
}

void *
memcpy(void *restrict d, const void *restrict s, size_t n)
{
	volatile unsigned char *p = (volatile unsigned char *)d;
	const unsigned char *q = (const unsigned char *)s;

	while (n-- != 0)
		*p++ = *q++;
	return (d);
}

void *
memmove(void *d, const void *s, size_t n)
{
	volatile unsigned char *p = (volatile unsigned char *)d;
	const unsigned char *q = (const unsigned char *)s;

	if (p < q) {
		while (n-- != 0)
			*p++ = *q++;
	} else {
		while (n-- != 0)
			p[n] = q[n];
	}
	return (d);
}

size_t
strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return (n);
}

int
strcmp(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return ((unsigned char)*a - (unsigned char)*b);
}
