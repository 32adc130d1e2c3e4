#pragma once
// The functional graph: a model as a directed acyclic graph of layer calls (Keras's Functional),
// and Sequential as a functional graph rebuilt from a list of layers.
#include <map>
#include <optional>

#include "engine/graph/plan.h"
#include "keras/model.h"
#include "keras/runtime.h"

namespace keras {

namespace engine {
struct TrainingState;
}

class FunctionalImpl : public LayerImpl {
 public:
  FunctionalImpl(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, std::string name);

  std::string class_name() const override { return "Functional"; }
  bool is_model() const override { return true; }
  void set_trainable(bool trainable) override;

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) const override;
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override;
  // A nested model lowers as its graph, inlined into the outer plan.
  bool lower(graph::Lowering& g, const std::vector<int>& inputs, std::vector<int>& outputs) const override;
  std::vector<int> lower_graph(graph::Lowering& g, const std::vector<int>& inputs) const;
  // The plan for these concrete input shapes on the model's runtime, built on first use.
  std::shared_ptr<const graph::Plan> plan(std::span<const Shape* const> input_shapes) const;
  // The training plan for these shapes (graph::Plan::TrainingRun), built on first use;
  // `logits`: one keeping its outputs' logits (graph::PlanOptions::logits), as fit() uses.
  // `activity`: one keeping activity-regularized layers' outputs (graph::PlanOptions::activity).
  std::shared_ptr<const graph::Plan> training_plan(std::span<const Shape* const> input_shapes, bool logits = false,
                                                   bool activity = false) const;
  // call() at inference, on the plan for x's shapes (what predict runs, one batch). With
  // `masks`, also each output's mask (Keras's _keras_mask; an empty tensor for none); with
  // `logits`, each output's logits where a softmax or sigmoid made it (empty otherwise).
  // With `activity_penalty`, the activity regularizers' penalty on this batch (Keras's add_loss).
  std::vector<Tensor> infer(const std::vector<Tensor>& x, std::vector<Tensor>* masks = nullptr,
                            std::vector<Tensor>* logits = nullptr, double* activity_penalty = nullptr) const;
  void set_runtime(std::shared_ptr<Runtime> runtime);
  std::shared_ptr<Runtime> runtime() const;
  // The training plan's backward ops of the step call() recorded.
  Gradients backward(const BackwardArgs& args) const override;
  void apply_state_updates(const SavedState& saved) override;
  void reset_states() override;
  nlohmann::json get_config() const override;
  std::vector<Variable*> variables() override;
  Dim count_params() const override;

  // model.layers in Keras's order (by decreasing depth, ties in discovery order).
  virtual std::vector<Layer> layers() const;
  bool has_graph() const { return !outputs_.empty(); }
  const std::vector<KerasTensor>& inputs() const { return inputs_; }
  const std::vector<KerasTensor>& outputs() const { return outputs_; }
  // Nodes of this graph in execution order (inputs first).
  const std::vector<std::shared_ptr<Node>>& nodes() const { return nodes_; }
  // Throws ValueError unless every input matches the model's input shapes.
  void check_inputs(const std::vector<Tensor>& inputs) const;
  void check_input_shapes(const std::vector<Shape>& shapes) const;

  // What compile() set up (engine/trainer.h); shared by every handle of this model.
  std::shared_ptr<engine::TrainingState> training;

 protected:
  // For Sequential, whose graph comes later.
  FunctionalImpl(std::string name, const std::string& prefix);
  void set_graph(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs);

 private:
  void check_input_count(size_t n) const;
  void check_input_shape(size_t i, const Shape& shape) const;

  std::vector<KerasTensor> inputs_;
  std::vector<KerasTensor> outputs_;
  std::vector<std::shared_ptr<Node>> nodes_;
  std::vector<Layer> layers_;
  std::shared_ptr<Runtime> runtime_;  // null: the default runtime
  std::unique_ptr<graph::PlanCache> plans_ = std::make_unique<graph::PlanCache>();
};

class SequentialImpl : public FunctionalImpl {
 public:
  explicit SequentialImpl(std::string name);

  std::string class_name() const override { return "Sequential"; }
  std::vector<Layer> layers() const override { return layers_; }
  std::vector<Variable*> variables() override;
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) const override;
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override;
  nlohmann::json get_config() const override;

  // Keras rebuilds the graph after each add; the constructor adds all layers, then rebuilds once.
  void add(const Layer& layer, bool rebuild = true);
  void rebuild_if_possible();
  void pop();
  void build_for(const Shape& input_shape);
  // The InputLayer, if the model has one.
  const Layer& input_layer() const { return input_layer_; }

 private:
  void rebuild();
  Layer input_layer_;
  std::vector<Layer> layers_;
};

}  // namespace keras
