#include "keras/layer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/graph/plan.h"
#include "engine/naming.h"
#include "engine/weight_init.h"
#include "keras/errors.h"
#include "keras/runtime.h"

namespace keras {

const Shape& KerasTensor::shape() const {
  if (!node_) throw ValueError("Undefined KerasTensor");
  return node_->output_shapes.at(static_cast<size_t>(index_));
}

std::vector<KerasTensor> outputs_of(const KerasTensor& any_output) {
  std::vector<KerasTensor> out;
  for (int i = 0; i < static_cast<int>(any_output.node()->output_shapes.size()); ++i)
    out.emplace_back(any_output.node(), i);
  return out;
}

LayerImpl::LayerImpl(std::string name, const std::string& prefix)
    : op_plans_(std::make_shared<graph::PlanCache>()),
      name_(name.empty() ? naming::uniquify(prefix) : std::move(name)) {}

namespace {

// A training step of one layer between its call() and its backward(): the plan, the run
// holding the arena, and the inputs the backward ops read again.
struct LayerStep {
  std::shared_ptr<const graph::Plan> plan;
  std::vector<Tensor> inputs;
  std::unique_ptr<graph::Plan::TrainingRun> run;
};

}  // namespace

std::vector<Tensor> LayerImpl::call_ops(const std::vector<Tensor>& inputs, const CallContext& ctx) const {
  std::vector<const Shape*> shapes;
  std::vector<Shape> in_shapes;
  for (const Tensor& t : inputs) {
    shapes.push_back(&t.shape());
    in_shapes.push_back(t.shape());
  }
  // An empty output (a batch of 0, a window larger than the input) has no ops to run.
  std::vector<Shape> out_shapes = compute_output_shape(in_shapes);
  for (const Shape& s : out_shapes)
    if (s.num_elements() == 0) {
      std::vector<Tensor> empty;
      for (const Shape& o : out_shapes) empty.push_back(Tensor::zeros(o));
      return empty;
    }
  bool training = ctx.training || ctx.saved;
  auto plan = op_plans_->get(*this, shapes, default_runtime(),
                             {.training = training,
                              .input_gradients = training,
                              .weights_change = true,
                              .inference_mode = training && !ctx.training});
  // The plan would run this very call() again (an op without a gradient, a lowering refused).
  if (plan->calls_layer(*this))
    throw NotImplementedError("Layer \"" + name_ + "\" (" + class_name() + ") has no ops for inputs " +
                              (shapes.empty() ? std::string() : shapes[0]->str()));
  if (!training) {
    std::vector<Tensor> outputs;
    for (const Shape& s : plan->output_shapes()) outputs.push_back(Tensor::empty(s));
    std::vector<const float*> in;
    std::vector<float*> out;
    for (const Tensor& t : inputs) in.push_back(t.data());
    for (Tensor& t : outputs) out.push_back(t.data());
    plan->run(in, out);
    return outputs;
  }
  auto step = std::make_shared<LayerStep>(LayerStep{plan, inputs, std::make_unique<graph::Plan::TrainingRun>(*plan)});
  std::vector<const float*> in;
  for (const Tensor& t : step->inputs) in.push_back(t.data());
  step->run->forward(in, ctx.seed);
  std::vector<Tensor> outputs = step->run->outputs();
  if (ctx.saved) ctx.saved->extra = std::move(step);
  return outputs;
}

Gradients LayerImpl::backward_ops(const BackwardArgs& a) const {
  auto* step = static_cast<LayerStep*>(a.saved.extra.get());
  if (!step) throw ValueError("Layer \"" + name_ + "\": backward() needs a forward pass run with CallContext::saved");
  std::vector<const float*> dy;
  for (const Tensor& g : a.output_grads) dy.push_back(g.data());
  step->run->backward(dy);
  Gradients g;
  for (size_t i = 0; i < step->inputs.size(); ++i) {
    const float* dx = step->run->input_gradient(i);
    Tensor& t = g.inputs.emplace_back(a.need_input_grads ? Tensor::zeros(step->inputs[i].shape()) : Tensor());
    if (dx && a.need_input_grads) std::copy(dx, dx + t.size(), t.data());
  }
  const auto& with_grad = step->plan->gradient_variables();
  for (const Variable* v : variables()) {
    Tensor& t = g.variables.emplace_back(Tensor::zeros(v->value.shape()));
    auto it = std::find(with_grad.begin(), with_grad.end(), v);
    if (it == with_grad.end()) continue;
    const float* src = step->run->gradient(static_cast<size_t>(it - with_grad.begin()));
    std::copy(src, src + t.size(), t.data());
  }
  return g;
}

void LayerImpl::apply_state_updates_ops(const SavedState& saved) {
  if (const auto* step = static_cast<const LayerStep*>(saved.extra.get())) step->run->apply_state_updates();
}

std::vector<Shape> LayerImpl::build(const std::vector<Shape>& input_shapes) {
  if (!built_) {
    build_weights(input_shapes);
    build_input_shapes_ = input_shapes;
    built_ = true;
  }
  return compute_output_shape(input_shapes);
}

void LayerImpl::build_weights(const std::vector<Shape>&) {}

bool LayerImpl::lower(graph::Lowering&, const std::vector<int>&, std::vector<int>&) const { return false; }

Gradients LayerImpl::backward(const BackwardArgs&) const {
  throw NotImplementedError("Layer \"" + name_ + "\" (" + class_name() + ") cannot be trained yet: it has no gradient");
}

void LayerImpl::apply_state_updates(const SavedState&) {}

nlohmann::json LayerImpl::call_arguments(const std::vector<nlohmann::json>&) const { return nullptr; }

nlohmann::json LayerImpl::get_config() const {
  return {{"name", name_}, {"trainable", trainable_}, {"dtype", "float32"}};
}

std::vector<Variable*> LayerImpl::variables() {
  std::vector<Variable*> v;
  for (Variable& var : variables_) v.push_back(&var);
  return v;
}

std::vector<const Variable*> LayerImpl::variables() const {
  auto mutable_vars = const_cast<LayerImpl*>(this)->variables();
  return {mutable_vars.begin(), mutable_vars.end()};
}

std::vector<Tensor> LayerImpl::get_weights() const {
  std::vector<Tensor> w;
  for (const Variable* v : variables()) w.push_back(v->value);
  return w;
}

void LayerImpl::set_weights(const std::vector<Tensor>& weights) {
  auto vars = variables();
  if (weights.size() != vars.size())
    fail("set_weights() expects a list of " + std::to_string(vars.size()) + " weights, but received " +
         std::to_string(weights.size()) + " weights");
  for (size_t i = 0; i < vars.size(); ++i) {
    if (weights[i].shape() != vars[i]->value.shape())
      fail("weight " + std::to_string(i) + " (" + vars[i]->name + ") has shape " + vars[i]->value.shape().str() +
           ", but the value given has shape " + weights[i].shape().str());
  }
  for (size_t i = 0; i < vars.size(); ++i) {
    vars[i]->value = weights[i];
    ++vars[i]->version;
  }
}

Dim LayerImpl::count_params() const {
  Dim n = 0;
  for (const Variable* v : variables()) n += v->value.size();
  return n;
}

Dim LayerImpl::count_trainable_params() const {
  if (!trainable_) return 0;
  Dim n = 0;
  for (const Variable* v : variables())
    if (v->trainable) n += v->value.size();
  return n;
}

std::vector<std::shared_ptr<Node>> LayerImpl::inbound_nodes() const {
  std::vector<std::shared_ptr<Node>> nodes;
  for (const auto& w : nodes_)
    if (auto n = w.lock()) nodes.push_back(std::move(n));
  return nodes;
}

std::shared_ptr<Node> LayerImpl::add_node(std::vector<KerasTensor> inputs) {
  std::vector<Shape> shapes;
  for (const KerasTensor& t : inputs) shapes.push_back(t.shape());
  auto node = std::make_shared<Node>();
  node->layer = shared_from_this();
  node->inputs = std::move(inputs);
  node->output_shapes = build(shapes);
  node->index_in_layer = next_node_index_++;
  nodes_.push_back(node);
  return node;
}

Variable& LayerImpl::add_weight(const std::string& name, const Shape& shape, const Initializer& init, bool trainable) {
  Tensor value;
  try {
    value = engine::SkipInitializers::active() ? Tensor(shape) : init(shape);
  } catch (const ValueError& e) {
    fail(std::string("weight \"") + name + "\": " + e.what());
  }
  variables_.push_back(Variable{name, std::move(value), trainable});
  return variables_.back();
}

namespace {

// The config prefix of a variable: "kernel" for kernel, "recurrent" for recurrent_kernel.
bool names_variable(const std::string& prefix, const Variable& v) {
  return v.name == prefix || v.name == prefix + "_kernel";
}

template <class Rule>
Rule rule_of(const std::map<std::string, Rule>& rules, const LayerImpl& layer, const Variable& v) {
  for (const auto& [prefix, rule] : rules) {
    bool known = false;
    for (const Variable* w : layer.variables()) known = known || names_variable(prefix, *w);
    if (!known)
      throw ValueError("Layer \"" + layer.name() + "\" (" + layer.class_name() + ") has no weight \"" + prefix +
                       "\" for its " + prefix + "_regularizer/_constraint");
    if (names_variable(prefix, v)) return rule;
  }
  return {};
}

}  // namespace

void LayerImpl::set_regularizer(const std::string& weight, regularizers::Regularizer r) {
  if (r)
    regularizers_[weight] = std::move(r);
  else
    regularizers_.erase(weight);
}

void LayerImpl::set_constraint(const std::string& weight, constraints::Constraint c) {
  if (c)
    constraints_[weight] = std::move(c);
  else
    constraints_.erase(weight);
}

regularizers::Regularizer LayerImpl::regularizer_of(const Variable& v) const {
  return rule_of(regularizers_, *this, v);
}
constraints::Constraint LayerImpl::constraint_of(const Variable& v) const { return rule_of(constraints_, *this, v); }

nlohmann::json LayerImpl::rule_config(const std::string& key) const {
  if (key == "activity_regularizer") return regularizers::serialize(activity_regularizer_);
  for (const char* suffix : {"_regularizer", "_constraint"}) {
    std::string s = suffix;
    if (key.size() <= s.size() || key.compare(key.size() - s.size(), s.size(), s) != 0) continue;
    std::string prefix = key.substr(0, key.size() - s.size());
    if (s == "_regularizer") {
      auto it = regularizers_.find(prefix);
      return it == regularizers_.end() ? nlohmann::json(nullptr) : regularizers::serialize(it->second);
    }
    auto it = constraints_.find(prefix);
    return it == constraints_.end() ? nlohmann::json(nullptr) : constraints::serialize(it->second);
  }
  return nullptr;
}

void LayerImpl::expect_inputs(const std::vector<Shape>& input_shapes, size_t n) const {
  if (input_shapes.size() != n)
    fail("expects " + std::to_string(n) + " input(s), but it received " + std::to_string(input_shapes.size()) +
         " input tensors");
}

void LayerImpl::fail(const std::string& message) const {
  throw ValueError("Layer \"" + name_ + "\" (" + class_name() + "): " + message);
}

KerasTensor Layer::operator()(const KerasTensor& input) const {
  auto node = impl_->add_node({input});
  return KerasTensor(node, 0);
}

KerasTensor Layer::operator()(const std::vector<KerasTensor>& inputs) const {
  return KerasTensor(impl_->add_node(inputs), 0);
}

KerasTensor Layer::output() const {
  std::vector<std::shared_ptr<Node>> nodes = impl_->inbound_nodes();
  if (nodes.empty()) throw ValueError("The layer " + name() + " has never been called and thus has no defined output.");
  return KerasTensor(nodes.front(), 0);
}

Tensor Layer::operator()(const Tensor& input) const {
  Shape s = input.shape();
  if (s.rank() > 0) s[0] = None;
  impl_->build({s});
  return impl_->call({input}, CallContext{}).at(0);
}

}  // namespace keras
