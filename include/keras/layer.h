#pragma once
// The layer abstraction: LayerImpl (what a layer computes, subclass it for custom layers),
// Layer (a shared handle, what layers::Dense(...) returns), and KerasTensor (a symbolic
// tensor of the functional API, carrying its shape and the call that produced it).
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "keras/errors.h"
#include "keras/initializers.h"
#include "keras/regularizers.h"
#include "keras/shape.h"
#include "keras/tensor.h"

namespace keras {

class LayerImpl;
class Layer;
struct Node;

namespace graph {
class Lowering;
class PlanCache;
}  // namespace graph

// A weight of a layer. Keras's order of a layer's variables is the order of creation.
struct Variable {
  std::string name;  // "kernel", "bias", "moving_mean"...
  Tensor value;
  bool trainable = true;
  // Bumped by whatever writes `value` (set_weights, loading, optimizer steps); compiled plans
  // compare it to notice that weights they packed or folded have changed. Code that writes
  // `value` directly bumps it too.
  uint64_t version = 0;
};

// What a layer keeps from a training forward pass for its backward pass: a dropout mask,
// batch statistics, a nested model's recorded graph. Owned by whoever differentiates.
struct SavedState {
  std::vector<Tensor> tensors;
  std::shared_ptr<void> extra;
};

// What a forward pass may depend on besides inputs and weights.
struct CallContext {
  bool training = false;
  // Non-null when the caller will call backward(): the layer records what it needs here.
  SavedState* saved = nullptr;
  // The randomness of this training step (dropout masks), set by fit(); 0 outside fit():
  // layers then draw from the global generator.
  uint64_t seed = 0;
};

// A backward pass: the forward inputs and outputs, the gradient of the loss with respect to
// each output (same shapes as the outputs), and what the forward pass saved.
struct BackwardArgs {
  const std::vector<Tensor>& inputs;
  const std::vector<Tensor>& outputs;
  const std::vector<Tensor>& output_grads;
  const SavedState& saved;
  // False when no one needs the gradients with respect to the inputs (the first layers of a
  // model being trained): a layer may then return empty tensors for them and skip the work.
  bool need_input_grads = true;
};

// Gradients of the loss with respect to each input and each variable (variables() order).
struct Gradients {
  std::vector<Tensor> inputs;
  std::vector<Tensor> variables;
};

// A symbolic tensor: the output `index` of a call (`node`) of a layer.
class KerasTensor {
 public:
  KerasTensor() = default;
  KerasTensor(std::shared_ptr<Node> node, int index) : node_(std::move(node)), index_(index) {}

  const Shape& shape() const;
  const std::shared_ptr<Node>& node() const { return node_; }
  int index() const { return index_; }
  bool defined() const { return node_ != nullptr; }

 private:
  std::shared_ptr<Node> node_;
  int index_ = 0;
};

// One call of a layer on symbolic inputs (Keras's Node).
struct Node {
  std::shared_ptr<LayerImpl> layer;
  std::vector<KerasTensor> inputs;  // empty for an InputLayer
  std::vector<Shape> output_shapes;
  int index_in_layer = 0;  // Keras's node_index: "a[0][0]" is layer a, node 0, tensor 0
};

// Base class of every layer. A layer's computation is a const function of its inputs and
// weights, so one layer may run on many threads at once.
class LayerImpl : public std::enable_shared_from_this<LayerImpl> {
 public:
  // An empty `name` gets Keras's automatic name from `prefix` (conv2d, conv2d_1, ...).
  LayerImpl(std::string name, const std::string& prefix);
  virtual ~LayerImpl() = default;
  LayerImpl(const LayerImpl&) = delete;
  LayerImpl& operator=(const LayerImpl&) = delete;

  // Keras's class name, e.g. "Conv2D"; it keys the layer registry.
  virtual std::string class_name() const = 0;
  const std::string& name() const { return name_; }
  bool trainable() const { return trainable_; }
  virtual void set_trainable(bool trainable) { trainable_ = trainable; }

  // Creates the weights for these input shapes (batch included, maybe None) on first use and
  // returns the output shapes. Throws ValueError naming the layer when the shapes don't fit.
  std::vector<Shape> build(const std::vector<Shape>& input_shapes);
  bool built() const { return built_; }
  const std::vector<Shape>& build_input_shapes() const { return build_input_shapes_; }

  virtual std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) const = 0;
  // The forward pass on concrete tensors.
  virtual std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const = 0;
  // Describes call() at inference as ops on the plan's values (engine/graph/lowering.h):
  // fills `outputs` and returns true, or returns false and the engine runs call() instead.
  virtual bool lower(graph::Lowering& g, const std::vector<int>& inputs, std::vector<int>& outputs) const;
  // The backward pass of call(); layers without one throw NotImplementedError.
  virtual Gradients backward(const BackwardArgs& args) const;
  // Updates after a training step that are not gradient steps (BatchNormalization's moving
  // statistics), from what the training forward pass saved.
  virtual void apply_state_updates(const SavedState& saved);

  // Keras's get_config(): the layer's own arguments (Keras 3 spelling), name and trainable included.
  virtual nlohmann::json get_config() const;

  virtual std::vector<Variable*> variables();
  std::vector<const Variable*> variables() const;
  std::vector<Tensor> get_weights() const;
  // Replaces the weights in get_weights() order; shapes must match exactly.
  void set_weights(const std::vector<Tensor>& weights);
  virtual Dim count_params() const;
  Dim count_trainable_params() const;

  // Calls registered with this layer, in call order (weak: the graph owns nodes).
  std::vector<std::shared_ptr<Node>> inbound_nodes() const;
  std::shared_ptr<Node> add_node(std::vector<KerasTensor> inputs);

  // Keras's supports_masking: the layer passes its first input's mask (Embedding(mask_zero=True),
  // Masking) on to its outputs. Layers that compute other masks, or use them (RNNs,
  // GlobalAveragePooling1D, merges), do so where they lower (graph::Lowering::input_mask);
  // every other layer drops masks, as Keras 3.
  virtual bool supports_masking() const { return false; }
  // Keras's reset_states(): a stateful RNN's states back to zeros; layers holding others
  // (models, wrappers) reset theirs. Nothing for other layers.
  virtual void reset_states() {}
  // True for layers taking a list of tensors (Concatenate, Add...): summary and config
  // code treat their inputs as a list.
  virtual bool takes_list_input() const { return false; }
  // Models used as layers report themselves as such (summary shows "Functional").
  virtual bool is_model() const { return false; }
  // The module Keras 3 writes with the class in configs.
  virtual std::string module() const { return "keras.layers"; }
  // How a Keras 3 functional config writes one call of the layer, {"args": [...], "kwargs":
  // {...}}, given its input tensors' entries; null for the usual form (the tensors as the first
  // argument). keras.ops operations write the constants of their call here (`x * 2.0`).
  virtual nlohmann::json call_arguments(const std::vector<nlohmann::json>& inputs) const;

  // Keras's <weight>_regularizer, <weight>_constraint and activity_regularizer, `weight` as the
  // config names it ("kernel", "bias", "recurrent", "depthwise", "embeddings", "gamma"...).
  // fit() applies them (keras/regularizers.h); get_config() writes them.
  void set_regularizer(const std::string& weight, regularizers::Regularizer r);
  void set_constraint(const std::string& weight, constraints::Constraint c);
  void set_activity_regularizer(regularizers::Regularizer r) { activity_regularizer_ = std::move(r); }
  const regularizers::Regularizer& activity_regularizer() const { return activity_regularizer_; }
  // Those of one of the layer's variables (empty for none); ValueError when a rule names a
  // weight the built layer does not have.
  regularizers::Regularizer regularizer_of(const Variable& v) const;
  constraints::Constraint constraint_of(const Variable& v) const;
  // The serialized entry for a config key ("kernel_regularizer", "bias_constraint",
  // "activity_regularizer"): null without one.
  nlohmann::json rule_config(const std::string& key) const;

 protected:
  // Hook for build(): create weights here with add_weight.
  virtual void build_weights(const std::vector<Shape>& input_shapes);
  Variable& add_weight(const std::string& name, const Shape& shape, const Initializer& init, bool trainable = true);
  // Checks the number of inputs; throws ValueError naming the layer.
  void expect_inputs(const std::vector<Shape>& input_shapes, size_t n) const;
  [[noreturn]] void fail(const std::string& message) const;

  // call() and backward() of a layer that describes itself only as ops (lower()), ops the
  // training plans can differentiate: they run on a plan of the layer alone, on the default
  // runtime, cached per input shapes. A call that records for backward (CallContext::saved) or
  // trains runs the training plan and keeps its step in the saved state.
  std::vector<Tensor> call_ops(const std::vector<Tensor>& inputs, const CallContext& ctx) const;
  Gradients backward_ops(const BackwardArgs& args) const;
  // The state updates a call_ops() training call's plan collected (Lowering::update_state),
  // handed to apply_state_updates() as SavedState::tensors.
  void apply_state_updates_ops(const SavedState& saved);

 private:
  std::shared_ptr<graph::PlanCache> op_plans_;
  std::string name_;
  bool trainable_ = true;
  bool built_ = false;
  std::vector<Shape> build_input_shapes_;
  std::vector<Variable> variables_;
  std::vector<std::weak_ptr<Node>> nodes_;
  int next_node_index_ = 0;
  std::map<std::string, regularizers::Regularizer> regularizers_;
  std::map<std::string, constraints::Constraint> constraints_;
  regularizers::Regularizer activity_regularizer_;
};

// A shared handle to a layer: copies refer to the same layer (and weights), as Python names do.
class Layer {
 public:
  Layer() = default;
  Layer(std::shared_ptr<LayerImpl> impl) : impl_(std::move(impl)) {}  // NOLINT: implicit on purpose

  // The functional API: calling a layer on symbolic tensors records a node.
  // Returns the call's first output; outputs_of() gives all of them (LSTM return_state...).
  KerasTensor operator()(const KerasTensor& input) const;
  KerasTensor operator()(const std::vector<KerasTensor>& inputs) const;
  // Eager call on concrete tensors (inference mode).
  Tensor operator()(const Tensor& input) const;

  LayerImpl* operator->() const { return impl_.get(); }
  LayerImpl& operator*() const { return *impl_; }
  const std::shared_ptr<LayerImpl>& impl() const { return impl_; }
  explicit operator bool() const { return impl_ != nullptr; }
  // The implementation as a concrete class, or nullptr.
  template <class T>
  T* as() const {
    return dynamic_cast<T*>(impl_.get());
  }

  const std::string& name() const { return impl_->name(); }
  // Keras's layer.output: the (first) output of the layer's first call in a graph, e.g. to build
  // Model(model.inputs(), model.get_layer("conv2d").output()) sharing the model's weights;
  // outputs_of() gives all of a call's outputs. ValueError when the layer was never called.
  KerasTensor output() const;
  std::vector<Tensor> get_weights() const { return impl_->get_weights(); }
  void set_weights(const std::vector<Tensor>& w) const { impl_->set_weights(w); }
  Dim count_params() const { return impl_->count_params(); }

 private:
  std::shared_ptr<LayerImpl> impl_;
};

// All outputs of a multi-output call, e.g. auto [seq, h, c] = ...
std::vector<KerasTensor> outputs_of(const KerasTensor& any_output);

}  // namespace keras
