// Accuracy metrics (keras/src/metrics/accuracy_metrics.py): per-sample matches averaged over
// the samples seen.
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/metrics.h"
#include "metrics/metric_utils.h"
#include "ops/metrics.h"

namespace keras::metrics {

namespace {

std::string or_default(const std::string& name, const char* fallback) { return name.empty() ? fallback : name; }

// y_true of shape (N,) against y_pred (N, 1), or the reverse, compared element by element.
Tensor same_shape(const Tensor& y_true, const Tensor& y_pred) {
  if (y_true.size() != y_pred.size())
    throw ValueError("Shapes " + y_true.shape().str() + " and " + y_pred.shape().str() + " are incompatible");
  return y_true.reshape(y_pred.shape());
}

using Kind = ops::MatchOp::Kind;

Tensor equal_values(const Tensor& y_true, const Tensor& y_pred, Kind kind, double threshold = 0.5) {
  Tensor t = same_shape(y_true, y_pred), m = Tensor::empty(y_pred.shape());
  ops::match({.kind = kind, .rows = y_pred.size(), .cols = 1, .threshold = threshold}, t.data(), y_pred.data(),
             m.data());
  return m;
}

// Rows of y_pred's last axis and the matching shape of the per-row results.
std::pair<Dim, Dim> rows(const Tensor& y_pred) {
  if (y_pred.rank() < 1) throw ValueError("y_pred must have rank >= 1, got shape " + y_pred.shape().str());
  Dim c = y_pred.dim(-1);
  return {c ? y_pred.size() / c : 0, c};
}

Shape row_shape(const Tensor& y_pred) {
  std::vector<Dim> d(y_pred.shape().dims());
  d.pop_back();
  if (d.empty()) d.push_back(1);
  return Shape(d);
}

// Integer labels, one per row of y_pred: y_true of shape (N,), (N, 1) or y_pred's leading axes.
Tensor sparse_labels(const Tensor& y_true, const Tensor& y_pred) {
  auto [n, c] = rows(y_pred);
  if (y_true.size() != n)
    throw ValueError("Sparse labels of shape " + y_true.shape().str() + " do not match predictions of shape " +
                     y_pred.shape().str());
  return y_true;
}

// One match per row of y_pred: labels as one-hot rows, or integer labels when `sparse`.
Tensor row_matches(const Tensor& y_true, const Tensor& y_pred, Kind kind, bool sparse, int k = 5) {
  auto [n, c] = rows(y_pred);
  Tensor labels = sparse ? sparse_labels(y_true, y_pred) : y_true;
  if (!sparse && y_true.shape() != y_pred.shape())
    throw ValueError("Shapes " + y_true.shape().str() + " and " + y_pred.shape().str() + " are incompatible");
  Tensor m = Tensor::empty(row_shape(y_pred));
  ops::match({.kind = kind, .rows = n, .cols = c, .k = k}, labels.data(), y_pred.data(), m.data());
  return m;
}

Metric wrap(const char* class_name, const std::string& name, detail::ValuesFn fn,
            nlohmann::json extra = nlohmann::json::object()) {
  return Metric(std::make_shared<detail::MeanMetricWrapper>(class_name, name, std::move(fn), "up", std::move(extra)));
}

}  // namespace

Metric Accuracy(const AccuracyOptions& o) {
  return wrap("Accuracy", or_default(o.name, "accuracy"),
              [](const Tensor& t, const Tensor& p) { return equal_values(t, p, Kind::kEqual); });
}

Metric BinaryAccuracy(const BinaryAccuracyOptions& o) {
  double threshold = o.threshold;
  return wrap("BinaryAccuracy", o.name,
              [threshold](const Tensor& t, const Tensor& p) { return equal_values(t, p, Kind::kBinary, threshold); },
              {{"threshold", threshold}});
}

Metric CategoricalAccuracy(const AccuracyOptions& o) {
  return wrap("CategoricalAccuracy", or_default(o.name, "categorical_accuracy"),
              [](const Tensor& t, const Tensor& p) { return row_matches(t, p, Kind::kCategorical, false); });
}

Metric SparseCategoricalAccuracy(const AccuracyOptions& o) {
  return wrap("SparseCategoricalAccuracy", or_default(o.name, "sparse_categorical_accuracy"),
              [](const Tensor& t, const Tensor& p) { return row_matches(t, p, Kind::kSparseCategorical, true); });
}

Metric TopKCategoricalAccuracy(const TopKOptions& o) {
  int k = o.k;
  return wrap("TopKCategoricalAccuracy", or_default(o.name, "top_k_categorical_accuracy"),
              [k](const Tensor& t, const Tensor& p) { return row_matches(t, p, Kind::kTopK, false, k); }, {{"k", k}});
}

Metric SparseTopKCategoricalAccuracy(const TopKOptions& o) {
  int k = o.k;
  return wrap("SparseTopKCategoricalAccuracy", or_default(o.name, "sparse_top_k_categorical_accuracy"),
              [k](const Tensor& t, const Tensor& p) { return row_matches(t, p, Kind::kSparseTopK, true, k); },
              {{"k", k}});
}

namespace detail {

Metric accuracy_from_config(const std::string& class_name, const nlohmann::json& c) {
  std::string name = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : "";
  int k = c.contains("k") && c["k"].is_number_integer() ? c["k"].get<int>() : 5;
  if (class_name == "Accuracy") return Accuracy({name});
  if (class_name == "BinaryAccuracy") {
    BinaryAccuracyOptions o;
    if (!name.empty()) o.name = name;
    if (c.contains("threshold") && c["threshold"].is_number()) o.threshold = c["threshold"].get<double>();
    return BinaryAccuracy(o);
  }
  if (class_name == "CategoricalAccuracy") return CategoricalAccuracy({name});
  if (class_name == "SparseCategoricalAccuracy") return SparseCategoricalAccuracy({name});
  if (class_name == "TopKCategoricalAccuracy") return TopKCategoricalAccuracy({k, name});
  if (class_name == "SparseTopKCategoricalAccuracy") return SparseTopKCategoricalAccuracy({k, name});
  return {};
}

}  // namespace detail

}  // namespace keras::metrics
