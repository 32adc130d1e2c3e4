// The metric base, Mean (Keras's reduction_metrics.Mean), the handle, and the name registry
// (keras.metrics.get and compile()'s resolution of "accuracy").
#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/metrics.h"
#include "metrics/metric_utils.h"
#include "ops/metrics.h"

namespace keras::metrics {

nlohmann::json MetricImpl::get_config() const { return {{"name", name_}, {"dtype", "float32"}}; }

// reduce_to_samplewise_values: per-sample means of the values, weighted per sample.
void Mean::update_values(const Tensor& values, const Tensor& sample_weight) {
  if (values.rank() == 0) {
    double w = sample_weight.empty() ? 1.0 : double(sample_weight[0]);
    total_ += double(values[0]) * w;
    count_ += w;
    return;
  }
  Dim n = values.dim(0), per = n ? values.size() / n : 0;
  bool elementwise = !sample_weight.empty() && sample_weight.size() == values.size() && per > 1;
  if (!sample_weight.empty() && !elementwise && sample_weight.size() != n)
    throw ValueError("Metric \"" + name() + "\": sample_weight of shape " + sample_weight.shape().str() +
                     " does not match values of shape " + values.shape().str());
  ops::accumulate_mean(values.data(), n, per, sample_weight.empty() ? nullptr : sample_weight.data(), elementwise,
                       total_, count_);
}

void Mean::update_value(double value, double weight) {
  total_ += value * weight;
  count_ += weight;
}

Metric::Metric(const char* identifier) : Metric(std::string(identifier)) {}

Metric::Metric(const std::string& identifier) : identifier_(identifier) {
  std::string lower = identifier;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  // Resolved later from the shapes of y_true and y_pred; every other name is resolved now.
  if (lower != "accuracy" && lower != "acc" && lower != "crossentropy" && lower != "ce")
    impl_ = get(identifier, Shape{}, Shape{}).impl();
}

Metric::Metric(std::shared_ptr<MetricImpl> impl) : impl_(std::move(impl)) {}

std::string Metric::name() const { return impl_ ? impl_->name() : identifier_; }

void Metric::resolve(const Shape& y_true, const Shape& y_pred) {
  if (!impl_) impl_ = get(identifier_, y_true, y_pred).impl();
}

namespace {

// Names keras.metrics.get() knows besides class names, with the class (and config) they mean.
const std::map<std::string, std::function<Metric()>>& named_metrics() {
  static const std::map<std::string, std::function<Metric()>> table = {
      {"binary_accuracy", [] { return BinaryAccuracy(); }},
      {"categorical_accuracy", [] { return CategoricalAccuracy(); }},
      {"sparse_categorical_accuracy", [] { return SparseCategoricalAccuracy(); }},
      {"top_k_categorical_accuracy", [] { return TopKCategoricalAccuracy(); }},
      {"sparse_top_k_categorical_accuracy", [] { return SparseTopKCategoricalAccuracy(); }},
      {"mean_squared_error", [] { return MeanSquaredError(); }},
      {"mse", [] { return MeanSquaredError(); }},
      {"MSE", [] { return MeanSquaredError(); }},
      {"mean_absolute_error", [] { return MeanAbsoluteError(); }},
      {"mae", [] { return MeanAbsoluteError(); }},
      {"MAE", [] { return MeanAbsoluteError(); }},
      {"mean_absolute_percentage_error", [] { return MeanAbsolutePercentageError(); }},
      {"mape", [] { return MeanAbsolutePercentageError(); }},
      {"MAPE", [] { return MeanAbsolutePercentageError(); }},
      {"mean_squared_logarithmic_error", [] { return MeanSquaredLogarithmicError(); }},
      {"msle", [] { return MeanSquaredLogarithmicError(); }},
      {"MSLE", [] { return MeanSquaredLogarithmicError(); }},
      {"root_mean_squared_error", [] { return RootMeanSquaredError(); }},
      {"auc", [] { return AUC(); }},
      {"precision", [] { return Precision(); }},
      {"recall", [] { return Recall(); }},
  };
  return table;
}

Metric from_class_config(const std::string& class_name, const nlohmann::json& config) {
  for (auto* family : {detail::accuracy_from_config, detail::regression_from_config, detail::confusion_from_config})
    if (Metric m = family(class_name, config)) return m;
  return {};
}

// "accuracy" and "crossentropy" (Keras 2's "ce") by shapes (compile_utils.get_metric).
Metric by_shapes(const std::string& lower, const Shape& y_true, const Shape& y_pred) {
  if (y_pred.rank() == 0) throw ValueError("Metric \"" + lower + "\" needs the shapes of y_true and y_pred");
  Dim t_last = y_true.rank() ? y_true[-1] : 1, p_last = y_pred[-1];
  bool binary = p_last == 1;
  bool sparse = y_true.rank() < y_pred.rank() || (t_last == 1 && p_last > 1);
  if (lower == "accuracy" || lower == "acc")
    return binary ? BinaryAccuracy() : sparse ? SparseCategoricalAccuracy() : CategoricalAccuracy();
  using namespace losses;
  return LossMetric(binary   ? BinaryCrossentropy()
                    : sparse ? SparseCategoricalCrossentropy()
                             : CategoricalCrossentropy());
}

}  // namespace

Metric get(const std::string& identifier, const Shape& y_true, const Shape& y_pred) {
  std::string lower = identifier;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  Metric m;
  if (lower == "accuracy" || lower == "acc" || lower == "crossentropy" || lower == "ce") {
    m = by_shapes(lower, y_true, y_pred);
  } else if (auto it = named_metrics().find(identifier); it != named_metrics().end()) {
    m = it->second();
  } else if (Metric c = from_class_config(identifier, nlohmann::json::object())) {
    m = c;
  } else {
    // Loss names are metric names too (metrics=["categorical_crossentropy"]).
    try {
      m = LossMetric(losses::get(identifier));
    } catch (const ValueError&) {
      throw ValueError("Could not interpret metric identifier: " + identifier);
    }
  }
  m->set_name(identifier);  // compile() names a metric given as a string by that string
  return Metric(m.impl());
}

Metric deserialize(const nlohmann::json& config) {
  if (config.is_string()) return Metric(config.get<std::string>());
  if (!config.is_object() || !config.contains("class_name"))
    throw ValueError("Could not interpret serialized metric: " + config.dump());
  std::string class_name = config["class_name"].get<std::string>();
  nlohmann::json inner = config.value("config", nlohmann::json::object());
  if (class_name == "function" && inner.is_string()) return Metric(inner.get<std::string>());
  if (Metric m = from_class_config(class_name, inner.is_object() ? inner : nlohmann::json::object())) return m;
  throw ValueError("Could not interpret serialized metric: unknown class_name \"" + class_name + "\"");
}

nlohmann::json serialize(const Metric& metric) {
  if (!metric.identifier().empty()) return metric.identifier();
  if (!metric) return nullptr;
  return {{"module", "keras.metrics"},
          {"class_name", metric->class_name()},
          {"config", metric->get_config()},
          {"registered_name", nullptr}};
}

}  // namespace keras::metrics
