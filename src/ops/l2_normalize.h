#pragma once
// keras.ops.normalize (order 2, epsilon 1e-7) along one axis, and its gradient, shared by every
// backend: the Dot layer's `normalize`.
#include "keras/shape.h"

namespace keras::ops {

// x viewed as [outer, n, inner], normalized along n: x * min(rsqrt(sum(x^2)), max_scale).
void l2_normalize(const float* x, float* y, Dim outer, Dim n, Dim inner, double max_scale = 1e7);
// dx from dy: with r = |x| and u = x / r, dx = (dy - u * sum(dy * u)) / r; where the 1/epsilon
// cap is active the map is x * max_scale, so dx = dy * max_scale.
void l2_normalize_grad(const float* x, const float* dy, float* dx, Dim outer, Dim n, Dim inner, double max_scale = 1e7);

}  // namespace keras::ops
