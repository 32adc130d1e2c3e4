// Confusion-matrix metrics (keras/src/metrics/confusion_metrics.py, metrics_utils.py):
// Precision, Recall and AUC accumulate weighted true/false positive/negative counts where
// y_pred > threshold counts as a positive prediction.
#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/metrics.h"
#include "metrics/metric_utils.h"
#include "ops/metrics.h"

namespace keras::metrics {

namespace {

constexpr double kEpsilon = 1e-7;

double divide_no_nan(double a, double b) { return b == 0 ? 0.0 : a / b; }

// Confusion counts at each threshold.
struct Counts {
  std::vector<double> tp, fp, tn, fn;
  void resize(size_t n) {
    tp.assign(n, 0);
    fp.assign(n, 0);
    tn.assign(n, 0);
    fn.assign(n, 0);
  }
};

// Adds the weighted counts of (label, prediction) pairs at each threshold (ops::accumulate_confusion).
void accumulate(Counts& c, const std::vector<double>& thresholds, const Tensor& y_true, const Tensor& y_pred,
                const Tensor& sample_weight, Dim class_id = -1, Dim cols = 1) {
  if (y_true.size() != y_pred.size())
    throw ValueError("Shapes " + y_true.shape().str() + " and " + y_pred.shape().str() + " are incompatible");
  Dim n = y_pred.rank() ? y_pred.dim(0) : 1, per = n ? y_pred.size() / n : 0;
  bool elementwise = sample_weight.size() == y_pred.size() && per > 1;
  ops::accumulate_confusion(thresholds.data(), thresholds.size(), y_true.data(), y_pred.data(), y_pred.size(), per,
                            sample_weight.empty() ? nullptr : sample_weight.data(), elementwise, class_id, cols,
                            {c.tp.data(), c.fp.data(), c.tn.data(), c.fn.data()});
}

// Precision or Recall at one threshold, optionally restricted to the top_k predictions of each
// row and to one class.
class PrecisionRecall : public MetricImpl {
 public:
  PrecisionRecall(bool precision, const PrecisionRecallOptions& o)
      : MetricImpl(o.name.empty() ? (precision ? "precision" : "recall") : o.name), precision_(precision), o_(o) {
    // With top_k every kept prediction counts (threshold -inf) unless a threshold is given.
    double t = o.thresholds ? *o.thresholds : o.top_k ? -std::numeric_limits<double>::infinity() : 0.5;
    thresholds_ = {t};
    counts_.resize(1);
  }
  std::string class_name() const override { return precision_ ? "Precision" : "Recall"; }
  std::string direction() const override { return "up"; }

  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override {
    if (y_true.size() != y_pred.size())
      throw ValueError("Shapes " + y_true.shape().str() + " and " + y_pred.shape().str() + " are incompatible");
    Dim c = y_pred.rank() ? y_pred.dim(-1) : 1, rows = c ? y_pred.size() / c : 0;
    // Predictions outside the top k become -inf: negative predictions, never dropped.
    Tensor pred = y_pred;
    if (o_.top_k) ops::keep_top_k(pred.data(), rows, c, *o_.top_k);
    accumulate(counts_, thresholds_, y_true, pred, sample_weight, o_.class_id ? Dim(*o_.class_id) : -1, c);
  }
  double result() const override {
    double tp = counts_.tp[0];
    return divide_no_nan(tp, tp + (precision_ ? counts_.fp[0] : counts_.fn[0]));
  }
  void reset_state() override { counts_.resize(1); }
  nlohmann::json get_config() const override {
    auto c = MetricImpl::get_config();
    c["thresholds"] = o_.thresholds ? nlohmann::json(*o_.thresholds) : nlohmann::json(nullptr);
    c["top_k"] = o_.top_k ? nlohmann::json(*o_.top_k) : nlohmann::json(nullptr);
    c["class_id"] = o_.class_id ? nlohmann::json(*o_.class_id) : nlohmann::json(nullptr);
    return c;
  }

 private:
  bool precision_;
  PrecisionRecallOptions o_;
  std::vector<double> thresholds_;
  Counts counts_;
};

class AUCImpl : public MetricImpl {
 public:
  explicit AUCImpl(const AUCOptions& o) : MetricImpl(o.name), o_(o) {
    if (o.curve != "ROC" && o.curve != "PR")
      throw ValueError("Invalid AUC curve value: \"" + o.curve + "\". Expected values are [\"ROC\", \"PR\"]");
    if (o.summation_method != "interpolation" && o.summation_method != "minoring" && o.summation_method != "majoring")
      throw ValueError("Invalid AUC summation method value: \"" + o.summation_method +
                       "\". Expected values are [\"interpolation\", \"majoring\", \"minoring\"]");
    std::vector<double> inner;
    if (o.thresholds) {
      inner = *o.thresholds;
    } else {
      if (o.num_thresholds <= 1)
        throw ValueError("Argument `num_thresholds` must be an integer > 1. Received: num_thresholds=" +
                         std::to_string(o.num_thresholds));
      for (int i = 0; i < o.num_thresholds - 2; ++i) inner.push_back((i + 1) * 1.0 / (o.num_thresholds - 1));
    }
    thresholds_.push_back(0.0 - kEpsilon);
    thresholds_.insert(thresholds_.end(), inner.begin(), inner.end());
    thresholds_.push_back(1.0 + kEpsilon);
    counts_.resize(thresholds_.size());
  }
  std::string class_name() const override { return "AUC"; }
  std::string direction() const override { return "up"; }

  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override {
    Tensor pred = y_pred;
    if (o_.from_logits) ops::sigmoid_values(pred.data(), pred.size());
    accumulate(counts_, thresholds_, y_true, pred, sample_weight);
  }

  double result() const override {
    const Counts& c = counts_;
    return ops::curve_area(c.tp.data(), c.fp.data(), c.tn.data(), c.fn.data(), thresholds_.size(), o_.curve == "ROC",
                           o_.summation_method.c_str());
  }
  void reset_state() override { counts_.resize(thresholds_.size()); }
  nlohmann::json get_config() const override {
    auto c = MetricImpl::get_config();
    c["num_thresholds"] = thresholds_.size();
    c["curve"] = o_.curve;
    c["summation_method"] = o_.summation_method;
    c["multi_label"] = false;
    c["num_labels"] = nullptr;
    c["label_weights"] = nullptr;
    c["from_logits"] = o_.from_logits;
    std::vector<double> inner(thresholds_.begin() + 1, thresholds_.end() - 1);
    c["thresholds"] = inner;
    return c;
  }

 private:
  AUCOptions o_;
  std::vector<double> thresholds_;
  Counts counts_;
};

}  // namespace

Metric Precision(const PrecisionRecallOptions& o) { return Metric(std::make_shared<PrecisionRecall>(true, o)); }
Metric Recall(const PrecisionRecallOptions& o) { return Metric(std::make_shared<PrecisionRecall>(false, o)); }
Metric AUC(const AUCOptions& o) { return Metric(std::make_shared<AUCImpl>(o)); }

namespace detail {

Metric confusion_from_config(const std::string& class_name, const nlohmann::json& c) {
  std::string name = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : "";
  auto opt_int = [&](const char* k) {
    return c.contains(k) && c[k].is_number_integer() ? std::optional<int>(c[k].get<int>()) : std::nullopt;
  };
  if (class_name == "Precision" || class_name == "Recall") {
    PrecisionRecallOptions o{
        .thresholds = {}, .top_k = opt_int("top_k"), .class_id = opt_int("class_id"), .name = name};
    if (c.contains("thresholds") && c["thresholds"].is_number()) o.thresholds = c["thresholds"].get<double>();
    return class_name == "Precision" ? Precision(o) : Recall(o);
  }
  if (class_name == "AUC") {
    AUCOptions o;
    if (!name.empty()) o.name = name;
    if (auto n = opt_int("num_thresholds")) o.num_thresholds = *n;
    if (c.contains("curve") && c["curve"].is_string()) o.curve = c["curve"].get<std::string>();
    if (c.contains("summation_method") && c["summation_method"].is_string())
      o.summation_method = c["summation_method"].get<std::string>();
    if (c.contains("from_logits") && c["from_logits"].is_boolean()) o.from_logits = c["from_logits"].get<bool>();
    if (c.contains("thresholds") && c["thresholds"].is_array())
      o.thresholds = c["thresholds"].get<std::vector<double>>();
    return AUC(o);
  }
  return {};
}

}  // namespace detail

}  // namespace keras::metrics
