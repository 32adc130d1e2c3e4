#pragma once
// Image resizing by integer factors (Keras's UpSampling layers) and its adjoint, shared by
// every backend.
#include "keras/shape.h"

namespace keras::ops {

// `batch` images of rows x cols cells of `channels` values (NHWC; channels_first data is
// batch * C images of one channel), to (rows * fy) x (cols * fx).
struct ResizeArgs {
  Dim batch = 1, rows = 1, cols = 1, channels = 1;
  Dim fy = 1, fx = 1;
  bool bilinear = false;  // else nearest
};

// Nearest repeats each cell; bilinear samples at half-pixel centres, src = (o + 0.5) / f - 0.5
// clamped to the edge (what TF, JAX and PyTorch's align_corners=False all compute upscaling).
void resize(const ResizeArgs& a, const float* x, float* y);
// dx (overwritten) from dy: each output cell's gradient back to the cells it read, with the
// weights it read them with.
void resize_backward(const ResizeArgs& a, const float* dy, float* dx);

}  // namespace keras::ops
