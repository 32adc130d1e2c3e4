#pragma once
// A model compiled for one set of input shapes: the ordered operators, the values they read and
// write, and one arena holding every value at an offset chosen by liveness (as ggml-alloc).
// Built once per input shape and cached by the model (PlanCache); run() then makes no heap
// allocation and takes no lock but the arena pool's.
//
// Building: every node of the graph lowers itself to ops (LayerImpl::lower, or a LayerCallOp);
// the inference rewrites fold BatchNormalization into the product before it and fuse
// activations into products' epilogues; each op goes to the runtime's backend when it
// supports it, else to the reference backend.
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "keras/layer.h"
#include "keras/runtime.h"

namespace keras {
class FunctionalImpl;
}

namespace keras::graph {

class PlanBuilder;

struct PlanOptions {
  // A training plan (see TrainingRun): layers lower with Lowering::training() set, no
  // inference rewrites, the backward ops after the forward ones (engine/graph/autodiff.h),
  // and operators that read the weights when they run.
  bool training = false;
  // Training: also the gradients w.r.t. the inputs (TrainingRun::input_gradient).
  bool input_gradients = false;
  // Operators read the weights as they run, as a training plan's (no packed copies): an eager
  // call sees weights written in place without a version bump.
  bool weights_change = false;
  // Training: the layers' calls in inference mode (Keras's training=False) while the plan still
  // records for backward: Dropout passes through, BatchNormalization uses its moving statistics.
  bool inference_mode = false;
  // Keep each output's logits where a softmax or sigmoid makes it (Keras's `_keras_logits`, which
  // the TensorFlow backend's crossentropies read): output_logits_shape, run()'s `logits`, and in
  // training the gradient w.r.t. them as a second way in (TrainingRun::backward).
  bool logits = false;
  // Keep the outputs of layers with an activity_regularizer (Keras adds the penalty of each to
  // the loss): TrainingRun::activity_penalty and its gradient as a third way in; run()'s
  // activity_penalty.
  bool activity = false;
};

class Plan {
 public:
  using Options = PlanOptions;

  // The plan of `root` (a model, or one layer called eagerly) for these input shapes.
  Plan(const LayerImpl& root, const std::vector<Shape>& input_shapes, std::shared_ptr<Runtime> runtime,
       Options options = {});
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  const std::vector<Shape>& input_shapes() const { return input_shapes_; }
  const std::vector<Shape>& output_shapes() const { return output_shapes_; }
  // The shape of model output i's mask (Keras's `_keras_mask` of the output), none without one.
  std::optional<Shape> output_mask_shape(size_t i) const;
  // With Options::logits: the shape of output i's logits (its own shape), none without them.
  std::optional<Shape> output_logits_shape(size_t i) const;
  const Runtime* runtime() const { return runtime_.get(); }
  bool training() const { return options_.training; }
  const Options& options() const { return options_; }
  // The layers whose own call() runs in a step (ops::LayerCallOp, ops::LayerTrainOp).
  bool calls_layer(const LayerImpl& layer) const;
  // True when a weight the plan read has changed since (Variable::version; never for a plan
  // whose operators read the weights as they run: training, PlanOptions::weights_change), or a
  // layer it lowered was frozen or unfrozen since (a frozen BatchNormalization lowers
  // differently, and a training plan differentiates only trainable variables).
  bool stale() const;
  // A training plan's variables with a gradient, in the order of the model's layers.
  const std::vector<const Variable*>& gradient_variables() const { return gradient_variables_; }

  // Defined in plan.cpp; named here for the builder there.
  struct Step;
  struct Value;
  struct Arena;

  // One training step on a training plan: forward() runs the model's ops, backward() the
  // gradients' ops, and the arena, holding every value the backward ops read, stays between
  // the two. One step at a time per TrainingRun; a run may be reused for the next step.
  class TrainingRun {
   public:
    explicit TrainingRun(const Plan& plan);
    ~TrainingRun();
    // inputs: one buffer per model input; seed: the step's randomness (dropout masks).
    void forward(std::span<const float* const> inputs, uint64_t seed);
    // Model output i after forward(), shaped as output_shapes()[i].
    const float* output(size_t i) const;
    // Its mask after forward() (output_mask_shape(i)), or null without one.
    const float* output_mask(size_t i) const;
    // Copies of every model output after forward().
    std::vector<Tensor> outputs() const;
    // After forward() on a plan with Options::activity: the sum of the activity_regularizer
    // penalties of the layers' outputs, with (grads) the gradient of each, in the order
    // backward()'s activity_grads takes them.
    double activity_penalty(std::vector<Tensor>* grads) const;
    // Output i's logits after forward() (output_logits_shape(i)), or null without them.
    const float* output_logits(size_t i) const;
    // output_grads: the gradient of the loss w.r.t. each model output; logits_grads (one per
    // output, null where it has no logits; may be empty when none has) w.r.t. their logits.
    // Both parts are summed: a loss read from the logits passes zeros for its output.
    void backward(std::span<const float* const> output_grads, std::span<const float* const> logits_grads = {},
                  std::span<const float* const> activity_grads = {});
    // After backward(): the gradient of gradient_variables()[i], shaped as its value.
    const float* gradient(size_t i) const;
    // After backward() on a plan with Options::input_gradients: the gradient w.r.t. input i,
    // or null where none reaches it.
    const float* input_gradient(size_t i) const;
    // Moving statistics and other state of the layers that ran their own call() (as
    // LayerImpl::apply_state_updates after a step).
    void apply_state_updates() const;

   private:
    const Plan& plan_;
    std::unique_ptr<Arena> arena_;
    std::vector<const float*> inputs_;  // model inputs, then output gradients
    std::vector<SavedState> saved_;
    uint64_t seed_ = 0;
  };
  // inputs: one buffer per model input, shaped as input_shapes(); outputs: one per model
  // output, shaped as output_shapes(); masks (optional): where to write each output's mask,
  // null to skip one. Safe to call from many threads at once.
  // logits (optional, Options::logits): where to write each output's logits, null to skip one.
  // activity_penalty (optional, Options::activity): receives the activity regularizers' penalty.
  void run(std::span<const float* const> inputs, std::span<float* const> outputs, std::span<float* const> masks = {},
           std::span<float* const> logits = {}, double* activity_penalty = nullptr) const;

  // Each step's median time over `runs` runs of the whole plan on these inputs, with the
  // describe() line it belongs to: "  ms  share  GFLOP/s  op layer [backend] -> shape".
  std::string profile(std::span<const float* const> inputs, int runs) const;

  size_t arena_bytes() const { return arena_bytes_; }
  double flops() const;
  // One line per step: op kind, layer, backend, output shape.
  std::string describe() const;
  // True when no one but this plan holds its runtime any more.
  bool orphaned() const { return runtime_.use_count() == 1; }

 private:
  std::unique_ptr<Arena> acquire_arena() const;
  void release_arena(std::unique_ptr<Arena> arena) const;
  void build_backward(PlanBuilder& b, const std::vector<const Variable*>& variables, const std::vector<int>& inputs);
  float* address(const Arena& arena, std::span<const float* const> inputs, int value) const;
  double activity_penalty(const Arena& arena, std::span<const float* const> inputs, std::vector<Tensor>* grads) const;
  void run_steps(Arena& arena, std::span<const float* const> inputs, size_t begin, size_t end,
                 const backends::RunContext& ctx) const;

  std::shared_ptr<Runtime> runtime_;
  std::vector<Shape> input_shapes_, output_shapes_;
  std::vector<Value> values_;
  std::vector<Step> steps_;
  std::vector<int> outputs_;                                // the value of each model output
  std::vector<int> output_masks_;                           // the value of each output's mask, -1 for none
  std::vector<int> output_logits_;                          // the value of each output's logits, -1 for none
  std::vector<std::pair<const LayerImpl*, int>> activity_;  // Options::activity
  std::vector<std::unique_ptr<Tensor>> constants_;
  std::vector<std::pair<const Variable*, uint64_t>> weight_versions_;
  std::vector<std::pair<const LayerImpl*, bool>> trainable_;
  size_t arena_bytes_ = 0;
  size_t max_step_inputs_ = 0, max_step_outputs_ = 0;
  Options options_;
  std::vector<int> input_gradient_values_;  // input_gradients: per input, -1 for none
  size_t backward_begin_ = 0;               // training: the first backward step
  std::vector<int> gradient_values_;        // training: per gradient_variables_
  std::vector<const Variable*> gradient_variables_;
  std::vector<const LayerImpl*> train_slots_;  // training: the layer of each LayerTrainOp slot
  // training: values each layer folds into its state after a step (Lowering::update_state)
  std::vector<std::pair<const LayerImpl*, std::vector<int>>> state_updates_;
  mutable std::mutex arenas_mutex_;
  mutable std::vector<std::unique_ptr<Arena>> free_arenas_;
};

// The plans of one model, by input shapes and runtime. Thread-safe; a stale plan is rebuilt.
class PlanCache {
 public:
  // Finding a plan copies no shape: a repeated call allocates nothing.
  std::shared_ptr<const Plan> get(const LayerImpl& root, std::span<const Shape* const> input_shapes,
                                  const std::shared_ptr<Runtime>& runtime, PlanOptions options = {});
  void clear();

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<const Plan>> plans_;
};

}  // namespace keras::graph
