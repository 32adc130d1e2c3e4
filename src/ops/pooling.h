#pragma once
// Channel-vectorised pooling kernels used by the fast kernel tables (see kernels.h for the
// contracts; results equal the reference kernels').
#include "ops/kernels.h"

namespace keras::ops {

void fast_max_pool2d(const Pool2DArgs& g, const float* x, float* y);
void fast_avg_pool2d(const Pool2DArgs& g, const float* x, float* y);
void fast_max_pool2d_backward(const Pool2DArgs& g, const float* x, const float* dy, float* dx);
void fast_avg_pool2d_backward(const Pool2DArgs& g, const float* dy, float* dx);

}  // namespace keras::ops
