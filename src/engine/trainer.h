#pragma once
// The training state compile() attaches to a model, and the pieces of the training loop other
// parts of the library use (saving reads the trainable variables and optimizer).
#include <memory>
#include <string>
#include <vector>

#include "engine/functional.h"
#include "keras/history.h"
#include "keras/losses.h"
#include "keras/metrics.h"
#include "keras/model.h"
#include "keras/optimizers.h"

namespace keras::engine {

// A compiled metric: `metrics` ignore sample weights, `weighted_metrics` use them (Keras's
// CompileMetrics); key: its name in the logs.
struct TrackedMetric {
  metrics::Metric metric;  // strings resolved on the first batch
  bool weighted = false;
  std::string key;
};

// What compile() set up for one model output.
struct OutputTraining {
  std::string name;   // the output's layer name: log keys "<name>_loss", "<name>_<metric>"
  losses::Loss loss;  // empty: the output is not trained
  double loss_weight = 1.0;
  std::vector<TrackedMetric> metrics;
  std::shared_ptr<metrics::Mean> loss_tracker;  // only with several outputs
};

struct TrainingState {
  optimizers::Optimizer optimizer;
  CompileOptions options;  // as given, for model.loss, compile_config
  std::vector<OutputTraining> outputs;
  std::shared_ptr<metrics::Mean> loss_tracker = std::make_shared<metrics::Mean>(metrics::MeanOptions{"loss"});
  bool stop_training = false;
  bool multi_output() const { return outputs.size() > 1; }
};

// A trainable variable of a model, with Keras's path ("dense/kernel") and its index in
// FunctionalImpl::variables() (the order backward() returns gradients in).
struct TrainableVariable {
  Variable* variable;
  std::string path;
  size_t index;
};
// Keras's model.trainable_variables: variables of trainable layers that are trainable
// themselves, in model order.
std::vector<TrainableVariable> trainable_variables(FunctionalImpl& model);

// Builds the compiled optimizer for the model's trainable variables (slots named after their
// paths), as Keras does before loading saved optimizer variables. Needs compile().
void build_optimizer(FunctionalImpl& model);

// The compiled state, or ValueError "You must call `compile()` before using the model."
TrainingState& training_state(FunctionalImpl& model);

// One batch: inputs, targets, per-sample weights (may be empty).
struct Batch {
  std::vector<Tensor> x;
  std::vector<Tensor> y;  // one per output
  Tensor sample_weight;
};
// A gradient step: training forward pass, loss, backward pass, optimizer update, state updates
// (BatchNormalization), metric updates. Returns the running logs, keys sorted.
Logs train_step(FunctionalImpl& model, const Batch& batch);
// An inference forward pass updating the loss tracker and metrics; returns the running logs.
Logs test_step(FunctionalImpl& model, const Batch& batch);
// The running loss and metrics, keys sorted (Keras's get_metrics_result).
Logs metrics_result(FunctionalImpl& model);

}  // namespace keras::engine
