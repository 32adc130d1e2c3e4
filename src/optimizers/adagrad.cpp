// Adagrad and Adadelta (keras/src/optimizers/{adagrad,adadelta}.py).
#include <nlohmann/json.hpp>

#include "keras/optimizers.h"
#include "ops/op.h"
#include "optimizers/optimizer_utils.h"

namespace keras::optimizers {

namespace {

class AdagradImpl : public OptimizerImpl {
 public:
  explicit AdagradImpl(const AdagradOptions& o)
      : OptimizerImpl(o.name, o.learning_rate, {o.weight_decay, o.clipnorm, o.clipvalue, o.global_clipnorm}), o_(o) {}
  std::string class_name() const override { return "Adagrad"; }
  nlohmann::json get_config() const override {
    auto c = OptimizerImpl::get_config();
    c["initial_accumulator_value"] = o_.initial_accumulator_value;
    c["epsilon"] = o_.epsilon;
    return c;
  }

 protected:
  void build_slots(const std::vector<Shape>& shapes) override {
    for (size_t i = 0; i < shapes.size(); ++i)
      acc_.push_back(add_slot(i, "accumulator", static_cast<float>(o_.initial_accumulator_value)));
  }
  bool describe_update(size_t index, double lr, ops::UpdateOp& op, std::vector<Tensor*>& slots) override {
    op = {.kind = ops::UpdateOp::Kind::kAdagrad, .learning_rate = lr, .epsilon = o_.epsilon};
    slots = {&slot(acc_[index])};
    return true;
  }

 private:
  AdagradOptions o_;
  std::vector<size_t> acc_;
};

class AdadeltaImpl : public OptimizerImpl {
 public:
  explicit AdadeltaImpl(const AdadeltaOptions& o)
      : OptimizerImpl(o.name, o.learning_rate, {o.weight_decay, o.clipnorm, o.clipvalue, o.global_clipnorm}), o_(o) {}
  std::string class_name() const override { return "Adadelta"; }
  nlohmann::json get_config() const override {
    auto c = OptimizerImpl::get_config();
    c["rho"] = o_.rho;
    c["epsilon"] = o_.epsilon;
    return c;
  }

 protected:
  void build_slots(const std::vector<Shape>& shapes) override {
    for (size_t i = 0; i < shapes.size(); ++i) {  // interleaved per variable, as Keras
      grads_.push_back(add_slot(i, "accumulated_grad"));
      deltas_.push_back(add_slot(i, "accumulated_delta_var"));
    }
  }
  // E[g^2] = rho E[g^2] + (1 - rho) g^2; d = -sqrt(E[d^2] + eps) g / sqrt(E[g^2] + eps);
  // E[d^2] = rho E[d^2] + (1 - rho) d^2; w += lr d.
  bool describe_update(size_t index, double lr, ops::UpdateOp& op, std::vector<Tensor*>& slots) override {
    op = {.kind = ops::UpdateOp::Kind::kAdadelta, .learning_rate = lr, .epsilon = o_.epsilon, .rho = o_.rho};
    slots = {&slot(grads_[index]), &slot(deltas_[index])};
    return true;
  }

 private:
  AdadeltaOptions o_;
  std::vector<size_t> grads_, deltas_;
};

}  // namespace

Optimizer Adagrad(const AdagradOptions& options) { return Optimizer(std::make_shared<AdagradImpl>(options)); }
Optimizer Adadelta(const AdadeltaOptions& options) { return Optimizer(std::make_shared<AdadeltaImpl>(options)); }

namespace detail {

Optimizer adagrad_from_config(const std::string& lower_class, const nlohmann::json& c) {
  CommonOptions k = common_from_config(c);
  LearningRate lr = learning_rate_or(c, 0.001);
  double eps = double_or(c, "epsilon", 1e-7);
  if (lower_class == "adagrad")
    return Adagrad({lr, double_or(c, "initial_accumulator_value", 0.1), eps, k.weight_decay, k.clipnorm, k.clipvalue,
                    k.global_clipnorm, name_or(c, "adagrad")});
  if (lower_class == "adadelta")
    return Adadelta({lr, double_or(c, "rho", 0.95), eps, k.weight_decay, k.clipnorm, k.clipvalue, k.global_clipnorm,
                     name_or(c, "adadelta")});
  return {};
}

}  // namespace detail

}  // namespace keras::optimizers
