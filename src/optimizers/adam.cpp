// The Adam family: Adam, AdamW, Adamax, Nadam (keras/src/optimizers/{adam,adamw,adamax,nadam}.py).
#include <cmath>
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/optimizers.h"
#include "ops/op.h"
#include "optimizers/optimizer_utils.h"

namespace keras::optimizers {

namespace {

struct AdamArgs {
  double beta_1, beta_2, epsilon;
  bool amsgrad;
};

// Adam, and AdamW (the same update; the base class applies the decoupled weight decay).
class AdamImpl : public OptimizerImpl {
 public:
  AdamImpl(std::string class_name, std::string name, LearningRate lr, const CommonOptions& common, AdamArgs a)
      : OptimizerImpl(std::move(name), std::move(lr), common), class_name_(std::move(class_name)), a_(a) {}
  std::string class_name() const override { return class_name_; }
  nlohmann::json get_config() const override {
    auto c = OptimizerImpl::get_config();
    c["beta_1"] = a_.beta_1;
    c["beta_2"] = a_.beta_2;
    c["epsilon"] = a_.epsilon;
    c["amsgrad"] = a_.amsgrad;
    return c;
  }

 protected:
  void build_slots(const std::vector<Shape>& shapes) override {
    // Keras's add_optimizer_variables(var_list, ["momentum", "velocity"]): both slots of a
    // variable together (the order of optimizer/vars in saved files).
    for (size_t i = 0; i < shapes.size(); ++i) {
      m_.push_back(add_slot(i, "momentum"));
      v_.push_back(add_slot(i, "velocity"));
    }
    if (a_.amsgrad)
      for (size_t i = 0; i < shapes.size(); ++i) vhat_.push_back(add_slot(i, "velocity_hat"));
  }

  // alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t).
  bool describe_update(size_t index, double lr, ops::UpdateOp& op, std::vector<Tensor*>& slots) override {
    double t = double(iterations() + 1);
    op = {.kind = ops::UpdateOp::Kind::kAdam,
          .learning_rate = lr,
          .beta_1 = a_.beta_1,
          .beta_2 = a_.beta_2,
          .epsilon = a_.epsilon,
          .amsgrad = a_.amsgrad};
    op.step[0] = lr * std::sqrt(1 - std::pow(a_.beta_2, t)) / (1 - std::pow(a_.beta_1, t));
    slots = {&slot(m_[index]), &slot(v_[index])};
    if (a_.amsgrad) slots.push_back(&slot(vhat_[index]));
    return true;
  }

 private:
  std::string class_name_;
  AdamArgs a_;
  std::vector<size_t> m_, v_, vhat_;
};

class AdamaxImpl : public OptimizerImpl {
 public:
  explicit AdamaxImpl(const AdamaxOptions& o)
      : OptimizerImpl(o.name, o.learning_rate, {o.weight_decay, o.clipnorm, o.clipvalue, o.global_clipnorm}), o_(o) {}
  std::string class_name() const override { return "Adamax"; }
  nlohmann::json get_config() const override {
    auto c = OptimizerImpl::get_config();
    c["beta_1"] = o_.beta_1;
    c["beta_2"] = o_.beta_2;
    c["epsilon"] = o_.epsilon;
    return c;
  }

 protected:
  // Keras interleaves the two slots per variable.
  void build_slots(const std::vector<Shape>& shapes) override {
    for (size_t i = 0; i < shapes.size(); ++i) {
      m_.push_back(add_slot(i, "momentum"));
      u_.push_back(add_slot(i, "norm"));
    }
  }

  bool describe_update(size_t index, double lr, ops::UpdateOp& op, std::vector<Tensor*>& slots) override {
    op = {.kind = ops::UpdateOp::Kind::kAdamax,
          .learning_rate = lr,
          .beta_1 = o_.beta_1,
          .beta_2 = o_.beta_2,
          .epsilon = o_.epsilon};
    op.step[0] = 1 - std::pow(o_.beta_1, double(iterations() + 1));
    slots = {&slot(m_[index]), &slot(u_[index])};
    return true;
  }

 private:
  AdamaxOptions o_;
  std::vector<size_t> m_, u_;
};

class NadamImpl : public OptimizerImpl {
 public:
  explicit NadamImpl(const NadamOptions& o)
      : OptimizerImpl(o.name, o.learning_rate, {o.weight_decay, o.clipnorm, o.clipvalue, o.global_clipnorm}), o_(o) {}
  std::string class_name() const override { return "Nadam"; }
  nlohmann::json get_config() const override {
    auto c = OptimizerImpl::get_config();
    c["beta_1"] = o_.beta_1;
    c["beta_2"] = o_.beta_2;
    c["epsilon"] = o_.epsilon;
    return c;
  }

 protected:
  void build_slots(const std::vector<Shape>& shapes) override {
    // Keras's add_optimizer_variables(var_list, ["momentum", "velocity"]): both slots of a
    // variable together (the order of optimizer/vars in saved files).
    for (size_t i = 0; i < shapes.size(); ++i) {
      m_.push_back(add_slot(i, "momentum"));
      v_.push_back(add_slot(i, "velocity"));
    }
    u_product_ = add_variable("u_product", Tensor(Shape{}, 1.0f));
  }

  // The momentum schedule's running product, advanced once per step before the updates.
  void before_update_steps() override {
    Tensor& u = slot(u_product_);
    u[0] = static_cast<float>(u[0] * u_at(double(iterations() + 1)));
  }

  bool describe_update(size_t index, double lr, ops::UpdateOp& op, std::vector<Tensor*>& slots) override {
    double t = double(iterations() + 1), u_prod = slot(u_product_)[0];
    op = {.kind = ops::UpdateOp::Kind::kNadam,
          .learning_rate = lr,
          .beta_1 = o_.beta_1,
          .beta_2 = o_.beta_2,
          .epsilon = o_.epsilon};
    op.step[0] = u_at(t);
    op.step[1] = u_at(t + 1);
    op.step[2] = u_prod;
    op.step[3] = u_prod * u_at(t + 1);
    op.step[4] = 1 - std::pow(o_.beta_2, t);
    slots = {&slot(m_[index]), &slot(v_[index])};
    return true;
  }

 private:
  double u_at(double step) const { return o_.beta_1 * (1.0 - 0.5 * std::pow(0.96, step)); }
  NadamOptions o_;
  std::vector<size_t> m_, v_;
  size_t u_product_ = 0;
};

}  // namespace

Optimizer Adam(const AdamOptions& o) {
  return Optimizer(std::make_shared<AdamImpl>("Adam", o.name, o.learning_rate,
                                              CommonOptions{o.weight_decay, o.clipnorm, o.clipvalue, o.global_clipnorm},
                                              AdamArgs{o.beta_1, o.beta_2, o.epsilon, o.amsgrad}));
}

Optimizer AdamW(const AdamWOptions& o) {
  return Optimizer(std::make_shared<AdamImpl>("AdamW", o.name, o.learning_rate,
                                              CommonOptions{o.weight_decay, o.clipnorm, o.clipvalue, o.global_clipnorm},
                                              AdamArgs{o.beta_1, o.beta_2, o.epsilon, o.amsgrad}));
}

Optimizer Adamax(const AdamaxOptions& o) { return Optimizer(std::make_shared<AdamaxImpl>(o)); }
Optimizer Nadam(const NadamOptions& o) { return Optimizer(std::make_shared<NadamImpl>(o)); }

namespace detail {

Optimizer adam_from_config(const std::string& lower_class, const nlohmann::json& c) {
  CommonOptions k = common_from_config(c);
  double b1 = double_or(c, "beta_1", 0.9), b2 = double_or(c, "beta_2", 0.999), eps = double_or(c, "epsilon", 1e-7);
  bool ams = bool_or(c, "amsgrad", false);
  LearningRate lr = learning_rate_or(c, 0.001);
  if (lower_class == "adam")
    return Adam({lr, b1, b2, eps, ams, k.weight_decay, k.clipnorm, k.clipvalue, k.global_clipnorm, name_or(c, "adam")});
  if (lower_class == "adamw")
    return AdamW({lr, k.weight_decay.value_or(0.004), b1, b2, eps, ams, k.clipnorm, k.clipvalue, k.global_clipnorm,
                  name_or(c, "adamw")});
  if (lower_class == "adamax")
    return Adamax({lr, b1, b2, eps, k.weight_decay, k.clipnorm, k.clipvalue, k.global_clipnorm, name_or(c, "adamax")});
  if (lower_class == "nadam")
    return Nadam({lr, b1, b2, eps, k.weight_decay, k.clipnorm, k.clipvalue, k.global_clipnorm, name_or(c, "nadam")});
  return {};
}

}  // namespace detail

}  // namespace keras::optimizers
