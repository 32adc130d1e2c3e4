// Callbacks that set the learning rate: ReduceLROnPlateau and LearningRateScheduler
// (keras/src/callbacks/reduce_lr_on_plateau.py, learning_rate_scheduler.py).
#include <cmath>
#include <limits>

#include "callbacks/monitor.h"
#include "engine/pyformat.h"
#include "keras/callbacks.h"
#include "keras/errors.h"
#include "keras/model.h"

namespace keras::callbacks {

namespace {

optimizers::OptimizerImpl& optimizer_of(const Model& model) {
  optimizers::Optimizer opt = model.optimizer();
  if (!opt) throw ValueError("You must call `compile()` before using the model.");
  return *opt;
}

}  // namespace

ReduceLROnPlateau::ReduceLROnPlateau(const ReduceLROnPlateauOptions& options) : o_(options) {
  if (o_.factor >= 1.0)
    throw ValueError("ReduceLROnPlateau does not support a factor >= 1.0. Received factor=" +
                     engine::python_float_repr(o_.factor));
  if (o_.mode != "auto" && o_.mode != "min" && o_.mode != "max") {
    detail::warn("Learning rate reduction mode " + o_.mode + " is unknown, fallback to auto mode.");
    o_.mode = "auto";
  }
}

// Keras's _reset: "auto" maximizes only monitors whose name contains "acc".
void ReduceLROnPlateau::on_train_begin(const Logs&) {
  maximize_ = !(o_.mode == "min" || (o_.mode == "auto" && o_.monitor.find("acc") == std::string::npos));
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  cooldown_counter_ = wait_ = 0;
}

void ReduceLROnPlateau::on_epoch_end(int epoch, Logs& logs) {
  optimizers::OptimizerImpl& opt = optimizer_of(model());
  logs["learning_rate"] = opt.learning_rate();
  std::optional<double> current = logs.get(o_.monitor);
  if (!current) {
    std::string keys;
    for (const auto& [k, v] : logs) keys += (keys.empty() ? "" : ",") + k;
    detail::warn("Learning rate reduction is conditioned on metric `" + o_.monitor +
                 "` which is not available. Available metrics are: " + keys + ".");
    return;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    wait_ = 0;
  }
  bool better = maximize_ ? *current > best_ + o_.min_delta : *current < best_ - o_.min_delta;
  if (better) {
    best_ = *current;
    wait_ = 0;
  } else if (cooldown_counter_ <= 0 && ++wait_ >= o_.patience) {
    double old_lr = opt.learning_rate();
    if (old_lr > double(static_cast<float>(o_.min_lr))) {
      double new_lr = std::max(old_lr * o_.factor, o_.min_lr);
      opt.set_learning_rate(new_lr);
      if (o_.verbose > 0)
        detail::print_msg("\nEpoch " + std::to_string(epoch + 1) + ": ReduceLROnPlateau reducing learning rate to " +
                          engine::python_float_repr(new_lr) + ".");
      cooldown_counter_ = o_.cooldown;
      wait_ = 0;
    }
  }
}

LearningRateScheduler::LearningRateScheduler(std::function<double(int, double)> schedule, int verbose)
    : schedule_(std::move(schedule)), verbose_(verbose) {}

void LearningRateScheduler::on_epoch_begin(int epoch, const Logs&) {
  optimizers::OptimizerImpl& opt = optimizer_of(model());
  double lr = schedule_(epoch, opt.learning_rate());
  opt.set_learning_rate(lr);
  if (verbose_ > 0)
    detail::print_msg("\nEpoch " + std::to_string(epoch + 1) + ": LearningRateScheduler setting learning rate to " +
                      engine::python_float_repr(lr) + ".");
}

void LearningRateScheduler::on_epoch_end(int, Logs& logs) {
  logs["learning_rate"] = optimizer_of(model()).learning_rate();
}

}  // namespace keras::callbacks
