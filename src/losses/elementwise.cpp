// Losses that compare y_true and y_pred element by element, then average over the last
// axis (keras/src/losses/losses.py: mean_squared_error ... huber, hinge, poisson).
#include <nlohmann/json.hpp>

#include "keras/losses.h"
#include "losses/loss_utils.h"
#include "ops/losses.h"

namespace keras::losses {

namespace {

using Kind = ops::LossOp::Kind;

// The loss of each element of y_pred against y_true's (ops::LossOp), averaged over the last axis.
class ElementwiseLoss : public LossImpl {
 public:
  ElementwiseLoss(std::string class_name, const LossOptions& o, Kind kind, double delta = 1.0)
      : LossImpl(o.name, o.reduction), class_name_(std::move(class_name)), kind_(kind), delta_(delta) {}
  std::string class_name() const override { return class_name_; }

  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override {
    Tensor t = detail::match_true_to_pred(y_true, y_pred);
    Tensor out(detail::reduced_shape(y_pred.shape()));
    ops::loss_forward(op(y_pred), t.data(), y_pred.data(), out.data());
    return out;
  }

  Tensor call_grad(const Tensor& y_true, const Tensor& y_pred, const Tensor& upstream) const override {
    Tensor t = detail::match_true_to_pred(y_true, y_pred);
    Tensor grad(y_pred.shape());
    ops::loss_backward(op(y_pred), t.data(), y_pred.data(), upstream.data(), grad.data());
    return grad;
  }

  nlohmann::json get_config() const override {
    auto c = LossImpl::get_config();
    if (kind_ == Kind::kHuber) c["delta"] = delta_;
    return c;
  }

 private:
  ops::LossOp op(const Tensor& y_pred) const {
    auto [rows, c] = detail::rows_of(y_pred);
    return {.kind = kind_, .rows = rows, .cols = c, .delta = delta_};
  }

  std::string class_name_;
  Kind kind_;
  double delta_;
};

LossOptions named(const LossOptions& o, const char* default_name) {
  LossOptions r = o;
  if (r.name.empty()) r.name = default_name;
  return r;
}

Loss make(const char* class_name, const LossOptions& o, const char* default_name, Kind kind) {
  return Loss(std::make_shared<ElementwiseLoss>(class_name, named(o, default_name), kind));
}

}  // namespace

Loss MeanSquaredError(const LossOptions& o) {
  return make("MeanSquaredError", o, "mean_squared_error", Kind::kMeanSquaredError);
}
Loss MeanAbsoluteError(const LossOptions& o) {
  return make("MeanAbsoluteError", o, "mean_absolute_error", Kind::kMeanAbsoluteError);
}
Loss MeanAbsolutePercentageError(const LossOptions& o) {
  return make("MeanAbsolutePercentageError", o, "mean_absolute_percentage_error", Kind::kMeanAbsolutePercentageError);
}
Loss MeanSquaredLogarithmicError(const LossOptions& o) {
  return make("MeanSquaredLogarithmicError", o, "mean_squared_logarithmic_error", Kind::kMeanSquaredLogarithmicError);
}
Loss LogCosh(const LossOptions& o) { return make("LogCosh", o, "log_cosh", Kind::kLogCosh); }
Loss Hinge(const LossOptions& o) { return make("Hinge", o, "hinge", Kind::kHinge); }
Loss SquaredHinge(const LossOptions& o) { return make("SquaredHinge", o, "squared_hinge", Kind::kSquaredHinge); }
Loss Poisson(const LossOptions& o) { return make("Poisson", o, "poisson", Kind::kPoisson); }
Loss Huber(const HuberOptions& o) {
  return Loss(std::make_shared<ElementwiseLoss>("Huber", LossOptions{o.reduction, o.name}, Kind::kHuber, o.delta));
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
