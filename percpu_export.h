/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu_export.h - export a program's per-CPU arena and a registry of
 * named objects (counter(9) counters, OpenBSD counters, DPCPU variables,
 * percpu(9) and cpumem(9) memory) for readers in other processes: the
 * writer side of the kvm_getpcpu(3) family (reader: kvm_pcpu.h, tool:
 * tools/pcpustat).
 *
 * USAGE
 *	In exactly one .c file of the program (the one that defines the
 *	toolkit's state):
 *
 *		#define PERCPU_IMPLEMENTATION
 *		#include "percpu_export.h"
 *
 *	everywhere else #include "percpu_export.h" where objects are
 *	registered.  Then, first thing in main(), before any other call of
 *	the toolkit:
 *
 *		if (percpu_export_open("myserver", NULL) != 0)
 *			warn("not exported: %s", percpu_export_error());
 *		rx = counter_u64_alloc(M_WAITOK);
 *		percpu_export_counter_u64("net.rx_packets", rx);
 *		PERCPU_EXPORT_DPCPU(pkts);	// a DPCPU_DEFINE'd variable
 *		...
 *		percpu_export_close();		// at exit: unlink the name
 *
 *	and from another process, as the same user:
 *
 *		pcpustat -n myserver -c		// or kvm_pcpu_open("myserver")
 *
 *	Programs that do not include this header pay nothing: their arena
 *	stays anonymous memory.  A program that includes it and never calls
 *	percpu_export_open() pays nothing at run time either.
 *
 * WHAT IT DOES
 *	percpu_export_open() creates the shared-memory object for
 *	/dev/shm/pcpu.<euid>.<name>, mode 0600 (whatever the umask), sizes
 *	it once (sparse: tmpfs backs only the pages written) and installs a
 *	chunk provider (percpu_set_chunk_provider()) so that the toolkit's
 *	per-CPU arena lives inside it: every per-CPU object of the program,
 *	DPCPU copies included, is then readable by the reader at the same
 *	offsets, with no copying and no cost on the update paths.  The
 *	segment's layout is percpu/seg.h: a self-describing header (magic,
 *	version, byte order, pointer size, maxcpu, the possible-CPU mask and
 *	a struct pcpu per CPU, the stride, region offsets, pid, a random
 *	instance id, start time, heartbeat), the DPCPU template, the
 *	registry, the string table and the arena.
 *	Registering an object writes a record naming it (kind, offset, size,
 *	element format); the reader needs nothing else to find and decode it.
 *
 * NAME AND LIFETIME
 *	The segment is built under a temporary name (/dev/shm/.pcpu.<euid>.
 *	<name>.<random>, which no reader lists) and holds an exclusive flock(2)
 *	from its creation, on a close-on-exec descriptor: the kernel drops
 *	it when the writer exits, is killed (before anyone reaps it) or
 *	execs.  Once READY it is linked at its name (link(2): the name was
 *	free) or renamed over a stale segment (rename(2), holding that
 *	one's lock, so no other starter replaces it too).  So a reader never
 *	sees a segment being built, a writer that re-execs itself exports
 *	again, and of writers starting together exactly one gets the name.
 *	A name that holds anything else than a segment of this user (a
 *	FIFO, a link, another user's file) is squatted: opened without
 *	blocking or following, never replaced, reported (EPERM).  A name
 *	refused (a running writer, a squatter) does not stop the segment
 *	from being built: the arena moves in, the temporary name is
 *	unlinked, and the segment stays without any name until a retry
 *	publishes it (API: RETRY).  Close unlinks the name only while it
 *	leads to this segment.
 *	A builder killed while it builds leaves its temporary name behind;
 *	every percpu_export_open() (a retry too) first sweeps /dev/shm once
 *	for such names of this user (.pcpu.<euid>.*, any segment name; the
 *	first 64 in directory order per call: 64 entries of that pattern
 *	that are never removed, such as files another user planted, stop
 *	the sweep for good, and leftovers then stay as before) and removes
 *	each that is a
 *	regular file of this user, not empty (a builder sizes its file only
 *	once it holds the lock; an empty one is left for 60 s, the time a
 *	builder may take between creating and locking it), whose exclusive
 *	flock(2) it gets at once (so no builder is alive: the kernel drops
 *	the lock of a dead one), and only while the name still leads to
 *	that file.  Files are opened without following a link or blocking;
 *	anything else planted there (a link, a FIFO, a directory, another
 *	user's file) is not a builder's and is left alone.  The sweep is best
 *	effort: its errors (an unreadable entry, no /dev/shm) are ignored and
 *	never fail the open.  Without locks (flock fails), nothing is swept.
 *	A builder checks, once locked, that its name was not swept meanwhile
 *	(then starts again under a fresh one).
 *
 * API
 *	int percpu_export_open(const char *name,
 *	    const struct percpu_export_opts *opts)
 *		Start exporting under @name ([A-Za-z0-9_.-], 1..200 bytes).
 *		Must run before the toolkit's first use (it places the arena)
 *		and succeeds at most once per process.  @opts may be NULL
 *		(defaults).  A leftover segment of the same name whose writer
 *		is gone (crashed without percpu_export_close()) is replaced;
 *		one whose writer runs is an error.  On failure the program
 *		keeps working unexported.  0, or -1 with errno: EINVAL (bad
 *		name or options), EBUSY (the toolkit is already in use:
 *		"the toolkit is already in use: call percpu_export_open()
 *		before any other of its functions", or an export was already
 *		opened: "already called in this process"), EEXIST (the name
 *		is in use by a running writer: "in use by pid P, a running
 *		writer: stop it or choose another name"), EPERM (the name is
 *		squatted: "squatted: a FIFO of uid U, not a segment of this
 *		user (uid M), is at the name; it cannot be replaced: remove it
 *		(as uid U or root) or choose another name"), ENOTRECOVERABLE
 *		(a retry that cannot work, below), ENOTSUP (UP build, or no
 *		lock-free 32-bit atomics), EAGAIN (the segment's temporary
 *		file was taken away before it could be locked, four times:
 *		NAME AND LIFETIME), or the errno of shm_open/mmap/link.
 *		RETRY: after a failure it may be called again, with another
 *		name for instance.  EINVAL and EBUSY "the toolkit is already
 *		in use" changed nothing: a new call is a first call.  Where
 *		only the name was refused (EEXIST, EPERM, or link(2)'s errno),
 *		the segment was made and the arena already lives in it,
 *		without any name (nothing left in /dev/shm): the retry
 *		publishes that segment under its @name, then everything is as
 *		after a first success; it keeps the first call's chunks,
 *		records and strtab (its heartbeat_ms applies); it copies the
 *		segment into a new file (the old one had to lose its name),
 *		so, like the first call, it must run while no other thread
 *		uses the toolkit.  A retry fails with ENOTRECOVERABLE where
 *		the first failure came before the segment existed (the arena
 *		then lives in private memory: "cannot retry: the first call
 *		failed before its segment was made, so the toolkit's arena
 *		lives in private memory; only a new process can export it"),
 *		and in a fork child of a process whose call failed ("cannot
 *		retry in a fork child: its arena is a private copy of its
 *		parent's, whose call failed").  After a success, every call
 *		fails with EBUSY "already called in this process".
 *	struct percpu_export_opts
 *		chunks	arena chunks to reserve (each ncpu * PERCPU_UNIT_SIZE
 *			bytes of address space); default 4, at most 64.
 *			Chunks beyond are anonymous memory: objects there
 *			cannot be registered (EFAULT).
 *		records	registry capacity; default 4096.
 *		strtab	bytes of names; default 256 KiB.
 *		heartbeat_ms	> 0: a thread stores the time every so many
 *			ms; 0 (default): only percpu_export_heartbeat() does.
 *	int percpu_export_close(void)
 *		Mark the segment CLOSED (readers see "writer gone") and unlink
 *		its name.  The memory stays mapped: the arena lives there.
 *		Registrations then fail.  0, or -1 (EBADF: not exporting).
 *	int percpu_export_snapshot(const char *path)
 *		Write the segment as a snapshot file (the same format, state
 *		SNAPSHOT, mode 0600, through "<path>.tmp" and rename, holes
 *		kept).  Read it later with kvm_pcpu_open(path) or
 *		pcpustat -r path.  0, or -1 with errno.
 *	void percpu_export_heartbeat(void)
 *		Store the current time in the header (a sign of life).
 *	const char *percpu_export_path(void)
 *		"/dev/shm/pcpu.<euid>.<name>" while exporting, else NULL.
 *	const char *percpu_export_error(void)
 *		The message of the last failure of this header's functions.
 *
 *   Registration (0, or -1 with errno: EINVAL bad name or object, EEXIST
 *   the name is registered, ENOSPC registry or string table full, EFAULT
 *   the object is not in the exported arena, EBADF not exporting)
 *	int percpu_export_counter_u64(const char *name, counter_u64_t c)
 *		A counter(9) counter (an early one too: it is resolved here).
 *	int percpu_export_counters(const char *name, struct cpumem *cm,
 *	    unsigned n)
 *		An OpenBSD counters_alloc(n) set (boot counters once upgraded).
 *	int percpu_export_percpu(const char *name, percpu_t *pc, int fmt)
 *	int percpu_export_cpumem(const char *name, struct cpumem *cm,
 *	    size_t size, int fmt)
 *		Per-CPU memory; @fmt (PERCPU_EXPORT_FMT_*) tells a reader how
 *		to show its elements (PERCPU_EXPORT_FMT_BYTES: raw bytes).
 *	PERCPU_EXPORT_DPCPU(var)
 *	PERCPU_EXPORT_DPCPU_FMT(var, fmt)
 *		A DPCPU_DEFINE'd variable, under its symbol name
 *		"pcpu_entry_<var>" (so kvm_nlist finds "_<var>" through
 *		libkvm's prefix rule).  The format defaults to the variable's
 *		scalar type (raw bytes for arrays and structs).
 *	int percpu_export_unregister(const char *name)
 *		Withdraw a name (before freeing its object).  The record is
 *		marked RECLAIMED and never reused.  0, or -1 (ENOENT).
 *
 * CONTEXT
 *	open: first thing, one thread.  Registration, unregister, snapshot,
 *	close: thread context (a mutex; registration of an early counter may
 *	allocate).  heartbeat: anywhere.
 *
 * MEMORY ORDERING (partners in kvm_pcpu.h)
 *	The header is complete before state becomes READY (release; pairs
 *	with the acquire in kvm_pcpu_priv_open_live()/kvm_pcpu_priv_parse()).
 *	A record and its name are written before its state becomes ALLOC
 *	(release; pairs with the acquire in kvm_pcpu_priv_rec()), and the
 *	state before reg_count moves past it (release; pairs with
 *	kvm_pcpu_priv_count()).  RECLAIMED and CLOSED are release stores too.
 *	The objects themselves are updated as always: readers rely on the
 *	faces' own protocols (counter(9) baselines, counters generations).
 *
 * FORK
 *	A child must not write its parent's counters (the toolkit promises a
 *	child its own copy).  A pthread_atfork handler, registered before the
 *	core's, gives the child a private copy of the segment at the same
 *	address before anything else runs there; the child exports nothing
 *	(its close does not unlink the parent's name; its snapshots carry
 *	its own pid) and closes its copy of the segment's descriptor (the
 *	lock stays the parent's).  If the copy cannot be made the child
 *	aborts with a message rather than corrupt the parent.
 *
 * LIMITS
 *	One export per process (a failed open may be retried: API).
 *	Objects freed while registered leave a stale record: unregister
 *	first.  A process killed while it builds its segment leaves the
 *	temporary name behind until the next percpu_export_open() of the
 *	same user, any name, removes it (NAME AND LIFETIME); an empty one
 *	(killed between creating and locking its file) stays at least 60 s,
 *	and none is removed where flock(2) fails.  Liveness needs flock(2);
 *	where it fails (no locks), the pid check of old is used (then
 *	readers must run in the writer's pid namespace).
 *
 * UP (PERCPU_MP=0)
 *	No arena, so nothing to export: every function fails with ENOTSUP
 *	(heartbeat does nothing, path is NULL).  The reader works in any
 *	build.
 */
#ifndef PERCPU_EXPORT_H
#define PERCPU_EXPORT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "counter.h"
#include "cpumem.h"
#include "dpcpu.h"
#include "percpu.h"
#include "percpu/seg.h"

/* Exporting needs an MP build on a hosted port (shared memory, files). */
#if PERCPU_MP && PERCPU_MD_HOSTED
# define PERCPU_EXPORT_PRIV_ON 1
# include "kvm_pcpu.h"
#else
# define PERCPU_EXPORT_PRIV_ON 0
#endif

PERCPU_BEGIN_DECLS /* C++: extern "C" up to the end of this header */
/* Element formats (percpu/seg.h). */
#define PERCPU_EXPORT_FMT_BYTES PERCPU_SEG_FMT_BYTES
#define PERCPU_EXPORT_FMT_U8 PERCPU_SEG_FMT_U8
#define PERCPU_EXPORT_FMT_U16 PERCPU_SEG_FMT_U16
#define PERCPU_EXPORT_FMT_U32 PERCPU_SEG_FMT_U32
#define PERCPU_EXPORT_FMT_U64 PERCPU_SEG_FMT_U64
#define PERCPU_EXPORT_FMT_I8 PERCPU_SEG_FMT_I8
#define PERCPU_EXPORT_FMT_I16 PERCPU_SEG_FMT_I16
#define PERCPU_EXPORT_FMT_I32 PERCPU_SEG_FMT_I32
#define PERCPU_EXPORT_FMT_I64 PERCPU_SEG_FMT_I64
#define PERCPU_EXPORT_FMT_F32 PERCPU_SEG_FMT_F32
#define PERCPU_EXPORT_FMT_F64 PERCPU_SEG_FMT_F64

struct percpu_export_opts {
	unsigned chunks;       /* arena chunks to reserve (0: 4) */
	unsigned records;      /* registry records (0: 4096) */
	unsigned strtab;       /* bytes of names (0: 256 KiB) */
	unsigned heartbeat_ms; /* 0: no heartbeat thread */
};

int percpu_export_open(const char *name, const struct percpu_export_opts *opts);
int percpu_export_close(void);
int percpu_export_snapshot(const char *path);
void percpu_export_heartbeat(void);
const char *percpu_export_path(void);
const char *percpu_export_error(void);
int percpu_export_unregister(const char *name);

/*
 * percpu_export_priv_add - register @name for the object whose unit-0 copy
 * (kinds COUNTER_U64, COUNTERS, PCPU) or template (DPCPU) is at @obj.
 * Context: thread context.  Return: 0, or -1 with errno.
 */
int percpu_export_priv_add(const char *name, unsigned kind, unsigned fmt,
    const void *obj, size_t size, unsigned count);

_Static_assert(sizeof(short) == 2 && sizeof(int) == 4 && sizeof(long long) == 8,
    "percpu_export.h: formats assume 16-bit short and 32-bit int");

/* The element format of an object of scalar type (raw bytes otherwise). */
#ifdef __cplusplus
/* C++ has no _Generic: a trait on the object's decayed type instead. */
extern "C++" {
template <typename T> struct percpu_export_priv_fmt {
	static const unsigned fmt = PERCPU_SEG_FMT_BYTES;
};
# define PERCPU_EXPORT_PRIV_FMT(T, f)            \
  template <> struct percpu_export_priv_fmt<T> { \
   static const unsigned fmt = (unsigned)(f);    \
  };
PERCPU_EXPORT_PRIV_FMT(bool, PERCPU_SEG_FMT_U8)
PERCPU_EXPORT_PRIV_FMT(char,
    CHAR_MIN < 0 ? PERCPU_SEG_FMT_I8 : PERCPU_SEG_FMT_U8)
PERCPU_EXPORT_PRIV_FMT(signed char, PERCPU_SEG_FMT_I8)
PERCPU_EXPORT_PRIV_FMT(unsigned char, PERCPU_SEG_FMT_U8)
PERCPU_EXPORT_PRIV_FMT(short, PERCPU_SEG_FMT_I16)
PERCPU_EXPORT_PRIV_FMT(unsigned short, PERCPU_SEG_FMT_U16)
PERCPU_EXPORT_PRIV_FMT(int, PERCPU_SEG_FMT_I32)
PERCPU_EXPORT_PRIV_FMT(unsigned int, PERCPU_SEG_FMT_U32)
PERCPU_EXPORT_PRIV_FMT(long,
    sizeof(long) == 8 ? PERCPU_SEG_FMT_I64 : PERCPU_SEG_FMT_I32)
PERCPU_EXPORT_PRIV_FMT(unsigned long,
    sizeof(long) == 8 ? PERCPU_SEG_FMT_U64 : PERCPU_SEG_FMT_U32)
PERCPU_EXPORT_PRIV_FMT(long long, PERCPU_SEG_FMT_I64)
PERCPU_EXPORT_PRIV_FMT(unsigned long long, PERCPU_SEG_FMT_U64)
PERCPU_EXPORT_PRIV_FMT(float, PERCPU_SEG_FMT_F32)
PERCPU_EXPORT_PRIV_FMT(double, PERCPU_SEG_FMT_F64)
}
# define PERCPU_EXPORT_FMT_OF(obj) \
  (percpu_export_priv_fmt<std::decay<decltype(obj)>::type>::fmt)
#else
/* clang-format off */
#define PERCPU_EXPORT_FMT_OF(obj)                                       \
	_Generic((obj),                                                 \
	    _Bool: PERCPU_SEG_FMT_U8,                                   \
	    char: (CHAR_MIN < 0 ? PERCPU_SEG_FMT_I8 : PERCPU_SEG_FMT_U8), \
	    signed char: PERCPU_SEG_FMT_I8,                             \
	    unsigned char: PERCPU_SEG_FMT_U8,                           \
	    short: PERCPU_SEG_FMT_I16,                                  \
	    unsigned short: PERCPU_SEG_FMT_U16,                         \
	    int: PERCPU_SEG_FMT_I32,                                    \
	    unsigned int: PERCPU_SEG_FMT_U32,                           \
	    long: (sizeof(long) == 8 ? PERCPU_SEG_FMT_I64 :             \
		PERCPU_SEG_FMT_I32),                                    \
	    unsigned long: (sizeof(long) == 8 ? PERCPU_SEG_FMT_U64 :    \
		PERCPU_SEG_FMT_U32),                                    \
	    long long: PERCPU_SEG_FMT_I64,                              \
	    unsigned long long: PERCPU_SEG_FMT_U64,                     \
	    float: PERCPU_SEG_FMT_F32,                                  \
	    double: PERCPU_SEG_FMT_F64,                                 \
	    default: PERCPU_SEG_FMT_BYTES)
/* clang-format on */
#endif /* __cplusplus */

/* Elements of @size bytes in format @fmt (raw bytes: @size). */
static inline unsigned
percpu_export_priv_count(size_t size, unsigned fmt)
{
	static const unsigned char esize[PERCPU_SEG_FMT_MAX + 1] = {1, 1, 2, 4,
	    8, 1, 2, 4, 8, 4, 8};

	if (fmt > PERCPU_SEG_FMT_MAX || size % esize[fmt] != 0 ||
	    size / esize[fmt] > UINT_MAX)
		return (0);
	return ((unsigned)(size / esize[fmt]));
}

#define PERCPU_EXPORT_DPCPU_FMT(n, fmt)                                    \
 percpu_export_priv_add(DPCPU_SYMPREFIX #n, PERCPU_SEG_KIND_DPCPU,         \
     (unsigned)(fmt), (const void *)&DPCPU_NAME(n), sizeof(DPCPU_NAME(n)), \
     percpu_export_priv_count(sizeof(DPCPU_NAME(n)), (unsigned)(fmt)))
#define PERCPU_EXPORT_DPCPU(n) \
 PERCPU_EXPORT_DPCPU_FMT(n, PERCPU_EXPORT_FMT_OF(DPCPU_NAME(n)))

#if PERCPU_EXPORT_PRIV_ON
_Static_assert(sizeof(struct counter_priv_slot) == 16 &&
	offsetof(struct counter_priv_slot, cs_count) == 0 &&
	offsetof(struct counter_priv_slot, cs_base) == 8,
    "percpu_export.h: counter(9) slots changed: give them a new kind in "
    "percpu/seg.h");
#endif

/*
 * percpu_export_counter_u64 - register the counter(9) counter @c.
 * Context: thread context (an early counter is allocated here).
 * UP: -1, ENOTSUP.
 * Return: 0, or -1 with errno.
 */
static inline int
percpu_export_counter_u64(const char *name, counter_u64_t c)
{
	if (c == NULL)
		return (percpu_export_priv_add(name, 0, 0, NULL, 0, 0));
	return (percpu_export_priv_add(name, PERCPU_SEG_KIND_COUNTER_U64, 0,
	    counter_priv_resolve(c), sizeof(struct counter_priv_slot), 1));
}

/* The arena handle of cpumem @cm (NULL for boot memory not upgraded). */
static inline const void *
percpu_export_priv_cpumem(struct cpumem *cm)
{
#if PERCPU_MP
	void *h;

	if (cm == NULL || cpumem_priv_bootmem(cm, &h) != NULL)
		return (NULL);
	return (h);
#else
	return (cm);
#endif
}

/*
 * percpu_export_counters - register the counters_alloc(@n) set @cm.
 * Context: thread context.
 * UP: -1, ENOTSUP.
 * Return: 0, or -1 with errno (EINVAL for boot counters not upgraded).
 */
static inline int
percpu_export_counters(const char *name, struct cpumem *cm, unsigned n)
{
	return (percpu_export_priv_add(name, PERCPU_SEG_KIND_COUNTERS, 0,
	    percpu_export_priv_cpumem(cm), ((size_t)n + 1) * sizeof(uint64_t),
	    n));
}

/*
 * percpu_export_percpu - register the percpu(9) object @pc, its elements
 * in format @fmt.
 * Context: thread context.
 * UP: -1, ENOTSUP.
 * Return: 0, or -1 with errno.
 */
static inline int
percpu_export_percpu(const char *name, percpu_t *pc, int fmt)
{
	if (pc == NULL || fmt < 0)
		return (percpu_export_priv_add(name, 0, 0, NULL, 0, 0));
	return (percpu_export_priv_add(name, PERCPU_SEG_KIND_PCPU,
	    (unsigned)fmt, pc->pc_base, pc->pc_size,
	    percpu_export_priv_count(pc->pc_size, (unsigned)fmt)));
}

/*
 * percpu_export_cpumem - register @size bytes per CPU of the cpumem(9)
 * object @cm, its elements in format @fmt.
 * Context: thread context.
 * UP: -1, ENOTSUP.
 * Return: 0, or -1 with errno.
 */
static inline int
percpu_export_cpumem(const char *name, struct cpumem *cm, size_t size, int fmt)
{
	if (fmt < 0)
		return (percpu_export_priv_add(name, 0, 0, NULL, 0, 0));
	return (percpu_export_priv_add(name, PERCPU_SEG_KIND_PCPU,
	    (unsigned)fmt, percpu_export_priv_cpumem(cm), size,
	    percpu_export_priv_count(size, (unsigned)fmt)));
}

/*
 * Link check (as percpu/core.h's): this header's implementation part is
 * emitted only where PERCPU_IMPLEMENTATION is defined in a file that
 * includes it; a program without one fails to link naming this symbol.
 */
extern const char
    percpu_export_needs_PERCPU_IMPLEMENTATION_in_a_file_that_includes_percpu_export_h
	[];
#if defined(__GNUC__) || defined(__clang__)
static const char *const percpu_export_priv_link_ref __attribute__((used)) =
    percpu_export_needs_PERCPU_IMPLEMENTATION_in_a_file_that_includes_percpu_export_h;
#endif

PERCPU_END_DECLS

#endif /* PERCPU_EXPORT_H */

/* ---- Implementation: once per program (see USAGE) ---- */
#if defined(PERCPU_IMPLEMENTATION) && !defined(PERCPU_EXPORT_IMPL_H)
#define PERCPU_EXPORT_IMPL_H

const char
    percpu_export_needs_PERCPU_IMPLEMENTATION_in_a_file_that_includes_percpu_export_h
	[] = "percpu_export.h implementation";

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char percpu_export_priv_msg[256];

static void percpu_export_priv_set(int e, const char *fmt, ...)
    PERCPU_PRINTFLIKE(2, 3);

/* Record the message of a failure and set errno. */
static void
percpu_export_priv_set(int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(percpu_export_priv_msg, sizeof(percpu_export_priv_msg),
	    fmt, ap);
	va_end(ap);
	errno = e;
}

/*
 * percpu_export_error - the message of the last failure.
 * Context: any; one buffer per process (the last writer wins).
 */
const char *
percpu_export_error(void)
{
	return (percpu_export_priv_msg);
}

#if PERCPU_EXPORT_PRIV_ON
# include <dirent.h>
# include <pthread.h>
# include <sys/file.h>
# include <sys/mman.h>
# include <sys/stat.h>
# include <threads.h>
# include <time.h>
# include <unistd.h>

# include "percpu/seg_posix.h"
# if defined(__linux__)
#  include <sys/random.h>
# endif

# define PERCPU_EXPORT_PRIV_NONE 0
# define PERCPU_EXPORT_PRIV_OPENING 1
# define PERCPU_EXPORT_PRIV_OPEN 2
# define PERCPU_EXPORT_PRIV_CLOSED 3
# define PERCPU_EXPORT_PRIV_FAILED 4
# define PERCPU_EXPORT_PRIV_CHILD 5 /* a fork child: a private copy */
/* The segment holds the arena but has no name (the name was refused):
 * percpu_export_open() may be called again to publish it. */
# define PERCPU_EXPORT_PRIV_UNNAMED 6

# define PERCPU_EXPORT_PRIV_MAXCHUNKS 64

/*
 * The one exporter of the process.  lock guards phase, the registry and
 * the string table.  seg..chunk_len are set once, by the first chunk map
 * (inside percpu_export_open()), before the toolkit's table is published
 * (the core's release of ready orders them for every later reader).
 * chunk_used: bit k set while arena chunk k is handed to the core
 * (atomic: map/unmap run under the core's arena lock, not ours).
 */
# ifdef __cplusplus /* C++ wants every member in a designated initializer */
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wmissing-field-initializers"
# endif
static struct {
	pthread_mutex_t lock;
	atomic_int phase; /* written under lock; heartbeat reads it without */
	int fd;
	unsigned char *seg;
	size_t size;
	struct percpu_seg_hdr *h;
	uint64_t arena_off, chunk_len;
	unsigned nchunks, records, strtab, heartbeat_ms;
	_Atomic(uint64_t) chunk_used;
	int map_err;  /* errno of a failed creation */
	int name_err; /* errno of the name refused at creation */
	int oldfd;    /* a stale segment at the name, locked, to replace */
	char shm[232];
	char path[256];
	char tmp[300];	    /* shm name of the segment until it is published */
	char tmp_path[310]; /* the same under /dev/shm ("": none now) */
	uint64_t reg_next;
	pthread_t hb;
	int hb_on;
	atomic_int hb_stop;
} percpu_export_priv_g = {.lock = PTHREAD_MUTEX_INITIALIZER,
    .fd = -1,
    .oldfd = -1};
# ifdef __cplusplus
#  pragma GCC diagnostic pop
# endif

static pthread_once_t percpu_export_priv_once = PTHREAD_ONCE_INIT;

static uint64_t
percpu_export_priv_now(void)
{
	return (kvm_pcpu_priv_now_ns());
}

static size_t
percpu_export_priv_round(size_t v, size_t a)
{
	return ((v + a - 1) / a * a);
}

/* A millisecond's wait between two looks at the name. */
static void
percpu_export_priv_nap(void)
{
	struct timespec ts = {0, 1000000};

	(void)thrd_sleep(&ts, NULL);
}

/* What holds the segment's name (percpu_export_priv_occupant()). */
# define PERCPU_EXPORT_PRIV_FREE 0  /* nothing */
# define PERCPU_EXPORT_PRIV_STALE 1 /* this user's, no writer: replace it */
# define PERCPU_EXPORT_PRIV_BUSY 2  /* a running writer (EEXIST) */
# define PERCPU_EXPORT_PRIV_SQUAT 3 /* not this user's segment (EPERM) */

/* The name's file is not this user's segment: say so, and what to do. */
static int
percpu_export_priv_squat(const char *what, unsigned uid)
{
	if (uid == UINT_MAX) { /* a link: its owner is not known here */
		percpu_export_priv_set(EPERM,
		    "percpu_export_open: %s: squatted: %s is at the name, not "
		    "a segment of this user; it cannot be replaced: remove it "
		    "or choose another name",
		    percpu_export_priv_g.path, what);
		return (PERCPU_EXPORT_PRIV_SQUAT);
	}
	percpu_export_priv_set(EPERM,
	    "percpu_export_open: %s: squatted: %s of uid %u, not a segment "
	    "of this user (uid %u), is at the name; it cannot be replaced: "
	    "remove it (as uid %u or root) or choose another name",
	    percpu_export_priv_g.path, what, uid, (unsigned)geteuid(), uid);
	return (PERCPU_EXPORT_PRIV_SQUAT);
}

/*
 * percpu_export_priv_occupant - what holds the name now?  A running
 * writer holds an exclusive flock(2) on its segment (kvm_pcpu_priv_held()
 * is the readers' side); a segment of this user that nobody holds is
 * stale.  Opening never blocks nor follows a link (a FIFO or a link
 * planted at the name is squatting).
 * Context: percpu_export_open().
 * Return: FREE; STALE with *@fdp the old segment, open and exclusively
 *         locked (so no other starter replaces it meanwhile); BUSY or
 *         SQUAT with the message recorded.
 */
static int
percpu_export_priv_occupant(int *fdp)
{
	struct percpu_seg_hdr h;
	struct stat st;
	int fd, tries, e;

	*fdp = -1;
	for (tries = 0;; tries++) {
		fd = shm_open(percpu_export_priv_g.shm, O_RDWR | O_NONBLOCK, 0);
		if (fd < 0) {
			e = errno;
			if (e == ENOENT)
				return (PERCPU_EXPORT_PRIV_FREE);
			if (e == ELOOP)
				return (percpu_export_priv_squat(
				    "a symbolic link", UINT_MAX));
			if (stat(percpu_export_priv_g.path, &st) == 0 &&
			    (!S_ISREG(st.st_mode) || st.st_uid != geteuid()))
				return (percpu_export_priv_squat(
				    percpu_seg_ftype(st.st_mode,
					"a regular file"),
				    (unsigned)st.st_uid));
			/* Our own file, unreadable (an old segment made under
			 * umask 0777): make it ours to check, once. */
			if (e == EACCES && tries == 0 &&
			    chmod(percpu_export_priv_g.path, 0600) == 0)
				continue;
			percpu_export_priv_set(e, "percpu_export_open: %s: %s",
			    percpu_export_priv_g.path, strerror(e));
			return (PERCPU_EXPORT_PRIV_SQUAT);
		}
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (fstat(fd, &st) != 0) {
			e = errno;
			(void)close(fd);
			percpu_export_priv_set(e, "percpu_export_open: %s: %s",
			    percpu_export_priv_g.path, strerror(e));
			return (PERCPU_EXPORT_PRIV_SQUAT);
		}
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
			(void)close(fd);
			return (percpu_export_priv_squat(
			    percpu_seg_ftype(st.st_mode, "a regular file"),
			    (unsigned)st.st_uid));
		}
		if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
			uint64_t pid = 0;
			int ok;

			e = errno;
			ok = kvm_pcpu_priv_pread(fd, 0, (unsigned char *)&h,
				 sizeof(h)) == 0 &&
			    memcmp(h.magic, PERCPU_SEG_MAGIC,
				sizeof(h.magic)) == 0;
			(void)close(fd);
			if (ok)
				pid = h.pid;
			if (e != EWOULDBLOCK && ok &&
			    kvm_pcpu_priv_alive(h.pid, h.pid_start) != 1)
				goto stale_unlocked; /* no locks here */
			if (ok &&
			    kvm_pcpu_priv_alive(h.pid, h.pid_start) == 1) {
				percpu_export_priv_set(EEXIST,
				    "percpu_export_open: %s: in use by pid "
				    "%" PRIu64 ", a running writer: stop it or "
				    "choose another name",
				    percpu_export_priv_g.path, pid);
				return (PERCPU_EXPORT_PRIV_BUSY);
			}
			/* Held, but not by its writer: another starter is
			 * replacing it (it renames its own over it soon). */
			if (tries < 100) {
				percpu_export_priv_nap();
				continue;
			}
			percpu_export_priv_set(EEXIST,
			    "percpu_export_open: %s: in use: %s is held by "
			    "another process (starting under this name?): try "
			    "again",
			    percpu_export_priv_g.path,
			    ok ? "the segment of a gone writer" :
				 "a file without a segment header");
			return (PERCPU_EXPORT_PRIV_BUSY);
		}
		/* Nobody holds it: stale.  Take it exclusively (a reader's
		 * shared test lock or another starter may be in the way). */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*fdp = fd;
			return (PERCPU_EXPORT_PRIV_STALE);
		}
		(void)close(fd);
		if (tries >= 100) {
			percpu_export_priv_set(EEXIST,
			    "percpu_export_open: %s: in use: another process "
			    "is replacing the stale segment under this name",
			    percpu_export_priv_g.path);
			return (PERCPU_EXPORT_PRIV_BUSY);
		}
		percpu_export_priv_nap();
		continue;
	stale_unlocked:
		/* Without locks: the writer's pid is gone; replace by name
		 * (the old race between two starters remains there). */
		if ((fd = shm_open(percpu_export_priv_g.shm,
			 O_RDWR | O_NONBLOCK, 0)) < 0)
			continue;
		*fdp = fd;
		return (PERCPU_EXPORT_PRIV_STALE);
	}
}

/*
 * percpu_export_priv_same - does the shm name @shm lead to the file open on
 * @fd?  The name is opened again, never following a link (shm_open adds
 * O_NOFOLLOW, glibc and musl: a link planted there is ELOOP, "no") nor
 * blocking (a FIFO), and its st_dev/st_ino compared: lstat(2) by name,
 * without lstat, which strict C11 hides (a header must not define feature
 * macros behind its user's back, and declaring it by hand is wrong where
 * _FILE_OFFSET_BITS=64 renames it).
 * Context: any.  Return: 1 if it does, else 0.
 */
static int
percpu_export_priv_same(const char *shm, int fd)
{
	struct stat a, b;
	int nfd = shm_open(shm, O_RDONLY | O_NONBLOCK, 0), same;

	if (nfd < 0)
		return (0);
	same = fstat(fd, &a) == 0 && fstat(nfd, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	(void)close(nfd);
	return (same);
}

/* Does the name lead to the file open on @fd? */
static int
percpu_export_priv_at_name(int fd)
{
	return (percpu_export_priv_same(percpu_export_priv_g.shm, fd));
}

/*
 * percpu_export_priv_publish - put the ready segment (built under its
 * temporary name) at its name, atomically: link(2) if the name is free,
 * rename(2) over a stale segment this process holds locked.  A segment
 * being built is therefore never seen at the name, and of two writers
 * starting together exactly one gets it.
 * Context: percpu_export_open(), after READY.
 * Return: 0, or -1 with errno and the message recorded.
 */
static int
percpu_export_priv_publish(void)
{
	int tries, e, r;

	for (tries = 0; tries < 8; tries++) {
		if (percpu_export_priv_g.oldfd < 0) {
			if (link(percpu_export_priv_g.tmp_path,
				percpu_export_priv_g.path) == 0) {
				(void)unlink(percpu_export_priv_g.tmp_path);
				percpu_export_priv_g.tmp_path[0] = '\0';
				return (0);
			}
			if ((e = errno) != EEXIST) {
				percpu_export_priv_set(e,
				    "percpu_export_open: %s: %s",
				    percpu_export_priv_g.path, strerror(e));
				return (-1);
			}
			r = percpu_export_priv_occupant(
			    &percpu_export_priv_g.oldfd);
			if (r == PERCPU_EXPORT_PRIV_FREE)
				continue;
			if (r != PERCPU_EXPORT_PRIV_STALE)
				return (-1); /* errno and message set */
		}
		/* The stale segment, locked by us: nobody else replaces it;
		 * still at the name, it is replaced in one step. */
		if (percpu_export_priv_at_name(percpu_export_priv_g.oldfd) &&
		    rename(percpu_export_priv_g.tmp_path,
			percpu_export_priv_g.path) == 0) {
			(void)close(percpu_export_priv_g.oldfd);
			percpu_export_priv_g.oldfd = -1;
			percpu_export_priv_g.tmp_path[0] = '\0';
			return (0);
		}
		(void)close(percpu_export_priv_g.oldfd);
		percpu_export_priv_g.oldfd = -1;
	}
	percpu_export_priv_set(EEXIST,
	    "percpu_export_open: %s: the name keeps changing hands: try again",
	    percpu_export_priv_g.path);
	return (-1);
}

static void percpu_export_priv_instance(uint8_t id[16]);

/*
 * percpu_export_priv_tmpfile - create the segment's file under a fresh
 * temporary name (not "pcpu.": no reader lists it; random: nobody can
 * plant a file there first), mode 0600, close-on-exec, exclusively
 * locked from the start (see percpu_export_priv_publish()), sized to
 * @total bytes (sparse) once locked (percpu_export_priv_sweep_one()
 * relies on that order).  Sets tmp and tmp_path.
 * Context: percpu_export_open() (the first chunk map, or a retry).
 * Return: 0 with *@fdp the file, or an errno (message recorded; nothing
 *         left at the temporary name; EAGAIN: each of 4 fresh names was
 *         taken away before it could be locked).
 */
static int
percpu_export_priv_tmpfile(size_t total, int *fdp)
{
	int fd, tries, e;

	for (tries = 0;; tries++) {
		uint8_t rnd[16];
		uint64_t r;

		percpu_export_priv_instance(rnd);
		memcpy(&r, rnd, sizeof(r));
		if (snprintf(percpu_export_priv_g.tmp,
			sizeof(percpu_export_priv_g.tmp), "/.%s.%016" PRIx64,
			percpu_export_priv_g.shm + 1,
			r) >= (int)sizeof(percpu_export_priv_g.tmp) ||
		    snprintf(percpu_export_priv_g.tmp_path,
			sizeof(percpu_export_priv_g.tmp_path), "/dev/shm%s",
			percpu_export_priv_g.tmp) >=
			(int)sizeof(percpu_export_priv_g.tmp_path)) {
			percpu_export_priv_set(ENAMETOOLONG,
			    "percpu_export_open: %s: name too long",
			    percpu_export_priv_g.path);
			percpu_export_priv_g.tmp_path[0] = '\0';
			return (ENAMETOOLONG);
		}
		fd = shm_open(percpu_export_priv_g.tmp,
		    O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd < 0) {
			e = errno;
			if (e == EEXIST && tries < 3)
				continue;
			percpu_export_priv_set(e, "percpu_export_open: %s: %s",
			    percpu_export_priv_g.tmp_path, strerror(e));
			percpu_export_priv_g.tmp_path[0] = '\0';
			return (e);
		}
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		/* 0600 whatever the umask (0777 would lock the owner out). */
		(void)fchmod(fd, 0600);
		/* Between shm_open and flock the file is unlocked: a sweep of
		 * dead builders' names (percpu_export_priv_sweep()) leaves an
		 * empty file alone unless it is old, and this file is sized
		 * only once locked, so no sweep takes it.  Should one take it
		 * all the same (this thread stopped for that long), the lock
		 * is refused (the sweep holds it) or the name no longer
		 * leads here (the sweep unlinked it): drop the file and start
		 * again under a fresh name.  Without locks (flock fails
		 * otherwise) nothing is swept: go on unlocked (LIMITS). */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 ?
			percpu_export_priv_same(percpu_export_priv_g.tmp, fd) :
			errno != EWOULDBLOCK)
			break;
		if (percpu_export_priv_same(percpu_export_priv_g.tmp, fd))
			(void)shm_unlink(percpu_export_priv_g.tmp);
		(void)close(fd);
		if (tries < 3)
			continue;
		percpu_export_priv_set(EAGAIN,
		    "percpu_export_open: %s: taken away while being created "
		    "(by a sweep of temporary names?): try again",
		    percpu_export_priv_g.tmp_path);
		percpu_export_priv_g.tmp_path[0] = '\0';
		return (EAGAIN);
	}
	/* Size it once, locked (a sweep tells a file being made by its size
	 * 0): a byte at the end (ftruncate is not C11-visible); tmpfs backs
	 * only what is written. */
	if (lseek(fd, (off_t)(total - 1), SEEK_SET) != (off_t)(total - 1) ||
	    write(fd, "", 1) != 1) {
		e = errno;
		goto fail;
	}
	*fdp = fd;
	return (0);
fail:
	percpu_export_priv_set(e, "percpu_export_open: %s: %s",
	    percpu_export_priv_g.tmp_path, strerror(e));
	(void)close(fd);
	(void)shm_unlink(percpu_export_priv_g.tmp);
	percpu_export_priv_g.tmp_path[0] = '\0';
	return (e);
}

/*
 * percpu_export_priv_tmpmap - percpu_export_priv_tmpfile(), then the
 * file mapped shared, read-write, anywhere.
 * Context: as percpu_export_priv_tmpfile().
 * Return: 0 with *@fdp the file and *@mp its mapping, or an errno
 *         (message recorded; nothing left at the temporary name).
 */
static int
percpu_export_priv_tmpmap(size_t total, int *fdp, void **mp)
{
	int e;

	if ((e = percpu_export_priv_tmpfile(total, fdp)) != 0)
		return (e);
	*mp = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, *fdp, 0);
	if (*mp != MAP_FAILED)
		return (0);
	e = errno;
	percpu_export_priv_set(e, "percpu_export_open: %s: %s",
	    percpu_export_priv_g.tmp_path, strerror(e));
	(void)close(*fdp);
	(void)shm_unlink(percpu_export_priv_g.tmp);
	percpu_export_priv_g.tmp_path[0] = '\0';
	return (e);
}

/*
 * percpu_export_priv_create - create, size and map the segment for chunks
 * of @len bytes, and write its header (state INIT).
 * Context: the first chunk map, inside percpu_export_open(); the core's
 *          table is being built, so no toolkit function may be called.
 * Return: 0, or an errno (message recorded).  A name that cannot be
 *         had (a running writer, a squatter) is not a failure here: it
 *         is kept in name_err (message recorded), and the segment made.
 */
static int
percpu_export_priv_create(size_t len)
{
	size_t off, mask_off, pcpu_off, tmpl_off, reg_off, str_off, arena_off,
	    total;
	struct percpu_seg_hdr *h;
	void *m;
	int fd, e;

	off = PERCPU_SEG_HDR_SIZE;
	mask_off = off;
	off = percpu_export_priv_round(
	    off + PERCPU_SEG_MASK_BYTES(PERCPU_MAXCPU), 64);
	pcpu_off = off;
	off += (size_t)PERCPU_MAXCPU * PERCPU_SEG_PCPU_SIZE;
	tmpl_off = off;
	off = percpu_export_priv_round(off + PERCPU_UNIT_SIZE, 64);
	reg_off = off;
	off += (size_t)percpu_export_priv_g.records * PERCPU_SEG_REC_SIZE;
	str_off = off;
	off = percpu_export_priv_round(off + percpu_export_priv_g.strtab, 4096);
	arena_off = off;
	if (len == 0 || len % PERCPU_UNIT_SIZE != 0 ||
	    len > (SIZE_MAX - arena_off) / percpu_export_priv_g.nchunks) {
		percpu_export_priv_set(EOVERFLOW,
		    "percpu_export_open: %u chunks of %zu bytes do not fit",
		    percpu_export_priv_g.nchunks, len);
		return (EOVERFLOW);
	}
	total = arena_off + len * percpu_export_priv_g.nchunks;
	/* The name first: a running writer or a squatter fails the export
	 * (publish checks it again), but the segment is made all the same:
	 * the arena moves in, so a retry under another name can publish it
	 * (percpu_export_priv_retry()). */
	switch (percpu_export_priv_occupant(&percpu_export_priv_g.oldfd)) {
	case PERCPU_EXPORT_PRIV_BUSY:
	case PERCPU_EXPORT_PRIV_SQUAT:
		percpu_export_priv_g.name_err = errno;
		break;
	default:
		break;
	}
	if ((e = percpu_export_priv_tmpmap(total, &fd, &m)) != 0)
		return (e);
	h = (struct percpu_seg_hdr *)m;
	memcpy(h->magic, PERCPU_SEG_MAGIC, sizeof(h->magic));
	h->major = PERCPU_SEG_MAJOR;
	h->minor = PERCPU_SEG_MINOR;
	h->hdr_size = PERCPU_SEG_HDR_SIZE;
	h->endian = PERCPU_SEG_ENDIAN;
	h->ptr_size = (uint8_t)sizeof(void *);
	h->atomic64 = ATOMIC_LLONG_LOCK_FREE == 2;
	h->total_size = total;
	h->stride = PERCPU_UNIT_SIZE;
	h->mask_off = mask_off;
	h->pcpu_off = pcpu_off;
	h->pcpu_size = PERCPU_SEG_PCPU_SIZE;
	h->nchunks = percpu_export_priv_g.nchunks;
	h->arena_off = arena_off;
	h->reg_off = reg_off;
	h->reg_cap = percpu_export_priv_g.records;
	h->reg_size = PERCPU_SEG_REC_SIZE;
	h->str_off = str_off;
	h->str_cap = percpu_export_priv_g.strtab;
	h->dpcpu_tmpl_off = tmpl_off; /* size set with the table below */
	percpu_export_priv_g.fd = fd;
	percpu_export_priv_g.seg = (unsigned char *)m;
	percpu_export_priv_g.size = total;
	percpu_export_priv_g.h = h;
	percpu_export_priv_g.arena_off = arena_off;
	percpu_export_priv_g.chunk_len = len;
	return (0);
}

/* Anonymous chunk memory, when the segment has no room (or no segment). */
static void *
percpu_export_priv_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | PERCPU_PRIV_MAP_NORESERVE, -1, 0);

	return (p == MAP_FAILED ? NULL : p);
}

/*
 * percpu_export_priv_map - the chunk provider's map: a free chunk slot of
 * the segment (the first call creates the segment).
 *
 * Context: the core's first chunk (in its init, from
 *          percpu_export_open()) and later chunks (under the core's arena
 *          lock).  Never takes the exporter's lock.
 * Ordering: slots are claimed with a CAS on chunk_used (acq_rel; pairs
 *           with the release in percpu_export_priv_unmap()).
 */
static void *
percpu_export_priv_map(size_t len, void *ctx)
{
	uint64_t used, bit;
	unsigned k;

	(void)ctx;
	if (percpu_export_priv_g.seg == NULL &&
	    atomic_load_explicit(&percpu_export_priv_g.phase,
		memory_order_relaxed) == PERCPU_EXPORT_PRIV_OPENING &&
	    percpu_export_priv_g.map_err == 0)
		percpu_export_priv_g.map_err = percpu_export_priv_create(len);
	if (percpu_export_priv_g.seg == NULL ||
	    len != percpu_export_priv_g.chunk_len)
		return (percpu_export_priv_anon(len));
	used = atomic_load_explicit(&percpu_export_priv_g.chunk_used,
	    memory_order_relaxed);
	for (k = 0; k < percpu_export_priv_g.nchunks; k++) {
		bit = (uint64_t)1 << k;
		if ((used & bit) != 0)
			continue;
		if (atomic_compare_exchange_strong_explicit(
			&percpu_export_priv_g.chunk_used, &used, used | bit,
			memory_order_acq_rel, memory_order_relaxed))
			return (percpu_export_priv_g.seg +
			    percpu_export_priv_g.arena_off +
			    (size_t)k * percpu_export_priv_g.chunk_len);
		k = (unsigned)-1; /* used changed: rescan */
	}
	return (percpu_export_priv_anon(len));
}

/*
 * percpu_export_priv_unmap - the chunk provider's unmap.  A chunk the core
 * gives back is all zero (the core clears every allocation it frees), so
 * the slot is simply free again.
 * Ordering: release; pairs with the CAS in percpu_export_priv_map().
 */
static void
percpu_export_priv_unmap(void *p, size_t len, void *ctx)
{
	unsigned char *c = (unsigned char *)p;
	unsigned char *a = percpu_export_priv_g.seg;

	(void)ctx;
	if (a != NULL && c >= a + percpu_export_priv_g.arena_off &&
	    c < a + percpu_export_priv_g.size) {
		size_t k = ((size_t)(c - a) - percpu_export_priv_g.arena_off) /
		    percpu_export_priv_g.chunk_len;

		atomic_fetch_and_explicit(&percpu_export_priv_g.chunk_used,
		    ~((uint64_t)1 << k), memory_order_release);
		return;
	}
	(void)munmap(p, len);
}

/*
 * percpu_export_priv_copy_data - copy the data extents of the segment
 * file @fd (the same offsets in @src and @dst, @size bytes): holes are
 * skipped, since reading a hole of a shared mapping would back it.
 */
static void
percpu_export_priv_copy_data(int fd, unsigned char *dst,
    const unsigned char *src, size_t size)
{
	uint64_t off, end;

	for (off = 0; off < size; off = end) {
		off_t d = lseek(fd, (off_t)off, KVM_PCPU_PRIV_SEEK_DATA), x;

		if (d < 0 && errno == ENXIO)
			break;
		end = size;
		if (d >= 0 && (x = lseek(fd, d, KVM_PCPU_PRIV_SEEK_HOLE)) > d) {
			off = (uint64_t)d;
			end = (uint64_t)x < size ? (uint64_t)x : size;
		}
		if (off < end)
			memcpy(dst + off, src + off, (size_t)(end - off));
	}
}

/*
 * percpu_export_priv_atfork_child - give a fork child a private copy of
 * the segment at the same address, before the core's own child handler
 * (registered later) writes its lock words.  Only the data extents are
 * copied (reading holes would back them).
 */
static void
percpu_export_priv_atfork_child(void)
{
	unsigned char *seg = percpu_export_priv_g.seg, *tmp;
	size_t size = percpu_export_priv_g.size;
	int fd = percpu_export_priv_g.fd;

	(void)pthread_mutex_init(&percpu_export_priv_g.lock, NULL);
	percpu_export_priv_g.hb_on = 0;
	if (seg == NULL) {
		if (atomic_load_explicit(&percpu_export_priv_g.phase,
			memory_order_relaxed) == PERCPU_EXPORT_PRIV_OPEN)
			/* Release: pairs with the acquire loads of percpu_export_heartbeat()
			 * and percpu_export_path() (no lock there). */
			atomic_store_explicit(&percpu_export_priv_g.phase,
			    PERCPU_EXPORT_PRIV_CHILD, memory_order_release);
		return;
	}
	tmp = (unsigned char *)percpu_export_priv_anon(size);
	if (tmp == NULL)
		goto fail;
	percpu_export_priv_copy_data(fd, tmp, seg, size);
	if (mmap(seg, size, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
		    PERCPU_PRIV_MAP_NORESERVE,
		-1, 0) != (void *)seg)
		goto fail;
	percpu_export_priv_copy_data(fd, seg, tmp, size);
	(void)munmap(tmp, size);
	(void)close(fd);
	percpu_export_priv_g.fd = -1;
	if (atomic_load_explicit(&percpu_export_priv_g.phase,
		memory_order_relaxed) == PERCPU_EXPORT_PRIV_OPEN ||
	    atomic_load_explicit(&percpu_export_priv_g.phase,
		memory_order_relaxed) == PERCPU_EXPORT_PRIV_CLOSED)
		/* Release: pairs with the acquire loads of percpu_export_heartbeat()
		 * and percpu_export_path() (no lock there). */
		atomic_store_explicit(&percpu_export_priv_g.phase,
		    PERCPU_EXPORT_PRIV_CHILD, memory_order_release);
	return;
fail:
	(void)fprintf(stderr,
	    "percpu_export: fork child: cannot copy the "
	    "exported segment (%s); aborting rather than "
	    "write the parent's counters\n",
	    strerror(errno));
	abort();
}

static void
percpu_export_priv_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, percpu_export_priv_atfork_child);
}

/* A random instance id (getrandom, else time, pid and an address). */
static void
percpu_export_priv_instance(uint8_t id[16])
{
	uint64_t a = percpu_export_priv_now(), b = (uint64_t)getpid();

# if defined(__linux__)
	if (getrandom(id, 16, 0) == 16)
		return;
# endif
	b ^= (uint64_t)(uintptr_t)id * 0x9e3779b97f4a7c15u;
	memcpy(id, &a, 8);
	memcpy(id + 8, &b, 8);
}

static void *
percpu_export_priv_hb_main(void *arg)
{
	struct timespec ts;

	(void)arg;
	ts.tv_sec = (time_t)(percpu_export_priv_g.heartbeat_ms / 1000);
	ts.tv_nsec =
	    (long)(percpu_export_priv_g.heartbeat_ms % 1000) * 1000000L;
	while (!atomic_load_explicit(&percpu_export_priv_g.hb_stop,
	    memory_order_relaxed)) {
		percpu_export_heartbeat();
		(void)thrd_sleep(&ts, NULL);
	}
	return (NULL);
}

/*
 * percpu_export_priv_fill - the CPU table, mask and DPCPU template of the
 * new segment, once the toolkit's table exists.
 */
static void
percpu_export_priv_fill(void)
{
	struct percpu_seg_hdr *h = percpu_export_priv_g.h;
	unsigned char *seg = percpu_export_priv_g.seg;
	uint64_t *mask = (uint64_t *)(void *)(seg + h->mask_off);
	struct pcpu *tab = (struct pcpu *)(void *)(seg + h->pcpu_off);
	uintptr_t start, bytes;
	unsigned cpu;
	int dpcpu_ok;

	h->maxcpu = percpu_maxcpu();
	h->ncpu = percpu_ncpus();
	h->arena_size = (uint64_t)h->nchunks * h->ncpu * h->stride;
	/* The DPCPU copies: made with the CPU table. */
	dpcpu_priv_ready();
	start = dpcpu_priv_g.start;
	bytes = dpcpu_priv_g.stop - start;
	dpcpu_ok = bytes > 0 && bytes <= h->stride;
	PERCPU_FOREACH_CPU(cpu) {
		struct pcpu *p = &tab[cpu];
		struct cpu_info *ci = percpu_cpu_info(cpu);
		unsigned char *copy = (unsigned char *)(start + dpcpu_off[cpu]);

		mask[cpu / 64] |= (uint64_t)1 << (cpu % 64);
		p->pc_cpuid = cpu;
		p->pc_flags = PERCPU_SEG_PCPU_PRESENT;
		p->pc_unit = ci->ci_unit;
		p->pc_unit_off =
		    h->arena_off + (uint64_t)ci->ci_unit * h->stride;
		if (copy < seg + h->arena_off ||
		    copy + bytes > seg + h->total_size)
			dpcpu_ok = 0;
		else
			p->pc_dynamic =
			    (uint64_t)(copy - seg) - h->dpcpu_tmpl_off;
	}
	if (dpcpu_ok) {
		memcpy(seg + h->dpcpu_tmpl_off, (const void *)start, bytes);
		h->dpcpu_size = bytes;
	} else {
		h->dpcpu_tmpl_off = 0;
		h->dpcpu_size = 0;
		PERCPU_FOREACH_CPU(cpu)
			tab[cpu].pc_dynamic = 0;
	}
	h->pid = (uint64_t)getpid();
	h->pid_start = kvm_pcpu_priv_pid_start(0);
	percpu_export_priv_instance(h->instance);
	h->start_ns = percpu_export_priv_now();
	atomic_store_explicit(&h->heartbeat_ns, h->start_ns,
	    memory_order_relaxed);
}

/*
 * percpu_export_priv_move - move the unnamed segment (its name refused
 * by an earlier call; its temporary name unlinked then) into a new file
 * under a new temporary name, at the same address: the data extents are
 * copied, the new file mapped over the old one, the old descriptor (and
 * with it the last reference to the old file) closed.
 * Context: percpu_export_open(), under the exporter's lock; like the
 *          first call, while no other thread uses the toolkit (its
 *          updates between the copy and the remap would be lost).
 * Return: 0, or an errno (message recorded; nothing changed).  Aborts
 *         if the new file cannot be mapped at the segment's address
 *         (the old mapping may be gone: the arena with it).
 */
static int
percpu_export_priv_move(void)
{
	unsigned char *seg = percpu_export_priv_g.seg, *tmp;
	void *t;
	size_t size = percpu_export_priv_g.size;
	int fd, e;

	if ((e = percpu_export_priv_tmpmap(size, &fd, &t)) != 0)
		return (e);
	tmp = (unsigned char *)t;
	percpu_export_priv_copy_data(percpu_export_priv_g.fd, tmp, seg, size);
	(void)munmap(tmp, size);
	if (mmap(seg, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		0) != (void *)seg) {
		(void)fprintf(stderr,
		    "percpu_export_open: retry: cannot map the new segment "
		    "file over the arena (%s); aborting\n",
		    strerror(errno));
		abort();
	}
	(void)close(percpu_export_priv_g.fd);
	percpu_export_priv_g.fd = fd;
	return (0);
}

/*
 * percpu_export_priv_name - set shm and path for the name @name.
 * Context: percpu_export_open(), under the exporter's lock, while not
 *          OPEN (percpu_export_path() reads path without the lock).
 */
static void
percpu_export_priv_name(const char *name)
{
	(void)snprintf(percpu_export_priv_g.shm,
	    sizeof(percpu_export_priv_g.shm), "/%s%u.%s", PERCPU_SEG_SHM_PREFIX,
	    (unsigned)geteuid(), name);
	(void)snprintf(percpu_export_priv_g.path,
	    sizeof(percpu_export_priv_g.path), "/dev/shm%s",
	    percpu_export_priv_g.shm);
}

/*
 * percpu_export_priv_finish - publish the READY segment (built under its
 * temporary name) unless @e (the name was refused already): then OPEN,
 * and the heartbeat thread if asked.  Otherwise the segment stays,
 * holding the arena, without any name (UNNAMED: a retry may publish it).
 * Context: percpu_export_open(), under the exporter's lock.
 * Ordering: release stores of phase; pair with the acquire loads of
 *           percpu_export_heartbeat() and percpu_export_path().
 * Return: 0, or -1 with errno (the message recorded).
 */
static int
percpu_export_priv_finish(int e)
{
	if (e == 0 && percpu_export_priv_publish() == 0) {
		/* Release: pairs with the acquire loads of
		 * percpu_export_heartbeat() and percpu_export_path(). */
		atomic_store_explicit(&percpu_export_priv_g.phase,
		    PERCPU_EXPORT_PRIV_OPEN, memory_order_release);
		if (percpu_export_priv_g.heartbeat_ms != 0 &&
		    pthread_create(&percpu_export_priv_g.hb, NULL,
			percpu_export_priv_hb_main, NULL) == 0)
			percpu_export_priv_g.hb_on = 1;
		return (0);
	}
	if (e == 0)
		e = errno;
	/* Nothing left at the temporary name, no stale segment held. */
	if (percpu_export_priv_g.tmp_path[0] != '\0')
		(void)unlink(percpu_export_priv_g.tmp_path);
	percpu_export_priv_g.tmp_path[0] = '\0';
	if (percpu_export_priv_g.oldfd >= 0)
		(void)close(percpu_export_priv_g.oldfd);
	percpu_export_priv_g.oldfd = -1;
	/* Release: as above (path and heartbeat see "not exporting"). */
	atomic_store_explicit(&percpu_export_priv_g.phase,
	    PERCPU_EXPORT_PRIV_UNNAMED, memory_order_release);
	errno = e;
	return (-1);
}

/*
 * percpu_export_priv_retry - publish the UNNAMED segment under the name
 * now in shm/path: check the name (no copy for a name in use), move the
 * segment to a new temporary file (its old name is gone), publish.
 * Context: percpu_export_open(), under the exporter's lock, phase
 *          UNNAMED; no other thread using the toolkit.
 * Return: 0, or -1 with errno (phase stays UNNAMED; ENOTRECOVERABLE in
 *         a fork child, whose arena is a private copy).
 */
static int
percpu_export_priv_retry(void)
{
	int e;

	if (percpu_export_priv_g.fd < 0) {
		percpu_export_priv_set(ENOTRECOVERABLE,
		    "percpu_export_open: cannot retry in a fork child: its "
		    "arena is a private copy of its parent's, whose call "
		    "failed");
		return (-1);
	}
	switch (percpu_export_priv_occupant(&percpu_export_priv_g.oldfd)) {
	case PERCPU_EXPORT_PRIV_BUSY:
	case PERCPU_EXPORT_PRIV_SQUAT:
		return (-1); /* errno and message set */
	default:
		break;
	}
	if ((e = percpu_export_priv_move()) != 0) {
		if (percpu_export_priv_g.oldfd >= 0)
			(void)close(percpu_export_priv_g.oldfd);
		percpu_export_priv_g.oldfd = -1;
		errno = e;
		return (-1);
	}
	return (percpu_export_priv_finish(0));
}

/*
 * Where the shared-memory objects are (shm_open(3) on Linux): the names
 * of a sweep are listed there.
 */
# define PERCPU_EXPORT_PRIV_SHMDIR "/dev/shm"
/* Temporary names a sweep examines at most (the rest: the next open). */
# define PERCPU_EXPORT_PRIV_SWEEP_MAX 64
/* Seconds an empty temporary file (a builder between shm_open and flock,
 * or one killed there) is left alone. */
# define PERCPU_EXPORT_PRIV_SWEEP_AGE 60
/* shm_open adds both (glibc, musl); strict C11 hides them. */
# ifdef O_NOFOLLOW
#  define PERCPU_EXPORT_PRIV_O_NOFOLLOW O_NOFOLLOW
# else
#  define PERCPU_EXPORT_PRIV_O_NOFOLLOW 0
# endif
# ifdef O_CLOEXEC
#  define PERCPU_EXPORT_PRIV_O_CLOEXEC O_CLOEXEC
# else
#  define PERCPU_EXPORT_PRIV_O_CLOEXEC 0
# endif

/*
 * percpu_export_priv_is_tmp - is the directory entry @s a temporary name
 * of this user, @pre (".pcpu.<euid>.", @pl bytes) then a segment name
 * then "." and 16 lowercase hex digits (percpu_export_priv_tmpfile())?
 * Context: any.  Return: 1 if it is, else 0.
 */
static int
percpu_export_priv_is_tmp(const char *s, const char *pre, size_t pl)
{
	size_t len = strlen(s), i;

	if (len < pl + 1 + 17 || strncmp(s, pre, pl) != 0 ||
	    s[len - 17] != '.' || memchr(s + pl, ':', len - 17 - pl) != NULL)
		return (0);
	for (i = len - 16; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	return (percpu_seg_name_ok(s + pl, len - 17 - pl));
}

/*
 * percpu_export_priv_sweep_one - remove the temporary name @shm if a dead
 * builder left it.  It must be a regular file of this user (a link, a
 * FIFO, a directory, another user's file was not made by a builder: it is
 * not ours to judge, and is left), opened read-only without following a
 * link or blocking, close-on-exec; sized (a builder sizes its file only
 * once it holds its lock, percpu_export_priv_tmpfile(): an empty one may
 * be a builder between shm_open and flock, so it is taken only when
 * older than PERCPU_EXPORT_PRIV_SWEEP_AGE seconds, and a builder of this
 * version checks after locking that its name was not taken); and nobody
 * may hold its lock: the kernel drops a builder's lock when it dies, so
 * an exclusive flock granted here means no builder is alive.  Where
 * flock fails otherwise (no locks), nothing is known: it is left.  Then,
 * holding the lock, the name is unlinked only while it still leads to
 * the file checked (another process of this user may have renamed or
 * replaced it: /dev/shm is sticky, which protects only other users'
 * files).
 * Context: percpu_export_priv_sweep().  Errors are ignored.
 */
static void
percpu_export_priv_sweep_one(const char *shm, time_t now)
{
	struct stat st;
	int fd = shm_open(shm,
	    O_RDONLY | O_NONBLOCK | PERCPU_EXPORT_PRIV_O_NOFOLLOW |
		PERCPU_EXPORT_PRIV_O_CLOEXEC,
	    0);

	if (fd < 0)
		return; /* gone, unreadable, a link (ELOOP) */
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() &&
	    (st.st_size > 0 ||
		st.st_mtime <= now - PERCPU_EXPORT_PRIV_SWEEP_AGE) &&
	    flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    percpu_export_priv_same(shm, fd))
		(void)shm_unlink(shm);
	(void)close(fd);
}

/*
 * percpu_export_priv_sweep - remove the temporary names that builders of
 * this user (any segment name) left when they were killed while building
 * (percpu_export_priv_sweep_one() says which).  Bounded: one pass over
 * the directory, at most PERCPU_EXPORT_PRIV_SWEEP_MAX temporary names
 * examined.  Best effort: every error is ignored (an unreadable entry is
 * skipped, an unreadable directory sweeps nothing); errno is kept.
 * Context: percpu_export_open(), before its segment's file is made.
 */
static void
percpu_export_priv_sweep(void)
{
	char pre[64], shm[300]; /* d_name: at most NAME_MAX (255) bytes */
	struct dirent *d;
	unsigned seen = 0;
	time_t now = time(NULL);
	int e = errno;
	size_t pl;
	DIR *dir;

	(void)snprintf(pre, sizeof(pre), ".%s%u.", PERCPU_SEG_SHM_PREFIX,
	    (unsigned)geteuid());
	pl = strlen(pre);
	if ((dir = opendir(PERCPU_EXPORT_PRIV_SHMDIR)) != NULL) {
		while (seen < PERCPU_EXPORT_PRIV_SWEEP_MAX &&
		    (d = readdir(dir)) != NULL) {
			if (!percpu_export_priv_is_tmp(d->d_name, pre, pl) ||
			    snprintf(shm, sizeof(shm), "/%s", d->d_name) >=
				(int)sizeof(shm))
				continue;
			seen++;
			percpu_export_priv_sweep_one(shm, now);
		}
		(void)closedir(dir);
	}
	errno = e;
}

/*
 * percpu_export_open - create the segment and place the arena in it; or,
 * after a call whose name was refused, publish that segment under @name.
 *
 * Context: before any other function of the toolkit, once per process
 *          (a retry: while no other thread uses the toolkit).
 * Ordering: the header, CPU table and DPCPU template are written before
 *           the release store of READY (see MEMORY ORDERING).
 * UP: -1, ENOTSUP.
 * Return: 0, or -1 with errno and percpu_export_error().
 */
int
percpu_export_open(const char *name, const struct percpu_export_opts *opts)
{
	struct percpu_export_opts o = {4, 4096, 256 * 1024, 0};
	struct percpu_chunk_provider prov = {percpu_export_priv_map,
	    percpu_export_priv_unmap, NULL};
	size_t len = name != NULL ? strlen(name) : 0;
	int e, rc;

# if ATOMIC_INT_LOCK_FREE != 2
	percpu_export_priv_set(ENOTSUP,
	    "percpu_export_open: 32-bit atomics "
	    "are not lock-free on this target");
	return (-1);
# endif
	if (opts != NULL) {
		o.chunks = opts->chunks != 0 ? opts->chunks : o.chunks;
		o.records = opts->records != 0 ? opts->records : o.records;
		o.strtab = opts->strtab != 0 ? opts->strtab : o.strtab;
		o.heartbeat_ms = opts->heartbeat_ms;
	}
	if (name == NULL || len > 200 || !percpu_seg_name_ok(name, len) ||
	    strchr(name, ':') != NULL || strchr(name, '/') != NULL ||
	    o.chunks > PERCPU_EXPORT_PRIV_MAXCHUNKS || o.records > (1u << 20) ||
	    o.strtab < 4096 || o.strtab > (1u << 26)) {
		percpu_export_priv_set(EINVAL,
		    "percpu_export_open: bad name or options (name "
		    "[A-Za-z0-9_.-], 1..200 bytes; chunks <= 64, records <= "
		    "2^20, strtab 4096..2^26)");
		return (-1);
	}
	(void)pthread_mutex_lock(&percpu_export_priv_g.lock);
	switch (atomic_load_explicit(&percpu_export_priv_g.phase,
	    memory_order_relaxed)) {
	case PERCPU_EXPORT_PRIV_NONE:
		break;
	case PERCPU_EXPORT_PRIV_UNNAMED:
		/* The segment is there, the arena in it: only the name was
		 * refused.  Its sizes stay the first call's. */
		percpu_export_priv_g.heartbeat_ms = o.heartbeat_ms;
		percpu_export_priv_name(name);
		percpu_export_priv_sweep();
		rc = percpu_export_priv_retry();
		e = errno;
		(void)pthread_mutex_unlock(&percpu_export_priv_g.lock);
		errno = e;
		return (rc);
	case PERCPU_EXPORT_PRIV_FAILED:
		(void)pthread_mutex_unlock(&percpu_export_priv_g.lock);
		percpu_export_priv_set(ENOTRECOVERABLE,
		    "percpu_export_open: cannot retry: the first call failed "
		    "before its segment was made, so the toolkit's arena lives "
		    "in private memory; only a new process can export it");
		return (-1);
	default:
		(void)pthread_mutex_unlock(&percpu_export_priv_g.lock);
		percpu_export_priv_set(EBUSY,
		    "percpu_export_open: already called in this process");
		return (-1);
	}
	percpu_export_priv_g.nchunks = o.chunks;
	percpu_export_priv_g.records = o.records;
	percpu_export_priv_g.strtab = o.strtab;
	percpu_export_priv_g.heartbeat_ms = o.heartbeat_ms;
	percpu_export_priv_name(name);
	/* Before the core registers its own: ours must run first in a child. */
	(void)pthread_once(&percpu_export_priv_once, percpu_export_priv_atfork);
	if (percpu_set_chunk_provider(&prov) != 0) {
		(void)pthread_mutex_unlock(&percpu_export_priv_g.lock);
		percpu_export_priv_set(EBUSY,
		    "percpu_export_open: the toolkit is already in use: call "
		    "percpu_export_open() before any other of its functions");
		return (-1);
	}
	/* Release: pairs with the acquire loads of percpu_export_heartbeat()
	 * and percpu_export_path() (no lock there). */
	atomic_store_explicit(&percpu_export_priv_g.phase,
	    PERCPU_EXPORT_PRIV_OPENING, memory_order_release);
	(void)pthread_mutex_unlock(&percpu_export_priv_g.lock);
	/* Temporary names left by killed builders (errors ignored). */
	percpu_export_priv_sweep();
	/* Build the table: the first chunk map creates the segment.  The
	 * exporter's lock is not held (the DPCPU copies take the arena's). */
	(void)percpu_ncpus();
	if (percpu_export_priv_g.seg == NULL) {
		e = percpu_export_priv_g.map_err != 0 ?
		    percpu_export_priv_g.map_err :
		    EIO;
		(void)pthread_mutex_lock(&percpu_export_priv_g.lock);
		/* Release: pairs with the acquire loads of
		 * percpu_export_heartbeat() and percpu_export_path(). */
		atomic_store_explicit(&percpu_export_priv_g.phase,
		    PERCPU_EXPORT_PRIV_FAILED, memory_order_release);
		if (percpu_export_priv_g.oldfd >= 0)
			(void)close(percpu_export_priv_g.oldfd);
		percpu_export_priv_g.oldfd = -1;
		(void)pthread_mutex_unlock(&percpu_export_priv_g.lock);
		errno = e;
		return (-1);
	}
	percpu_export_priv_fill();
	(void)pthread_mutex_lock(&percpu_export_priv_g.lock);
	/* Release: the whole header, table and template before READY; pairs
	 * with the acquire in kvm_pcpu_priv_open_live() and _parse(). */
	atomic_store_explicit(&percpu_export_priv_g.h->state, PERCPU_SEG_READY,
	    memory_order_release);
	/* Only now does the name lead to it (unless it was refused: then
	 * the arena stays there, unexported, and a retry may publish it). */
	rc = percpu_export_priv_finish(percpu_export_priv_g.name_err);
	e = errno;
	(void)pthread_mutex_unlock(&percpu_export_priv_g.lock);
	errno = e;
	return (rc);
}

/*
 * percpu_export_close - mark the segment CLOSED and unlink its name.
 *
 * Context: thread context; stops and joins the heartbeat thread.
 * Ordering: release store of CLOSED; pairs with the acquire in
 *           kvm_pcpu_status() and kvm_pcpu_priv_check_writer().
 * UP: -1, ENOTSUP.
 * Return: 0 (also in a fork child, which unlinks nothing), or -1 (EBADF).
 */
int
percpu_export_close(void)
{
	int rc = 0;

	(void)pthread_mutex_lock(&percpu_export_priv_g.lock);
	switch (atomic_load_explicit(&percpu_export_priv_g.phase,
	    memory_order_relaxed)) {
	case PERCPU_EXPORT_PRIV_OPEN:
		if (percpu_export_priv_g.hb_on) {
			atomic_store_explicit(&percpu_export_priv_g.hb_stop, 1,
			    memory_order_relaxed);
			(void)pthread_join(percpu_export_priv_g.hb, NULL);
			percpu_export_priv_g.hb_on = 0;
		}
		/* Release: pairs with the acquire of state in
		 * kvm_pcpu_status() and kvm_pcpu_priv_check_writer(). */
		atomic_store_explicit(&percpu_export_priv_g.h->state,
		    PERCPU_SEG_CLOSED, memory_order_release);
		/* Only our own segment's name (never a successor's). */
		if (percpu_export_priv_at_name(percpu_export_priv_g.fd))
			(void)shm_unlink(percpu_export_priv_g.shm);
		/* Release: pairs with the acquire loads of percpu_export_heartbeat()
		 * and percpu_export_path() (no lock there). */
		atomic_store_explicit(&percpu_export_priv_g.phase,
		    PERCPU_EXPORT_PRIV_CLOSED, memory_order_release);
		break;
	case PERCPU_EXPORT_PRIV_CHILD:
		break; /* the name is the parent's */
	default:
		percpu_export_priv_set(EBADF,
		    "percpu_export_close: not "
		    "exporting");
		rc = -1;
	}
	(void)pthread_mutex_unlock(&percpu_export_priv_g.lock);
	return (rc);
}

/*
 * percpu_export_snapshot - write the segment to the snapshot file @path.
 *
 * Context: thread context; registrations wait for it (the lock).
 * Ordering: each 64-bit word is copied whole; the registry as of its
 *           reg_count (acquire).  Counters keep moving while it copies.
 * UP: -1, ENOTSUP.
 * Return: 0, or -1 with errno and percpu_export_error().
 */
int
percpu_export_snapshot(const char *path)
{
	int rc = -1, e = EBADF, phase;

	(void)pthread_mutex_lock(&percpu_export_priv_g.lock);
	phase = atomic_load_explicit(&percpu_export_priv_g.phase,
	    memory_order_relaxed);
	if (path == NULL) {
		e = EINVAL;
		percpu_export_priv_set(e, "percpu_export_snapshot: NULL path");
	} else if (phase == PERCPU_EXPORT_PRIV_OPEN ||
	    phase == PERCPU_EXPORT_PRIV_CLOSED ||
	    phase == PERCPU_EXPORT_PRIV_CHILD) {
		rc = kvm_pcpu_priv_save(percpu_export_priv_g.seg,
		    percpu_export_priv_g.size, percpu_export_priv_g.fd, path,
		    phase == PERCPU_EXPORT_PRIV_CHILD ? (uint64_t)getpid() : 0,
		    percpu_export_priv_msg, sizeof(percpu_export_priv_msg));
		e = errno;
	} else
		percpu_export_priv_set(e,
		    "percpu_export_snapshot: not "
		    "exporting");
	(void)pthread_mutex_unlock(&percpu_export_priv_g.lock);
	errno = e;
	return (rc);
}

/*
 * percpu_export_heartbeat - store the time in the header.
 * Context: anywhere (one relaxed store).
 * Ordering: none; readers only compare it with their clock.
 */
void
percpu_export_heartbeat(void)
{
	/* Acquire: pairs with the release store of OPEN in
	 * percpu_export_open(); h is set before it. */
	if (atomic_load_explicit(&percpu_export_priv_g.phase,
		memory_order_acquire) == PERCPU_EXPORT_PRIV_OPEN)
		atomic_store_explicit(&percpu_export_priv_g.h->heartbeat_ns,
		    percpu_export_priv_now(), memory_order_relaxed);
}

/* percpu_export_path - the segment's path while exporting, else NULL. */
const char *
percpu_export_path(void)
{
	/* Acquire: pairs with the release store of OPEN (path is set
	 * before it). */
	return (atomic_load_explicit(&percpu_export_priv_g.phase,
		    memory_order_acquire) == PERCPU_EXPORT_PRIV_OPEN ?
		percpu_export_priv_g.path :
		NULL);
}

/* The record at index @i. */
static struct percpu_seg_rec *
percpu_export_priv_rec(uint32_t i)
{
	return ((struct percpu_seg_rec *)(void *)(percpu_export_priv_g.seg +
	    percpu_export_priv_g.h->reg_off + (size_t)i * PERCPU_SEG_REC_SIZE));
}

/* The ALLOC record named @name, or NULL.  Under the lock. */
static struct percpu_seg_rec *
percpu_export_priv_lookup(const char *name, size_t len)
{
	struct percpu_seg_hdr *h = percpu_export_priv_g.h;
	uint32_t i,
	    n = atomic_load_explicit(&h->reg_count, memory_order_relaxed);

	for (i = 0; i < n; i++) {
		struct percpu_seg_rec *r = percpu_export_priv_rec(i);

		if (atomic_load_explicit(&r->state, memory_order_relaxed) ==
			PERCPU_SEG_ALLOC &&
		    r->name_len == len &&
		    memcmp(percpu_export_priv_g.seg + h->str_off + r->name_off,
			name, len) == 0)
			return (r);
	}
	return (NULL);
}

/*
 * percpu_export_priv_add - append a record (see the declaration).
 *
 * Context: thread context; takes the exporter's lock (never the arena's).
 * Ordering: name and record, then state = ALLOC (release), then
 *           reg_count (release); pairs with kvm_pcpu_priv_rec() and
 *           kvm_pcpu_priv_count().
 * UP: -1, ENOTSUP.
 * Return: 0, or -1 with errno (EINVAL, EFAULT, EEXIST, ENOSPC, EBADF).
 */
int
percpu_export_priv_add(const char *name, unsigned kind, unsigned fmt,
    const void *obj, size_t size, unsigned count)
{
	struct percpu_seg_hdr *h;
	struct percpu_seg_rec *r;
	const unsigned char *p = (const unsigned char *)obj;
	size_t len = name != NULL ? strlen(name) : 0;
	uint64_t base = 0;
	uint32_t i, used;
	int rc = -1;

	if (name == NULL || !percpu_seg_name_ok(name, len)) {
		percpu_export_priv_set(EINVAL,
		    "percpu_export: bad name "
		    "([A-Za-z0-9_.:/-], 1..255 "
		    "bytes)");
		return (-1);
	}
	if (kind == 0 || kind > PERCPU_SEG_KIND_MAX || p == NULL || size == 0 ||
	    (fmt != PERCPU_SEG_FMT_BYTES && count == 0) ||
	    fmt > PERCPU_SEG_FMT_MAX) {
		percpu_export_priv_set(EINVAL,
		    "percpu_export: %s: not an object that can be exported "
		    "(NULL, size 0, boot memory, or a format that does not "
		    "divide its size)",
		    name);
		return (-1);
	}
	(void)pthread_mutex_lock(&percpu_export_priv_g.lock);
	if (atomic_load_explicit(&percpu_export_priv_g.phase,
		memory_order_relaxed) != PERCPU_EXPORT_PRIV_OPEN) {
		percpu_export_priv_set(EBADF,
		    "percpu_export: %s: not "
		    "exporting",
		    name);
		goto out;
	}
	h = percpu_export_priv_g.h;
	if (kind == PERCPU_SEG_KIND_DPCPU) {
		uintptr_t a = (uintptr_t)obj;

		if (h->dpcpu_tmpl_off == 0 || a < dpcpu_priv_g.start ||
		    a - dpcpu_priv_g.start > h->dpcpu_size ||
		    size > h->dpcpu_size - (a - dpcpu_priv_g.start)) {
			percpu_export_priv_set(EFAULT,
			    "percpu_export: %s: not a DPCPU variable of the "
			    "exported set",
			    name);
			goto out;
		}
		base = h->dpcpu_tmpl_off + (a - dpcpu_priv_g.start);
	} else {
		unsigned char *a0 = percpu_export_priv_g.seg + h->arena_off;
		uint64_t rel;

		if (p < a0 || p >= percpu_export_priv_g.seg + h->total_size ||
		    (rel = (uint64_t)(p - a0)) / h->stride % h->ncpu != 0 ||
		    size > h->stride - rel % h->stride) {
			percpu_export_priv_set(EFAULT,
			    "percpu_export: %s: not in the exported arena "
			    "(allocated before percpu_export_open(), or in a "
			    "chunk beyond opts.chunks)",
			    name);
			goto out;
		}
		base = h->arena_off + rel;
	}
	if (percpu_export_priv_lookup(name, len) != NULL) {
		percpu_export_priv_set(EEXIST,
		    "percpu_export: %s: already registered", name);
		goto out;
	}
	i = atomic_load_explicit(&h->reg_count, memory_order_relaxed);
	used = atomic_load_explicit(&h->str_used, memory_order_relaxed);
	if (i >= h->reg_cap || len + 1 > h->str_cap - used) {
		percpu_export_priv_set(ENOSPC,
		    "percpu_export: %s: the registry is full (%" PRIu32
		    " records, %" PRIu32 " bytes of names)",
		    name, h->reg_cap, h->str_cap);
		goto out;
	}
	memcpy(percpu_export_priv_g.seg + h->str_off + used, name, len + 1);
	atomic_store_explicit(&h->str_used, used + (uint32_t)len + 1,
	    memory_order_relaxed);
	r = percpu_export_priv_rec(i);
	r->kind = (uint16_t)kind;
	r->fmt = (uint16_t)fmt;
	r->base = base;
	r->size = size;
	r->count = count;
	r->name_off = used;
	r->name_len = (uint16_t)len;
	r->reg_id = ++percpu_export_priv_g.reg_next;
	r->reg_ns = percpu_export_priv_now();
	/* Release: the record and its name before its state; pairs with
	 * the acquire in kvm_pcpu_priv_rec(). */
	atomic_store_explicit(&r->state, PERCPU_SEG_ALLOC,
	    memory_order_release);
	/* Release: the state before the count; pairs with the acquire in
	 * kvm_pcpu_priv_count(). */
	atomic_store_explicit(&h->reg_count, i + 1, memory_order_release);
	atomic_fetch_add_explicit(&h->generation, 1, memory_order_relaxed);
	rc = 0;
out:
	(void)pthread_mutex_unlock(&percpu_export_priv_g.lock);
	return (rc);
}

/*
 * percpu_export_unregister - mark @name's record RECLAIMED.
 *
 * Context: thread context, before the object is freed.
 * Ordering: release; pairs with the acquire in kvm_pcpu_priv_ent().
 * UP: -1, ENOTSUP.
 * Return: 0, or -1 (ENOENT: not registered; EBADF: not exporting).
 */
int
percpu_export_unregister(const char *name)
{
	struct percpu_seg_rec *r;
	size_t len = name != NULL ? strlen(name) : 0;
	int rc = -1;

	(void)pthread_mutex_lock(&percpu_export_priv_g.lock);
	if (atomic_load_explicit(&percpu_export_priv_g.phase,
		memory_order_relaxed) != PERCPU_EXPORT_PRIV_OPEN)
		percpu_export_priv_set(EBADF,
		    "percpu_export_unregister: not exporting");
	else if (name == NULL ||
	    (r = percpu_export_priv_lookup(name, len)) == NULL)
		percpu_export_priv_set(ENOENT,
		    "percpu_export_unregister: %s: not registered",
		    name != NULL ? name : "(null)");
	else {
		/* Release: pairs with the acquire in kvm_pcpu_priv_ent(). */
		atomic_store_explicit(&r->state, PERCPU_SEG_RECLAIMED,
		    memory_order_release);
		atomic_fetch_add_explicit(&percpu_export_priv_g.h->generation,
		    1, memory_order_relaxed);
		rc = 0;
	}
	(void)pthread_mutex_unlock(&percpu_export_priv_g.lock);
	return (rc);
}

#else  /* !PERCPU_EXPORT_PRIV_ON */

/* UP (or a port without an OS): no arena to share, nothing to export. */
static int
percpu_export_priv_up(void)
{
	percpu_export_priv_set(ENOTSUP,
	    "percpu_export: the inspection "
	    "segment needs the MP build "
	    "(PERCPU_MP=1) on a hosted port");
	return (-1);
}

int
percpu_export_open(const char *name, const struct percpu_export_opts *opts)
{
	(void)name;
	(void)opts;
	return (percpu_export_priv_up());
}

int
percpu_export_close(void)
{
	return (percpu_export_priv_up());
}

int
percpu_export_snapshot(const char *path)
{
	(void)path;
	return (percpu_export_priv_up());
}

void
percpu_export_heartbeat(void)
{
}

const char *
percpu_export_path(void)
{
	return (NULL);
}

int
percpu_export_unregister(const char *name)
{
	(void)name;
	return (percpu_export_priv_up());
}

int
percpu_export_priv_add(const char *name, unsigned kind, unsigned fmt,
    const void *obj, size_t size, unsigned count)
{
	(void)name;
	(void)kind;
	(void)fmt;
	(void)obj;
	(void)size;
	(void)count;
	return (percpu_export_priv_up());
}
#endif /* PERCPU_EXPORT_PRIV_ON */
#endif /* PERCPU_IMPLEMENTATION */

#ifdef PERCPU_IMPLEMENTATION
#include "percpu/whole.h" /* one switch: the whole implementation */
#endif
