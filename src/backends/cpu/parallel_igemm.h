#pragma once
// Products split over a thread pool (the CPU backend's operators and the layers' training
// kernels share it), and the cut of a plain product's reduction into cache-sized slices.
#include "backends/cpu/kernels/igemm.h"
#include "backends/thread_pool.h"

namespace keras::backends::cpu {

// Splitting work only pays when each task gets more than a wake-up's worth of it.
inline constexpr Dim kMinFlopsPerTask = 200'000;
inline Dim ceil_div(Dim a, Dim b) { return (a + b - 1) / b; }

// The whole of C for g on the pool's threads; a_values: the size of A's data (the input of a
// convolution, not its taps), to choose how to split.
void parallel_igemm(Isa isa, const IGemmArgs& g, ThreadPool& pool, Dim a_values);

// The reduction of a plain product cut into equal slices of 64 to 512 steps, so the kernel
// can block it for the cache; no cut when no such slice size divides it.
Dim reduction_slice(Dim k);

}  // namespace keras::backends::cpu
