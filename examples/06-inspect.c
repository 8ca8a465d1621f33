/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * 06-inspect.c - inspection from outside: a workload exports its per-CPU
 * counters and variables (percpu_export.h), and another process reads
 * them live by name (tools/pcpustat, built on kvm_pcpu.h).
 *
 * Writer side, all of it:
 *	percpu_export_open(name, &opts)	first thing: the arena is placed
 *					in /dev/shm/pcpu.<uid>.<name>
 *	percpu_export_counter_u64(), percpu_export_counters(),
 *	percpu_export_percpu(), PERCPU_EXPORT_DPCPU()
 *					name the objects
 *	percpu_export_snapshot(path)	the same bytes in a file
 *	percpu_export_close()		unlink the name at exit
 * The update paths are the faces' own: exporting costs them nothing.
 *
 * Reader side: pcpustat (run below twice a second, twice, with a per-CPU
 * breakdown and rates), then pcpustat on the snapshot after the workload
 * stopped, then the same numbers through kvm_pcpu.h in this process.
 *
 *	make demo			(builds build/tools/pcpustat first)
 *	PCPUSTAT=path/to/pcpustat ./06-inspect
 */
#define _POSIX_C_SOURCE 200809L
#define PERCPU_IMPLEMENTATION
#include "percpu_export.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4

enum { if_packets, if_bytes, if_drops, if_ncounters };

static counter_u64_t requests, bytes; /* counter(9) */
static struct cpumem *ifc;	      /* OpenBSD counters_alloc(9) */
static percpu_t *hist;		      /* percpu(9): latency buckets */
DPCPU_DEFINE(int32_t, queue_len);     /* a per-CPU gauge */
static atomic_int done;

static void *
worker(void *arg)
{
	uint32_t x = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
	struct timespec pause = {0, 200000};

	while (!atomic_load_explicit(&done, memory_order_relaxed)) {
		uint32_t *h;
		unsigned i;

		for (i = 0; i < 100; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			counter_u64_add(requests, 1);
			counter_u64_add(bytes, 100 + x % 1400);
			counters_pkt(ifc, if_packets, if_bytes, 64 + x % 1436);
			if (x % 997 == 0)
				counters_inc(ifc, if_drops);
			h = percpu_getref(hist);
			h[x % 4]++;
			critical_enter();
			DPCPU_SET(queue_len, (int32_t)(x % 32));
			critical_exit();
			percpu_putref(hist);
		}
		nanosleep(&pause, NULL);
	}
	return (NULL);
}

/* Run pcpustat with @args (NULL-terminated); its exit status. */
static int
run(const char *tool, const char *const *args)
{
	const char *argv[16];
	pid_t pid;
	int st, i;

	argv[0] = tool;
	for (i = 0; args[i] != NULL && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	printf("$ pcpustat");
	for (i = 1; argv[i] != NULL; i++)
		printf(" %s", argv[i]);
	printf("\n");
	fflush(stdout);
	if ((pid = fork()) == 0) {
		execv(tool, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return (-1);
	return (WEXITSTATUS(st));
}

int
main(void)
{
	struct percpu_export_opts opts = {0, 0, 0, 200}; /* heartbeat 200 ms */
	const char *tool = getenv("PCPUSTAT");
	char name[64], snap[128], err[KVM_PCPU_ERRSZ];
	pthread_t t[THREADS];
	uint64_t want, got, c[if_ncounters];
	struct kvm_nlist nl[] = {{.n_name = "http.requests"},
	    {.n_name = "if.em0"}, {.n_name = NULL}};
	kvm_t *kd;
	unsigned i;
	int rc = 0;

	if (tool == NULL)
		tool = "build/tools/pcpustat";
	snprintf(name, sizeof(name), "demo-%d", (int)getpid());
	snprintf(snap, sizeof(snap), "/tmp/pcpu-demo-%d.pcpu", (int)getpid());

	/* Writer: before any other call of the toolkit. */
	if (percpu_export_open(name, &opts) != 0) {
		fprintf(stderr, "06-inspect: %s\n", percpu_export_error());
		return (1);
	}
	requests = counter_u64_alloc(M_WAITOK);
	bytes = counter_u64_alloc(M_WAITOK);
	ifc = counters_alloc(if_ncounters);
	hist = percpu_alloc(4 * sizeof(uint32_t));
	if (percpu_export_counter_u64("http.requests", requests) != 0 ||
	    percpu_export_counter_u64("http.bytes", bytes) != 0 ||
	    percpu_export_counters("if.em0", ifc, if_ncounters) != 0 ||
	    percpu_export_percpu("latency.hist", hist, PERCPU_EXPORT_FMT_U32) !=
		0 ||
	    PERCPU_EXPORT_DPCPU(queue_len) != 0) {
		fprintf(stderr, "06-inspect: %s\n", percpu_export_error());
		return (1);
	}
	printf("exporting %s: %u CPUs, backend %s\n", percpu_export_path(),
	    percpu_ncpus(), percpu_backend());
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);

	/* Reader, live: two samples half a second apart, with rates. */
	if (access(tool, X_OK) == 0) {
		const char *live[] = {"-n", name, "-c", "-i", "0.5", "-N", "2",
		    NULL};
		const char *list[] = {"-l", NULL};

		rc |= run(tool, list) != 0;
		rc |= run(tool, live) != 0;
	} else
		printf("(%s not built: make demo builds it)\n", tool);

	atomic_store(&done, 1);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	if (percpu_export_snapshot(snap) != 0) {
		fprintf(stderr, "06-inspect: %s\n", percpu_export_error());
		return (1);
	}
	want = counter_u64_fetch(requests);
	percpu_export_close();

	/* Reader, post-mortem: the snapshot, as JSON. */
	if (access(tool, X_OK) == 0) {
		const char *post[] = {"-r", snap, "-j", "-f", "http.*", NULL};

		rc |= run(tool, post) != 0;
	}
	/* The reader API itself (what pcpustat does). */
	kd = kvm_pcpu_open(snap, 0, err);
	if (kd == NULL) {
		fprintf(stderr, "06-inspect: %s\n", err);
		return (1);
	}
	if (kvm_nlist(kd, nl) != 0 ||
	    kvm_pcpu_counters_read(kd, nl[1].n_value, if_ncounters, -1, c) !=
		0) {
		fprintf(stderr, "06-inspect: %s\n", kvm_geterr(kd));
		return (1);
	}
	got = kvm_counter_u64_fetch(kd, nl[0].n_value);
	printf("kvm_pcpu.h on the snapshot: http.requests %" PRIu64
	       " (the writer counted %" PRIu64 "), if.em0 packets %" PRIu64
	       ", over %d CPUs\n",
	    got, want, c[if_packets], kvm_getncpus(kd));
	kvm_close(kd);
	unlink(snap);
	return (rc != 0 || got != want || c[if_packets] != want);
}
