// keras.optimizers.RMSprop (keras/src/optimizers/rmsprop.py).
#include <nlohmann/json.hpp>

#include "keras/optimizers.h"
#include "ops/op.h"
#include "optimizers/optimizer_utils.h"

namespace keras::optimizers {

namespace {

class RMSpropImpl : public OptimizerImpl {
 public:
  explicit RMSpropImpl(const RMSpropOptions& o)
      : OptimizerImpl(o.name, o.learning_rate, {o.weight_decay, o.clipnorm, o.clipvalue, o.global_clipnorm}), o_(o) {}
  std::string class_name() const override { return "RMSprop"; }
  nlohmann::json get_config() const override {
    auto c = OptimizerImpl::get_config();
    c["rho"] = o_.rho;
    c["momentum"] = o_.momentum;
    c["epsilon"] = o_.epsilon;
    c["centered"] = o_.centered;
    return c;
  }

 protected:
  void build_slots(const std::vector<Shape>& shapes) override {
    for (size_t i = 0; i < shapes.size(); ++i) velocities_.push_back(add_slot(i, "velocity"));
    if (o_.momentum > 0)
      for (size_t i = 0; i < shapes.size(); ++i) momentums_.push_back(add_slot(i, "momentum"));
    if (o_.centered)
      for (size_t i = 0; i < shapes.size(); ++i) average_grads_.push_back(add_slot(i, "average_gradient"));
  }

  bool describe_update(size_t index, double lr, ops::UpdateOp& op, std::vector<Tensor*>& slots) override {
    op = {.kind = ops::UpdateOp::Kind::kRMSprop,
          .learning_rate = lr,
          .momentum = o_.momentum,
          .epsilon = o_.epsilon,
          .rho = o_.rho,
          .centered = o_.centered};
    slots = {&slot(velocities_[index])};
    if (o_.momentum > 0) slots.push_back(&slot(momentums_[index]));
    if (o_.centered) slots.push_back(&slot(average_grads_[index]));
    return true;
  }

 private:
  RMSpropOptions o_;
  std::vector<size_t> velocities_, momentums_, average_grads_;
};

}  // namespace

Optimizer RMSprop(const RMSpropOptions& options) { return Optimizer(std::make_shared<RMSpropImpl>(options)); }

namespace detail {

Optimizer rmsprop_from_config(const std::string& lower_class, const nlohmann::json& c) {
  if (lower_class != "rmsprop") return {};
  CommonOptions k = common_from_config(c);
  return RMSprop({learning_rate_or(c, 0.001), double_or(c, "rho", 0.9), double_or(c, "momentum", 0.0),
                  double_or(c, "epsilon", 1e-7), bool_or(c, "centered", false), k.weight_decay, k.clipnorm, k.clipvalue,
                  k.global_clipnorm, name_or(c, "rmsprop")});
}

}  // namespace detail

}  // namespace keras::optimizers
