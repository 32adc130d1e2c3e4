#pragma once
// Metrics with Keras's names and semantics (keras.metrics): stateful objects accumulating over
// batches (update_state / result / reset_state), weighted by sample_weight when given.
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "keras/losses.h"
#include "keras/tensor.h"

namespace keras::metrics {

// Base class of every metric; subclass it for a custom metric.
class MetricImpl {
 public:
  explicit MetricImpl(std::string name) : name_(std::move(name)) {}
  virtual ~MetricImpl() = default;

  // Keras's class name, e.g. "CategoricalAccuracy".
  virtual std::string class_name() const = 0;
  // The name shown in logs ("accuracy", "mae"...).
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // sample_weight: empty, one weight per sample ((N,) or (N, 1)), or y_pred's shape.
  virtual void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) = 0;
  virtual double result() const = 0;
  virtual void reset_state() = 0;
  // "up" when larger is better (accuracy, AUC), "down" when smaller is (errors), "" unknown;
  // callbacks with mode="auto" read it.
  virtual std::string direction() const { return ""; }
  // Keras 3's get_config(): name, dtype and the metric's own arguments.
  virtual nlohmann::json get_config() const;

 private:
  std::string name_;
};

// A shared handle to a metric. A string is resolved as compile() resolves it; "accuracy"/"acc"
// is resolved only when the shapes of y_true and y_pred are known (resolve()).
class Metric {
 public:
  Metric() = default;
  Metric(const char* identifier);            // NOLINT: "accuracy", "mae", "auc"...
  Metric(const std::string& identifier);     // NOLINT
  Metric(std::shared_ptr<MetricImpl> impl);  // NOLINT

  MetricImpl* operator->() const { return impl_.get(); }
  MetricImpl& operator*() const { return *impl_; }
  const std::shared_ptr<MetricImpl>& impl() const { return impl_; }
  explicit operator bool() const { return impl_ != nullptr; }
  // The string this metric was given as, or "".
  const std::string& identifier() const { return identifier_; }
  // The metric's name, also before it is resolved.
  std::string name() const;
  // Resolves a string identifier for these shapes (Keras's compile_utils.get_metric).
  void resolve(const Shape& y_true, const Shape& y_pred);

 private:
  std::shared_ptr<MetricImpl> impl_;
  std::string identifier_;
};

// keras.metrics.get() by name, as compile() does; "accuracy"/"acc" pick Binary,
// SparseCategorical or Categorical accuracy from the shapes (KERAS_SPEC §9.3). The metric is
// named `identifier`. Throws ValueError for an unknown name.
Metric get(const std::string& identifier, const Shape& y_true, const Shape& y_pred);
// A metric from its serialized form ({"class_name": ..., "config": {...}} or a string).
Metric deserialize(const nlohmann::json& config);
nlohmann::json serialize(const Metric& metric);

// The weighted mean of values (Keras's Mean; the "loss" entry of the logs is one).
struct MeanOptions {
  std::string name = "mean";
};
class Mean : public MetricImpl {
 public:
  explicit Mean(const MeanOptions& options = {}) : MetricImpl(options.name) {}
  std::string class_name() const override { return "Mean"; }
  // values: one per sample (or more, averaged per sample); sample_weight as in update_state.
  void update_values(const Tensor& values, const Tensor& sample_weight = {});
  // One value with a weight (the loss of a batch weighted by its size).
  void update_value(double value, double weight = 1.0);
  void update_state(const Tensor&, const Tensor& y_pred, const Tensor& sample_weight = {}) override {
    update_values(y_pred, sample_weight);
  }
  double result() const override { return count_ == 0 ? 0.0 : total_ / count_; }
  void reset_state() override { total_ = count_ = 0; }

 private:
  double total_ = 0, count_ = 0;
};

struct AccuracyOptions {
  std::string name;  // empty: the class's Keras name
};
struct BinaryAccuracyOptions {
  std::string name = "binary_accuracy";
  double threshold = 0.5;
};
struct TopKOptions {
  int k = 5;
  std::string name;  // empty: top_k_categorical_accuracy / sparse_top_k_categorical_accuracy
};
// Keras's Accuracy: the fraction of y_pred equal to y_true.
Metric Accuracy(const AccuracyOptions& options = {});
Metric BinaryAccuracy(const BinaryAccuracyOptions& options = {});
Metric CategoricalAccuracy(const AccuracyOptions& options = {});
Metric SparseCategoricalAccuracy(const AccuracyOptions& options = {});
Metric TopKCategoricalAccuracy(const TopKOptions& options = {});
Metric SparseTopKCategoricalAccuracy(const TopKOptions& options = {});

struct ErrorOptions {
  std::string name;  // empty: mean_squared_error, mean_absolute_error...
};
Metric MeanSquaredError(const ErrorOptions& options = {});
Metric MeanAbsoluteError(const ErrorOptions& options = {});
Metric MeanAbsolutePercentageError(const ErrorOptions& options = {});
Metric MeanSquaredLogarithmicError(const ErrorOptions& options = {});
Metric RootMeanSquaredError(const ErrorOptions& options = {});
// A loss's per-sample values averaged over the epoch, named after the loss
// (e.g. metrics=["categorical_crossentropy"]).
Metric LossMetric(const losses::Loss& loss, const std::string& name = "");

// Keras's AUC (ROC or PR area from confusion counts at evenly spaced thresholds).
struct AUCOptions {
  int num_thresholds = 200;
  std::string curve = "ROC";                       // or "PR"
  std::string summation_method = "interpolation";  // or "minoring", "majoring"
  std::string name = "auc";
  std::optional<std::vector<double>> thresholds;  // explicit thresholds instead of num_thresholds
  bool from_logits = false;
};
Metric AUC(const AUCOptions& options = {});

// Keras's Precision / Recall: y_pred > threshold counts as positive.
struct PrecisionRecallOptions {
  std::optional<double> thresholds;  // default 0.5
  std::optional<int> top_k;
  std::optional<int> class_id;
  std::string name;  // empty: precision / recall
};
Metric Precision(const PrecisionRecallOptions& options = {});
Metric Recall(const PrecisionRecallOptions& options = {});

}  // namespace keras::metrics
