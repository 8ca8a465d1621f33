/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcpustat - show the per-CPU counters and variables a program exports
 * (percpu_export.h), live or from a snapshot: vmstat/netstat for the
 * kvm_getpcpu(3) family, and the example of a reader (kvm_pcpu.h).
 *
 * USAGE
 *	pcpustat -l [-j]		list the segments you can read
 *	pcpustat -n NAME [options]	a live segment: NAME of your programs,
 *					or /dev/shm/pcpu.UID.NAME
 *	pcpustat -r FILE [options]	a snapshot file
 *
 *	-c		per-CPU breakdown (every possible CPU, sparse ids)
 *	-j		JSON (one object per sample, one per line)
 *	-f GLOB		only objects whose name matches GLOB
 *	-i SECONDS	interval mode: a sample every SECONDS (decimals
 *			allowed), with rates per second since the last one
 *	-N COUNT	stop after COUNT samples (interval mode)
 *	-o FORMAT	text (default), json (as -j) or prom: the
 *			Prometheus/OpenMetrics text format, for
 *			node_exporter's textfile collector (see PROM below;
 *			one sample, so not with -i)
 *	-s FILE		save a snapshot of the segment to FILE and exit
 *	-S		open a live segment whose writer is gone (post-mortem)
 *	--help		this usage on stdout, exit 0
 *	--version	"pcpustat (percpu) MAJOR.MINOR.PATCH", exit 0
 *
 *	-i 0 (or any SECONDS not above 0) is a usage error (exit 2): one
 *	sample is what leaving -i out gives.  A filter (-f) that matches
 *	nothing is not an error: the table (or JSON "objects", or the prom
 *	output) is empty and the exit status 0, as grep -c would report 0
 *	rather than fail; use the exit status of -l or a check of the output
 *	to tell a missing object.
 *
 * PROM
 *	Each object is two metric families, named pcpu_ + its name with
 *	every character outside [a-zA-Z0-9_:] replaced by '_':
 *	  pcpu_NAME[_total]          summed over every possible CPU
 *	  pcpu_NAME_per_cpu[_total]  one sample per possible CPU, cpu="ID"
 *	Labels: segment="NAME" (the segment's name, or its path), and
 *	index="I" for each element of a counters set or an array.
 *	counter(9) and counters_alloc(9) objects are TYPE counter (their
 *	metric names end in _total), the others TYPE gauge; raw-byte objects are
 *	skipped (a comment says so).  Write it to a temporary file and
 *	rename(2) it into the textfile directory.
 *
 *	Objects: counter (counter(9): one value), counters (OpenBSD
 *	counters_alloc(9): name[i] per counter), dpcpu (a DPCPU variable)
 *	and pcpu (percpu(9)/cpumem(9) memory).  Values are sums over every
 *	possible CPU; raw-byte objects show their bytes with -c.
 *
 * SUMS
 *	Gauges (dpcpu and pcpu objects of format uN or iN) are summed
 *	exactly, in 128 bits, and shown as the exact decimal in every output
 *	(text, JSON, prom): two CPUs of INT64_MAX show 18446744073709551614,
 *	UINT64_MAX and 1 show 18446744073709551616, and a sum may be below
 *	INT64_MIN.  JSON numbers and prom values may thus exceed 64 bits
 *	(Prometheus parses them as float64: exact decimal input, rounded).
 *	Counters (counter(9), counters_alloc(9)) are summed modulo 2^64, as
 *	counter_u64_fetch() does (a decrement on one CPU and an increment on
 *	another cancel; a counter that passed 2^64 - 1 wraps).  fN gauges
 *	are summed in double; one that is NaN or infinite (a value, a sum,
 *	a rate) is null in JSON, NaN, +Inf or -Inf in prom.  Rates (-i) are the difference of two sums:
 *	exact for gauges before it is divided, in double.  Per-CPU values
 *	(-c, the _per_cpu families) are each CPU's own value.  Element
 *	lists longer than 16 are cut in the text output (JSON: 1024), raw
 *	bytes after 32 a CPU (JSON: 1024).
 *
 * HOSTILE FILES AND COST
 *	Text output escapes control bytes (\xHH) in everything that comes
 *	from outside: file names, paths, messages.  Nothing waits or blocks
 *	on a file planted at a segment name (kvm_pcpu.h, TRUST): -l refuses
 *	such a file at once.  Only what is shown is read: each sample costs
 *	time linear in the objects shown times the CPUs, each registry
 *	record is looked at once per run, and memory holds the shown sums
 *	(and, for text -c, the shown per-CPU values of one object).
 *	SIGINT and SIGTERM end pcpustat within milliseconds, in the middle
 *	of a sample too (exit 0).
 *
 * EXIT STATUS (by error class; kvm_pcpu.h ERRORS has the messages)
 *	0  success
 *	1  another error (I/O, out of memory, snapshot not written)
 *	2  usage
 *	3  no such segment or file (ENOENT)
 *	4  permission denied, or not trusted (EACCES, EPERM)
 *	5  writer gone or restarted (ESTALE; interval mode too)
 *	6  bad magic, unsupported version or byte order (EPROTO)
 *	7  corrupt segment (EBADMSG), a corrupt record (the others are
 *	   shown first), or a segment that shrank under the reader
 *	8  not ready, or a counters set stayed busy (EAGAIN)
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#define PERCPU_IMPLEMENTATION
#include "kvm_pcpu.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SHOW_TEXT 16	   /* elements shown in text */
#define SHOW_JSON 1024	   /* elements shown in JSON */
#define SHOW_HEX_TEXT 32   /* raw bytes shown per CPU in text */
#define SHOW_HEX_JSON 1024 /* raw bytes shown per CPU in JSON */

static struct {
	int percpu, json, stale, prom;
	const char *glob;
	double interval;
	long count;
} opt;

static volatile sig_atomic_t stop;
static int bad_records; /* corrupt records seen (exit 7) */

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The exit status of an error class. */
static int
exit_class(int e)
{
	switch (e) {
	case ENOENT:
		return (3);
	case EACCES:
	case EPERM:
		return (4);
	case ESTALE:
		return (5);
	case EPROTO:
		return (6);
	case EBADMSG:
		return (7);
	case EAGAIN:
		return (8);
	default:
		return (1);
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: pcpustat -l [-j]\n"
	    "       pcpustat {-n NAME | -r FILE} [-c] [-j] [-f GLOB] "
	    "[-i SECONDS [-N COUNT]] [-S] [-o FORMAT]\n"
	    "       pcpustat {-n NAME | -r FILE} -s SNAPSHOT\n"
	    "       pcpustat --help | --version\n");
	exit(2);
}

/* --help: the usage and the options, on stdout. */
static void
help(void)
{
	printf("usage: pcpustat -l [-j]\n"
	       "       pcpustat {-n NAME | -r FILE} [-c] [-j | -o FORMAT] "
	       "[-f GLOB] [-i SECONDS [-N COUNT]] [-S]\n"
	       "       pcpustat {-n NAME | -r FILE} -s SNAPSHOT\n"
	       "       pcpustat --help | --version\n"
	       "\n"
	       "  -l          list the segments you can read\n"
	       "  -n NAME     a live segment (a program's name, or "
	       "/dev/shm/pcpu.UID.NAME)\n"
	       "  -r FILE     a snapshot file\n"
	       "  -c          per-CPU values too\n"
	       "  -j          JSON, one object per sample (-o json)\n"
	       "  -o FORMAT   text, json or prom (Prometheus text format, "
	       "summed and per CPU)\n"
	       "  -f GLOB     only objects whose name matches (none: an "
	       "empty table, exit 0)\n"
	       "  -i SECONDS  a sample every SECONDS (> 0), with rates\n"
	       "  -N COUNT    stop after COUNT samples\n"
	       "  -s FILE     save a snapshot to FILE\n"
	       "  -S          open a segment whose writer is gone\n"
	       "\n"
	       "exit status: 0 ok, 1 other, 2 usage, 3 no such segment, 4 "
	       "permission\ndenied or not trusted, 5 writer gone, 6 bad "
	       "magic or version, 7 corrupt,\n8 not ready.  "
	       "See pcpustat(1).\n");
}

/*
 * The long options, before getopt() sees them: --help and --version exit
 * 0; any other --word is a usage error that names it.  "--" ends the
 * options.
 */
static void
long_options(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strncmp(argv[i], "--", 2) != 0)
			continue;
		if (strcmp(argv[i], "--help") == 0) {
			help();
			exit(0);
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("pcpustat (percpu) %d.%d.%d\n",
			    PERCPU_VERSION_MAJOR, PERCPU_VERSION_MINOR,
			    PERCPU_VERSION_PATCH);
			exit(0);
		}
		fprintf(stderr, "pcpustat: unknown option %s\n", argv[i]);
		usage();
	}
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	timespec_get(&ts, TIME_UTC);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* ---- Text that came from outside (file names, paths, messages) ---- */

/*
 * text_str - @str for a terminal: control bytes, DEL and bytes >= 0x80
 * as \xHH, backslash as \\ (a planted file name must not reach the
 * terminal as an escape sequence).
 */
static void
text_str(FILE *f, const char *str)
{
	for (; *str != '\0'; str++) {
		unsigned char ch = (unsigned char)*str;

		if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\x%02x", ch);
		else if (ch == '\\')
			fputs("\\\\", f);
		else
			putc(ch, f);
	}
}

/* @str escaped as text_str() does, into @b (cut to @n bytes). */
static const char *
text_esc(char *b, size_t n, const char *str)
{
	size_t k = 0;

	for (; *str != '\0' && k + 5 < n; str++) {
		unsigned char ch = (unsigned char)*str;

		if (ch < 0x20 || ch >= 0x7f)
			k += (size_t)snprintf(b + k, n - k, "\\x%02x", ch);
		else if (ch == '\\')
			k += (size_t)snprintf(b + k, n - k, "\\\\");
		else
			b[k++] = (char)ch;
	}
	b[k] = '\0';
	return (b);
}

static void warnmsg(const char *fmt, ...) KVM_PCPU_PRIV_PRINTFLIKE(1, 2);

/* "pcpustat: <message>" on stderr, escaped. */
static void
warnmsg(const char *fmt, ...)
{
	char b[KVM_PCPU_ERRSZ + 512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	fputs("pcpustat: ", stderr);
	text_str(stderr, b);
	fputc('\n', stderr);
}

static const char *
kind_name(unsigned kind)
{
	switch (kind) {
	case KVM_PCPU_KIND_COUNTER_U64:
		return ("counter");
	case KVM_PCPU_KIND_COUNTERS:
		return ("counters");
	case KVM_PCPU_KIND_DPCPU:
		return ("dpcpu");
	default:
		return ("pcpu");
	}
}

static const char *const fmt_names[] = {"bytes", "u8", "u16", "u32", "u64",
    "i8", "i16", "i32", "i64", "f32", "f64"};
static const unsigned fmt_size[] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 4, 8};

/* ---- One sample of one object ----
 *
 * Cost: only what is shown is read (the first SHOW_* elements or raw
 * bytes of each object), each CPU once per sample, one object at a time;
 * memory holds the shown sums of every object (for the rates) and the
 * shown per-CPU values of one object (text -c; JSON -c streams them).
 */

/* A value of one CPU: unsigned (counters, uN), signed (iN) or floating
 * (fN); the object's class (fmt_class) says which member. */
union val {
	uint64_t u;
	int64_t i;
	double d;
};

/*
 * A sum over the CPUs, in its class's arithmetic:
 *   'c' counters (counter(9), counters_alloc(9)): lo, modulo 2^64, as
 *       counter_u64_fetch() sums them (a decrement on one CPU cancels an
 *       increment on another; hi stays 0)
 *   'u', 'i' gauges (DPCPU variables, percpu/cpumem memory): exact, a
 *       128-bit two's complement integer hi:lo (2^32 CPUs of 64-bit
 *       values need 97 bits), in plain C11 (no __int128 needed)
 *   'f' floating: d
 */
struct sum {
	uint64_t lo, hi;
	double d;
};

struct obj {
	struct kvm_pcpu_entry e;
	unsigned n;	  /* elements (0: raw bytes) */
	unsigned shown;	  /* elements read and shown: min(n, SHOW_*) */
	struct sum *sum;  /* [shown] */
	struct sum *prev; /* [shown]: the last sample's sums, for rates */
	int has_prev;
	int err;    /* reading failed: message in msg */
	int eclass; /* its class (kvm_pcpu_errno) */
	char msg[KVM_PCPU_ERRSZ];
};

struct seg {
	kvm_t *kd;
	struct kvm_pcpu_info info;
	unsigned ncpu;
	int *cpus;	   /* possible CPU ids, ascending */
	uint64_t *dynamic; /* pc_dynamic per listed CPU */
	struct obj *objs;
	unsigned nobjs, cap;
	unsigned scanned; /* registry records looked at so far */
	union val *cpuv;  /* text -c, prom: [ncpu * SHOW_TEXT] of one object */
	unsigned char *raw; /* one CPU's raw bytes (SHOW_HEX_JSON) */
	uint64_t *set;	    /* one CPU's counters (SHOW_JSON) */
	unsigned char *buf; /* one CPU's shown elements (SHOW_JSON * 8) */
};

/* Decode element @k of format @fmt at @p into @v (added to it). */
static void
add_elem(union val *v, unsigned fmt, const unsigned char *p)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int8_t i8;
	int16_t i16;
	int32_t i32;
	int64_t i64;
	float f;
	double d;

	switch (fmt) {
	case PERCPU_SEG_FMT_U8:
		memcpy(&u8, p, 1);
		v->u += u8;
		break;
	case PERCPU_SEG_FMT_U16:
		memcpy(&u16, p, 2);
		v->u += u16;
		break;
	case PERCPU_SEG_FMT_U32:
		memcpy(&u32, p, 4);
		v->u += u32;
		break;
	case PERCPU_SEG_FMT_U64:
		memcpy(&u64, p, 8);
		v->u += u64;
		break;
	case PERCPU_SEG_FMT_I8:
		memcpy(&i8, p, 1);
		v->i = (int64_t)((uint64_t)v->i + (uint64_t)(int64_t)i8);
		break;
	case PERCPU_SEG_FMT_I16:
		memcpy(&i16, p, 2);
		v->i = (int64_t)((uint64_t)v->i + (uint64_t)(int64_t)i16);
		break;
	case PERCPU_SEG_FMT_I32:
		memcpy(&i32, p, 4);
		v->i = (int64_t)((uint64_t)v->i + (uint64_t)(int64_t)i32);
		break;
	case PERCPU_SEG_FMT_I64:
		memcpy(&i64, p, 8);
		v->i = (int64_t)((uint64_t)v->i + (uint64_t)i64);
		break;
	case PERCPU_SEG_FMT_F32:
		memcpy(&f, p, 4);
		v->d += (double)f;
		break;
	case PERCPU_SEG_FMT_F64:
		memcpy(&d, p, 8);
		v->d += d;
		break;
	default:
		break;
	}
}

/*
 * fmt_class - the class of an object of @kind and @fmt: 'c' (a counter,
 * u64 per CPU, summed modulo 2^64), 'u' or 'i' (an unsigned or signed
 * gauge, summed exactly), 'f' (floating) or 0 (raw bytes).
 * Context: any.  Return: the class.
 */
static int
fmt_class(unsigned kind, unsigned fmt)
{
	if (kind == KVM_PCPU_KIND_COUNTER_U64 || kind == KVM_PCPU_KIND_COUNTERS)
		return ('c');
	if (fmt >= PERCPU_SEG_FMT_U8 && fmt <= PERCPU_SEG_FMT_U64)
		return ('u');
	if (fmt >= PERCPU_SEG_FMT_I8 && fmt <= PERCPU_SEG_FMT_I64)
		return ('i');
	if (fmt == PERCPU_SEG_FMT_F32 || fmt == PERCPU_SEG_FMT_F64)
		return ('f');
	return (0);
}

/*
 * sum_add - add one CPU's value @v of class @cls to @s: 'c' modulo 2^64,
 * 'u' and 'i' exactly (128 bits: the carry out of lo into hi, and for a
 * negative 'i' value its sign extension, all ones, into hi), 'f' in
 * double.
 * Context: any.  Return: none.
 */
static void
sum_add(struct sum *s, const union val *v, int cls)
{
	if (cls == 'f') {
		s->d += v->d;
		return;
	}
	s->lo += v->u; /* 'i': the same bits, two's complement */
	if (cls == 'c')
		return;
	s->hi += s->lo < v->u ? 1u : 0u;
	if (cls == 'i' && v->i < 0)
		s->hi += UINT64_MAX;
}

/* The 128-bit two's complement value hi:lo as a double (rounded).
 * Context: any.  Return: the value. */
static double
wide_double(uint64_t lo, uint64_t hi)
{
	int neg = hi >> 63 != 0;

	if (neg) { /* negate: ~x + 1 */
		lo = ~lo + 1;
		hi = ~hi + (lo == 0 ? 1u : 0u);
	}
	return ((neg ? -1.0 : 1.0) *
	    ((double)hi * 18446744073709551616.0 + (double)lo));
}

/*
 * sum_diff - @a minus @b (two sums of class @cls) as a double: the
 * difference is taken exactly for 'u' and 'i' (128 bits), then rounded;
 * 'c' as before, each sum (modulo 2^64) converted on its own.
 * Context: any.  Return: the difference.
 */
static double
sum_diff(const struct sum *a, const struct sum *b, int cls)
{
	uint64_t lo, hi;

	if (cls == 'f')
		return (a->d - b->d);
	if (cls == 'c')
		return ((double)a->lo - (double)b->lo);
	lo = a->lo - b->lo;
	hi = a->hi - b->hi - (a->lo < b->lo ? 1u : 0u);
	return (wide_double(lo, hi));
}

/* Raw bytes of @o shown per CPU. */
static size_t
raw_shown(const struct obj *o)
{
	size_t max = opt.json ? SHOW_HEX_JSON : SHOW_HEX_TEXT;

	return (o->e.size < max ? o->e.size : max);
}

/*
 * read_cpu - the shown elements of object @o on listed CPU @c: added to
 * @vals[0..shown) (zeroed first), or its shown raw bytes into s->raw.
 * Return: 0, or -1 (message in o->msg).
 */
static int
read_cpu(struct seg *s, struct obj *o, unsigned c, union val *vals)
{
	struct kvm_pcpu_entry *e = &o->e;
	int cpu = s->cpus[c], rc;
	size_t len;
	unsigned k;

	if (o->shown != 0)
		memset(vals, 0, o->shown * sizeof(*vals));
	switch (e->kind) {
	case KVM_PCPU_KIND_COUNTER_U64:
		rc = kvm_pcpu_counter_u64_cpu(s->kd, e->base, cpu, &vals[0].u);
		break;
	case KVM_PCPU_KIND_COUNTERS:
		rc = kvm_pcpu_counters_read(s->kd, e->base, o->shown, cpu,
		    s->set);
		for (k = 0; rc == 0 && k < o->shown; k++)
			vals[k].u = s->set[k];
		break;
	default:
		len = o->n == 0 ? raw_shown(o) :
				  (size_t)o->shown * fmt_size[e->fmt];
		if (e->kind == KVM_PCPU_KIND_DPCPU)
			rc = kvm_read(s->kd,
				 (unsigned long)(e->base + s->dynamic[c]),
				 o->n == 0 ? s->raw : s->buf,
				 len) == (ssize_t)len ?
			    0 :
			    -1;
		else
			rc = kvm_read_zpcpu(s->kd, e->base,
				 o->n == 0 ? s->raw : s->buf, len,
				 cpu) == (ssize_t)len ?
			    0 :
			    -1;
		for (k = 0; rc == 0 && k < o->shown; k++)
			add_elem(&vals[k], e->fmt,
			    s->buf + (size_t)k * fmt_size[e->fmt]);
	}
	if (rc != 0) {
		snprintf(o->msg, sizeof(o->msg), "%s", kvm_geterr(s->kd));
		o->eclass = kvm_pcpu_errno(s->kd);
	}
	return (rc);
}

/*
 * read_obj - the sums of object @o over every listed CPU (and, with
 * @cpuv, each CPU's shown values: cpuv[c * shown + k]).
 * Return: 0, or -1 (o->msg; also when a signal asked to stop).
 */
static int
read_obj(struct seg *s, struct obj *o, union val *cpuv)
{
	union val one[SHOW_JSON];
	unsigned c, k;
	int cls = fmt_class(o->e.kind, o->e.fmt);

	memset(o->sum, 0, o->shown * sizeof(*o->sum));
	for (c = 0; c < s->ncpu; c++) {
		if (stop) {
			snprintf(o->msg, sizeof(o->msg), "interrupted");
			o->eclass = EINTR;
			return (-1);
		}
		if (read_cpu(s, o, c, one) != 0)
			return (-1);
		for (k = 0; k < o->shown; k++) {
			sum_add(&o->sum[k], &one[k], cls);
			if (cpuv != NULL)
				cpuv[(size_t)c * o->shown + k] = one[k];
		}
	}
	return (0);
}

/* ---- Opening and listing the objects ---- */

/* The CPU list and buffers of the open handle s->kd; 0 or an exit code. */
static int
seg_init(struct seg *s)
{
	int maxcpu, cpu;

	if (kvm_pcpu_info(s->kd, &s->info) != 0 ||
	    (maxcpu = kvm_getmaxcpu(s->kd)) < 0) {
		warnmsg("%s", kvm_geterr(s->kd));
		return (exit_class(kvm_pcpu_errno(s->kd)));
	}
	s->cpus = malloc((size_t)maxcpu * sizeof(*s->cpus));
	s->dynamic = malloc((size_t)maxcpu * sizeof(*s->dynamic));
	s->raw = malloc(SHOW_HEX_JSON);
	s->set = malloc(SHOW_JSON * sizeof(*s->set));
	s->buf = malloc(SHOW_JSON * 8);
	if (s->cpus == NULL || s->dynamic == NULL || s->raw == NULL ||
	    s->set == NULL || s->buf == NULL) {
		warnmsg("out of memory");
		return (1);
	}
	/* libmemstat's walk: 0..maxcpu-1, skipping absent CPUs. */
	for (cpu = 0; cpu < maxcpu; cpu++) {
		struct pcpu *p = kvm_getpcpu(s->kd, cpu);

		if (p == NULL)
			continue;
		if (p == (void *)-1) {
			warnmsg("%s", kvm_geterr(s->kd));
			return (exit_class(kvm_pcpu_errno(s->kd)));
		}
		s->cpus[s->ncpu] = cpu;
		s->dynamic[s->ncpu++] = p->pc_dynamic;
		free(p);
	}
	if ((opt.percpu || opt.prom) && !opt.json) {
		s->cpuv = calloc(
		    (size_t)s->ncpu * (opt.prom ? SHOW_JSON : SHOW_TEXT) + 1,
		    sizeof(*s->cpuv));
		if (s->cpuv == NULL) {
			warnmsg("out of memory");
			return (1);
		}
	}
	return (0);
}

static int
open_seg(struct seg *s, const char *what)
{
	char err[KVM_PCPU_ERRSZ];

	memset(s, 0, sizeof(*s));
	s->kd = kvm_pcpu_open(what, opt.stale ? KVM_PCPU_STALE_OK : 0, err);
	if (s->kd == NULL) {
		int e = errno;

		warnmsg("%s", err);
		return (exit_class(e));
	}
	return (seg_init(s));
}

/*
 * scan_objs - pick up the registry records published since the last call
 * (records below s->scanned were looked at already: linear over a run).
 * Return: 0, or -1 (out of memory).
 */
static int
scan_objs(struct seg *s)
{
	unsigned n = kvm_pcpu_nentries(s->kd);

	for (; s->scanned < n && !stop; s->scanned++) {
		struct kvm_pcpu_entry e;
		struct obj *o;
		unsigned max = opt.json || opt.prom ? SHOW_JSON : SHOW_TEXT;
		int rc = kvm_pcpu_entry(s->kd, s->scanned, &e);

		if (rc < 0) {
			warnmsg("%s", kvm_geterr(s->kd));
			bad_records++;
			continue;
		}
		if (rc > 0)
			continue;
		if (opt.glob != NULL && fnmatch(opt.glob, e.name, 0) != 0)
			continue;
		if (s->nobjs == s->cap) {
			unsigned cap = s->cap != 0 ? s->cap * 2 : 16;

			o = realloc(s->objs, (size_t)cap * sizeof(*o));
			if (o == NULL)
				return (-1);
			s->objs = o;
			s->cap = cap;
		}
		o = &s->objs[s->nobjs];
		memset(o, 0, sizeof(*o));
		o->e = e;
		o->n = e.kind == KVM_PCPU_KIND_COUNTER_U64 ? 1 :
		    fmt_class(e.kind, e.fmt) == 0	   ? 0 :
							     e.count;
		o->shown = o->n < max ? o->n : max;
		o->sum = calloc(o->shown + 1, sizeof(*o->sum));
		o->prev = calloc(o->shown + 1, sizeof(*o->prev));
		if (o->sum == NULL || o->prev == NULL) {
			free(o->sum);
			free(o->prev);
			return (-1);
		}
		s->nobjs++;
	}
	return (0);
}

/* ---- Output ---- */

/* One CPU's value @v of class @cls as text, into @b (@n bytes).
 * Context: any.  Return: @b. */
static const char *
val_str(char *b, size_t n, const union val *v, int cls)
{
	if (cls == 'u' || cls == 'c')
		snprintf(b, n, "%" PRIu64, v->u);
	else if (cls == 'i')
		snprintf(b, n, "%" PRId64, v->i);
	else
		snprintf(b, n, "%.17g", v->d);
	return (b);
}

/*
 * sum_str - the sum @s of class @cls as text, into @b (@n bytes): 'u' and
 * 'i' as the exact decimal of the 128-bit value (up to 40 characters with
 * the sign), 'c' as the u64 modulo 2^64, 'f' as %.17g.
 * Context: any.  Return: @b.
 */
static const char *
sum_str(char *b, size_t n, const struct sum *s, int cls)
{
	char d[48], *p = d + sizeof(d);
	uint32_t w[4]; /* the magnitude, most significant word first */
	uint64_t lo = s->lo, hi = s->hi, r;
	int neg = cls == 'i' && hi >> 63 != 0, i, more;

	if (cls == 'f' || cls == 'c') {
		union val v;

		if (cls == 'f')
			v.d = s->d;
		else
			v.u = lo;
		return (val_str(b, n, &v, cls));
	}
	if (neg) { /* the magnitude: ~x + 1 */
		lo = ~lo + 1;
		hi = ~hi + (lo == 0 ? 1u : 0u);
	}
	w[0] = (uint32_t)(hi >> 32);
	w[1] = (uint32_t)hi;
	w[2] = (uint32_t)(lo >> 32);
	w[3] = (uint32_t)lo;
	*--p = '\0';
	do { /* long division by 10, 32 bits at a time */
		r = 0;
		more = 0;
		for (i = 0; i < 4; i++) {
			r = r << 32 | w[i];
			w[i] = (uint32_t)(r / 10);
			r %= 10;
			more |= w[i] != 0;
		}
		*--p = (char)('0' + r);
	} while (more);
	if (neg)
		*--p = '-';
	snprintf(b, n, "%s", p);
	return (b);
}

/*
 * print_val / print_sum - one CPU's value, or a sum, as a JSON number:
 * an fN value that is not finite (NaN, an infinity) is null, JSON having
 * no spelling for it.
 * Context: the JSON output.  Return: none.
 */
static void
print_val(FILE *f, const union val *v, int cls)
{
	char b[64];

	if (cls == 'f' && !isfinite(v->d))
		fputs("null", f);
	else
		fputs(val_str(b, sizeof(b), v, cls), f);
}

static void
print_sum(FILE *f, const struct sum *s, int cls)
{
	char b[64];

	if (cls == 'f' && !isfinite(s->d))
		fputs("null", f);
	else
		fputs(sum_str(b, sizeof(b), s, cls), f);
}

static void
print_hex(FILE *f, const unsigned char *p, size_t n, size_t total)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
	if (total > n)
		fprintf(f, "...");
}

/* The rate of element @k of @o over @dt seconds. */
static double
rate(const struct obj *o, unsigned k, int cls, double dt)
{
	return (sum_diff(&o->sum[k], &o->prev[k], cls) / dt);
}

/* Object @o's sample in text (read here). */
static void
print_text_obj(struct seg *s, struct obj *o, int rates, double dt)
{
	int cls = fmt_class(o->e.kind, o->e.fmt);
	char kind[32], name[300], num[64];
	unsigned k, c;

	if (o->e.kind == KVM_PCPU_KIND_COUNTER_U64)
		snprintf(kind, sizeof(kind), "counter");
	else if (o->e.kind == KVM_PCPU_KIND_COUNTERS)
		snprintf(kind, sizeof(kind), "counters");
	else
		snprintf(kind, sizeof(kind), "%s %s", kind_name(o->e.kind),
		    fmt_names[o->e.fmt]);
	if (o->n == 0) {
		printf("%-32s %-14s %14zu bytes\n", o->e.name, kind, o->e.size);
		for (c = 0; opt.percpu && c < s->ncpu && !stop; c++) {
			if (read_cpu(s, o, c, NULL) != 0) {
				o->err = 1;
				break;
			}
			printf("    cpu %-5d ", s->cpus[c]);
			print_hex(stdout, s->raw, raw_shown(o), o->e.size);
			printf("\n");
		}
		if (o->err)
			printf("%-32s %-14s error: %s\n", o->e.name, kind,
			    text_esc(name, sizeof(name), o->msg));
		return;
	}
	if ((o->err = read_obj(s, o, s->cpuv) != 0)) {
		printf("%-32s %-14s error: %s\n", o->e.name, kind,
		    text_esc(name, sizeof(name), o->msg));
		return;
	}
	for (k = 0; k < o->shown; k++) {
		if (o->n > 1 || o->e.kind == KVM_PCPU_KIND_COUNTERS)
			snprintf(name, sizeof(name), "%s[%u]", o->e.name, k);
		else
			snprintf(name, sizeof(name), "%s", o->e.name);
		printf("%-32s %-14s %20s", name, kind,
		    sum_str(num, sizeof(num), &o->sum[k], cls));
		if (rates && o->has_prev && dt > 0)
			printf("  %14.1f", rate(o, k, cls, dt));
		printf("\n");
		for (c = 0; s->cpuv != NULL && c < s->ncpu; c++)
			printf("    cpu %-5d %54s\n", s->cpus[c],
			    val_str(num, sizeof(num),
				&s->cpuv[(size_t)c * o->shown + k], cls));
	}
	if (o->n > o->shown)
		printf("%-32s (%u more elements)\n", "", o->n - o->shown);
}

/* One sample in text: every object read and printed in turn. */
static void
print_text(struct seg *s, int rates, double dt)
{
	unsigned j;

	printf("%-32s %-14s %20s%s\n", "NAME", "KIND", "VALUE",
	    rates ? "          RATE/s" : "");
	for (j = 0; j < s->nobjs && !stop; j++)
		print_text_obj(s, &s->objs[j], rates, dt);
}

static const char *
status_name(int st)
{
	switch (st) {
	case KVM_PCPU_RUNNING:
		return ("running");
	case KVM_PCPU_GONE:
		return ("gone");
	case KVM_PCPU_RESTARTED:
		return ("restarted");
	case KVM_PCPU_SNAPSHOT:
		return ("snapshot");
	default:
		return ("unknown");
	}
}

/* @str as a JSON string (paths come from the command line or from
 * /dev/shm, messages may quote them; object names need no escaping). */
static void
json_str(const char *str)
{
	putchar('"');
	for (; *str != '\0'; str++) {
		unsigned char ch = (unsigned char)*str;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* Object @o's sample in JSON (read here; per-CPU values streamed). */
static void
print_json_obj(struct seg *s, struct obj *o, int rates, double dt)
{
	int cls = fmt_class(o->e.kind, o->e.fmt);
	int list = o->n != 1 || o->e.kind == KVM_PCPU_KIND_COUNTERS;
	union val one[SHOW_JSON];
	unsigned k, c;

	printf("{\"name\":\"%s\",\"kind\":\"%s\",\"format\":\"%s\","
	       "\"size\":%zu,\"count\":%u",
	    o->e.name, kind_name(o->e.kind),
	    o->e.kind == KVM_PCPU_KIND_COUNTER_U64 ||
		    o->e.kind == KVM_PCPU_KIND_COUNTERS ?
		"u64" :
		fmt_names[o->e.fmt],
	    o->e.size, o->e.count);
	if (o->n > 0 && (o->err = read_obj(s, o, NULL) != 0)) {
		printf(",\"error\":");
		json_str(o->msg);
		printf("}");
		return;
	}
	if (o->n > o->shown)
		printf(",\"truncated\":true");
	if (o->n > 0) {
		printf(",\"value\":%s", list ? "[" : "");
		for (k = 0; k < o->shown; k++) {
			printf("%s", k ? "," : "");
			print_sum(stdout, &o->sum[k], cls);
		}
		printf("%s", list ? "]" : "");
	}
	if (rates && o->has_prev && o->n > 0 && dt > 0) {
		printf(",\"rate\":%s", list ? "[" : "");
		for (k = 0; k < o->shown; k++) {
			double r = rate(o, k, cls, dt);

			printf("%s", k ? "," : "");
			if (isfinite(r))
				printf("%.6g", r);
			else
				printf("null"); /* JSON: no NaN or infinity */
		}
		printf("%s", list ? "]" : "");
	}
	if (opt.percpu) {
		printf(",\"per_cpu\":{");
		for (c = 0; c < s->ncpu && !stop; c++) {
			if (read_cpu(s, o, c, one) != 0)
				break;
			printf("%s\"%d\":", c ? "," : "", s->cpus[c]);
			if (o->n == 0) {
				printf("\"");
				print_hex(stdout, s->raw, raw_shown(o),
				    o->e.size);
				printf("\"");
				continue;
			}
			printf("%s", list ? "[" : "");
			for (k = 0; k < o->shown; k++) {
				printf("%s", k ? "," : "");
				print_val(stdout, &one[k], cls);
			}
			printf("%s", list ? "]" : "");
		}
		printf("}");
		if (c < s->ncpu && !stop) {
			o->err = 1;
			printf(",\"error\":");
			json_str(o->msg);
		}
	}
	printf("}");
}

/* One sample in JSON, one line: every object read and printed in turn. */
static void
print_json(struct seg *s, int rates, double dt, uint64_t t)
{
	unsigned j, c, i;

	printf("{\"segment\":{\"path\":");
	json_str(s->info.path);
	printf(",\"live\":%s,\"status\":\"%s\",\"pid\":%" PRIu64
	       ",\"instance\":\"",
	    s->info.live ? "true" : "false",
	    status_name(kvm_pcpu_status(s->kd)), s->info.pid);
	for (i = 0; i < 16; i++)
		printf("%02x", s->info.instance[i]);
	printf("\",\"maxcpu\":%u,\"ncpu\":%u,\"cpus\":[", s->info.maxcpu,
	    s->ncpu);
	for (c = 0; c < s->ncpu; c++)
		printf("%s%d", c ? "," : "", s->cpus[c]);
	printf("],\"start_ns\":%" PRIu64 ",\"heartbeat_ns\":%" PRIu64
	       ",\"snapshot_ns\":%" PRIu64 "},\"time_ns\":%" PRIu64,
	    s->info.start_ns, s->info.heartbeat_ns, s->info.snapshot_ns, t);
	if (rates)
		printf(",\"interval_s\":%.6f", dt);
	printf(",\"objects\":[");
	for (j = 0; j < s->nobjs && !stop; j++) {
		printf("%s", j ? "," : "");
		print_json_obj(s, &s->objs[j], rates, dt);
	}
	printf("]}\n");
}

/* ---- Prometheus / OpenMetrics text format (-o prom) ---- */

/* @str as a label value or HELP text: \\, \n and (labels) \" escaped. */
static void
prom_escape(const char *str, int label)
{
	for (; *str != '\0'; str++) {
		if (*str == '\\')
			fputs("\\\\", stdout);
		else if (*str == '\n')
			fputs("\\n", stdout);
		else if (*str == '"' && label)
			fputs("\\\"", stdout);
		else
			putchar(*str);
	}
}

/* The metric name of object @name: pcpu_ and [a-zA-Z0-9_:] only. */
static void
prom_name(char *b, size_t n, const char *name)
{
	size_t i;

	snprintf(b, n, "pcpu_%s", name);
	for (i = 5; b[i] != '\0'; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') ||
			(b[i] >= 'A' && b[i] <= 'Z') ||
			(b[i] >= '0' && b[i] <= '9') || b[i] == '_' ||
			b[i] == ':'))
			b[i] = '_';
}

/* The segment label: the name after /dev/shm/pcpu.UID., else the path. */
static const char *
prom_segment(const struct seg *s)
{
	const char *p = s->info.path, *base = strrchr(p, '/');
	size_t n = strlen(PERCPU_SEG_SHM_PREFIX);

	base = base != NULL ? base + 1 : p;
	if (strncmp(p, "/dev/shm/", 9) == 0 &&
	    strncmp(base, PERCPU_SEG_SHM_PREFIX, n) == 0 &&
	    (p = strchr(base + n, '.')) != NULL && p[1] != '\0')
		return (p + 1);
	return (s->info.path);
}

/* One sample line: NAME{segment=..,[cpu=..,][index=..]} VALUE (@val:
 * a decimal integer, exact, or a %.17g double). */
static void
prom_sample(const char *metric, const struct seg *s, int cpu, int index,
    const char *val)
{
	printf("%s{segment=\"", metric);
	prom_escape(prom_segment(s), 1);
	printf("\"");
	if (cpu >= 0)
		printf(",cpu=\"%d\"", cpu);
	if (index >= 0)
		printf(",index=\"%d\"", index);
	/* The exposition format's spellings of what %g writes "nan", "inf"
	 * and "-inf" (OpenMetrics takes no other). */
	if (strcmp(val, "nan") == 0 || strcmp(val, "-nan") == 0)
		val = "NaN";
	else if (strcmp(val, "inf") == 0)
		val = "+Inf";
	else if (strcmp(val, "-inf") == 0)
		val = "-Inf";
	printf("} %s\n", val);
}

/*
 * prom_claim - the metric name @m for this sample: 1 if it was free (now
 * taken), 0 if another object already took it (two names that map to one
 * metric name: "a.b" and "a_b").  @tab has @cap slots (a power of two),
 * open addressing; @m is copied.  Out of memory: taken (no check).
 */
static int
prom_claim(char **tab, size_t cap, const char *m)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a */
	const char *p;
	size_t i;

	for (p = m; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	for (i = (size_t)h & (cap - 1); tab[i] != NULL; i = (i + 1) & (cap - 1))
		if (strcmp(tab[i], m) == 0)
			return (0);
	tab[i] = strdup(m);
	return (1);
}

/*
 * print_prom - one sample of every object of @s in the Prometheus text
 * format: each object read in turn (its shown elements, each CPU's too).
 * An object whose metric names another object already took is skipped
 * with a comment (Prometheus rejects a file with a family twice).
 */
static void
print_prom(struct seg *s)
{
	unsigned j, k, c;
	size_t cap = 16, i;
	char **tab;

	while (cap < (size_t)s->nobjs * 4 + 8)
		cap *= 2;
	tab = calloc(cap, sizeof(*tab));

	for (j = 0; j < s->nobjs && !stop; j++) {
		struct obj *o = &s->objs[j];
		int cls = fmt_class(o->e.kind, o->e.fmt);
		int counter = o->e.kind == KVM_PCPU_KIND_COUNTER_U64 ||
		    o->e.kind == KVM_PCPU_KIND_COUNTERS;
		int list = o->n != 1 || o->e.kind == KVM_PCPU_KIND_COUNTERS;
		const char *type = counter ? "counter" : "gauge";
		const char *sfx = counter ? "_total" : "";
		char name[300], metric[320], msg[KVM_PCPU_ERRSZ * 4], num[64];

		prom_name(name, sizeof(name), o->e.name);
		if (o->n == 0) {
			printf("# %s skipped (raw bytes)\n", name);
			continue;
		}
		if ((o->err = read_obj(s, o, s->cpuv) != 0)) {
			printf("# %s skipped (%s)\n", name,
			    text_esc(msg, sizeof(msg), o->msg));
			continue;
		}
		snprintf(metric, sizeof(metric), "%s%s", name, sfx);
		snprintf(msg, sizeof(msg), "%s_per_cpu%s", name, sfx);
		if (tab != NULL &&
		    (!prom_claim(tab, cap, metric) ||
			!prom_claim(tab, cap, msg))) {
			printf("# %s skipped (%s: its metric name is another "
			       "object's)\n",
			    name, text_esc(msg, sizeof(msg), o->e.name));
			continue;
		}
		printf("# HELP %s %s ", metric, kind_name(o->e.kind));
		prom_escape(o->e.name, 0);
		printf(", summed over every possible CPU\n");
		printf("# TYPE %s %s\n", metric, type);
		for (k = 0; k < o->shown; k++)
			prom_sample(metric, s, -1, list ? (int)k : -1,
			    sum_str(num, sizeof(num), &o->sum[k], cls));
		snprintf(metric, sizeof(metric), "%s_per_cpu%s", name, sfx);
		printf("# HELP %s %s ", metric, kind_name(o->e.kind));
		prom_escape(o->e.name, 0);
		printf(", per possible CPU\n");
		printf("# TYPE %s %s\n", metric, type);
		for (c = 0; c < s->ncpu; c++)
			for (k = 0; k < o->shown; k++)
				prom_sample(metric, s, s->cpus[c],
				    list ? (int)k : -1,
				    val_str(num, sizeof(num),
					&s->cpuv[(size_t)c * o->shown + k],
					cls));
		if (o->n > o->shown)
			printf("# %s: %u more elements not shown\n", name,
			    o->n - o->shown);
	}
	for (i = 0; tab != NULL && i < cap; i++)
		free(tab[i]);
	free(tab);
}

/*
 * sample - read and print one sample of every object of @s (@rates: show
 * the rates since the last sample, @dt seconds ago), then keep its sums
 * for the next.  The display entry point (test/fuzz_kvm.c drives it).
 * Return: 0; 8 if a counters set stayed busy; 7 if the segment turned
 *         out corrupt (it shrank under the reader).
 */
static int
sample(struct seg *s, int rates, double dt, uint64_t t)
{
	unsigned j;
	int rc = 0;

	(void)kvm_pcpu_info(s->kd, &s->info);
	if (opt.json)
		print_json(s, rates, dt, t);
	else if (opt.prom)
		print_prom(s);
	else
		print_text(s, rates, dt);
	for (j = 0; j < s->nobjs; j++) {
		struct obj *o = &s->objs[j];

		if (o->err && o->eclass == EAGAIN && rc == 0)
			rc = 8;
		if (o->err && o->eclass == EBADMSG)
			rc = 7; /* the segment shrank: no further sample */
		memcpy(o->prev, o->sum, o->shown * sizeof(*o->sum));
		o->has_prev = !o->err;
		o->err = 0;
	}
	return (rc);
}

/* ---- Modes ---- */

static int
list_segments(void)
{
	const char *dir = "/dev/shm";
	char prefix[64], path[512];
	unsigned shown = 0, skipped = 0;
	struct dirent *d;
	DIR *dp;

	snprintf(prefix, sizeof(prefix), "%s%u.", PERCPU_SEG_SHM_PREFIX,
	    (unsigned)geteuid());
	if ((dp = opendir(dir)) == NULL) {
		warnmsg("%s: %s", dir, strerror(errno));
		return (1);
	}
	if (!opt.json)
		printf("%-24s %8s %5s %7s %-9s %s\n", "NAME", "PID", "CPUS",
		    "OBJECTS", "STATUS", "PATH");
	else
		printf("[");
	while (!stop && (d = readdir(dp)) != NULL) {
		struct kvm_pcpu_info info;
		char err[KVM_PCPU_ERRSZ];
		const char *name = d->d_name, *p;
		kvm_t *kd;

		if (strncmp(name, PERCPU_SEG_SHM_PREFIX,
			strlen(PERCPU_SEG_SHM_PREFIX)) != 0)
			continue;
		/* pcpu.<uid>.<name> */
		p = name + strlen(PERCPU_SEG_SHM_PREFIX);
		if (*p < '0' || *p > '9' || (p = strchr(p, '.')) == NULL ||
		    p[1] == '\0')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		/* Never waits: a file that is not a trusted, ready segment
		 * is refused at once (kvm_pcpu_open). */
		kd = kvm_pcpu_open(path, KVM_PCPU_STALE_OK, err);
		if (kd == NULL || kvm_pcpu_info(kd, &info) != 0) {
			skipped++;
			if (kd != NULL)
				kvm_close(kd);
			continue;
		}
		if (opt.json) {
			printf("%s{\"name\":", shown ? "," : "");
			json_str(p + 1);
			printf(",\"path\":");
			json_str(path);
			printf(",\"pid\":%" PRIu64
			       ",\"ncpu\":%u,\"objects\":%u,"
			       "\"status\":\"%s\"}",
			    info.pid, info.ncpu, info.entries,
			    status_name(kvm_pcpu_status(kd)));
		} else {
			char b1[2048], b2[2048];

			printf("%-24s %8" PRIu64 " %5u %7u %-9s %s\n",
			    text_esc(b1, sizeof(b1),
				strncmp(name, prefix, strlen(prefix)) == 0 ?
				    p + 1 :
				    path),
			    info.pid, info.ncpu, info.entries,
			    status_name(kvm_pcpu_status(kd)),
			    text_esc(b2, sizeof(b2), path));
		}
		shown++;
		kvm_close(kd);
	}
	closedir(dp);
	if (opt.json)
		printf("]\n");
	else if (skipped != 0)
		printf("(%u more not readable by this user, or not trusted)\n",
		    skipped);
	return (0);
}

/* Release everything of @s. */
static void
close_seg(struct seg *s)
{
	unsigned j;

	for (j = 0; j < s->nobjs; j++) {
		free(s->objs[j].sum);
		free(s->objs[j].prev);
	}
	free(s->objs);
	free(s->cpus);
	free(s->dynamic);
	free(s->cpuv);
	free(s->raw);
	free(s->set);
	free(s->buf);
	if (s->kd != NULL)
		kvm_close(s->kd);
	memset(s, 0, sizeof(*s));
}

/* Sleep @sec seconds, or until a signal asks to stop. */
static void
nap(double sec)
{
	struct timespec ts;

	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)((sec - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop)
		;
}

static int
show(const char *what, const char *save)
{
	struct seg s;
	uint64_t t0 = 0, t;
	long samples = 0;
	int rc, st;

	if ((rc = open_seg(&s, what)) != 0) {
		close_seg(&s);
		return (rc);
	}
	if (save != NULL) {
		if (kvm_pcpu_snapshot(s.kd, save) != 0) {
			warnmsg("%s", kvm_geterr(s.kd));
			close_seg(&s);
			return (1);
		}
		if (!opt.json) {
			printf("saved ");
			text_str(stdout, save);
			printf("\n");
		}
		close_seg(&s);
		return (0);
	}
	while (!stop) {
		if (scan_objs(&s) != 0) {
			warnmsg("out of memory");
			close_seg(&s);
			return (1);
		}
		t = now_ns();
		if (!opt.json && !opt.prom && samples == 0) {
			text_str(stdout, s.info.path);
			printf(": pid %" PRIu64 ", %u CPUs (maxcpu %u), %s\n",
			    s.info.pid, s.ncpu, s.info.maxcpu,
			    s.info.live ? "live" : "snapshot");
		}
		if (!opt.json && !opt.prom && opt.interval > 0)
			printf("-- sample %ld\n", samples + 1);
		st = sample(&s, samples > 0, (double)(t - t0) / 1e9, t);
		rc = rc != 0 && st != 7 ? rc : st;
		fflush(stdout);
		samples++;
		if (opt.interval <= 0 || stop || st == 7 ||
		    (opt.count > 0 && samples >= opt.count))
			break;
		t0 = t;
		nap(opt.interval);
		if (stop)
			break;
		st = kvm_pcpu_status(s.kd);
		if (st == KVM_PCPU_GONE || st == KVM_PCPU_RESTARTED) {
			warnmsg("%s: writer %s", s.info.path,
			    st == KVM_PCPU_GONE ? "gone" :
						  "restarted (run again)");
			rc = 5;
			break;
		}
	}
	close_seg(&s);
	if (rc == 0 && bad_records != 0)
		rc = 7;
	return (rc);
}

#ifndef PCPUSTAT_NO_MAIN
int
main(int argc, char **argv)
{
	const char *what = NULL, *save = NULL;
	int ch, list = 0;
	struct sigaction sa;

	long_options(argc, argv);
	while ((ch = getopt(argc, argv, "cjf:i:lN:n:o:r:s:Sh")) != -1) {
		switch (ch) {
		case 'c':
			opt.percpu = 1;
			break;
		case 'j':
			opt.json = 1;
			break;
		case 'f':
			opt.glob = optarg;
			break;
		case 'i':
			opt.interval = strtod(optarg, NULL);
			if (!(opt.interval > 0 && opt.interval < 1e6)) {
				fprintf(stderr,
				    "pcpustat: -i %s: SECONDS must be above 0 "
				    "(one sample: leave -i out)\n",
				    optarg);
				usage();
			}
			break;
		case 'l':
			list = 1;
			break;
		case 'N':
			opt.count = strtol(optarg, NULL, 10);
			if (opt.count <= 0)
				usage();
			break;
		case 'n':
		case 'r':
			if (what != NULL)
				usage();
			what = optarg;
			/* -r is a file: make a bare name a path. */
			if (ch == 'r' && strchr(optarg, '/') == NULL) {
				char *p = malloc(strlen(optarg) + 3);

				if (p == NULL)
					return (1);
				sprintf(p, "./%s", optarg);
				what = p;
			}
			break;
		case 'o': /* the last -o wins */
			opt.json = opt.prom = 0;
			if (strcmp(optarg, "prom") == 0)
				opt.prom = 1;
			else if (strcmp(optarg, "json") == 0)
				opt.json = 1;
			else if (strcmp(optarg, "text") != 0) {
				fprintf(stderr,
				    "pcpustat: -o %s: text, json or prom\n",
				    optarg);
				usage();
			}
			break;
		case 's':
			save = optarg;
			break;
		case 'S':
			opt.stale = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (list && what != NULL) || (!list && what == NULL))
		usage();
	/* No SA_RESTART: a signal interrupts a sleep or a blocked write,
	 * and every loop checks stop: pcpustat ends within milliseconds. */
	if (opt.prom && (opt.json || opt.interval > 0 || list)) {
		fprintf(stderr,
		    "pcpustat: -o prom is one sample of one "
		    "segment: not with -j, -i or -l\n");
		usage();
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (list)
		return (list_segments());
	return (show(what, save));
}
#endif /* PCPUSTAT_NO_MAIN */
