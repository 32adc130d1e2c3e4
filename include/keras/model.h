#pragma once
// Models: the functional Model (a graph of layer calls) and Sequential (a stack of layers).
// Both are layers too, so a model can be called inside another model.
#include <filesystem>
#include <iosfwd>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "keras/callbacks.h"
#include "keras/history.h"
#include "keras/layer.h"
#include "keras/losses.h"
#include "keras/metrics.h"
#include "keras/optimizers.h"
#include "keras/runtime.h"

namespace keras {

class FunctionalImpl;
class SequentialImpl;

// keras.Input: a symbolic input of `shape` (batch excluded), creating an InputLayer.
struct InputOptions {
  Shape shape;
  std::string name;
  std::optional<Dim> batch_size;
};
KerasTensor Input(Shape shape, std::string name = "");
KerasTensor Input(const InputOptions& options);

struct SummaryOptions {
  // "keras3" (default, Keras 3's box table) or "keras2" (tf.keras 2.13+ plain table).
  std::string style = "keras3";
  // Total width; 0 = as Keras picks it: min(default, terminal columns - 4), 76 off a terminal.
  int line_length = 0;
};

struct PredictOptions {
  int batch_size = 32;
};

// Keras's compile() arguments (KERAS_SPEC §9.3). Strings resolve as in Keras: "adam",
// "categorical_crossentropy", "accuracy" (picked by the shapes of y and the output).
struct CompileOptions {
  optimizers::Optimizer optimizer = "rmsprop";
  // One loss for every output, or (`losses`) one per output in model.outputs order, as
  // Keras's list form (an empty Loss leaves that output untrained).
  losses::Loss loss;
  std::vector<losses::Loss> losses;
  // The total loss is sum(loss_weights[i] * loss_i); empty: all 1.
  std::vector<double> loss_weights;
  // Metrics for every output, or (`output_metrics`) a list per output, as Keras's list of lists.
  // With several outputs the logs name them "<output name>_<metric>" (and "<output name>_loss").
  std::vector<metrics::Metric> metrics;
  std::vector<std::vector<metrics::Metric>> output_metrics;
  // Metrics weighted by sample_weight/class_weight (plain metrics are not), for every output;
  // named "weighted_<name>" when a plain metric has the same name.
  std::vector<metrics::Metric> weighted_metrics;
  // Keras's TensorFlow backend (tf.keras 2, Keras 3 on TensorFlow: what nearly every saved model
  // was trained with) computes the crossentropies of an output made by a softmax or sigmoid
  // activation from that activation's logits, unclipped (losses::LossImpl::on_logits), in the
  // loss, its gradient and crossentropy metrics alike. false: its JAX and torch backends' rule,
  // the clipped probabilities.
  bool crossentropy_from_activation_logits = true;
};

// fit()'s validation_data: inputs, targets and optional per-sample weights.
struct ValidationData {
  ValidationData() = default;
  ValidationData(Tensor x, Tensor y, Tensor sample_weight = {});
  ValidationData(std::vector<Tensor> x, Tensor y, Tensor sample_weight = {});
  ValidationData(std::vector<Tensor> x, std::vector<Tensor> y, Tensor sample_weight = {});
  bool empty() const { return x.empty(); }

  std::vector<Tensor> x;
  std::vector<Tensor> y;  // one array per model output
  Tensor sample_weight;
};

// Keras's fit() arguments and defaults (KERAS_SPEC §9.1).
struct FitOptions {
  int batch_size = 32;
  int epochs = 1;
  int verbose = 1;  // Keras's "auto": 1 (progress bar); 2: one line per epoch; 0: silent
  std::vector<callbacks::CallbackRef> callbacks;
  double validation_split = 0.0;   // the last fraction of the data, taken before shuffling
  ValidationData validation_data;  // overrides validation_split
  bool shuffle = true;             // a new permutation every epoch (keras::set_random_seed)
  std::map<int, double> class_weight;
  Tensor sample_weight;
  int initial_epoch = 0;
  int validation_batch_size = 0;  // 0: batch_size
  int validation_freq = 1;
  // Batches per epoch; 0: ceil(n / batch_size). Fewer than that: the next epoch goes on where
  // this one stopped (a new pass, newly shuffled, starts once the data is used up); more:
  // the epoch ends when the data runs out, with Keras's warning.
  int steps_per_epoch = 0;
};

struct EvaluateOptions {
  int batch_size = 32;
  int verbose = 1;
  Tensor sample_weight;
  std::vector<callbacks::CallbackRef> callbacks;
};

class Model : public Layer {
 public:
  Model() = default;
  Model(const KerasTensor& inputs, const KerasTensor& outputs, std::string name = "");
  Model(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, std::string name = "");
  explicit Model(std::shared_ptr<FunctionalImpl> impl);

  const std::string& name() const;
  // model.layers: Sequential excludes its InputLayer, Functional includes them.
  std::vector<Layer> layers() const;
  Layer get_layer(const std::string& name) const;
  // model.layers[index] (negative counts from the end, as Python's); ValueError when out of range.
  Layer get_layer(int index) const;
  const std::vector<KerasTensor>& inputs() const;
  const std::vector<KerasTensor>& outputs() const;

  // Stateful RNNs (stateful=True) carry their states from one batch and one call to the next,
  // as Keras: predict's batch_size must be their fixed batch size. reset_states() zeroes them.
  void reset_states() const;
  std::vector<Tensor> predict(const std::vector<Tensor>& x, const PredictOptions& options = {}) const;
  Tensor predict(const Tensor& x, const PredictOptions& options = {}) const;
  // One batch, all of x at once, into `outputs` (reused when their shapes already fit: a call
  // like the one before it allocates nothing).
  void predict_on_batch(const std::vector<Tensor>& x, std::vector<Tensor>& outputs) const;
  Tensor predict_on_batch(const Tensor& x) const;

  // What the compiled plan for these input shapes (batch included) does: for benchmarks and
  // for seeing which backend runs which layer.
  struct PlanInfo {
    double flops = 0;  // of the products (dense, convolutions): 2 per multiply-add
    size_t arena_bytes = 0;
    std::string steps;  // one line per step: op, layer, backend, output shape
  };
  // training: the plan fit() runs for these shapes (forward and backward ops).
  PlanInfo plan_info(const std::vector<Shape>& input_shapes, bool training = false) const;
  // Where predict's time goes: each step of the plan for x's shapes with its median time over
  // `runs` runs, its share and its GFLOP/s (kerascpp bench --profile).
  std::string profile(const std::vector<Tensor>& x, int runs = 20) const;

  // Where the model's math runs (keras/runtime.h); the default runtime unless set.
  void set_runtime(std::shared_ptr<Runtime> runtime) const;
  std::shared_ptr<Runtime> runtime() const;

  // Training (src/engine/trainer.cpp). compile() keeps its state in the model, shared by copies.
  void compile(const CompileOptions& options = {});
  bool compiled() const;
  // Keras's fit(): trains on x (one array per model input) and y; returns the History.
  History fit(const Tensor& x, const Tensor& y, const FitOptions& options = {});
  History fit(const std::vector<Tensor>& x, const Tensor& y, const FitOptions& options = {});
  // Several outputs: one target array per output, in model.outputs order.
  History fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const FitOptions& options = {});
  // Keras's evaluate(): [loss, compiled metrics...] in compile order, named (keras/history.h:
  // score[0] or score.loss(), score["accuracy"], auto [loss, acc] = model.evaluate(x, y)).
  Scores evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options = {});
  Scores evaluate(const std::vector<Tensor>& x, const Tensor& y, const EvaluateOptions& options = {});
  Scores evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const EvaluateOptions& options = {});
  // One gradient step on one batch; returns [loss, metrics...] (running since reset_metrics()).
  Scores train_on_batch(const std::vector<Tensor>& x, const Tensor& y, const Tensor& sample_weight = {});
  Scores test_on_batch(const std::vector<Tensor>& x, const Tensor& y, const Tensor& sample_weight = {});
  Scores train_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sample_weight = {});
  Scores test_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sample_weight = {});
  void reset_metrics();
  // model.optimizer, model.loss, model.metrics (the "loss" mean first), model.metrics_names.
  optimizers::Optimizer optimizer() const;
  losses::Loss loss() const;
  std::vector<metrics::Metric> metrics() const;
  std::vector<std::string> metrics_names() const;
  // model.stop_training: a callback sets it to end fit() after the current batch or epoch.
  bool stop_training() const;
  void set_stop_training(bool stop) const;
  // Keras 3's model.get_compile_config() / compile_from_config() (the .keras "compile_config").
  nlohmann::json compile_config() const;
  void compile_from_config(const nlohmann::json& config);

  Dim count_params() const;
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& weights) const;
  // Keras's model.load_weights(): a Keras 2 .h5 (weights-only or full model, matched by layer
  // order), a Keras 3 .weights.h5, or a .keras archive. Throws FileError / ValueError.
  void load_weights(const std::filesystem::path& path) const;
  // Keras's model.save(): ".keras" writes the Keras 3 archive, ".h5"/".hdf5" the HDF5 model
  // layout (with Keras 3 configs, as Keras 3 writes it). The file appears complete or not at all.
  void save(const std::filesystem::path& path) const;
  // ".weights.h5": Keras 3's weights file; other ".h5"/".hdf5": Keras 2's weights-only layout.
  void save_weights(const std::filesystem::path& path) const;

  // Keras's model.summary(); writes to std::cout unless `os` is given.
  void summary(const SummaryOptions& options = {}) const;
  void summary(std::ostream& os, const SummaryOptions& options = {}) const;
  std::string summary_string(const SummaryOptions& options = {}) const;

  // Keras 3 model.to_json().
  std::string to_json() const;

  FunctionalImpl& functional() const;
};

// An entry of Sequential's constructor list: a layer, or the result of keras::Input.
class SequentialItem {
 public:
  SequentialItem(Layer layer) : layer_(std::move(layer)) {}  // NOLINT
  SequentialItem(const KerasTensor& input);                  // NOLINT
  const Layer& layer() const { return layer_; }

 private:
  Layer layer_;
};

class Sequential : public Model {
 public:
  explicit Sequential(std::string name = "");
  Sequential(std::initializer_list<SequentialItem> layers, std::string name = "");
  Sequential(const std::vector<Layer>& layers, std::string name = "");

  void add(const SequentialItem& layer);
  // Removes the last layer (not the InputLayer).
  void pop();
  // Builds the model for inputs of `input_shape` (batch included) when it has no Input.
  void build(const Shape& input_shape);

  SequentialImpl& sequential() const;
};

// Forgets automatic names (Keras's keras.backend.clear_session()).
void clear_session();

}  // namespace keras
