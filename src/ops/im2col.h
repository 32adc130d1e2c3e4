#pragma once
// Convolutions lowered to matrix products: im2col gathers each output pixel's receptive field
// into a row, so a convolution is one gemm per group, its input gradient a gemm then col2im (the
// scatter-add back), and its filter gradient a gemm. The products run on the given Products'
// gemm. Each overwrites its whole output.
#include "ops/products.h"

namespace keras::ops {

void im2col_conv2d(const Products& p, const Conv2DArgs& g, const float* x, const float* w, float* y);
void im2col_conv2d_backward_input(const Products& p, const Conv2DArgs& g, const float* dy, const float* w, float* dx);
void im2col_conv2d_backward_filter(const Products& p, const Conv2DArgs& g, const float* x, const float* dy, float* dw);

}  // namespace keras::ops
