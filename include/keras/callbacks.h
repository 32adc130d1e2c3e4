#pragma once
// Callbacks (keras.callbacks): hooks fit() and evaluate() call at the start and end of
// training, epochs and batches. Subclass Callback for your own, or use LambdaCallback.
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "keras/history.h"
#include "keras/tensor.h"

namespace keras {

class Model;
class FunctionalImpl;

namespace callbacks {

class Callback {
 public:
  virtual ~Callback() = default;

  virtual void on_train_begin(const Logs&) {}
  virtual void on_train_end(const Logs&) {}
  virtual void on_epoch_begin(int /*epoch*/, const Logs&) {}
  // The logs may be extended (ReduceLROnPlateau adds "learning_rate"); later callbacks,
  // History and the progress bar see the additions.
  virtual void on_epoch_end(int /*epoch*/, Logs&) {}
  // By default these call on_batch_begin / on_batch_end, as in Keras.
  virtual void on_train_batch_begin(int64_t batch, const Logs& logs) { on_batch_begin(batch, logs); }
  virtual void on_train_batch_end(int64_t batch, const Logs& logs) { on_batch_end(batch, logs); }
  virtual void on_batch_begin(int64_t /*batch*/, const Logs&) {}
  virtual void on_batch_end(int64_t /*batch*/, const Logs&) {}
  virtual void on_test_begin(const Logs&) {}
  virtual void on_test_end(const Logs&) {}
  virtual void on_test_batch_begin(int64_t /*batch*/, const Logs&) {}
  virtual void on_test_batch_end(int64_t /*batch*/, const Logs&) {}

  // Keras's callback.model: the model being trained (set by fit() and evaluate()).
  Model model() const;
  const History::Params& params() const { return params_; }
  void set_model(const Model& model);
  void set_params(const History::Params& params) { params_ = params; }

 private:
  std::shared_ptr<FunctionalImpl> model_;
  History::Params params_;
};

// A callback given to fit(): a shared pointer (to read its state afterwards) or any callback
// object, copied (callbacks::EarlyStopping({.patience = 2})).
class CallbackRef {
 public:
  template <class T>
  requires std::derived_from<T, Callback> CallbackRef(std::shared_ptr<T> callback)
      : ptr_(std::move(callback)) {}  // NOLINT
  template <class T>
  requires std::derived_from<std::decay_t<T>, Callback> CallbackRef(T&& callback)
      : ptr_(std::make_shared<std::decay_t<T>>(std::forward<T>(callback))) {}  // NOLINT
  Callback* operator->() const { return ptr_.get(); }
  Callback& operator*() const { return *ptr_; }
  const std::shared_ptr<Callback>& ptr() const { return ptr_; }

 private:
  std::shared_ptr<Callback> ptr_;
};

// Functions called at the corresponding hooks; empty ones are skipped.
struct LambdaCallbackOptions {
  std::function<void(int, Logs&)> on_epoch_end;
  std::function<void(int, const Logs&)> on_epoch_begin;
  std::function<void(int64_t, const Logs&)> on_train_batch_begin;
  std::function<void(int64_t, const Logs&)> on_train_batch_end;
  std::function<void(const Logs&)> on_train_begin;
  std::function<void(const Logs&)> on_train_end;
};
class LambdaCallback : public Callback {
 public:
  explicit LambdaCallback(LambdaCallbackOptions options) : o_(std::move(options)) {}
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_train_batch_begin(int64_t batch, const Logs& logs) override;
  void on_train_batch_end(int64_t batch, const Logs& logs) override;
  void on_train_begin(const Logs& logs) override;
  void on_train_end(const Logs& logs) override;

 private:
  LambdaCallbackOptions o_;
};

// Stops training when `monitor` has not improved for `patience` epochs.
struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0;
  int patience = 0;
  int verbose = 0;
  std::string mode = "auto";  // "min", "max", or by the metric's direction
  std::optional<double> baseline;
  bool restore_best_weights = false;
  int start_from_epoch = 0;
};
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(const EarlyStoppingOptions& options = {});
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(const Logs& logs) override;
  // 0 when training was not stopped early.
  int stopped_epoch() const { return stopped_epoch_; }
  int best_epoch() const { return best_epoch_; }
  std::optional<double> best() const { return best_; }
  int wait() const { return wait_; }

 private:
  bool improved(double value, double reference) const;
  EarlyStoppingOptions o_;
  bool maximize_ = false;
  bool mode_resolved_ = false;
  double min_delta_ = 0;
  int wait_ = 0, stopped_epoch_ = 0, best_epoch_ = 0;
  std::optional<double> best_;
  std::vector<Tensor> best_weights_;
  bool have_best_weights_ = false;
};

// Multiplies the learning rate by `factor` when `monitor` has stopped improving.
struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;
  int patience = 10;
  int verbose = 0;
  std::string mode = "auto";
  double min_delta = 1e-4;
  int cooldown = 0;
  double min_lr = 0.0;
};
class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(const ReduceLROnPlateauOptions& options = {});
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

 private:
  ReduceLROnPlateauOptions o_;
  bool maximize_ = false;
  double best_ = 0;
  int wait_ = 0, cooldown_counter_ = 0;
};

// Stops training when a batch's loss is NaN or infinite.
class TerminateOnNaN : public Callback {
 public:
  void on_batch_end(int64_t batch, const Logs& logs) override;
};

// Streams epoch results to a CSV file (epoch, then the log keys sorted), as Keras writes it.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::filesystem::path filename, std::string separator = ",", bool append = false);
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(const Logs& logs) override;

 private:
  std::filesystem::path filename_;
  std::string separator_;
  bool append_;
  bool write_header_ = true;
  std::vector<std::string> keys_;
  std::shared_ptr<std::ofstream> file_;
};

// Sets the learning rate at the start of each epoch to schedule(epoch, current_lr).
class LearningRateScheduler : public Callback {
 public:
  explicit LearningRateScheduler(std::function<double(int epoch, double lr)> schedule, int verbose = 0);
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

 private:
  std::function<double(int, double)> schedule_;
  int verbose_;
};

// Saves the model (or its weights) after each epoch; filepath may hold Python-style format
// fields from the logs: "ckpt-{epoch:02d}-{val_loss:.2f}.keras".
struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  int verbose = 0;
  bool save_best_only = false;
  bool save_weights_only = false;
  std::string mode = "auto";
  std::optional<double> initial_value_threshold;
};
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string filepath, const ModelCheckpointOptions& options = {});
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  std::optional<double> best() const { return best_; }

 private:
  std::string filepath_;
  ModelCheckpointOptions o_;
  bool maximize_ = false;
  bool mode_resolved_ = false;
  std::optional<double> best_;
};

// The name Python's str.format would make of `pattern` with epoch and the logs, for
// ModelCheckpoint file names: {name}, {name:02d}, {name:.4f}, {name:e}.
std::string format_filepath(const std::string& pattern, int epoch, const Logs& logs);

}  // namespace callbacks
}  // namespace keras
