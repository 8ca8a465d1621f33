// SPDX-License-Identifier: BSD-2-Clause
// bench.cc - Google Benchmark driver over the C loops of shim.h.
//
// Each benchmark iteration hands a batch of kBatch operations to a C loop,
// so the C++ call costs 1/kBatch per operation.  items_per_second is
// summed over threads.  Names: BM_<header>_<op>/threads:N.
#include <benchmark/benchmark.h>

#include "shim.h"

namespace {

constexpr uint64_t kBatch = 1000;

template <void (*Loop)(uint64_t)>
void
run(benchmark::State &state)
{
	for (auto _ : state)
		Loop(kBatch);
	state.SetItemsProcessed(
	    static_cast<int64_t>(state.iterations() * kBatch));
}

void
BM_percpu_getref_putref(benchmark::State &state)
{
	run<shim_percpu_getref_putref>(state);
}

void
BM_base_tls_add(benchmark::State &state)
{
	run<shim_base_tls_add>(state);
}

void
BM_base_shared_atomic(benchmark::State &state)
{
	run<shim_base_shared_atomic>(state);
}

void
BM_base_getcpu_atomic(benchmark::State &state)
{
	run<shim_base_getcpu_atomic>(state);
}

} // namespace

BENCHMARK(BM_base_tls_add)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_base_shared_atomic)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();
BENCHMARK(BM_base_getcpu_atomic)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();
BENCHMARK(BM_percpu_getref_putref)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();

int
main(int argc, char **argv)
{
	shim_setup(); // before any benchmark thread starts
	benchmark::AddCustomContext("percpu_backend", shim_backend());
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
