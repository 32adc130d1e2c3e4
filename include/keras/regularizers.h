#pragma once
// Weight regularizers (keras.regularizers) and constraints (keras.constraints), with Keras's
// names, arguments, defaults and formulas. A layer holds them per weight
// (LayerImpl::set_regularizer/set_constraint, or the `<weight>_regularizer` /
// `<weight>_constraint` entries of its config); fit() adds each trainable weight's penalty to the
// loss (and the logged loss, as Keras) and its gradient to the weight's, and projects the weight
// through its constraint after every optimizer step.
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "keras/tensor.h"

namespace keras::regularizers {

class RegularizerImpl {
 public:
  virtual ~RegularizerImpl() = default;
  virtual std::string class_name() const = 0;
  // The penalty of x (Keras's regularizer(x)) and, when `grad` is given, its gradient added to it.
  virtual double penalty(const Tensor& x, Tensor* grad) const = 0;
  virtual nlohmann::json get_config() const = 0;
};

// A shared handle; a string is looked up as keras.regularizers.get() does ("l1", "l2", "l1_l2",
// "orthogonal_regularizer" or a class name).
class Regularizer {
 public:
  Regularizer() = default;
  Regularizer(const char* identifier);                                                  // NOLINT
  Regularizer(const std::string& identifier);                                           // NOLINT
  Regularizer(std::shared_ptr<const RegularizerImpl> impl) : impl_(std::move(impl)) {}  // NOLINT
  const RegularizerImpl* operator->() const { return impl_.get(); }
  explicit operator bool() const { return impl_ != nullptr; }

 private:
  std::shared_ptr<const RegularizerImpl> impl_;
};

// l1 * sum(|x|) + l2 * sum(x^2).
Regularizer L1(double l1 = 0.01);
Regularizer L2(double l2 = 0.01);
Regularizer L1L2(double l1 = 0.0, double l2 = 0.0);
// factor * 0.5 * sum over pairs i != j of |cos(row_i, row_j)| / (pairs), rows or columns of a
// rank-2 weight (mode "rows" or "columns").
Regularizer OrthogonalRegularizer(double factor = 0.01, const std::string& mode = "rows");

// From a serialized form: a string, Keras 3's {"module", "class_name", "config"}, tf.keras 2's
// {"class_name", "config"}, or Keras 1's {"name": "WeightRegularizer", "l1", "l2"}.
Regularizer deserialize(const nlohmann::json& config);
// Keras 3's serialized form ({"module": "keras.regularizers", "class_name", "config", ...}).
nlohmann::json serialize(const Regularizer& r);

}  // namespace keras::regularizers

namespace keras::constraints {

class ConstraintImpl {
 public:
  virtual ~ConstraintImpl() = default;
  virtual std::string class_name() const = 0;
  // Projects w in place (Keras's w = constraint(w)).
  virtual void apply(Tensor& w) const = 0;
  virtual nlohmann::json get_config() const = 0;
};

class Constraint {
 public:
  Constraint() = default;
  Constraint(const char* identifier);         // NOLINT: "max_norm", "non_neg", "unit_norm"...
  Constraint(const std::string& identifier);  // NOLINT
  Constraint(std::shared_ptr<const ConstraintImpl> impl) : impl_(std::move(impl)) {}  // NOLINT
  const ConstraintImpl* operator->() const { return impl_.get(); }
  explicit operator bool() const { return impl_ != nullptr; }

 private:
  std::shared_ptr<const ConstraintImpl> impl_;
};

// The norms of w over `axis` (Keras's axis argument: the axes reduced) scaled to at most
// max_value: w * clip(norms, 0, max_value) / (epsilon + norms).
Constraint MaxNorm(double max_value = 2.0, std::vector<int> axis = {0});
// w * (rate * clip(norms, min_value, max_value) + (1 - rate) * norms) / (epsilon + norms).
Constraint MinMaxNorm(double min_value = 0.0, double max_value = 1.0, double rate = 1.0, std::vector<int> axis = {0});
// w * (w >= 0).
Constraint NonNeg();
// w / (epsilon + norms).
Constraint UnitNorm(std::vector<int> axis = {0});

Constraint deserialize(const nlohmann::json& config);
nlohmann::json serialize(const Constraint& c);

}  // namespace keras::constraints
