#pragma once
// Convolutions whose whole reduction (taps x input channels) is a handful of values: a first
// layer on grey images, 3x3 x 1 channel. igemm would copy patches and run tiles of nine
// reduction steps, then a fused pooling would read the convolution back from scratch; here the
// kernel's weights stay in registers for a whole strip of filters, each output pixel is
// gathered straight from the input, and a pooled output pixel is finished in registers, so
// neither patches nor the convolution's output go through memory.
//
// Per output value the products are summed in tap order from zero, then the bias added and relu
// applied, and pooled windows visited in row-major order: the same arithmetic as igemm's patch
// product followed by pool2d_rows, so results match the unfused operators bit for bit.
#include "backends/cpu/kernels/igemm.h"
#include "ops/kernels.h"

namespace keras::backends::cpu {

// The largest reduction (taps x input channels) small_conv takes.
inline constexpr Dim kSmallConvReduction = 9;

struct SmallConvArgs {
  const ops::Conv2DArgs* conv = nullptr;  // groups 1, k_h * k_w * in_c <= kSmallConvReduction
  const float* x = nullptr;
  const float* kernel = nullptr;  // [k_h * k_w * in_c][out_c], Keras's layout
  const float* bias = nullptr;
  bool relu = false;
  const ops::Pool2DArgs* pool = nullptr;  // null: no pooling (its in_* are the convolution's out_*)
  bool max = true;
  float* y = nullptr;
};

// Output rows [r0, r1) of image n: pooled rows with a pool, else convolution rows.
void small_conv_rows(Isa isa, const SmallConvArgs& a, Dim n, Dim r0, Dim r1);
// Whether this ISA has a small_conv kernel (its weights must fit the vector registers).
bool has_small_conv(Isa isa);

namespace detail {
void small_conv_rows_avx512(const SmallConvArgs& a, Dim n, Dim r0, Dim r1);
}  // namespace detail

}  // namespace keras::backends::cpu
