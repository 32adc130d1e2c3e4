// keras.callbacks.ModelCheckpoint (keras/src/callbacks/model_checkpoint.py), saving once per
// epoch through Model::save / Model::save_weights (files appear complete or not at all).
#include <filesystem>

#include "callbacks/monitor.h"
#include "engine/pyformat.h"
#include "keras/callbacks.h"
#include "keras/errors.h"
#include "keras/model.h"

namespace keras::callbacks {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string five_decimals(double v) { return engine::python_format(v, ".5f"); }

}  // namespace

ModelCheckpoint::ModelCheckpoint(std::string filepath, const ModelCheckpointOptions& options)
    : filepath_(std::move(filepath)), o_(options), best_(options.initial_value_threshold) {
  if (o_.save_weights_only && !ends_with(filepath_, ".weights.h5"))
    throw ValueError(
        "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end in "
        "`.weights.h5` (Keras weights format). Received: filepath=" +
        filepath_);
  if (!o_.save_weights_only && !ends_with(filepath_, ".keras") && !ends_with(filepath_, ".h5"))
    throw ValueError("The filepath provided must end in `.keras` (Keras model format). Received: filepath=" +
                     filepath_);
}

void ModelCheckpoint::on_train_begin(const Logs&) {}

void ModelCheckpoint::on_epoch_end(int epoch, Logs& logs) {
  if (!mode_resolved_ && o_.save_best_only) {
    maximize_ = detail::monitor_maximizes(o_.mode, o_.monitor, model(), "ModelCheckpoint");
    mode_resolved_ = true;
  }
  std::string path = format_filepath(filepath_, epoch + 1, logs);
  std::string prefix = "\nEpoch " + std::to_string(epoch + 1) + ": ";
  if (o_.save_best_only) {
    std::optional<double> current = logs.get(o_.monitor);
    if (!current) {
      detail::warn("Can save best model only with " + o_.monitor + " available.");
    } else {
      std::string best_str = best_ ? five_decimals(*best_) : "None";
      bool improved = !best_ || (maximize_ ? *current > *best_ : *current < *best_);
      if (!improved) {
        if (o_.verbose > 0) detail::print_msg(prefix + o_.monitor + " did not improve from " + best_str);
        return;
      }
      if (o_.verbose > 0)
        detail::print_msg(prefix + o_.monitor + " improved from " + best_str + " to " + five_decimals(*current) +
                          ", saving model to " + path);
      best_ = *current;
    }
  } else if (o_.verbose > 0) {
    detail::print_msg(prefix + "saving model to " + path);
  }
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir);
  if (o_.save_weights_only)
    model().save_weights(path);
  else
    model().save(path);
  if (o_.verbose > 0) detail::print_msg(prefix + "finished saving model to " + path);
}

}  // namespace keras::callbacks
