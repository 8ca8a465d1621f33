/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kvm_pcpu.h - FreeBSD's kvm_getpcpu(3) family for this toolkit: read
 * another process's per-CPU variables and counters by name, live or from
 * a snapshot, as vmstat and netstat read a kernel's.
 *
 * USAGE
 *	In exactly one .c file of the reading program:
 *
 *		#define PERCPU_IMPLEMENTATION
 *		#include "kvm_pcpu.h"
 *
 *	everywhere else just #include "kvm_pcpu.h".  The reader needs none
 *	of the toolkit's other headers, nor the writer's build variant: a
 *	UP build, another compiler or a 32-bit tool reads a 64-bit MP
 *	writer.  Then:
 *
 *		char err[KVM_PCPU_ERRSZ];
 *		kvm_t *kd = kvm_pcpu_open("myserver", 0, err);	// live
 *		struct kvm_nlist nl[] = {{.n_name = "rx_packets"},
 *		    {.n_name = "_pkts"}, {.n_name = NULL}};
 *
 *		if (kd == NULL)
 *			errx(1, "%s", err);		// errno: the class
 *		kvm_nlist(kd, nl);
 *		printf("%ju\n", (uintmax_t)kvm_counter_u64_fetch(kd,
 *		    nl[0].n_value));
 *		kvm_dpcpu_setcpu(kd, 1);		// DPCPU names now
 *		nl[1].n_type = 0;			// resolve to CPU 1
 *		kvm_nlist(kd, &nl[1]);
 *		kvm_read(kd, nl[1].n_value, &v, sizeof(v));
 *		kvm_close(kd);
 *
 *	The writer side is percpu_export.h.  The segment format is
 *	percpu/seg.h.
 *
 * OPENING
 *	kvm_t *kvm_pcpu_open(const char *what, int flags, char *errbuf)
 *		@what is one of:
 *		  NAME			the live segment the calling user's
 *					program exports as NAME
 *					(/dev/shm/pcpu.<euid>.NAME);
 *		  /dev/shm/pcpu.UID.NAME  a live segment by path (another
 *					user's, for root);
 *		  any other path	a snapshot file.
 *		flags: KVM_PCPU_STALE_OK opens a live segment whose writer is
 *		gone (post-mortem on a leftover segment); KVM_PCPU_COPY reads
 *		a live segment once into private memory, as a snapshot.
 *		@errbuf (KVM_PCPU_ERRSZ bytes, or NULL) gets the message on
 *		failure; errno gets the class (see ERRORS).  Live segments
 *		are read with pread(2), never mapped (see TRUST); snapshots
 *		are copied into private memory (holes stay unbacked) and
 *		validated there: no SIGBUS, no time-of-check race.  An open
 *		never waits and never blocks.
 *	kvm_t *kvm_pcpu_open_image(const void *image, size_t size, int
 *	    flags, char *errbuf)
 *		The same bytes already in memory (a firmware RAM dump): the
 *		image is used in place (8-byte aligned; the caller keeps it
 *		unchanged until kvm_close, or calls kvm_getmaxcpu(NULL) after
 *		replacing it).
 *	int kvm_close(kvm_t *kd)
 *
 * THE SEED'S FUNCTIONS (kvm_getpcpu(3); FreeBSD names and semantics)
 *	int kvm_getmaxcpu(kvm_t *kd)
 *		Highest possible CPU id + 1, or -1.
 *	int kvm_getncpus(kvm_t *kd)
 *		The number of possible CPUs, or -1.
 *	void *kvm_getpcpu(kvm_t *kd, int cpu)
 *		A malloc'ed copy of CPU @cpu's struct pcpu (percpu/seg.h);
 *		the caller frees it.  NULL if @cpu is not a possible CPU
 *		(absent, >= maxcpu or negative); (void *)-1 on error.
 *	int kvm_dpcpu_setcpu(kvm_t *kd, unsigned int cpu)
 *		Select the CPU whose instance kvm_nlist() returns for DPCPU
 *		names (default CPU 0).  0, or -1 with libkvm's messages:
 *		"kvm_dpcpu_setcpu: init failed" (the segment has no DPCPU
 *		template), "_kvm_dpcpu_setcpu: CPU %u too big",
 *		"_kvm_dpcpu_setcpu: CPU %u not found".
 *	int kvm_nlist(kvm_t *kd, struct kvm_nlist *nl)
 *		Resolve the names of @nl (ended by a NULL or empty n_name).
 *		As libkvm, only entries with n_type 0 are looked up (clear
 *		n_type before resolving again after kvm_dpcpu_setcpu).  A
 *		name is tried as given with one leading '_' dropped; then, if
 *		unresolved, with the DPCPU prefix "pcpu_entry_" (the '_'
 *		dropped first: "_pkts" finds "pcpu_entry_pkts").  A DPCPU
 *		variable found through the prefix gets the selected CPU's
 *		instance (template + pc_dynamic of that CPU; the template if
 *		CPU 0 is absent and none was selected); a name given with the
 *		prefix itself gets the template, as in libkvm.  Other objects
 *		get their base: the unit-0 copy, for kvm_read_zpcpu() and
 *		kvm_counter_u64_fetch().  n_type is the kind
 *		(KVM_PCPU_KIND_*), n_other the element format, plus the
 *		extensions n_size and n_count.  Return: the number of names
 *		not found (also recorded in the error buffer: "kvm_nlist: %d
 *		names not found"), or -1 on error.
 *	ssize_t kvm_read(kvm_t *kd, unsigned long addr, void *buf, size_t n)
 *		@n bytes at segment offset @addr; @n, or -1.
 *	ssize_t kvm_read_zpcpu(kvm_t *kd, unsigned long base, void *buf,
 *	    size_t size, int cpu)
 *		@size bytes of CPU @cpu's copy of the per-CPU object whose
 *		unit-0 copy is at @base (base + pc_unit * stride: FreeBSD's
 *		zpcpu arithmetic with sparse ids).  @size, or -1; 0 if the CPU
 *		table cannot be (re)loaded, as libkvm.
 *	uint64_t kvm_counter_u64_fetch(kvm_t *kd, unsigned long base)
 *		The counter(9) value at @base, summed over every possible CPU
 *		(sparse ids; never 0..ncpu-1).  0 on any error, as libkvm.
 *	char *kvm_geterr(kvm_t *kd)
 *		The last error message of @kd; "" for NULL.
 *	Cache reset: kvm_getmaxcpu(NULL) and kvm_getpcpu(NULL, ...) make
 *	every handle of the process re-read and re-validate its header and
 *	CPU table (and forget the names it resolved) at its next call;
 *	kvm_getmaxcpu(NULL) returns 0, kvm_getpcpu(NULL, ...) NULL.  The
 *	caches themselves are per handle, never global (libkvm's XXXRW).
 *
 * ADDITIONS (kvm_pcpu_ prefix)
 *	int kvm_pcpu_counter_u64_fetch(kvm_t *kd, unsigned long base,
 *	    uint64_t *value)
 *		kvm_counter_u64_fetch() that reports errors: 0, or -1.
 *	int kvm_pcpu_counter_u64_cpu(kvm_t *kd, unsigned long base, int cpu,
 *	    uint64_t *value)
 *		One CPU's term of the counter (count - baseline).
 *	int kvm_pcpu_counters_read(kvm_t *kd, unsigned long base, unsigned n,
 *	    int cpu, uint64_t *out)
 *		An OpenBSD counters_alloc(9) set of @n counters: out[i] = the
 *		sum over CPUs (cpu -1) or one CPU's value, each CPU's set read
 *		consistently with the generation protocol.
 *	int kvm_pcpu_cpu_possible(kvm_t *kd, int cpu)
 *		1 if @cpu is a possible CPU, else 0.
 *	unsigned kvm_pcpu_nentries(kvm_t *kd)
 *	int kvm_pcpu_entry(kvm_t *kd, unsigned i, struct kvm_pcpu_entry *e)
 *		Walk the registry: records [0, nentries).  0: *@e is a live
 *		object; 1: record @i is not in use (unregistered, or a kind
 *		this reader does not know); -1: record @i is corrupt (message
 *		in kvm_geterr; the others are still readable).
 *	int kvm_pcpu_status(kvm_t *kd)
 *		KVM_PCPU_RUNNING, KVM_PCPU_GONE (the writer exited or closed
 *		the segment), KVM_PCPU_RESTARTED (the name now belongs to a new
 *		writer: reopen), KVM_PCPU_SNAPSHOT (a snapshot or image), or -1.
 *		Reads of a gone writer's segment still return its last values.
 *	int kvm_pcpu_info(kvm_t *kd, struct kvm_pcpu_info *info)
 *	int kvm_pcpu_snapshot(kvm_t *kd, const char *path)
 *		Save the segment as a snapshot file (mode 0600, written to
 *		"<path>.tmp" and renamed; holes stay holes).
 *
 * ERRORS (errno after a failed open; kvm_pcpu_errno() after any call)
 *	ENOENT	"<path>: no such segment" (nobody exports that name) or
 *		"<path>: no such file".
 *	EACCES	"<path>: permission denied (owner uid U, mode 0600)": the
 *		segment exists but belongs to another user.  Never reported
 *		as "not running".
 *	EPERM	"<path>: not trusted: ...": "a FIFO, not a segment (planted
 *		by uid U: remove it)" (or a directory, a device), "a symbolic
 *		link, not a segment (planted: remove it)", "owned by uid U,
 *		but its name claims uid C (planted by uid U: remove it)",
 *		"writable by group or others (mode M)".  See TRUST.
 *	ESTALE	"<path>: writer gone: ..." ("pid P no longer holds it (it
 *		exited, was killed or exec'ed)", or "closed by pid P").
 *	EPROTO	"<path>: bad magic: not a pcpu segment", "<path>: version
 *		M.m not supported (this reader reads 1.x)", "<path>: written
 *		with the other byte order".
 *	EBADMSG	"<path>: corrupt: <what>": a field out of range, a region
 *		outside the segment or overlapping another, an inconsistent
 *		CPU table, a bad record; "truncated while being read (...):
 *		its owner shrank it" (any later read of a live segment).
 *	EAGAIN	"<path>: not ready: state INIT, ..." (a writer publishes its
 *		segment only once it is ready: a file still INIT is a crashed
 *		start or no segment), or a counters set that stayed busy
 *		through every retry.
 *	EINVAL	a bad argument (an address outside the segment, a CPU that
 *		is not possible, a bad name).
 *	ENOMEM	out of memory.
 *
 * THREAT MODEL
 *	Every byte of a segment, snapshot or image is hostile: each offset
 *	and length is checked, with overflow checks, before it is used; the
 *	header and CPU table are validated once into private memory and
 *	then never read again from a live segment; registry records and
 *	names are copied before they are checked; loops over the file are
 *	bounded by validated counts; every retry loop is bounded; nothing
 *	asserts or aborts.  One bad record does not make the others
 *	unreadable.  The files are hostile too (other local users plant
 *	files at segment names in /dev/shm): see TRUST.
 *
 * TRUST (live segments, and KVM_PCPU_COPY of one)
 *	The name is opened without blocking (a FIFO there is no hang),
 *	without following a link, close-on-exec; then fstat: it must be a
 *	regular file, owned by the uid its name claims (pcpu.<uid>.<name>)
 *	or by the caller (root included: root trusts no other user's file
 *	under root's name), writable by nobody else.  Then it is read with
 *	pread(2), never mapped: a file that its owner truncates under the
 *	reader is a short read, an error (EBADMSG), never SIGBUS; and
 *	reading a hole of the writer's tmpfs file copies zeros without
 *	allocating memory there (a read fault on a shared mapping would).
 *	Liveness: a writer holds an exclusive flock(2) on its segment,
 *	through a close-on-exec descriptor, from before the name leads to
 *	it; the kernel drops the lock when the writer exits, is killed
 *	(a zombie holds nothing) or execs.  A reader tests it with a shared
 *	lock taken and dropped at once: an unlocked segment is stale.
 *	Snapshot files may belong to anyone (they are copied and validated
 *	privately); they must be regular files and are opened without
 *	blocking.
 *
 * MEMORY ORDERING
 *	Registry: acquire on reg_count and on each record's state; pairs
 *	with the writer's release stores (percpu_export.h).  counter(9):
 *	acquire on each CPU's baseline before its count; pairs with the
 *	release in counter_u64_zero() (counter.h).  counters(9): OpenBSD's
 *	generation protocol, acquire on the generation and an acquire fence
 *	before the re-check; pairs with the release fences in
 *	counters_enter/leave (cpumem.h).  Snapshots and images: 64-bit
 *	words are read with lock-free atomic loads (never torn); where the
 *	reader's 64-bit atomics are not lock-free, a word is read twice
 *	until both reads agree (bounded).  Live segments: each word is
 *	copied by pread(2) (the kernel copies an aligned word whole on the
 *	ports this toolkit targets), and an acquire fence after the copy
 *	stands for the acquire load.
 *
 * CONTEXT
 *	A kvm_t is used by one thread at a time (as libkvm's); different
 *	handles are independent.  Not async-signal-safe.
 *
 * CONFIGURATION
 *	KVM_PCPU_MAX_SIZE	global: the largest segment or snapshot
 *				accepted (default 2^40 bytes on 64-bit hosts,
 *				2^30 on 32-bit ones).
 *
 * NAMES
 *	libkvm's names for its functions and for the handle type kvm_t
 *	(Linux has no <kvm.h>; on a BSD, do not include both); additions
 *	are kvm_pcpu_*, internals kvm_pcpu_priv_*.  struct kvm_nlist is
 *	libkvm's struct nlist, renamed so as not to meet <nlist.h>.
 */
#ifndef KVM_PCPU_H
#define KVM_PCPU_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "percpu/seg.h"

PERCPU_BEGIN_DECLS /* C++: extern "C" up to the end of this header */

/* The handle (opaque).  libkvm's type name. */
typedef struct kvm_pcpu kvm_t;

/* The largest segment or snapshot accepted (see CONFIGURATION). */
#ifndef KVM_PCPU_MAX_SIZE
# if SIZE_MAX > 0xffffffffu
#  define KVM_PCPU_MAX_SIZE ((uint64_t)1 << 40)
# else
#  define KVM_PCPU_MAX_SIZE ((uint64_t)1 << 30)
# endif
#endif

/* Bytes of an error buffer: libkvm's _POSIX2_LINE_MAX. */
#define KVM_PCPU_ERRSZ 2048

/* kvm_pcpu_open() flags. */
#define KVM_PCPU_STALE_OK 0x1 /* open a live segment whose writer is gone */
#define KVM_PCPU_COPY 0x2     /* read a live segment once, as a snapshot */

/* Kinds (struct kvm_nlist n_type, struct kvm_pcpu_entry kind). */
#define KVM_PCPU_N_UNDF 0 /* not resolved */
#define KVM_PCPU_KIND_COUNTER_U64 PERCPU_SEG_KIND_COUNTER_U64
#define KVM_PCPU_KIND_COUNTERS PERCPU_SEG_KIND_COUNTERS
#define KVM_PCPU_KIND_DPCPU PERCPU_SEG_KIND_DPCPU
#define KVM_PCPU_KIND_PCPU PERCPU_SEG_KIND_PCPU

/* kvm_pcpu_status() results. */
#define KVM_PCPU_RUNNING 0
#define KVM_PCPU_GONE 1
#define KVM_PCPU_RESTARTED 2
#define KVM_PCPU_SNAPSHOT 3

/* libkvm's struct nlist, plus two extensions. */
struct kvm_nlist {
	const char *n_name;    /* in: the name; NULL or "" ends the list */
	unsigned char n_type;  /* out: 0 (unresolved) or the kind */
	unsigned char n_other; /* out: element format (PERCPU_SEG_FMT_*) */
	unsigned short n_desc; /* out: 0 */
	unsigned long n_value; /* out: segment offset (see kvm_nlist) */
	size_t n_size;	       /* out: bytes per CPU (ext) */
	unsigned n_count;      /* out: elements, counters of a set (ext) */
};

/* One registry record, as kvm_pcpu_entry() returns it. */
struct kvm_pcpu_entry {
	char name[PERCPU_SEG_NAME_MAX + 1];
	unsigned kind;	    /* KVM_PCPU_KIND_* */
	unsigned fmt;	    /* PERCPU_SEG_FMT_* */
	unsigned long base; /* as kvm_nlist returns it without the prefix */
	size_t size;	    /* bytes per CPU */
	unsigned count;	    /* elements */
	uint64_t reg_id;    /* registration number */
	uint64_t reg_ns;    /* registration time, ns since the epoch */
};

/* What kvm_pcpu_info() reports. */
struct kvm_pcpu_info {
	char path[256];	       /* as opened (the /dev/shm path if live) */
	int live;	       /* 1: a live segment; 0: snapshot or image */
	unsigned major, minor; /* format version */
	unsigned ptr_size;     /* the writer's sizeof(void *) */
	unsigned atomic64;     /* the writer's 64-bit atomics are lock-free */
	unsigned maxcpu, ncpu;
	uint64_t stride, total_size;
	uint64_t pid;
	uint8_t instance[16];
	uint64_t start_ns, heartbeat_ns, snapshot_ns, generation;
	unsigned state;	  /* PERCPU_SEG_READY ... */
	unsigned entries; /* records published */
};

kvm_t *kvm_pcpu_open(const char *what, int flags, char *errbuf);
kvm_t *kvm_pcpu_open_image(const void *image, size_t size, int flags,
    char *errbuf);
int kvm_close(kvm_t *kd);
char *kvm_geterr(kvm_t *kd);
int kvm_pcpu_errno(kvm_t *kd);
int kvm_getmaxcpu(kvm_t *kd);
int kvm_getncpus(kvm_t *kd);
void *kvm_getpcpu(kvm_t *kd, int cpu);
int kvm_dpcpu_setcpu(kvm_t *kd, unsigned int cpu);
int kvm_nlist(kvm_t *kd, struct kvm_nlist *nl);
ssize_t kvm_read(kvm_t *kd, unsigned long addr, void *buf, size_t nbytes);
ssize_t kvm_read_zpcpu(kvm_t *kd, unsigned long base, void *buf, size_t size,
    int cpu);
uint64_t kvm_counter_u64_fetch(kvm_t *kd, unsigned long base);
int kvm_pcpu_counter_u64_fetch(kvm_t *kd, unsigned long base, uint64_t *value);
int kvm_pcpu_counter_u64_cpu(kvm_t *kd, unsigned long base, int cpu,
    uint64_t *value);
int kvm_pcpu_counters_read(kvm_t *kd, unsigned long base, unsigned n, int cpu,
    uint64_t *out);
int kvm_pcpu_cpu_possible(kvm_t *kd, int cpu);
unsigned kvm_pcpu_nentries(kvm_t *kd);
int kvm_pcpu_entry(kvm_t *kd, unsigned i, struct kvm_pcpu_entry *e);
int kvm_pcpu_status(kvm_t *kd);
int kvm_pcpu_info(kvm_t *kd, struct kvm_pcpu_info *info);
int kvm_pcpu_snapshot(kvm_t *kd, const char *path);

/*
 * kvm_pcpu_priv_save - write the @size bytes of the segment at @seg as a
 * snapshot file @path (shared by kvm_pcpu_snapshot() and the writer's
 * percpu_export_snapshot()).  @fd, if >= 0, is the segment's file: only
 * its data extents are read (reading a hole of a shared mapping would
 * back it with memory).  @pid, if not 0, replaces the header's pid.
 * Return: 0, or -1 with errno and a message in @err.
 */
int kvm_pcpu_priv_save(const unsigned char *seg, size_t size, int fd,
    const char *path, uint64_t pid, char *err, size_t errlen);

/*
 * kvm_pcpu_priv_pid_start - the start time of process @pid (0: the caller)
 * in clock ticks since boot (Linux: field 22 of /proc/<pid>/stat).
 * Return: the time, or 0 if unknown.
 */
uint64_t kvm_pcpu_priv_pid_start(uint64_t pid);

/*
 * Link check (as percpu/core.h's): this header's implementation part is
 * emitted only where PERCPU_IMPLEMENTATION is defined in a file that
 * includes it; a program without one fails to link naming this symbol.
 */
extern const char
    kvm_pcpu_needs_PERCPU_IMPLEMENTATION_in_a_file_that_includes_kvm_pcpu_h[];
#if defined(__GNUC__) || defined(__clang__)
static const char *const kvm_pcpu_priv_link_ref __attribute__((used)) =
    kvm_pcpu_needs_PERCPU_IMPLEMENTATION_in_a_file_that_includes_kvm_pcpu_h;
#endif

PERCPU_END_DECLS

#endif /* KVM_PCPU_H */

/* ---- Implementation: once per program (see USAGE) ---- */
#if defined(PERCPU_IMPLEMENTATION) && !defined(KVM_PCPU_IMPL_H)
#define KVM_PCPU_IMPL_H

const char
    kvm_pcpu_needs_PERCPU_IMPLEMENTATION_in_a_file_that_includes_kvm_pcpu_h[] =
	"kvm_pcpu.h implementation";

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#include "percpu/seg_posix.h"
#if !defined(MAP_ANONYMOUS) && defined(__linux__)
# include <linux/mman.h> /* strict C11 hides it in <sys/mman.h> */
#endif

/*
 * kill() and fchmod() are hidden by <signal.h> and <sys/stat.h> under
 * strict -std=c11 (POSIX), and a header must not define feature macros
 * behind its user's back.  The prototypes are POSIX's.
 */
#if defined(__GNUC__) || defined(__clang__)
# pragma GCC diagnostic push
# pragma GCC diagnostic ignored "-Wredundant-decls"
#endif
int kill(pid_t pid, int sig);
int fchmod(int fd, mode_t mode);
#if defined(__GNUC__) || defined(__clang__)
# pragma GCC diagnostic pop
#endif

#if defined(__GNUC__) || defined(__clang__)
# define KVM_PCPU_PRIV_PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))
# define KVM_PCPU_PRIV_LIKELY(x) __builtin_expect(!!(x), 1)
#else
# define KVM_PCPU_PRIV_PRINTFLIKE(f, a)
# define KVM_PCPU_PRIV_LIKELY(x) (x)
#endif
#ifndef SSIZE_MAX
# define SSIZE_MAX ((ssize_t)(SIZE_MAX / 2))
#endif

/* Hard limits of what a reader accepts (far above any real writer). */
#define KVM_PCPU_PRIV_MAXCPU 65536u
#define KVM_PCPU_PRIV_MAXSTRIDE ((uint64_t)1 << 30)
#define KVM_PCPU_PRIV_MAXCHUNKS 1024u
#define KVM_PCPU_PRIV_MAXREC (1u << 20)
#define KVM_PCPU_PRIV_MAXSTR (1u << 26)
#define KVM_PCPU_PRIV_RETRIES 1000 /* counters sets, 64-bit re-reads */

/* lseek() whence values of Linux, hidden under strict C11. */
#ifdef SEEK_DATA
# define KVM_PCPU_PRIV_SEEK_DATA SEEK_DATA
# define KVM_PCPU_PRIV_SEEK_HOLE SEEK_HOLE
#elif defined(__linux__)
# define KVM_PCPU_PRIV_SEEK_DATA 3
# define KVM_PCPU_PRIV_SEEK_HOLE 4
#endif

#if ATOMIC_LLONG_LOCK_FREE == 2
# define KVM_PCPU_PRIV_LOCKFREE64 1
#else
# define KVM_PCPU_PRIV_LOCKFREE64 0
#endif

#define KVM_PCPU_PRIV_LIVE 1  /* a shared mapping of a live segment */
#define KVM_PCPU_PRIV_FILE 2  /* a private copy of a file */
#define KVM_PCPU_PRIV_IMAGE 3 /* the caller's memory */

/* A registry record in the handle's cache. */
struct kvm_pcpu_priv_ent {
	unsigned char st; /* 0: not parsed (or corrupt), 1: valid, 2: skip */
	struct kvm_pcpu_entry e;
};

struct kvm_pcpu {
	int mode;	    /* KVM_PCPU_PRIV_* */
	int live;	    /* live segment, not a snapshot in /dev/shm */
	int fd;		    /* live: the segment's file (read with pread) */
	unsigned char *seg; /* the bytes (files and images; NULL if live) */
	size_t size;
	unsigned claim; /* the uid a /dev/shm name claims (pcpu.<uid>.) */
	char path[256]; /* for messages and kvm_pcpu_info() */
	char shm[232];	/* shm_open() name of a live segment, else "" */
	/* Validated private copies (the pcpu cache). */
	struct percpu_seg_hdr h;
	struct pcpu *pcpu; /* [maxcpu]; pc_flags 0 = not possible */
	unsigned epoch;	   /* of kvm_pcpu_priv_epoch when validated */
	/* DPCPU (per handle, kept across a cache reset, as libkvm's). */
	int dpcpu_init;
	unsigned dpcpu_cpu;
	uint64_t dpcpu_curoff;
	/* Registry cache. */
	struct kvm_pcpu_priv_ent *ents;
	uint32_t nents; /* allocated */
	int errnum;
	char err[KVM_PCPU_ERRSZ];
};

/* Bumped by the NULL-handle calls: every handle re-validates. */
static atomic_uint kvm_pcpu_priv_epoch;

/* ---- Errors ---- */

static void kvm_pcpu_priv_err(kvm_t *kd, int errnum, const char *fmt, ...)
    KVM_PCPU_PRIV_PRINTFLIKE(3, 4);

static void
kvm_pcpu_priv_err(kvm_t *kd, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(kd->err, sizeof(kd->err), fmt, ap);
	va_end(ap);
	kd->errnum = errnum;
	errno = errnum;
}

/* ---- Loads from the segment ---- */

/* A 32-bit word: atomic, with @mo (aligned: checked by the callers). */
static uint32_t
kvm_pcpu_priv_ld32(const unsigned char *p, memory_order mo)
{
	return (atomic_load_explicit((_Atomic(uint32_t) *)(uintptr_t)p, mo));
}

/*
 * kvm_pcpu_priv_halves - the 64-bit word at @p as two 32-bit atomic loads
 * (never a 64-bit atomic: where those are not lock-free, a compiler may
 * implement the load with a locked compare-and-swap, which faults on a
 * read-only mapping).  May be torn: the caller reads twice.
 */
static uint64_t
kvm_pcpu_priv_halves(const unsigned char *p, memory_order mo)
{
	uint32_t w[2];
	uint64_t v;

	w[0] = kvm_pcpu_priv_ld32(p, mo);
	w[1] = kvm_pcpu_priv_ld32(p + 4, mo);
	memcpy(&v, w, sizeof(v));
	return (v);
}

/*
 * kvm_pcpu_priv_ld64 - the 64-bit word at @p (8-aligned).
 *
 * Ordering: @mo.  Where 64-bit atomics are not lock-free here or in the
 * writer, the word is read as two halves until two reads agree (bounded).
 * Return: 0, or -1 if the word kept changing (then *@v is the last read).
 */
static int
kvm_pcpu_priv_ld64(const kvm_t *kd, const unsigned char *p, memory_order mo,
    uint64_t *v)
{
	int i;

#if KVM_PCPU_PRIV_LOCKFREE64
	if (kd->h.atomic64 || kd->mode != KVM_PCPU_PRIV_LIVE) {
		*v =
		    atomic_load_explicit((_Atomic(uint64_t) *)(uintptr_t)p, mo);
		return (0);
	}
#endif
	(void)kd;
	for (i = 0; i < KVM_PCPU_PRIV_RETRIES; i++) {
		uint64_t a = kvm_pcpu_priv_halves(p, mo);

		*v = kvm_pcpu_priv_halves(p, mo);
		if (a == *v)
			return (0);
	}
	return (-1);
}

/*
 * kvm_pcpu_priv_copy - copy @len bytes from the segment: aligned 64-bit
 * words with relaxed atomic loads (a 64-bit variable is never torn where
 * those are lock-free; elsewhere as 32-bit halves), the ragged ends byte
 * by byte.
 */
static void
kvm_pcpu_priv_copy(void *dst, const unsigned char *src, size_t len)
{
	unsigned char *d = (unsigned char *)dst;

	while (len > 0 && ((uintptr_t)src & 7u) != 0) {
		*d++ = *(const volatile unsigned char *)src++;
		len--;
	}
	while (len >= 8) {
#if KVM_PCPU_PRIV_LOCKFREE64
		uint64_t w = atomic_load_explicit(
		    (_Atomic(uint64_t) *)(uintptr_t)src, memory_order_relaxed);
#else
		uint64_t w = kvm_pcpu_priv_halves(src, memory_order_relaxed);
#endif

		memcpy(d, &w, 8);
		d += 8;
		src += 8;
		len -= 8;
	}
	while (len > 0) {
		*d++ = *(const volatile unsigned char *)src++;
		len--;
	}
}

/* ---- Reading a file ---- */

/*
 * kvm_pcpu_priv_pread - read [@off, @off + @len) of @fd into @dst.
 * pread(2) where the headers declare it, else lseek and read (strict C11
 * hides pread; the offset is then the handle's own, one thread at a time).
 * Return: 0, or -1 (an error, or the file ends before @off + @len).
 */
static int
kvm_pcpu_priv_pread(int fd, uint64_t off, unsigned char *dst, size_t len)
{
	if (off > (uint64_t)LONG_MAX)
		return (-1);
#if !(defined(__USE_XOPEN2K8) || defined(__USE_UNIX98))
	if (lseek(fd, (off_t)off, SEEK_SET) != (off_t)off)
		return (-1);
#endif
	while (len > 0) {
#if defined(__USE_XOPEN2K8) || defined(__USE_UNIX98)
		ssize_t n = pread(fd, dst, len, (off_t)off);
#else
		ssize_t n = read(fd, dst, len);
#endif

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		dst += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return (0);
}

/* ---- Time, sleeping, processes ---- */

static uint64_t
kvm_pcpu_priv_now_ns(void)
{
	struct timespec ts;

	if (timespec_get(&ts, TIME_UTC) != TIME_UTC)
		return (0);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

uint64_t
kvm_pcpu_priv_pid_start(uint64_t pid)
{
	char path[64], buf[1024], *p;
	uint64_t v = 0;
	size_t n;
	FILE *f;
	int field;

	if (pid == 0)
		(void)snprintf(path, sizeof(path), "/proc/self/stat");
	else
		(void)snprintf(path, sizeof(path), "/proc/%" PRIu64 "/stat",
		    pid);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields are
	 * counted from the last ')', which ends field 2. */
	if ((p = strrchr(buf, ')')) == NULL)
		return (0);
	for (field = 2; *p != '\0' && field < 22; p++)
		if (*p == ' ')
			field++;
	while (*p >= '0' && *p <= '9' && v < UINT64_MAX / 10)
		v = v * 10 + (uint64_t)(*p++ - '0');
	return (field == 22 ? v : 0);
}

/*
 * kvm_pcpu_priv_alive - is the writer @pid (started at @start) running?
 * Return: 1 yes (or cannot tell), 0 gone, 2 another process has its pid.
 */
static int
kvm_pcpu_priv_alive(uint64_t pid, uint64_t start)
{
	uint64_t now;

	if (pid == 0 || pid > (uint64_t)INT_MAX)
		return (0);
	/* EPERM: it exists, under another uid. */
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return (0);
	if (start != 0 && (now = kvm_pcpu_priv_pid_start(pid)) != 0 &&
	    now != start)
		return (2);
	return (1);
}

/* ---- Validation ---- */

/* [off, off + len) inside [lo, hi), overflow-checked. */
static int
kvm_pcpu_priv_in(uint64_t off, uint64_t len, uint64_t lo, uint64_t hi)
{
	return (off >= lo && off <= hi && len <= hi - off);
}

/* Is the possible-CPU bit of @cpu set in the segment's mask copy? */
static int
kvm_pcpu_priv_maskbit(const unsigned char *mask, unsigned cpu)
{
	uint64_t w;

	memcpy(&w, mask + (cpu / 64) * 8, 8);
	return ((int)((w >> (cpu % 64)) & 1u));
}

/*
 * kvm_pcpu_priv_zvalid - does [@base, @base + @len) lie in the unit-0 copy
 * of some chunk, so that base + u * stride + len stays in the arena for
 * every unit u < ncpu?
 */
static int
kvm_pcpu_priv_zvalid(const kvm_t *kd, uint64_t base, uint64_t len)
{
	const struct percpu_seg_hdr *h = &kd->h;
	uint64_t rel, unit;

	if (!kvm_pcpu_priv_in(base, 0, h->arena_off,
		h->arena_off + h->arena_size) ||
	    base == h->arena_off + h->arena_size)
		return (0);
	rel = base - h->arena_off;
	unit = rel / h->stride;
	if (unit % h->ncpu != 0)
		return (0);
	return (len <= h->stride - rel % h->stride);
}

struct kvm_pcpu_priv_region {
	const char *name;
	uint64_t off, len, align;
};

/* Corrupt: an EBADMSG message with the path. */
#define KVM_PCPU_PRIV_CORRUPT(kd, ...) kvm_pcpu_priv_corrupt((kd), __VA_ARGS__)

static int kvm_pcpu_priv_corrupt(kvm_t *kd, const char *fmt, ...)
    KVM_PCPU_PRIV_PRINTFLIKE(2, 3);

static int
kvm_pcpu_priv_corrupt(kvm_t *kd, const char *fmt, ...)
{
	char what[KVM_PCPU_ERRSZ - 300];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	kvm_pcpu_priv_err(kd, EBADMSG, "%s: corrupt: %s", kd->path, what);
	return (-1);
}

/* ---- Access to the segment's bytes ----
 *
 * Files and images are memory: atomic loads (see kvm_pcpu_priv_copy).  A
 * live segment is never mapped: it is read with pread(2), so a file that
 * its owner truncates under the reader is a short read (an error, never
 * SIGBUS), and reading a hole of the writer's tmpfs file copies zeros
 * without allocating a page there (a read fault on a shared mapping
 * would).  The kernel copies an aligned word whole; an acquire fence after
 * the copy orders it before the reader's later loads, as an acquire load.
 */

/* A short read of a live segment: its file shrank under the reader. */
static int
kvm_pcpu_priv_shrank(kvm_t *kd, uint64_t off)
{
	return (KVM_PCPU_PRIV_CORRUPT(kd,
	    "truncated while being read (no byte %" PRIu64 " of %zu): "
	    "its owner shrank it",
	    off, kd->size));
}

/* Copy [@off, @off + @len) of the segment (validated) to @dst; 0 or -1. */
static int
kvm_pcpu_priv_get(kvm_t *kd, uint64_t off, void *dst, size_t len)
{
	if (kd->mode != KVM_PCPU_PRIV_LIVE) {
		kvm_pcpu_priv_copy(dst, kd->seg + off, len);
		return (0);
	}
	if (kvm_pcpu_priv_pread(kd->fd, off, (unsigned char *)dst, len) != 0)
		return (kvm_pcpu_priv_shrank(kd, off));
	return (0);
}

/*
 * kvm_pcpu_priv_get32 - the 32-bit word at @off (4-aligned).
 * Ordering: @mo (live: the copy, then an acquire fence unless relaxed).
 * Return: 0, or -1 with the error set.
 */
static int
kvm_pcpu_priv_get32(kvm_t *kd, uint64_t off, memory_order mo, uint32_t *v)
{
	if (kd->mode != KVM_PCPU_PRIV_LIVE) {
		*v = kvm_pcpu_priv_ld32(kd->seg + off, mo);
		return (0);
	}
	if (kvm_pcpu_priv_get(kd, off, v, sizeof(*v)) != 0)
		return (-1);
	/* Acquire fence: the word's copy before every later load; pairs
	 * with the release store the caller names. */
	if (mo != memory_order_relaxed)
		atomic_thread_fence(memory_order_acquire);
	return (0);
}

/*
 * kvm_pcpu_priv_get64 - the 64-bit word at @off (8-aligned).
 * Ordering: as kvm_pcpu_priv_get32().
 * Return: 0, or -1 with the error set (EAGAIN: the word kept changing).
 */
static int
kvm_pcpu_priv_get64(kvm_t *kd, uint64_t off, memory_order mo, uint64_t *v)
{
	if (kd->mode != KVM_PCPU_PRIV_LIVE) {
		if (kvm_pcpu_priv_ld64(kd, kd->seg + off, mo, v) != 0) {
			kvm_pcpu_priv_err(kd, EAGAIN,
			    "%s: a 64-bit word kept changing", kd->path);
			return (-1);
		}
		return (0);
	}
	if (kvm_pcpu_priv_get(kd, off, v, sizeof(*v)) != 0)
		return (-1);
	/* Acquire fence: as in kvm_pcpu_priv_get32(). */
	if (mo != memory_order_relaxed)
		atomic_thread_fence(memory_order_acquire);
	return (0);
}

/*
 * kvm_pcpu_priv_header - check the first bytes of a segment: magic, byte
 * order, version, header size, total size against @size.
 *
 * Context: any.  @h is a private copy of the first 256 bytes.
 * Return: 0, or -1 with the error set.
 */
static int
kvm_pcpu_priv_header(kvm_t *kd, const struct percpu_seg_hdr *h, uint64_t size)
{
	if (memcmp(h->magic, PERCPU_SEG_MAGIC, sizeof(h->magic)) != 0) {
		kvm_pcpu_priv_err(kd, EPROTO,
		    "%s: bad magic: not a pcpu segment", kd->path);
		return (-1);
	}
	if (h->endian != PERCPU_SEG_ENDIAN) {
		if (h->endian == 0x04030201u)
			kvm_pcpu_priv_err(kd, EPROTO,
			    "%s: written with the other byte order", kd->path);
		else
			KVM_PCPU_PRIV_CORRUPT(kd, "endian check 0x%08" PRIx32,
			    h->endian);
		return (-1);
	}
	if (h->major != PERCPU_SEG_MAJOR) {
		kvm_pcpu_priv_err(kd, EPROTO,
		    "%s: version %u.%u not supported (this reader reads %u.x)",
		    kd->path, (unsigned)h->major, (unsigned)h->minor,
		    (unsigned)PERCPU_SEG_MAJOR);
		return (-1);
	}
	if (h->hdr_size < PERCPU_SEG_HDR_SIZE || h->hdr_size > 4096 ||
	    h->hdr_size % 8 != 0)
		return (KVM_PCPU_PRIV_CORRUPT(kd, "hdr_size %" PRIu32,
		    h->hdr_size));
	if (h->total_size > KVM_PCPU_MAX_SIZE)
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "total_size %" PRIu64 " over the limit %" PRIu64,
		    h->total_size, (uint64_t)KVM_PCPU_MAX_SIZE));
	if (h->total_size != size)
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "total_size %" PRIu64 ", but it has %" PRIu64 " bytes",
		    h->total_size, size));
	if (h->hdr_size > size)
		return (KVM_PCPU_PRIV_CORRUPT(kd, "hdr_size %" PRIu32,
		    h->hdr_size));
	return (0);
}

/*
 * kvm_pcpu_priv_parse - validate the segment's header, regions, mask and
 * CPU table, and replace the handle's private copies with them.
 *
 * Context: open, and the first call after a cache reset.
 * Ordering: live: acquire on state (pairs with the release of READY in
 *           percpu_export_open()); the immutable part is read after it.
 * Return: 0, or -1 with the error set (the old copies are kept).
 */
static int
kvm_pcpu_priv_parse(kvm_t *kd)
{
	struct percpu_seg_hdr h;
	struct kvm_pcpu_priv_region r[7], t;
	unsigned char *mask = NULL, *used = NULL, *batch = NULL;
	struct pcpu *tab = NULL;
	uint64_t dbase = UINT64_MAX, ncpu_seen = 0;
	unsigned i, j, n = 0, cpu;
	uint32_t state;
	int rc = -1;

	if (kd->size < PERCPU_SEG_HDR_SIZE)
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "%zu bytes, smaller than a header (%d)", kd->size,
		    PERCPU_SEG_HDR_SIZE));
	/* Acquire: pairs with the release store of READY in
	 * percpu_export_open(); the header is complete after it. */
	if (kvm_pcpu_priv_get32(kd, offsetof(struct percpu_seg_hdr, state),
		memory_order_acquire, &state) != 0 ||
	    kvm_pcpu_priv_get(kd, 0, &h, sizeof(h)) != 0)
		return (-1);
	if (kvm_pcpu_priv_header(kd, &h, kd->size) != 0)
		return (-1);
	if (h.ptr_size != 2 && h.ptr_size != 4 && h.ptr_size != 8)
		return (KVM_PCPU_PRIV_CORRUPT(kd, "ptr_size %u",
		    (unsigned)h.ptr_size));
	if (state > PERCPU_SEG_SNAPSHOT ||
	    (state == PERCPU_SEG_INIT && kd->mode != KVM_PCPU_PRIV_LIVE))
		return (KVM_PCPU_PRIV_CORRUPT(kd, "state %" PRIu32, state));
	if (((h.flags & PERCPU_SEG_F_SNAPSHOT) != 0) !=
	    (state == PERCPU_SEG_SNAPSHOT))
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "flags 0x%x disagree with state %" PRIu32,
		    (unsigned)h.flags, state));
	if (h.maxcpu == 0 || h.maxcpu > KVM_PCPU_PRIV_MAXCPU)
		return (
		    KVM_PCPU_PRIV_CORRUPT(kd, "maxcpu %" PRIu32 " (limit %u)",
			h.maxcpu, KVM_PCPU_PRIV_MAXCPU));
	if (h.ncpu == 0 || h.ncpu > h.maxcpu)
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "ncpu %" PRIu32 " (maxcpu %" PRIu32 ")", h.ncpu, h.maxcpu));
	if (h.stride < 64 || h.stride % 64 != 0 ||
	    h.stride > KVM_PCPU_PRIV_MAXSTRIDE)
		return (KVM_PCPU_PRIV_CORRUPT(kd, "stride %" PRIu64, h.stride));
	if (h.pcpu_size < PERCPU_SEG_PCPU_SIZE || h.pcpu_size > 4096 ||
	    h.pcpu_size % 8 != 0)
		return (KVM_PCPU_PRIV_CORRUPT(kd, "pcpu_size %" PRIu32,
		    h.pcpu_size));
	if (h.reg_size < PERCPU_SEG_REC_SIZE || h.reg_size > 4096 ||
	    h.reg_size % 8 != 0 || h.reg_cap > KVM_PCPU_PRIV_MAXREC)
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "registry of %" PRIu32 " records of %" PRIu32 " bytes",
		    h.reg_cap, h.reg_size));
	if (h.str_cap > KVM_PCPU_PRIV_MAXSTR)
		return (
		    KVM_PCPU_PRIV_CORRUPT(kd, "str_cap %" PRIu32, h.str_cap));
	if (h.nchunks == 0 || h.nchunks > KVM_PCPU_PRIV_MAXCHUNKS)
		return (
		    KVM_PCPU_PRIV_CORRUPT(kd, "nchunks %" PRIu32, h.nchunks));
	/* < 2^10 * 2^16 * 2^30: no overflow. */
	if (h.arena_size != (uint64_t)h.nchunks * h.ncpu * h.stride)
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "arena_size %" PRIu64 " is not nchunks * ncpu * stride",
		    h.arena_size));
	if (h.dpcpu_tmpl_off == 0 ?
		h.dpcpu_size != 0 :
		(h.dpcpu_size == 0 || h.dpcpu_size > h.stride))
		return (KVM_PCPU_PRIV_CORRUPT(kd, "dpcpu_size %" PRIu64,
		    h.dpcpu_size));

	/* Regions: aligned, inside, disjoint (the header is one). */
	r[n++] = (struct kvm_pcpu_priv_region) {"header", 0, h.hdr_size, 1};
	r[n++] = (struct kvm_pcpu_priv_region) {"mask", h.mask_off,
	    PERCPU_SEG_MASK_BYTES(h.maxcpu), 64};
	r[n++] = (struct kvm_pcpu_priv_region) {"pcpu table", h.pcpu_off,
	    (uint64_t)h.maxcpu * h.pcpu_size, 64};
	r[n++] = (struct kvm_pcpu_priv_region) {"registry", h.reg_off,
	    (uint64_t)h.reg_cap * h.reg_size, 64};
	r[n++] = (struct kvm_pcpu_priv_region) {"string table", h.str_off,
	    h.str_cap, 64};
	r[n++] = (struct kvm_pcpu_priv_region) {"arena", h.arena_off,
	    h.arena_size, 4096};
	if (h.dpcpu_tmpl_off != 0)
		r[n++] = (struct kvm_pcpu_priv_region) {"dpcpu template",
		    h.dpcpu_tmpl_off, h.dpcpu_size, 64};
	for (i = 0; i < n; i++) {
		if (r[i].off % r[i].align != 0)
			return (KVM_PCPU_PRIV_CORRUPT(kd,
			    "%s offset 0x%" PRIx64 " misaligned", r[i].name,
			    r[i].off));
		if (!kvm_pcpu_priv_in(r[i].off, r[i].len, 0, kd->size))
			return (KVM_PCPU_PRIV_CORRUPT(kd,
			    "%s [0x%" PRIx64 ", +%" PRIu64
			    ") outside the segment (%zu bytes)",
			    r[i].name, r[i].off, r[i].len, kd->size));
	}
	for (i = 1; i < n; i++) /* insertion sort by offset */
		for (j = i; j > 0 && r[j - 1].off > r[j].off; j--) {
			t = r[j];
			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	for (i = 1; i < n; i++)
		if (r[i - 1].off + r[i - 1].len > r[i].off)
			return (KVM_PCPU_PRIV_CORRUPT(kd, "%s and %s overlap",
			    r[i - 1].name, r[i].name));

	/* Mask and CPU table, into private memory. */
	mask = (unsigned char *)malloc(PERCPU_SEG_MASK_BYTES(h.maxcpu));
	tab = (struct pcpu *)calloc(h.maxcpu, sizeof(*tab));
	used = (unsigned char *)calloc(h.ncpu, 1);
	batch = (unsigned char *)malloc((size_t)64 * h.pcpu_size);
	if (mask == NULL || tab == NULL || used == NULL || batch == NULL) {
		kvm_pcpu_priv_err(kd, ENOMEM, "%s: out of memory", kd->path);
		goto out;
	}
	if (kvm_pcpu_priv_get(kd, h.mask_off, mask,
		PERCPU_SEG_MASK_BYTES(h.maxcpu)) != 0)
		goto out;
	for (cpu = h.maxcpu; cpu < PERCPU_SEG_MASK_BYTES(h.maxcpu) * 8; cpu++)
		if (kvm_pcpu_priv_maskbit(mask, cpu)) {
			KVM_PCPU_PRIV_CORRUPT(kd,
			    "CPU %u in the mask, maxcpu %" PRIu32, cpu,
			    h.maxcpu);
			goto out;
		}
	for (cpu = 0; cpu < h.maxcpu; cpu++) {
		struct pcpu *p = &tab[cpu];
		int bit = kvm_pcpu_priv_maskbit(mask, cpu);
		uint64_t d;

		/* 64 descriptors per read (one pread for a live one). */
		if (cpu % 64 == 0 &&
		    kvm_pcpu_priv_get(kd,
			h.pcpu_off + (uint64_t)cpu * h.pcpu_size, batch,
			(size_t)(h.maxcpu - cpu < 64 ? h.maxcpu - cpu : 64) *
			    h.pcpu_size) != 0)
			goto out;
		memcpy(p, batch + (size_t)(cpu % 64) * h.pcpu_size, sizeof(*p));
		if (p->pc_flags != (bit ? PERCPU_SEG_PCPU_PRESENT : 0)) {
			KVM_PCPU_PRIV_CORRUPT(kd,
			    "CPU %u: pc_flags 0x%" PRIx32
			    " disagree with the mask",
			    cpu, p->pc_flags);
			goto out;
		}
		if (!bit)
			continue;
		ncpu_seen++;
		if (p->pc_cpuid != cpu || p->pc_unit >= h.ncpu ||
		    used[p->pc_unit]) {
			KVM_PCPU_PRIV_CORRUPT(kd,
			    "CPU %u: pc_cpuid %" PRIu32 ", pc_unit %" PRIu32,
			    cpu, p->pc_cpuid, p->pc_unit);
			goto out;
		}
		used[p->pc_unit] = 1;
		if (p->pc_unit_off != h.arena_off + p->pc_unit * h.stride) {
			KVM_PCPU_PRIV_CORRUPT(kd,
			    "CPU %u: pc_unit_off 0x%" PRIx64, cpu,
			    p->pc_unit_off);
			goto out;
		}
		if (h.dpcpu_tmpl_off == 0) {
			if (p->pc_dynamic != 0) {
				KVM_PCPU_PRIV_CORRUPT(kd,
				    "CPU %u: pc_dynamic without a template",
				    cpu);
				goto out;
			}
			continue;
		}
		/* The instance: in this CPU's unit, at the same offset in
		 * every unit (one allocation of the arena). */
		d = h.dpcpu_tmpl_off + p->pc_dynamic;
		if (d < h.dpcpu_tmpl_off ||
		    !kvm_pcpu_priv_in(d, h.dpcpu_size, h.arena_off,
			h.arena_off + h.arena_size) ||
		    (d - h.arena_off) / h.stride % h.ncpu != p->pc_unit ||
		    (d - h.arena_off) % h.stride + h.dpcpu_size > h.stride ||
		    (dbase != UINT64_MAX &&
			dbase != d - (uint64_t)p->pc_unit * h.stride)) {
			KVM_PCPU_PRIV_CORRUPT(kd,
			    "CPU %u: pc_dynamic 0x%" PRIx64, cpu,
			    p->pc_dynamic);
			goto out;
		}
		dbase = d - (uint64_t)p->pc_unit * h.stride;
	}
	if (ncpu_seen != h.ncpu || !kvm_pcpu_priv_maskbit(mask, h.maxcpu - 1)) {
		KVM_PCPU_PRIV_CORRUPT(kd,
		    "%" PRIu64 " CPUs in the mask, ncpu %" PRIu32
		    ", maxcpu %" PRIu32,
		    ncpu_seen, h.ncpu, h.maxcpu);
		goto out;
	}
	if (h.total_size > ULONG_MAX) {
		/* Offsets are unsigned long, as libkvm's addresses. */
		KVM_PCPU_PRIV_CORRUPT(kd,
		    "total_size %" PRIu64 " beyond this reader's addresses",
		    h.total_size);
		goto out;
	}
	free(kd->pcpu);
	kd->pcpu = tab;
	tab = NULL;
	memcpy((void *)&kd->h, &h, sizeof(h)); /* atomics: C++ has no = */
	atomic_store_explicit(&kd->h.state, state, memory_order_relaxed);
	/* The registry cache goes with the old header. */
	free(kd->ents);
	kd->ents = NULL;
	kd->nents = 0;
	if (kd->dpcpu_init)
		kd->dpcpu_curoff = kd->dpcpu_cpu < h.maxcpu &&
			kd->pcpu[kd->dpcpu_cpu].pc_flags != 0 ?
		    kd->pcpu[kd->dpcpu_cpu].pc_dynamic :
		    0;
	rc = 0;
out:
	free(mask);
	free(tab);
	free(used);
	free(batch);
	return (rc);
}

/*
 * kvm_pcpu_priv_fresh - revalidate after a cache reset (a NULL-handle
 * call since this handle last validated).
 * Return: 0, or -1 with the error set.
 */
static int
kvm_pcpu_priv_fresh(kvm_t *kd)
{
	unsigned e =
	    atomic_load_explicit(&kvm_pcpu_priv_epoch, memory_order_relaxed);

	if (KVM_PCPU_PRIV_LIKELY(e == kd->epoch))
		return (0);
	if (kvm_pcpu_priv_parse(kd) != 0)
		return (-1);
	kd->epoch = e;
	return (0);
}

/* The number of published records, clamped to the capacity (0 if the
 * segment cannot be read: error set). */
static uint32_t
kvm_pcpu_priv_count(kvm_t *kd)
{
	uint32_t n;

	/* Acquire: pairs with the release of reg_count in
	 * percpu_export_priv_add(): records below it are complete. */
	if (kvm_pcpu_priv_get32(kd, offsetof(struct percpu_seg_hdr, reg_count),
		memory_order_acquire, &n) != 0)
		return (0);
	return (n < kd->h.reg_cap ? n : kd->h.reg_cap);
}

/*
 * kvm_pcpu_priv_rec - parse record @i into the cache.
 *
 * Ordering: acquire on the record's state; pairs with its release in
 *           percpu_export_priv_add().  Fields are read after it, into a
 *           private copy, and checked there.
 * Return: 0 valid (*@out set), 1 not in use, -1 corrupt (error set).
 */
static int
kvm_pcpu_priv_rec(kvm_t *kd, uint32_t i, struct kvm_pcpu_entry *out)
{
	const struct percpu_seg_hdr *h = &kd->h;
	uint64_t p = h->reg_off + (uint64_t)i * h->reg_size;
	struct percpu_seg_rec rec;
	struct kvm_pcpu_entry e;
	uint64_t esize = 0;
	uint32_t st;

	if (kvm_pcpu_priv_get32(kd, p, memory_order_acquire, &st) != 0)
		return (-1);
	if (st == PERCPU_SEG_FREE || st == PERCPU_SEG_RECLAIMED)
		return (1);
	if (st != PERCPU_SEG_ALLOC)
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "record %" PRIu32 ": state %" PRIu32, i, st));
	if (kvm_pcpu_priv_get(kd, p, &rec, sizeof(rec)) != 0)
		return (-1);
	if (rec.kind == 0 || rec.kind > PERCPU_SEG_KIND_MAX)
		return (1); /* a newer writer's kind: skip it */
	if (rec.name_len == 0 || rec.name_len > PERCPU_SEG_NAME_MAX ||
	    !kvm_pcpu_priv_in(rec.name_off, (uint64_t)rec.name_len + 1, 0,
		h->str_cap))
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "record %" PRIu32 ": name at %" PRIu32 " +%u outside "
		    "the string table",
		    i, rec.name_off, (unsigned)rec.name_len));
	memset(&e, 0, sizeof(e));
	if (kvm_pcpu_priv_get(kd, h->str_off + rec.name_off, e.name,
		(size_t)rec.name_len + 1) != 0)
		return (-1);
	if (e.name[rec.name_len] != '\0' ||
	    !percpu_seg_name_ok(e.name, rec.name_len))
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "record %" PRIu32 ": bad name", i));
	if (rec.fmt > PERCPU_SEG_FMT_MAX)
		return (
		    KVM_PCPU_PRIV_CORRUPT(kd, "record %" PRIu32 " (%s): fmt %u",
			i, e.name, (unsigned)rec.fmt));
	switch (rec.fmt) {
	case PERCPU_SEG_FMT_U8:
	case PERCPU_SEG_FMT_I8:
		esize = 1;
		break;
	case PERCPU_SEG_FMT_U16:
	case PERCPU_SEG_FMT_I16:
		esize = 2;
		break;
	case PERCPU_SEG_FMT_U32:
	case PERCPU_SEG_FMT_I32:
	case PERCPU_SEG_FMT_F32:
		esize = 4;
		break;
	case PERCPU_SEG_FMT_U64:
	case PERCPU_SEG_FMT_I64:
	case PERCPU_SEG_FMT_F64:
		esize = 8;
		break;
	default:
		break;
	}
	switch (rec.kind) {
	case PERCPU_SEG_KIND_COUNTER_U64:
		if (rec.size != 16 || rec.base % 8 != 0 ||
		    !kvm_pcpu_priv_zvalid(kd, rec.base, 16))
			goto bad;
		break;
	case PERCPU_SEG_KIND_COUNTERS:
		if (rec.count == 0 ||
		    rec.size != ((uint64_t)rec.count + 1) * 8 ||
		    rec.base % 8 != 0 ||
		    !kvm_pcpu_priv_zvalid(kd, rec.base, rec.size))
			goto bad;
		break;
	case PERCPU_SEG_KIND_DPCPU:
		if (h->dpcpu_tmpl_off == 0 || rec.size == 0 ||
		    !kvm_pcpu_priv_in(rec.base, rec.size, h->dpcpu_tmpl_off,
			h->dpcpu_tmpl_off + h->dpcpu_size))
			goto bad;
		break;
	default: /* PERCPU_SEG_KIND_PCPU */
		if (rec.size == 0 ||
		    !kvm_pcpu_priv_zvalid(kd, rec.base, rec.size))
			goto bad;
		break;
	}
	if ((rec.kind == PERCPU_SEG_KIND_DPCPU ||
		rec.kind == PERCPU_SEG_KIND_PCPU) &&
	    esize != 0 && rec.size != esize * rec.count)
		goto bad;
	e.kind = rec.kind;
	e.fmt = rec.fmt;
	e.base = (unsigned long)rec.base;
	e.size = (size_t)rec.size;
	if (rec.kind == PERCPU_SEG_KIND_COUNTER_U64)
		e.count = 1;
	else if (rec.kind == PERCPU_SEG_KIND_COUNTERS || esize != 0)
		e.count = rec.count;
	else
		e.count = (unsigned)rec.size; /* raw bytes */
	e.reg_id = rec.reg_id;
	e.reg_ns = rec.reg_ns;
	*out = e;
	return (0);
bad:
	return (KVM_PCPU_PRIV_CORRUPT(kd,
	    "record %" PRIu32 " (%s): kind %u, base 0x%" PRIx64
	    ", size %" PRIu64 ", count %" PRIu32,
	    i, e.name, (unsigned)rec.kind, rec.base, rec.size, rec.count));
}

/*
 * kvm_pcpu_priv_ent - record @i through the cache.
 * Return: as kvm_pcpu_priv_rec(); a record that was valid and has been
 * unregistered since is 1.
 */
static int
kvm_pcpu_priv_ent(kvm_t *kd, uint32_t i, struct kvm_pcpu_entry **out)
{
	struct kvm_pcpu_priv_ent *c;
	int rc;

	if (i >= kd->nents) {
		uint32_t n = kd->nents != 0 ? kd->nents : 16;
		struct kvm_pcpu_priv_ent *x;

		while (n <= i)
			n *= 2;
		if (n > kd->h.reg_cap)
			n = kd->h.reg_cap;
		x = (struct kvm_pcpu_priv_ent *)realloc(kd->ents,
		    (size_t)n * sizeof(*x));
		if (x == NULL) {
			kvm_pcpu_priv_err(kd, ENOMEM, "%s: out of memory",
			    kd->path);
			return (-1);
		}
		memset(x + kd->nents, 0, (size_t)(n - kd->nents) * sizeof(*x));
		kd->ents = x;
		kd->nents = n;
	}
	c = &kd->ents[i];
	if (c->st == 2)
		return (1);
	if (c->st == 1) {
		uint32_t st;

		/* Acquire: pairs with the release of RECLAIMED in
		 * percpu_export_unregister(). */
		if (kvm_pcpu_priv_get32(kd,
			kd->h.reg_off + (uint64_t)i * kd->h.reg_size,
			memory_order_acquire, &st) != 0)
			return (-1);
		if (st != PERCPU_SEG_ALLOC) {
			c->st = 2;
			return (1);
		}
		*out = &c->e;
		return (0);
	}
	/* Parsed again at every call until valid: a corrupt record keeps
	 * reporting its error; a FREE one may be published later. */
	rc = kvm_pcpu_priv_rec(kd, i, &c->e);
	if (rc == 0) {
		c->st = 1;
		*out = &c->e;
	} else if (rc == 1) {
		uint32_t st;

		if (kvm_pcpu_priv_get32(kd,
			kd->h.reg_off + (uint64_t)i * kd->h.reg_size,
			memory_order_relaxed, &st) != 0)
			return (-1);
		if (st != PERCPU_SEG_FREE)
			c->st = 2; /* reclaimed or an unknown kind: for good */
	}
	return (rc);
}

/* ---- Opening ---- */

static kvm_t *
kvm_pcpu_priv_new(void)
{
	kvm_t *kd = (kvm_t *)calloc(1, sizeof(*kd));

	if (kd != NULL) {
		kd->fd = -1;
		kd->epoch = atomic_load_explicit(&kvm_pcpu_priv_epoch,
		    memory_order_relaxed);
	}
	return (kd);
}

static void
kvm_pcpu_priv_release(kvm_t *kd)
{
	if (kd->seg != NULL && kd->mode != KVM_PCPU_PRIV_IMAGE)
		(void)munmap(kd->seg, kd->size);
	if (kd->fd >= 0)
		(void)close(kd->fd);
	free(kd->pcpu);
	free(kd->ents);
	free(kd);
}

/* Open failed: hand the message and class to the caller. */
static kvm_t *
kvm_pcpu_priv_fail(kvm_t *kd, char *errbuf)
{
	int e = kd->errnum != 0 ? kd->errnum : EINVAL;

	if (errbuf != NULL)
		(void)snprintf(errbuf, KVM_PCPU_ERRSZ, "%s", kd->err);
	kvm_pcpu_priv_release(kd);
	errno = e;
	return (NULL);
}

/* Anonymous private memory of @len bytes (unbacked until written). */
static unsigned char *
kvm_pcpu_priv_anon(size_t len)
{
#if defined(MAP_ANONYMOUS)
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS
# ifdef MAP_NORESERVE
		| MAP_NORESERVE
# endif
	    ,
	    -1, 0);

	return (p == MAP_FAILED ? NULL : (unsigned char *)p);
#else
	(void)len;
	return (NULL);
#endif
}

/*
 * kvm_pcpu_priv_load_file - a snapshot file (or a live segment with
 * KVM_PCPU_COPY) into private memory: the header is checked first, then
 * only the file's data extents are read (holes stay unbacked).
 */
static int
kvm_pcpu_priv_load_file(kvm_t *kd, int fd, uint64_t fsize)
{
	struct percpu_seg_hdr h;
	uint64_t off, end;

	if (fsize < PERCPU_SEG_HDR_SIZE)
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "%" PRIu64 " bytes, smaller than a header (%d)", fsize,
		    PERCPU_SEG_HDR_SIZE));
	if (kvm_pcpu_priv_pread(fd, 0, (unsigned char *)&h, sizeof(h)) != 0) {
		kvm_pcpu_priv_err(kd, errno != 0 ? errno : EIO,
		    "%s: cannot read: %s", kd->path, strerror(errno));
		return (-1);
	}
	if (kvm_pcpu_priv_header(kd, &h, fsize) != 0)
		return (-1);
	kd->size = (size_t)fsize;
	kd->seg = kvm_pcpu_priv_anon(kd->size);
	if (kd->seg == NULL) {
		kvm_pcpu_priv_err(kd, ENOMEM, "%s: out of memory for %zu bytes",
		    kd->path, kd->size);
		return (-1);
	}
	for (off = 0; off < fsize; off = end) {
#ifdef KVM_PCPU_PRIV_SEEK_DATA
		off_t d = lseek(fd, (off_t)off, KVM_PCPU_PRIV_SEEK_DATA);
		off_t e;

		if (d < 0 && errno == ENXIO)
			break; /* only a hole is left */
		if (d >= 0 && (uint64_t)d < fsize &&
		    (e = lseek(fd, d, KVM_PCPU_PRIV_SEEK_HOLE)) > d) {
			off = (uint64_t)d;
			end = (uint64_t)e < fsize ? (uint64_t)e : fsize;
		} else
#endif
			end = fsize;
		if (kvm_pcpu_priv_pread(fd, off, kd->seg + off,
			(size_t)(end - off)) != 0) {
			kvm_pcpu_priv_err(kd, EIO,
			    "%s: short read at %" PRIu64 " (file changed?)",
			    kd->path, off);
			return (-1);
		}
	}
	return (0);
}

/*
 * kvm_pcpu_priv_claim - the uid a shared-memory name claims: <uid> of
 * "/pcpu.<uid>.<name>"; the caller's own for any other name.
 */
static unsigned
kvm_pcpu_priv_claim(const char *shm)
{
	size_t pl = strlen(PERCPU_SEG_SHM_PREFIX);
	const char *p = shm + 1 + pl;
	unsigned long v = 0;

	if (strncmp(shm + 1, PERCPU_SEG_SHM_PREFIX, pl) != 0 || *p < '0' ||
	    *p > '9')
		return ((unsigned)geteuid());
	while (*p >= '0' && *p <= '9' && v <= UINT_MAX)
		v = v * 10 + (unsigned long)(*p++ - '0');
	if (*p != '.' || v > UINT_MAX)
		return ((unsigned)geteuid());
	return ((unsigned)v);
}

/*
 * kvm_pcpu_priv_trust - may the open shared-memory object @st be read?
 * A regular file, owned by the uid its name claims or by the caller
 * (root included: root trusts no other user's file under root's name),
 * writable by nobody else.
 * Return: 0, or -1 with the error set (EPERM).
 */
static int
kvm_pcpu_priv_trust(kvm_t *kd, const struct stat *st)
{
	unsigned me = (unsigned)geteuid(), uid = (unsigned)st->st_uid;

	if (!S_ISREG(st->st_mode)) {
		kvm_pcpu_priv_err(kd, EPERM,
		    "%s: not trusted: %s, not a segment (planted by uid %u: "
		    "remove it)",
		    kd->path,
		    percpu_seg_ftype(st->st_mode, "not a regular file"), uid);
		return (-1);
	}
	if (uid != kd->claim && uid != me) {
		kvm_pcpu_priv_err(kd, EPERM,
		    "%s: not trusted: owned by uid %u, but its name claims uid "
		    "%u (planted by uid %u: remove it)",
		    kd->path, uid, kd->claim, uid);
		return (-1);
	}
	if ((st->st_mode & 022) != 0) {
		kvm_pcpu_priv_err(kd, EPERM,
		    "%s: not trusted: writable by group or others (mode %04o)",
		    kd->path, (unsigned)(st->st_mode & 07777));
		return (-1);
	}
	return (0);
}

/* An open(2)/shm_open(3) failure, with the class the caller needs. */
static void
kvm_pcpu_priv_openerr(kvm_t *kd, int e, int live)
{
	struct stat st;

	if (e == ENOENT)
		kvm_pcpu_priv_err(kd, ENOENT,
		    live ? "%s: no such segment" : "%s: no such file",
		    kd->path);
	else if (e == ELOOP && live)
		kvm_pcpu_priv_err(kd, EPERM,
		    "%s: not trusted: a symbolic link, not a segment (planted: "
		    "remove it)",
		    kd->path);
	else if (e == EACCES && stat(kd->path, &st) == 0)
		kvm_pcpu_priv_err(kd, EACCES,
		    "%s: permission denied (owner uid %u, mode %04o)", kd->path,
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	else if (e == EACCES)
		kvm_pcpu_priv_err(kd, EACCES, "%s: permission denied",
		    kd->path);
	else
		kvm_pcpu_priv_err(kd, e, "%s: %s", kd->path, strerror(e));
}

/*
 * kvm_pcpu_priv_shm_open - open the shared-memory object kd->shm to read
 * it, as the trust rules allow: never blocking (a FIFO planted at the
 * name), never through a symbolic link (shm_open adds O_NOFOLLOW and
 * O_CLOEXEC), then fstat: a regular file of the uid the name claims or
 * of the caller, not over KVM_PCPU_MAX_SIZE.
 * Return: the descriptor (*@st set), or -1 with the error set.
 */
static int
kvm_pcpu_priv_shm_open(kvm_t *kd, struct stat *st)
{
	int fd = shm_open(kd->shm, O_RDONLY | O_NONBLOCK, 0);

	if (fd < 0) {
		kvm_pcpu_priv_openerr(kd, errno, 1);
		return (-1);
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fstat(fd, st) != 0) {
		kvm_pcpu_priv_err(kd, errno, "%s: %s", kd->path,
		    strerror(errno));
		(void)close(fd);
		return (-1);
	}
	if (kvm_pcpu_priv_trust(kd, st) != 0) {
		(void)close(fd);
		return (-1);
	}
	if ((uint64_t)st->st_size > KVM_PCPU_MAX_SIZE) {
		(void)close(fd);
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "%" PRIu64 " bytes, over the limit %" PRIu64,
		    (uint64_t)st->st_size, (uint64_t)KVM_PCPU_MAX_SIZE));
	}
	return (fd);
}

/*
 * kvm_pcpu_priv_open_live - open the live segment kd->shm (read with
 * pread from then on, never mapped).  A writer publishes its segment
 * under the name only once it is READY, so nothing is waited for: a
 * segment still INIT is a crashed start or not a writer's.
 */
static int
kvm_pcpu_priv_open_live(kvm_t *kd)
{
	struct stat st;
	uint32_t state;
	int fd = kvm_pcpu_priv_shm_open(kd, &st);

	if (fd < 0)
		return (-1);
	kd->fd = fd;
	kd->size = (size_t)st.st_size;
	if (kd->size < PERCPU_SEG_HDR_SIZE)
		return (KVM_PCPU_PRIV_CORRUPT(kd,
		    "%zu bytes, smaller than a header (%d)", kd->size,
		    PERCPU_SEG_HDR_SIZE));
	/* Acquire: pairs with the release of READY in percpu_export_open(). */
	if (kvm_pcpu_priv_get32(kd, offsetof(struct percpu_seg_hdr, state),
		memory_order_acquire, &state) != 0)
		return (-1);
	if (state == PERCPU_SEG_INIT) {
		kvm_pcpu_priv_err(kd, EAGAIN,
		    "%s: not ready: state INIT, and writers publish a segment "
		    "only once it is ready (a crashed start, or not a "
		    "segment): remove it",
		    kd->path);
		return (-1);
	}
	return (0);
}

/*
 * kvm_pcpu_priv_held - does a writer hold the live segment open on @fd?
 * A writer keeps an exclusive flock(2) on its segment, on a close-on-exec
 * descriptor: the kernel drops it when the writer exits, is killed (a
 * zombie holds nothing) or execs.  The test takes a shared lock and drops
 * it at once (a writer that is starting retries past it).
 * Return: 1 held, 0 not held, -1 cannot tell (no locks here).
 */
static int
kvm_pcpu_priv_held(int fd)
{
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		(void)flock(fd, LOCK_UN);
		return (0);
	}
	return (errno == EWOULDBLOCK ? 1 : -1);
}

/*
 * kvm_pcpu_priv_writer - is the writer of the live segment there?
 * Return: 1 yes, 0 no (*@why set: "closed", "released", "not running",
 *         "another process"), -1 the segment cannot be read (error set).
 */
static int
kvm_pcpu_priv_writer(kvm_t *kd, const char **why)
{
	uint32_t state;
	int alive;

	/* Acquire: pairs with the release of CLOSED in
	 * percpu_export_close(). */
	if (kvm_pcpu_priv_get32(kd, offsetof(struct percpu_seg_hdr, state),
		memory_order_acquire, &state) != 0)
		return (-1);
	if (state == PERCPU_SEG_CLOSED) {
		*why = "closed";
		return (0);
	}
	switch (kvm_pcpu_priv_held(kd->fd)) {
	case 1:
		return (1);
	case 0:
		*why = "released";
		return (0);
	default:
		break;
	}
	alive = kvm_pcpu_priv_alive(kd->h.pid, kd->h.pid_start);
	*why = alive == 0 ? "not running" : "another process";
	return (alive == 1);
}

/* The writer of a live segment must still be there (unless STALE_OK). */
static int
kvm_pcpu_priv_check_writer(kvm_t *kd)
{
	const char *why = "";
	int w = kvm_pcpu_priv_writer(kd, &why);

	if (w < 0)
		return (-1);
	if (w == 1)
		return (0);
	if (strcmp(why, "closed") == 0)
		kvm_pcpu_priv_err(kd, ESTALE,
		    "%s: writer gone: closed by pid %" PRIu64, kd->path,
		    kd->h.pid);
	else if (strcmp(why, "released") == 0)
		kvm_pcpu_priv_err(kd, ESTALE,
		    "%s: writer gone: pid %" PRIu64 " no longer holds it (it "
		    "exited, was killed or exec'ed)",
		    kd->path, kd->h.pid);
	else
		kvm_pcpu_priv_err(kd, ESTALE,
		    "%s: writer gone: pid %" PRIu64 " is %s", kd->path,
		    kd->h.pid,
		    strcmp(why, "not running") == 0 ? "not running" :
						      "another process now");
	return (-1);
}

/*
 * kvm_pcpu_open - open a live segment by name or path, or a snapshot.
 *
 * Context: any thread; never waits (a file planted at a name is refused
 *          at once: see kvm_pcpu_priv_shm_open()).
 * Ordering: acquire on the header's state (pairs with the release of
 *           READY in percpu_export_open()).
 * UP: the reader is the same in every build.
 * Return: the handle, or NULL with errno (the class) and @errbuf.
 */
kvm_t *
kvm_pcpu_open(const char *what, int flags, char *errbuf)
{
	const char *shmdir = "/dev/shm/";
	struct stat st;
	size_t len;
	kvm_t *kd;
	int fd;

	if ((kd = kvm_pcpu_priv_new()) == NULL) {
		if (errbuf != NULL)
			(void)snprintf(errbuf, KVM_PCPU_ERRSZ,
			    "kvm_pcpu_open: out of memory");
		errno = ENOMEM;
		return (NULL);
	}
	if (what == NULL || (len = strlen(what)) == 0 || len > 200 ||
	    (flags & ~(KVM_PCPU_STALE_OK | KVM_PCPU_COPY)) != 0) {
		kvm_pcpu_priv_err(kd, EINVAL,
		    "kvm_pcpu_open: bad arguments (name, flags %#x)",
		    (unsigned)flags);
		return (kvm_pcpu_priv_fail(kd, errbuf));
	}
	if (strchr(what, '/') == NULL) {
		/* A name: the calling user's segment. */
		if (!percpu_seg_name_ok(what, len) ||
		    strchr(what, ':') != NULL) {
			kvm_pcpu_priv_err(kd, EINVAL,
			    "kvm_pcpu_open: %s: not a segment name "
			    "([A-Za-z0-9_.-])",
			    what);
			return (kvm_pcpu_priv_fail(kd, errbuf));
		}
		(void)snprintf(kd->shm, sizeof(kd->shm), "/%s%u.%s",
		    PERCPU_SEG_SHM_PREFIX, (unsigned)geteuid(), what);
		(void)snprintf(kd->path, sizeof(kd->path), "/dev/shm%s",
		    kd->shm);
	} else {
		(void)snprintf(kd->path, sizeof(kd->path), "%s", what);
		if (strncmp(what, shmdir, strlen(shmdir)) == 0 &&
		    strchr(what + strlen(shmdir), '/') == NULL &&
		    what[strlen(shmdir)] != '\0')
			(void)snprintf(kd->shm, sizeof(kd->shm), "/%s",
			    what + strlen(shmdir));
	}
	if (kd->shm[0] != '\0')
		kd->claim = kvm_pcpu_priv_claim(kd->shm);
	if (kd->shm[0] != '\0' && (flags & KVM_PCPU_COPY) == 0) {
		kd->mode = KVM_PCPU_PRIV_LIVE;
		if (kvm_pcpu_priv_open_live(kd) != 0 ||
		    kvm_pcpu_priv_parse(kd) != 0)
			return (kvm_pcpu_priv_fail(kd, errbuf));
		kd->live = (kd->h.flags & PERCPU_SEG_F_SNAPSHOT) == 0;
		if (kd->live && (flags & KVM_PCPU_STALE_OK) == 0 &&
		    kvm_pcpu_priv_check_writer(kd) != 0)
			return (kvm_pcpu_priv_fail(kd, errbuf));
		return (kd);
	}
	kd->mode = KVM_PCPU_PRIV_FILE;
	if (kd->shm[0] != '\0') {
		/* KVM_PCPU_COPY: the same trust rules as a live open. */
		if ((fd = kvm_pcpu_priv_shm_open(kd, &st)) < 0)
			return (kvm_pcpu_priv_fail(kd, errbuf));
	} else {
		/* A snapshot file: never blocks on a FIFO either. */
		if ((fd = open(kd->path, O_RDONLY | O_NONBLOCK)) < 0) {
			kvm_pcpu_priv_openerr(kd, errno, 0);
			return (kvm_pcpu_priv_fail(kd, errbuf));
		}
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			kvm_pcpu_priv_err(kd, EINVAL, "%s: not a regular file",
			    kd->path);
			(void)close(fd);
			return (kvm_pcpu_priv_fail(kd, errbuf));
		}
	}
	if (kvm_pcpu_priv_load_file(kd, fd, (uint64_t)st.st_size) != 0) {
		(void)close(fd);
		return (kvm_pcpu_priv_fail(kd, errbuf));
	}
	(void)close(fd);
	if (kvm_pcpu_priv_parse(kd) != 0)
		return (kvm_pcpu_priv_fail(kd, errbuf));
	return (kd);
}

/*
 * kvm_pcpu_open_image - a segment image already in memory, used in place.
 *
 * Context: any thread; @image (8-byte aligned) stays valid until close.
 * Return: the handle, or NULL with errno and @errbuf.
 */
kvm_t *
kvm_pcpu_open_image(const void *image, size_t size, int flags, char *errbuf)
{
	kvm_t *kd = kvm_pcpu_priv_new();

	if (kd == NULL) {
		if (errbuf != NULL)
			(void)snprintf(errbuf, KVM_PCPU_ERRSZ,
			    "kvm_pcpu_open_image: out of memory");
		errno = ENOMEM;
		return (NULL);
	}
	kd->mode = KVM_PCPU_PRIV_IMAGE;
	(void)snprintf(kd->path, sizeof(kd->path), "(image)");
	if (image == NULL || ((uintptr_t)image & 7u) != 0 || flags != 0) {
		kvm_pcpu_priv_err(kd, EINVAL,
		    "kvm_pcpu_open_image: the image must be 8-byte aligned "
		    "(flags 0)");
		return (kvm_pcpu_priv_fail(kd, errbuf));
	}
	kd->seg = (unsigned char *)(uintptr_t)image;
	kd->size = size;
	if (kvm_pcpu_priv_parse(kd) != 0)
		return (kvm_pcpu_priv_fail(kd, errbuf));
	return (kd);
}

/*
 * kvm_close - release @kd.
 * Context: no other call on @kd may run.
 * Return: 0; -1 for NULL.
 */
int
kvm_close(kvm_t *kd)
{
	if (kd == NULL) {
		errno = EINVAL;
		return (-1);
	}
	kvm_pcpu_priv_release(kd);
	return (0);
}

/* kvm_geterr - the last message of @kd; "" for NULL (libkvm). */
char *
kvm_geterr(kvm_t *kd)
{
	static char empty[1]; /* never written */

	if (kd == NULL)
		return (empty);
	return (kd->err);
}

/* kvm_pcpu_errno - the class (errno value) of the last error of @kd. */
int
kvm_pcpu_errno(kvm_t *kd)
{
	return (kd == NULL ? EINVAL : kd->errnum);
}

/* ---- The seed's functions ---- */

/*
 * kvm_getmaxcpu - highest possible CPU id + 1.
 * Context: one thread per handle.
 * Return: the value, or -1; NULL resets every handle's cache (returns 0).
 */
int
kvm_getmaxcpu(kvm_t *kd)
{
	if (kd == NULL) {
		atomic_fetch_add_explicit(&kvm_pcpu_priv_epoch, 1u,
		    memory_order_relaxed);
		return (0);
	}
	if (kvm_pcpu_priv_fresh(kd) != 0)
		return (-1);
	return ((int)kd->h.maxcpu);
}

/* kvm_getncpus - the number of possible CPUs, or -1. */
int
kvm_getncpus(kvm_t *kd)
{
	if (kd == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (kvm_pcpu_priv_fresh(kd) != 0)
		return (-1);
	return ((int)kd->h.ncpu);
}

/*
 * kvm_getpcpu - a malloc'ed copy of CPU @cpu's struct pcpu.
 * Context: one thread per handle.
 * Return: the copy (free it); NULL if @cpu is not a possible CPU (and for
 *         a NULL handle, which resets the caches); (void *)-1 on error.
 */
void *
kvm_getpcpu(kvm_t *kd, int cpu)
{
	struct pcpu *p;

	if (kd == NULL) {
		atomic_fetch_add_explicit(&kvm_pcpu_priv_epoch, 1u,
		    memory_order_relaxed);
		return (NULL);
	}
	if (kvm_pcpu_priv_fresh(kd) != 0)
		return ((void *)-1);
	if (cpu < 0 || (unsigned)cpu >= kd->h.maxcpu ||
	    kd->pcpu[cpu].pc_flags == 0)
		return (NULL);
	if ((p = (struct pcpu *)malloc(sizeof(*p))) == NULL) {
		kvm_pcpu_priv_err(kd, ENOMEM, "kvm_getpcpu: out of memory");
		return ((void *)-1);
	}
	*p = kd->pcpu[cpu];
	return (p);
}

/* libkvm's _kvm_dpcpu_init: the template, CPU 0 selected if possible. */
static int
kvm_pcpu_priv_dpcpu_init(kvm_t *kd)
{
	if (kd->dpcpu_init)
		return (0);
	if (kvm_pcpu_priv_fresh(kd) != 0 || kd->h.dpcpu_tmpl_off == 0)
		return (-1);
	kd->dpcpu_init = 1;
	kd->dpcpu_cpu = 0;
	kd->dpcpu_curoff =
	    kd->pcpu[0].pc_flags != 0 ? kd->pcpu[0].pc_dynamic : 0;
	return (0);
}

/*
 * kvm_dpcpu_setcpu - select the CPU of DPCPU names in kvm_nlist().
 * Context: one thread per handle.
 * Return: 0, or -1 with libkvm's messages (see the manual above).
 */
int
kvm_dpcpu_setcpu(kvm_t *kd, unsigned int cpu)
{
	if (kd == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (!kd->dpcpu_init && kvm_pcpu_priv_dpcpu_init(kd) != 0) {
		kvm_pcpu_priv_err(kd, EINVAL, "kvm_dpcpu_setcpu: init failed");
		return (-1);
	}
	if (kvm_pcpu_priv_fresh(kd) != 0)
		return (-1);
	if (cpu >= kd->h.maxcpu) {
		kvm_pcpu_priv_err(kd, EINVAL,
		    "_kvm_dpcpu_setcpu: CPU %u too big", cpu);
		return (-1);
	}
	if (kd->pcpu[cpu].pc_flags == 0) {
		kvm_pcpu_priv_err(kd, EINVAL,
		    "_kvm_dpcpu_setcpu: CPU %u not found", cpu);
		return (-1);
	}
	kd->dpcpu_cpu = cpu;
	kd->dpcpu_curoff = kd->pcpu[cpu].pc_dynamic;
	return (0);
}

/* Find @name among the published records; NULL if none. */
static struct kvm_pcpu_entry *
kvm_pcpu_priv_find(kvm_t *kd, const char *name, int *err)
{
	uint32_t i, n = kvm_pcpu_priv_count(kd);
	struct kvm_pcpu_entry *e;

	for (i = 0; i < n; i++) {
		int rc = kvm_pcpu_priv_ent(kd, i, &e);

		if (rc < 0 && kd->errnum == ENOMEM) {
			*err = 1;
			return (NULL);
		}
		if (rc == 0 && strcmp(e->name, name) == 0)
			return (e);
	}
	return (NULL);
}

/*
 * kvm_nlist - resolve names (see the manual above).
 * Context: one thread per handle.
 * Ordering: acquire on reg_count and record states (see MEMORY ORDERING).
 * Return: the number of unresolved names, or -1 on error.
 */
int
kvm_nlist(kvm_t *kd, struct kvm_nlist *nl)
{
	static const char prefix[] = "pcpu_entry_";
	char sym[sizeof(prefix) + PERCPU_SEG_NAME_MAX + 1];
	struct kvm_nlist *p;
	int pass, missing = 0, err = 0;

	if (kd == NULL || nl == NULL) {
		errno = EINVAL;
		if (kd != NULL)
			kvm_pcpu_priv_err(kd, EINVAL, "kvm_nlist: NULL list");
		return (-1);
	}
	if (kvm_pcpu_priv_fresh(kd) != 0)
		return (-1);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1 &&
		    (missing == 0 || kvm_pcpu_priv_dpcpu_init(kd) != 0))
			break;
		missing = 0;
		for (p = nl; p->n_name != NULL && p->n_name[0] != '\0'; p++) {
			const char *nm = p->n_name;
			struct kvm_pcpu_entry *e;
			size_t len;

			if (p->n_type != KVM_PCPU_N_UNDF)
				continue;
			if (nm[0] == '_')
				nm++;
			len = strlen(nm);
			if (len > PERCPU_SEG_NAME_MAX) {
				missing++;
				continue;
			}
			if (pass == 0)
				memcpy(sym, nm, len + 1);
			else {
				memcpy(sym, prefix, sizeof(prefix) - 1);
				memcpy(sym + sizeof(prefix) - 1, nm, len + 1);
			}
			e = kvm_pcpu_priv_find(kd, sym, &err);
			if (err)
				return (-1);
			if (e == NULL) {
				missing++;
				continue;
			}
			p->n_type = (unsigned char)e->kind;
			p->n_other = (unsigned char)e->fmt;
			p->n_desc = 0;
			p->n_value = e->base;
			p->n_size = e->size;
			p->n_count = e->count;
			/* libkvm's _kvm_dpcpu_validaddr: only a DPCPU
			 * symbol found through the prefix is relocated. */
			if (pass == 1 && e->kind == KVM_PCPU_KIND_DPCPU)
				p->n_value =
				    (unsigned long)(e->base + kd->dpcpu_curoff);
		}
	}
	if (missing != 0)
		kvm_pcpu_priv_err(kd, ENOENT, "kvm_nlist: %d name%s not found",
		    missing, missing == 1 ? "" : "s");
	return (missing);
}

/*
 * kvm_read - @nbytes at segment offset @addr.
 * Return: @nbytes, or -1 ("kvm_read: invalid address (0x...)").
 */
ssize_t
kvm_read(kvm_t *kd, unsigned long addr, void *buf, size_t nbytes)
{
	if (kd == NULL || buf == NULL || nbytes > (size_t)SSIZE_MAX) {
		errno = EINVAL;
		return (-1);
	}
	if (kvm_pcpu_priv_fresh(kd) != 0)
		return (-1);
	if (!kvm_pcpu_priv_in(addr, nbytes, 0, kd->size)) {
		kvm_pcpu_priv_err(kd, EINVAL,
		    "kvm_read: invalid address (0x%lx, %zu bytes)", addr,
		    nbytes);
		return (-1);
	}
	if (kvm_pcpu_priv_get(kd, addr, buf, nbytes) != 0)
		return (-1);
	return ((ssize_t)nbytes);
}

/* The unit of possible CPU @cpu, or -1 (error set, naming @fn). */
static int64_t
kvm_pcpu_priv_unit(kvm_t *kd, int cpu, const char *fn)
{
	if (cpu < 0 || (unsigned)cpu >= kd->h.maxcpu ||
	    kd->pcpu[cpu].pc_flags == 0) {
		kvm_pcpu_priv_err(kd, EINVAL, "%s: CPU %d not found", fn, cpu);
		return (-1);
	}
	return ((int64_t)kd->pcpu[cpu].pc_unit);
}

/*
 * kvm_read_zpcpu - @size bytes of CPU @cpu's copy of the object at @base.
 * Return: @size; -1 on error; 0 if the CPU table cannot be loaded.
 */
ssize_t
kvm_read_zpcpu(kvm_t *kd, unsigned long base, void *buf, size_t size, int cpu)
{
	int64_t u;

	if (kd == NULL || buf == NULL || size > (size_t)SSIZE_MAX) {
		errno = EINVAL;
		return (-1);
	}
	if (kvm_pcpu_priv_fresh(kd) != 0)
		return (0);
	if ((u = kvm_pcpu_priv_unit(kd, cpu, "kvm_read_zpcpu")) < 0)
		return (-1);
	if (!kvm_pcpu_priv_zvalid(kd, base, size)) {
		kvm_pcpu_priv_err(kd, EINVAL,
		    "kvm_read_zpcpu: invalid address (0x%lx, %zu bytes)", base,
		    size);
		return (-1);
	}
	if (kvm_pcpu_priv_get(kd, base + (uint64_t)u * kd->h.stride, buf,
		size) != 0)
		return (-1);
	return ((ssize_t)size);
}

/* One CPU's term of the counter(9) slot at @slot (validated); 0 or -1. */
static int
kvm_pcpu_priv_cterm(kvm_t *kd, uint64_t slot, uint64_t *v)
{
	uint64_t base, count;

	/* Acquire: pairs with the release store of the baseline in
	 * counter_u64_zero(); the count below is not older. */
	if (kvm_pcpu_priv_get64(kd, slot + 8, memory_order_acquire, &base) !=
		0 ||
	    kvm_pcpu_priv_get64(kd, slot, memory_order_relaxed, &count) != 0)
		return (-1);
	*v = count - base;
	return (0);
}

static int
kvm_pcpu_priv_cbase(kvm_t *kd, unsigned long base)
{
	if (base % 8 != 0 || !kvm_pcpu_priv_zvalid(kd, base, 16)) {
		kvm_pcpu_priv_err(kd, EINVAL,
		    "kvm_counter_u64_fetch: invalid address (0x%lx)", base);
		return (-1);
	}
	return (0);
}

/*
 * kvm_pcpu_counter_u64_fetch - the counter(9) at @base, summed over every
 * possible CPU.
 * Ordering: per CPU, acquire on the baseline before the count (see
 *           MEMORY ORDERING).
 * Return: 0 (*@value set), or -1.
 */
int
kvm_pcpu_counter_u64_fetch(kvm_t *kd, unsigned long base, uint64_t *value)
{
	uint64_t sum = 0, v;
	unsigned cpu;

	if (kd == NULL || value == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (kvm_pcpu_priv_fresh(kd) != 0 || kvm_pcpu_priv_cbase(kd, base) != 0)
		return (-1);
	for (cpu = 0; cpu < kd->h.maxcpu; cpu++) {
		if (kd->pcpu[cpu].pc_flags == 0)
			continue;
		if (kvm_pcpu_priv_cterm(kd,
			base + (uint64_t)kd->pcpu[cpu].pc_unit * kd->h.stride,
			&v) != 0)
			return (-1);
		sum += v;
	}
	*value = sum;
	return (0);
}

/* kvm_counter_u64_fetch - as above; 0 on any error (libkvm). */
uint64_t
kvm_counter_u64_fetch(kvm_t *kd, unsigned long base)
{
	uint64_t v;

	return (kvm_pcpu_counter_u64_fetch(kd, base, &v) == 0 ? v : 0);
}

/* kvm_pcpu_counter_u64_cpu - CPU @cpu's term of the counter at @base. */
int
kvm_pcpu_counter_u64_cpu(kvm_t *kd, unsigned long base, int cpu,
    uint64_t *value)
{
	int64_t u;

	if (kd == NULL || value == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (kvm_pcpu_priv_fresh(kd) != 0 ||
	    kvm_pcpu_priv_cbase(kd, base) != 0 ||
	    (u = kvm_pcpu_priv_unit(kd, cpu, "kvm_pcpu_counter_u64_cpu")) < 0)
		return (-1);
	return (
	    kvm_pcpu_priv_cterm(kd, base + (uint64_t)u * kd->h.stride, value));
}

/*
 * kvm_pcpu_priv_set - one CPU's counters set at @c, consistent.
 *
 * Ordering: OpenBSD's counters_read(): acquire on the generation, copy,
 *           acquire fence, re-read; pairs with the release fences of
 *           cpumem_priv_open()/cpumem_priv_close() (cpumem.h).
 * Return: 0, or -1 if the set stayed busy (a snapshot taken while it was
 *         being updated never settles: one try).
 */
static int
kvm_pcpu_priv_set(kvm_t *kd, uint64_t c, unsigned n, int cpu, uint64_t *tmp)
{
	int tries = kd->mode == KVM_PCPU_PRIV_LIVE && kd->live ?
	    KVM_PCPU_PRIV_RETRIES :
	    1;
	int i;
	unsigned k;

	for (i = 0; i < tries; i++) {
		uint64_t g, g2;

		if (i > 16)
			thrd_yield();
		if (kvm_pcpu_priv_get64(kd, c, memory_order_acquire, &g) != 0) {
			if (kd->errnum == EBADMSG)
				return (-1); /* shrank */
			continue;
		}
		if ((g & 1u) != 0)
			continue;
		if (kd->mode == KVM_PCPU_PRIV_LIVE) {
			/* One copy of the whole set (pread). */
			if (kvm_pcpu_priv_get(kd, c + 8, tmp, (size_t)n * 8) !=
			    0)
				return (-1);
		} else {
			for (k = 0; k < n; k++)
				if (kvm_pcpu_priv_get64(kd,
					c + 8 + (size_t)k * 8,
					memory_order_relaxed, &tmp[k]) != 0)
					break;
			if (k < n)
				continue;
		}
		/* Acquire fence: the copies above before the re-read;
		 * pairs with the release fence in cpumem_priv_close(). */
		atomic_thread_fence(memory_order_acquire);
		if (kvm_pcpu_priv_get64(kd, c, memory_order_relaxed, &g2) !=
		    0) {
			if (kd->errnum == EBADMSG)
				return (-1);
			continue;
		}
		if (g2 == g)
			return (0);
	}
	kvm_pcpu_priv_err(kd, EAGAIN,
	    "kvm_pcpu_counters_read: CPU %d: the set stayed busy", cpu);
	return (-1);
}

/*
 * kvm_pcpu_counters_read - the counters_alloc(9) set of @n counters at
 * @base: out[i] = the sum over every possible CPU (@cpu -1) or CPU @cpu's.
 * Return: 0, or -1 (@out unspecified).
 */
int
kvm_pcpu_counters_read(kvm_t *kd, unsigned long base, unsigned n, int cpu,
    uint64_t *out)
{
	uint64_t *tmp;
	unsigned c, k;
	int rc = 0;

	if (kd == NULL || out == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (kvm_pcpu_priv_fresh(kd) != 0)
		return (-1);
	if (n == 0 || n > (1u << 28) || base % 8 != 0 ||
	    !kvm_pcpu_priv_zvalid(kd, base, ((uint64_t)n + 1) * 8)) {
		kvm_pcpu_priv_err(kd, EINVAL,
		    "kvm_pcpu_counters_read: invalid address (0x%lx, %u "
		    "counters)",
		    base, n);
		return (-1);
	}
	if (cpu != -1 &&
	    kvm_pcpu_priv_unit(kd, cpu, "kvm_pcpu_counters_read") < 0)
		return (-1);
	if ((tmp = (uint64_t *)malloc((size_t)n * 8)) == NULL) {
		kvm_pcpu_priv_err(kd, ENOMEM,
		    "kvm_pcpu_counters_read: out of memory");
		return (-1);
	}
	memset(out, 0, (size_t)n * 8);
	/* One CPU: its set alone (no walk of the others). */
	for (c = cpu != -1 ? (unsigned)cpu : 0;
	     c < (cpu != -1 ? (unsigned)cpu + 1 : kd->h.maxcpu) && rc == 0;
	     c++) {
		if (kd->pcpu[c].pc_flags == 0)
			continue;
		rc = kvm_pcpu_priv_set(kd,
		    base + (uint64_t)kd->pcpu[c].pc_unit * kd->h.stride, n,
		    (int)c, tmp);
		for (k = 0; k < n && rc == 0; k++)
			out[k] += tmp[k];
	}
	free(tmp);
	return (rc);
}

/* kvm_pcpu_cpu_possible - 1 if @cpu is a possible CPU of @kd. */
int
kvm_pcpu_cpu_possible(kvm_t *kd, int cpu)
{
	if (kd == NULL || kvm_pcpu_priv_fresh(kd) != 0)
		return (0);
	return (cpu >= 0 && (unsigned)cpu < kd->h.maxcpu &&
	    kd->pcpu[cpu].pc_flags != 0);
}

/* kvm_pcpu_nentries - records published so far (clamped). */
unsigned
kvm_pcpu_nentries(kvm_t *kd)
{
	if (kd == NULL || kvm_pcpu_priv_fresh(kd) != 0)
		return (0);
	return (kvm_pcpu_priv_count(kd));
}

/*
 * kvm_pcpu_entry - registry record @i.
 * Return: 0 (*@e set), 1 not in use, -1 corrupt or error (message set).
 */
int
kvm_pcpu_entry(kvm_t *kd, unsigned i, struct kvm_pcpu_entry *e)
{
	struct kvm_pcpu_entry *c;
	int rc;

	if (kd == NULL || e == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (kvm_pcpu_priv_fresh(kd) != 0)
		return (-1);
	if (i >= kvm_pcpu_priv_count(kd))
		return (1);
	if ((rc = kvm_pcpu_priv_ent(kd, i, &c)) == 0)
		*e = *c;
	return (rc);
}

/*
 * kvm_pcpu_status - is the writer still there?
 * Return: KVM_PCPU_RUNNING, _GONE, _RESTARTED, _SNAPSHOT, or -1.
 */
int
kvm_pcpu_status(kvm_t *kd)
{
	struct percpu_seg_hdr h;
	struct stat st;
	const char *why;
	char err[KVM_PCPU_ERRSZ];
	int fd, e, w;

	if (kd == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (!kd->live)
		return (KVM_PCPU_SNAPSHOT);
	/* Does the name still lead to this instance?  A new writer under
	 * it is a restart, whatever became of the old one.  The name is
	 * opened as any live one (trusted, never blocking); its message, if
	 * it is not, is not this handle's. */
	e = kd->errnum;
	memcpy(err, kd->err, sizeof(err));
	if ((fd = kvm_pcpu_priv_shm_open(kd, &st)) >= 0) {
		int other = kvm_pcpu_priv_pread(fd, 0, (unsigned char *)&h,
				sizeof(h)) == 0 &&
		    memcmp(h.magic, PERCPU_SEG_MAGIC, sizeof(h.magic)) == 0 &&
		    memcmp(h.instance, kd->h.instance, sizeof(h.instance)) != 0;

		(void)close(fd);
		if (other)
			return (KVM_PCPU_RESTARTED);
	}
	kd->errnum = e;
	memcpy(kd->err, err, sizeof(err));
	w = kvm_pcpu_priv_writer(kd, &why);
	if (w < 0)
		return (-1);
	return (w == 1 ? KVM_PCPU_RUNNING : KVM_PCPU_GONE);
}

/* kvm_pcpu_info - what the segment says about itself; 0 or -1. */
int
kvm_pcpu_info(kvm_t *kd, struct kvm_pcpu_info *info)
{
	uint64_t hb, gen;
	uint32_t state;

	if (kd == NULL || info == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (kvm_pcpu_priv_fresh(kd) != 0)
		return (-1);
	/* Acquire: pairs with the release stores of state (READY,
	 * CLOSED) in percpu_export.h. */
	if (kvm_pcpu_priv_get32(kd, offsetof(struct percpu_seg_hdr, state),
		memory_order_acquire, &state) != 0 ||
	    kvm_pcpu_priv_get64(kd,
		offsetof(struct percpu_seg_hdr, heartbeat_ns),
		memory_order_relaxed, &hb) != 0 ||
	    kvm_pcpu_priv_get64(kd, offsetof(struct percpu_seg_hdr, generation),
		memory_order_relaxed, &gen) != 0)
		return (-1);
	memset(info, 0, sizeof(*info));
	info->state = state;
	info->heartbeat_ns = hb;
	info->generation = gen;
	(void)snprintf(info->path, sizeof(info->path), "%s", kd->path);
	info->live = kd->live;
	info->major = kd->h.major;
	info->minor = kd->h.minor;
	info->ptr_size = kd->h.ptr_size;
	info->atomic64 = kd->h.atomic64;
	info->maxcpu = kd->h.maxcpu;
	info->ncpu = kd->h.ncpu;
	info->stride = kd->h.stride;
	info->total_size = kd->h.total_size;
	info->pid = kd->h.pid;
	memcpy(info->instance, kd->h.instance, sizeof(info->instance));
	info->start_ns = kd->h.start_ns;
	info->snapshot_ns = kd->h.snapshot_ns;
	info->entries = kvm_pcpu_priv_count(kd);
	return (0);
}

/* ---- Snapshots ---- */

/* write(2) all of @len; 0 or -1. */
static int
kvm_pcpu_priv_write(int fd, const void *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Copy [off, end) of the segment to @out at the same offset, skipping
 * all-zero pages (they stay holes); *@hi = end of the last write. */
static int
kvm_pcpu_priv_save_range(int out, const unsigned char *seg, int fd,
    uint64_t off, uint64_t end, unsigned char *buf, uint64_t *hi)
{
	static const unsigned char zero[4096] = {0};

	while (off < end) {
		size_t n = (size_t)(end - off < 4096 ? end - off : 4096);

		if (seg != NULL)
			kvm_pcpu_priv_copy(buf, seg + off, n);
		else if (kvm_pcpu_priv_pread(fd, off, buf, n) != 0) {
			errno = EIO; /* the file shrank */
			return (-1);
		}
		if (memcmp(buf, zero, n) != 0) {
			if (lseek(out, (off_t)off, SEEK_SET) != (off_t)off ||
			    kvm_pcpu_priv_write(out, buf, n) != 0)
				return (-1);
			*hi = off + n;
		}
		off += n;
	}
	return (0);
}

int
kvm_pcpu_priv_save(const unsigned char *seg, size_t size, int fd,
    const char *path, uint64_t pid, char *err, size_t errlen)
{
	struct percpu_seg_hdr h;
	unsigned char buf[4096];
	char tmp[4200];
	uint64_t off, end, hi = 0;
	uint32_t v;
	int out, e;

	if (size < PERCPU_SEG_HDR_SIZE || strlen(path) > 4000) {
		(void)snprintf(err, errlen, "%s: bad arguments", path);
		errno = EINVAL;
		return (-1);
	}
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	/* O_EXCL: never through a planted link. */
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (out >= 0)
		(void)fchmod(out, 0600); /* whatever the umask */
	if (out < 0) {
		e = errno;
		(void)snprintf(err, errlen, "%s: %s", tmp, strerror(e));
		errno = e;
		return (-1);
	}
	/* The header: the writer's, with its mutable words read once
	 * (@seg NULL: a live segment read with pread from @fd). */
	if (seg != NULL) {
		kvm_pcpu_priv_copy(&h, seg, sizeof(h));
		v = kvm_pcpu_priv_ld32(seg +
			offsetof(struct percpu_seg_hdr, reg_count),
		    memory_order_acquire);
	} else if (kvm_pcpu_priv_pread(fd, 0, (unsigned char *)&h, sizeof(h)) ==
	    0) {
		memcpy(&v,
		    (const unsigned char *)&h +
			offsetof(struct percpu_seg_hdr, reg_count),
		    sizeof(v));
		/* Acquire fence: reg_count before the records (see
		 * kvm_pcpu_priv_get32()). */
		atomic_thread_fence(memory_order_acquire);
	} else {
		errno = EIO;
		goto fail;
	}
	atomic_store_explicit(&h.reg_count, v, memory_order_relaxed);
	atomic_store_explicit(&h.state, PERCPU_SEG_SNAPSHOT,
	    memory_order_relaxed);
	h.flags = (uint16_t)(h.flags | PERCPU_SEG_F_SNAPSHOT);
	h.snapshot_ns = kvm_pcpu_priv_now_ns();
	if (pid != 0)
		h.pid = pid;
	if (kvm_pcpu_priv_write(out, &h, sizeof(h)) != 0)
		goto fail;
	hi = sizeof(h);
	for (off = sizeof(h); off < size; off = end) {
		end = size;
#ifdef KVM_PCPU_PRIV_SEEK_DATA
		if (fd >= 0) {
			off_t d =
			    lseek(fd, (off_t)off, KVM_PCPU_PRIV_SEEK_DATA);
			off_t x;

			if (d < 0 && errno == ENXIO)
				break;
			if (d >= 0 &&
			    (x = lseek(fd, d, KVM_PCPU_PRIV_SEEK_HOLE)) > d) {
				off = (uint64_t)d > off ? (uint64_t)d : off;
				end = (uint64_t)x < size ? (uint64_t)x : size;
			}
		}
#endif
		if (off < end &&
		    kvm_pcpu_priv_save_range(out, seg, fd, off, end, buf,
			&hi) != 0)
			goto fail;
	}
	/* The size: a trailing hole still counts. */
	if (hi < size &&
	    (lseek(out, (off_t)(size - 1), SEEK_SET) != (off_t)(size - 1) ||
		kvm_pcpu_priv_write(out, "", 1) != 0))
		goto fail;
	if (fsync(out) != 0 || close(out) != 0) {
		out = -1;
		goto fail;
	}
	out = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	return (0);
fail:
	e = errno != 0 ? errno : EIO;
	(void)snprintf(err, errlen, "%s: %s", path, strerror(e));
	if (out >= 0)
		(void)close(out);
	(void)unlink(tmp);
	errno = e;
	return (-1);
}

/*
 * kvm_pcpu_snapshot - save @kd's segment as a snapshot file @path.
 * Context: one thread per handle; a live segment keeps changing while it
 *          is copied (each 64-bit word is read whole).
 * Return: 0, or -1 (message in kvm_geterr).
 */
int
kvm_pcpu_snapshot(kvm_t *kd, const char *path)
{
	char msg[KVM_PCPU_ERRSZ - 64];
	int e;

	if (kd == NULL || path == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (kvm_pcpu_priv_save(kd->mode == KVM_PCPU_PRIV_LIVE ? NULL : kd->seg,
		kd->size, kd->mode == KVM_PCPU_PRIV_LIVE ? kd->fd : -1, path, 0,
		msg, sizeof(msg)) != 0) {
		e = errno;
		kvm_pcpu_priv_err(kd, e, "kvm_pcpu_snapshot: %s", msg);
		return (-1);
	}
	return (0);
}

#endif /* PERCPU_IMPLEMENTATION */

#ifdef PERCPU_IMPLEMENTATION
#include "percpu/whole.h" /* one switch: the whole implementation */
#endif
