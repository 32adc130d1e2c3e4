#pragma once
// What compile() attaches to a model (keras/src/trainers/compile_utils.py: CompileLoss,
// CompileMetrics): the loss and metrics spread over the outputs, their log keys in Keras's
// order, and the running values a step updates.
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

// The compiled state, or ValueError "You must call `compile()` before using the model."
TrainingState& training_state(FunctionalImpl& model);

// compile()'s arguments spread over the model's outputs; a no-op once done or before the model
// has a graph. Mismatched counts throw ValueError.
void prepare_outputs(FunctionalImpl& model, TrainingState& s);

// One batch: inputs, targets, per-sample weights (may be empty).
struct Batch {
  std::vector<Tensor> x;
  std::vector<Tensor> y;  // one per output
  Tensor sample_weight;
};

// A batch's predictions: each output, and its Keras mask and its logits (a softmax's or
// sigmoid's input, graph::PlanOptions::logits), empty tensors where it has none.
struct Predictions {
  std::vector<Tensor> outputs, masks, logits;
};

// The compiled outputs, checked against a batch: a loss to compute and one target per output.
TrainingState& ready_state(FunctionalImpl& model, const Batch& b);
// String metrics ("accuracy") become concrete metrics for the first batch's shapes.
void resolve_metrics(TrainingState& s, const std::vector<Tensor>& y, const std::vector<Tensor>& y_pred);
// As Keras, an output's mask weighs the values of the metrics that average per-sample values
// (MeanMetricWrapper: accuracies, errors, loss metrics).
void update_metrics(TrainingState& s, const Batch& b, const Predictions& p, double total,
                    const std::vector<double>& losses);
// Each output's loss (weighted into the total; masked values left out, as Keras) and, when
// `grads` is given, the gradient of the total with respect to each output and (logits_grads)
// to each output's logits where it has them: a crossentropy reads those as Keras's TensorFlow
// backend does (CompileOptions::crossentropy_from_activation_logits), its output gets zeros.
double compute_losses(const TrainingState& s, const Batch& b, const Predictions& p, std::vector<double>& values,
                      std::vector<Tensor>* grads, std::vector<Tensor>* logits_grads);
void reset_metrics(TrainingState& s);
// The running loss and metrics, keys sorted (Keras's get_metrics_result).
Logs metrics_result(FunctionalImpl& model);

// Trainer._flatten_metrics_in_order: loss, then the compiled metrics, then anything else sorted.
Scores flatten_in_order(FunctionalImpl& f, const Logs& logs);

// Visits the compiled metrics in Keras's order: every output's plain metrics, then every
// output's weighted metrics.
template <class State, class F>
void for_each_metric(State& s, F f) {
  for (bool weighted : {false, true})
    for (auto& out : s.outputs)
      for (auto& m : out.metrics)
        if (m.weighted == weighted) f(out, m);
}

// Visits what the logs report, in Keras's order, as f(key, metric): the loss, the per-output
// losses, then the compiled metrics. Before the first batch (outputs not prepared) it visits
// the metrics compile() was given; a string metric stays empty until the first batch.
template <class F>
void for_each_logged(const TrainingState& s, F f) {
  f(std::string("loss"), metrics::Metric(s.loss_tracker));
  if (s.outputs.empty()) {
    for (const metrics::Metric& m : s.options.metrics) f(m.name(), m);
    return;
  }
  for (const OutputTraining& o : s.outputs)
    if (o.loss_tracker && o.loss) f(o.loss_tracker->name(), metrics::Metric(o.loss_tracker));
  for_each_metric(s, [&](const OutputTraining&, const TrackedMetric& m) { f(m.key, m.metric); });
}

}  // namespace keras::engine
