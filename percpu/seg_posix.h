/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/seg_posix.h - what both sides of the exported segment
 * (percpu_export.h, kvm_pcpu.h) say about the files they meet, from their
 * implementations only (after <sys/stat.h>: POSIX, which percpu/seg.h
 * must not need).
 *
 * Internal: included by those two implementations.
 */
#ifndef PERCPU_SEG_POSIX_H
#define PERCPU_SEG_POSIX_H

#include <sys/stat.h>

/*
 * percpu_seg_ftype - what a file of mode @m is, for messages: "a FIFO",
 * "a directory", "a device", else @other (the caller's words for the
 * rest: the reader says "not a regular file", the writer "a regular
 * file").
 * Context: any.  Return: a string constant.
 */
static inline const char *
percpu_seg_ftype(mode_t m, const char *other)
{
	if (S_ISFIFO(m))
		return ("a FIFO");
	if (S_ISDIR(m))
		return ("a directory");
	if (S_ISCHR(m) || S_ISBLK(m))
		return ("a device");
	return (other);
}

#endif /* PERCPU_SEG_POSIX_H */
