#pragma once
// The reference kernels' interface (products, convolutions, pooling, and their gradients on raw
// memory) and the convolution geometry the ops share. Layouts: NHWC activations, Keras weight
// layouts.
#include <string>

#include "keras/shape.h"

namespace keras::ops {

// A 2-D convolution over NHWC input (1-D convolutions use height 1). Padding is explicit:
// callers resolve Keras's 'same'/'valid'/'causal' into pad_top/pad_left (and the output size).
struct Conv2DArgs {
  Dim batch = 1, in_h = 1, in_w = 1, in_c = 1;
  Dim out_h = 1, out_w = 1, out_c = 1;  // out_c: filters (conv), in_c*depth_multiplier (depthwise)
  Dim k_h = 1, k_w = 1;
  Dim stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  Dim pad_top = 0, pad_left = 0;
  Dim groups = 1;
};

struct Pool2DArgs {
  Dim batch = 1, in_h = 1, in_w = 1, channels = 1;
  Dim out_h = 1, out_w = 1;
  Dim pool_h = 1, pool_w = 1, stride_h = 1, stride_w = 1;
  Dim pad_top = 0, pad_left = 0;
};

// Every kernel overwrites its whole output, which may start uninitialized (Tensor::empty).
struct Kernels {
  const char* name;
  // Row-major C[m,n] = alpha * op(A)[m,k] @ op(B)[k,n] + beta * C.
  void (*gemm)(bool trans_a, bool trans_b, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b,
               Dim ldb, float beta, float* c, Dim ldc);
  // y[N,OH,OW,F] = conv(x[N,H,W,C], w[KH,KW,C/groups,F]); no bias.
  void (*conv2d)(const Conv2DArgs& args, const float* x, const float* w, float* y);
  // y[N,OH,OW,C*M] with w[KH,KW,C,M]; output channel c*M+m.
  void (*depthwise_conv2d)(const Conv2DArgs& args, const float* x, const float* w, float* y);
  // The transpose (gradient w.r.t. input) of conv2d: x[N,H,W,C] -> y[N,OH,OW,F] with
  // w[KH,KW,F,C]; args describe the forward conv from y to x (in_* = x, out_* = y).
  void (*conv2d_transpose)(const Conv2DArgs& args, const float* x, const float* w, float* y);
  // Max over real cells (padding never wins).
  void (*max_pool2d)(const Pool2DArgs& args, const float* x, float* y);
  // Mean over real cells (padded cells excluded from the divisor, as Keras).
  void (*avg_pool2d)(const Pool2DArgs& args, const float* x, float* y);

  // Backward kernels: given dy, the gradient of the loss w.r.t. a forward kernel's output,
  // they overwrite the gradient w.r.t. one of its operands. `args` are the forward call's.
  // conv2d: dx[N,H,W,C] and dw[KH,KW,C/groups,F] from dy[N,OH,OW,F].
  void (*conv2d_backward_input)(const Conv2DArgs& args, const float* dy, const float* w, float* dx);
  void (*conv2d_backward_filter)(const Conv2DArgs& args, const float* x, const float* dy, float* dw);
  // depthwise_conv2d: dx[N,H,W,C] and dw[KH,KW,C,M] from dy[N,OH,OW,C*M].
  void (*depthwise_conv2d_backward_input)(const Conv2DArgs& args, const float* dy, const float* w, float* dx);
  void (*depthwise_conv2d_backward_filter)(const Conv2DArgs& args, const float* x, const float* dy, float* dw);
  // max_pool2d: each window's gradient goes to its first maximum in window order (row-major
  // over the window), as TensorFlow's MaxPoolGrad; x is the forward input.
  void (*max_pool2d_backward)(const Pool2DArgs& args, const float* x, const float* dy, float* dx);
  // avg_pool2d: each window's gradient spread evenly over its real cells.
  void (*avg_pool2d_backward)(const Pool2DArgs& args, const float* dy, float* dx);
};

// Plain loops, written for clarity: what the reference backend runs and tests compare fast
// kernels with. A fast backend's own kernels are its business (backends/), not a table here.
const Kernels& reference_kernels();

// Keras's padding arithmetic (KERAS_SPEC §2.2): output length and the leading pad.
struct Padding1D {
  Dim out = 0;
  Dim pad_before = 0;
};
// padding: "valid", "same" or "causal"; throws ValueError when the output would be empty.
Padding1D conv_padding(Dim in, Dim kernel, Dim stride, Dim dilation, const std::string& padding);

}  // namespace keras::ops
