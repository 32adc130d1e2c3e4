#pragma once
// Products split over a thread pool (the CPU backend's operators and the layers' training
// kernels share it), and the cut of a plain product's reduction into cache-sized slices.
#include <vector>

#include "backends/cpu/kernels/igemm.h"
#include "backends/thread_pool.h"
#include "ops/kernels.h"

namespace keras::backends::cpu {

// Splitting work only pays when each task gets more than a wake-up's worth of it.
inline constexpr Dim kMinFlopsPerTask = 200'000;
inline Dim ceil_div(Dim a, Dim b) { return (a + b - 1) / b; }

// The whole of C for g on the pool's threads; a_values: the size of A's data (the input of a
// convolution, not its taps), to choose how to split.
void parallel_igemm(Isa isa, const IGemmArgs& g, ThreadPool& pool, Dim a_values);

// igemm's a_offsets for a convolution: for output pixel (n, oh, ow) and tap (kh, kw), the
// offset of the input row under the tap, -1 in the padding. False when the input is too
// large for int32 offsets.
bool conv_offsets(const ops::Conv2DArgs& g, std::vector<int32_t>& out);
// The same for the gradient with respect to the input (a transposed convolution): for input
// pixel (n, ih, iw) and tap (kh, kw), the offset of the output-gradient row that the tap
// connects it to, -1 where none does (padding, or strides skipping the pixel).
bool conv_transpose_offsets(const ops::Conv2DArgs& g, std::vector<int32_t>& out);

// The reduction of a plain product cut into equal slices of 64 to 512 steps, so the kernel
// can block it for the cache; no cut when no such slice size divides it.
Dim reduction_slice(Dim k);

}  // namespace keras::backends::cpu
