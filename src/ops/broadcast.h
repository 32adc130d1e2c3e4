#pragma once
// numpy broadcasting between same-rank C-order tensors (Keras's merge layers on shapes that
// differ), and its adjoint, shared by every backend.
#include "keras/shape.h"

namespace keras::ops {

// y[i] = x[i with every index along x's size-1 axes set to 0]: x repeated to y's shape.
void broadcast_to(const float* x, const Shape& x_shape, float* y, const Shape& y_shape);
// dx (overwritten) = dy summed over the axes where x_shape has size 1 and dy's shape does not.
void reduce_to(const float* dy, const Shape& dy_shape, float* dx, const Shape& x_shape);

}  // namespace keras::ops
