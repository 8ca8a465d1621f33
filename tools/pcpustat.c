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
 *	possible CPU; raw-byte objects show their bytes with -c.  Element
 *	lists longer than 16 are cut in the text output (JSON: 1024).
 *
 * EXIT STATUS (by error class; kvm_pcpu.h ERRORS has the messages)
 *	0  success
 *	1  another error (I/O, out of memory, snapshot not written)
 *	2  usage
 *	3  no such segment or file (ENOENT)
 *	4  permission denied, or not trusted (EACCES, EPERM)
 *	5  writer gone or restarted (ESTALE; interval mode too)
 *	6  bad magic, unsupported version or byte order (EPROTO)
 *	7  corrupt segment (EBADMSG), or a corrupt record (the others are
 *	   shown first)
 *	8  not ready, or a counters set stayed busy (EAGAIN)
 */
#define _POSIX_C_SOURCE 200809L
#define PERCPU_IMPLEMENTATION
#include "kvm_pcpu.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SHOW_TEXT 16   /* elements shown in text */
#define SHOW_JSON 1024 /* elements shown in JSON */

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

/* ---- One sample of one object ---- */

/*
 * A value: unsigned (counters, uN), signed (iN) or floating (fN), summed
 * in its own arithmetic.
 */
struct val {
	uint64_t u;
	int64_t i;
	double d;
};

struct obj {
	struct kvm_pcpu_entry e;
	unsigned n;	    /* elements */
	struct val *sum;    /* [n] */
	struct val *cpu;    /* [ncpus * n], with -c */
	unsigned char *raw; /* raw bytes: [ncpus * size], with -c */
	int err;	    /* reading failed: message in msg */
	char msg[KVM_PCPU_ERRSZ];
};

struct seg {
	kvm_t *kd;
	struct kvm_pcpu_info info;
	unsigned ncpu;
	int *cpus;	   /* possible CPU ids, ascending */
	uint64_t *dynamic; /* pc_dynamic per listed CPU */
	struct obj *objs;
	unsigned nobjs;
};

/* Decode element @k of format @fmt at @p into @v (added to it). */
static void
add_elem(struct val *v, unsigned fmt, const unsigned char *p)
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
		v->i += i8;
		break;
	case PERCPU_SEG_FMT_I16:
		memcpy(&i16, p, 2);
		v->i += i16;
		break;
	case PERCPU_SEG_FMT_I32:
		memcpy(&i32, p, 4);
		v->i += i32;
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

/* The class of a format: 'u', 'i', 'f' or 0 (raw bytes). */
static int
fmt_class(unsigned kind, unsigned fmt)
{
	if (kind == KVM_PCPU_KIND_COUNTER_U64 || kind == KVM_PCPU_KIND_COUNTERS)
		return ('u');
	if (fmt >= PERCPU_SEG_FMT_U8 && fmt <= PERCPU_SEG_FMT_U64)
		return ('u');
	if (fmt >= PERCPU_SEG_FMT_I8 && fmt <= PERCPU_SEG_FMT_I64)
		return ('i');
	if (fmt == PERCPU_SEG_FMT_F32 || fmt == PERCPU_SEG_FMT_F64)
		return ('f');
	return (0);
}

static double
val_double(const struct val *v, int cls)
{
	return (cls == 'u' ? (double)v->u : cls == 'i' ? (double)v->i : v->d);
}

/* Read object @o of @s: sums, and per CPU with -c.  0, or -1 (o->msg). */
static int
read_obj(struct seg *s, struct obj *o)
{
	struct kvm_pcpu_entry *e = &o->e;
	unsigned c, k;
	unsigned char *buf = NULL;
	uint64_t *set = NULL;

	memset(o->sum, 0, o->n * sizeof(*o->sum));
	if (o->cpu != NULL)
		memset(o->cpu, 0, (size_t)s->ncpu * o->n * sizeof(*o->cpu));
	if (e->kind == KVM_PCPU_KIND_COUNTERS)
		set = malloc(o->n * sizeof(*set));
	else if (e->kind != KVM_PCPU_KIND_COUNTER_U64)
		buf = malloc(e->size);
	if ((e->kind == KVM_PCPU_KIND_COUNTERS && set == NULL) ||
	    (e->kind != KVM_PCPU_KIND_COUNTERS &&
		e->kind != KVM_PCPU_KIND_COUNTER_U64 && buf == NULL)) {
		snprintf(o->msg, sizeof(o->msg), "out of memory");
		return (-1);
	}
	for (c = 0; c < s->ncpu; c++) {
		int cpu = s->cpus[c];
		struct val *pc =
		    o->cpu != NULL ? &o->cpu[(size_t)c * o->n] : NULL;
		struct val one[1];
		int rc = 0;

		switch (e->kind) {
		case KVM_PCPU_KIND_COUNTER_U64:
			memset(one, 0, sizeof(one));
			rc = kvm_pcpu_counter_u64_cpu(s->kd, e->base, cpu,
			    &one[0].u);
			o->sum[0].u += one[0].u;
			if (pc != NULL)
				pc[0] = one[0];
			break;
		case KVM_PCPU_KIND_COUNTERS:
			rc = kvm_pcpu_counters_read(s->kd, e->base, o->n, cpu,
			    set);
			for (k = 0; rc == 0 && k < o->n; k++) {
				o->sum[k].u += set[k];
				if (pc != NULL)
					pc[k].u = set[k];
			}
			break;
		default:
			if (e->kind == KVM_PCPU_KIND_DPCPU)
				rc = kvm_read(s->kd,
					 (unsigned long)(e->base +
					     s->dynamic[c]),
					 buf, e->size) == (ssize_t)e->size ?
				    0 :
				    -1;
			else
				rc = kvm_read_zpcpu(s->kd, e->base, buf,
					 e->size, cpu) == (ssize_t)e->size ?
				    0 :
				    -1;
			if (rc != 0)
				break;
			if (o->raw != NULL)
				memcpy(o->raw + (size_t)c * e->size, buf,
				    e->size);
			for (k = 0; fmt_class(e->kind, e->fmt) != 0 && k < o->n;
			     k++) {
				const unsigned char *p =
				    buf + (size_t)k * fmt_size[e->fmt];

				add_elem(&o->sum[k], e->fmt, p);
				if (pc != NULL)
					add_elem(&pc[k], e->fmt, p);
			}
		}
		if (rc != 0) {
			snprintf(o->msg, sizeof(o->msg), "%s",
			    kvm_geterr(s->kd));
			free(buf);
			free(set);
			return (-1);
		}
	}
	free(buf);
	free(set);
	return (0);
}

/* ---- Opening and listing the objects ---- */

static int
open_seg(struct seg *s, const char *what)
{
	char err[KVM_PCPU_ERRSZ];
	int maxcpu, cpu;

	memset(s, 0, sizeof(*s));
	s->kd = kvm_pcpu_open(what, opt.stale ? KVM_PCPU_STALE_OK : 0, err);
	if (s->kd == NULL) {
		int e = errno;

		fprintf(stderr, "pcpustat: %s\n", err);
		return (exit_class(e));
	}
	if (kvm_pcpu_info(s->kd, &s->info) != 0 ||
	    (maxcpu = kvm_getmaxcpu(s->kd)) < 0) {
		fprintf(stderr, "pcpustat: %s\n", kvm_geterr(s->kd));
		return (exit_class(kvm_pcpu_errno(s->kd)));
	}
	s->cpus = malloc((size_t)maxcpu * sizeof(*s->cpus));
	s->dynamic = malloc((size_t)maxcpu * sizeof(*s->dynamic));
	if (s->cpus == NULL || s->dynamic == NULL) {
		fprintf(stderr, "pcpustat: out of memory\n");
		return (1);
	}
	/* libmemstat's walk: 0..maxcpu-1, skipping absent CPUs. */
	for (cpu = 0; cpu < maxcpu; cpu++) {
		struct pcpu *p = kvm_getpcpu(s->kd, cpu);

		if (p == NULL)
			continue;
		if (p == (void *)-1) {
			fprintf(stderr, "pcpustat: %s\n", kvm_geterr(s->kd));
			return (exit_class(kvm_pcpu_errno(s->kd)));
		}
		s->cpus[s->ncpu] = cpu;
		s->dynamic[s->ncpu++] = p->pc_dynamic;
		free(p);
	}
	return (0);
}

/* Pick up registry records published since the last call. */
static int
scan_objs(struct seg *s)
{
	unsigned i, n = kvm_pcpu_nentries(s->kd);

	for (i = 0; i < n; i++) {
		struct kvm_pcpu_entry e;
		struct obj *o;
		unsigned j;
		int rc = kvm_pcpu_entry(s->kd, i, &e);

		if (rc < 0) {
			fprintf(stderr, "pcpustat: %s\n", kvm_geterr(s->kd));
			bad_records++;
			continue;
		}
		if (rc > 0)
			continue;
		if (opt.glob != NULL && fnmatch(opt.glob, e.name, 0) != 0)
			continue;
		for (j = 0; j < s->nobjs; j++)
			if (s->objs[j].e.reg_id == e.reg_id)
				break;
		if (j < s->nobjs)
			continue;
		o = realloc(s->objs, (s->nobjs + 1) * sizeof(*o));
		if (o == NULL)
			return (-1);
		s->objs = o;
		o = &s->objs[s->nobjs];
		memset(o, 0, sizeof(*o));
		o->e = e;
		o->n = e.kind == KVM_PCPU_KIND_COUNTER_U64 ? 1 :
		    fmt_class(e.kind, e.fmt) == 0	   ? 0 :
							     e.count;
		o->sum = calloc(o->n + 1, sizeof(*o->sum));
		if (opt.percpu) {
			o->cpu =
			    calloc((size_t)s->ncpu * o->n + 1, sizeof(*o->cpu));
			if (o->n == 0)
				o->raw = calloc((size_t)s->ncpu, e.size);
		}
		if (o->sum == NULL || (opt.percpu && o->cpu == NULL) ||
		    (opt.percpu && o->n == 0 && o->raw == NULL))
			return (-1);
		s->nobjs++;
	}
	return (0);
}

/* ---- Output ---- */

/* @v as text, in its class's arithmetic. */
static const char *
val_str(char *b, size_t n, const struct val *v, int cls)
{
	if (cls == 'u')
		snprintf(b, n, "%" PRIu64, v->u);
	else if (cls == 'i')
		snprintf(b, n, "%" PRId64, v->i);
	else
		snprintf(b, n, "%.17g", v->d);
	return (b);
}

static void
print_val(FILE *f, const struct val *v, int cls)
{
	char b[64];

	fputs(val_str(b, sizeof(b), v, cls), f);
}

static void
print_hex(FILE *f, const unsigned char *p, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < n && i < max; i++)
		fprintf(f, "%02x", p[i]);
	if (n > max)
		fprintf(f, "...");
}

static void
print_text(struct seg *s, struct obj *prev, double dt)
{
	unsigned j, k, c;

	printf("%-32s %-14s %20s%s\n", "NAME", "KIND", "VALUE",
	    prev != NULL ? "          RATE/s" : "");
	for (j = 0; j < s->nobjs; j++) {
		struct obj *o = &s->objs[j];
		int cls = fmt_class(o->e.kind, o->e.fmt);
		char kind[32], name[300], num[64];

		if (o->e.kind == KVM_PCPU_KIND_COUNTER_U64)
			snprintf(kind, sizeof(kind), "counter");
		else if (o->e.kind == KVM_PCPU_KIND_COUNTERS)
			snprintf(kind, sizeof(kind), "counters");
		else
			snprintf(kind, sizeof(kind), "%s %s",
			    kind_name(o->e.kind), fmt_names[o->e.fmt]);
		if (o->err) {
			printf("%-32s %-14s error: %s\n", o->e.name, kind,
			    o->msg);
			continue;
		}
		if (o->n == 0) {
			printf("%-32s %-14s %14zu bytes\n", o->e.name, kind,
			    o->e.size);
			for (c = 0; o->raw != NULL && c < s->ncpu; c++) {
				printf("    cpu %-5d ", s->cpus[c]);
				print_hex(stdout,
				    o->raw + (size_t)c * o->e.size, o->e.size,
				    32);
				printf("\n");
			}
			continue;
		}
		for (k = 0; k < o->n && k < SHOW_TEXT; k++) {
			if (o->n > 1 || o->e.kind == KVM_PCPU_KIND_COUNTERS)
				snprintf(name, sizeof(name), "%s[%u]",
				    o->e.name, k);
			else
				snprintf(name, sizeof(name), "%s", o->e.name);
			printf("%-32s %-14s %20s", name, kind,
			    val_str(num, sizeof(num), &o->sum[k], cls));
			if (prev != NULL && dt > 0)
				printf("  %14.1f",
				    (val_double(&o->sum[k], cls) -
					val_double(&prev[j].sum[k], cls)) /
					dt);
			printf("\n");
			for (c = 0; o->cpu != NULL && c < s->ncpu; c++)
				printf("    cpu %-5d %54s\n", s->cpus[c],
				    val_str(num, sizeof(num),
					&o->cpu[(size_t)c * o->n + k], cls));
		}
		if (o->n > SHOW_TEXT)
			printf("%-32s (%u more elements)\n", "",
			    o->n - SHOW_TEXT);
	}
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

static void
print_json(struct seg *s, struct obj *prev, double dt, uint64_t t)
{
	unsigned j, k, c, i;

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
	if (prev != NULL)
		printf(",\"interval_s\":%.6f", dt);
	printf(",\"objects\":[");
	for (j = 0; j < s->nobjs; j++) {
		struct obj *o = &s->objs[j];
		int cls = fmt_class(o->e.kind, o->e.fmt);
		unsigned n = o->n < SHOW_JSON ? o->n : SHOW_JSON;
		int list = o->n != 1 || o->e.kind == KVM_PCPU_KIND_COUNTERS;

		printf("%s{\"name\":\"%s\",\"kind\":\"%s\",\"format\":\"%s\","
		       "\"size\":%zu,\"count\":%u",
		    j ? "," : "", o->e.name, kind_name(o->e.kind),
		    o->e.kind == KVM_PCPU_KIND_COUNTER_U64 ||
			    o->e.kind == KVM_PCPU_KIND_COUNTERS ?
			"u64" :
			fmt_names[o->e.fmt],
		    o->e.size, o->e.count);
		if (o->err) {
			printf(",\"error\":");
			json_str(o->msg);
			printf("}");
			continue;
		}
		if (o->n > n)
			printf(",\"truncated\":true");
		if (o->n > 0) {
			printf(",\"value\":%s", list ? "[" : "");
			for (k = 0; k < n; k++) {
				printf("%s", k ? "," : "");
				print_val(stdout, &o->sum[k], cls);
			}
			printf("%s", list ? "]" : "");
		}
		if (prev != NULL && o->n > 0 && dt > 0) {
			printf(",\"rate\":%s", list ? "[" : "");
			for (k = 0; k < n; k++)
				printf("%s%.6g", k ? "," : "",
				    (val_double(&o->sum[k], cls) -
					val_double(&prev[j].sum[k], cls)) /
					dt);
			printf("%s", list ? "]" : "");
		}
		if (o->cpu != NULL || o->raw != NULL) {
			printf(",\"per_cpu\":{");
			for (c = 0; c < s->ncpu; c++) {
				printf("%s\"%d\":", c ? "," : "", s->cpus[c]);
				if (o->n == 0) {
					printf("\"");
					print_hex(stdout,
					    o->raw + (size_t)c * o->e.size,
					    o->e.size, SHOW_JSON);
					printf("\"");
					continue;
				}
				printf("%s", list ? "[" : "");
				for (k = 0; k < n; k++) {
					printf("%s", k ? "," : "");
					print_val(stdout,
					    &o->cpu[(size_t)c * o->n + k], cls);
				}
				printf("%s", list ? "]" : "");
			}
			printf("}");
		}
		printf("}");
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

/* One sample line: NAME{segment=..,[cpu=..,][index=..]} VALUE. */
static void
prom_sample(const char *metric, const struct seg *s, int cpu, int index,
    const struct val *v, int cls)
{
	char b[64];

	printf("%s{segment=\"", metric);
	prom_escape(prom_segment(s), 1);
	printf("\"");
	if (cpu >= 0)
		printf(",cpu=\"%d\"", cpu);
	if (index >= 0)
		printf(",index=\"%d\"", index);
	printf("} %s\n", val_str(b, sizeof(b), v, cls));
}

static void
print_prom(struct seg *s)
{
	unsigned j, k, c;

	for (j = 0; j < s->nobjs; j++) {
		struct obj *o = &s->objs[j];
		int cls = fmt_class(o->e.kind, o->e.fmt);
		int counter = o->e.kind == KVM_PCPU_KIND_COUNTER_U64 ||
		    o->e.kind == KVM_PCPU_KIND_COUNTERS;
		int list = o->n != 1 || o->e.kind == KVM_PCPU_KIND_COUNTERS;
		const char *type = counter ? "counter" : "gauge";
		const char *sfx = counter ? "_total" : "";
		char name[300], metric[320];

		prom_name(name, sizeof(name), o->e.name);
		if (o->err || o->n == 0) {
			printf("# %s: %s skipped (%s)\n", name, o->e.name,
			    o->err ? o->msg : "raw bytes");
			continue;
		}
		snprintf(metric, sizeof(metric), "%s%s", name, sfx);
		printf("# HELP %s %s ", metric, kind_name(o->e.kind));
		prom_escape(o->e.name, 0);
		printf(", summed over every possible CPU\n");
		printf("# TYPE %s %s\n", metric, type);
		for (k = 0; k < o->n; k++)
			prom_sample(metric, s, -1, list ? (int)k : -1,
			    &o->sum[k], cls);
		snprintf(metric, sizeof(metric), "%s_per_cpu%s", name, sfx);
		printf("# HELP %s %s ", metric, kind_name(o->e.kind));
		prom_escape(o->e.name, 0);
		printf(", per possible CPU\n");
		printf("# TYPE %s %s\n", metric, type);
		for (c = 0; o->cpu != NULL && c < s->ncpu; c++)
			for (k = 0; k < o->n; k++)
				prom_sample(metric, s, s->cpus[c],
				    list ? (int)k : -1,
				    &o->cpu[(size_t)c * o->n + k], cls);
	}
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
		fprintf(stderr, "pcpustat: %s: %s\n", dir, strerror(errno));
		return (1);
	}
	if (!opt.json)
		printf("%-24s %8s %5s %7s %-9s %s\n", "NAME", "PID", "CPUS",
		    "OBJECTS", "STATUS", "PATH");
	else
		printf("[");
	while ((d = readdir(dp)) != NULL) {
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
		} else
			printf("%-24s %8" PRIu64 " %5u %7u %-9s %s\n",
			    strncmp(name, prefix, strlen(prefix)) == 0 ? p + 1 :
									 path,
			    info.pid, info.ncpu, info.entries,
			    status_name(kvm_pcpu_status(kd)), path);
		shown++;
		kvm_close(kd);
	}
	closedir(dp);
	if (opt.json)
		printf("]\n");
	else if (skipped != 0)
		printf("(%u more not readable by this user)\n", skipped);
	return (0);
}

/* Release everything of @s. */
static void
close_seg(struct seg *s)
{
	unsigned j;

	for (j = 0; j < s->nobjs; j++) {
		free(s->objs[j].sum);
		free(s->objs[j].cpu);
		free(s->objs[j].raw);
	}
	free(s->objs);
	free(s->cpus);
	free(s->dynamic);
	if (s->kd != NULL)
		kvm_close(s->kd);
	memset(s, 0, sizeof(*s));
}

/* Free the sums kept from the last sample. */
static void
free_prev(struct obj *prev, unsigned n)
{
	unsigned j;

	for (j = 0; prev != NULL && j < n; j++)
		free(prev[j].sum);
	free(prev);
}

static int
show(const char *what, const char *save)
{
	struct seg s;
	struct obj *prev = NULL;
	uint64_t t0 = 0, t;
	long samples = 0;
	int rc, st;
	unsigned j;

	if ((rc = open_seg(&s, what)) != 0) {
		close_seg(&s);
		return (rc);
	}
	if (save != NULL) {
		if (kvm_pcpu_snapshot(s.kd, save) != 0) {
			fprintf(stderr, "pcpustat: %s\n", kvm_geterr(s.kd));
			return (1);
		}
		if (!opt.json)
			printf("saved %s\n", save);
		close_seg(&s);
		return (0);
	}
	for (;;) {
		if (scan_objs(&s) != 0) {
			fprintf(stderr, "pcpustat: out of memory\n");
			return (1);
		}
		t = now_ns();
		for (j = 0; j < s.nobjs; j++) {
			s.objs[j].err = read_obj(&s, &s.objs[j]) != 0;
			if (s.objs[j].err && kvm_pcpu_errno(s.kd) == EAGAIN)
				rc = rc != 0 ? rc : 8;
		}
		(void)kvm_pcpu_info(s.kd, &s.info);
		if (opt.json)
			print_json(&s, prev, (double)(t - t0) / 1e9, t);
		else if (opt.prom)
			print_prom(&s);
		else {
			if (samples == 0)
				printf("%s: pid %" PRIu64 ", %u CPUs (maxcpu "
				       "%u), %s\n",
				    s.info.path, s.info.pid, s.ncpu,
				    s.info.maxcpu,
				    s.info.live ? "live" : "snapshot");
			if (opt.interval > 0)
				printf("-- sample %ld\n", samples + 1);
			print_text(&s, prev, (double)(t - t0) / 1e9);
		}
		fflush(stdout);
		samples++;
		if (opt.interval <= 0 || stop ||
		    (opt.count > 0 && samples >= opt.count))
			break;
		/* Keep this sample's sums for the rates of the next. */
		free_prev(prev, s.nobjs);
		prev = malloc(s.nobjs * sizeof(*prev) + 1);
		if (prev == NULL)
			return (1);
		for (j = 0; j < s.nobjs; j++) {
			prev[j] = s.objs[j];
			prev[j].sum =
			    malloc((s.objs[j].n + 1) * sizeof(struct val));
			if (prev[j].sum == NULL)
				return (1);
			memcpy(prev[j].sum, s.objs[j].sum,
			    s.objs[j].n * sizeof(struct val));
		}
		t0 = t;
		{
			struct timespec ts;

			ts.tv_sec = (time_t)opt.interval;
			ts.tv_nsec =
			    (long)((opt.interval - (double)ts.tv_sec) * 1e9);
			while (
			    nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop)
				;
		}
		if (stop)
			break;
		st = kvm_pcpu_status(s.kd);
		if (st == KVM_PCPU_GONE || st == KVM_PCPU_RESTARTED) {
			fprintf(stderr, "pcpustat: %s: writer %s\n",
			    s.info.path,
			    st == KVM_PCPU_GONE ? "gone" :
						  "restarted (run again)");
			rc = 5;
			break;
		}
		/* Objects registered since come in with their first sample;
		 * the rates need an older one, so extend prev with zeros. */
		{
			unsigned old = s.nobjs;

			if (scan_objs(&s) != 0)
				return (1);
			if (s.nobjs > old) {
				struct obj *p =
				    realloc(prev, s.nobjs * sizeof(*prev));

				if (p == NULL)
					return (1);
				prev = p;
				for (j = old; j < s.nobjs; j++) {
					prev[j] = s.objs[j];
					prev[j].sum = calloc(s.objs[j].n + 1,
					    sizeof(struct val));
				}
			}
		}
	}
	free_prev(prev, s.nobjs);
	close_seg(&s);
	if (rc == 0 && bad_records != 0)
		rc = 7;
	return (rc);
}

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
		case 'o':
			if (strcmp(optarg, "prom") == 0)
				opt.prom = opt.percpu = 1;
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
