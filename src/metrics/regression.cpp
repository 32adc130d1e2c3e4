// Error metrics (keras/src/metrics/regression_metrics.py) and losses used as metrics: the
// loss's per-sample values averaged over the samples seen.
#include <cmath>
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/metrics.h"
#include "metrics/metric_utils.h"
#include "ops/metrics.h"

namespace keras::metrics {

namespace {

Metric from_loss(const std::string& class_name, const std::string& name, const losses::Loss& loss,
                 const char* direction) {
  auto fn = [loss](const Tensor& t, const Tensor& p) { return loss->call(t, p); };
  auto m = std::make_shared<detail::MeanMetricWrapper>(class_name, name, fn, direction);
  if (auto on_logits = loss->on_logits())
    m->set_logits_fn([on_logits](const Tensor& t, const Tensor& z) { return on_logits->call(t, z); });
  return Metric(m);
}

std::string or_default(const std::string& name, const char* fallback) { return name.empty() ? fallback : name; }

// sqrt of the mean squared error over all elements (Keras's RootMeanSquaredError).
class RootMeanSquaredErrorImpl : public MetricImpl {
 public:
  explicit RootMeanSquaredErrorImpl(std::string name) : MetricImpl(std::move(name)) {}
  std::string class_name() const override { return "RootMeanSquaredError"; }
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override {
    if (y_true.size() != y_pred.size())
      throw ValueError("Shapes " + y_true.shape().str() + " and " + y_pred.shape().str() + " are incompatible");
    Tensor sq = Tensor::empty(y_pred.shape());
    ops::squared_errors(y_true.data(), y_pred.data(), sq.size(), sq.data());
    mean_.update_values(sq, sample_weight);
  }
  double result() const override { return std::sqrt(mean_.result()); }
  void reset_state() override { mean_.reset_state(); }
  std::string direction() const override { return "down"; }

 private:
  Mean mean_;
};

}  // namespace

Metric MeanSquaredError(const ErrorOptions& o) {
  return from_loss("MeanSquaredError", or_default(o.name, "mean_squared_error"), losses::MeanSquaredError(), "down");
}
Metric MeanAbsoluteError(const ErrorOptions& o) {
  return from_loss("MeanAbsoluteError", or_default(o.name, "mean_absolute_error"), losses::MeanAbsoluteError(), "down");
}
Metric MeanAbsolutePercentageError(const ErrorOptions& o) {
  return from_loss("MeanAbsolutePercentageError", or_default(o.name, "mean_absolute_percentage_error"),
                   losses::MeanAbsolutePercentageError(), "down");
}
Metric MeanSquaredLogarithmicError(const ErrorOptions& o) {
  return from_loss("MeanSquaredLogarithmicError", or_default(o.name, "mean_squared_logarithmic_error"),
                   losses::MeanSquaredLogarithmicError(), "down");
}
Metric RootMeanSquaredError(const ErrorOptions& o) {
  return Metric(std::make_shared<RootMeanSquaredErrorImpl>(or_default(o.name, "root_mean_squared_error")));
}

Metric LossMetric(const losses::Loss& loss, const std::string& name) {
  if (!loss) throw ValueError("LossMetric needs a loss");
  return from_loss(loss->class_name(), name.empty() ? loss->name() : name, loss, "down");
}

namespace detail {

Metric regression_from_config(const std::string& class_name, const nlohmann::json& c) {
  std::string name = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : "";
  if (class_name == "MeanSquaredError") return MeanSquaredError({name});
  if (class_name == "MeanAbsoluteError") return MeanAbsoluteError({name});
  if (class_name == "MeanAbsolutePercentageError") return MeanAbsolutePercentageError({name});
  if (class_name == "MeanSquaredLogarithmicError") return MeanSquaredLogarithmicError({name});
  if (class_name == "RootMeanSquaredError") return RootMeanSquaredError({name});
  return {};
}

}  // namespace detail

}  // namespace keras::metrics
