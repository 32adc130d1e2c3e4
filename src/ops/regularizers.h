#pragma once
// The arithmetic of Keras's weight regularizers and constraints
// (keras/src/regularizers/regularizers.py, keras/src/constraints/constraints.py) on raw memory;
// src/regularizers holds the classes that check arguments and configs.
#include <vector>

#include "keras/shape.h"

namespace keras::ops {

// l1 * sum(|x|) + l2 * sum(x^2); with `grad`, adds its gradient there (sign(0) = 0, as TF's).
double l1_l2_penalty(const float* x, Dim n, double l1, double l2, float* grad);

// Keras's OrthogonalRegularizer of a [rows, cols] weight: the vectors are its rows (by_rows) or
// its columns, each L2-normalized (norm floored at epsilon); the penalty is
// factor * 0.5 * sum over i != j of |<v_i, v_j>| / (k (k - 1) / 2) for k vectors.
double orthogonal_penalty(const float* x, Dim rows, Dim cols, bool by_rows, double factor, float* grad);

// The norm constraints: the L2 norms of w over the axes where `reduced` holds (one norm per
// position of the other axes), w scaled by desired / (epsilon + norm) where desired is
// rate * clip(norm, min_value, max_value) + (1 - rate) * norm; UnitNorm is desired = 1.
struct NormConstraint {
  double min_value = 0, max_value = 1, rate = 1;
  bool unit = false;
};
void norm_constraint(float* w, const Shape& shape, const std::vector<bool>& reduced, const NormConstraint& c);

// w * (w >= 0).
void non_negative(float* w, Dim n);

}  // namespace keras::ops
