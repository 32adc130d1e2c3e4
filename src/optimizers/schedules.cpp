// Learning-rate schedules (keras/src/optimizers/schedules/learning_rate_schedule.py).
#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>

#include "keras/errors.h"
#include "keras/optimizers.h"

namespace keras::optimizers::schedules {

namespace {

void check_decay_steps(int64_t steps, const char* arg = "decay_steps") {
  if (steps <= 0)
    throw ValueError(std::string("Argument `") + arg + "` must be > 0. Received: " + arg + "=" + std::to_string(steps));
}

class ExponentialDecayImpl : public LearningRateScheduleImpl {
 public:
  explicit ExponentialDecayImpl(const ExponentialDecayOptions& o) : o_(o) { check_decay_steps(o.decay_steps); }
  std::string class_name() const override { return "ExponentialDecay"; }
  double operator()(int64_t step) const override {
    double p = double(step) / double(o_.decay_steps);
    if (o_.staircase) p = std::floor(p);
    return o_.initial_learning_rate * std::pow(o_.decay_rate, p);
  }
  nlohmann::json get_config() const override {
    return {{"initial_learning_rate", o_.initial_learning_rate},
            {"decay_steps", o_.decay_steps},
            {"decay_rate", o_.decay_rate},
            {"staircase", o_.staircase},
            {"name", o_.name}};
  }

 private:
  ExponentialDecayOptions o_;
};

class PiecewiseConstantDecayImpl : public LearningRateScheduleImpl {
 public:
  explicit PiecewiseConstantDecayImpl(const PiecewiseConstantDecayOptions& o) : o_(o) {
    if (o.boundaries.size() + 1 != o.values.size())
      throw ValueError(
          "The length of boundaries should be 1 less than the length of values. Received: boundaries of "
          "length " +
          std::to_string(o.boundaries.size()) + ", and values of length " + std::to_string(o.values.size()) + ".");
  }
  std::string class_name() const override { return "PiecewiseConstantDecay"; }
  double operator()(int64_t step) const override {
    for (size_t i = 0; i < o_.boundaries.size(); ++i)
      if (double(step) <= o_.boundaries[i]) return o_.values[i];
    return o_.values.back();
  }
  nlohmann::json get_config() const override {
    return {{"boundaries", o_.boundaries}, {"values", o_.values}, {"name", o_.name}};
  }

 private:
  PiecewiseConstantDecayOptions o_;
};

class CosineDecayImpl : public LearningRateScheduleImpl {
 public:
  explicit CosineDecayImpl(const CosineDecayOptions& o) : o_(o) { check_decay_steps(o.decay_steps); }
  std::string class_name() const override { return "CosineDecay"; }
  double operator()(int64_t step) const override {
    double s = double(step), decay = double(o_.decay_steps);
    if (!o_.warmup_target) return decayed(std::min(s, decay), o_.initial_learning_rate);
    double warmup = double(o_.warmup_steps);
    s = std::min(s, decay + warmup);
    if (s < warmup) return (*o_.warmup_target - o_.initial_learning_rate) * (s / warmup) + o_.initial_learning_rate;
    return decayed(s - warmup, *o_.warmup_target);
  }
  nlohmann::json get_config() const override {
    return {{"initial_learning_rate", o_.initial_learning_rate},
            {"decay_steps", o_.decay_steps},
            {"alpha", o_.alpha},
            {"name", o_.name},
            {"warmup_target", o_.warmup_target ? nlohmann::json(*o_.warmup_target) : nlohmann::json(nullptr)},
            {"warmup_steps", o_.warmup_steps}};
  }

 private:
  double decayed(double step, double from) const {
    double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * step / double(o_.decay_steps)));
    return from * ((1 - o_.alpha) * cosine + o_.alpha);
  }
  CosineDecayOptions o_;
};

double number(const nlohmann::json& c, const char* key, double fallback) {
  return c.contains(key) && c[key].is_number() ? c[key].get<double>() : fallback;
}

std::string name_or(const nlohmann::json& c, const char* fallback) {
  return c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : fallback;
}

}  // namespace

LearningRateSchedule ExponentialDecay(const ExponentialDecayOptions& o) {
  return std::make_shared<ExponentialDecayImpl>(o);
}
LearningRateSchedule PiecewiseConstantDecay(const PiecewiseConstantDecayOptions& o) {
  return std::make_shared<PiecewiseConstantDecayImpl>(o);
}
LearningRateSchedule CosineDecay(const CosineDecayOptions& o) { return std::make_shared<CosineDecayImpl>(o); }

LearningRateSchedule deserialize(const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("class_name"))
    throw ValueError("Could not interpret serialized learning rate schedule: " + config.dump());
  std::string cls = config["class_name"].get<std::string>();
  const nlohmann::json c = config.value("config", nlohmann::json::object());
  auto steps = [&](const char* k) { return static_cast<int64_t>(number(c, k, 0)); };
  if (cls == "ExponentialDecay")
    return ExponentialDecay({number(c, "initial_learning_rate", 0), steps("decay_steps"), number(c, "decay_rate", 0),
                             c.value("staircase", false), name_or(c, "ExponentialDecay")});
  if (cls == "PiecewiseConstantDecay")
    return PiecewiseConstantDecay({c.value("boundaries", std::vector<double>{}),
                                   c.value("values", std::vector<double>{}), name_or(c, "PiecewiseConstant")});
  if (cls == "CosineDecay") {
    CosineDecayOptions o{number(c, "initial_learning_rate", 0),
                         steps("decay_steps"),
                         number(c, "alpha", 0),
                         name_or(c, "CosineDecay"),
                         std::nullopt,
                         steps("warmup_steps")};
    if (c.contains("warmup_target") && c["warmup_target"].is_number())
      o.warmup_target = c["warmup_target"].get<double>();
    return CosineDecay(o);
  }
  throw ValueError("Unknown learning rate schedule: " + cls);
}

nlohmann::json serialize(const LearningRateSchedule& schedule) {
  return {{"module", "keras.optimizers.schedules"},
          {"class_name", schedule->class_name()},
          {"config", schedule->get_config()},
          {"registered_name", nullptr}};
}

}  // namespace keras::optimizers::schedules
