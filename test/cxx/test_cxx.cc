// SPDX-License-Identifier: BSD-2-Clause
// test_cxx.cc - every face from C++17: std::thread workers, exact sums.
// The implementation is compiled as C++ too (impl.cc).  Built with g++
// and clang++ as build/test-cxx-<compiler> (test/lib.mk).
#include <criterion/criterion.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "counter.h"
#include "cpumem.h"
#include "dpcpu.h"
#include "percpu.h"

namespace {

constexpr unsigned kThreads = 6; // more threads than CPUs on 2 cores
constexpr unsigned kIters = 20000;

template <typename F>
void
run_threads(F f)
{
	std::vector<std::thread> t;

	for (unsigned i = 0; i < kThreads; i++)
		t.emplace_back(f, i);
	for (auto &th : t)
		th.join();
}

void
add_slot(void *p, void *arg, struct cpu_info *ci)
{
	(void)ci;
	*static_cast<uint64_t *>(arg) += *static_cast<uint64_t *>(p);
}

struct stats {
	uint64_t hits;
	uint64_t bytes;
};

} // namespace

DPCPU_DEFINE_STATIC(uint64_t, cxx_pkts);
DPCPU_DEFINE_STATIC(int, cxx_quota) = 7;

Test(cxx, percpu_getref_from_threads_sums_exactly)
{
	percpu_t *pc = percpu_alloc(sizeof(uint64_t));
	uint64_t total = 0;

	cr_assert_not_null(pc);
	run_threads([pc](unsigned) {
		for (unsigned k = 0; k < kIters; k++) {
			auto *p = static_cast<uint64_t *>(percpu_getref(pc));
			(*p)++;
			percpu_putref(pc);
		}
	});
	percpu_foreach(pc, add_slot, &total);
	cr_assert_eq(total, uint64_t {kThreads} * kIters);
	percpu_free(pc, sizeof(uint64_t));
}

Test(cxx, counter_u64_add_from_threads_is_lossless)
{
	counter_u64_t c = counter_u64_alloc(M_WAITOK);

	run_threads([c](unsigned i) {
		for (unsigned k = 0; k < kIters; k++)
			counter_u64_add(c, static_cast<int64_t>(i + 1));
	});
	// sum of (i + 1) over the threads, kIters times each
	cr_assert_eq(counter_u64_fetch(c),
	    uint64_t {kIters} * kThreads * (kThreads + 1) / 2);
	counter_u64_zero(c);
	cr_assert_eq(counter_u64_fetch(c), 0u);
	counter_u64_add(c, -1);
	cr_assert_eq(counter_u64_fetch(c), UINT64_MAX);
	counter_u64_free(c);
}

Test(cxx, counters_pkt_from_threads_reads_exactly)
{
	enum { packets, bytes, ncounters };
	struct cpumem *cm = counters_alloc(ncounters);
	uint64_t out[ncounters];

	cr_assert_not_null(cm);
	run_threads([cm](unsigned) {
		for (unsigned k = 0; k < kIters; k++)
			counters_pkt(cm, packets, bytes, 64);
	});
	counters_read(cm, out, ncounters, nullptr);
	cr_assert_eq(out[packets], uint64_t {kThreads} * kIters);
	cr_assert_eq(out[bytes], uint64_t {kThreads} * kIters * 64);
	counters_free(cm, ncounters);
}

Test(cxx, cpumem_enter_from_threads_and_foreach_sum_exactly)
{
	struct cpumem *cm = cpumem_malloc(sizeof(stats), 1);
	struct cpumem_iter it;
	stats *s;
	uint64_t hits = 0, nbytes = 0;

	cr_assert_not_null(cm);
	run_threads([cm](unsigned) {
		for (unsigned k = 0; k < kIters; k++) {
			auto *st = static_cast<stats *>(cpumem_enter(cm));
			st->hits++;
			st->bytes += 3;
			cpumem_leave(cm, st);
		}
	});
	CPUMEM_FOREACH(s, &it, cm) {
		hits += s->hits;
		nbytes += s->bytes;
	}
	cr_assert_eq(hits, uint64_t {kThreads} * kIters);
	cr_assert_eq(nbytes, uint64_t {kThreads} * kIters * 3);
	cpumem_free(cm, 1, sizeof(stats));
}

Test(cxx, dpcpu_under_critical_sections_sums_exactly)
{
	cr_assert_eq(DPCPU_SUM(cxx_quota), 7 * static_cast<int>(mp_ncpus));
	run_threads([](unsigned) {
		for (unsigned k = 0; k < kIters; k++) {
			critical_enter();
			DPCPU_SET(cxx_pkts, DPCPU_GET(cxx_pkts) + 1);
			critical_exit();
		}
	});
	cr_assert_eq(DPCPU_SUM(cxx_pkts), uint64_t {kThreads} * kIters);
	DPCPU_ZERO(cxx_pkts);
	cr_assert_eq(DPCPU_SUM(cxx_pkts), 0u);
}

Test(cxx, sections_exclude_each_other_across_threads)
{
	// An owner stamp per CPU: a section that finds another thread's
	// stamp in its CPU's slot means two threads held the same CPU.
	percpu_t *pc = percpu_alloc(sizeof(uintptr_t));
	std::atomic<unsigned> broken {0};

	run_threads([pc, &broken](unsigned i) {
		for (unsigned k = 0; k < kIters / 4; k++) {
			auto *p = static_cast<uintptr_t *>(percpu_getref(pc));
			if (*p != 0)
				broken++;
			*p = i + 1;
			std::this_thread::yield();
			if (*p != i + 1)
				broken++;
			*p = 0;
			percpu_putref(pc);
		}
	});
	cr_assert_eq(broken.load(), 0u);
	percpu_free(pc, sizeof(uintptr_t));
}
