#pragma once
// Inverted dropout's mask, shared by the Dropout layers' own call and the training plans'
// dropout operators, so a step draws the same mask either way.
#include <cstdint>

#include "keras/shape.h"
#include "ops/op.h"

namespace keras::ops {

// `n` values, each 0 or 1/(1-rate), element i keeping when a 32-bit hash of (seed, i) falls
// below (1-rate)*2^32: a counter-based draw (as Philox in TensorFlow), so concurrent calls stay
// independent, a resumed fit() draws the masks it drew before (engine::layer_seed), and the
// loop has no generator state to carry from one element to the next. All zeros for rate >= 1.
void draw_dropout_mask(double rate, uint64_t seed, float* mask, Dim n);
// Elements [begin, end) of the same mask (begin even), into mask[begin, end).
void draw_dropout_mask_range(double rate, uint64_t seed, float* mask, Dim begin, Dim end);

// y[i] *= mask[...] over y's shape, the mask (of mask_shape, same rank, each axis 1 or y's)
// broadcast along its size-1 axes.
void scale_by_mask(float* y, const Shape& shape, const float* mask, const Shape& mask_shape);

// The training call of GaussianNoise, GaussianDropout and AlphaDropout (DropoutOp's other
// kinds) on x of `shape`: y, and dy/dx in `slope`; `noise` holds elements(a.noise) floats of
// scratch. Gaussian draws are Box-Muller pairs from the same counter-based hash as the masks.
void apply_noise(const DropoutOp& a, uint64_t seed, const float* x, const Shape& shape, float* y, float* slope,
                 float* noise);

}  // namespace keras::ops
