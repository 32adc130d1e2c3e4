// compile()'s bookkeeping with Keras 3's semantics (keras/src/trainers/compile_utils.py,
// KERAS_SPEC §9): losses and metrics per output, log keys, running values, compile_config.
#include "engine/train/compile_utils.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/model.h"
#include "losses/loss_utils.h"
#include "metrics/metric_utils.h"

namespace keras {

namespace engine {

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

namespace {

// The loss (or crossentropy metric) reads output i's logits rather than the output.
bool reads_logits(const TrainingState& s, const Predictions& p, size_t i) {
  return s.options.crossentropy_from_activation_logits && !p.logits[i].empty();
}

}  // namespace

void update_metrics(TrainingState& s, const Batch& b, const Predictions& p, double total,
                    const std::vector<double>& losses) {
  double n = double(b.x.at(0).dim(0));
  s.loss_tracker->update_value(total, n);
  for (size_t i = 0; i < s.outputs.size(); ++i) {
    OutputTraining& o = s.outputs[i];
    if (o.loss_tracker && o.loss) o.loss_tracker->update_value(losses[i], n);
    for (TrackedMetric& m : o.metrics) {
      Tensor w = m.weighted ? b.sample_weight : Tensor();
      auto* wrapper = dynamic_cast<metrics::detail::MeanMetricWrapper*>(m.metric.impl().get());
      if (!p.masks[i].empty() && wrapper) w = losses::detail::apply_mask(w, p.masks[i], false, m.metric.name());
      if (wrapper && wrapper->reads_logits() && reads_logits(s, p, i))
        wrapper->update_state_from_logits(b.y[i], p.logits[i], w);
      else
        m.metric->update_state(b.y[i], p.outputs[i], w);
    }
  }
}

double compute_losses(const TrainingState& s, const Batch& b, const Predictions& p, std::vector<double>& values,
                      std::vector<Tensor>* grads, std::vector<Tensor>* logits_grads) {
  double total = 0;
  values.assign(p.outputs.size(), 0.0);
  for (size_t i = 0; i < p.outputs.size(); ++i) {
    const OutputTraining& o = s.outputs[i];
    losses::Loss loss = o.loss;
    const Tensor* y_pred = &p.outputs[i];
    if (loss && reads_logits(s, p, i))
      if (auto on_logits = loss->on_logits()) {
        loss = losses::Loss(on_logits);
        y_pred = &p.logits[i];
      }
    if (grads) {
      Tensor& dy = grads->emplace_back(Tensor::zeros(p.outputs[i].shape()));
      Tensor& dz = logits_grads->emplace_back(p.logits[i].empty() ? Tensor() : Tensor::zeros(p.logits[i].shape()));
      if (!loss) continue;
      losses::LossValue lv = loss->value_and_grad(b.y[i], *y_pred, b.sample_weight, p.masks[i]);
      if (o.loss_weight != 1.0)
        for (float& g : lv.grad.values()) g = static_cast<float>(g * o.loss_weight);
      values[i] = lv.value;
      (y_pred == &p.outputs[i] ? dy : dz) = std::move(lv.grad);
    } else if (loss) {
      values[i] = loss(b.y[i], *y_pred, b.sample_weight, p.masks[i]);
    }
    total += o.loss_weight * values[i];
  }
  return total;
}

TrainingState& training_state(FunctionalImpl& model) {
  if (!model.training) throw ValueError("You must call `compile()` before using the model.");
  return *model.training;
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

void reset_metrics(TrainingState& s) {
  s.loss_tracker->reset_state();
  for (OutputTraining& o : s.outputs) {
    if (o.loss_tracker) o.loss_tracker->reset_state();
    for (TrackedMetric& m : o.metrics)
      if (m.metric) m.metric->reset_state();  // strings are resolved on the first batch
  }
}

// Trainer._flatten_metrics_in_order: loss, then the compiled metrics, then anything else sorted.
Scores flatten_in_order(FunctionalImpl& f, const Logs& logs) {
  std::vector<std::string> order, names;
  for_each_logged(training_state(f), [&](const std::string& key, const metrics::Metric&) { order.push_back(key); });
  std::vector<double> out;
  for (const std::string& n : order)
    if (auto v = logs.get(n)) {
      names.push_back(n);
      out.push_back(*v);
    }
  std::vector<std::string> rest;
  for (const auto& [k, v] : logs)
    if (std::find(order.begin(), order.end(), k) == order.end()) rest.push_back(k);
  std::sort(rest.begin(), rest.end());
  for (const std::string& k : rest) {
    names.push_back(k);
    out.push_back(logs.at(k));
  }
  return Scores(std::move(names), std::move(out));
}

}  // namespace engine

using engine::TrainingState;

void Model::compile(const CompileOptions& options) {
  auto state = std::make_shared<TrainingState>();
  state->optimizer = options.optimizer ? options.optimizer : optimizers::Optimizer("rmsprop");
  state->options = options;
  engine::prepare_outputs(functional(), *state);  // built models: mismatched counts fail here
  functional().training = std::move(state);
}

bool Model::compiled() const { return functional().training != nullptr; }

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
