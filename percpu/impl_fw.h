/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/impl_fw.h - what the implementation uses instead of the C
 * library where there is none (PERCPU_MD_LIBC == 0: firmware ports and
 * freestanding UP builds): a message formatter and the panic hook.
 * PERCPU_NO_FORMAT=1 (implementation knob) leaves the formatter (and the
 * 64-bit division it pulls in) out: error handlers and PERCPU_PANIC then
 * get the message's format string, unformatted.
 *
 * Internal: reached from percpu/impl.h only.  Dependencies: the
 * compiler's <stdarg.h>, <stddef.h>, <stdint.h>; nothing to link.
 */
#ifndef PERCPU_IMPL_FW_H
#define PERCPU_IMPL_FW_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PERCPU_PANIC
/* Default: nothing to report to; percpu_priv_panic() then spins. */
# define PERCPU_PANIC(msg) ((void)(msg))
#endif

#if !PERCPU_NO_FORMAT
/* Append @c to @buf[0..cap) at *@n, keeping room for the NUL. */
static void
percpu_priv_fmt_put(char *buf, size_t cap, size_t *n, char c)
{
	if (*n + 1 < cap)
		buf[(*n)++] = c;
}

/* Append @v in base @base (10 or 16; @upper for 'X'). */
static void
percpu_priv_fmt_num(char *buf, size_t cap, size_t *n, uintmax_t v,
    unsigned base, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[3 * sizeof(uintmax_t) + 1];
	size_t i = 0;

	do {
		tmp[i++] = digits[v % base];
		v /= base;
	} while (v != 0);
	while (i > 0)
		percpu_priv_fmt_put(buf, cap, n, tmp[--i]);
}

/*
 * percpu_priv_vfmt - the subset of vsnprintf() the toolkit's messages
 * use: %d %i %u %x %X %p %s %c %%, the flag #, the lengths h l ll z j.
 *
 * Return: nothing; @buf is always NUL-terminated and truncated to @cap.
 */
static void
percpu_priv_vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
	size_t n = 0;

	for (; *fmt != '\0'; fmt++) {
		int alt = 0, len = 0; /* len: 1 l, 2 ll, 3 z, 4 j */
		uintmax_t u;
		intmax_t d;
		const char *s;

		if (*fmt != '%') {
			percpu_priv_fmt_put(buf, cap, &n, *fmt);
			continue;
		}
		if (*++fmt == '#') {
			alt = 1;
			fmt++;
		}
		for (;; fmt++) {
			if (*fmt == 'l')
				len = len == 1 ? 2 : 1;
			else if (*fmt == 'z')
				len = 3;
			else if (*fmt == 'j')
				len = 4;
			else if (*fmt != 'h')
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			d = len == 1 ? va_arg(ap, long) :
			    len == 2 ? va_arg(ap, long long) :
			    len == 3 ? (intmax_t)va_arg(ap, size_t) :
			    len == 4 ? va_arg(ap, intmax_t) :
				       va_arg(ap, int);
			if (d < 0)
				percpu_priv_fmt_put(buf, cap, &n, '-');
			percpu_priv_fmt_num(buf, cap, &n,
			    d < 0 ? 0u - (uintmax_t)d : (uintmax_t)d, 10, 0);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = len == 1 ? va_arg(ap, unsigned long) :
			    len == 2 ? va_arg(ap, unsigned long long) :
			    len == 3 ? va_arg(ap, size_t) :
			    len == 4 ? va_arg(ap, uintmax_t) :
				       va_arg(ap, unsigned);
			if (*fmt != 'u' && alt && u != 0) {
				percpu_priv_fmt_put(buf, cap, &n, '0');
				percpu_priv_fmt_put(buf, cap, &n, *fmt);
			}
			percpu_priv_fmt_num(buf, cap, &n, u,
			    *fmt == 'u' ? 10 : 16, *fmt == 'X');
			break;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			percpu_priv_fmt_put(buf, cap, &n, '0');
			percpu_priv_fmt_put(buf, cap, &n, 'x');
			percpu_priv_fmt_num(buf, cap, &n, u, 16, 0);
			break;
		case 's':
			s = va_arg(ap, const char *);
			for (s = s != NULL ? s : "(null)"; *s != '\0'; s++)
				percpu_priv_fmt_put(buf, cap, &n, *s);
			break;
		case 'c':
			percpu_priv_fmt_put(buf, cap, &n,
			    (char)va_arg(ap, int));
			break;
		case '\0':
			fmt--; /* a lone % at the end: stop at the NUL */
			break;
		default: /* %% and anything unknown: copied */
			percpu_priv_fmt_put(buf, cap, &n, *fmt);
			break;
		}
	}
	if (cap != 0)
		buf[n] = '\0';
}
#endif /* !PERCPU_NO_FORMAT */

#endif /* PERCPU_IMPL_FW_H */
