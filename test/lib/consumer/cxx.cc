// SPDX-License-Identifier: BSD-2-Clause
// cxx.cc - the C++ side of the consumer: counter(9) from std::threads.
#include <percpu/counter.h>
#include <thread>
#include <vector>

extern "C" uint64_t consumer_cxx_threads(counter_u64_t c, unsigned nthreads,
    unsigned per_thread);

uint64_t
consumer_cxx_threads(counter_u64_t c, unsigned nthreads, unsigned per_thread)
{
	std::vector<std::thread> t;

	for (unsigned i = 0; i < nthreads; i++)
		t.emplace_back([c, per_thread] {
			for (unsigned k = 0; k < per_thread; k++)
				counter_u64_add(c, 1);
		});
	for (auto &th : t)
		th.join();
	return (counter_u64_fetch(c));
}
