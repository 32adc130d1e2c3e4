// Losses that compare y_true and y_pred element by element, then average over the last
// axis (keras/src/losses/losses.py: mean_squared_error ... huber, hinge, poisson).
#include <cmath>
#include <nlohmann/json.hpp>

#include "keras/losses.h"
#include "losses/loss_utils.h"

namespace keras::losses {

namespace {

using detail::kEpsilon;

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
const ElementFns kHinge{[](double t, double p, double) { return std::max(1 - t * p, 0.0); },
                        [](double t, double p, double) { return 1 - t * p > 0 ? -t : 0.0; }};
const ElementFns kSquaredHinge{[](double t, double p, double) { return std::pow(std::max(1 - t * p, 0.0), 2); },
                               [](double t, double p, double) { return -2 * t * std::max(1 - t * p, 0.0); }};
const ElementFns kHuber{[](double t, double p, double delta) {
                          double e = p - t;
                          return std::abs(e) <= delta ? 0.5 * e * e : delta * std::abs(e) - 0.5 * delta * delta;
                        },
                        [](double t, double p, double delta) {
                          double e = p - t;
                          return std::abs(e) <= delta ? e : delta * sign(e);
                        }};
const ElementFns kPoisson{[](double t, double p, double) { return p - t * std::log(p + kEpsilon); },
                          [](double t, double p, double) { return 1 - t / (p + kEpsilon); }};

class ElementwiseLoss : public LossImpl {
 public:
  ElementwiseLoss(std::string class_name, const LossOptions& o, ElementFns fns, double arg = 0, bool hinge = false)
      : LossImpl(o.name, o.reduction), class_name_(std::move(class_name)), fns_(fns), arg_(arg), hinge_(hinge) {}
  std::string class_name() const override { return class_name_; }

  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override {
    Tensor t = labels(y_true, y_pred);
    auto [rows, c] = detail::rows_of(y_pred);
    Tensor out(detail::reduced_shape(y_pred.shape()));
    for (Dim r = 0; r < rows; ++r) {
      double sum = 0;
      for (Dim j = r * c; j < (r + 1) * c; ++j) sum += fns_.value(t[j], y_pred[j], arg_);
      out[r] = static_cast<float>(sum / double(c));
    }
    return out;
  }

  Tensor call_grad(const Tensor& y_true, const Tensor& y_pred, const Tensor& upstream) const override {
    Tensor t = labels(y_true, y_pred);
    auto [rows, c] = detail::rows_of(y_pred);
    Tensor grad(y_pred.shape());
    for (Dim r = 0; r < rows; ++r)
      for (Dim j = r * c; j < (r + 1) * c; ++j)
        grad[j] = static_cast<float>(upstream[r] * fns_.deriv(t[j], y_pred[j], arg_) / double(c));
    return grad;
  }

  nlohmann::json get_config() const override {
    auto c = LossImpl::get_config();
    if (fns_.value == kHuber.value) c["delta"] = arg_;
    return c;
  }

 private:
  // y_true matched to y_pred's shape; hinge losses turn {0, 1} labels into {-1, 1}.
  Tensor labels(const Tensor& y_true, const Tensor& y_pred) const {
    Tensor t = detail::match_true_to_pred(y_true, y_pred);
    if (hinge_) {
      bool binary = true;
      for (float v : t.values()) binary = binary && (v == 0.0f || v == 1.0f);
      if (binary)
        for (float& v : t.values()) v = 2 * v - 1;
    }
    return t;
  }

  std::string class_name_;
  ElementFns fns_;
  double arg_;
  bool hinge_;
};

LossOptions named(const LossOptions& o, const char* default_name) {
  LossOptions r = o;
  if (r.name.empty()) r.name = default_name;
  return r;
}

Loss make(const char* class_name, const LossOptions& o, const char* default_name, ElementFns fns, bool hinge = false) {
  return Loss(std::make_shared<ElementwiseLoss>(class_name, named(o, default_name), fns, 0.0, hinge));
}

}  // namespace

Loss MeanSquaredError(const LossOptions& o) { return make("MeanSquaredError", o, "mean_squared_error", kSquared); }
Loss MeanAbsoluteError(const LossOptions& o) { return make("MeanAbsoluteError", o, "mean_absolute_error", kAbsolute); }
Loss MeanAbsolutePercentageError(const LossOptions& o) {
  return make("MeanAbsolutePercentageError", o, "mean_absolute_percentage_error", kPercentage);
}
Loss MeanSquaredLogarithmicError(const LossOptions& o) {
  return make("MeanSquaredLogarithmicError", o, "mean_squared_logarithmic_error", kSquaredLog);
}
Loss LogCosh(const LossOptions& o) { return make("LogCosh", o, "log_cosh", kLogCosh); }
Loss Hinge(const LossOptions& o) { return make("Hinge", o, "hinge", kHinge, true); }
Loss SquaredHinge(const LossOptions& o) { return make("SquaredHinge", o, "squared_hinge", kSquaredHinge, true); }
Loss Poisson(const LossOptions& o) { return make("Poisson", o, "poisson", kPoisson); }
Loss Huber(const HuberOptions& o) {
  return Loss(std::make_shared<ElementwiseLoss>("Huber", LossOptions{o.reduction, o.name}, kHuber, o.delta));
}

namespace detail {

Loss elementwise_from_config(const std::string& class_name, const nlohmann::json& c) {
  struct Entry {
    const char* class_name;
    const char* default_name;
    Loss (*make)(const LossOptions&);
  };
  static const Entry entries[] = {
      {"MeanSquaredError", "mean_squared_error", MeanSquaredError},
      {"MeanAbsoluteError", "mean_absolute_error", MeanAbsoluteError},
      {"MeanAbsolutePercentageError", "mean_absolute_percentage_error", MeanAbsolutePercentageError},
      {"MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", MeanSquaredLogarithmicError},
      {"LogCosh", "log_cosh", LogCosh},
      {"Hinge", "hinge", Hinge},
      {"SquaredHinge", "squared_hinge", SquaredHinge},
      {"Poisson", "poisson", Poisson},
  };
  for (const Entry& e : entries)
    if (class_name == e.class_name) return e.make(loss_options_from_config(c, e.default_name));
  if (class_name == "Huber") {
    auto base = loss_options_from_config(c, "huber_loss");
    double delta = c.contains("delta") && c["delta"].is_number() ? c["delta"].get<double>() : 1.0;
    return Huber({delta, base.reduction, base.name});
  }
  return {};
}

}  // namespace detail

}  // namespace keras::losses
