#pragma once
// Zero padding and cropping of C-order tensors (Keras's ZeroPadding and Cropping layers, and
// each other's gradients), shared by every backend.
#include <vector>

#include "keras/shape.h"

namespace keras::ops {

// dst[i] = src[i - offset] (per axis) where that index lies inside src, else 0: src shifted
// into dst. Positive offsets pad, negative ones crop. Same rank for all three.
void shifted_window(const float* src, const Shape& src_shape, float* dst, const Shape& dst_shape,
                    const std::vector<Dim>& offset);

}  // namespace keras::ops
