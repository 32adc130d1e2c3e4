// The optimizer base (Keras 3's base_optimizer.py: building slots, clipping, weight decay,
// the iteration count, variables), the handle, and the name registry.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "backends/backend.h"
#include "engine/pyformat.h"
#include "keras/errors.h"
#include "keras/optimizers.h"
#include "keras/runtime.h"
#include "ops/optimizer_update.h"
#include "optimizers/optimizer_utils.h"

namespace keras::optimizers {

namespace {

std::string opt_str(const std::optional<double>& v) { return v ? engine::python_float_repr(*v) : "None"; }

Tensor scalar(double v) { return Tensor(Shape{}, std::vector<float>{static_cast<float>(v)}); }

nlohmann::json opt_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

OptimizerImpl::OptimizerImpl(std::string name, LearningRate learning_rate, const CommonOptions& common)
    : name_(std::move(name)), learning_rate_(std::move(learning_rate)), common_(common) {
  int clips = common.clipnorm.has_value() + common.clipvalue.has_value() + common.global_clipnorm.has_value();
  if (clips > 1)
    throw ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: clipnorm=" +
                     opt_str(common.clipnorm) + ", clipvalue=" + opt_str(common.clipvalue) +
                     ", global_clipnorm=" + opt_str(common.global_clipnorm));
}

void OptimizerImpl::build(const std::vector<const Variable*>& variables, const std::vector<std::string>& paths) {
  if (built_) return;
  built_for_ = variables;
  for (size_t i = 0; i < variables.size(); ++i) {
    shapes_.push_back(variables[i]->value.shape());
    paths_.push_back(i < paths.size() ? paths[i] : variables[i]->name);
  }
  build_slots(shapes_);
  built_ = true;
}

size_t OptimizerImpl::add_slot(size_t index, const std::string& name, float init) {
  std::string path = paths_.at(index);
  std::replace(path.begin(), path.end(), '/', '_');
  slots_.push_back(Variable{path + "_" + name, Tensor(shapes_.at(index), init), false});
  return slots_.size() - 1;
}

size_t OptimizerImpl::add_variable(const std::string& name, Tensor value) {
  slots_.push_back(Variable{name, std::move(value), false});
  return slots_.size() - 1;
}

// A constant rate lives in a float32 variable in Keras, so it reads back rounded to float32
// (0.001 -> 0.0010000000474974513), in updates, logs and configs alike.
double OptimizerImpl::learning_rate() const {
  if (learning_rate_.is_schedule()) return (*learning_rate_.schedule())(iterations_);
  return double(static_cast<float>(learning_rate_.value()));
}

void OptimizerImpl::set_learning_rate(double learning_rate) {
  if (learning_rate_.is_schedule())
    throw ValueError(
        "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
        "constructor argument, hence its learning rate is not settable. If you need the learning rate "
        "to be settable, you should instantiate the optimizer with a float `learning_rate` argument.");
  learning_rate_ = LearningRate(learning_rate);
}

std::vector<Tensor> OptimizerImpl::clipped(const std::vector<Tensor>& grads) const {
  std::vector<Tensor> out = grads;
  if (common_.clipnorm && *common_.clipnorm > 0) {
    // Each gradient scaled to a norm of at most clipnorm: g * c / max(|g|, c).
    double c = *common_.clipnorm;
    for (Tensor& g : out)
      ops::scale_values(g.data(), g.size(), c / std::max(std::sqrt(ops::sum_of_squares(g.data(), g.size())), c));
  } else if (common_.global_clipnorm && *common_.global_clipnorm > 0) {
    double c = *common_.global_clipnorm, sq = 0;
    for (const Tensor& g : out) sq += ops::sum_of_squares(g.data(), g.size());
    double norm = std::sqrt(sq);
    // clip_by_global_norm: c * min(1/norm, 1/c), NaN when the norm is not finite.
    double scale = std::isfinite(norm) ? c * std::min(1.0 / norm, 1.0 / c) : std::nan("");
    for (Tensor& g : out) ops::scale_values(g.data(), g.size(), scale);
  } else if (common_.clipvalue && *common_.clipvalue > 0) {
    for (Tensor& g : out) ops::clip_values(g.data(), g.size(), static_cast<float>(*common_.clipvalue));
  }
  return out;
}

void OptimizerImpl::apply(const std::vector<Tensor>& grads, const std::vector<Variable*>& variables) {
  apply(grads, variables, *default_runtime());
}

void OptimizerImpl::apply(const std::vector<Tensor>& grads, const std::vector<Variable*>& variables,
                          const Runtime& runtime) {
  if (!built_) build(std::vector<const Variable*>(variables.begin(), variables.end()));
  if (variables.size() != shapes_.size() || grads.size() != variables.size())
    throw ValueError("Optimizer \"" + name_ + "\" was built for " + std::to_string(shapes_.size()) +
                     " variables; received " + std::to_string(variables.size()) + " variables and " +
                     std::to_string(grads.size()) + " gradients");
  for (size_t i = 0; i < variables.size(); ++i)
    if (variables[i]->value.shape() != shapes_[i] || grads[i].shape() != shapes_[i])
      throw ValueError("Optimizer \"" + name_ + "\": variable " + paths_[i] + " has shape " +
                       variables[i]->value.shape().str() + " and its gradient " + grads[i].shape().str() +
                       "; the optimizer was built for " + shapes_[i].str());
  if (grads.empty()) return;
  std::vector<Tensor> g = clipped(grads);
  double lr = learning_rate();
  if (common_.weight_decay)
    for (Variable* v : variables) ops::decay_values(v->value.data(), v->value.size(), *common_.weight_decay * lr);
  before_update_steps();
  for (size_t i = 0; i < variables.size(); ++i) {
    ops::UpdateOp op;
    std::vector<Tensor*> slots;
    if (describe_update(i, lr, op, slots))
      run_update(runtime, op, g[i], variables[i]->value, slots);
    else
      update_step(g[i], variables[i]->value, i, lr);
  }
  ++iterations_;
}

// One update op on the runtime's backend (the reference backend where it has none), made for
// this step: its scalars are attributes.
void OptimizerImpl::run_update(const Runtime& runtime, ops::UpdateOp op, const Tensor& grad, Tensor& variable,
                               const std::vector<Tensor*>& slots) const {
  op.size = variable.size();
  ops::Op o{.attrs = op, .inputs = {grad.shape()}, .outputs = {variable.shape()}, .layer = name_};
  std::vector<float*> out{variable.data()};
  for (Tensor* s : slots) {
    o.outputs.push_back(s->shape());
    out.push_back(s->data());
  }
  if (slots.size() != ops::update_slots(op))
    throw ValueError("Optimizer \"" + name_ + "\" described an update with " + std::to_string(slots.size()) +
                     " slots; its op reads " + std::to_string(ops::update_slots(op)));
  const backends::Backend& backend = runtime.backend().supports(o) ? runtime.backend() : backends::reference_backend();
  std::unique_ptr<backends::Operator> update = backend.create(o);
  const float* in = grad.data();
  update->run({&in, 1}, out, nullptr, backends::RunContext{.pool = &runtime.pool()});
}

bool OptimizerImpl::describe_update(size_t, double, ops::UpdateOp&, std::vector<Tensor*>&) { return false; }

void OptimizerImpl::update_step(const Tensor&, Tensor&, size_t, double) {
  throw NotImplementedError("Optimizer \"" + name_ + "\" (" + class_name() + ") describes no update");
}

std::vector<Variable> OptimizerImpl::variables() const {
  std::vector<Variable> vars{{"iteration", scalar(double(iterations_)), false}};
  if (!learning_rate_.is_schedule()) vars.push_back({"learning_rate", scalar(learning_rate_.value()), false});
  vars.insert(vars.end(), slots_.begin(), slots_.end());
  return vars;
}

void OptimizerImpl::set_variables(const std::vector<Tensor>& values) {
  std::vector<Variable> current = variables();
  if (!built_ || values.size() != current.size())
    throw ValueError("Optimizer \"" + name_ + "\" has " + std::to_string(current.size()) + " variables" +
                     (built_ ? "" : " (it has not been built yet)") + "; received " + std::to_string(values.size()));
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].shape() != current[i].value.shape())
      throw ValueError("Optimizer variable " + current[i].name + " has shape " + current[i].value.shape().str() +
                       " not compatible with provided weight shape " + values[i].shape().str() + ".");
  float count = values[0][0];
  if (!(count >= 0 && count < 9.2e18f))  // also rejects NaN
    throw ValueError("Optimizer \"" + name_ + "\": the iteration count " + std::to_string(count) +
                     " is not a non-negative integer");
  iterations_ = std::llround(count);
  size_t next = 1;
  if (!learning_rate_.is_schedule()) learning_rate_ = LearningRate(values[next++][0]);
  for (size_t i = 0; i < slots_.size(); ++i) slots_[i].value = values[next + i];
}

nlohmann::json OptimizerImpl::get_config() const {
  nlohmann::json lr =
      learning_rate_.is_schedule() ? schedules::serialize(learning_rate_.schedule()) : nlohmann::json(learning_rate());
  return {{"name", name_},
          {"learning_rate", lr},
          {"weight_decay", opt_json(common_.weight_decay)},
          {"clipnorm", opt_json(common_.clipnorm)},
          {"global_clipnorm", opt_json(common_.global_clipnorm)},
          {"clipvalue", opt_json(common_.clipvalue)},
          {"use_ema", false},
          {"ema_momentum", 0.99},
          {"ema_overwrite_frequency", nullptr},
          {"loss_scale_factor", nullptr},
          {"gradient_accumulation_steps", nullptr}};
}

Optimizer::Optimizer(const char* identifier) : Optimizer(std::string(identifier)) {}
Optimizer::Optimizer(const std::string& identifier) : Optimizer(get(identifier)) { identifier_ = identifier; }
Optimizer::Optimizer(std::shared_ptr<OptimizerImpl> impl) : impl_(std::move(impl)) {}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Optimizer from_lower_class(const std::string& lower_class, const nlohmann::json& config) {
  for (auto* family :
       {detail::sgd_from_config, detail::adam_from_config, detail::rmsprop_from_config, detail::adagrad_from_config})
    if (Optimizer o = family(lower_class, config)) return o;
  return {};
}

}  // namespace

Optimizer get(const std::string& identifier) {
  if (Optimizer o = from_lower_class(lower(identifier), nlohmann::json::object())) return o;
  throw ValueError("Could not interpret optimizer identifier: " + identifier);
}

Optimizer deserialize(const nlohmann::json& config) {
  if (config.is_string()) return get(config.get<std::string>());
  if (!config.is_object() || !config.contains("class_name"))
    throw ValueError("Could not interpret serialized optimizer: " + config.dump());
  std::string class_name = config["class_name"].get<std::string>();
  // Keras 2's legacy optimizers were saved under their module path ("keras.optimizers.legacy.Adam").
  if (auto dot = class_name.rfind('.'); dot != std::string::npos) class_name = class_name.substr(dot + 1);
  // tf.keras 2.11+ .keras files name built-in optimizers by registered name ("Custom>Adam").
  if (auto gt = class_name.rfind('>'); gt != std::string::npos) class_name = class_name.substr(gt + 1);
  nlohmann::json inner = config.value("config", nlohmann::json::object());
  if (!inner.is_object()) inner = nlohmann::json::object();
  if (Optimizer o = from_lower_class(lower(class_name), inner)) return o;
  throw ValueError("Could not interpret serialized optimizer: unknown class_name \"" + class_name + "\"");
}

nlohmann::json serialize(const Optimizer& optimizer) {
  if (!optimizer) return nullptr;
  if (!optimizer.identifier().empty()) return optimizer.identifier();
  return {{"module", "keras.optimizers"},
          {"class_name", optimizer->class_name()},
          {"config", optimizer->get_config()},
          {"registered_name", nullptr}};
}

namespace detail {

std::optional<double> optional_double(const nlohmann::json& c, const char* key) {
  if (c.contains(key) && c[key].is_number()) return c[key].get<double>();
  return std::nullopt;
}

double double_or(const nlohmann::json& c, const char* key, double fallback) {
  return optional_double(c, key).value_or(fallback);
}

bool bool_or(const nlohmann::json& c, const char* key, bool fallback) {
  return c.contains(key) && c[key].is_boolean() ? c[key].get<bool>() : fallback;
}

std::string name_or(const nlohmann::json& c, const std::string& fallback) {
  return c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : fallback;
}

LearningRate learning_rate_or(const nlohmann::json& c, double fallback) {
  for (const char* key : {"learning_rate", "lr"}) {
    if (!c.contains(key)) continue;
    if (c[key].is_number()) return LearningRate(c[key].get<double>());
    if (c[key].is_object()) return LearningRate(schedules::deserialize(c[key]));
  }
  return LearningRate(fallback);
}

CommonOptions common_from_config(const nlohmann::json& c) {
  return {optional_double(c, "weight_decay"), optional_double(c, "clipnorm"), optional_double(c, "clipvalue"),
          optional_double(c, "global_clipnorm")};
}

}  // namespace detail

}  // namespace keras::optimizers
