/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_kvm.c - libFuzzer harness of the reader (kvm_pcpu.h): every input
 * is a segment image; it is opened (kvm_pcpu_open_image: the parse and
 * validation shared by live segments and snapshot files) and, if it
 * opens, every reader function is driven over it: the CPU table, DPCPU
 * selection, the registry walk, name lookups with and without the DPCPU
 * prefix, counter(9) and counters(9) reads, zpcpu reads, status, cache
 * reset.  ASan and UBSan watch every access; the input is copied into a
 * buffer of exactly its size, so one byte too far is caught.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	free(b);
	return (0);
}

#endif /* KVM_FUZZ_SEEDS */
