// Accuracy metrics (keras/src/metrics/accuracy_metrics.py): per-sample matches averaged over
// the samples seen.
#include <cmath>
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/metrics.h"
#include "metrics/metric_utils.h"

namespace keras::metrics {

namespace {

using detail::argmax_row;

std::string or_default(const std::string& name, const char* fallback) { return name.empty() ? fallback : name; }

// y_true of shape (N,) against y_pred (N, 1), or the reverse, compared element by element.
Tensor same_shape(const Tensor& y_true, const Tensor& y_pred) {
  if (y_true.size() != y_pred.size())
    throw ValueError("Shapes " + y_true.shape().str() + " and " + y_pred.shape().str() + " are incompatible");
  return y_true.reshape(y_pred.shape());
}

Tensor equal_values(const Tensor& y_true, const Tensor& y_pred) {
  Tensor t = same_shape(y_true, y_pred), m(y_pred.shape());
  for (Dim i = 0; i < m.size(); ++i) m[i] = t[i] == y_pred[i] ? 1.0f : 0.0f;
  return m;
}

Tensor binary_values(const Tensor& y_true, const Tensor& y_pred, double threshold) {
  Tensor t = same_shape(y_true, y_pred), m(y_pred.shape());
  for (Dim i = 0; i < m.size(); ++i) m[i] = t[i] == (y_pred[i] > threshold ? 1.0f : 0.0f) ? 1.0f : 0.0f;
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

Tensor categorical_values(const Tensor& y_true, const Tensor& y_pred) {
  auto [n, c] = rows(y_pred);
  if (y_true.shape() != y_pred.shape())
    throw ValueError("Shapes " + y_true.shape().str() + " and " + y_pred.shape().str() + " are incompatible");
  Tensor m(row_shape(y_pred));
  for (Dim r = 0; r < n; ++r)
    m[r] = argmax_row(y_true.data() + r * c, c) == argmax_row(y_pred.data() + r * c, c) ? 1.0f : 0.0f;
  return m;
}

Tensor sparse_categorical_values(const Tensor& y_true, const Tensor& y_pred) {
  auto [n, c] = rows(y_pred);
  Tensor labels = sparse_labels(y_true, y_pred), m(row_shape(y_pred));
  for (Dim r = 0; r < n; ++r) m[r] = labels[r] == float(argmax_row(y_pred.data() + r * c, c)) ? 1.0f : 0.0f;
  return m;
}

// in_top_k: the label is in the top k unless k or more classes score strictly higher (ties
// at the boundary count as in, as TensorFlow's in_top_k).
bool in_top_k(const float* row, Dim c, Dim label, int k) {
  if (label < 0 || label >= c || std::isnan(row[label])) return false;
  Dim higher = 0;
  for (Dim j = 0; j < c; ++j) higher += row[j] > row[label];
  return higher < k;
}

Tensor top_k_values(const Tensor& y_true, const Tensor& y_pred, int k, bool sparse) {
  auto [n, c] = rows(y_pred);
  Tensor labels = sparse ? sparse_labels(y_true, y_pred) : Tensor();
  if (!sparse && y_true.shape() != y_pred.shape())
    throw ValueError("Shapes " + y_true.shape().str() + " and " + y_pred.shape().str() + " are incompatible");
  Tensor m(row_shape(y_pred));
  for (Dim r = 0; r < n; ++r) {
    Dim label = sparse ? static_cast<Dim>(std::lround(labels[r])) : argmax_row(y_true.data() + r * c, c);
    m[r] = in_top_k(y_pred.data() + r * c, c, label, k) ? 1.0f : 0.0f;
  }
  return m;
}

Metric wrap(const char* class_name, const std::string& name, detail::ValuesFn fn,
            nlohmann::json extra = nlohmann::json::object()) {
  return Metric(std::make_shared<detail::MeanMetricWrapper>(class_name, name, std::move(fn), "up", std::move(extra)));
}

}  // namespace

Metric Accuracy(const AccuracyOptions& o) { return wrap("Accuracy", or_default(o.name, "accuracy"), equal_values); }

Metric BinaryAccuracy(const BinaryAccuracyOptions& o) {
  double threshold = o.threshold;
  return wrap("BinaryAccuracy", o.name,
              [threshold](const Tensor& t, const Tensor& p) { return binary_values(t, p, threshold); },
              {{"threshold", threshold}});
}

Metric CategoricalAccuracy(const AccuracyOptions& o) {
  return wrap("CategoricalAccuracy", or_default(o.name, "categorical_accuracy"), categorical_values);
}

Metric SparseCategoricalAccuracy(const AccuracyOptions& o) {
  return wrap("SparseCategoricalAccuracy", or_default(o.name, "sparse_categorical_accuracy"),
              sparse_categorical_values);
}

Metric TopKCategoricalAccuracy(const TopKOptions& o) {
  int k = o.k;
  return wrap("TopKCategoricalAccuracy", or_default(o.name, "top_k_categorical_accuracy"),
              [k](const Tensor& t, const Tensor& p) { return top_k_values(t, p, k, false); }, {{"k", k}});
}

Metric SparseTopKCategoricalAccuracy(const TopKOptions& o) {
  int k = o.k;
  return wrap("SparseTopKCategoricalAccuracy", or_default(o.name, "sparse_top_k_categorical_accuracy"),
              [k](const Tensor& t, const Tensor& p) { return top_k_values(t, p, k, true); }, {{"k", k}});
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
