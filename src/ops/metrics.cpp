#include "ops/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace keras::ops {

namespace {

bool in_top_k(const float* row, Dim c, Dim label, int k) {
  if (label < 0 || label >= c || std::isnan(row[label])) return false;
  Dim higher = 0;
  for (Dim j = 0; j < c; ++j) higher += row[j] > row[label];
  return higher < k;
}

double divide_no_nan(double a, double b) { return b == 0 ? 0.0 : a / b; }

// Davis & Goadrich's interpolation of the PR curve (metrics AUC.interpolate_pr_auc).
double interpolate_pr_auc(const double* tp, const double* fp, const double* fn, size_t count) {
  double sum = 0;
  for (size_t i = 0; i + 1 < count; ++i) {
    double dtp = tp[i] - tp[i + 1];
    double p0 = tp[i] + fp[i], p1 = tp[i + 1] + fp[i + 1];
    double slope = divide_no_nan(dtp, std::max(p0 - p1, 0.0));
    double intercept = tp[i + 1] - slope * p1;
    double ratio = (p0 > 0 && p1 > 0) ? divide_no_nan(p0, std::max(p1, 0.0)) : 1.0;
    sum += divide_no_nan(slope * (dtp + intercept * std::log(ratio)), std::max(tp[i + 1] + fn[i + 1], 0.0));
  }
  return sum;
}

}  // namespace

Dim argmax_row(const float* row, Dim n) {
  Dim best = 0;
  for (Dim j = 1; j < n; ++j)
    if (row[j] > row[best]) best = j;
  return best;
}

void match(const MatchOp& op, const float* t, const float* p, float* out) {
  using Kind = MatchOp::Kind;
  Dim c = op.cols;
  switch (op.kind) {
    case Kind::kEqual:
      for (Dim i = 0; i < op.rows * c; ++i) out[i] = t[i] == p[i] ? 1.0f : 0.0f;
      return;
    case Kind::kBinary:
      for (Dim i = 0; i < op.rows * c; ++i) out[i] = t[i] == (p[i] > op.threshold ? 1.0f : 0.0f) ? 1.0f : 0.0f;
      return;
    case Kind::kCategorical:
      for (Dim r = 0; r < op.rows; ++r) out[r] = argmax_row(t + r * c, c) == argmax_row(p + r * c, c) ? 1.0f : 0.0f;
      return;
    case Kind::kSparseCategorical:
      for (Dim r = 0; r < op.rows; ++r) out[r] = t[r] == float(argmax_row(p + r * c, c)) ? 1.0f : 0.0f;
      return;
    case Kind::kTopK:
    case Kind::kSparseTopK:
      for (Dim r = 0; r < op.rows; ++r) {
        Dim label = op.kind == Kind::kSparseTopK ? static_cast<Dim>(std::lround(t[r])) : argmax_row(t + r * c, c);
        out[r] = in_top_k(p + r * c, c, label, op.k) ? 1.0f : 0.0f;
      }
      return;
  }
}

void squared_errors(const float* t, const float* p, Dim n, float* out) {
  for (Dim i = 0; i < n; ++i) out[i] = (p[i] - t[i]) * (p[i] - t[i]);
}

void accumulate_mean(const float* values, Dim samples, Dim per, const float* weights, bool elementwise, double& total,
                     double& count) {
  for (Dim i = 0; i < samples; ++i) {
    double sum = 0, wsum = 0;
    for (Dim j = i * per; j < (i + 1) * per; ++j) {
      double w = elementwise ? double(weights[j]) : 1.0;
      sum += double(values[j]) * w;
      wsum += w;
    }
    double w = !weights ? 1.0 : elementwise ? wsum / double(per) : double(weights[i]);
    total += elementwise ? sum / double(per) : sum / double(per) * w;
    count += w;
  }
}

void accumulate_confusion(const double* thresholds, size_t count, const float* y_true, const float* y_pred, Dim n,
                          Dim per, const float* weights, bool elementwise, Dim class_id, Dim cols, ConfusionCounts c) {
  for (Dim i = 0; i < n; ++i) {
    if (class_id >= 0 && i % cols != class_id) continue;
    double w = !weights ? 1.0 : elementwise ? weights[i] : weights[per ? i / per : 0];
    bool label = y_true[i] != 0.0f;
    for (size_t k = 0; k < count; ++k) {
      bool pred = y_pred[i] > thresholds[k];
      (label ? (pred ? c.tp : c.fn) : (pred ? c.fp : c.tn))[k] += w;
    }
  }
}

void keep_top_k(float* y_pred, Dim rows, Dim cols, int k) {
  std::vector<bool> drop(static_cast<size_t>(cols));
  for (Dim r = 0; r < rows; ++r) {
    float* row = y_pred + r * cols;
    for (Dim j = 0; j < cols; ++j) {
      Dim higher = 0;
      for (Dim q = 0; q < cols; ++q) higher += row[q] > row[j];
      drop[size_t(j)] = higher >= k;
    }
    // Decided on the row as given, then applied: an earlier -inf must not promote a later value.
    for (Dim j = 0; j < cols; ++j)
      if (drop[size_t(j)]) row[j] = -std::numeric_limits<float>::infinity();
  }
}

void sigmoid_values(float* x, Dim n) {
  for (Dim i = 0; i < n; ++i) x[i] = static_cast<float>(1.0 / (1.0 + std::exp(-double(x[i]))));
}

double curve_area(const double* tp, const double* fp, const double* tn, const double* fn, size_t count, bool roc,
                  const char* summation) {
  std::string method = summation;
  if (!roc && method == "interpolation") return interpolate_pr_auc(tp, fp, fn, count);
  std::vector<double> x(count), y(count);
  for (size_t i = 0; i < count; ++i) {
    double recall = divide_no_nan(tp[i], tp[i] + fn[i]);
    if (roc) {
      x[i] = divide_no_nan(fp[i], fp[i] + tn[i]);
      y[i] = recall;
    } else {
      x[i] = recall;
      y[i] = divide_no_nan(tp[i], tp[i] + fp[i]);
    }
  }
  double sum = 0;
  for (size_t i = 0; i + 1 < count; ++i) {
    double h = method == "interpolation" ? (y[i] + y[i + 1]) / 2
               : method == "minoring"    ? std::min(y[i], y[i + 1])
                                         : std::max(y[i], y[i + 1]);
    sum += (x[i] - x[i + 1]) * h;
  }
  return sum;
}

}  // namespace keras::ops
