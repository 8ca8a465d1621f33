/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kvm_image.h - build a valid segment image by hand, from the format in
 * percpu/seg.h alone (not with the writer): the base of the crafted bad
 * files of test_kvm.c and of the fuzzer's seed corpus.
 *
 *   img_build(&im, cpus, n, with_dpcpu)
 *	An image for the possible CPUs cpus[0..n) (ascending, sparse ids
 *	allowed), stride 4096, one chunk, 16 records, 1 KiB of names, and
 *	these objects (unit u = the CPU's index in cpus[]):
 *	  "rx"               counter(9): count 100 * (cpu + 1), baseline cpu
 *	  "ifc"              counters(9), 3 counters: generation 2, c[k] =
 *	                     10 * cpu + k
 *	  "stats"            PCPU, 4 x u32: cpu + k
 *	  "pcpu_entry_pkts"  DPCPU u64: template 7, CPU cpu 1000 + cpu
 *	  "pcpu_entry_quota" DPCPU i32: template 100, CPU cpu -cpu
 *	(the two DPCPU ones only with_dpcpu).  img_free() releases it.
 *   img_build_stride(&im, cpus, n, with_dpcpu, stride)
 *	The same with another stride (>= 320, a multiple of 64).
 *   img_expect_rx(&im)   the counter's value, summed over the CPUs.
 */
#ifndef KVM_IMAGE_H
#define KVM_IMAGE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "percpu/seg.h"

#define IMG_STRIDE 4096u
#define IMG_RECORDS 16u
#define IMG_STRTAB 1024u
#define IMG_TMPL 64u
/* Offsets of the objects inside a unit. */
#define IMG_RX 64u
#define IMG_IFC 128u
#define IMG_STATS 192u
#define IMG_DPCPU 256u

struct img {
	unsigned char *b;
	size_t size;
	struct percpu_seg_hdr *h;
	unsigned n, cpus[64];
	uint64_t rx, ifc, stats, pkts, quota; /* bases */
	uint32_t used;			      /* string table bytes */
};

static inline uint64_t
img_up(uint64_t v, uint64_t a)
{
	return ((v + a - 1) / a * a);
}

static inline struct percpu_seg_rec *
img_rec(struct img *im, unsigned i)
{
	return ((struct percpu_seg_rec *)(void *)(im->b + im->h->reg_off +
	    (uint64_t)i * im->h->reg_size));
}

static inline struct pcpu *
img_pcpu(struct img *im, unsigned cpu)
{
	return ((struct pcpu *)(void *)(im->b + im->h->pcpu_off +
	    (uint64_t)cpu * im->h->pcpu_size));
}

/* Unit-0 address of an object at @off in the units. */
static inline unsigned char *
img_unit(struct img *im, unsigned unit, uint64_t off)
{
	return (
	    im->b + im->h->arena_off + (uint64_t)unit * im->h->stride + off);
}

static inline void
img_add(struct img *im, const char *name, unsigned kind, unsigned fmt,
    uint64_t base, uint64_t size, unsigned count)
{
	unsigned i = atomic_load(&im->h->reg_count);
	struct percpu_seg_rec *r = img_rec(im, i);
	size_t len = strlen(name);

	memcpy(im->b + im->h->str_off + im->used, name, len + 1);
	r->kind = (uint16_t)kind;
	r->fmt = (uint16_t)fmt;
	r->base = base;
	r->size = size;
	r->count = count;
	r->name_off = im->used;
	r->name_len = (uint16_t)len;
	r->reg_id = i + 1;
	atomic_store(&r->state, PERCPU_SEG_ALLOC);
	im->used += (uint32_t)len + 1;
	atomic_store(&im->h->str_used, im->used);
	atomic_store(&im->h->reg_count, i + 1);
}

static inline void
img_put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline int
img_build_stride(struct img *im, const unsigned *cpus, unsigned n,
    int with_dpcpu, unsigned stride)
{
	unsigned maxcpu, u, k;
	uint64_t off, arena;
	struct percpu_seg_hdr *h;

	memset(im, 0, sizeof(*im));
	if (n == 0 || n > 64)
		return (-1);
	maxcpu = cpus[n - 1] + 1;
	im->n = n;
	memcpy(im->cpus, cpus, n * sizeof(*cpus));
	off = PERCPU_SEG_HDR_SIZE;
	{
		uint64_t mask = off, pcpu, tmpl, reg, str;

		off = img_up(off + PERCPU_SEG_MASK_BYTES(maxcpu), 64);
		pcpu = off;
		off = img_up(off + (uint64_t)maxcpu * PERCPU_SEG_PCPU_SIZE, 64);
		tmpl = off;
		off = img_up(off + IMG_TMPL, 64);
		reg = off;
		off += IMG_RECORDS * PERCPU_SEG_REC_SIZE;
		str = off;
		off = img_up(off + IMG_STRTAB, 4096);
		arena = off;
		im->size = (size_t)(arena + (uint64_t)n * stride);
		im->b = (unsigned char *)aligned_alloc(4096, im->size);
		if (im->b == NULL)
			return (-1);
		memset(im->b, 0, im->size);
		h = im->h = (struct percpu_seg_hdr *)(void *)im->b;
		memcpy(h->magic, PERCPU_SEG_MAGIC, 8);
		h->major = PERCPU_SEG_MAJOR;
		h->minor = PERCPU_SEG_MINOR;
		h->hdr_size = PERCPU_SEG_HDR_SIZE;
		h->endian = PERCPU_SEG_ENDIAN;
		h->ptr_size = 8;
		h->atomic64 = 1;
		h->flags = PERCPU_SEG_F_SNAPSHOT;
		h->total_size = im->size;
		h->maxcpu = maxcpu;
		h->ncpu = n;
		h->stride = stride;
		h->mask_off = mask;
		h->pcpu_off = pcpu;
		h->pcpu_size = PERCPU_SEG_PCPU_SIZE;
		h->nchunks = 1;
		h->arena_off = arena;
		h->arena_size = (uint64_t)n * stride;
		h->reg_off = reg;
		h->reg_cap = IMG_RECORDS;
		h->reg_size = PERCPU_SEG_REC_SIZE;
		h->str_off = str;
		h->str_cap = IMG_STRTAB;
		h->dpcpu_tmpl_off = with_dpcpu ? tmpl : 0;
		h->dpcpu_size = with_dpcpu ? 16 : 0;
		h->pid = 12345;
		h->start_ns = 1700000000000000000u;
		atomic_store(&h->state, PERCPU_SEG_SNAPSHOT);
	}
	for (u = 0; u < n; u++) {
		unsigned cpu = cpus[u];
		struct pcpu *p = img_pcpu(im, cpu);
		uint64_t w;

		memcpy(&w, im->b + h->mask_off + (cpu / 64) * 8, 8);
		w |= (uint64_t)1 << (cpu % 64);
		memcpy(im->b + h->mask_off + (cpu / 64) * 8, &w, 8);
		p->pc_cpuid = cpu;
		p->pc_flags = PERCPU_SEG_PCPU_PRESENT;
		p->pc_unit = u;
		p->pc_unit_off = arena + (uint64_t)u * stride;
		img_put64(img_unit(im, u, IMG_RX), 100 * (uint64_t)(cpu + 1));
		img_put64(img_unit(im, u, IMG_RX + 8), cpu);
		img_put64(img_unit(im, u, IMG_IFC), 2);
		for (k = 0; k < 3; k++)
			img_put64(img_unit(im, u, IMG_IFC + 8 + 8 * k),
			    10 * (uint64_t)cpu + k);
		for (k = 0; k < 4; k++) {
			uint32_t v = cpu + k;

			memcpy(img_unit(im, u, IMG_STATS + 4 * k), &v, 4);
		}
		if (with_dpcpu) {
			int32_t q = -(int32_t)cpu;

			p->pc_dynamic = arena + (uint64_t)u * stride +
			    IMG_DPCPU - h->dpcpu_tmpl_off;
			img_put64(img_unit(im, u, IMG_DPCPU), 1000 + cpu);
			memcpy(img_unit(im, u, IMG_DPCPU + 8), &q, 4);
		}
	}
	im->rx = arena + IMG_RX;
	im->ifc = arena + IMG_IFC;
	im->stats = arena + IMG_STATS;
	img_add(im, "rx", PERCPU_SEG_KIND_COUNTER_U64, 0, im->rx, 16, 1);
	img_add(im, "ifc", PERCPU_SEG_KIND_COUNTERS, 0, im->ifc, 32, 3);
	img_add(im, "stats", PERCPU_SEG_KIND_PCPU, PERCPU_SEG_FMT_U32,
	    im->stats, 16, 4);
	if (with_dpcpu) {
		int32_t t = 100;

		im->pkts = h->dpcpu_tmpl_off;
		im->quota = h->dpcpu_tmpl_off + 8;
		img_put64(im->b + im->pkts, 7);
		memcpy(im->b + im->quota, &t, 4);
		img_add(im, "pcpu_entry_pkts", PERCPU_SEG_KIND_DPCPU,
		    PERCPU_SEG_FMT_U64, im->pkts, 8, 1);
		img_add(im, "pcpu_entry_quota", PERCPU_SEG_KIND_DPCPU,
		    PERCPU_SEG_FMT_I32, im->quota, 4, 1);
	}
	return (0);
}

static inline int
img_build(struct img *im, const unsigned *cpus, unsigned n, int with_dpcpu)
{
	return (img_build_stride(im, cpus, n, with_dpcpu, IMG_STRIDE));
}

static inline uint64_t
img_expect_rx(const struct img *im)
{
	uint64_t s = 0;
	unsigned u;

	for (u = 0; u < im->n; u++)
		s += 100 * (uint64_t)(im->cpus[u] + 1) - im->cpus[u];
	return (s);
}

static inline void
img_free(struct img *im)
{
	free(im->b);
	im->b = NULL;
}

#endif /* KVM_IMAGE_H */
