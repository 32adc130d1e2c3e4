// compile / fit / evaluate with Keras 3's semantics (keras/src/trainers/trainer.py,
// data_adapters, compile_utils; KERAS_SPEC §9): steps of ceil(n / batch_size) with the last
// partial batch, validation_split taking the last fraction before shuffling, a new shuffle each
// epoch, the loss shown as a running mean weighted by batch size, stateful metrics, History.
#include "engine/train/trainer.h"

#include <algorithm>
#include <iostream>
#include <optional>
#include <random>

#include "engine/random.h"
#include "engine/train/callback_list.h"
#include "engine/train/data_adapter.h"
#include "keras/errors.h"
#include "keras/model.h"

namespace keras {

namespace engine {

namespace {

void collect_trainable(FunctionalImpl& model, bool trainable, std::vector<TrainableVariable>& out, size_t& index) {
  for (const Layer& l : model.layers()) {
    bool layer_trainable = trainable && l->trainable();
    if (auto* nested = dynamic_cast<FunctionalImpl*>(l.impl().get())) {
      collect_trainable(*nested, layer_trainable, out, index);
      continue;
    }
    for (Variable* v : l->variables()) {
      if (layer_trainable && v->trainable) out.push_back({v, l.name() + "/" + v->name, index, l.impl().get()});
      ++index;
    }
  }
}

// Keras's regularization losses (Layer.losses): every trainable weight's regularizer penalty,
// with its gradient added to `grads` (one per trainable variable) when given.
double regularization(const std::vector<TrainableVariable>& vars, std::vector<Tensor>* grads) {
  double total = 0;
  for (size_t i = 0; i < vars.size(); ++i)
    if (regularizers::Regularizer r = vars[i].layer->regularizer_of(*vars[i].variable))
      total += r->penalty(vars[i].variable->value, grads ? &(*grads)[i] : nullptr);
  return total;
}

}  // namespace

std::vector<TrainableVariable> trainable_variables(FunctionalImpl& model) {
  std::vector<TrainableVariable> out;
  size_t index = 0;
  collect_trainable(model, model.trainable(), out, index);
  return out;
}

void build_optimizer(FunctionalImpl& model) {
  TrainingState& s = training_state(model);
  if (s.optimizer->built()) return;
  std::vector<const Variable*> vars;
  std::vector<std::string> paths;
  for (const TrainableVariable& tv : trainable_variables(model)) {
    vars.push_back(tv.variable);
    paths.push_back(tv.path);
  }
  s.optimizer->build(vars, paths);
}

// The step runs on the model's training plan for the batch's shapes: forward ops, then the loss
// and its gradients w.r.t. the outputs (compile_utils), then the backward ops, whose variable
// gradients go to the optimizer.
Logs train_step(FunctionalImpl& model, const Batch& b) {
  TrainingState& s = ready_state(model, b);
  // The step's randomness follows the seed and the optimizer's iteration count (saved with
  // the model), so training resumed from a checkpoint repeats the uninterrupted run.
  uint64_t seed = mix_seed(training_seed(), uint64_t(s.optimizer->iterations()));
  std::vector<const Shape*> shapes;
  std::vector<const float*> in;
  for (const Tensor& t : b.x) {
    shapes.push_back(&t.shape());
    in.push_back(t.data());
  }
  bool logits = s.options.crossentropy_from_activation_logits;
  std::shared_ptr<const graph::Plan> plan = model.training_plan(shapes, logits, /*activity=*/true);
  graph::Plan::TrainingRun run(*plan);
  run.forward(in, seed);
  Predictions p{run.outputs(), {}, {}};
  // Copies of what the plan made beside the outputs, empty where it made none.
  auto side = [&](std::optional<Shape> shape, const float* from) {
    Tensor t = shape ? Tensor::empty(*shape) : Tensor();
    if (shape) std::copy(from, from + t.size(), t.data());
    return t;
  };
  for (size_t i = 0; i < p.outputs.size(); ++i) {
    p.masks.push_back(side(plan->output_mask_shape(i), run.output_mask(i)));
    p.logits.push_back(side(plan->output_logits_shape(i), run.output_logits(i)));
  }
  resolve_metrics(s, b.y, p.outputs);
  std::vector<double> values;
  std::vector<Tensor> output_grads, logits_grads;
  double total = compute_losses(s, b, p, values, &output_grads, &logits_grads);
  // Keras's add_loss(activity_regularizer(output)) of the layers that have one.
  std::vector<Tensor> activity_grads;
  total += run.activity_penalty(&activity_grads);
  std::vector<const float*> dy, dz, da;
  for (const Tensor& g : output_grads) dy.push_back(g.data());
  for (const Tensor& g : logits_grads) dz.push_back(g.empty() ? nullptr : g.data());
  for (const Tensor& g : activity_grads) da.push_back(g.data());
  run.backward(dy, dz, da);
  build_optimizer(model);
  std::vector<Tensor> grads;
  std::vector<Variable*> targets;
  const std::vector<const Variable*>& with_grad = plan->gradient_variables();
  std::vector<TrainableVariable> vars = trainable_variables(model);
  for (const TrainableVariable& tv : vars) {
    auto it = std::find(with_grad.begin(), with_grad.end(), tv.variable);
    Tensor& g = grads.emplace_back(Tensor::zeros(tv.variable->value.shape()));
    if (it != with_grad.end()) {
      const float* src = run.gradient(static_cast<size_t>(it - with_grad.begin()));
      std::copy(src, src + g.size(), g.data());
    }
    targets.push_back(tv.variable);
  }
  total += regularization(vars, &grads);
  s.optimizer->apply(grads, targets, *model.runtime());
  // Keras's optimizer projects each trainable variable through its constraint after the update.
  for (const TrainableVariable& tv : vars)
    if (constraints::Constraint c = tv.layer->constraint_of(*tv.variable)) c->apply(tv.variable->value);
  run.apply_state_updates();
  // Every weight may have moved (moving statistics too): compiled plans must notice.
  for (Variable* v : model.variables()) ++v->version;
  update_metrics(s, b, p, total, values);
  return metrics_result(model);
}

Logs test_step(FunctionalImpl& model, const Batch& b) {
  TrainingState& s = ready_state(model, b);
  // Inference runs on the compiled plan, as predict: made once per batch shape and weights.
  Predictions p;
  bool logits = s.options.crossentropy_from_activation_logits;
  double activity = 0;
  p.outputs = model.infer(b.x, &p.masks, logits ? &p.logits : nullptr, &activity);
  if (!logits) p.logits.resize(p.outputs.size());
  resolve_metrics(s, b.y, p.outputs);
  std::vector<double> values;
  double total = compute_losses(s, b, p, values, nullptr, nullptr) + activity +
                 regularization(trainable_variables(model), nullptr);
  update_metrics(s, b, p, total, values);
  return metrics_result(model);
}

namespace {

Logs run_evaluation(FunctionalImpl& f, const Data& d, int batch_size, CallbackList& cbs) {
  TrainingState& s = training_state(f);
  cbs.each([](callbacks::Callback& c) { c.on_test_begin({}); });
  reset_metrics(s);
  std::vector<Dim> order = identity(d.n);
  for (Dim step = 0, steps = steps_for(d.n, batch_size); step < steps; ++step) {
    cbs.each([&](callbacks::Callback& c) { c.on_test_batch_begin(step, {}); });
    Logs logs = test_step(f, batch_of(d, order, step * batch_size, std::min(d.n, (step + 1) * batch_size)));
    cbs.each([&](callbacks::Callback& c) { c.on_test_batch_end(step, logs); });
  }
  Logs logs = metrics_result(f);
  cbs.each([&](callbacks::Callback& c) { c.on_test_end(logs); });
  return logs;
}

}  // namespace

// Sequential models without an Input are built by their first data, as in Keras.
void ensure_built(FunctionalImpl& f, const std::vector<Tensor>& x) {
  if (f.has_graph() || x.empty()) return;
  if (auto* seq = dynamic_cast<SequentialImpl*>(&f)) seq->build_for(x[0].shape());
}

}  // namespace engine

History Model::fit(const Tensor& x, const Tensor& y, const FitOptions& options) {
  return fit(std::vector<Tensor>{x}, y, options);
}

History Model::fit(const std::vector<Tensor>& x, const Tensor& y, const FitOptions& options) {
  return fit(x, std::vector<Tensor>{y}, options);
}

History Model::fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const FitOptions& o) {
  using namespace engine;
  FunctionalImpl& f = functional();
  TrainingState& s = training_state(f);
  check_batch_size(o.batch_size, "batch_size");
  if (o.validation_freq <= 0) throw ValueError("`validation_freq` must be a positive integer");
  if (!o.class_weight.empty() && !o.sample_weight.empty())
    throw ValueError("You cannot `class_weight` and `sample_weight` at the same time.");
  ensure_built(f, x);
  Data train = make_data(x, y, o.sample_weight), val;
  if (!o.validation_data.empty()) {
    const ValidationData& v = o.validation_data;
    val = make_data(v.x, v.y, v.sample_weight);
  } else if (o.validation_split > 0) {
    std::tie(train, val) = split(train, o.validation_split);
  }
  if (!o.class_weight.empty()) {
    if (train.y.size() != 1) throw ValueError("`class_weight` is only supported for Models with a single output.");
    train.sample_weight = class_weights(train.y[0], o.class_weight);
  }

  if (o.steps_per_epoch < 0) throw ValueError("`steps_per_epoch` must be a positive integer or 0 (all the data)");
  Dim batches = steps_for(train.n, o.batch_size);
  Dim steps = o.steps_per_epoch > 0 ? o.steps_per_epoch : batches;
  History::Params params{o.verbose, o.epochs, steps};
  CallbackList cbs(o.callbacks, *this, params);
  auto history = std::make_shared<HistoryCallback>();
  history->history.params = params;
  cbs.add(history, *this, params);
  if (o.verbose != 0) cbs.add(make_progbar_logger(o.verbose, o.epochs, steps, progbar_options()), *this, params);

  s.stop_training = false;
  uint64_t shuffle_seed = mix_seed(training_seed(), hash_name("shuffle"));
  int val_batch = o.validation_batch_size > 0 ? o.validation_batch_size : o.batch_size;
  Logs training_logs;
  // A pass over the data: its order and how many of its batches were used (Keras's
  // EpochIterator keeps its iterator across epochs when steps_per_epoch is given).
  std::vector<Dim> order;
  Dim used = batches;
  cbs.each([](callbacks::Callback& c) { c.on_train_begin({}); });
  for (int epoch = o.initial_epoch; epoch < o.epochs; ++epoch) {
    engine::reset_metrics(s);
    cbs.each([&](callbacks::Callback& c) { c.on_epoch_begin(epoch, {}); });
    if (used >= batches || o.steps_per_epoch == 0) {
      order = identity(train.n);
      used = 0;
      if (o.shuffle) {
        std::mt19937_64 rng(mix_seed(shuffle_seed, uint64_t(epoch)));  // epoch e shuffles alike when resumed
        shuffle(order, rng);
      }
    }
    for (Dim step = 0; step < steps; ++step) {
      if (used >= batches) {
        std::cerr << "UserWarning: Your input ran out of data; interrupting training. Make sure that your dataset "
                     "or generator can generate at least `steps_per_epoch * epochs` batches.\n";
        break;
      }
      cbs.each([&](callbacks::Callback& c) { c.on_train_batch_begin(step, {}); });
      Dim begin = used * o.batch_size;
      Logs logs = train_step(f, batch_of(train, order, begin, std::min(train.n, begin + o.batch_size)));
      ++used;
      cbs.each([&](callbacks::Callback& c) { c.on_train_batch_end(step, logs); });
      if (s.stop_training) break;
    }
    Logs epoch_logs = metrics_result(f);
    if (!val.empty() && (epoch + 1) % o.validation_freq == 0)
      for (const auto& [k, v] : run_evaluation(f, val, val_batch, cbs)) epoch_logs["val_" + k] = v;
    cbs.each([&](callbacks::Callback& c) { c.on_epoch_end(epoch, epoch_logs); });
    training_logs = epoch_logs;
    if (s.stop_training) break;
  }
  cbs.each([&](callbacks::Callback& c) { c.on_train_end(training_logs); });
  return history->history;
}

Scores Model::evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options) {
  return evaluate(std::vector<Tensor>{x}, y, options);
}

Scores Model::evaluate(const std::vector<Tensor>& x, const Tensor& y, const EvaluateOptions& options) {
  return evaluate(x, std::vector<Tensor>{y}, options);
}

Scores Model::evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const EvaluateOptions& o) {
  using namespace engine;
  FunctionalImpl& f = functional();
  training_state(f);
  check_batch_size(o.batch_size, "batch_size");
  ensure_built(f, x);
  Data data = make_data(x, y, o.sample_weight);
  Dim steps = steps_for(data.n, o.batch_size);
  History::Params params{o.verbose, 1, steps};
  CallbackList cbs(o.callbacks, *this, params);
  if (o.verbose != 0) cbs.add(make_progbar_logger(o.verbose, 1, steps, progbar_options()), *this, params);
  return flatten_in_order(f, run_evaluation(f, data, o.batch_size, cbs));
}

Scores Model::train_on_batch(const std::vector<Tensor>& x, const Tensor& y, const Tensor& sample_weight) {
  return train_on_batch(x, std::vector<Tensor>{y}, sample_weight);
}

Scores Model::test_on_batch(const std::vector<Tensor>& x, const Tensor& y, const Tensor& sample_weight) {
  return test_on_batch(x, std::vector<Tensor>{y}, sample_weight);
}

Scores Model::train_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sample_weight) {
  engine::ensure_built(functional(), x);
  engine::Data d = engine::make_data(x, y, sample_weight);
  return engine::flatten_in_order(functional(), engine::train_step(functional(), {d.x, d.y, d.sample_weight}));
}

Scores Model::test_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sample_weight) {
  engine::ensure_built(functional(), x);
  engine::Data d = engine::make_data(x, y, sample_weight);
  return engine::flatten_in_order(functional(), engine::test_step(functional(), {d.x, d.y, d.sample_weight}));
}

}  // namespace keras
