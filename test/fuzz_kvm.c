/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_kvm.c - libFuzzer harness of the reader (kvm_pcpu.h): every input
 * is a segment image; it is opened (kvm_pcpu_open_image: the parse and
 * validation shared by live segments and snapshot files) and, if it
 * opens, every reader function is driven over it: the CPU table, DPCPU
 * selection, the registry walk, name lookups with and without the DPCPU
 * prefix, counter(9) and counters(9) reads, zpcpu reads, status, cache
 * reset; then pcpustat's display code (tools/pcpustat.c, included here
 * without its main) prints two samples of it, text or JSON, with or
 * without the per-CPU breakdown and a name filter, as bits of the
 * header's reserved[0] say.  ASan and UBSan watch every access; the
 * input is copied into a buffer of exactly its size, so one byte too far
 * is caught.
 *
 * A structure-aware mutator (LLVMFuzzerCustomMutator) edits what the
 * reader validates: header fields, registry record fields, CPU table
 * entries and mask words, the display bits, with values near the
 * interesting ones (0, 1, -1, powers of two, the field +- 1 or + the
 * stride, another region's offset, the total size); otherwise
 * libFuzzer's own byte mutations.
 *
 *	clang -fsanitize=fuzzer,address,undefined -I. test/fuzz_kvm.c
 *	make fuzz FUZZ_TIME=20		(run by `make test`)
 *
 * Built with -DKVM_FUZZ_SEEDS it is instead a small program that writes
 * the seed corpus (valid images from test/kvm_image.h: dense and sparse
 * CPU sets, with and without DPCPU) into the directory argv[1].
 */
#define _POSIX_C_SOURCE 200809L
#define PERCPU_IMPLEMENTATION
#include "kvm_pcpu.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_image.h"

#ifdef KVM_FUZZ_SEEDS

int
main(int argc, char **argv)
{
	static const unsigned one[] = {0}, two[] = {0, 1},
			      sparse[] = {0, 1, 5, 63, 200}, late[] = {3, 4};
	static const struct {
		const unsigned *cpus;
		unsigned n;
	} sets[] = {{one, 1}, {two, 2}, {sparse, 5}, {late, 2}};
	unsigned i, d;

	if (argc != 2)
		return (2);
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		for (d = 0; d < 2; d++) {
			struct img im;
			char path[4096];
			FILE *f;

			if (img_build_stride(&im, sets[i].cpus, sets[i].n,
				(int)d, 512) != 0)
				return (1);
			snprintf(path, sizeof(path), "%s/seed-%u-%u", argv[1],
			    i, d);
			if ((f = fopen(path, "wb")) == NULL ||
			    fwrite(im.b, 1, im.size, f) != im.size ||
			    fclose(f) != 0)
				return (1);
			img_free(&im);
		}
	return (0);
}

#else

/* pcpustat's display code, without its main. */
# define PCPUSTAT_NO_MAIN
# if defined(__GNUC__) || defined(__clang__)
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wunused-function"
# endif
# include "tools/pcpustat.c"
# if defined(__GNUC__) || defined(__clang__)
#  pragma GCC diagnostic pop
# endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
    unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);

/* The display bits: header reserved[0] (0 when the input is shorter). */
static unsigned
display_bits(const uint8_t *data, size_t size)
{
	size_t off = offsetof(struct percpu_seg_hdr, reserved);
	uint64_t v = 0;

	if (size >= off + 8)
		memcpy(&v, data + off, 8);
	return ((unsigned)v);
}

/* Two samples of every object, as pcpustat shows them (to /dev/null). */
static void
display(kvm_t *kd, unsigned bits)
{
	struct seg s;

	memset(&s, 0, sizeof(s));
	s.kd = kd;
	opt.percpu = (bits & 1) != 0;
	opt.json = (bits & 2) != 0;
	opt.glob = (bits & 4) != 0 ? "*[px]*" : NULL;
	stop = 0;
	if (seg_init(&s) == 0 && scan_objs(&s) == 0) {
		(void)sample(&s, 0, 0, 1);
		(void)scan_objs(&s);
		(void)sample(&s, 1, 0.5, 2);
	}
	s.kd = NULL; /* the caller's */
	close_seg(&s);
}

/* Drive every reader function over an open handle. */
static void
exercise(kvm_t *kd)
{
	static const char *const extra[] = {"_rx", "_pkts", "quota", "nope",
	    "pcpu_entry_pkts"};
	struct kvm_pcpu_info info;
	struct kvm_pcpu_entry e;
	unsigned char buf[256];
	uint64_t v, out[8];
	int maxcpu, cpu, first = -1, last = -1;
	unsigned i, n;

	maxcpu = kvm_getmaxcpu(kd);
	(void)kvm_getncpus(kd);
	(void)kvm_pcpu_info(kd, &info);
	for (cpu = -1; cpu <= maxcpu && cpu < 300; cpu++) {
		void *p = kvm_getpcpu(kd, cpu);

		if (p != NULL && p != (void *)-1) {
			if (first < 0)
				first = cpu;
			last = cpu;
			free(p);
		}
	}
	(void)kvm_dpcpu_setcpu(kd, 0);
	(void)kvm_dpcpu_setcpu(kd, (unsigned)maxcpu);
	if (last >= 0)
		(void)kvm_dpcpu_setcpu(kd, (unsigned)last);
	n = kvm_pcpu_nentries(kd);
	for (i = 0; i < n && i < 64; i++) {
		struct kvm_nlist nl[3];

		if (kvm_pcpu_entry(kd, i, &e) != 0)
			continue;
		memset(nl, 0, sizeof(nl));
		nl[0].n_name = e.name;
		nl[1].n_name =
		    e.name + (strncmp(e.name, "pcpu_entry_", 11) == 0 ? 10 : 0);
		(void)kvm_nlist(kd, nl);
		(void)kvm_counter_u64_fetch(kd, e.base);
		(void)kvm_pcpu_counter_u64_cpu(kd, e.base, first, &v);
		(void)kvm_pcpu_counters_read(kd, e.base,
		    e.count < 8 ? e.count : 8, -1, out);
		(void)kvm_pcpu_counters_read(kd, e.base, 1, last, out);
		(void)kvm_read_zpcpu(kd, e.base, buf,
		    e.size < sizeof(buf) ? e.size : sizeof(buf), last);
		(void)kvm_read(kd, nl[1].n_value, buf,
		    e.size < sizeof(buf) ? e.size : sizeof(buf));
	}
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		struct kvm_nlist nl[2];

		memset(nl, 0, sizeof(nl));
		nl[0].n_name = extra[i];
		if (kvm_nlist(kd, nl) == 0)
			(void)kvm_read(kd, nl[0].n_value, buf, 8);
	}
	(void)kvm_pcpu_status(kd);
	(void)kvm_getmaxcpu(NULL); /* re-validate at the next call */
	{
		void *p = kvm_getpcpu(kd, first);

		if (p != NULL && p != (void *)-1)
			free(p);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[KVM_PCPU_ERRSZ];
	unsigned char *b = malloc(size != 0 ? size : 1);
	kvm_t *kd;

	if (b == NULL)
		return (0);
	memcpy(b, data, size);
	kd = kvm_pcpu_open_image(b, size, 0, err);
	if (kd != NULL) {
		exercise(kd);
		kvm_close(kd);
	}
	/* A fresh handle (exercise() reset the caches) for the display. */
	kd = kvm_pcpu_open_image(b, size, 0, err);
	if (kd != NULL) {
		display(kd, display_bits(b, size));
		kvm_close(kd);
	}
	free(b);
	return (0);
}

/* ---- The structure-aware mutator ---- */

struct field {
	uint16_t off, len;
};

/* Header fields a reader checks (offset, bytes). */
# define HF(f)                                           \
  {                                                      \
   (uint16_t) offsetof(struct percpu_seg_hdr, f),        \
       (uint16_t)sizeof(((struct percpu_seg_hdr *)0)->f) \
  }
static const struct field hdr_fields[] = {HF(major), HF(minor), HF(hdr_size),
    HF(endian), HF(ptr_size), HF(atomic64), HF(flags), HF(total_size),
    HF(maxcpu), HF(ncpu), HF(stride), HF(mask_off), HF(pcpu_off), HF(pcpu_size),
    HF(nchunks), HF(arena_off), HF(arena_size), HF(reg_off), HF(reg_cap),
    HF(reg_size), HF(str_off), HF(str_cap), HF(dpcpu_tmpl_off), HF(dpcpu_size),
    HF(pid), HF(state), HF(reg_count), HF(str_used), HF(generation)};
# define RF(f)                                           \
  {                                                      \
   (uint16_t) offsetof(struct percpu_seg_rec, f),        \
       (uint16_t)sizeof(((struct percpu_seg_rec *)0)->f) \
  }
static const struct field rec_fields[] = {RF(state), RF(kind), RF(fmt),
    RF(base), RF(size), RF(count), RF(name_off), RF(name_len), RF(reg_id)};
# define PF(f)                                 \
  {                                            \
   (uint16_t) offsetof(struct pcpu, f),        \
       (uint16_t)sizeof(((struct pcpu *)0)->f) \
  }
static const struct field cpu_fields[] = {PF(pc_cpuid), PF(pc_flags),
    PF(pc_unit), PF(pc_unit_off), PF(pc_dynamic)};

static uint32_t
mut_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return (*x);
}

static uint64_t
get_le(const uint8_t *p, unsigned len)
{
	uint64_t v = 0;

	memcpy(&v, p, len); /* the image's order: the host's */
	return (v);
}

/* A new value for a field now @old, of @len bytes, in image @h. */
static uint64_t
mut_value(uint32_t *x, uint64_t old, const struct percpu_seg_hdr *h)
{
	const uint64_t offs[] = {h->total_size, h->arena_off, h->reg_off,
	    h->str_off, h->pcpu_off, h->mask_off, h->dpcpu_tmpl_off,
	    h->arena_size, h->stride, h->maxcpu, h->ncpu, h->reg_cap,
	    h->str_cap};

	switch (mut_rand(x) % 12) {
	case 0:
		return (0);
	case 1:
		return (1);
	case 2:
		return (UINT64_MAX);
	case 3:
		return (old + 1);
	case 4:
		return (old - 1);
	case 5:
		return (old + h->stride);
	case 6:
		return ((uint64_t)1 << (mut_rand(x) % 64));
	case 7:
		return (offs[mut_rand(x) % (sizeof(offs) / sizeof(offs[0]))]);
	case 8:
		return (old ^ ((uint64_t)1 << (mut_rand(x) % 64)));
	case 9:
		return (old * 2);
	case 10:
		return (((uint64_t)mut_rand(x) << 32) | mut_rand(x));
	default:
		return (offs[mut_rand(x) % (sizeof(offs) / sizeof(offs[0]))] +
		    (mut_rand(x) % 129) - 64);
	}
}

/*
 * LLVMFuzzerCustomMutator - one structured edit of a segment image (or
 * libFuzzer's byte mutations, a quarter of the time and for inputs that
 * are no image).
 */
size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
    unsigned int seed)
{
	struct percpu_seg_hdr h;
	uint32_t x = seed | 1u;
	const struct field *f;
	uint64_t base, v;
	unsigned edits, e;

	if (size < sizeof(h) || mut_rand(&x) % 4 == 0 ||
	    memcmp(data, PERCPU_SEG_MAGIC, 8) != 0)
		return (LLVMFuzzerMutate(data, size, max));
	edits = 1 + mut_rand(&x) % 3;
	for (e = 0; e < edits; e++) {
		memcpy(&h, data, sizeof(h));
		switch (mut_rand(&x) % 5) {
		case 0: /* a header field */
			f = &hdr_fields[mut_rand(&x) %
			    (sizeof(hdr_fields) / sizeof(hdr_fields[0]))];
			base = 0;
			break;
		case 1: /* a field of a registry record */
			f = &rec_fields[mut_rand(&x) %
			    (sizeof(rec_fields) / sizeof(rec_fields[0]))];
			base = h.reg_off +
			    (uint64_t)(mut_rand(&x) %
				(h.reg_cap != 0 ? h.reg_cap : 1)) *
				h.reg_size;
			break;
		case 2: /* a field of a CPU's descriptor */
			f = &cpu_fields[mut_rand(&x) %
			    (sizeof(cpu_fields) / sizeof(cpu_fields[0]))];
			base = h.pcpu_off +
			    (uint64_t)(mut_rand(&x) %
				(h.maxcpu != 0 ? h.maxcpu : 1)) *
				h.pcpu_size;
			break;
		case 3: { /* a word of the possible-CPU mask */
			static const struct field word = {0, 8};

			f = &word;
			base = h.mask_off +
			    (uint64_t)(mut_rand(&x) % (h.maxcpu / 64 + 1)) * 8;
			break;
		}
		default: { /* the display bits */
			static const struct field bits = {
			    (uint16_t)offsetof(struct percpu_seg_hdr, reserved),
			    8};

			f = &bits;
			base = 0;
			v = mut_rand(&x) % 8;
			if (base + f->off + f->len <= size)
				memcpy(data + f->off, &v, f->len);
			continue;
		}
		}
		if (base > size || f->off + f->len > size - base)
			continue;
		v = mut_value(&x, get_le(data + base + f->off, f->len), &h);
		memcpy(data + base + f->off, &v, f->len); /* low bytes */
	}
	return (size);
}

#endif /* KVM_FUZZ_SEEDS */
