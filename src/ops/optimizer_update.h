#pragma once
// The arithmetic of Keras's optimizers (keras/src/optimizers/*.py) on raw memory: each one's
// update_step, elementwise over a range of one variable (ops::UpdateOp), and what the base
// optimizer does before it (gradient clipping, decoupled weight decay). Per element in double,
// stored as float32, as the optimizers' own loops were.
#include <cstddef>

#include "ops/op.h"

namespace keras::ops {

// How many slots an update reads and writes, in its order (UpdateOp).
size_t update_slots(const UpdateOp& op);

// Elements [begin, end) of w and its slots updated from g by op.
void apply_update(const UpdateOp& op, const float* g, float* w, float* const* slots, Dim begin, Dim end);

// Sum of squares in double, in order.
double sum_of_squares(const float* x, Dim n);
// x *= scale (rounded to float32 per element).
void scale_values(float* x, Dim n, double scale);
// x clamped to [-limit, limit].
void clip_values(float* x, Dim n, float limit);
// Decoupled weight decay: w -= w * decay.
void decay_values(float* w, Dim n, double decay);

}  // namespace keras::ops
