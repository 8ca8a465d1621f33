/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_kvm.c - inspection from outside: the reader (kvm_pcpu.h) and the
 * writer (percpu_export.h).
 *
 * Built three ways like every suite.  The reader works in every build, so
 * the tests on hand-built images (test/kvm_image.h) and the corpus of
 * crafted bad files run in mp, sim and up.  Exporting needs the MP build:
 * the live tests (a writer process exec'ed from this binary, a reader in
 * the test process) are #if PERCPU_MP; the UP build checks instead that
 * percpu_export_open() refuses with ENOTSUP.
 *
 * The writer: this test binary re-executed with KVM_TEST_ROLE=writer (a
 * constructor of this file takes over before Criterion's main), driven by
 * one-line commands on its stdin and answering on its stdout.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvm_image.h"
#include "kvm_pcpu.h"
#include "percpu_export.h"

/* The sparse CPU set of the images: maxcpu 201, 5 CPUs. */
static const unsigned img_cpus[] = {0, 1, 5, 63, 200};
#define IMG_N 5u

static void
build(struct img *im, int with_dpcpu)
{
	cr_assert_eq(img_build(im, img_cpus, IMG_N, with_dpcpu), 0);
}

static kvm_t *
open_img(struct img *im)
{
	char err[KVM_PCPU_ERRSZ] = "";
	kvm_t *kd = kvm_pcpu_open_image(im->b, im->size, 0, err);

	cr_assert_not_null(kd, "open_image: %s", err);
	return (kd);
}

/* Open @im and expect failure with @e and exactly @msg. */
static void
expect_bad(struct img *im, size_t size, int e, const char *msg)
{
	char err[KVM_PCPU_ERRSZ] = "";
	kvm_t *kd;

	errno = 0;
	kd = kvm_pcpu_open_image(im->b, size, 0, err);
	cr_assert_null(kd, "opened, expected: %s", msg);
	cr_assert_eq(errno, e, "errno %d (%s), expected %d for: %s", errno,
	    strerror(errno), e, msg);
	cr_assert_str_eq(err, msg);
}

/* ---- The seed's functions on an image ---- */

Test(kvm, maxcpu_ncpus_and_pcpu_descriptors)
{
	struct img im;
	struct pcpu *p;
	kvm_t *kd;
	unsigned u;

	build(&im, 1);
	kd = open_img(&im);
	cr_assert_eq(kvm_getmaxcpu(kd), 201);
	cr_assert_eq(kvm_getncpus(kd), 5);
	for (u = 0; u < IMG_N; u++) {
		p = kvm_getpcpu(kd, (int)img_cpus[u]);
		cr_assert(p != NULL && p != (void *)-1);
		cr_assert_eq(p->pc_cpuid, img_cpus[u]);
		cr_assert_eq(p->pc_unit, u);
		cr_assert_eq(p->pc_unit_off, im.h->arena_off + u * IMG_STRIDE);
		free(p);
	}
	cr_assert_null(kvm_getpcpu(kd, 2), "absent CPU");
	cr_assert_null(kvm_getpcpu(kd, 201), ">= maxcpu");
	cr_assert_null(kvm_getpcpu(kd, -1), "negative");
	cr_assert_eq(kvm_pcpu_cpu_possible(kd, 63), 1);
	cr_assert_eq(kvm_pcpu_cpu_possible(kd, 62), 0);
	cr_assert_str_eq(kvm_geterr(NULL), "");
	cr_assert_eq(kvm_close(kd), 0);
	img_free(&im);
}

Test(kvm, null_handle_resets_every_handles_cache)
{
	struct img im;
	struct pcpu *p0, *p1, t;
	kvm_t *kd, *kd2;

	build(&im, 0);
	kd = open_img(&im);
	kd2 = open_img(&im);
	/* Swap CPU 0's and CPU 1's units in the image: still valid. */
	t = *img_pcpu(&im, 0);
	*img_pcpu(&im, 0) = *img_pcpu(&im, 1);
	*img_pcpu(&im, 1) = t;
	img_pcpu(&im, 0)->pc_cpuid = 0;
	img_pcpu(&im, 1)->pc_cpuid = 1;
	p0 = kvm_getpcpu(kd, 0);
	cr_assert_eq(p0->pc_unit, 0, "cached: the old table");
	free(p0);
	cr_assert_null(kvm_getpcpu(NULL, 0));
	p0 = kvm_getpcpu(kd, 0);
	p1 = kvm_getpcpu(kd2, 0);
	cr_assert_eq(p0->pc_unit, 1, "re-read after the reset");
	cr_assert_eq(p1->pc_unit, 1, "every handle re-reads");
	free(p0);
	free(p1);
	/* A reset onto a corrupt image: the next call reports it. */
	im.h->ncpu = 300;
	cr_assert_eq(kvm_getmaxcpu(NULL), 0);
	cr_assert_eq(kvm_getpcpu(kd, 0), (void *)-1);
	cr_assert_str_eq(kvm_geterr(kd),
	    "(image): corrupt: ncpu 300 (maxcpu 201)");
	cr_assert_eq(kvm_getmaxcpu(kd2), -1);
	cr_assert_eq(kvm_pcpu_errno(kd2), EBADMSG);
	kvm_close(kd);
	kvm_close(kd2);
	img_free(&im);
}

Test(kvm, dpcpu_setcpu_selects_the_instance_nlist_returns)
{
	struct kvm_nlist nl[] = {{.n_name = "_pkts"}, {.n_name = "quota"},
	    {.n_name = "pcpu_entry_pkts"}, {.n_name = NULL}};
	struct img im;
	uint64_t v;
	int32_t q;
	kvm_t *kd;

	build(&im, 1);
	kd = open_img(&im);
	cr_assert_eq(kvm_nlist(kd, nl), 0, "%s", kvm_geterr(kd));
	cr_assert_eq(nl[0].n_type, KVM_PCPU_KIND_DPCPU);
	cr_assert_eq(nl[0].n_other, PERCPU_SEG_FMT_U64);
	cr_assert_eq(nl[0].n_size, 8);
	/* Default CPU 0; the prefixed name itself is the template. */
	cr_assert_eq(kvm_read(kd, nl[0].n_value, &v, 8), 8);
	cr_assert_eq(v, 1000);
	cr_assert_eq(kvm_read(kd, nl[1].n_value, &q, 4), 4);
	cr_assert_eq(q, 0);
	cr_assert_eq(kvm_read(kd, nl[2].n_value, &v, 8), 8);
	cr_assert_eq(v, 7, "template");
	cr_assert_eq(kvm_dpcpu_setcpu(kd, 63), 0);
	/* As libkvm: only n_type 0 entries are looked up again. */
	cr_assert_eq(kvm_nlist(kd, nl), 0);
	cr_assert_eq(kvm_read(kd, nl[0].n_value, &v, 8), 8);
	cr_assert_eq(v, 1000, "resolved entries are not updated");
	nl[0].n_type = nl[1].n_type = 0;
	cr_assert_eq(kvm_nlist(kd, nl), 0);
	cr_assert_eq(kvm_read(kd, nl[0].n_value, &v, 8), 8);
	cr_assert_eq(v, 1063);
	cr_assert_eq(kvm_read(kd, nl[1].n_value, &q, 4), 4);
	cr_assert_eq(q, -63);
	cr_assert_eq(kvm_dpcpu_setcpu(kd, 2), -1);
	cr_assert_str_eq(kvm_geterr(kd), "_kvm_dpcpu_setcpu: CPU 2 not found");
	cr_assert_eq(kvm_dpcpu_setcpu(kd, 201), -1);
	cr_assert_str_eq(kvm_geterr(kd), "_kvm_dpcpu_setcpu: CPU 201 too big");
	kvm_close(kd);
	img_free(&im);
}

Test(kvm, dpcpu_without_template_and_without_cpu0)
{
	struct kvm_nlist nl[] = {{.n_name = "_pkts"}, {.n_name = NULL}};
	static const unsigned cpus[] = {2, 3};
	struct img im;
	uint64_t v;
	kvm_t *kd;

	build(&im, 0);
	kd = open_img(&im);
	cr_assert_eq(kvm_dpcpu_setcpu(kd, 0), -1);
	cr_assert_str_eq(kvm_geterr(kd), "kvm_dpcpu_setcpu: init failed");
	cr_assert_eq(kvm_nlist(kd, nl), 1);
	cr_assert_str_eq(kvm_geterr(kd), "kvm_nlist: 1 name not found");
	kvm_close(kd);
	img_free(&im);
	/* CPU 0 absent: the default selects nothing, the template is read. */
	cr_assert_eq(img_build(&im, cpus, 2, 1), 0);
	kd = open_img(&im);
	cr_assert_eq(kvm_nlist(kd, nl), 0);
	cr_assert_eq(kvm_read(kd, nl[0].n_value, &v, 8), 8);
	cr_assert_eq(v, 7);
	cr_assert_eq(kvm_dpcpu_setcpu(kd, 3), 0);
	nl[0].n_type = 0;
	cr_assert_eq(kvm_nlist(kd, nl), 0);
	cr_assert_eq(kvm_read(kd, nl[0].n_value, &v, 8), 8);
	cr_assert_eq(v, 1003);
	kvm_close(kd);
	img_free(&im);
}

Test(kvm, counters_sum_every_possible_cpu)
{
	struct kvm_nlist nl[] = {{.n_name = "_rx"}, {.n_name = "ifc"},
	    {.n_name = "stats"}, {.n_name = "nope"}, {.n_name = "nada"},
	    {.n_name = ""}};
	uint64_t v, c[3];
	uint32_t st[4];
	struct img im;
	kvm_t *kd;

	build(&im, 1);
	kd = open_img(&im);
	cr_assert_eq(kvm_nlist(kd, nl), 2);
	cr_assert_str_eq(kvm_geterr(kd), "kvm_nlist: 2 names not found");
	cr_assert_eq(nl[3].n_type, KVM_PCPU_N_UNDF);
	cr_assert_eq(nl[0].n_type, KVM_PCPU_KIND_COUNTER_U64);
	cr_assert_eq(nl[0].n_value, im.rx);
	/* 100*(c+1) - c over CPUs 0, 1, 5, 63, 200: 27131. */
	cr_assert_eq(kvm_counter_u64_fetch(kd, nl[0].n_value), 27131);
	cr_assert_eq(img_expect_rx(&im), 27131);
	cr_assert_eq(kvm_pcpu_counter_u64_cpu(kd, nl[0].n_value, 63, &v), 0);
	cr_assert_eq(v, 6337);
	cr_assert_eq(kvm_pcpu_counter_u64_cpu(kd, nl[0].n_value, 2, &v), -1);
	cr_assert_str_eq(kvm_geterr(kd),
	    "kvm_pcpu_counter_u64_cpu: CPU 2 not found");
	/* Errors: 0 from the libkvm call, -1 and a message from ours. */
	cr_assert_eq(kvm_counter_u64_fetch(kd, nl[0].n_value + 4), 0);
	cr_assert_eq(kvm_pcpu_counter_u64_fetch(kd, 64, &v), -1);
	cr_assert_str_eq(kvm_geterr(kd),
	    "kvm_counter_u64_fetch: invalid address (0x40)");
	cr_assert_eq(kvm_counter_u64_fetch(NULL, nl[0].n_value), 0);
	/* counters(9): 3 counters, c[k] = 10*cpu + k. */
	cr_assert_eq(nl[1].n_count, 3);
	cr_assert_eq(kvm_pcpu_counters_read(kd, nl[1].n_value, 3, -1, c), 0);
	cr_assert_eq(c[0], 2690);
	cr_assert_eq(c[1], 2695);
	cr_assert_eq(c[2], 2700);
	cr_assert_eq(kvm_pcpu_counters_read(kd, nl[1].n_value, 3, 5, c), 0);
	cr_assert_eq(c[2], 52);
	/* A set caught mid-update in a snapshot never settles. */
	img_put64(img_unit(&im, 3, IMG_IFC), 3);
	cr_assert_eq(kvm_pcpu_counters_read(kd, nl[1].n_value, 3, -1, c), -1);
	cr_assert_eq(kvm_pcpu_errno(kd), EAGAIN);
	cr_assert_str_eq(kvm_geterr(kd),
	    "kvm_pcpu_counters_read: CPU 63: the set stayed busy");
	/* zpcpu: CPU 200's copy is unit 4. */
	cr_assert_eq(kvm_read_zpcpu(kd, nl[2].n_value, st, 16, 200), 16);
	cr_assert_eq(st[0], 200);
	cr_assert_eq(st[3], 203);
	cr_assert_eq(kvm_read_zpcpu(kd, nl[2].n_value, st, 16, 2), -1);
	cr_assert_str_eq(kvm_geterr(kd), "kvm_read_zpcpu: CPU 2 not found");
	cr_assert_eq(kvm_read_zpcpu(kd, nl[2].n_value + IMG_STRIDE, st, 16, 0),
	    -1, "a base must be a unit-0 copy");
	cr_assert_eq(kvm_read_zpcpu(kd, nl[2].n_value, st, IMG_STRIDE, 0), -1,
	    "the object must not leave its unit");
	cr_assert_eq(kvm_read(kd, (unsigned long)im.size - 4, &v, 8), -1);
	kvm_close(kd);
	img_free(&im);
}

/* ---- The corpus of crafted bad files ---- */

Test(kvm, corpus_bad_headers)
{
	char msg[512];
	struct img im;
	uint64_t sz;

	build(&im, 1);
	sz = im.size;
	expect_bad(&im, 100, EBADMSG,
	    "(image): corrupt: 100 bytes, smaller than a header (256)");
	im.h->magic[0] = 'X';
	expect_bad(&im, im.size, EPROTO,
	    "(image): bad magic: not a pcpu segment");
	im.h->magic[0] = 'P';
	im.h->endian = 0x04030201u;
	expect_bad(&im, im.size, EPROTO,
	    "(image): written with the other byte order");
	im.h->endian = 0x11223344u;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: endian check 0x11223344");
	im.h->endian = PERCPU_SEG_ENDIAN;
	im.h->major = 2;
	im.h->minor = 7;
	expect_bad(&im, im.size, EPROTO,
	    "(image): version 2.7 not supported (this reader reads 1.x)");
	im.h->major = 1;
	im.h->minor = 9; /* a newer minor only adds fields: readable */
	kvm_close(open_img(&im));
	im.h->hdr_size = 100;
	expect_bad(&im, im.size, EBADMSG, "(image): corrupt: hdr_size 100");
	im.h->hdr_size = PERCPU_SEG_HDR_SIZE;
	im.h->total_size = sz + 4096;
	snprintf(msg, sizeof(msg),
	    "(image): corrupt: total_size %" PRIu64 ", but it has %" PRIu64
	    " bytes",
	    sz + 4096, sz);
	expect_bad(&im, im.size, EBADMSG, msg);
	im.h->total_size = UINT64_MAX;
	/* The reader's default KVM_PCPU_MAX_SIZE: 1 TiB, 1 GiB on 32-bit. */
	snprintf(msg, sizeof(msg),
	    "(image): corrupt: total_size 18446744073709551615 over the limit "
	    "%" PRIu64,
	    SIZE_MAX > 0xffffffffu ? (uint64_t)1 << 40 : (uint64_t)1 << 30);
	expect_bad(&im, im.size, EBADMSG, msg);
	im.h->total_size = sz;
	im.h->ptr_size = 3;
	expect_bad(&im, im.size, EBADMSG, "(image): corrupt: ptr_size 3");
	im.h->ptr_size = 8;
	atomic_store(&im.h->state, 7);
	expect_bad(&im, im.size, EBADMSG, "(image): corrupt: state 7");
	atomic_store(&im.h->state, PERCPU_SEG_INIT);
	expect_bad(&im, im.size, EBADMSG, "(image): corrupt: state 0");
	atomic_store(&im.h->state, PERCPU_SEG_SNAPSHOT);
	im.h->flags = 0;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: flags 0x0 disagree with state 3");
	im.h->flags = PERCPU_SEG_F_SNAPSHOT;
	kvm_close(open_img(&im));
	img_free(&im);
}

Test(kvm, corpus_bad_geometry)
{
	struct img im;
	char msg[512];
	uint64_t keep;

	build(&im, 1);
	im.h->maxcpu = 0;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: maxcpu 0 (limit 65536)");
	im.h->maxcpu = 100000;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: maxcpu 100000 (limit 65536)");
	im.h->maxcpu = 201;
	im.h->ncpu = 300;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: ncpu 300 (maxcpu 201)");
	im.h->ncpu = 5;
	im.h->stride = 100;
	expect_bad(&im, im.size, EBADMSG, "(image): corrupt: stride 100");
	im.h->stride = IMG_STRIDE;
	im.h->pcpu_size = 8;
	expect_bad(&im, im.size, EBADMSG, "(image): corrupt: pcpu_size 8");
	im.h->pcpu_size = PERCPU_SEG_PCPU_SIZE;
	im.h->reg_cap = 1u << 24;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: registry of 16777216 records of 64 bytes");
	im.h->reg_cap = IMG_RECORDS;
	im.h->nchunks = 0;
	expect_bad(&im, im.size, EBADMSG, "(image): corrupt: nchunks 0");
	im.h->nchunks = 1;
	im.h->arena_size = 1;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: arena_size 1 is not nchunks * ncpu * stride");
	im.h->arena_size = IMG_N * IMG_STRIDE;
	im.h->dpcpu_size = 0;
	expect_bad(&im, im.size, EBADMSG, "(image): corrupt: dpcpu_size 0");
	im.h->dpcpu_size = 16;
	/* Regions: outside (with and without overflow), overlapping,
	 * misaligned. */
	keep = im.h->reg_off;
	im.h->reg_off = im.size - 64;
	snprintf(msg, sizeof(msg),
	    "(image): corrupt: registry [0x%zx, +1024) outside the segment "
	    "(%zu bytes)",
	    im.size - 64, im.size);
	expect_bad(&im, im.size, EBADMSG, msg);
	im.h->reg_off = UINT64_MAX - 63;
	snprintf(msg, sizeof(msg),
	    "(image): corrupt: registry [0xffffffffffffffc0, +1024) outside "
	    "the segment (%zu bytes)",
	    im.size);
	expect_bad(&im, im.size, EBADMSG, msg);
	im.h->reg_off = im.h->str_off;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: registry and string table overlap");
	im.h->reg_off = keep;
	keep = im.h->mask_off;
	im.h->mask_off = 257;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: mask offset 0x101 misaligned");
	im.h->mask_off = 0;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: header and mask overlap");
	im.h->mask_off = keep;
	kvm_close(open_img(&im));
	img_free(&im);
}

Test(kvm, corpus_bad_cpu_tables)
{
	struct img im;
	struct pcpu keep;
	uint64_t w;

	build(&im, 1);
	img_pcpu(&im, 2)->pc_flags = PERCPU_SEG_PCPU_PRESENT;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: CPU 2: pc_flags 0x1 disagree with the mask");
	img_pcpu(&im, 2)->pc_flags = 0;
	keep = *img_pcpu(&im, 1);
	img_pcpu(&im, 1)->pc_unit = 0;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: CPU 1: pc_cpuid 1, pc_unit 0");
	img_pcpu(&im, 1)->pc_unit = 7;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: CPU 1: pc_cpuid 1, pc_unit 7");
	*img_pcpu(&im, 1) = keep;
	img_pcpu(&im, 5)->pc_unit_off = 0;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: CPU 5: pc_unit_off 0x0");
	img_pcpu(&im, 5)->pc_unit_off = im.h->arena_off + 2 * IMG_STRIDE;
	img_pcpu(&im, 63)->pc_dynamic = 0xffffffffffff0000u;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: CPU 63: pc_dynamic 0xffffffffffff0000");
	img_pcpu(&im, 63)->pc_dynamic += 0x10000u + 8; /* off by 8 bytes */
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: CPU 63: pc_dynamic 0x8");
	img_pcpu(&im, 63)->pc_dynamic =
	    im.h->arena_off + 3 * IMG_STRIDE + IMG_DPCPU - im.h->dpcpu_tmpl_off;
	/* A mask bit past maxcpu; a CPU missing from the mask. */
	memcpy(&w, im.b + im.h->mask_off + 24, 8);
	w |= (uint64_t)1 << (201 % 64);
	memcpy(im.b + im.h->mask_off + 24, &w, 8);
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: CPU 201 in the mask, maxcpu 201");
	w &= ~((uint64_t)1 << (201 % 64));
	w &= ~((uint64_t)1 << (200 % 64));
	memcpy(im.b + im.h->mask_off + 24, &w, 8);
	img_pcpu(&im, 200)->pc_flags = 0;
	expect_bad(&im, im.size, EBADMSG,
	    "(image): corrupt: 4 CPUs in the mask, ncpu 5, maxcpu 201");
	img_free(&im);
}

Test(kvm, corpus_a_bad_record_spares_the_others)
{
	struct kvm_nlist nl[] = {{.n_name = "rx"}, {.n_name = "ifc"},
	    {.n_name = "stats"}, {.n_name = NULL}};
	struct kvm_pcpu_entry e;
	struct img im;
	char msg[512];
	kvm_t *kd;

	build(&im, 1);
	img_rec(&im, 1)->name_off = 5000;
	im.b[im.h->str_off + 2] = 'x'; /* "rx" loses its NUL */
	img_rec(&im, 2)->base = 8;
	atomic_store(&img_rec(&im, 3)->state, 9);
	img_rec(&im, 4)->kind = 77; /* a newer writer's kind */
	kd = open_img(&im);
	cr_assert_eq(kvm_pcpu_nentries(kd), 5);
	cr_assert_eq(kvm_pcpu_entry(kd, 0, &e), -1);
	cr_assert_str_eq(kvm_geterr(kd),
	    "(image): corrupt: record 0: bad name");
	cr_assert_eq(kvm_pcpu_entry(kd, 1, &e), -1);
	cr_assert_str_eq(kvm_geterr(kd),
	    "(image): corrupt: record 1: name at 5000 +3 outside the string "
	    "table");
	cr_assert_eq(kvm_pcpu_entry(kd, 2, &e), -1);
	cr_assert_str_eq(kvm_geterr(kd),
	    "(image): corrupt: record 2 (stats): kind 4, base 0x8, size 16, "
	    "count 4");
	cr_assert_eq(kvm_pcpu_entry(kd, 3, &e), -1);
	cr_assert_str_eq(kvm_geterr(kd), "(image): corrupt: record 3: state 9");
	cr_assert_eq(kvm_pcpu_entry(kd, 4, &e), 1, "unknown kind: skipped");
	cr_assert_eq(kvm_pcpu_entry(kd, 5, &e), 1, "past the end");
	kvm_close(kd);
	/* Repair the first three: the others are still readable. */
	img_free(&im);
	build(&im, 1);
	img_rec(&im, 2)->fmt = 11;
	img_rec(&im, 0)->size = 8;
	atomic_store(&im.h->reg_count, 1000); /* clamped to reg_cap */
	kd = open_img(&im);
	cr_assert_eq(kvm_pcpu_nentries(kd), IMG_RECORDS);
	cr_assert_eq(kvm_nlist(kd, nl), 2);
	cr_assert_eq(nl[1].n_value, im.ifc);
	cr_assert_eq(kvm_pcpu_entry(kd, 2, &e), -1);
	snprintf(msg, sizeof(msg),
	    "(image): corrupt: record 2 (stats): fmt 11");
	cr_assert_str_eq(kvm_geterr(kd), msg);
	cr_assert_eq(kvm_pcpu_entry(kd, 3, &e), 0);
	cr_assert_str_eq(e.name, "pcpu_entry_pkts");
	cr_assert_eq(kvm_pcpu_entry(kd, 7, &e), 1, "FREE records");
	kvm_close(kd);
	img_free(&im);
}

Test(kvm, open_errors_of_files_and_names)
{
	char err[KVM_PCPU_ERRSZ], path[128], msg[512];
	struct kvm_nlist nl[] = {{.n_name = "rx"}, {.n_name = NULL}};
	struct img im;
	kvm_t *kd;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/kvm-test-%d.pcpu", (int)getpid());
	(void)unlink(path);
	errno = 0;
	cr_assert_null(kvm_pcpu_open(path, 0, err));
	cr_assert_eq(errno, ENOENT);
	snprintf(msg, sizeof(msg), "%s: no such file", path);
	cr_assert_str_eq(err, msg);
	cr_assert_null(kvm_pcpu_open("/tmp", 0, err));
	cr_assert_eq(errno, EINVAL);
	cr_assert_str_eq(err, "/tmp: not a regular file");
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_null(kvm_pcpu_open(path, 0, err));
	cr_assert_eq(errno, EBADMSG);
	snprintf(msg, sizeof(msg),
	    "%s: corrupt: 0 bytes, smaller than a header (256)", path);
	cr_assert_str_eq(err, msg);
	/* A valid image as a file reads like one; truncated, it does not. */
	build(&im, 1);
	f = fopen(path, "w");
	cr_assert_eq(fwrite(im.b, 1, im.size, f), im.size);
	fclose(f);
	kd = kvm_pcpu_open(path, 0, err);
	cr_assert_not_null(kd, "%s", err);
	cr_assert_eq(kvm_nlist(kd, nl), 0);
	cr_assert_eq(kvm_counter_u64_fetch(kd, nl[0].n_value), 27131);
	cr_assert_eq(kvm_pcpu_status(kd), KVM_PCPU_SNAPSHOT);
	kvm_close(kd);
	cr_assert_eq(truncate(path, (off_t)im.size - 1), 0);
	cr_assert_null(kvm_pcpu_open(path, 0, err));
	snprintf(msg, sizeof(msg),
	    "%s: corrupt: total_size %zu, but it has %zu bytes", path, im.size,
	    im.size - 1);
	cr_assert_str_eq(err, msg);
	(void)unlink(path);
	img_free(&im);
	/* Names. */
	cr_assert_null(kvm_pcpu_open("a:b", 0, err));
	cr_assert_eq(errno, EINVAL);
	cr_assert_str_eq(err,
	    "kvm_pcpu_open: a:b: not a segment name "
	    "([A-Za-z0-9_.-])");
	cr_assert_null(kvm_pcpu_open("kvm-test-nobody-exports-this", 0, err));
	cr_assert_eq(errno, ENOENT);
	snprintf(msg, sizeof(msg),
	    "/dev/shm/pcpu.%u.kvm-test-nobody-exports-this: no such segment",
	    (unsigned)geteuid());
	cr_assert_str_eq(err, msg);
	cr_assert_null(kvm_pcpu_open_image(im.b, 0, 1, err));
	cr_assert_eq(errno, EINVAL);
}

/*
 * Live segments live in /dev/shm: a host without a writable one (a
 * missing host capability, not a failure) skips the tests that make one.
 */
static void
need_shm(void)
{
	if (access("/dev/shm", W_OK | X_OK) != 0)
		cr_skip_test("no writable /dev/shm on this host: no live "
			     "segment can be made");
}

/* A file in /dev/shm that is not a writer's: untrusted, or never ready. */
Test(kvm, live_segment_not_trusted_or_not_ready)
{
	char name[64], path[128], err[KVM_PCPU_ERRSZ], msg[512];
	int fd;

	need_shm();
	snprintf(name, sizeof(name), "kvm-test-bad-%d", (int)getpid());
	snprintf(path, sizeof(path), "/dev/shm/pcpu.%u.%s", (unsigned)geteuid(),
	    name);
	fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, 4096), 0);
	close(fd);
	cr_assert_eq(chmod(path, 0666), 0);
	cr_assert_null(kvm_pcpu_open(name, 0, err));
	cr_assert_eq(errno, EPERM);
	snprintf(msg, sizeof(msg),
	    "%s: not trusted: writable by group or others (mode 0666)", path);
	cr_assert_str_eq(err, msg);
	cr_assert_eq(chmod(path, 0600), 0);
	/* All zero: state INIT, never published by a writer: no wait. */
	cr_assert_null(kvm_pcpu_open(name, 0, err));
	cr_assert_eq(errno, EAGAIN);
	snprintf(msg, sizeof(msg),
	    "%s: not ready: state INIT, and writers publish a segment only "
	    "once it is ready (a crashed start, or not a segment): remove it",
	    path);
	cr_assert_str_eq(err, msg);
	cr_assert_eq(unlink(path), 0);
}

#if PERCPU_MP
/* ---- Writer process ---- */

DPCPU_DEFINE(uint64_t, kvmt_pkts) = 7;

static int
writer_main(void)
{
	const char *name = getenv("KVM_TEST_NAME");
	counter_u64_t rx;
	struct cpumem *ifc;
	percpu_t *st;
	char line[512];
	unsigned cpu;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (percpu_export_open(name, NULL) != 0) {
		printf("fail %s\n", percpu_export_error());
		return (1);
	}
	rx = counter_u64_alloc(M_WAITOK);
	ifc = counters_alloc(3);
	st = percpu_alloc(4 * sizeof(uint32_t));
	if (percpu_export_counter_u64("rx", rx) != 0 ||
	    percpu_export_counters("ifc", ifc, 3) != 0 ||
	    percpu_export_percpu("stats", st, PERCPU_EXPORT_FMT_U32) != 0 ||
	    PERCPU_EXPORT_DPCPU(kvmt_pkts) != 0) {
		printf("fail %s\n", percpu_export_error());
		return (1);
	}
	printf("ready %u %u %d\n", percpu_maxcpu(), percpu_ncpus(),
	    (int)getpid());
	while (fgets(line, sizeof(line), stdin) != NULL) {
		unsigned long long a = 0, b = 0, c = 0;
		char arg[400] = "";
		int rc = 0;

		(void)sscanf(line + 1, " %llu %llu %llu", &a, &b, &c);
		(void)sscanf(line + 1, " %399s", arg);
		switch (line[0]) {
		case 'a':
			counter_u64_add(rx, (int64_t)a);
			break;
		case 'z':
			counter_u64_zero(rx);
			break;
		case 'c':
			counters_add(ifc, (unsigned)a, b);
			break;
		case 'd':
			DPCPU_ID_SET(a, kvmt_pkts, b);
			break;
		case 'p':
			((uint32_t *)percpu_getptr_remote(st,
			    percpu_cpu_info((unsigned)a)))[b] = (uint32_t)c;
			break;
		case 's':
			rc = percpu_export_snapshot(arg);
			break;
		case 'r': {
			counter_u64_t n = counter_u64_alloc(M_WAITOK);

			counter_u64_add(n, 5);
			rc = percpu_export_counter_u64(arg, n);
			break;
		}
		case 'u':
			rc = percpu_export_unregister(arg);
			break;
		case 'n':
			/* Names n.0 ... with values 1 ..., registered while a
			 * reader looks them up. */
			for (cpu = 0; cpu < a && rc == 0; cpu++) {
				counter_u64_t n = counter_u64_alloc(M_WAITOK);
				struct timespec ts = {0, 20000};
				char nm[32];

				counter_u64_add(n, (int64_t)cpu + 1);
				snprintf(nm, sizeof(nm), "n.%u", cpu);
				rc = percpu_export_counter_u64(nm, n);
				nanosleep(&ts, NULL);
			}
			break;
		case 'f': {
			/* A fork child updates its own copy, never ours. */
			pid_t p = fork();

			if (p == 0) {
				counter_u64_add(rx, 1000);
				DPCPU_ID_SET(percpu_cpu_first(), kvmt_pkts,
				    999);
				counters_add(ifc, 0, 1000);
				_exit(0);
			}
			rc = p > 0 && waitpid(p, NULL, 0) == p ? 0 : -1;
			break;
		}
		case 'q':
			rc = percpu_export_close();
			printf("ok\n");
			return (rc == 0 ? 0 : 1);
		default:
			rc = -1;
		}
		if (rc == 0)
			printf("ok\n");
		else
			printf("err %s\n", percpu_export_error());
	}
	/* The test went away (a failed assertion): leave nothing behind. */
	(void)percpu_export_close();
	return (0);
}

/* The writer role: take over before Criterion when exec'ed as one. */
__attribute__((constructor)) static void
kvm_test_role(void)
{
	const char *r = getenv("KVM_TEST_ROLE");

	if (r != NULL && strcmp(r, "writer") == 0)
		_exit(writer_main());
}

struct writer {
	pid_t pid;
	FILE *to, *from;
	char name[64];
	char path[128];
	unsigned maxcpu, ncpu;
};

static void
writer_start(struct writer *w, const char *tag)
{
	int in[2], out[2];
	char line[512];
	int pid;

	need_shm();
	snprintf(w->name, sizeof(w->name), "kvmt-%d-%s", (int)getpid(), tag);
	snprintf(w->path, sizeof(w->path), "/dev/shm/pcpu.%u.%s",
	    (unsigned)geteuid(), w->name);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	w->pid = fork();
	cr_assert(w->pid >= 0);
	if (w->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		/* Out of the test's process group: when a failed test is
		 * killed, the writer sees EOF and removes its segment. */
		(void)setsid();
		setenv("KVM_TEST_ROLE", "writer", 1);
		setenv("KVM_TEST_NAME", w->name, 1);
		execl("/proc/self/exe", "kvm-writer", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	w->to = fdopen(in[1], "w");
	w->from = fdopen(out[0], "r");
	setvbuf(w->to, NULL, _IOLBF, 0);
	cr_assert_not_null(fgets(line, sizeof(line), w->from), "writer died");
	cr_assert_eq(sscanf(line, "ready %u %u %d", &w->maxcpu, &w->ncpu, &pid),
	    3, "writer: %s", line);
	cr_assert_eq(pid, w->pid);
}

/* Send one command; the writer's answer must be "ok". */
static void
writer_cmd(struct writer *w, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vfprintf(w->to, fmt, ap);
	va_end(ap);
	fputc('\n', w->to);
	fflush(w->to);
	cr_assert_not_null(fgets(line, sizeof(line), w->from), "writer died");
	cr_assert_str_eq(line, "ok\n");
}

/* Read the writer's answer to a command sent by hand: "ok".  Return: 1. */
static int
writer_answer(struct writer *w)
{
	char line[512];

	cr_assert_not_null(fgets(line, sizeof(line), w->from), "writer died");
	cr_assert_str_eq(line, "ok\n");
	return (1);
}

static void
writer_quit(struct writer *w)
{
	int st;

	writer_cmd(w, "q");
	fclose(w->to);
	fclose(w->from);
	cr_assert_eq(waitpid(w->pid, &st, 0), w->pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static kvm_t *
open_live(const char *what, int flags)
{
	char err[KVM_PCPU_ERRSZ] = "";
	kvm_t *kd = kvm_pcpu_open(what, flags, err);

	cr_assert_not_null(kd, "kvm_pcpu_open(%s): %s", what, err);
	return (kd);
}

static uint64_t
fetch(kvm_t *kd, unsigned long base)
{
	uint64_t v = 0;

	cr_assert_eq(kvm_pcpu_counter_u64_fetch(kd, base, &v), 0, "%s",
	    kvm_geterr(kd));
	return (v);
}

/* Resolve the writer's objects: rx, ifc, stats, _kvmt_pkts. */
static void
resolve(kvm_t *kd, struct kvm_nlist nl[5])
{
	memset(nl, 0, 5 * sizeof(*nl));
	nl[0].n_name = "rx";
	nl[1].n_name = "ifc";
	nl[2].n_name = "stats";
	nl[3].n_name = "_kvmt_pkts";
	cr_assert_eq(kvm_nlist(kd, nl), 0, "%s", kvm_geterr(kd));
}

Test(kvm_live, values_follow_the_writer)
{
	struct kvm_nlist nl[5];
	struct kvm_pcpu_info info;
	struct writer w;
	uint64_t c[3], v;
	uint32_t s[4];
	unsigned cpu, last = 0;
	kvm_t *kd;

	writer_start(&w, "follow");
	kd = open_live(w.name, 0);
	cr_assert_eq(kvm_getmaxcpu(kd), (int)w.maxcpu);
	cr_assert_eq(kvm_getncpus(kd), (int)w.ncpu);
	cr_assert_eq(kvm_pcpu_status(kd), KVM_PCPU_RUNNING);
	cr_assert_eq(kvm_pcpu_info(kd, &info), 0);
	cr_assert_eq(info.pid, (uint64_t)w.pid);
	cr_assert_eq(info.live, 1);
	cr_assert_str_eq(info.path, w.path);
	cr_assert_eq(info.entries, 4);
	resolve(kd, nl);
	cr_assert_eq(fetch(kd, nl[0].n_value), 0);
	writer_cmd(&w, "a 5");
	cr_assert_eq(fetch(kd, nl[0].n_value), 5);
	writer_cmd(&w, "a 1000000");
	cr_assert_eq(fetch(kd, nl[0].n_value), 1000005);
	writer_cmd(&w, "z");
	cr_assert_eq(fetch(kd, nl[0].n_value), 0, "the baseline rule");
	writer_cmd(&w, "a 3");
	cr_assert_eq(kvm_counter_u64_fetch(kd, nl[0].n_value), 3);
	writer_cmd(&w, "c 1 40");
	writer_cmd(&w, "c 2 2");
	cr_assert_eq(kvm_pcpu_counters_read(kd, nl[1].n_value, 3, -1, c), 0);
	cr_assert_eq(c[0], 0);
	cr_assert_eq(c[1], 40);
	cr_assert_eq(c[2], 2);
	/* DPCPU and percpu(9) memory, per CPU (the last possible CPU). */
	for (cpu = 0; cpu < w.maxcpu; cpu++)
		if (kvm_pcpu_cpu_possible(kd, (int)cpu))
			last = cpu;
	writer_cmd(&w, "d %u 77", last);
	writer_cmd(&w, "p %u 3 9", last);
	cr_assert_eq(kvm_read(kd, nl[3].n_value, &v, 8), 8);
	cr_assert_eq(v, last == 0 ? 77 : 7, "CPU 0's instance by default");
	cr_assert_eq(kvm_dpcpu_setcpu(kd, last), 0);
	nl[3].n_type = 0;
	cr_assert_eq(kvm_nlist(kd, nl), 0);
	cr_assert_eq(kvm_read(kd, nl[3].n_value, &v, 8), 8);
	cr_assert_eq(v, 77);
	cr_assert_eq(kvm_read_zpcpu(kd, nl[2].n_value, s, 16, (int)last), 16);
	cr_assert_eq(s[3], 9);
	cr_assert_eq(s[0], 0);
	/* A fork child of the writer changes nothing the reader sees. */
	writer_cmd(&w, "f");
	cr_assert_eq(fetch(kd, nl[0].n_value), 3);
	cr_assert_eq(kvm_pcpu_counters_read(kd, nl[1].n_value, 3, -1, c), 0);
	cr_assert_eq(c[0], 0);
	writer_quit(&w);
	cr_assert_eq(kvm_pcpu_status(kd), KVM_PCPU_GONE);
	cr_assert_eq(fetch(kd, nl[0].n_value), 3, "the last values remain");
	kvm_close(kd);
	/* Closed: the name is gone. */
	{
		char err[KVM_PCPU_ERRSZ], msg[512];

		cr_assert_null(kvm_pcpu_open(w.name, 0, err));
		cr_assert_eq(errno, ENOENT);
		snprintf(msg, sizeof(msg), "%s: no such segment", w.path);
		cr_assert_str_eq(err, msg);
	}
}

Test(kvm_live, snapshot_read_after_the_writer_exited)
{
	char snap[128], snap2[128], err[KVM_PCPU_ERRSZ];
	struct kvm_nlist nl[5];
	struct kvm_pcpu_info info;
	struct writer w;
	uint64_t c[3];
	struct stat st;
	kvm_t *kd;

	snprintf(snap, sizeof(snap), "/tmp/kvmt-%d-w.pcpu", (int)getpid());
	snprintf(snap2, sizeof(snap2), "/tmp/kvmt-%d-r.pcpu", (int)getpid());
	writer_start(&w, "snap");
	writer_cmd(&w, "a 42");
	writer_cmd(&w, "c 0 7");
	writer_cmd(&w, "s %s", snap);
	/* A reader's snapshot of the live segment, too. */
	kd = open_live(w.name, 0);
	cr_assert_eq(kvm_pcpu_snapshot(kd, snap2), 0, "%s", kvm_geterr(kd));
	kvm_close(kd);
	writer_cmd(&w, "a 1");
	writer_quit(&w);
	cr_assert_eq(stat(snap, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_lt((uint64_t)st.st_blocks * 512, (uint64_t)st.st_size,
	    "holes stay holes");
	kd = kvm_pcpu_open(snap, 0, err);
	cr_assert_not_null(kd, "%s", err);
	cr_assert_eq(kvm_pcpu_status(kd), KVM_PCPU_SNAPSHOT);
	cr_assert_eq(kvm_pcpu_info(kd, &info), 0);
	cr_assert_eq(info.live, 0);
	cr_assert_eq(info.state, PERCPU_SEG_SNAPSHOT);
	cr_assert_eq(info.pid, (uint64_t)w.pid);
	cr_assert_neq(info.snapshot_ns, 0);
	resolve(kd, nl);
	cr_assert_eq(fetch(kd, nl[0].n_value), 42);
	cr_assert_eq(kvm_pcpu_counters_read(kd, nl[1].n_value, 3, -1, c), 0);
	cr_assert_eq(c[0], 7);
	kvm_close(kd);
	kd = kvm_pcpu_open(snap2, 0, err);
	cr_assert_not_null(kd, "%s", err);
	resolve(kd, nl);
	cr_assert_eq(fetch(kd, nl[0].n_value), 42);
	kvm_close(kd);
	unlink(snap);
	unlink(snap2);
}

Test(kvm_live, another_uid_gets_permission_denied)
{
	struct writer w;
	pid_t p;
	int st;

	if (geteuid() != 0)
		cr_skip_test("needs root to act as a second uid");
	writer_start(&w, "perm");
	p = fork();
	cr_assert(p >= 0);
	if (p == 0) {
		char err[KVM_PCPU_ERRSZ], msg[512];
		kvm_t *kd;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		errno = 0;
		kd = kvm_pcpu_open(w.path, 0, err);
		snprintf(msg, sizeof(msg),
		    "%s: permission denied (owner uid 0, mode 0600)", w.path);
		if (kd != NULL)
			_exit(11);
		if (errno != EACCES)
			_exit(12);
		if (strcmp(err, msg) != 0)
			_exit(13);
		/* By name, the other user has no such segment. */
		if (kvm_pcpu_open(w.name, 0, err) != NULL || errno != ENOENT)
			_exit(14);
		_exit(0);
	}
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), 0,
	    "child step %d failed (11 opened, 12 errno, 13 message, 14 by "
	    "name)",
	    WEXITSTATUS(st));
	writer_quit(&w);
}

Test(kvm_live, reader_keeps_working_while_names_are_registered)
{
	enum { N = 300 };
	struct kvm_nlist nl[N + 2];
	char names[N][16];
	struct writer w;
	unsigned i, found = 0, rounds = 0, prev = 0;
	int answered = 0;
	uint64_t since;
	kvm_t *kd;

	writer_start(&w, "grow");
	kd = open_live(w.name, 0);
	for (i = 0; i < N; i++)
		snprintf(names[i], sizeof(names[i]), "n.%u", i);
	/* Ask for N names in the background; read while they appear. */
	fprintf(w.to, "n %d\n", N);
	fflush(w.to);
	memset(nl, 0, sizeof(nl));
	for (i = 0; i < N; i++)
		nl[i].n_name = names[i];
	nl[N].n_name = "rx";
	/* Until all are seen.  The writer runs when the scheduler likes: if
	 * it is still registering after HARNESS_WAIT_S, wait for its answer
	 * and look once more (then every name must be there). */
	since = harness_now_ms();
	do {
		unsigned n;
		int missing;

		if (!answered && harness_waited_too_long(since))
			answered = writer_answer(&w);
		n = kvm_pcpu_nentries(kd);
		missing = kvm_nlist(kd, nl);
		cr_assert_geq(missing, 0, "%s", kvm_geterr(kd));
		cr_assert_geq(n, prev, "entries never go back");
		prev = n;
		found = (unsigned)(N + 1 - missing);
		for (i = 0; i < N; i++)
			if (nl[i].n_type != 0)
				cr_assert_eq(fetch(kd, nl[i].n_value), i + 1,
				    "%s", names[i]);
		rounds++;
	} while (found < N + 1 && !answered);
	cr_assert_eq(found, N + 1, "%u of %d names seen in %u rounds", found,
	    N + 1, rounds);
	if (!answered)
		(void)writer_answer(&w);
	/* Unregistered names disappear; a new one appears. */
	writer_cmd(&w, "u n.7");
	writer_cmd(&w, "r late");
	nl[7].n_type = 0;
	nl[N].n_type = 0;
	nl[N].n_name = "late";
	cr_assert_eq(kvm_nlist(kd, nl), 1);
	cr_assert_eq(nl[7].n_type, 0);
	cr_assert_eq(fetch(kd, nl[N].n_value), 5);
	kvm_close(kd);
	writer_quit(&w);
}

Test(kvm_live, a_killed_writer_is_gone_and_replaced)
{
	struct kvm_nlist nl[5];
	char err[KVM_PCPU_ERRSZ], msg[512];
	struct writer w, w2;
	kvm_t *kd, *old;
	int st;

	writer_start(&w, "kill");
	writer_cmd(&w, "a 11");
	old = open_live(w.name, 0);
	kill(w.pid, SIGKILL);
	cr_assert_eq(waitpid(w.pid, &st, 0), w.pid);
	fclose(w.to);
	fclose(w.from);
	cr_assert_eq(kvm_pcpu_status(old), KVM_PCPU_GONE);
	cr_assert_null(kvm_pcpu_open(w.name, 0, err));
	cr_assert_eq(errno, ESTALE);
	snprintf(msg, sizeof(msg),
	    "%s: writer gone: pid %d no longer holds it (it exited, was "
	    "killed or exec'ed)",
	    w.path, (int)w.pid);
	cr_assert_str_eq(err, msg);
	kd = open_live(w.name, KVM_PCPU_STALE_OK);
	resolve(kd, nl);
	cr_assert_eq(fetch(kd, nl[0].n_value), 11, "post-mortem");
	kvm_close(kd);
	/* A new writer under the same name replaces the leftover. */
	w2 = w;
	{
		int in[2], out[2];
		char line[512];

		cr_assert_eq(pipe(in), 0);
		cr_assert_eq(pipe(out), 0);
		w2.pid = fork();
		if (w2.pid == 0) {
			dup2(in[0], 0);
			dup2(out[1], 1);
			setenv("KVM_TEST_ROLE", "writer", 1);
			setenv("KVM_TEST_NAME", w2.name, 1);
			execl("/proc/self/exe", "kvm-writer", (char *)NULL);
			_exit(127);
		}
		close(in[0]);
		close(out[1]);
		w2.to = fdopen(in[1], "w");
		w2.from = fdopen(out[0], "r");
		cr_assert_not_null(fgets(line, sizeof(line), w2.from));
		cr_assert_eq(strncmp(line, "ready ", 6), 0, "%s", line);
	}
	cr_assert_eq(kvm_pcpu_status(old), KVM_PCPU_RESTARTED);
	kvm_close(old);
	kd = open_live(w2.name, 0);
	resolve(kd, nl);
	cr_assert_eq(fetch(kd, nl[0].n_value), 0, "a new instance");
	kvm_close(kd);
	writer_quit(&w2);
}

/* In the test process itself: the writer's own errors. */
Test(kvm_live, writer_errors)
{
	char name[64], err[KVM_PCPU_ERRSZ], msg[512];
	static uint64_t not_per_cpu[2];
	struct kvm_pcpu_entry e;
	struct writer w;
	counter_u64_t c;
	kvm_t *kd;

	need_shm();
	snprintf(name, sizeof(name), "kvmt-%d-self", (int)getpid());
	cr_assert_eq(percpu_export_open("bad name", NULL), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(percpu_export_counter_u64("x", NULL), -1);
	cr_assert_eq(percpu_export_close(), -1);
	cr_assert_eq(errno, EBADF);
	cr_assert_eq(percpu_export_open(name, NULL), 0, "%s",
	    percpu_export_error());
	snprintf(msg, sizeof(msg), "/dev/shm/pcpu.%u.%s", (unsigned)geteuid(),
	    name);
	cr_assert_str_eq(percpu_export_path(), msg);
	cr_assert_eq(percpu_export_open(name, NULL), -1);
	cr_assert_eq(errno, EBUSY);
	cr_assert_str_eq(percpu_export_error(),
	    "percpu_export_open: already called in this process");
	c = counter_u64_alloc(M_WAITOK);
	cr_assert_eq(percpu_export_counter_u64("c", c), 0);
	cr_assert_eq(percpu_export_counter_u64("c", c), -1);
	cr_assert_eq(errno, EEXIST);
	cr_assert_str_eq(percpu_export_error(),
	    "percpu_export: c: already registered");
	cr_assert_eq(percpu_export_counter_u64("two words", c), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(percpu_export_priv_add("static", PERCPU_SEG_KIND_PCPU, 0,
			 not_per_cpu, 16, 16),
	    -1);
	cr_assert_eq(errno, EFAULT);
	kd = open_live(name, 0);
	cr_assert_eq(kvm_pcpu_entry(kd, 0, &e), 0);
	cr_assert_str_eq(e.name, "c");
	cr_assert_eq(percpu_export_unregister("c"), 0);
	cr_assert_eq(kvm_pcpu_entry(kd, 0, &e), 1, "reclaimed");
	cr_assert_eq(percpu_export_unregister("c"), -1);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(percpu_export_counter_u64("c", c), 0, "again");
	cr_assert_eq(kvm_pcpu_entry(kd, 1, &e), 0);
	cr_assert_eq(e.reg_id, 2);
	kvm_close(kd);
	cr_assert_eq(percpu_export_close(), 0);
	cr_assert_eq(percpu_export_counter_u64("d", c), -1);
	cr_assert_eq(errno, EBADF);
	cr_assert_null(kvm_pcpu_open(name, 0, err));
	cr_assert_eq(errno, ENOENT);
	/* A name in use by a running writer. */
	writer_start(&w, "busy");
	{
		int in[2], out[2];
		char line[512];
		pid_t p;

		cr_assert_eq(pipe(in), 0);
		cr_assert_eq(pipe(out), 0);
		p = fork();
		if (p == 0) {
			dup2(in[0], 0);
			dup2(out[1], 1);
			setenv("KVM_TEST_ROLE", "writer", 1);
			setenv("KVM_TEST_NAME", w.name, 1);
			execl("/proc/self/exe", "kvm-writer", (char *)NULL);
			_exit(127);
		}
		close(in[0]);
		close(out[1]);
		close(in[1]);
		cr_assert_not_null(
		    fgets(line, sizeof(line), fdopen(out[0], "r")));
		snprintf(msg, sizeof(msg),
		    "fail percpu_export_open: %s: in use by pid %d, a running "
		    "writer: stop it or choose another name\n",
		    w.path, (int)w.pid);
		cr_assert_str_eq(line, msg);
		waitpid(p, NULL, 0);
	}
	writer_quit(&w);
}

/* The temporary names (/dev/shm/.pcpu.<euid>.<name>.<random>) of @name. */
static unsigned
tmp_names(const char *name)
{
	char pre[128];
	struct dirent *d;
	unsigned n = 0;
	DIR *dir = opendir("/dev/shm");

	cr_assert_not_null(dir);
	snprintf(pre, sizeof(pre), ".pcpu.%u.%s.", (unsigned)geteuid(), name);
	while ((d = readdir(dir)) != NULL)
		if (strncmp(d->d_name, pre, strlen(pre)) == 0)
			n++;
	closedir(dir);
	return (n);
}

/* The descriptors open in this process. */
static unsigned
open_fds(void)
{
	struct dirent *d;
	unsigned n = 0;
	DIR *dir = opendir("/proc/self/fd");

	cr_assert_not_null(dir);
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return (n);
}

/* Expect the refusal of @name, held by the running writer @w. */
static void
expect_in_use(const struct writer *w)
{
	char msg[512];

	cr_assert_eq(percpu_export_open(w->name, NULL), -1);
	cr_assert_eq(errno, EEXIST, "%s", strerror(errno));
	snprintf(msg, sizeof(msg),
	    "percpu_export_open: %s: in use by pid %d, a running writer: stop "
	    "it or choose another name",
	    w->path, (int)w->pid);
	cr_assert_str_eq(percpu_export_error(), msg);
	cr_assert_null(percpu_export_path());
	cr_assert_eq(tmp_names(w->name), 0, "no temporary name left");
}

/*
 * A name in use by a running writer, then another name: the retry
 * publishes the segment the first call made (the arena already lives
 * there: what was allocated in between is exported too), and then
 * everything works as after a first success.
 */
Test(kvm_live, a_retry_after_a_name_in_use_exports_under_another_name)
{
	char name[64], path[128], err[KVM_PCPU_ERRSZ];
	struct percpu_export_opts o = {0, 0, 0, 0};
	struct kvm_pcpu_info info;
	struct kvm_nlist nl[4];
	struct writer w;
	counter_u64_t early, late;
	unsigned fds;
	uint64_t v;
	kvm_t *kd;
	pid_t p;
	int st;

	writer_start(&w, "taken");
	snprintf(name, sizeof(name), "kvmt-%d-retry", (int)getpid());
	snprintf(path, sizeof(path), "/dev/shm/pcpu.%u.%s", (unsigned)geteuid(),
	    name);
	expect_in_use(&w);
	fds = open_fds();
	/* Unexported meanwhile, the toolkit works. */
	early = counter_u64_alloc(M_WAITOK);
	counter_u64_add(early, 42);
	cr_assert_eq(percpu_export_counter_u64("early", early), -1);
	cr_assert_eq(errno, EBADF);
	cr_assert_eq(percpu_export_close(), -1);
	cr_assert_eq(errno, EBADF);
	/* The same name again: refused alike, nothing left, nothing kept. */
	expect_in_use(&w);
	cr_assert_eq(open_fds(), fds);
	/* Another name. */
	o.heartbeat_ms = 1;
	cr_assert_eq(percpu_export_open(name, &o), 0, "%s",
	    percpu_export_error());
	cr_assert_str_eq(percpu_export_path(), path);
	cr_assert_eq(tmp_names(name), 0);
	cr_assert_eq(tmp_names(w.name), 0);
	cr_assert_eq(open_fds(), fds, "the old segment's descriptor closed");
	cr_assert_eq(counter_u64_fetch(early), 42, "the arena moved whole");
	late = counter_u64_alloc(M_WAITOK);
	counter_u64_add(late, 5);
	cr_assert_eq(percpu_export_counter_u64("early", early), 0, "%s",
	    percpu_export_error());
	cr_assert_eq(percpu_export_counter_u64("late", late), 0, "%s",
	    percpu_export_error());
	cr_assert_eq(PERCPU_EXPORT_DPCPU(kvmt_pkts), 0, "%s",
	    percpu_export_error());
	kd = open_live(name, 0);
	cr_assert_eq(kvm_pcpu_status(kd), KVM_PCPU_RUNNING);
	cr_assert_eq(kvm_pcpu_info(kd, &info), 0);
	cr_assert_eq(info.pid, (uint64_t)getpid());
	cr_assert_eq(info.live, 1);
	cr_assert_str_eq(info.path, path);
	cr_assert_eq(info.entries, 3);
	memset(nl, 0, sizeof(nl));
	nl[0].n_name = "early";
	nl[1].n_name = "late";
	nl[2].n_name = "_kvmt_pkts";
	cr_assert_eq(kvm_nlist(kd, nl), 0, "%s", kvm_geterr(kd));
	cr_assert_eq(fetch(kd, nl[0].n_value), 42);
	cr_assert_eq(fetch(kd, nl[1].n_value), 5);
	cr_assert_eq(kvm_read(kd, nl[2].n_value, &v, 8), 8);
	cr_assert_eq(v, 7);
	counter_u64_add(early, 1);
	cr_assert_eq(fetch(kd, nl[0].n_value), 43, "live words");
	/* A fork child updates its own copy. */
	p = fork();
	cr_assert(p >= 0);
	if (p == 0) {
		counter_u64_add(early, 1000);
		_exit(percpu_export_close() == 0 ? 0 : 1);
	}
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_assert_eq(fetch(kd, nl[0].n_value), 43);
	cr_assert_str_eq(percpu_export_path(), path, "the child's close");
	/* The other name still leads to its own writer. */
	{
		kvm_t *other = open_live(w.name, 0);

		cr_assert_eq(kvm_pcpu_info(other, &info), 0);
		cr_assert_eq(info.pid, (uint64_t)w.pid);
		kvm_close(other);
	}
	cr_assert_eq(percpu_export_close(), 0);
	cr_assert_eq(kvm_pcpu_status(kd), KVM_PCPU_GONE);
	kvm_close(kd);
	cr_assert_null(kvm_pcpu_open(name, 0, err));
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(tmp_names(name), 0);
	writer_quit(&w);
}

/* Squatted (a FIFO of this test at the name), then the same name once it
 * is removed: the retry needs no other name. */
Test(kvm_live, a_retry_after_a_squatted_name_exports_once_it_is_free)
{
	char name[64], path[128], msg[512];
	kvm_t *kd;

	need_shm();
	snprintf(name, sizeof(name), "kvmt-%d-fifo", (int)getpid());
	snprintf(path, sizeof(path), "/dev/shm/pcpu.%u.%s", (unsigned)geteuid(),
	    name);
	cr_assert_eq(mkfifo(path, 0600), 0, "%s", strerror(errno));
	cr_assert_eq(percpu_export_open(name, NULL), -1);
	cr_assert_eq(errno, EPERM);
	snprintf(msg, sizeof(msg),
	    "percpu_export_open: %s: squatted: a FIFO of uid %u, not a "
	    "segment of this user (uid %u), is at the name; it cannot be "
	    "replaced: remove it (as uid %u or root) or choose another name",
	    path, (unsigned)geteuid(), (unsigned)geteuid(),
	    (unsigned)geteuid());
	cr_assert_str_eq(percpu_export_error(), msg);
	cr_assert_eq(tmp_names(name), 0);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(percpu_export_open(name, NULL), 0, "%s",
	    percpu_export_error());
	kd = open_live(name, 0);
	cr_assert_eq(kvm_pcpu_status(kd), KVM_PCPU_RUNNING);
	kvm_close(kd);
	cr_assert_eq(percpu_export_close(), 0);
	cr_assert_eq(access(path, F_OK), -1);
}

/* After a successful retry, every call is "already called". */
Test(kvm_live, after_a_successful_retry_another_call_is_refused)
{
	char name[64], other[64], path[128];
	struct writer w;

	writer_start(&w, "taken2");
	snprintf(name, sizeof(name), "kvmt-%d-second", (int)getpid());
	snprintf(other, sizeof(other), "kvmt-%d-third", (int)getpid());
	snprintf(path, sizeof(path), "/dev/shm/pcpu.%u.%s", (unsigned)geteuid(),
	    name);
	expect_in_use(&w);
	cr_assert_eq(percpu_export_open(name, NULL), 0, "%s",
	    percpu_export_error());
	cr_assert_eq(percpu_export_open(other, NULL), -1);
	cr_assert_eq(errno, EBUSY);
	cr_assert_str_eq(percpu_export_error(),
	    "percpu_export_open: already called in this process");
	cr_assert_eq(percpu_export_open(name, NULL), -1);
	cr_assert_eq(errno, EBUSY);
	cr_assert_str_eq(percpu_export_error(),
	    "percpu_export_open: already called in this process");
	cr_assert_str_eq(percpu_export_path(), path);
	cr_assert_eq(percpu_export_close(), 0);
	cr_assert_eq(percpu_export_open(other, NULL), -1, "closed: still");
	cr_assert_eq(errno, EBUSY);
	writer_quit(&w);
}

/* A retry in a fork child of a process whose call failed cannot work: its
 * arena is a private copy.  The parent's retry still does. */
Test(kvm_live, a_retry_in_a_fork_child_is_not_recoverable)
{
	char name[64], msg[512] = "";
	struct writer w;
	int fd[2], st;
	ssize_t n;
	pid_t p;

	writer_start(&w, "taken3");
	snprintf(name, sizeof(name), "kvmt-%d-child", (int)getpid());
	expect_in_use(&w);
	cr_assert_eq(pipe(fd), 0);
	p = fork();
	cr_assert(p >= 0);
	if (p == 0) {
		int rc = percpu_export_open(name, NULL), e = errno;

		(void)dprintf(fd[1], "%d %d %s", rc, e, percpu_export_error());
		_exit(0);
	}
	close(fd[1]);
	n = read(fd[0], msg, sizeof(msg) - 1);
	cr_assert_gt(n, 0);
	msg[n] = '\0';
	close(fd[0]);
	cr_assert_eq(waitpid(p, &st, 0), p);
	{
		char want[512];

		snprintf(want, sizeof(want),
		    "-1 %d percpu_export_open: cannot retry in a fork child: "
		    "its arena is a private copy of its parent's, whose call "
		    "failed",
		    ENOTRECOVERABLE);
		cr_assert_str_eq(msg, want);
	}
	cr_assert_eq(tmp_names(name), 0);
	cr_assert_eq(percpu_export_open(name, NULL), 0, "%s",
	    percpu_export_error());
	cr_assert_eq(percpu_export_close(), 0);
	writer_quit(&w);
}

/* A first call that failed before its segment was made (no descriptor
 * left: EMFILE) leaves the arena in private memory: a retry says so. */
Test(kvm_live, a_retry_after_no_segment_was_made_is_not_recoverable)
{
	char name[64];
	struct rlimit old, lim;
	counter_u64_t c;
	int fd;

	need_shm();
	snprintf(name, sizeof(name), "kvmt-%d-nofd", (int)getpid());
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	fd = dup(0);
	cr_assert(fd >= 0);
	close(fd);
	lim = old;
	lim.rlim_cur = (rlim_t)fd; /* every descriptor from here on fails */
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
	errno = 0;
	fd = percpu_export_open(name, NULL);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	cr_assert_eq(fd, -1);
	cr_assert_eq(errno, EMFILE, "%s", percpu_export_error());
	cr_assert_eq(tmp_names(name), 0);
	c = counter_u64_alloc(M_WAITOK);
	counter_u64_add(c, 3);
	cr_assert_eq(counter_u64_fetch(c), 3, "unexported, working");
	cr_assert_eq(percpu_export_open(name, NULL), -1);
	cr_assert_eq(errno, ENOTRECOVERABLE);
	cr_assert_str_eq(percpu_export_error(),
	    "percpu_export_open: cannot retry: the first call failed before "
	    "its segment was made, so the toolkit's arena lives in private "
	    "memory; only a new process can export it");
	cr_assert_null(percpu_export_path());
}

Test(kvm_live, open_after_the_toolkit_is_in_use_is_refused)
{
	(void)percpu_ncpus();
	cr_assert_eq(percpu_export_open("kvmt-late", NULL), -1);
	cr_assert_eq(errno, EBUSY);
	cr_assert_str_eq(percpu_export_error(),
	    "percpu_export_open: the toolkit is already in use: call "
	    "percpu_export_open() before any other of its functions");
}

/* ---- pcpustat (built by `make tools`, a prerequisite of the suites) ---- */

static const char *
pcpustat_path(void)
{
	static char path[256];
	const char *b = getenv("BUILD");

	if (getenv("PCPUSTAT") != NULL)
		return (getenv("PCPUSTAT"));
	snprintf(path, sizeof(path), "%s/tools/pcpustat",
	    b != NULL ? b : "build");
	cr_assert_eq(access(path, X_OK), 0, "%s not built: make tools", path);
	return (path);
}

/* Read all of @fd into @buf (NUL-terminated). */
static void
slurp(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
}

/*
 * Run pcpustat with the NULL-terminated arguments, as uid @uid if not 0;
 * its stdout in @out, stderr in @err.  Return: the exit status.
 */
static int
pcpustat(char *out, size_t outlen, char *err, size_t errlen, uid_t uid, ...)
{
	const char *argv[16];
	int o[2], e[2], st, n = 1;
	va_list ap;
	pid_t p;

	argv[0] = pcpustat_path();
	va_start(ap, uid);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	cr_assert_eq(pipe(o), 0);
	cr_assert_eq(pipe(e), 0);
	p = fork();
	cr_assert(p >= 0);
	if (p == 0) {
		dup2(o[1], 1);
		dup2(e[1], 2);
		close(o[0]);
		close(e[0]);
		if (uid != 0 && (setgid(uid) != 0 || setuid(uid) != 0))
			_exit(99);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(98);
	}
	close(o[1]);
	close(e[1]);
	slurp(o[0], out, outlen);
	slurp(e[0], err, errlen);
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFEXITED(st));
	return (WEXITSTATUS(st));
}

Test(kvm_live, pcpustat_reads_a_live_writer)
{
	char out[16384], err[4096], want[512], snap[128], *second;
	struct writer w;

	snprintf(snap, sizeof(snap), "/tmp/kvmt-%d-tool.pcpu", (int)getpid());
	writer_start(&w, "tool");
	writer_cmd(&w, "a 5");
	writer_cmd(&w, "c 1 40");
	cr_assert_eq(pcpustat(out, sizeof(out), err, sizeof(err), 0, "-n",
			 w.name, "-j", "-c", "-f", "rx", NULL),
	    0, "%s", err);
	snprintf(want, sizeof(want),
	    "\"live\":true,\"status\":\"running\",\"pid\":%d,", (int)w.pid);
	cr_assert_not_null(strstr(out, want), "%s", out);
	cr_assert_not_null(
	    strstr(out,
		"\"objects\":[{\"name\":\"rx\",\"kind\":\"counter\","
		"\"format\":\"u64\",\"size\":16,\"count\":1,"
		"\"value\":5,\"per_cpu\":{"),
	    "%s", out);
	cr_assert_null(strstr(out, "\"ifc\""), "filtered out");
	/* Text: one line per counter of the set. */
	cr_assert_eq(pcpustat(out, sizeof(out), err, sizeof(err), 0, "-n",
			 w.name, "-f", "if?", NULL),
	    0, "%s", err);
	snprintf(want, sizeof(want), "\n%-32s %-14s %20s\n", "ifc[1]",
	    "counters", "40");
	cr_assert_not_null(strstr(out, want), "%s", out);
	/* Interval mode: nothing changes between the samples: rate 0. */
	cr_assert_eq(pcpustat(out, sizeof(out), err, sizeof(err), 0, "-n",
			 w.name, "-j", "-i", "0.1", "-N", "2", "-f", "rx",
			 NULL),
	    0, "%s", err);
	second = strchr(out, '\n');
	cr_assert(second != NULL && strchr(second + 1, '\n') != NULL);
	*second++ = '\0';
	cr_assert_null(strstr(out, "\"rate\""), "no rate in the first sample");
	cr_assert_not_null(strstr(second, "\"value\":5,\"rate\":0}"), "%s",
	    second);
	/* The list. */
	cr_assert_eq(
	    pcpustat(out, sizeof(out), err, sizeof(err), 0, "-l", NULL), 0,
	    "%s", err);
	snprintf(want, sizeof(want), "%-24s %8d ", w.name, (int)w.pid);
	cr_assert_not_null(strstr(out, want), "%s", out);
	/* A snapshot, read after the writer moved on and exited. */
	cr_assert_eq(pcpustat(out, sizeof(out), err, sizeof(err), 0, "-n",
			 w.name, "-s", snap, NULL),
	    0, "%s", err);
	snprintf(want, sizeof(want), "saved %s\n", snap);
	cr_assert_str_eq(out, want);
	writer_cmd(&w, "a 1");
	writer_quit(&w);
	cr_assert_eq(pcpustat(out, sizeof(out), err, sizeof(err), 0, "-r", snap,
			 "-j", "-f", "rx", NULL),
	    0, "%s", err);
	cr_assert_not_null(
	    strstr(out, "\"live\":false,\"status\":\"snapshot\""), "%s", out);
	cr_assert_not_null(strstr(out, "\"value\":5}"), "%s", out);
	unlink(snap);
}

Test(kvm_live, pcpustat_exit_codes_by_error_class)
{
	char out[16384], err[4096], want[512], path[128], name[64];
	struct img im;
	struct writer w;
	FILE *f;
	int st;

	snprintf(path, sizeof(path), "/tmp/kvmt-%d-bad.pcpu", (int)getpid());
	cr_assert_eq(pcpustat(out, sizeof(out), err, sizeof(err), 0, NULL), 2);
	cr_assert_eq(
	    pcpustat(out, sizeof(out), err, sizeof(err), 0, "-x", NULL), 2);
	snprintf(name, sizeof(name), "kvmt-%d-none", (int)getpid());
	cr_assert_eq(
	    pcpustat(out, sizeof(out), err, sizeof(err), 0, "-n", name, NULL),
	    3);
	snprintf(want, sizeof(want),
	    "pcpustat: /dev/shm/pcpu.%u.%s: no such segment\n",
	    (unsigned)geteuid(), name);
	cr_assert_str_eq(err, want);
	/* Bad magic (6), corrupt header (7), a corrupt record (7, after
	 * the others). */
	build(&im, 1);
	im.h->magic[0] = 'X';
	f = fopen(path, "w");
	fwrite(im.b, 1, im.size, f);
	fclose(f);
	cr_assert_eq(
	    pcpustat(out, sizeof(out), err, sizeof(err), 0, "-r", path, NULL),
	    6);
	im.h->magic[0] = 'P';
	im.h->ncpu = 0;
	f = fopen(path, "w");
	fwrite(im.b, 1, im.size, f);
	fclose(f);
	cr_assert_eq(
	    pcpustat(out, sizeof(out), err, sizeof(err), 0, "-r", path, NULL),
	    7);
	snprintf(want, sizeof(want),
	    "pcpustat: %s: corrupt: ncpu 0 (maxcpu 201)\n", path);
	cr_assert_str_eq(err, want);
	im.h->ncpu = IMG_N;
	img_rec(&im, 1)->name_off = 5000;
	f = fopen(path, "w");
	fwrite(im.b, 1, im.size, f);
	fclose(f);
	cr_assert_eq(pcpustat(out, sizeof(out), err, sizeof(err), 0, "-r", path,
			 "-f", "rx", NULL),
	    7);
	snprintf(want, sizeof(want), "\n%-32s %-14s %20s\n", "rx", "counter",
	    "27131");
	cr_assert_not_null(strstr(out, want), "%s", out);
	unlink(path);
	img_free(&im);
	/* Writer gone (5), unless -S. */
	writer_start(&w, "tool-gone");
	kill(w.pid, SIGKILL);
	cr_assert_eq(waitpid(w.pid, &st, 0), w.pid);
	fclose(w.to);
	fclose(w.from);
	cr_assert_eq(
	    pcpustat(out, sizeof(out), err, sizeof(err), 0, "-n", w.name, NULL),
	    5);
	snprintf(want, sizeof(want),
	    "pcpustat: %s: writer gone: pid %d no longer holds it (it "
	    "exited, was killed or exec'ed)\n",
	    w.path, (int)w.pid);
	cr_assert_str_eq(err, want);
	cr_assert_eq(pcpustat(out, sizeof(out), err, sizeof(err), 0, "-n",
			 w.name, "-S", NULL),
	    0, "%s", err);
	cr_assert_eq(shm_unlink(w.path + strlen("/dev/shm")), 0);
}

Test(kvm_live, pcpustat_permission_denied_for_another_uid)
{
	char out[4096], err[4096], want[512];
	struct writer w;

	if (geteuid() != 0)
		cr_skip_test("needs root to act as a second uid");
	writer_start(&w, "tool-perm");
	cr_assert_eq(pcpustat(out, sizeof(out), err, sizeof(err), 65534, "-n",
			 w.path, NULL),
	    4);
	snprintf(want, sizeof(want),
	    "pcpustat: %s: permission denied (owner uid 0, mode 0600)\n",
	    w.path);
	cr_assert_str_eq(err, want);
	writer_quit(&w);
}

/* ---- Temporary names left by killed builders (the sweep of open) ---- */

/* /dev/shm/.pcpu.<uid>.<name>.<r as 16 hex digits>: a temporary name. */
static void
tmp_path_of(char *path, size_t n, unsigned uid, const char *name, uint64_t r)
{
	snprintf(path, n, "/dev/shm/.pcpu.%u.%s.%016" PRIx64, uid, name, r);
}

static int
cmp_str(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/*
 * The entries of /dev/shm that are temporary names of @name for @uid,
 * sorted, each followed by a newline, into @out.
 */
static void
tmp_list(unsigned uid, const char *name, char *out, size_t n)
{
	char pre[128], *names[16];
	struct dirent *d;
	size_t k = 0, i, len = 0;
	DIR *dir = opendir("/dev/shm");

	cr_assert_not_null(dir);
	snprintf(pre, sizeof(pre), ".pcpu.%u.%s.", uid, name);
	while ((d = readdir(dir)) != NULL)
		if (strncmp(d->d_name, pre, strlen(pre)) == 0) {
			cr_assert_lt(k, 16);
			names[k++] = strdup(d->d_name);
		}
	closedir(dir);
	qsort(names, k, sizeof(names[0]), cmp_str);
	out[0] = '\0';
	for (i = 0; i < k; i++) {
		len += (size_t)snprintf(out + len, n - len, "%s\n", names[i]);
		cr_assert_lt(len, n);
		free(names[i]);
	}
}

/* A builder of a segment at @path: created, locked, sized, a header. */
struct builder {
	pid_t pid;
	int hold; /* write end: closing it lets the builder exit */
};

static void
builder_start(struct builder *b, const char *path)
{
	int go[2], hold[2];
	char c;

	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(hold), 0);
	b->pid = fork();
	cr_assert(b->pid >= 0);
	if (b->pid == 0) {
		struct percpu_seg_hdr h;
		int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);

		close(go[0]);
		close(hold[1]);
		memset(&h, 0, sizeof(h));
		memcpy(h.magic, PERCPU_SEG_MAGIC, sizeof(h.magic));
		h.pid = (uint64_t)getpid();
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 ||
		    ftruncate(fd, 65536) != 0 ||
		    pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
		    write(go[1], "r", 1) != 1)
			_exit(1);
		(void)read(hold[0], &c, 1); /* until the test lets go */
		_exit(0);
	}
	close(go[1]);
	close(hold[0]);
	b->hold = hold[1];
	cr_assert_eq(read(go[0], &c, 1), 1, "builder failed");
	close(go[0]);
}

/* A builder killed while it builds: it leaves @path behind. */
static void
builder_killed(const char *path)
{
	struct builder b;
	int st;

	builder_start(&b, path);
	cr_assert_eq(kill(b.pid, SIGKILL), 0);
	cr_assert_eq(waitpid(b.pid, &st, 0), b.pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(b.hold);
}

/*
 * percpu_export_open(@name) and close in a child (one open per process),
 * as uid @uid (root only, for another uid); a sweep that blocks is
 * killed by SIGALRM.
 */
static void
export_in_child(const char *name, unsigned uid)
{
	pid_t p = fork();
	int st;

	cr_assert(p >= 0);
	if (p == 0) {
		alarm(20);
		if (uid != (unsigned)geteuid() &&
		    (setgid(uid) != 0 || setuid(uid) != 0))
			_exit(10);
		if (percpu_export_open(name, NULL) != 0) {
			fprintf(stderr, "percpu_export_open: %s\n",
			    percpu_export_error());
			_exit(11);
		}
		_exit(percpu_export_close() == 0 ? 0 : 12);
	}
	cr_assert_eq(waitpid(p, &st, 0), p);
	cr_assert(WIFEXITED(st), "the open did not return (signal %d)",
	    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	cr_assert_eq(WEXITSTATUS(st), 0,
	    "child step %d failed (10 setuid, "
	    "11 open, 12 close)",
	    WEXITSTATUS(st));
}

/* Builders of this name and of another killed while building: the next
 * open of this user removes both leftovers (any name of this user). */
Test(kvm_sweep, killed_builders_leave_nothing_after_the_next_open)
{
	char name[64], other[64], a[256], b[256], c[256], list[1024];
	unsigned uid = (unsigned)geteuid();

	need_shm();
	snprintf(name, sizeof(name), "kvmt-%d-swept", (int)getpid());
	snprintf(other, sizeof(other), "kvmt-%d-other.x", (int)getpid());
	tmp_path_of(a, sizeof(a), uid, name, 0x0123456789abcdefu);
	tmp_path_of(b, sizeof(b), uid, name, 0xfedcba9876543210u);
	tmp_path_of(c, sizeof(c), uid, other, 0x00000000000000ffu);
	builder_killed(a);
	builder_killed(b);
	builder_killed(c);
	export_in_child(name, uid);
	tmp_list(uid, name, list, sizeof(list));
	cr_assert_str_eq(list, "");
	tmp_list(uid, other, list, sizeof(list));
	cr_assert_str_eq(list, "");
	cr_assert_eq(access(a, F_OK), -1);
	cr_assert_eq(errno, ENOENT);
}

/* A builder still running holds its lock: its file is left; once it is
 * gone, the next open removes it. */
Test(kvm_sweep, a_running_builder_keeps_its_temporary_name)
{
	char name[64], a[256], list[1024], want[1024];
	unsigned uid = (unsigned)geteuid();
	struct builder bl;
	int st;

	need_shm();
	snprintf(name, sizeof(name), "kvmt-%d-held", (int)getpid());
	tmp_path_of(a, sizeof(a), uid, name, 0x1111111111111111u);
	builder_start(&bl, a);
	export_in_child(name, uid);
	tmp_list(uid, name, list, sizeof(list));
	snprintf(want, sizeof(want), "%s\n", a + strlen("/dev/shm/"));
	cr_assert_str_eq(list, want, "a running builder's file was removed");
	close(bl.hold); /* the builder exits: its lock is dropped */
	cr_assert_eq(waitpid(bl.pid, &st, 0), bl.pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	export_in_child(name, uid);
	tmp_list(uid, name, list, sizeof(list));
	cr_assert_str_eq(list, "");
}

/*
 * An empty file at a temporary name may be a builder between shm_open
 * and flock: it is left while young (60 s), removed once older.
 */
Test(kvm_sweep, an_empty_temporary_file_is_left_while_young)
{
	char name[64], a[256], list[1024], want[1024];
	unsigned uid = (unsigned)geteuid();
	struct timespec old[2];
	int fd;

	need_shm();
	snprintf(name, sizeof(name), "kvmt-%d-young", (int)getpid());
	tmp_path_of(a, sizeof(a), uid, name, 0x2222222222222222u);
	fd = open(a, O_CREAT | O_EXCL | O_RDWR, 0600);
	cr_assert(fd >= 0);
	export_in_child(name, uid);
	tmp_list(uid, name, list, sizeof(list));
	snprintf(want, sizeof(want), "%s\n", a + strlen("/dev/shm/"));
	cr_assert_str_eq(list, want, "a young empty file was removed");
	cr_assert_eq(clock_gettime(CLOCK_REALTIME, &old[0]), 0);
	old[0].tv_sec -= 120;
	old[1] = old[0];
	cr_assert_eq(futimens(fd, old), 0);
	close(fd);
	export_in_child(name, uid);
	tmp_list(uid, name, list, sizeof(list));
	cr_assert_str_eq(list, "");
}

/*
 * Planted at temporary names: a symbolic link (to a stale-looking file of
 * ours), a FIFO, a directory and (as root) another user's file.  None
 * was made by a builder: the open neither follows nor blocks on them and
 * leaves them all.
 */
Test(kvm_sweep, planted_links_fifos_and_others_files_are_left)
{
	char name[64], target[256], ln[256], fifo[256], dir[256], foreign[256],
	    list[2048], want[2048];
	unsigned uid = (unsigned)geteuid();
	struct stat st;
	int fd;

	need_shm();
	snprintf(name, sizeof(name), "kvmt-%d-planted", (int)getpid());
	snprintf(target, sizeof(target), "/dev/shm/kvmt-%d-target",
	    (int)getpid());
	tmp_path_of(ln, sizeof(ln), uid, name, 0x3333333333333333u);
	tmp_path_of(fifo, sizeof(fifo), uid, name, 0x4444444444444444u);
	tmp_path_of(dir, sizeof(dir), uid, name, 0x5555555555555555u);
	tmp_path_of(foreign, sizeof(foreign), uid, name, 0x6666666666666666u);
	fd = open(target, O_CREAT | O_EXCL | O_RDWR, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, 65536), 0);
	close(fd);
	cr_assert_eq(symlink(target, ln), 0);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(mkdir(dir, 0700), 0);
	if (uid == 0) {
		fd = open(foreign, O_CREAT | O_EXCL | O_RDWR, 0600);
		cr_assert(fd >= 0);
		cr_assert_eq(ftruncate(fd, 65536), 0);
		cr_assert_eq(fchown(fd, 65534, 65534), 0);
		close(fd);
	}
	export_in_child(name, uid);
	tmp_list(uid, name, list, sizeof(list));
	/* Sorted: ...333, ...444, ...555, ...666 (the last as root). */
	snprintf(want, sizeof(want), "%s\n%s\n%s\n", ln + 9, fifo + 9, dir + 9);
	if (uid == 0)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
		    "%s\n", foreign + 9);
	cr_assert_str_eq(list, want);
	cr_assert_eq(lstat(ln, &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	cr_assert_eq(lstat(fifo, &st), 0);
	cr_assert(S_ISFIFO(st.st_mode));
	cr_assert_eq(lstat(target, &st), 0, "the link's target was removed");
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(unlink(ln), 0);
	cr_assert_eq(unlink(fifo), 0);
	cr_assert_eq(rmdir(dir), 0);
	cr_assert_eq(unlink(target), 0);
	if (uid == 0)
		cr_assert_eq(unlink(foreign), 0);
}

/*
 * An entry the sweep cannot open (mode 0000: as root, the open runs as
 * uid 65534 to be refused) does not fail the open; it is left, and the
 * leftovers beside it are removed.
 */
Test(kvm_sweep, an_unreadable_entry_does_not_fail_the_open)
{
	char name[64], unread[256], a[256], b[256], list[1024], want[1024];
	unsigned uid = geteuid() == 0 ? 65534u : (unsigned)geteuid();
	need_shm();
	snprintf(name, sizeof(name), "kvmt-%d-unreadable", (int)getpid());
	tmp_path_of(unread, sizeof(unread), uid, name, 0x7777777777777777u);
	tmp_path_of(a, sizeof(a), uid, name, 0x0000000000000001u);
	tmp_path_of(b, sizeof(b), uid, name, 0xffffffffffffffffu);
	builder_killed(unread);
	builder_killed(a);
	builder_killed(b);
	if (uid != (unsigned)geteuid()) {
		cr_assert_eq(chown(unread, uid, uid), 0);
		cr_assert_eq(chown(a, uid, uid), 0);
		cr_assert_eq(chown(b, uid, uid), 0);
	}
	cr_assert_eq(chmod(unread, 0), 0);
	export_in_child(name, uid);
	tmp_list(uid, name, list, sizeof(list));
	snprintf(want, sizeof(want), "%s\n", unread + 9);
	cr_assert_str_eq(list, want);
	cr_assert_eq(unlink(unread), 0);
}

#else /* !PERCPU_MP */

Test(kvm_live, up_build_does_not_export)
{
	cr_assert_eq(percpu_export_open("kvmt-up", NULL), -1);
	cr_assert_eq(errno, ENOTSUP);
	cr_assert_str_eq(percpu_export_error(),
	    "percpu_export: the inspection segment needs the MP build "
	    "(PERCPU_MP=1) on a hosted port");
	cr_assert_null(percpu_export_path());
}

#endif /* PERCPU_MP */
