#pragma once
// NHWC max and average pooling over output rows, vectorised over channels (padded cells never
// take part: max ignores them, the mean leaves them out of its divisor, as Keras).
#include "backends/cpu/kernels/igemm.h"
#include "ops/kernels.h"

namespace keras::backends::cpu {

// Output rows [r0, r1) of n * out_h rows.
void pool2d_rows(Isa isa, const ops::Pool2DArgs& g, bool max, const float* x, float* y, Dim r0, Dim r1);

namespace detail {
void pool2d_rows_avx512(const ops::Pool2DArgs& g, bool max, const float* x, float* y, Dim r0, Dim r1);
void pool2d_rows_avx2(const ops::Pool2DArgs& g, bool max, const float* x, float* y, Dim r0, Dim r1);
void pool2d_rows_generic(const ops::Pool2DArgs& g, bool max, const float* x, float* y, Dim r0, Dim r1);
}  // namespace detail

}  // namespace keras::backends::cpu
