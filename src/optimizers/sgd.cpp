// keras.optimizers.SGD (keras/src/optimizers/sgd.py).
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/optimizers.h"
#include "ops/op.h"
#include "optimizers/optimizer_utils.h"

namespace keras::optimizers {

namespace {

class SGDImpl : public OptimizerImpl {
 public:
  explicit SGDImpl(const SGDOptions& o)
      : OptimizerImpl(o.name, o.learning_rate, {o.weight_decay, o.clipnorm, o.clipvalue, o.global_clipnorm}), o_(o) {
    if (!(o.momentum >= 0 && o.momentum <= 1)) throw ValueError("`momentum` must be a float between [0, 1].");
  }
  std::string class_name() const override { return "SGD"; }
  nlohmann::json get_config() const override {
    auto c = OptimizerImpl::get_config();
    c["momentum"] = o_.momentum;
    c["nesterov"] = o_.nesterov;
    return c;
  }

 protected:
  void build_slots(const std::vector<Shape>& shapes) override {
    if (o_.momentum != 0)
      for (size_t i = 0; i < shapes.size(); ++i) momentums_.push_back(add_slot(i, "momentum"));
  }

  bool describe_update(size_t index, double lr, ops::UpdateOp& op, std::vector<Tensor*>& slots) override {
    op = {.kind = ops::UpdateOp::Kind::kSGD, .learning_rate = lr, .momentum = o_.momentum, .nesterov = o_.nesterov};
    if (o_.momentum != 0) slots = {&slot(momentums_[index])};
    return true;
  }

 private:
  SGDOptions o_;
  std::vector<size_t> momentums_;
};

}  // namespace

Optimizer SGD(const SGDOptions& options) { return Optimizer(std::make_shared<SGDImpl>(options)); }

namespace detail {

Optimizer sgd_from_config(const std::string& lower_class, const nlohmann::json& c) {
  if (lower_class != "sgd") return {};
  CommonOptions common = common_from_config(c);
  return SGD({.learning_rate = learning_rate_or(c, 0.01),
              .momentum = double_or(c, "momentum", 0.0),
              .nesterov = bool_or(c, "nesterov", false),
              .weight_decay = common.weight_decay,
              .clipnorm = common.clipnorm,
              .clipvalue = common.clipvalue,
              .global_clipnorm = common.global_clipnorm,
              .name = name_or(c, "SGD")});
}

}  // namespace detail

}  // namespace keras::optimizers
