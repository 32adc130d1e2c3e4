// Confusion-matrix metrics (keras/src/metrics/confusion_metrics.py, metrics_utils.py):
// Precision, Recall and AUC accumulate weighted true/false positive/negative counts where
// y_pred > threshold counts as a positive prediction.
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/metrics.h"
#include "metrics/metric_utils.h"

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

// Adds the weighted counts of (label, prediction) pairs at each threshold.
void accumulate(Counts& c, const std::vector<double>& thresholds, const Tensor& y_true, const Tensor& y_pred,
                const Tensor& sample_weight, const std::vector<bool>* keep = nullptr) {
  if (y_true.size() != y_pred.size())
    throw ValueError("Shapes " + y_true.shape().str() + " and " + y_pred.shape().str() + " are incompatible");
  Dim n = y_pred.rank() ? y_pred.dim(0) : 1, per = n ? y_pred.size() / n : 0;
  bool elementwise = sample_weight.size() == y_pred.size() && per > 1;
  for (Dim i = 0; i < y_pred.size(); ++i) {
    if (keep && !(*keep)[size_t(i)]) continue;
    double w = sample_weight.empty() ? 1.0 : elementwise ? sample_weight[i] : sample_weight[per ? i / per : 0];
    bool label = y_true[i] != 0.0f;
    for (size_t k = 0; k < thresholds.size(); ++k) {
      bool pred = y_pred[i] > thresholds[k];
      (label ? (pred ? c.tp : c.fn) : (pred ? c.fp : c.tn))[k] += w;
    }
  }
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
    std::vector<bool> keep(size_t(y_pred.size()), true);
    if (o_.top_k) {
      for (Dim r = 0; r < rows; ++r)
        for (Dim j = 0; j < c; ++j) {
          Dim higher = 0;
          for (Dim q = 0; q < c; ++q) higher += y_pred[r * c + q] > y_pred[r * c + j];
          // Predictions outside the top k become -inf: negative predictions, never dropped.
          if (higher >= *o_.top_k) keep[size_t(r * c + j)] = false;
        }
    }
    Tensor pred = y_pred;
    for (Dim i = 0; i < pred.size(); ++i)
      if (!keep[size_t(i)]) pred[i] = -std::numeric_limits<float>::infinity();
    if (o_.class_id) {
      std::vector<bool> only(size_t(pred.size()), false);
      for (Dim r = 0; r < rows; ++r) only[size_t(r * c + *o_.class_id)] = true;
      accumulate(counts_, thresholds_, y_true, pred, sample_weight, &only);
    } else {
      accumulate(counts_, thresholds_, y_true, pred, sample_weight);
    }
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
    if (o_.from_logits)
      for (float& v : pred.values()) v = static_cast<float>(1.0 / (1.0 + std::exp(-double(v))));
    accumulate(counts_, thresholds_, y_true, pred, sample_weight);
  }

  double result() const override {
    size_t n = thresholds_.size();
    const Counts& c = counts_;
    if (o_.curve == "PR" && o_.summation_method == "interpolation") return interpolate_pr_auc();
    std::vector<double> x(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      double recall = divide_no_nan(c.tp[i], c.tp[i] + c.fn[i]);
      if (o_.curve == "ROC") {
        x[i] = divide_no_nan(c.fp[i], c.fp[i] + c.tn[i]);
        y[i] = recall;
      } else {
        x[i] = recall;
        y[i] = divide_no_nan(c.tp[i], c.tp[i] + c.fp[i]);
      }
    }
    double sum = 0;
    for (size_t i = 0; i + 1 < n; ++i) {
      double h = o_.summation_method == "interpolation" ? (y[i] + y[i + 1]) / 2
                 : o_.summation_method == "minoring"    ? std::min(y[i], y[i + 1])
                                                        : std::max(y[i], y[i + 1]);
      sum += (x[i] - x[i + 1]) * h;
    }
    return sum;
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
  // Davis & Goadrich's interpolation of the PR curve (metrics AUC.interpolate_pr_auc).
  double interpolate_pr_auc() const {
    const Counts& c = counts_;
    double sum = 0;
    for (size_t i = 0; i + 1 < thresholds_.size(); ++i) {
      double dtp = c.tp[i] - c.tp[i + 1];
      double p0 = c.tp[i] + c.fp[i], p1 = c.tp[i + 1] + c.fp[i + 1];
      double slope = divide_no_nan(dtp, std::max(p0 - p1, 0.0));
      double intercept = c.tp[i + 1] - slope * p1;
      double ratio = (p0 > 0 && p1 > 0) ? divide_no_nan(p0, std::max(p1, 0.0)) : 1.0;
      sum += divide_no_nan(slope * (dtp + intercept * std::log(ratio)), std::max(c.tp[i + 1] + c.fn[i + 1], 0.0));
    }
    return sum;
  }

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
