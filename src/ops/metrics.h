#pragma once
// The arithmetic of Keras's metrics (keras/src/metrics/) on raw memory: per-sample matches of
// the accuracy metrics, the weighted running mean of MeanMetricWrapper, and the confusion counts
// and curve areas of Precision, Recall and AUC. The metric classes check shapes, keep state and
// say which op to run.
#include <cstddef>

#include "keras/shape.h"

namespace keras::ops {

// 1 where a prediction matches its label, else 0. Element by element (kEqual, kBinary: y_pred >
// threshold counts as 1), or per row of `cols` (the others: argmax against argmax or an integer
// label, or the label among the k largest predictions, ties at the boundary counting in, as
// TensorFlow's in_top_k).
struct MatchOp {
  enum class Kind { kEqual, kBinary, kCategorical, kSparseCategorical, kTopK, kSparseTopK };
  Kind kind = Kind::kEqual;
  Dim rows = 0, cols = 1;
  double threshold = 0.5;
  int k = 5;
};
void match(const MatchOp& op, const float* y_true, const float* y_pred, float* out);

// Index of the largest value of a row (the first one on ties, as argmax).
Dim argmax_row(const float* row, Dim n);

// out = (p - t)^2 elementwise, in float.
void squared_errors(const float* y_true, const float* y_pred, Dim n, float* out);

// reduce_to_samplewise_values and the running mean: `samples` samples of `per` values each, each
// sample's mean weighted by its weight (`weights` null: 1; `elementwise`: one weight per value,
// the sample weighted by their mean). Adds into total and count.
void accumulate_mean(const float* values, Dim samples, Dim per, const float* weights, bool elementwise, double& total,
                     double& count);

// Confusion counts per threshold: a value is a positive prediction where y_pred > threshold and a
// positive label where y_true != 0. Weights as accumulate_mean's (per sample of `per` values, or
// per value). With class_id >= 0 only that column of rows of `cols` values counts.
struct ConfusionCounts {
  double *tp, *fp, *tn, *fn;
};
void accumulate_confusion(const double* thresholds, size_t count, const float* y_true, const float* y_pred, Dim n,
                          Dim per, const float* weights, bool elementwise, Dim class_id, Dim cols, ConfusionCounts c);
// Predictions outside each row's top k (k or more strictly higher) set to -inf in place.
void keep_top_k(float* y_pred, Dim rows, Dim cols, int k);
// The logistic sigmoid in place, in double.
void sigmoid_values(float* x, Dim n);

// The area under the ROC or PR curve from the counts at `count` ascending thresholds, by
// Riemann sums ("interpolation", "minoring", "majoring"), PR "interpolation" by Davis &
// Goadrich's interpolation (Keras's AUC.result).
double curve_area(const double* tp, const double* fp, const double* tn, const double* fn, size_t count, bool roc,
                  const char* summation);

}  // namespace keras::ops
