// compile / fit / evaluate with Keras 3's semantics (keras/src/trainers/trainer.py,
// data_adapters, compile_utils; KERAS_SPEC §9): steps of ceil(n / batch_size) with the last
// partial batch, validation_split taking the last fraction before shuffling, a new shuffle each
// epoch, the loss shown as a running mean weighted by batch size, stateful metrics, History.
#include "engine/trainer.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <set>

#include "engine/allocator.h"
#include "engine/progbar.h"
#include "engine/pyformat.h"
#include "engine/random.h"
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
      if (layer_trainable && v->trainable) out.push_back({v, l.name() + "/" + v->name, index});
      ++index;
    }
  }
}

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

// compile()'s arguments spread over the model's outputs (Keras's CompileLoss/CompileMetrics
// build): one loss for all outputs or one per output, weights, metrics for all or per output.
void prepare_outputs(FunctionalImpl& model, TrainingState& s) {
  if (!s.outputs.empty() || !model.has_graph()) return;
  const CompileOptions& o = s.options;
  size_t n = model.outputs().size();
  auto check_count = [&](size_t got, const char* what) {
    if (got != n)
      throw ValueError("Model \"" + model.name() + "\" has " + std::to_string(n) + " outputs, but `" + what + "` has " +
                       std::to_string(got) + " entries");
  };
  if (!o.losses.empty()) check_count(o.losses.size(), "loss");
  if (!o.loss_weights.empty()) check_count(o.loss_weights.size(), "loss_weights");
  if (!o.output_metrics.empty()) check_count(o.output_metrics.size(), "metrics");
  for (size_t i = 0; i < n; ++i) {
    OutputTraining t;
    t.name = model.outputs()[i].node()->layer->name();
    t.loss = o.losses.empty() ? o.loss : o.losses[i];
    t.loss_weight = o.loss_weights.empty() ? 1.0 : o.loss_weights[i];
    // Each output gets its own metric objects (a string is a fresh metric per output).
    auto own = [&](const metrics::Metric& m) {
      return m.identifier().empty() || i == 0 ? m : metrics::Metric(m.identifier());
    };
    for (const metrics::Metric& m : o.output_metrics.empty() ? o.metrics : o.output_metrics[i])
      t.metrics.push_back({own(m), false, ""});
    for (const metrics::Metric& m : o.weighted_metrics) t.metrics.push_back({own(m), true, ""});
    if (n > 1) t.loss_tracker = std::make_shared<metrics::Mean>(metrics::MeanOptions{t.name + "_loss"});
    s.outputs.push_back(std::move(t));
  }
  // Log keys as CompileMetrics.result(): "<output>_" before the name with several outputs, a
  // repeated name gets "_1", "_2"..., a weighted metric clashing with a plain one "weighted_".
  std::map<std::string, int> seen;
  auto unique = [&](std::string name) {
    int k = seen[name]++;
    return k == 0 ? name : name + "_" + std::to_string(k);
  };
  for_each_metric(s, [&](OutputTraining& out, TrackedMetric& m) {
    std::string prefix = n > 1 ? out.name + "_" : "";
    std::string key = prefix + m.metric.name();
    m.key = m.weighted && seen.count(key) ? unique(prefix + "weighted_" + m.metric.name()) : unique(key);
  });
  int with_loss = 0;
  for (const OutputTraining& t : s.outputs) with_loss += t.loss ? 1 : 0;
  if (with_loss == 0) s.outputs.clear();
  // As CompileLoss: "<output>_loss" entries only when more than one loss is computed.
  if (with_loss == 1)
    for (OutputTraining& t : s.outputs) t.loss_tracker.reset();
}

// The compiled outputs, checked against a batch: a loss to compute and one target per output.
TrainingState& ready_state(FunctionalImpl& model, const Batch& b) {
  TrainingState& s = training_state(model);
  prepare_outputs(model, s);
  if (s.outputs.empty()) throw ValueError("No loss to compute. Provide a `loss` argument in `compile()`.");
  if (b.y.size() != s.outputs.size())
    throw ValueError("Model \"" + model.name() + "\" has " + std::to_string(s.outputs.size()) + " outputs, but " +
                     std::to_string(b.y.size()) + " target arrays were given");
  return s;
}

void resolve_metrics(TrainingState& s, const std::vector<Tensor>& y, const std::vector<Tensor>& y_pred) {
  for (size_t i = 0; i < s.outputs.size(); ++i)
    for (TrackedMetric& m : s.outputs[i].metrics) m.metric.resolve(y[i].shape(), y_pred[i].shape());
}

void update_metrics(TrainingState& s, const Batch& b, const std::vector<Tensor>& y_pred, double total,
                    const std::vector<double>& losses) {
  double n = double(b.x.at(0).dim(0));
  s.loss_tracker->update_value(total, n);
  for (size_t i = 0; i < s.outputs.size(); ++i) {
    OutputTraining& o = s.outputs[i];
    if (o.loss_tracker && o.loss) o.loss_tracker->update_value(losses[i], n);
    for (TrackedMetric& m : o.metrics)
      m.metric->update_state(b.y[i], y_pred[i], m.weighted ? b.sample_weight : Tensor());
  }
}

// Each output's loss (weighted into the total) and, when `grads` is given, the gradient of the
// total with respect to each output.
double compute_losses(const TrainingState& s, const Batch& b, const std::vector<Tensor>& outputs,
                      std::vector<double>& values, std::vector<Tensor>* grads) {
  double total = 0;
  values.assign(outputs.size(), 0.0);
  for (size_t i = 0; i < outputs.size(); ++i) {
    const OutputTraining& o = s.outputs[i];
    if (!o.loss) {
      if (grads) grads->push_back(Tensor::zeros(outputs[i].shape()));
      continue;
    }
    if (grads) {
      losses::LossValue lv = o.loss->value_and_grad(b.y[i], outputs[i], b.sample_weight);
      if (o.loss_weight != 1.0)
        for (float& g : lv.grad.values()) g = static_cast<float>(g * o.loss_weight);
      values[i] = lv.value;
      grads->push_back(std::move(lv.grad));
    } else {
      values[i] = (*o.loss)(b.y[i], outputs[i], b.sample_weight);
    }
    total += o.loss_weight * values[i];
  }
  return total;
}

}  // namespace

std::vector<TrainableVariable> trainable_variables(FunctionalImpl& model) {
  std::vector<TrainableVariable> out;
  size_t index = 0;
  collect_trainable(model, model.trainable(), out, index);
  return out;
}

TrainingState& training_state(FunctionalImpl& model) {
  if (!model.training) throw ValueError("You must call `compile()` before using the model.");
  return *model.training;
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

Logs metrics_result(FunctionalImpl& model) {
  std::vector<std::pair<std::string, double>> items;
  for_each_logged(training_state(model), [&](const std::string& key, const metrics::Metric& m) {
    if (m) items.emplace_back(key, m->result());
  });
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Logs logs;
  for (const auto& [k, v] : items) logs[k] = v;
  return logs;
}

Logs train_step(FunctionalImpl& model, const Batch& b) {
  TrainingState& s = ready_state(model, b);
  keep_training_buffers_in_heap();
  SavedState saved;
  // The step's randomness follows the seed and the optimizer's iteration count (saved with
  // the model), so training resumed from a checkpoint repeats the uninterrupted run.
  uint64_t seed = mix_seed(training_seed(), uint64_t(s.optimizer->iterations()));
  std::vector<Tensor> outputs = model.call(b.x, CallContext{.training = true, .saved = &saved, .seed = seed});
  resolve_metrics(s, b.y, outputs);
  std::vector<double> values;
  std::vector<Tensor> output_grads;
  double total = compute_losses(s, b, outputs, values, &output_grads);
  // Training needs no gradients with respect to the data: the first layers skip them.
  Gradients g = model.backward(BackwardArgs{b.x, outputs, output_grads, saved, false});
  build_optimizer(model);
  std::vector<Tensor> grads;
  std::vector<Variable*> targets;
  for (const TrainableVariable& tv : trainable_variables(model)) {
    grads.push_back(std::move(g.variables.at(tv.index)));
    targets.push_back(tv.variable);
  }
  s.optimizer->apply(grads, targets);
  model.apply_state_updates(saved);
  // Every weight may have moved (moving statistics too): compiled plans must notice.
  for (Variable* v : model.variables()) ++v->version;
  update_metrics(s, b, outputs, total, values);
  return metrics_result(model);
}

Logs test_step(FunctionalImpl& model, const Batch& b) {
  TrainingState& s = ready_state(model, b);
  std::vector<Tensor> outputs = model.call(b.x, CallContext{});
  resolve_metrics(s, b.y, outputs);
  std::vector<double> values;
  double total = compute_losses(s, b, outputs, values, nullptr);
  update_metrics(s, b, outputs, total, values);
  return metrics_result(model);
}

namespace {

// The arrays of fit() or evaluate(): n samples along the first axis of each.
struct Data {
  std::vector<Tensor> x;
  std::vector<Tensor> y;  // one per output
  Tensor sample_weight;
  Dim n = 0;
  bool empty() const { return x.empty(); }
};

Dim rows(const Tensor& t) { return t.rank() > 0 ? t.dim(0) : 0; }

// data_adapter_utils.check_data_cardinality.
Data make_data(std::vector<Tensor> x, std::vector<Tensor> y, Tensor sample_weight) {
  if (x.empty()) throw ValueError("Expected at least one input array (x)");
  if (y.empty()) throw ValueError("Expected at least one target array (y)");
  std::vector<Dim> sizes;
  for (const Tensor& t : x) sizes.push_back(rows(t));
  bool ambiguous = !sample_weight.empty() && rows(sample_weight) != sizes[0];
  for (Dim s : sizes) ambiguous = ambiguous || s != sizes[0];
  std::string ys;
  for (const Tensor& t : y) {
    ambiguous = ambiguous || rows(t) != sizes[0];
    ys += (ys.empty() ? "" : ", ") + std::to_string(rows(t));
  }
  if (ambiguous) {
    std::string xs;
    for (Dim s : sizes) xs += (xs.empty() ? "" : ", ") + std::to_string(s);
    std::string msg =
        "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples.'x' sizes: " + xs +
        "\n'y' sizes: " + ys + "\n";
    if (!sample_weight.empty()) msg += "'sample_weight' sizes: " + std::to_string(rows(sample_weight)) + "\n";
    throw ValueError(msg);
  }
  return {std::move(x), std::move(y), std::move(sample_weight), sizes[0]};
}

Data slice(const Data& d, Dim begin, Dim end) {
  Data out;
  for (const Tensor& t : d.x) out.x.push_back(t.slice(begin, end));
  for (const Tensor& t : d.y) out.y.push_back(t.slice(begin, end));
  if (!d.sample_weight.empty()) out.sample_weight = d.sample_weight.slice(begin, end);
  out.n = end - begin;
  return out;
}

// array_slicing.train_validation_split: the last fraction, before any shuffling.
std::pair<Data, Data> split(const Data& d, double validation_split) {
  Dim split_at = static_cast<Dim>(std::floor(double(d.n) * (1.0 - validation_split)));
  if (split_at == 0 || split_at == d.n)
    throw ValueError("Training data contains " + std::to_string(d.n) +
                     " samples, which is not sufficient to split it into a validation and training set as specified "
                     "by `validation_split=" +
                     python_float_repr(validation_split) +
                     "`. Either provide more data, or a different value for the `validation_split` argument.");
  return {slice(d, 0, split_at), slice(d, split_at, d.n)};
}

// data_adapter_utils.class_weight_to_sample_weights: the class is argmax(y) for one-hot
// targets, else the rounded label.
Tensor class_weights(const Tensor& y, const std::map<int, double>& class_weight) {
  Dim n = rows(y), per = n ? y.size() / n : 0;
  Tensor w(Shape{n}, 1.0f);
  for (Dim i = 0; i < n; ++i) {
    const float* row = y.data() + i * per;
    long label = per > 1 ? long(std::max_element(row, row + per) - row) : std::lround(row[0]);
    if (auto it = class_weight.find(int(label)); it != class_weight.end()) w[i] = static_cast<float>(it->second);
  }
  return w;
}

Tensor take(const Tensor& t, const std::vector<Dim>& order, Dim begin, Dim end) {
  Dim n = rows(t), per = n ? t.size() / n : 0;
  std::vector<Dim> dims = t.shape().dims();
  dims[0] = end - begin;
  Tensor out{Shape(dims)};
  for (Dim i = begin; i < end; ++i) std::copy_n(t.data() + order[size_t(i)] * per, per, out.data() + (i - begin) * per);
  return out;
}

Batch batch_of(const Data& d, const std::vector<Dim>& order, Dim begin, Dim end) {
  Batch b;
  for (const Tensor& t : d.x) b.x.push_back(take(t, order, begin, end));
  for (const Tensor& t : d.y) b.y.push_back(take(t, order, begin, end));
  if (!d.sample_weight.empty()) b.sample_weight = take(d.sample_weight, order, begin, end);
  return b;
}

std::vector<Dim> identity(Dim n) {
  std::vector<Dim> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), Dim{0});
  return order;
}

// Fisher-Yates with the raw 64-bit draws, so a seed gives the same order on every platform.
void shuffle(std::vector<Dim>& order, std::mt19937_64& rng) {
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[size_t(rng() % i)]);
}

Dim steps_for(Dim n, int batch_size) { return (n + batch_size - 1) / batch_size; }

struct CallbackList {
  std::vector<std::shared_ptr<callbacks::Callback>> items;

  CallbackList(const std::vector<callbacks::CallbackRef>& user, const Model& model, const History::Params& params) {
    for (const callbacks::CallbackRef& c : user) items.push_back(c.ptr());
    for (auto& c : items) {
      c->set_model(model);
      c->set_params(params);
    }
  }
  void add(std::shared_ptr<callbacks::Callback> c, const Model& model, const History::Params& params) {
    c->set_model(model);
    c->set_params(params);
    items.push_back(std::move(c));
  }
  template <class F>
  void each(F f) {
    for (auto& c : items) f(*c);
  }
};

class HistoryCallback : public callbacks::Callback {
 public:
  void on_train_begin(const Logs&) override { history.epoch.clear(); }
  void on_epoch_end(int epoch, Logs& logs) override {
    history.epoch.push_back(epoch);
    for (const auto& [k, v] : logs) history.history[k].push_back(v);
  }
  History history;
};

void reset_metrics(TrainingState& s) {
  s.loss_tracker->reset_state();
  for (OutputTraining& o : s.outputs) {
    if (o.loss_tracker) o.loss_tracker->reset_state();
    for (TrackedMetric& m : o.metrics)
      if (m.metric) m.metric->reset_state();  // strings are resolved on the first batch
  }
}

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

// Sequential models without an Input are built by their first data, as in Keras.
void ensure_built(FunctionalImpl& f, const std::vector<Tensor>& x) {
  if (f.has_graph() || x.empty()) return;
  if (auto* seq = dynamic_cast<SequentialImpl*>(&f)) seq->build_for(x[0].shape());
}

// Trainer._flatten_metrics_in_order: loss, then the compiled metrics, then anything else sorted.
std::vector<double> flatten_in_order(FunctionalImpl& f, const Logs& logs) {
  std::vector<std::string> names;
  for_each_logged(training_state(f), [&](const std::string& key, const metrics::Metric&) { names.push_back(key); });
  std::vector<double> out;
  for (const std::string& n : names)
    if (auto v = logs.get(n)) out.push_back(*v);
  std::vector<std::string> rest;
  for (const auto& [k, v] : logs)
    if (std::find(names.begin(), names.end(), k) == names.end()) rest.push_back(k);
  std::sort(rest.begin(), rest.end());
  for (const std::string& k : rest) out.push_back(logs.at(k));
  return out;
}

void check_batch_size(int batch_size, const char* what) {
  if (batch_size <= 0)
    throw ValueError(std::string("`") + what + "` must be a positive integer. Received: " + what + "=" +
                     std::to_string(batch_size));
}

Progbar::Options progbar_options() {
  Progbar::Options o;
  o.dynamic_display = stdout_is_terminal();
  return o;
}

}  // namespace

}  // namespace engine

using engine::TrainingState;

ValidationData::ValidationData(Tensor x_, Tensor y_, Tensor sample_weight_)
    : x{std::move(x_)}, y{std::move(y_)}, sample_weight(std::move(sample_weight_)) {}
ValidationData::ValidationData(std::vector<Tensor> x_, Tensor y_, Tensor sample_weight_)
    : x(std::move(x_)), y{std::move(y_)}, sample_weight(std::move(sample_weight_)) {}
ValidationData::ValidationData(std::vector<Tensor> x_, std::vector<Tensor> y_, Tensor sample_weight_)
    : x(std::move(x_)), y(std::move(y_)), sample_weight(std::move(sample_weight_)) {}

void Model::compile(const CompileOptions& options) {
  auto state = std::make_shared<TrainingState>();
  state->optimizer = options.optimizer ? options.optimizer : optimizers::Optimizer("rmsprop");
  state->options = options;
  engine::prepare_outputs(functional(), *state);  // built models: mismatched counts fail here
  functional().training = std::move(state);
}

bool Model::compiled() const { return functional().training != nullptr; }

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

std::vector<double> Model::evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options) {
  return evaluate(std::vector<Tensor>{x}, y, options);
}

std::vector<double> Model::evaluate(const std::vector<Tensor>& x, const Tensor& y, const EvaluateOptions& options) {
  return evaluate(x, std::vector<Tensor>{y}, options);
}

std::vector<double> Model::evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                                    const EvaluateOptions& o) {
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

std::vector<double> Model::train_on_batch(const std::vector<Tensor>& x, const Tensor& y, const Tensor& sample_weight) {
  return train_on_batch(x, std::vector<Tensor>{y}, sample_weight);
}

std::vector<double> Model::test_on_batch(const std::vector<Tensor>& x, const Tensor& y, const Tensor& sample_weight) {
  return test_on_batch(x, std::vector<Tensor>{y}, sample_weight);
}

std::vector<double> Model::train_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                                          const Tensor& sample_weight) {
  engine::ensure_built(functional(), x);
  engine::Data d = engine::make_data(x, y, sample_weight);
  return engine::flatten_in_order(functional(), engine::train_step(functional(), {d.x, d.y, d.sample_weight}));
}

std::vector<double> Model::test_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                                         const Tensor& sample_weight) {
  engine::ensure_built(functional(), x);
  engine::Data d = engine::make_data(x, y, sample_weight);
  return engine::flatten_in_order(functional(), engine::test_step(functional(), {d.x, d.y, d.sample_weight}));
}

void Model::reset_metrics() { engine::reset_metrics(engine::training_state(functional())); }

optimizers::Optimizer Model::optimizer() const {
  return compiled() ? functional().training->optimizer : optimizers::Optimizer();
}

losses::Loss Model::loss() const {
  if (!compiled()) return {};
  const CompileOptions& o = functional().training->options;
  return o.loss || o.losses.empty() ? o.loss : o.losses[0];
}

std::vector<metrics::Metric> Model::metrics() const {
  if (!compiled()) return {};
  std::vector<metrics::Metric> out;
  engine::for_each_logged(*functional().training,
                          [&](const std::string&, const metrics::Metric& m) { out.push_back(m); });
  return out;
}

std::vector<std::string> Model::metrics_names() const {
  if (!compiled()) return {};
  std::vector<std::string> names;
  engine::for_each_logged(*functional().training,
                          [&](const std::string& key, const metrics::Metric&) { names.push_back(key); });
  return names;
}

bool Model::stop_training() const { return compiled() && functional().training->stop_training; }

void Model::set_stop_training(bool stop) const { engine::training_state(functional()).stop_training = stop; }

namespace {

nlohmann::json metrics_list(const std::vector<metrics::Metric>& list) {
  nlohmann::json j = nlohmann::json::array();
  for (const metrics::Metric& m : list) j.push_back(metrics::serialize(m));
  return j;
}

}  // namespace

nlohmann::json Model::compile_config() const {
  const TrainingState& s = engine::training_state(functional());
  const CompileOptions& o = s.options;
  nlohmann::json metrics_json = nullptr;
  if (!o.output_metrics.empty()) {
    metrics_json = nlohmann::json::array();
    for (const auto& list : o.output_metrics) metrics_json.push_back(metrics_list(list));
  } else if (!o.metrics.empty()) {
    metrics_json = metrics_list(o.metrics);
  }
  nlohmann::json loss_json = losses::serialize(o.loss);
  if (!o.losses.empty()) {
    loss_json = nlohmann::json::array();
    for (const losses::Loss& l : o.losses) loss_json.push_back(losses::serialize(l));
  }
  nlohmann::json weights_json = o.loss_weights.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.loss_weights);
  return {{"optimizer", optimizers::serialize(s.optimizer)},
          {"loss", loss_json},
          {"loss_weights", weights_json},
          {"metrics", metrics_json},
          {"weighted_metrics", o.weighted_metrics.empty() ? nlohmann::json(nullptr) : metrics_list(o.weighted_metrics)},
          {"run_eagerly", false},
          {"steps_per_execution", 1},
          {"jit_compile", false}};
}

namespace {

// Per-output entries of a compile config (a list, or a dict by output name as Keras 2 wrote
// them) in model.outputs order; a lone entry (not a list or dict) gives an empty result.
std::vector<nlohmann::json> per_output(const nlohmann::json& j, const std::vector<std::string>& outputs) {
  if (j.is_array()) return std::vector<nlohmann::json>(j.begin(), j.end());
  if (!j.is_object() || j.contains("class_name")) return {};
  if (outputs.empty() && j.size() == 1) return {j.begin().value()};  // a model not built yet
  std::vector<nlohmann::json> out;
  for (const std::string& name : outputs) out.push_back(j.contains(name) ? j[name] : nlohmann::json(nullptr));
  return out;
}

losses::Loss loss_or_none(const nlohmann::json& j) { return j.is_null() ? losses::Loss() : losses::deserialize(j); }

}  // namespace

void Model::compile_from_config(const nlohmann::json& config) {
  CompileOptions o;
  std::vector<std::string> output_names;
  if (functional().has_graph())
    for (const KerasTensor& t : functional().outputs()) output_names.push_back(t.node()->layer->name());
  // Keras 2's training_config names the optimizer "optimizer_config".
  const char* opt_key = config.contains("optimizer_config") ? "optimizer_config" : "optimizer";
  if (config.contains(opt_key) && !config[opt_key].is_null()) o.optimizer = optimizers::deserialize(config[opt_key]);
  if (config.contains("loss") && !config["loss"].is_null()) {
    std::vector<nlohmann::json> each = per_output(config["loss"], output_names);
    if (each.empty())
      o.loss = losses::deserialize(config["loss"]);
    else if (each.size() == 1)
      o.loss = loss_or_none(each[0]);
    else
      for (const nlohmann::json& l : each) o.losses.push_back(loss_or_none(l));
  }
  if (config.contains("loss_weights") && !config["loss_weights"].is_null()) {
    std::vector<nlohmann::json> each = per_output(config["loss_weights"], output_names);
    if (each.size() > 1 || o.losses.size() > 1)
      for (const nlohmann::json& w : each) o.loss_weights.push_back(w.is_number() ? w.get<double>() : 1.0);
  }
  if (config.contains("metrics") && !config["metrics"].is_null()) {
    std::vector<nlohmann::json> each = per_output(config["metrics"], output_names);
    bool nested = !each.empty() && std::all_of(each.begin(), each.end(),
                                               [](const nlohmann::json& e) { return e.is_array() || e.is_null(); });
    auto list_of = [](const nlohmann::json& l) {
      std::vector<metrics::Metric> ms;
      if (l.is_array())
        for (const nlohmann::json& m : l) ms.push_back(metrics::deserialize(m));
      else if (!l.is_null())
        ms.push_back(metrics::deserialize(l));
      return ms;
    };
    if (nested && each.size() == 1)
      o.metrics = list_of(each[0]);  // Keras 2: one list per output
    else if (nested || config["metrics"].is_object())
      for (const nlohmann::json& l : each) o.output_metrics.push_back(list_of(l));
    else
      o.metrics = list_of(config["metrics"]);
  }
  if (config.contains("weighted_metrics") && config["weighted_metrics"].is_array()) {
    nlohmann::json list = config["weighted_metrics"];
    if (list.size() == 1 && list[0].is_array()) list = list[0];  // Keras 2: one list per output
    for (const nlohmann::json& m : list) o.weighted_metrics.push_back(metrics::deserialize(m));
  }
  compile(o);
}

}  // namespace keras
