#pragma once
// Optimizers with Keras 3's exact update rules, defaults and variables (keras.optimizers,
// KERAS_SPEC §9.3), and learning-rate schedules (keras.optimizers.schedules).
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "keras/layer.h"
#include "keras/tensor.h"

namespace keras {
class Runtime;
namespace ops {
struct UpdateOp;
}
}  // namespace keras

namespace keras::optimizers {

namespace schedules {

// A learning rate as a function of the optimizer's iteration count (before the step).
class LearningRateScheduleImpl {
 public:
  virtual ~LearningRateScheduleImpl() = default;
  virtual std::string class_name() const = 0;
  virtual double operator()(int64_t step) const = 0;
  virtual nlohmann::json get_config() const = 0;
};
using LearningRateSchedule = std::shared_ptr<const LearningRateScheduleImpl>;

// initial_learning_rate * decay_rate ^ (step / decay_steps) (the exponent floored when staircase).
struct ExponentialDecayOptions {
  double initial_learning_rate = 0;
  int64_t decay_steps = 0;
  double decay_rate = 0;
  bool staircase = false;
  std::string name = "ExponentialDecay";
};
LearningRateSchedule ExponentialDecay(const ExponentialDecayOptions& options);

// values[0] while step <= boundaries[0], values[1] while step <= boundaries[1], ... values[-1] after.
struct PiecewiseConstantDecayOptions {
  std::vector<double> boundaries;
  std::vector<double> values;
  std::string name = "PiecewiseConstant";
};
LearningRateSchedule PiecewiseConstantDecay(const PiecewiseConstantDecayOptions& options);

// Cosine decay from initial_learning_rate (or warmup_target after a linear warmup) to alpha times it.
struct CosineDecayOptions {
  double initial_learning_rate = 0;
  int64_t decay_steps = 0;
  double alpha = 0.0;
  std::string name = "CosineDecay";
  std::optional<double> warmup_target;
  int64_t warmup_steps = 0;
};
LearningRateSchedule CosineDecay(const CosineDecayOptions& options);

// {"class_name": "ExponentialDecay", "config": {...}} (Keras 2 or 3 form) and back.
LearningRateSchedule deserialize(const nlohmann::json& config);
nlohmann::json serialize(const LearningRateSchedule& schedule);

}  // namespace schedules

// An optimizer's learning rate: a number or a schedule.
class LearningRate {
 public:
  LearningRate(double value) : value_(value) {}  // NOLINT: .learning_rate = 0.01
  LearningRate(schedules::LearningRateSchedule schedule) : schedule_(std::move(schedule)) {}  // NOLINT
  bool is_schedule() const { return schedule_ != nullptr; }
  double value() const { return value_; }
  const schedules::LearningRateSchedule& schedule() const { return schedule_; }

 private:
  double value_ = 0;
  schedules::LearningRateSchedule schedule_;
};

// Arguments every optimizer takes (Keras's base_optimizer keyword arguments); at most one clip.
struct CommonOptions {
  std::optional<double> weight_decay;
  std::optional<double> clipnorm;
  std::optional<double> clipvalue;
  std::optional<double> global_clipnorm;
};

// Base class of the optimizers. It keeps Keras's variables: "iteration", "learning_rate"
// (absent with a schedule) and per-trainable-variable slots in Keras's creation order, so
// they can be saved and restored exactly.
class OptimizerImpl {
 public:
  OptimizerImpl(std::string name, LearningRate learning_rate, const CommonOptions& common);
  virtual ~OptimizerImpl() = default;
  OptimizerImpl(const OptimizerImpl&) = delete;
  OptimizerImpl& operator=(const OptimizerImpl&) = delete;

  // Keras's class name, e.g. "Adam".
  virtual std::string class_name() const = 0;
  const std::string& name() const { return name_; }

  // Keras's optimizer.build(var_list): creates the slots for these trainable variables.
  // `paths` name them ("dense/kernel"); slot names follow ("dense_kernel_momentum").
  void build(const std::vector<const Variable*>& variables, const std::vector<std::string>& paths = {});
  bool built() const { return built_; }
  // Keras's optimizer.apply(grads, trainable_variables): clips, applies weight decay, updates
  // every variable, then increments the iteration count. Builds on the first call. The updates
  // run as ops on `runtime`'s backend and threads (fit() passes the model's), by default on
  // default_runtime()'s.
  void apply(const std::vector<Tensor>& grads, const std::vector<Variable*>& variables);
  void apply(const std::vector<Tensor>& grads, const std::vector<Variable*>& variables, const Runtime& runtime);

  int64_t iterations() const { return iterations_; }
  // The learning rate of the next step: a schedule evaluated at iterations(), or the constant
  // rounded to float32 as Keras stores it.
  double learning_rate() const;
  // Sets a constant learning rate; throws ValueError when the optimizer has a schedule.
  void set_learning_rate(double learning_rate);
  const LearningRate& learning_rate_setting() const { return learning_rate_; }
  const CommonOptions& common_options() const { return common_; }

  // Keras's optimizer.variables, in order; "iteration" holds the integer count as a float32
  // scalar (Keras stores int64).
  std::vector<Variable> variables() const;
  // Restores variables() values (load_own_variables); the optimizer must be built.
  void set_variables(const std::vector<Tensor>& values);

  // Keras 3's get_config().
  virtual nlohmann::json get_config() const;

 protected:
  // Creates this optimizer's slots, in Keras's order, with add_slot/add_variable.
  virtual void build_slots(const std::vector<Shape>& shapes) = 0;
  // One variable's update as an op (ops::UpdateOp, its slots in the op's order); `index` is its
  // position in the built variable list. The built-in optimizers describe every update so.
  virtual bool describe_update(size_t index, double learning_rate, ops::UpdateOp& op, std::vector<Tensor*>& slots);
  // An update no op describes (an optimizer defined outside the library): it updates `variable`
  // itself. The default throws NotImplementedError.
  virtual void update_step(const Tensor& grad, Tensor& variable, size_t index, double learning_rate);
  // Called once per step before the per-variable updates (Nadam's u_product).
  virtual void before_update_steps() {}

  // A zero-initialised (or `init`) slot shaped like built variable `index`; returns its id.
  size_t add_slot(size_t index, const std::string& name, float init = 0.0f);
  // An optimizer variable not tied to a model variable (Nadam's u_product).
  size_t add_variable(const std::string& name, Tensor value);
  Tensor& slot(size_t id) { return slots_[id].value; }
  size_t variable_count() const { return shapes_.size(); }

 private:
  std::vector<Tensor> clipped(const std::vector<Tensor>& grads) const;
  void run_update(const Runtime& runtime, ops::UpdateOp op, const Tensor& grad, Tensor& variable,
                  const std::vector<Tensor*>& slots) const;

  std::string name_;
  LearningRate learning_rate_;
  CommonOptions common_;
  int64_t iterations_ = 0;
  bool built_ = false;
  std::vector<Shape> shapes_;
  std::vector<std::string> paths_;
  std::vector<const Variable*> built_for_;
  std::vector<Variable> slots_;
};

// A shared handle to an optimizer (copies share state, as Python names do); a string is
// looked up as keras.optimizers.get() does ("adam", "sgd", "rmsprop"...).
class Optimizer {
 public:
  Optimizer() = default;
  Optimizer(const char* identifier);               // NOLINT
  Optimizer(const std::string& identifier);        // NOLINT
  Optimizer(std::shared_ptr<OptimizerImpl> impl);  // NOLINT

  OptimizerImpl* operator->() const { return impl_.get(); }
  OptimizerImpl& operator*() const { return *impl_; }
  const std::shared_ptr<OptimizerImpl>& impl() const { return impl_; }
  explicit operator bool() const { return impl_ != nullptr; }
  // The string this optimizer was given as, or "" (compile_config writes strings back as given).
  const std::string& identifier() const { return identifier_; }

 private:
  std::shared_ptr<OptimizerImpl> impl_;
  std::string identifier_;
};

// keras.optimizers.get(): a name, case-insensitive. Throws ValueError for an unknown one.
Optimizer get(const std::string& identifier);
// {"class_name": "Adam", "config": {...}} in the Keras 2 or 3 form (Keras 2's "lr" accepted).
Optimizer deserialize(const nlohmann::json& config);
// Keras 3's serialized form: {"module": "keras.optimizers", "class_name", "config", "registered_name"},
// or the identifier string the optimizer was made from.
nlohmann::json serialize(const Optimizer& optimizer);

// m = momentum * m - lr * g; w += m (nesterov: w += momentum * m - lr * g); plain w -= lr * g.
struct SGDOptions {
  LearningRate learning_rate = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  std::optional<double> weight_decay, clipnorm, clipvalue, global_clipnorm;
  std::string name = "SGD";
};
Optimizer SGD(const SGDOptions& options = {});

// alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t); m += (g - m)(1 - beta_1);
// v += (g^2 - v)(1 - beta_2); w -= alpha * m / (sqrt(v) + epsilon).
struct AdamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  std::optional<double> weight_decay, clipnorm, clipvalue, global_clipnorm;
  std::string name = "adam";
};
Optimizer Adam(const AdamOptions& options = {});

// Adam with decoupled weight decay: w -= w * weight_decay * lr before each update.
struct AdamWOptions {
  LearningRate learning_rate = 0.001;
  double weight_decay = 0.004;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  std::optional<double> clipnorm, clipvalue, global_clipnorm;
  std::string name = "adamw";
};
Optimizer AdamW(const AdamWOptions& options = {});

// v = rho v + (1 - rho) g^2; w -= lr * g / sqrt(v + epsilon) (epsilon inside the root).
struct RMSpropOptions {
  LearningRate learning_rate = 0.001;
  double rho = 0.9;
  double momentum = 0.0;
  double epsilon = 1e-7;
  bool centered = false;
  std::optional<double> weight_decay, clipnorm, clipvalue, global_clipnorm;
  std::string name = "rmsprop";
};
Optimizer RMSprop(const RMSpropOptions& options = {});

// acc += g^2; w -= lr * g / sqrt(acc + epsilon).
struct AdagradOptions {
  LearningRate learning_rate = 0.001;
  double initial_accumulator_value = 0.1;
  double epsilon = 1e-7;
  std::optional<double> weight_decay, clipnorm, clipvalue, global_clipnorm;
  std::string name = "adagrad";
};
Optimizer Adagrad(const AdagradOptions& options = {});

struct AdadeltaOptions {
  LearningRate learning_rate = 0.001;
  double rho = 0.95;
  double epsilon = 1e-7;
  std::optional<double> weight_decay, clipnorm, clipvalue, global_clipnorm;
  std::string name = "adadelta";
};
Optimizer Adadelta(const AdadeltaOptions& options = {});

struct AdamaxOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  std::optional<double> weight_decay, clipnorm, clipvalue, global_clipnorm;
  std::string name = "adamax";
};
Optimizer Adamax(const AdamaxOptions& options = {});

struct NadamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  std::optional<double> weight_decay, clipnorm, clipvalue, global_clipnorm;
  std::string name = "nadam";
};
Optimizer Nadam(const NadamOptions& options = {});

}  // namespace keras::optimizers
