/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/seg.h - the exported segment: the one contract between a program
 * that exports its per-CPU data (percpu_export.h) and the processes that
 * read it (kvm_pcpu.h, tools/pcpustat).
 *
 * Internal: included by both sides; it needs nothing of the toolkit (only
 * <stdint.h> and <stdatomic.h>), so a reader never depends on the
 * writer's headers, its build variant or its compiler.  Everything a
 * reader needs to know is either in the segment itself (sizes, offsets,
 * counts) or fixed here by a version number and a kind number.
 *
 * ONE FORMAT, THREE CARRIERS
 *	A live segment is a POSIX shared-memory object (/dev/shm/pcpu.<uid>.
 *	<name>, mode 0600, sized once, never resized), built under a
 *	temporary name and linked at its name once READY; its writer holds
 *	an exclusive flock(2) on it while it runs (an unlocked live segment
 *	is stale: percpu_export.h, NAME AND LIFETIME).
 *	A snapshot file has the same bytes, with state SNAPSHOT.  A memory
 *	image (a RAM dump of firmware) has the same bytes too.  All positions
 *	are byte offsets from the start of the segment: no pointers, nothing
 *	to chase.  Integers are in the writer's byte order (endian says
 *	which); every field is naturally aligned; the segment is 4096-aligned
 *	where it is mapped.
 *
 * LAYOUT (version 1; offsets are examples, the header gives the real ones)
 *
 *	0	struct percpu_seg_hdr (hdr_size bytes, 256 in 1.0)
 *	mask_off	possible-CPU mask: ceil(maxcpu / 64) little words,
 *			bit (id % 64) of word (id / 64) set for a possible CPU
 *	pcpu_off	struct pcpu[maxcpu], indexed by CPU id (pcpu_size each)
 *	dpcpu_tmpl_off	the DPCPU template: the bytes of the program's
 *			set_dpcpu section at export time (dpcpu_size bytes)
 *	reg_off		registry: reg_cap records of reg_size bytes
 *	str_off		string table: str_cap bytes of NUL-terminated names
 *	arena_off	the per-CPU arena: nchunks chunks of ncpu units of
 *			stride bytes.  Unit u of chunk k is at
 *			arena_off + (k * ncpu + u) * stride.  The toolkit's
 *			arena lives here: every per-CPU object of the writer is
 *			one offset valid in every unit of its chunk.
 *
 *	Regions are 64-byte aligned and do not overlap; the arena is
 *	4096-aligned; total_size = arena_off + arena_size.
 *
 * CPUS
 *	A CPU id is in [0, maxcpu); ids may be sparse.  ncpu CPUs are
 *	possible; each has a dense unit index in [0, ncpu).  The copy of a
 *	per-CPU object for CPU c is (the object's unit-0 offset) +
 *	pcpu[c].pc_unit * stride.  The mask and pcpu[c].pc_flags agree.
 *
 * OBJECT KINDS (the type id of a registry record says the layout a reader
 * relies on; a changed layout gets a new kind, never a silent change)
 *
 *	PERCPU_SEG_KIND_COUNTER_U64 (1): FreeBSD counter(9).  base: the unit-0
 *	  copy; size 16.  Per CPU two 64-bit words: count at +0, baseline at
 *	  +8.  value = sum over possible CPUs of (count - baseline), modulo
 *	  2^64.  Per CPU, load the baseline (acquire) before the count: the
 *	  writer's counter_u64_zero() stores the baseline with release after
 *	  reading the count, so a reader never sees a baseline newer than
 *	  the count it subtracts it from.
 *	PERCPU_SEG_KIND_COUNTERS (2): OpenBSD counters_alloc(9).  base: the
 *	  unit-0 copy; count counters; size 8 * (count + 1).  Per CPU a
 *	  generation word at +0, then count 64-bit counters.  The generation
 *	  is odd while the CPU's set is being updated.  A reader waits until
 *	  it is even (acquire), copies the counters, issues an acquire fence
 *	  and re-reads it, and retries (bounded) if it changed.
 *	PERCPU_SEG_KIND_DPCPU (3): a FreeBSD DPCPU variable.  base: the
 *	  variable's copy in the template (dpcpu_tmpl_off + its offset in
 *	  set_dpcpu); size its bytes.  CPU c's instance is at base +
 *	  pcpu[c].pc_dynamic (FreeBSD: template address + dpcpu_off[c]).
 *	PERCPU_SEG_KIND_PCPU (4): percpu(9) or cpumem(9) memory.  base: the
 *	  unit-0 copy; size bytes per CPU.
 *
 *	fmt and count describe the elements of kinds 3 and 4 (for display);
 *	kinds 1 and 2 are 64-bit unsigned by definition.
 *
 * PUBLICATION (Aeron's pattern: write the record, then release its state)
 *	The writer, under its own mutex: appends the name to the string table,
 *	fills a FREE record, release-stores state = ALLOC, then
 *	release-stores reg_count = index + 1.  Unregistering release-stores
 *	state = RECLAIMED; records and strings are never rewritten nor reused,
 *	so a record seen ALLOC stays as it was.  A reader acquire-loads
 *	reg_count (and clamps it to reg_cap), then acquire-loads each record's
 *	state and reads the record only when it is ALLOC.  Partners: every
 *	release store in percpu_export.h names the acquire in kvm_pcpu.h.
 *
 * ATOMICS
 *	The mutable words (state, reg_count, str_used, heartbeat_ns,
 *	generation, record states) and every 64-bit word a reader loads while
 *	the writer runs are read with C11 atomic loads, which are only
 *	address-free (and so valid across processes) when lock-free.  The
 *	writer records whether its 64-bit atomics are lock-free (atomic64);
 *	all 32-bit ones must be (a writer without them does not export).
 *
 * TRUST
 *	A reader treats every byte as hostile: every offset and length is
 *	checked (with overflow checks) against total_size and the regions
 *	above; kvm_pcpu.h does this and documents its error classes.  It
 *	trusts a live segment only if it is a regular file owned by the uid
 *	its name claims (or by the reader), and reads it with pread (a file
 *	that shrinks is an error, holes are never backed): kvm_pcpu.h,
 *	TRUST.
 */
#ifndef PERCPU_SEG_H
#define PERCPU_SEG_H

#include "atomic.h"
#include <stddef.h>
#include <stdint.h>

/* "PCPUSEG" and a NUL: the first 8 bytes of every segment. */
#define PERCPU_SEG_MAGIC "PCPUSEG"
#define PERCPU_SEG_MAJOR 1 /* a reader refuses any other major */
#define PERCPU_SEG_MINOR 0 /* newer minors only add fields at the end */
#define PERCPU_SEG_ENDIAN 0x01020304u

/* Sizes of the fixed structures in version 1.0. */
#define PERCPU_SEG_HDR_SIZE 256
#define PERCPU_SEG_PCPU_SIZE 64
#define PERCPU_SEG_REC_SIZE 64
#define PERCPU_SEG_NAME_MAX 255 /* bytes of a name, without the NUL */

/* flags */
#define PERCPU_SEG_F_SNAPSHOT 0x1u /* a snapshot file, not a live segment */

/* state: the header's publication word. */
#define PERCPU_SEG_INIT 0     /* being built: readers wait */
#define PERCPU_SEG_READY 1    /* live */
#define PERCPU_SEG_CLOSED 2   /* the writer closed it (exited) */
#define PERCPU_SEG_SNAPSHOT 3 /* a snapshot: nothing changes any more */

/* Record states. */
#define PERCPU_SEG_FREE 0
#define PERCPU_SEG_ALLOC 1
#define PERCPU_SEG_RECLAIMED 2

/* Object kinds (type ids; see OBJECT KINDS). */
#define PERCPU_SEG_KIND_COUNTER_U64 1
#define PERCPU_SEG_KIND_COUNTERS 2
#define PERCPU_SEG_KIND_DPCPU 3
#define PERCPU_SEG_KIND_PCPU 4
#define PERCPU_SEG_KIND_MAX 4

/* Element formats (display hints of kinds 3 and 4). */
#define PERCPU_SEG_FMT_BYTES 0
#define PERCPU_SEG_FMT_U8 1
#define PERCPU_SEG_FMT_U16 2
#define PERCPU_SEG_FMT_U32 3
#define PERCPU_SEG_FMT_U64 4
#define PERCPU_SEG_FMT_I8 5
#define PERCPU_SEG_FMT_I16 6
#define PERCPU_SEG_FMT_I32 7
#define PERCPU_SEG_FMT_I64 8
#define PERCPU_SEG_FMT_F32 9
#define PERCPU_SEG_FMT_F64 10
#define PERCPU_SEG_FMT_MAX 10

/* pc_flags */
#define PERCPU_SEG_PCPU_PRESENT 0x1u /* a possible CPU */

/*
 * struct percpu_seg_hdr - the header (256 bytes in 1.0).
 *
 * Fields up to instance..snapshot_ns are written once, before state
 * becomes READY, and never change; the words after them are the mutable
 * ones (atomic).
 */
struct percpu_seg_hdr {
	char magic[8];	     /* PERCPU_SEG_MAGIC */
	uint16_t major;	     /* PERCPU_SEG_MAJOR */
	uint16_t minor;	     /* PERCPU_SEG_MINOR */
	uint32_t hdr_size;   /* bytes of this header (>= 256) */
	uint32_t endian;     /* PERCPU_SEG_ENDIAN in the writer's order */
	uint8_t ptr_size;    /* the writer's sizeof(void *) */
	uint8_t atomic64;    /* 1: the writer's 64-bit atomics are lock-free */
	uint16_t flags;	     /* PERCPU_SEG_F_* */
	uint64_t total_size; /* bytes of the whole segment */
	uint32_t maxcpu;     /* highest possible CPU id + 1 */
	uint32_t ncpu;	     /* possible CPUs (units per chunk) */
	uint64_t stride;     /* bytes between two units */
	uint64_t mask_off;   /* possible-CPU mask */
	uint64_t pcpu_off;   /* struct pcpu[maxcpu] */
	uint32_t pcpu_size;  /* bytes of one struct pcpu (>= 64) */
	uint32_t nchunks;    /* arena chunks */
	uint64_t arena_off;
	uint64_t arena_size; /* nchunks * ncpu * stride */
	uint64_t reg_off;
	uint32_t reg_cap;  /* records */
	uint32_t reg_size; /* bytes of one record (>= 64) */
	uint64_t str_off;
	uint32_t str_cap;
	uint32_t pad0;
	uint64_t dpcpu_tmpl_off; /* 0: no DPCPU template */
	uint64_t dpcpu_size;
	uint64_t pid;	      /* the writer's process id */
	uint64_t pid_start;   /* its start time (Linux: /proc stat field 22) */
	uint8_t instance[16]; /* random: identifies this segment's writer */
	uint64_t start_ns;    /* creation, ns since the epoch */
	uint64_t snapshot_ns; /* snapshots: capture time; 0 otherwise */
	/* ---- mutable words ---- */
	_Atomic(uint32_t) state;     /* PERCPU_SEG_INIT ... */
	_Atomic(uint32_t) reg_count; /* records published */
	_Atomic(uint32_t) str_used;  /* bytes of the string table used */
	uint32_t pad1;
	_Atomic(uint64_t) heartbeat_ns; /* last sign of life, ns since epoch */
	_Atomic(uint64_t) generation;	/* + 1 at every registry change */
	uint64_t reserved[5];
};

/*
 * struct pcpu - the descriptor of one CPU (kvm_getpcpu(3) returns a copy).
 * FreeBSD's field names where one exists.
 */
struct pcpu {
	uint32_t pc_cpuid; /* the CPU id (= its index in the table) */
	uint32_t pc_flags; /* PERCPU_SEG_PCPU_PRESENT */
	uint32_t pc_unit;  /* dense unit index */
	uint32_t pc_pad;
	uint64_t pc_unit_off; /* its unit in chunk 0: arena_off + unit*stride */
	uint64_t pc_dynamic;  /* DPCPU offset: instance = template + this */
	uint64_t pc_reserved[4];
};

/* struct percpu_seg_rec - one registry record (64 bytes). */
struct percpu_seg_rec {
	_Atomic(uint32_t) state; /* PERCPU_SEG_FREE/ALLOC/RECLAIMED */
	uint16_t kind;		 /* PERCPU_SEG_KIND_* */
	uint16_t fmt;		 /* PERCPU_SEG_FMT_* */
	uint64_t base;		 /* see OBJECT KINDS */
	uint64_t size;		 /* bytes per CPU */
	uint32_t count;		 /* elements (counters of a set) */
	uint32_t name_off;	 /* in the string table */
	uint16_t name_len;	 /* without the NUL, 1..255 */
	uint16_t flags;		 /* 0 */
	uint32_t pad;
	uint64_t reg_id; /* registration number, from 1, never reused */
	uint64_t reg_ns; /* registration time, ns since the epoch */
	uint64_t reserved;
};

_Static_assert(sizeof(struct percpu_seg_hdr) == PERCPU_SEG_HDR_SIZE,
    "percpu/seg.h: the header must be 256 bytes");
_Static_assert(offsetof(struct percpu_seg_hdr, state) == 184 &&
	offsetof(struct percpu_seg_hdr, heartbeat_ns) == 200,
    "percpu/seg.h: header layout changed");
_Static_assert(sizeof(struct pcpu) == PERCPU_SEG_PCPU_SIZE,
    "percpu/seg.h: struct pcpu must be 64 bytes");
_Static_assert(sizeof(struct percpu_seg_rec) == PERCPU_SEG_REC_SIZE &&
	offsetof(struct percpu_seg_rec, reg_id) == 40,
    "percpu/seg.h: a record must be 64 bytes");
_Static_assert(sizeof(_Atomic(uint32_t)) == 4 && sizeof(_Atomic(uint64_t)) == 8,
    "percpu/seg.h: atomics must have the size of their values");

/* Bytes of the possible-CPU mask for @maxcpu ids (whole 64-bit words). */
#define PERCPU_SEG_MASK_BYTES(maxcpu) ((((size_t)(maxcpu) + 63) / 64) * 8)

/* The shared-memory name prefix: /dev/shm/pcpu.<uid>.<name>. */
#define PERCPU_SEG_SHM_PREFIX "pcpu."

/*
 * percpu_seg_name_ok - is @s[0..@len) a valid object name?
 *
 * Names are 1..255 bytes of [A-Za-z0-9_.:/-] (no spaces, quotes or
 * control bytes: safe in a terminal, in JSON and in a shell word).
 * Context: any.
 * Return: 1 if valid, else 0.
 */
static inline int
percpu_seg_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > PERCPU_SEG_NAME_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '.' ||
			c == ':' || c == '/' || c == '-'))
			return (0);
	}
	return (1);
}

#endif /* PERCPU_SEG_H */
