#pragma once
// NHWC depthwise convolution with a depth multiplier of 1 (MobileNet's): every output channel
// is its input channel's window times its own taps, vectorised over channels, with the bias and
// relu fused.
#include "backends/cpu/kernels/igemm.h"
#include "ops/kernels.h"

namespace keras::backends::cpu {

// Output rows [r0, r1) of n * out_h rows; w [KH, KW, C] (Keras's [KH, KW, C, 1]); bias null or C
// values.
void depthwise_conv2d_rows(Isa isa, const ops::Conv2DArgs& g, const float* x, const float* w, const float* bias,
                           bool relu, float* y, Dim r0, Dim r1);

namespace detail {
void depthwise_conv2d_rows_avx512(const ops::Conv2DArgs& g, const float* x, const float* w, const float* bias,
                                  bool relu, float* y, Dim r0, Dim r1);
void depthwise_conv2d_rows_avx2(const ops::Conv2DArgs& g, const float* x, const float* w, const float* bias, bool relu,
                                float* y, Dim r0, Dim r1);
void depthwise_conv2d_rows_generic(const ops::Conv2DArgs& g, const float* x, const float* w, const float* bias,
                                   bool relu, float* y, Dim r0, Dim r1);
}  // namespace detail

}  // namespace keras::backends::cpu
