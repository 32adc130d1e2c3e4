// Callbacks that stop training: EarlyStopping (keras/src/callbacks/early_stopping.py) and
// TerminateOnNaN.
#include <cmath>
#include <string>

#include "callbacks/monitor.h"
#include "keras/callbacks.h"
#include "keras/model.h"

namespace keras::callbacks {

EarlyStopping::EarlyStopping(const EarlyStoppingOptions& options)
    : o_(options), min_delta_(std::abs(options.min_delta)) {
  if (o_.mode != "auto" && o_.mode != "min" && o_.mode != "max") {
    detail::warn("EarlyStopping mode " + o_.mode + " is unknown, fallback to auto mode.");
    o_.mode = "auto";
  }
}

void EarlyStopping::on_train_begin(const Logs&) {
  wait_ = stopped_epoch_ = best_epoch_ = 0;
  best_.reset();
  best_weights_.clear();
  have_best_weights_ = false;
}

// The value must beat the reference by min_delta in the good direction.
bool EarlyStopping::improved(double value, double reference) const {
  return maximize_ ? value - min_delta_ > reference : value + min_delta_ < reference;
}

void EarlyStopping::on_epoch_end(int epoch, Logs& logs) {
  if (!mode_resolved_) {
    maximize_ = detail::monitor_maximizes(o_.mode, o_.monitor, model(), "EarlyStopping");
    mode_resolved_ = true;
  }
  std::optional<double> current = logs.get(o_.monitor);
  if (!current) {
    std::string keys;
    for (const auto& [k, v] : logs) keys += (keys.empty() ? "" : ",") + k;
    detail::warn("Early stopping conditioned on metric `" + o_.monitor +
                 "` which is not available. Available metrics are: " + keys);
    return;
  }
  if (epoch < o_.start_from_epoch) return;
  // Weights after the first epoch, in case no epoch ever improves.
  if (o_.restore_best_weights && !have_best_weights_) {
    best_weights_ = model().get_weights();
    have_best_weights_ = true;
  }
  ++wait_;
  if (!best_ || improved(*current, *best_)) {
    best_ = *current;
    best_epoch_ = epoch;
    if (o_.restore_best_weights) best_weights_ = model().get_weights();
    if (!o_.baseline || improved(*current, *o_.baseline)) wait_ = 0;
    return;
  }
  if (wait_ >= o_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    model().set_stop_training(true);
  }
}

void EarlyStopping::on_train_end(const Logs&) {
  if (stopped_epoch_ > 0 && o_.verbose > 0)
    detail::print_msg("Epoch " + std::to_string(stopped_epoch_ + 1) + ": early stopping");
  if (o_.restore_best_weights && have_best_weights_) {
    if (o_.verbose > 0)
      detail::print_msg("Restoring model weights from the end of the best epoch: " + std::to_string(best_epoch_ + 1) +
                        ".");
    model().set_weights(best_weights_);
  }
}

void TerminateOnNaN::on_batch_end(int64_t batch, const Logs& logs) {
  std::optional<double> loss = logs.get("loss");
  if (loss && (std::isnan(*loss) || std::isinf(*loss))) {
    detail::print_msg("Batch " + std::to_string(batch) + ": Invalid loss, terminating training");
    model().set_stop_training(true);
  }
}

}  // namespace keras::callbacks
