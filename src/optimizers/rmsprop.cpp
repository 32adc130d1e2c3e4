// keras.optimizers.RMSprop (keras/src/optimizers/rmsprop.py).
#include <cmath>
#include <nlohmann/json.hpp>

#include "keras/optimizers.h"
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

  // v = rho v + (1 - rho) g^2; increment = lr g / sqrt(v + epsilon) (centered: v - avg_g^2 + epsilon).
  void update_step(const Tensor& grad, Tensor& w, size_t index, double lr) override {
    const float* g = grad.data();
    float *p = w.data(), *v = slot(velocities_[index]).data();
    float* mom = o_.momentum > 0 ? slot(momentums_[index]).data() : nullptr;
    float* avg = o_.centered ? slot(average_grads_[index]).data() : nullptr;
    double rho = o_.rho;
    for (Dim i = 0; i < w.size(); ++i) {
      double vi = rho * v[i] + (1 - rho) * double(g[i]) * g[i];
      v[i] = static_cast<float>(vi);
      double denom = vi + o_.epsilon;
      if (avg) {
        double ai = rho * avg[i] + (1 - rho) * g[i];
        avg[i] = static_cast<float>(ai);
        denom = vi - ai * ai + o_.epsilon;
      }
      double increment = lr * g[i] / std::sqrt(denom);
      if (mom) {
        double mi = o_.momentum * mom[i] + increment;
        mom[i] = static_cast<float>(mi);
        increment = mi;
      }
      p[i] = static_cast<float>(p[i] - increment);
    }
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
