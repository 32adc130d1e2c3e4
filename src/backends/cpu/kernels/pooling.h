#pragma once
// NHWC max and average pooling over output rows, vectorised over channels (padded cells never
// take part: max ignores them, the mean leaves them out of its divisor, as Keras).
#include "backends/cpu/kernels/igemm.h"
#include "ops/kernels.h"

namespace keras::backends::cpu {

// Output rows [r0, r1) of n * out_h rows.
void pool2d_rows(Isa isa, const ops::Pool2DArgs& g, bool max, const float* x, float* y, Dim r0, Dim r1);
// Max pooling's input gradient for images [n0, n1): each window's gradient to its first
// maximum in window order (row-major), as TensorFlow's MaxPoolGrad; dx overwritten.
void max_pool2d_backward_images(Isa isa, const ops::Pool2DArgs& g, const float* x, const float* dy, float* dx, Dim n0,
                                Dim n1);

namespace detail {
void pool2d_rows_avx512(const ops::Pool2DArgs& g, bool max, const float* x, float* y, Dim r0, Dim r1);
void pool2d_rows_avx2(const ops::Pool2DArgs& g, bool max, const float* x, float* y, Dim r0, Dim r1);
void pool2d_rows_generic(const ops::Pool2DArgs& g, bool max, const float* x, float* y, Dim r0, Dim r1);
void max_pool2d_backward_images_avx512(const ops::Pool2DArgs& g, const float* x, const float* dy, float* dx, Dim n0,
                                       Dim n1);
void max_pool2d_backward_images_avx2(const ops::Pool2DArgs& g, const float* x, const float* dy, float* dx, Dim n0,
                                     Dim n1);
void max_pool2d_backward_images_generic(const ops::Pool2DArgs& g, const float* x, const float* dy, float* dx, Dim n0,
                                        Dim n1);
}  // namespace detail

}  // namespace keras::backends::cpu
