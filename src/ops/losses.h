#pragma once
// The arithmetic of Keras's losses (keras/src/losses/losses.py and the backends' crossentropy
// functions) on raw memory: one loss value per row of the last axis, its gradient, and the
// weighting and reduction of Keras's Loss.__call__. The loss classes (src/losses) check shapes
// and arguments and describe which op to run.
#include "keras/shape.h"

namespace keras::ops {

// keras.backend.epsilon() and the clip bound 1 - epsilon, both as float32 values.
inline constexpr float kLossEpsilon = 1e-7f;
inline constexpr float kOneMinusLossEpsilon = 1.0f - 1e-7f;

// Each row of y_pred ([rows, cols]) against the same row of y_true (one label per row for the
// sparse crossentropy; a label outside [0, cols) is a ValueError) gives one loss value.
struct LossOp {
  enum class Kind {
    kCategoricalCrossentropy,
    kSparseCategoricalCrossentropy,
    kBinaryCrossentropy,
    kMeanSquaredError,
    kMeanAbsoluteError,
    kMeanAbsolutePercentageError,
    kMeanSquaredLogarithmicError,
    kLogCosh,
    kHinge,  // labels in {0, 1} count as {-1, 1}, as Keras's
    kSquaredHinge,
    kHuber,
    kPoisson,
    kKLDivergence,
    kCosineSimilarity,
    kCategoricalHinge,
  };
  Kind kind = Kind::kMeanSquaredError;
  Dim rows = 0, cols = 0;
  bool from_logits = false;    // crossentropies
  double label_smoothing = 0;  // categorical and binary crossentropy
  double delta = 1.0;          // Huber
};

// losses[r] for every row.
void loss_forward(const LossOp& op, const float* y_true, const float* y_pred, float* losses);
// grad = d(sum over r of upstream[r] * loss_r) / d y_pred.
void loss_backward(const LossOp& op, const float* y_true, const float* y_pred, const float* upstream, float* grad);

// sum(values * weights) and sum(weights) in double, in order; weights null means all 1.
struct WeightedSum {
  double sum = 0, weights = 0;
};
WeightedSum weighted_sum(const float* values, const float* weights, Dim n);
// out[i * per + j] = sample_weight[i]: one weight per sample spread over its values.
void repeat_per_sample(const float* sample_weight, Dim samples, Dim per, float* out);
// out = weights * scale (weights null: all 1).
void scaled_weights(const float* weights, double scale, Dim n, float* out);

}  // namespace keras::ops
