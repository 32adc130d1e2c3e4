#pragma once
// Keras's MeanMetricWrapper: a function giving values per sample (or per element), averaged
// over all samples seen, weighted by sample_weight.
#include <functional>
#include <nlohmann/json.hpp>

#include "keras/metrics.h"

namespace keras::metrics::detail {

// Values with a leading batch axis (any trailing axes are averaged per sample).
using ValuesFn = std::function<Tensor(const Tensor& y_true, const Tensor& y_pred)>;

class MeanMetricWrapper : public MetricImpl {
 public:
  MeanMetricWrapper(std::string class_name, std::string name, ValuesFn fn, std::string direction,
                    nlohmann::json extra_config = nlohmann::json::object())
      : MetricImpl(std::move(name)),
        class_name_(std::move(class_name)),
        fn_(std::move(fn)),
        direction_(std::move(direction)),
        extra_(std::move(extra_config)),
        mean_({.name = this->name()}) {}

  std::string class_name() const override { return class_name_; }
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override {
    mean_.update_values(fn_(y_true, y_pred), sample_weight);
  }
  // A crossentropy used as a metric reads a softmax's or sigmoid's logits as the loss does
  // (losses::LossImpl::on_logits): its values from them.
  void set_logits_fn(ValuesFn fn) { logits_fn_ = std::move(fn); }
  bool reads_logits() const { return bool(logits_fn_); }
  void update_state_from_logits(const Tensor& y_true, const Tensor& logits, const Tensor& sample_weight) {
    mean_.update_values(logits_fn_(y_true, logits), sample_weight);
  }
  double result() const override { return mean_.result(); }
  void reset_state() override { mean_.reset_state(); }
  std::string direction() const override { return direction_; }
  nlohmann::json get_config() const override {
    auto c = MetricImpl::get_config();
    c.update(extra_);
    return c;
  }

 private:
  std::string class_name_;
  ValuesFn fn_, logits_fn_;
  std::string direction_;
  nlohmann::json extra_;
  Mean mean_;
};

// Metric families from a Keras class name and config; empty when not theirs.
Metric accuracy_from_config(const std::string& class_name, const nlohmann::json& config);
Metric regression_from_config(const std::string& class_name, const nlohmann::json& config);
Metric confusion_from_config(const std::string& class_name, const nlohmann::json& config);

}  // namespace keras::metrics::detail
