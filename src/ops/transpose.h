#pragma once
// Layout moves between Keras's channels_first (N, C, spatial...) and the internal
// channels_last (N, spatial..., C). Layers with data_format="channels_first" call these at
// their edges so kernels only ever see channels-last data.
#include "keras/shape.h"
#include "keras/tensor.h"

namespace keras::ops {

// (N, C, d1, ..., dk) -> (N, d1, ..., dk, C); rank >= 3, else ValueError.
Tensor to_channels_last(const Tensor& x);
// (N, d1, ..., dk, C) -> (N, C, d1, ..., dk); rank >= 3, else ValueError.
Tensor to_channels_first(const Tensor& x);

// The same moves on shapes (unknown dimensions allowed).
Shape to_channels_last(const Shape& s);
Shape to_channels_first(const Shape& s);

}  // namespace keras::ops
