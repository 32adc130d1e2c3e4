// keras.regularizers and keras.constraints (keras/src/regularizers/regularizers.py,
// keras/src/constraints/constraints.py): arguments, configs and lookup by name; the arithmetic
// is in ops/regularizers.h.
#include "keras/regularizers.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "ops/regularizers.h"

namespace keras {

namespace {

double number_or(const nlohmann::json& c, const char* key, double fallback) {
  return c.contains(key) && c[key].is_number() ? c[key].get<double>() : fallback;
}

// A serialized regularizer or constraint: a name (keras.regularizers.get's strings), Keras 3's
// and tf.keras 2's {"class_name", "config"}, or Keras 1's {"name", ...arguments}.
struct Identified {
  std::string name;
  nlohmann::json config = nlohmann::json::object();
};
Identified identify(const nlohmann::json& config, const std::string& what) {
  Identified id;
  if (config.is_string()) {
    id.name = config.get<std::string>();
  } else if (config.is_object() && config.contains("class_name") && config["class_name"].is_string()) {
    id.name = config["class_name"].get<std::string>();
    if (config.contains("config") && config["config"].is_object()) id.config = config["config"];
  } else if (config.is_object() && config.contains("name") && config["name"].is_string()) {
    id.name = config["name"].get<std::string>();
    id.config = config;
  } else {
    throw ValueError("Could not interpret " + what + " identifier: " + config.dump());
  }
  return id;
}

}  // namespace

namespace regularizers {

namespace {

double non_negative_arg(double v, const char* name) {
  if (!std::isfinite(v) || v < 0)
    throw ValueError(std::string("Invalid value for argument ") + name +
                     ": expected a non-negative float.Received: " + name + "=" + std::to_string(v));
  return v;
}

class L1L2Impl : public RegularizerImpl {
 public:
  L1L2Impl(std::string class_name, double l1, double l2)
      : class_name_(std::move(class_name)), l1_(non_negative_arg(l1, "l1")), l2_(non_negative_arg(l2, "l2")) {}
  std::string class_name() const override { return class_name_; }
  double penalty(const Tensor& x, Tensor* grad) const override {
    return ops::l1_l2_penalty(x.data(), x.size(), l1_, l2_, grad ? grad->data() : nullptr);
  }
  nlohmann::json get_config() const override {
    if (class_name_ == "L1") return {{"l1", l1_}};
    if (class_name_ == "L2") return {{"l2", l2_}};
    return {{"l1", l1_}, {"l2", l2_}};
  }

 private:
  std::string class_name_;
  double l1_, l2_;
};

class OrthogonalImpl : public RegularizerImpl {
 public:
  OrthogonalImpl(double factor, std::string mode)
      : factor_(non_negative_arg(factor, "factor")), mode_(std::move(mode)) {
    if (mode_ != "rows" && mode_ != "columns")
      throw ValueError("Invalid value for argument `mode`. Expected one of {\"rows\", \"columns\"}. Received: mode=" +
                       mode_);
  }
  std::string class_name() const override { return "OrthogonalRegularizer"; }
  double penalty(const Tensor& x, Tensor* grad) const override {
    if (x.rank() != 2)
      throw ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape=" + x.shape().str());
    return ops::orthogonal_penalty(x.data(), x.dim(0), x.dim(1), mode_ == "rows", factor_,
                                   grad ? grad->data() : nullptr);
  }
  nlohmann::json get_config() const override { return {{"factor", factor_}, {"mode", mode_}}; }

 private:
  double factor_;
  std::string mode_;
};

}  // namespace

Regularizer L1(double l1) { return Regularizer(std::make_shared<L1L2Impl>("L1", l1, 0.0)); }
Regularizer L2(double l2) { return Regularizer(std::make_shared<L1L2Impl>("L2", 0.0, l2)); }
Regularizer L1L2(double l1, double l2) { return Regularizer(std::make_shared<L1L2Impl>("L1L2", l1, l2)); }
Regularizer OrthogonalRegularizer(double factor, const std::string& mode) {
  return Regularizer(std::make_shared<OrthogonalImpl>(factor, mode));
}

Regularizer::Regularizer(const char* identifier) : Regularizer(std::string(identifier)) {}
Regularizer::Regularizer(const std::string& identifier) : Regularizer(deserialize(nlohmann::json(identifier))) {}

Regularizer deserialize(const nlohmann::json& config) {
  if (config.is_null()) return {};
  auto [name, c] = identify(config, "regularizer");  // Keras 1: {"name": "WeightRegularizer", "l1", "l2"}
  if (name == "L1" || name == "l1") return L1(number_or(c, "l1", 0.01));
  if (name == "L2" || name == "l2") return L2(number_or(c, "l2", 0.01));
  if (name == "L1L2" || name == "l1_l2" || name == "WeightRegularizer" || name == "L1L2Regularizer")
    return L1L2(number_or(c, "l1", 0.0), number_or(c, "l2", 0.0));
  if (name == "OrthogonalRegularizer" || name == "orthogonal_regularizer")
    return OrthogonalRegularizer(number_or(c, "factor", 0.01),
                                 c.contains("mode") && c["mode"].is_string() ? c["mode"].get<std::string>() : "rows");
  throw ValueError("Could not interpret regularizer identifier: " + name);
}

nlohmann::json serialize(const Regularizer& r) {
  if (!r) return nullptr;
  return {{"module", "keras.regularizers"},
          {"class_name", r->class_name()},
          {"config", r->get_config()},
          {"registered_name", nullptr}};
}

}  // namespace regularizers

namespace constraints {

namespace {

// Keras's axis: an int or a list of ints (the axes the norms reduce).
nlohmann::json axis_config(const std::vector<int>& axis) {
  return axis.size() == 1 ? nlohmann::json(axis[0]) : nlohmann::json(axis);
}

class NormImpl : public ConstraintImpl {
 public:
  NormImpl(std::string class_name, ops::NormConstraint c, std::vector<int> axis)
      : class_name_(std::move(class_name)), c_(c), axis_(std::move(axis)) {}
  std::string class_name() const override { return class_name_; }
  void apply(Tensor& w) const override {
    std::vector<bool> reduced(static_cast<size_t>(w.rank()), false);
    for (int a : axis_) {
      if (a < -w.rank() || a >= w.rank())
        throw ValueError(class_name_ + ": axis " + std::to_string(a) + " is out of bounds for a weight of shape " +
                         w.shape().str());
      reduced[static_cast<size_t>(a < 0 ? a + w.rank() : a)] = true;
    }
    ops::norm_constraint(w.data(), w.shape(), reduced, c_);
  }
  nlohmann::json get_config() const override {
    if (class_name_ == "UnitNorm") return {{"axis", axis_config(axis_)}};
    if (class_name_ == "MaxNorm") return {{"max_value", c_.max_value}, {"axis", axis_config(axis_)}};
    return {{"min_value", c_.min_value}, {"max_value", c_.max_value}, {"rate", c_.rate}, {"axis", axis_config(axis_)}};
  }

 private:
  std::string class_name_;
  ops::NormConstraint c_;
  std::vector<int> axis_;
};

class NonNegImpl : public ConstraintImpl {
 public:
  std::string class_name() const override { return "NonNeg"; }
  void apply(Tensor& w) const override { ops::non_negative(w.data(), w.size()); }
  nlohmann::json get_config() const override { return nlohmann::json::object(); }
};

std::vector<int> axis_of(const nlohmann::json& c) {
  if (!c.contains("axis")) return {0};
  const nlohmann::json& a = c["axis"];
  if (a.is_number_integer()) return {a.get<int>()};
  if (a.is_array() && !a.empty() &&
      std::all_of(a.begin(), a.end(), [](const auto& e) { return e.is_number_integer(); }))
    return a.get<std::vector<int>>();
  throw ValueError("A constraint's `axis` must be an integer or a list of integers, received: " + a.dump());
}

}  // namespace

Constraint MaxNorm(double max_value, std::vector<int> axis) {
  return Constraint(std::make_shared<NormImpl>("MaxNorm", ops::NormConstraint{0.0, max_value, 1.0}, std::move(axis)));
}
Constraint MinMaxNorm(double min_value, double max_value, double rate, std::vector<int> axis) {
  return Constraint(
      std::make_shared<NormImpl>("MinMaxNorm", ops::NormConstraint{min_value, max_value, rate}, std::move(axis)));
}
Constraint NonNeg() { return Constraint(std::make_shared<NonNegImpl>()); }
Constraint UnitNorm(std::vector<int> axis) {
  return Constraint(std::make_shared<NormImpl>("UnitNorm", ops::NormConstraint{.unit = true}, std::move(axis)));
}

Constraint::Constraint(const char* identifier) : Constraint(std::string(identifier)) {}
Constraint::Constraint(const std::string& identifier) : Constraint(deserialize(nlohmann::json(identifier))) {}

Constraint deserialize(const nlohmann::json& config) {
  if (config.is_null()) return {};
  auto [name, c] = identify(config, "constraint");
  if (c.contains("m") && !c.contains("max_value")) c["max_value"] = c["m"];  // Keras 1's MaxNorm(m)
  if (name == "MaxNorm" || name == "max_norm" || name == "maxnorm")
    return MaxNorm(number_or(c, "max_value", 2.0), axis_of(c));
  if (name == "MinMaxNorm" || name == "min_max_norm")
    return MinMaxNorm(number_or(c, "min_value", 0.0), number_or(c, "max_value", 1.0), number_or(c, "rate", 1.0),
                      axis_of(c));
  if (name == "NonNeg" || name == "non_neg" || name == "nonneg") return NonNeg();
  if (name == "UnitNorm" || name == "unit_norm" || name == "unitnorm") return UnitNorm(axis_of(c));
  throw ValueError("Could not interpret constraint identifier: " + name);
}

nlohmann::json serialize(const Constraint& c) {
  if (!c) return nullptr;
  return {{"module", "keras.constraints"},
          {"class_name", c->class_name()},
          {"config", c->get_config()},
          {"registered_name", nullptr}};
}

}  // namespace constraints

}  // namespace keras
