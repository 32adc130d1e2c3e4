#pragma once
// keras.ops.normalize (order 2, epsilon 1e-7) along one axis, and its gradient, shared by every
// backend: the Dot layer's `normalize`.
#include "keras/shape.h"

namespace keras::ops {

// x viewed as [outer, n, inner], normalized along n: x * min(rsqrt(sum(x^2)), 1/epsilon).
void l2_normalize(const float* x, float* y, Dim outer, Dim n, Dim inner);
// dx from dy: with r = |x| and u = x / r, dx = (dy - u * sum(dy * u)) / r; where the 1/epsilon
// cap is active the map is x * 1e7, so dx = dy * 1e7.
void l2_normalize_grad(const float* x, const float* dy, float* dx, Dim outer, Dim n, Dim inner);

}  // namespace keras::ops
