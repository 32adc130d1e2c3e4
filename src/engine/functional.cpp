#include "engine/functional.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "engine/graph/lowering.h"
#include "engine/naming.h"
#include "keras/errors.h"
#include "layers/core/input_layer.h"
#include "saving/model_config.h"

namespace keras {

namespace {

using TensorKey = std::pair<const Node*, int>;

bool is_graph_input(const std::vector<KerasTensor>& inputs, const KerasTensor& t) {
  return std::any_of(inputs.begin(), inputs.end(),
                     [&](const KerasTensor& i) { return i.node() == t.node() && i.index() == t.index(); });
}

// Keras 3's map_graph (keras/src/ops/function.py): nodes found depth-first from the outputs,
// ordered by decreasing depth; ties broken by the order layers were first reached.
struct GraphMap {
  std::vector<std::shared_ptr<Node>> nodes;  // execution order
  std::vector<Layer> layers;                 // model.layers order
};

GraphMap map_graph(const std::vector<KerasTensor>& inputs, const std::vector<KerasTensor>& outputs) {
  std::vector<std::shared_ptr<Node>> post_order;
  std::set<const Node*> finished, in_progress;
  std::unordered_map<const LayerImpl*, int> layer_index;

  auto visit = [&](auto&& self, const KerasTensor& t) -> void {
    const auto& node = t.node();
    if (finished.count(node.get())) return;
    if (in_progress.count(node.get())) throw ValueError("The functional graph has a cycle");
    layer_index.emplace(node->layer.get(), static_cast<int>(layer_index.size()));
    in_progress.insert(node.get());
    if (!is_graph_input(inputs, t))
      for (const KerasTensor& in : node->inputs) self(self, in);
    finished.insert(node.get());
    in_progress.erase(node.get());
    post_order.push_back(node);
  };
  for (const KerasTensor& out : outputs) visit(visit, out);

  std::unordered_map<const Node*, int> node_depth;
  std::unordered_map<const LayerImpl*, int> layer_depth;
  for (auto it = post_order.rbegin(); it != post_order.rend(); ++it) {
    const Node* node = it->get();
    int depth = std::max(node_depth[node], layer_depth[node->layer.get()]);
    layer_depth[node->layer.get()] = depth;
    node_depth[node] = depth;
    if (is_graph_input(inputs, KerasTensor(*it, 0))) continue;
    for (const KerasTensor& in : node->inputs)
      node_depth[in.node().get()] = std::max(node_depth[in.node().get()], depth + 1);
  }
  for (const KerasTensor& in : inputs) {
    if (!layer_depth.count(in.node()->layer.get())) {
      layer_depth[in.node()->layer.get()] = 0;
      layer_index[in.node()->layer.get()] = -1;
      node_depth[in.node().get()] = 0;
      post_order.insert(post_order.begin(), in.node());
    }
  }

  GraphMap map;
  map.nodes = post_order;
  std::stable_sort(map.nodes.begin(), map.nodes.end(),
                   [&](const auto& a, const auto& b) { return node_depth[a.get()] > node_depth[b.get()]; });
  std::vector<std::shared_ptr<LayerImpl>> layers;
  for (const auto& n : post_order)
    if (std::find(layers.begin(), layers.end(), n->layer) == layers.end()) layers.push_back(n->layer);
  std::stable_sort(layers.begin(), layers.end(), [&](const auto& a, const auto& b) {
    int da = layer_depth[a.get()], db = layer_depth[b.get()];
    if (da != db) return da > db;
    return layer_index[a.get()] < layer_index[b.get()];
  });
  for (auto& l : layers) map.layers.emplace_back(l);

  std::set<std::string> names;
  for (const Layer& l : map.layers)
    if (!names.insert(l.name()).second)
      throw ValueError("The name \"" + l.name() +
                       "\" is used 2 times in the model. All operation names should be unique.");
  return map;
}

bool shapes_compatible(const Shape& expected, const Shape& got) {
  if (expected.rank() != got.rank()) return false;
  for (int i = 0; i < expected.rank(); ++i)
    if (expected[i] >= 0 && expected[i] != got[i]) return false;
  return true;
}

}  // namespace

FunctionalImpl::FunctionalImpl(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, std::string name)
    : LayerImpl(std::move(name), "functional") {
  set_graph(std::move(inputs), std::move(outputs));
}

FunctionalImpl::FunctionalImpl(std::string name, const std::string& prefix) : LayerImpl(std::move(name), prefix) {}

void FunctionalImpl::set_graph(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs) {
  if (outputs.empty()) throw ValueError("A model needs at least one output");
  for (const KerasTensor& t : inputs)
    if (!t.defined()) throw ValueError("Model inputs must be KerasTensors from keras::Input");
  GraphMap map = map_graph(inputs, outputs);
  for (const auto& node : map.nodes) {
    if (node->inputs.empty() && !is_graph_input(inputs, KerasTensor(node, 0)))
      throw ValueError("Graph disconnected: cannot obtain value for tensor of layer \"" + node->layer->name() +
                       "\"; it is not one of the model's inputs");
  }
  inputs_ = std::move(inputs);
  outputs_ = std::move(outputs);
  if (plans_) plans_->clear();
  nodes_ = std::move(map.nodes);
  layers_ = std::move(map.layers);
  std::vector<Shape> shapes;
  for (const KerasTensor& t : inputs_) shapes.push_back(t.shape());
  build(shapes);
}

void FunctionalImpl::set_trainable(bool trainable) {
  LayerImpl::set_trainable(trainable);
  for (const Layer& l : layers()) l->set_trainable(trainable);
}

std::vector<Layer> FunctionalImpl::layers() const { return layers_; }

// Both checks allocate nothing unless they throw (predict_on_batch's steady state).
void FunctionalImpl::check_inputs(const std::vector<Tensor>& inputs) const {
  check_input_count(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) check_input_shape(i, inputs[i].shape());
}

void FunctionalImpl::check_input_shapes(const std::vector<Shape>& shapes) const {
  check_input_count(shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) check_input_shape(i, shapes[i]);
}

void FunctionalImpl::check_input_count(size_t n) const {
  if (n != inputs_.size())
    throw ValueError("Model \"" + name() + "\" expects " + std::to_string(inputs_.size()) +
                     " input(s), but it received " + std::to_string(n) + " input tensors");
}

void FunctionalImpl::check_input_shape(size_t i, const Shape& shape) const {
  if (!shapes_compatible(inputs_[i].shape(), shape))
    throw ValueError("Input " + std::to_string(i) + " of layer \"" + name() +
                     "\" is incompatible with the layer: expected shape=" + inputs_[i].shape().str() +
                     ", found shape=" + shape.str());
}

std::vector<Shape> FunctionalImpl::compute_output_shape(const std::vector<Shape>& input_shapes) const {
  if (input_shapes.size() != inputs_.size())
    throw ValueError("Model \"" + name() + "\" expects " + std::to_string(inputs_.size()) + " input(s)");
  std::map<TensorKey, Shape> shapes;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (!shapes_compatible(inputs_[i].shape(), input_shapes[i]))
      throw ValueError("Input " + std::to_string(i) + " of layer \"" + name() +
                       "\" is incompatible with the layer: expected shape=" + inputs_[i].shape().str() +
                       ", found shape=" + input_shapes[i].str());
    shapes[{inputs_[i].node().get(), inputs_[i].index()}] = input_shapes[i];
  }
  for (const auto& node : nodes_) {
    if (shapes.count({node.get(), 0})) continue;
    std::vector<Shape> in;
    for (const KerasTensor& t : node->inputs) in.push_back(shapes.at({t.node().get(), t.index()}));
    auto out = node->layer->compute_output_shape(in);
    for (int i = 0; i < static_cast<int>(out.size()); ++i) shapes[{node.get(), i}] = out[static_cast<size_t>(i)];
  }
  std::vector<Shape> result;
  for (const KerasTensor& t : outputs_) result.push_back(shapes.at({t.node().get(), t.index()}));
  return result;
}

std::vector<Tensor> FunctionalImpl::call(const std::vector<Tensor>& inputs, const CallContext& ctx) const {
  check_inputs(inputs);
  // A plan of the whole graph, as every layer's eager call: it carries Keras's masks between
  // layers, and a call that records for backward() keeps its training step.
  return call_ops(inputs, ctx);
}

Gradients FunctionalImpl::backward(const BackwardArgs& args) const { return backward_ops(args); }

void FunctionalImpl::apply_state_updates(const SavedState& saved) { apply_state_updates_ops(saved); }

void FunctionalImpl::reset_states() {
  for (const Layer& l : layers()) l->reset_states();
}

bool FunctionalImpl::lower(graph::Lowering& g, const std::vector<int>& inputs, std::vector<int>& outputs) const {
  outputs = lower_graph(g, inputs);
  return true;
}

std::vector<int> FunctionalImpl::lower_graph(graph::Lowering& g, const std::vector<int>& inputs) const {
  if (inputs.size() != inputs_.size())
    throw ValueError("Model \"" + name() + "\" expects " + std::to_string(inputs_.size()) + " input(s)");
  // Each tensor's value and mask (Keras's _keras_mask; -1 for none). The model's inputs carry
  // the masks its caller passes (a nested model's).
  std::map<TensorKey, std::pair<int, int>> values;
  for (size_t i = 0; i < inputs_.size(); ++i)
    values[{inputs_[i].node().get(), inputs_[i].index()}] = {inputs[i], g.input_mask(i)};
  for (const auto& node : nodes_) {
    if (values.count({node.get(), 0}) || node->inputs.empty()) continue;
    std::vector<int> in, masks, out_masks;
    for (const KerasTensor& t : node->inputs) {
      auto [v, m] = values.at({t.node().get(), t.index()});
      in.push_back(v);
      masks.push_back(m);
    }
    std::vector<int> out = g.lower_layer(*node->layer, in, masks, &out_masks);
    for (size_t i = 0; i < out.size(); ++i)
      values[{node.get(), static_cast<int>(i)}] = {out[i], i < out_masks.size() ? out_masks[i] : -1};
  }
  std::vector<int> result, result_masks;
  for (const KerasTensor& t : outputs_) {
    auto [v, m] = values.at({t.node().get(), t.index()});
    result.push_back(v);
    result_masks.push_back(m);
  }
  g.set_output_masks(std::move(result_masks));
  return result;
}

std::shared_ptr<const graph::Plan> FunctionalImpl::plan(std::span<const Shape* const> input_shapes) const {
  return plans_->get(*this, input_shapes, runtime());
}

std::shared_ptr<const graph::Plan> FunctionalImpl::training_plan(std::span<const Shape* const> input_shapes,
                                                                 bool logits, bool activity) const {
  return plans_->get(*this, input_shapes, runtime(), {.training = true, .logits = logits, .activity = activity});
}

namespace {

// Room for what a plan writes beside its outputs (masks, logits): one tensor per output, empty
// where the plan has none; returns where to write them.
template <class ShapeOf>
std::vector<float*> side_outputs(size_t n, std::vector<Tensor>* tensors, ShapeOf shape_of) {
  std::vector<float*> at;
  if (!tensors) return at;
  tensors->assign(n, Tensor());
  for (size_t i = 0; i < n; ++i) {
    std::optional<Shape> s = shape_of(i);
    if (s) (*tensors)[i] = Tensor::empty(*s);
    at.push_back(s ? (*tensors)[i].data() : nullptr);
  }
  return at;
}

}  // namespace

std::vector<Tensor> FunctionalImpl::infer(const std::vector<Tensor>& x, std::vector<Tensor>* masks,
                                          std::vector<Tensor>* logits, double* activity_penalty) const {
  std::vector<const Shape*> shapes;
  std::vector<const float*> in;
  for (const Tensor& t : x) {
    shapes.push_back(&t.shape());
    in.push_back(t.data());
  }
  auto p = logits || activity_penalty
               ? plans_->get(*this, shapes, runtime(),
                             {.logits = logits != nullptr, .activity = activity_penalty != nullptr})
               : plan(shapes);
  std::vector<Tensor> outputs;
  std::vector<float*> out;
  for (const Shape& s : p->output_shapes()) out.push_back(outputs.emplace_back(Tensor::empty(s)).data());
  std::vector<float*> mask_out = side_outputs(out.size(), masks, [&](size_t i) { return p->output_mask_shape(i); });
  std::vector<float*> logits_out =
      side_outputs(out.size(), logits, [&](size_t i) { return p->output_logits_shape(i); });
  p->run(in, out, mask_out, logits_out, activity_penalty);
  return outputs;
}

void FunctionalImpl::set_runtime(std::shared_ptr<Runtime> runtime) {
  runtime_ = std::move(runtime);
  plans_->clear();
}

std::shared_ptr<Runtime> FunctionalImpl::runtime() const { return runtime_ ? runtime_ : default_runtime(); }

nlohmann::json FunctionalImpl::get_config() const { return saving::functional_config(*this); }

std::vector<Variable*> FunctionalImpl::variables() {
  std::vector<Variable*> vars;
  for (const Layer& l : layers()) {
    auto v = l->variables();
    vars.insert(vars.end(), v.begin(), v.end());
  }
  return vars;
}

Dim FunctionalImpl::count_params() const {
  Dim n = 0;
  for (const Layer& l : layers()) n += l->count_params();
  return n;
}

// ---- Sequential ----

SequentialImpl::SequentialImpl(std::string name) : FunctionalImpl(std::move(name), "sequential") {}

std::vector<Variable*> SequentialImpl::variables() {
  std::vector<Variable*> vars;
  for (const Layer& l : layers_) {
    auto v = l->variables();
    vars.insert(vars.end(), v.begin(), v.end());
  }
  return vars;
}

void SequentialImpl::rebuild_if_possible() {
  if (layers_.empty()) return;
  if (input_layer_) return rebuild();
  // As Keras 3: a first layer that knows its input shape (a functional model) builds the model.
  if (auto* first = dynamic_cast<FunctionalImpl*>(layers_[0].impl().get());
      first && first->has_graph() && first->inputs().size() == 1 && layers_.size() > 1)
    build_for(first->inputs()[0].shape());
}

void SequentialImpl::add(const Layer& layer, bool rebuild_now) {
  if (!layer) throw ValueError("Sequential.add() received an empty layer");
  if (layer.as<layers::InputLayerImpl>()) {
    if (input_layer_ || !layers_.empty())
      throw ValueError(
          "Sequential model '" + name() +
          "' has already been configured to use an input shape; an InputLayer can only be its first layer.");
    input_layer_ = layer;
    return;
  }
  for (const Layer& l : layers_)
    if (l.name() == layer.name())
      throw ValueError("All layers added to a Sequential model should have unique names. Name '" + layer.name() +
                       "' is already the name of a layer in this model. Update the `name` argument to pass a "
                       "unique name.");
  layers_.push_back(layer);
  if (rebuild_now) rebuild_if_possible();
}

void SequentialImpl::pop() {
  if (layers_.empty()) throw ValueError("There are no layers in the model.");
  layers_.pop_back();
  if (input_layer_ && !layers_.empty()) rebuild();
}

void SequentialImpl::build_for(const Shape& input_shape) {
  if (input_layer_) return;
  Shape s = input_shape;
  if (s.rank() > 0) s[0] = None;
  input_layer_ = Layer(std::make_shared<layers::InputLayerImpl>(s, ""));
  rebuild();
}

void SequentialImpl::rebuild() {
  // Keras 3 builds a hidden Functional on each rebuild, which takes a "functional" name.
  naming::uniquify("functional");
  auto* input = input_layer_.as<layers::InputLayerImpl>();
  KerasTensor x(input->inbound_nodes().empty() ? input->add_node({}) : input->inbound_nodes()[0], 0);
  KerasTensor first = x;
  for (const Layer& l : layers_) x = l(x);
  set_graph({first}, {x});
}

std::vector<Shape> SequentialImpl::compute_output_shape(const std::vector<Shape>& input_shapes) const {
  if (has_graph()) return FunctionalImpl::compute_output_shape(input_shapes);
  std::vector<Shape> shapes = input_shapes;
  for (const Layer& l : layers_) shapes = l->compute_output_shape(shapes);
  return shapes;
}

std::vector<Tensor> SequentialImpl::call(const std::vector<Tensor>& inputs, const CallContext& ctx) const {
  if (!has_graph())
    throw ValueError("Sequential model \"" + name() + "\" has not been built: give it an Input or call build()");
  return FunctionalImpl::call(inputs, ctx);
}

nlohmann::json SequentialImpl::get_config() const { return saving::sequential_config(*this); }

}  // namespace keras
