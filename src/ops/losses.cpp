#include "ops/losses.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "keras/errors.h"

namespace keras::ops {

namespace {

using Kind = LossOp::Kind;
constexpr float kEpsilon = kLossEpsilon;
constexpr float kOneMinusEpsilon = kOneMinusLossEpsilon;

// ---- Element by element, averaged over the row.

// One element's loss and its derivative with respect to y_pred; `arg` is Huber's delta.
struct ElementFns {
  double (*value)(double t, double p, double arg);
  double (*deriv)(double t, double p, double arg);
};

double sign(double x) { return (x > 0) - (x < 0); }
double max_eps(double x) { return std::max(x, double(kEpsilon)); }

const ElementFns kSquared{[](double t, double p, double) { return (t - p) * (t - p); },
                          [](double t, double p, double) { return 2 * (p - t); }};
const ElementFns kAbsolute{[](double t, double p, double) { return std::abs(t - p); },
                           [](double t, double p, double) { return sign(p - t); }};
const ElementFns kPercentage{[](double t, double p, double) { return 100 * std::abs((t - p) / max_eps(std::abs(t))); },
                             [](double t, double p, double) { return 100 * sign(p - t) / max_eps(std::abs(t)); }};
const ElementFns kSquaredLog{[](double t, double p, double) {
                               double d = std::log(max_eps(p) + 1) - std::log(max_eps(t) + 1);
                               return d * d;
                             },
                             [](double t, double p, double) {
                               if (p < kEpsilon) return 0.0;
                               return 2 * (std::log(p + 1) - std::log(max_eps(t) + 1)) / (p + 1);
                             }};
// log(cosh(x)) = x + softplus(-2x) - log(2), stable for large |x|.
const ElementFns kLogCosh{[](double t, double p, double) {
                            double x = p - t, z = -2 * x;
                            return x + (std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z)))) - std::log(2.0);
                          },
                          [](double t, double p, double) { return std::tanh(p - t); }};
const ElementFns kHingeFns{[](double t, double p, double) { return std::max(1 - t * p, 0.0); },
                           [](double t, double p, double) { return 1 - t * p > 0 ? -t : 0.0; }};
const ElementFns kSquaredHingeFns{[](double t, double p, double) { return std::pow(std::max(1 - t * p, 0.0), 2); },
                                  [](double t, double p, double) { return -2 * t * std::max(1 - t * p, 0.0); }};
const ElementFns kHuberFns{[](double t, double p, double delta) {
                             double e = p - t;
                             return std::abs(e) <= delta ? 0.5 * e * e : delta * std::abs(e) - 0.5 * delta * delta;
                           },
                           [](double t, double p, double delta) {
                             double e = p - t;
                             return std::abs(e) <= delta ? e : delta * sign(e);
                           }};
const ElementFns kPoissonFns{[](double t, double p, double) { return p - t * std::log(p + kEpsilon); },
                             [](double t, double p, double) { return 1 - t / (p + kEpsilon); }};

const ElementFns* element_fns(Kind k) {
  switch (k) {
    case Kind::kMeanSquaredError:
      return &kSquared;
    case Kind::kMeanAbsoluteError:
      return &kAbsolute;
    case Kind::kMeanAbsolutePercentageError:
      return &kPercentage;
    case Kind::kMeanSquaredLogarithmicError:
      return &kSquaredLog;
    case Kind::kLogCosh:
      return &kLogCosh;
    case Kind::kHinge:
      return &kHingeFns;
    case Kind::kSquaredHinge:
      return &kSquaredHingeFns;
    case Kind::kHuber:
      return &kHuberFns;
    case Kind::kPoisson:
      return &kPoissonFns;
    default:
      return nullptr;
  }
}

// y_true as the element losses read it: hinge losses turn {0, 1} labels into {-1, 1}.
std::vector<float> element_labels(const LossOp& op, const float* y_true) {
  std::vector<float> t(y_true, y_true + op.rows * op.cols);
  if (op.kind != Kind::kHinge && op.kind != Kind::kSquaredHinge) return t;
  bool binary = std::all_of(t.begin(), t.end(), [](float v) { return v == 0.0f || v == 1.0f; });
  if (binary)
    for (float& v : t) v = 2 * v - 1;
  return t;
}

// ---- Crossentropies.

// Categorical crossentropy of one row against a target row (already smoothed). `grad`, when
// given, receives d loss / d output scaled by `upstream`.
double categorical_row(const float* t, const float* out, Dim c, bool from_logits, float* grad, float upstream) {
  if (from_logits) {
    double m = *std::max_element(out, out + c), s = 0, tsum = 0;
    for (Dim j = 0; j < c; ++j) s += std::exp(double(out[j]) - m);
    double lse = m + std::log(s), loss = 0;
    for (Dim j = 0; j < c; ++j) {
      loss -= double(t[j]) * (double(out[j]) - lse);
      tsum += t[j];
    }
    if (grad)
      for (Dim j = 0; j < c; ++j)
        grad[j] = static_cast<float>(upstream * (std::exp(double(out[j]) - lse) * tsum - t[j]));
    return loss;
  }
  // Probabilities: p / sum(p), clipped to [eps, 1 - eps]; the clip passes no gradient outside.
  double s = 0;
  for (Dim j = 0; j < c; ++j) s += out[j];
  double loss = 0, dot = 0;
  std::vector<double> gq(grad ? size_t(c) : 0);
  for (Dim j = 0; j < c; ++j) {
    float q = static_cast<float>(out[j] / s);
    float qc = std::clamp(q, kEpsilon, kOneMinusEpsilon);
    loss -= double(t[j]) * std::log(double(qc));
    if (grad) {
      gq[size_t(j)] = (q >= kEpsilon && q <= kOneMinusEpsilon) ? -double(t[j]) / qc : 0.0;
      dot += gq[size_t(j)] * (out[j] / s);
    }
  }
  if (grad)
    for (Dim j = 0; j < c; ++j) grad[j] = static_cast<float>(upstream * (gq[size_t(j)] - dot) / s);
  return loss;
}

// The target row of row r: smoothed (categorical), or one-hot from its label (sparse).
const float* target_row(const LossOp& op, const float* y_true, Dim r, std::vector<float>& row) {
  Dim c = op.cols;
  if (op.kind == Kind::kSparseCategoricalCrossentropy) {
    float label = y_true[r];
    auto k = static_cast<Dim>(std::lround(label));
    if (k < 0 || k >= c || std::isnan(label))
      throw ValueError("Received a label value of " + std::to_string(k) + " which is outside the valid range of [0, " +
                       std::to_string(c) + ").");
    row.assign(size_t(c), 0.0f);
    row[size_t(k)] = 1.0f;
    return row.data();
  }
  if (op.label_smoothing == 0) return y_true + r * c;
  row.resize(size_t(c));
  for (Dim j = 0; j < c; ++j)
    row[size_t(j)] =
        static_cast<float>(y_true[r * c + j] * (1.0 - op.label_smoothing) + op.label_smoothing / double(c));
  return row.data();
}

// One binary crossentropy element: the loss, and its derivative with respect to the output.
std::pair<double, double> binary_element(const LossOp& op, double t, float out) {
  if (op.label_smoothing != 0) t = t * (1.0 - op.label_smoothing) + 0.5 * op.label_smoothing;
  if (op.from_logits) {
    double z = out, sig = 1.0 / (1.0 + std::exp(-z));
    return {std::max(z, 0.0) - z * t + std::log1p(std::exp(-std::abs(z))), sig - t};
  }
  float p = std::clamp(out, kEpsilon, kOneMinusEpsilon);
  double loss = -(t * std::log(double(p)) + (1 - t) * std::log(1.0 - double(p)));
  bool inside = out >= kEpsilon && out <= kOneMinusEpsilon;
  return {loss, inside ? -t / p + (1 - t) / (1.0 - double(p)) : 0.0};
}

// ---- Whole rows: KL divergence, cosine similarity, categorical hinge.

// A loss of one row (t, p of length c); writes d loss / d p into `grad` when non-null.
using RowFn = double (*)(const float* t, const float* p, Dim c, double* grad);

// sum(t * log(t / p)) with t and p clipped to [eps, 1].
double kl_row(const float* t, const float* p, Dim c, double* grad) {
  double loss = 0;
  for (Dim j = 0; j < c; ++j) {
    double tc = std::clamp(t[j], kEpsilon, 1.0f), pc = std::clamp(p[j], kEpsilon, 1.0f);
    loss += tc * std::log(tc / pc);
    if (grad) grad[j] = (p[j] >= kEpsilon && p[j] <= 1.0f) ? -tc / pc : 0.0;
  }
  return loss;
}

// -sum(t/max(|t|, eps) * p/max(|p|, eps)): ops.normalize divides by the norm floored at epsilon.
double cosine_row(const float* t, const float* p, Dim c, double* grad) {
  double nt = 0, np = 0, dot = 0;
  for (Dim j = 0; j < c; ++j) {
    nt += double(t[j]) * t[j];
    np += double(p[j]) * p[j];
    dot += double(t[j]) * p[j];
  }
  nt = std::max(std::sqrt(nt), double(kEpsilon));
  double np_raw = std::sqrt(np);
  np = std::max(np_raw, double(kEpsilon));
  double cos = dot / (nt * np);
  if (grad)
    for (Dim j = 0; j < c; ++j) {
      double that = t[j] / nt, phat = p[j] / np;
      // Above the floor the norm depends on p: d(p/|p|) removes the component along p.
      grad[j] = np_raw > kEpsilon ? -(that - cos * phat) / np : -that / np;
    }
  return -cos;
}

// max(max((1 - t) * p) - sum(t * p) + 1, 0).
double categorical_hinge_row(const float* t, const float* p, Dim c, double* grad) {
  double pos = 0, neg = -INFINITY;
  Dim arg = 0;
  for (Dim j = 0; j < c; ++j) {
    pos += double(t[j]) * p[j];
    double n = (1.0 - t[j]) * p[j];
    if (n > neg) {
      neg = n;
      arg = j;
    }
  }
  double loss = std::max(neg - pos + 1.0, 0.0);
  if (grad)
    for (Dim j = 0; j < c; ++j) grad[j] = loss > 0 ? -double(t[j]) + (j == arg ? 1.0 - t[j] : 0.0) : 0.0;
  return loss;
}

RowFn row_fn(Kind k) {
  switch (k) {
    case Kind::kKLDivergence:
      return kl_row;
    case Kind::kCosineSimilarity:
      return cosine_row;
    case Kind::kCategoricalHinge:
      return categorical_hinge_row;
    default:
      return nullptr;
  }
}

bool crossentropy(Kind k) { return k == Kind::kCategoricalCrossentropy || k == Kind::kSparseCategoricalCrossentropy; }

}  // namespace

void loss_forward(const LossOp& op, const float* y_true, const float* y_pred, float* losses) {
  Dim c = op.cols;
  if (const ElementFns* fns = element_fns(op.kind)) {
    std::vector<float> t = element_labels(op, y_true);
    for (Dim r = 0; r < op.rows; ++r) {
      double sum = 0;
      for (Dim j = r * c; j < (r + 1) * c; ++j) sum += fns->value(t[size_t(j)], y_pred[j], op.delta);
      losses[r] = static_cast<float>(sum / double(c));
    }
  } else if (crossentropy(op.kind)) {
    std::vector<float> row;
    for (Dim r = 0; r < op.rows; ++r)
      losses[r] = static_cast<float>(
          categorical_row(target_row(op, y_true, r, row), y_pred + r * c, c, op.from_logits, nullptr, 0.0f));
  } else if (op.kind == Kind::kBinaryCrossentropy) {
    for (Dim r = 0; r < op.rows; ++r) {
      double sum = 0;
      for (Dim j = r * c; j < (r + 1) * c; ++j) sum += binary_element(op, y_true[j], y_pred[j]).first;
      losses[r] = static_cast<float>(sum / double(c));
    }
  } else {
    RowFn fn = row_fn(op.kind);
    for (Dim r = 0; r < op.rows; ++r) losses[r] = static_cast<float>(fn(y_true + r * c, y_pred + r * c, c, nullptr));
  }
}

void loss_backward(const LossOp& op, const float* y_true, const float* y_pred, const float* upstream, float* grad) {
  Dim c = op.cols;
  if (const ElementFns* fns = element_fns(op.kind)) {
    std::vector<float> t = element_labels(op, y_true);
    for (Dim r = 0; r < op.rows; ++r)
      for (Dim j = r * c; j < (r + 1) * c; ++j)
        grad[j] = static_cast<float>(upstream[r] * fns->deriv(t[size_t(j)], y_pred[j], op.delta) / double(c));
  } else if (crossentropy(op.kind)) {
    std::vector<float> row;
    for (Dim r = 0; r < op.rows; ++r)
      categorical_row(target_row(op, y_true, r, row), y_pred + r * c, c, op.from_logits, grad + r * c, upstream[r]);
  } else if (op.kind == Kind::kBinaryCrossentropy) {
    for (Dim r = 0; r < op.rows; ++r)
      for (Dim j = r * c; j < (r + 1) * c; ++j)
        grad[j] = static_cast<float>(upstream[r] * binary_element(op, y_true[j], y_pred[j]).second / double(c));
  } else {
    RowFn fn = row_fn(op.kind);
    std::vector<double> g(static_cast<size_t>(c));
    for (Dim r = 0; r < op.rows; ++r) {
      fn(y_true + r * c, y_pred + r * c, c, g.data());
      for (Dim j = 0; j < c; ++j) grad[r * c + j] = static_cast<float>(upstream[r] * g[size_t(j)]);
    }
  }
}

WeightedSum weighted_sum(const float* values, const float* weights, Dim n) {
  WeightedSum s;
  for (Dim i = 0; i < n; ++i) {
    double w = weights ? weights[i] : 1.0f;
    s.sum += double(values[i]) * w;
    s.weights += w;
  }
  return s;
}

void repeat_per_sample(const float* sample_weight, Dim samples, Dim per, float* out) {
  for (Dim i = 0; i < samples; ++i)
    for (Dim j = 0; j < per; ++j) out[i * per + j] = sample_weight[i];
}

void scaled_weights(const float* weights, double scale, Dim n, float* out) {
  for (Dim i = 0; i < n; ++i) out[i] = static_cast<float>((weights ? weights[i] : 1.0f) * scale);
}

}  // namespace keras::ops
