// SPDX-License-Identifier: BSD-2-Clause
// bench.cc - Google Benchmark driver over the C loops of shim.h.
//
// Each benchmark iteration hands a batch of kBatch operations to a C loop,
// so the C++ call costs 1/kBatch per operation.  Real time is measured, so
// items_per_second is the aggregate throughput of all threads.  Names:
// BM_<header>_<op>/threads:N; BM_base_* are the baselines.  The backend
// ("rseq", "getcpu", "sim") is in the context block of the output: run the
// binary again with PERCPU_BACKEND=getcpu for the atomic backend.
#include <benchmark/benchmark.h>

#include <string>

#include "shim.h"

namespace {

constexpr uint64_t kBatch = 1000;

// Per-CPU bytes of one object, measured once in main() (single-threaded,
// so two back-to-back allocations are adjacent).
size_t g_bytes_counter_u64, g_bytes_counters4, g_bytes_percpu8;

template <void (*Loop)(uint64_t), int Pin = 0>
void
run(benchmark::State &state)
{
	shim_thread_start(Pin, static_cast<unsigned>(state.thread_index()));
	for (auto _ : state)
		Loop(kBatch);
	state.SetItemsProcessed(
	    static_cast<int64_t>(state.iterations() * kBatch));
	shim_thread_end();
}

void
bytes(benchmark::State &state, size_t per_cpu)
{
	// Per object and CPU: the same for every thread, so averaged.
	state.counters["bytes_per_cpu"] = benchmark::Counter(
	    static_cast<double>(per_cpu), benchmark::Counter::kAvgThreads);
}

void
BM_counter_u64_add(benchmark::State &state)
{
	run<shim_counter_u64_add>(state);
	bytes(state, g_bytes_counter_u64);
}

void
BM_counter_u64_add_pinned(benchmark::State &state)
{
	run<shim_counter_u64_add, 1>(state);
	bytes(state, g_bytes_counter_u64);
}

void
BM_counters_inc(benchmark::State &state)
{
	run<shim_counters_inc>(state);
	bytes(state, g_bytes_counters4);
}

void
BM_counters_pkt(benchmark::State &state)
{
	run<shim_counters_pkt>(state);
	bytes(state, g_bytes_counters4);
}

void
BM_percpu_getref_putref(benchmark::State &state)
{
	run<shim_percpu_getref_putref>(state);
	bytes(state, g_bytes_percpu8);
}

void
BM_cpumem_enter_leave(benchmark::State &state)
{
	run<shim_cpumem_enter_leave>(state);
}

void
BM_dpcpu_critical_inc(benchmark::State &state)
{
	run<shim_dpcpu_critical_inc>(state);
}

void
BM_counter_u64_fetch(benchmark::State &state)
{
	run<shim_counter_u64_fetch>(state);
	state.counters["cpus"] = benchmark::Counter(
	    static_cast<double>(shim_ncpus()), benchmark::Counter::kAvgThreads);
}

void
BM_counters_read(benchmark::State &state)
{
	run<shim_counters_read>(state);
	state.counters["cpus"] = benchmark::Counter(
	    static_cast<double>(shim_ncpus()), benchmark::Counter::kAvgThreads);
}

void
BM_percpu_local_add64(benchmark::State &state)
{
	run<shim_percpu_local_add64>(state);
	bytes(state, g_bytes_percpu8);
}

// One allocation and its free, with state.range(0) other counters live.
void
BM_counter_alloc_free(benchmark::State &state)
{
	shim_alloc_live(static_cast<unsigned>(state.range(0)));
	for (auto _ : state)
		shim_counter_alloc_free(kBatch);
	state.SetItemsProcessed(
	    static_cast<int64_t>(state.iterations() * kBatch));
	shim_alloc_live(0);
}

// 10^6 counters allocated, then freed: the time of the whole.
void
BM_counter_alloc_free_1e6(benchmark::State &state)
{
	for (auto _ : state) {
		shim_alloc_live(1000000);
		shim_alloc_live(0);
	}
	state.SetItemsProcessed(
	    static_cast<int64_t>(state.iterations() * 1000000));
}

// percpu_foreach_xcall while 4 threads loop on getref/putref: the mean
// and largest time of one xcall (ms), as counters.
void
BM_xcall_under_getref_load(benchmark::State &state)
{
	double mean = 0, max = 0;

	for (auto _ : state)
		shim_xcall_under_load(static_cast<unsigned>(state.range(0)), 50,
		    &mean, &max);
	state.counters["xcall_mean_ms"] = mean;
	state.counters["xcall_max_ms"] = max;
}

void
BM_base_rseq_add(benchmark::State &state)
{
	run<shim_base_rseq_add>(state);
}

// The stores a section (6) and a counters section (8) must make, alone:
// the store-throughput floor of the sections on this machine.
void
BM_base_section_stores(benchmark::State &state)
{
	run<shim_base_section_stores>(state);
}

void
BM_base_counters_stores(benchmark::State &state)
{
	run<shim_base_counters_stores>(state);
}

void
BM_base_tls_add(benchmark::State &state)
{
	run<shim_base_tls_add>(state);
}

void
BM_base_indexed_add(benchmark::State &state)
{
	run<shim_base_indexed_add>(state);
}

void
BM_base_shared_atomic(benchmark::State &state)
{
	run<shim_base_shared_atomic>(state);
}

void
BM_base_striped_atomic(benchmark::State &state)
{
	run<shim_base_striped_atomic>(state);
}

void
BM_base_getcpu_atomic(benchmark::State &state)
{
	run<shim_base_getcpu_atomic>(state);
}

void
BM_base_private_lock_add(benchmark::State &state)
{
	run<shim_base_private_lock_add>(state);
}

void
BM_base_getcpu_private_lock_add(benchmark::State &state)
{
	run<shim_base_getcpu_private_lock_add>(state);
}

} // namespace

#define THREADS ->Threads(1)->Threads(2)->Threads(4)->UseRealTime()

BENCHMARK(BM_base_rseq_add) THREADS;
BENCHMARK(BM_base_section_stores) THREADS;
BENCHMARK(BM_base_counters_stores) THREADS;
BENCHMARK(BM_base_tls_add) THREADS;
BENCHMARK(BM_base_indexed_add) THREADS;
BENCHMARK(BM_base_shared_atomic) THREADS;
BENCHMARK(BM_base_striped_atomic) THREADS;
BENCHMARK(BM_base_getcpu_atomic) THREADS;
BENCHMARK(BM_base_private_lock_add) THREADS;
BENCHMARK(BM_base_getcpu_private_lock_add) THREADS;
BENCHMARK(BM_counter_u64_add) THREADS;
BENCHMARK(BM_counter_u64_add_pinned) THREADS;
BENCHMARK(BM_counters_inc) THREADS;
BENCHMARK(BM_counters_pkt) THREADS;
BENCHMARK(BM_percpu_getref_putref) THREADS;
BENCHMARK(BM_cpumem_enter_leave) THREADS;
BENCHMARK(BM_dpcpu_critical_inc) THREADS;
BENCHMARK(BM_percpu_local_add64) THREADS;
BENCHMARK(BM_counter_u64_fetch) THREADS;
BENCHMARK(BM_counters_read) THREADS;
BENCHMARK(BM_counter_alloc_free)
    ->ArgName("live")
    ->Arg(1000)
    ->Arg(100000)
    ->UseRealTime();
BENCHMARK(BM_counter_alloc_free_1e6)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_xcall_under_getref_load)
    ->ArgName("loopers")
    ->Arg(4)
    ->Arg(6)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

int
main(int argc, char **argv)
{
	shim_setup(); // before any benchmark thread starts
	g_bytes_counter_u64 = shim_bytes_counter_u64();
	g_bytes_counters4 = shim_bytes_counters(4);
	g_bytes_percpu8 = shim_bytes_percpu(8);
	benchmark::AddCustomContext("percpu_backend", shim_backend());
	benchmark::AddCustomContext("percpu_ncpus",
	    std::to_string(shim_ncpus()));
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
