#pragma once
// What a layer sees when the engine compiles a model: it turns its call into ops on values
// (LayerImpl::lower). A value is a tensor of the plan with a concrete shape; where it lives is
// the plan's business. A layer that does not lower itself runs through its call() instead
// (ops::LayerCallOp), so lowering is an optimisation a layer opts into, never a requirement.
#include <vector>

#include "keras/tensor.h"
#include "ops/op.h"

namespace keras::graph {

using ValueId = int;

class Lowering {
 public:
  virtual ~Lowering() = default;
  virtual const Shape& shape(ValueId v) const = 0;
  // Adds an op reading `inputs` (their shapes are op.inputs); returns its output values.
  virtual std::vector<ValueId> emit(ops::Op op, const std::vector<ValueId>& inputs) = 0;
  // The same values under another shape of the same size (C order: Flatten, Reshape); the
  // value itself when the shape is unchanged (Dropout at inference).
  virtual ValueId view(ValueId v, const Shape& shape) = 0;
  // A tensor the plan keeps alive as long as its operators (folded weights, derived scales).
  // A training plan differentiates only ops on variables: a layer that lowers to constants
  // trains through its own call() and backward() instead.
  virtual const Tensor* constant(Tensor t) = 0;
  // In a training plan: after each step, `layer` folds these values into its state
  // (LayerImpl::apply_state_updates, given them as SavedState::tensors): BatchNormalization's
  // batch statistics into its moving ones.
  virtual void update_state(const LayerImpl& layer, std::vector<ValueId> values) = 0;
  // True while a plan that differentiates (a training plan) is built: its ops must read
  // variables, not constants derived from them.
  virtual bool differentiates() const { return false; }
  // The weights may change between runs without a rebuild (a training plan, a layer's eager
  // calls): constants derived from them would go stale.
  virtual bool weights_change() const { return differentiates(); }
  // Keras's `training` argument of the calls the plan runs. Only a differentiating plan runs in
  // training mode, but it may record an inference-mode call too. A layer whose training differs
  // from its inference emits its training ops then (Dropout's mask, BatchNormalization's batch
  // statistics), or returns false from lower() and trains through its own call() and backward().
  virtual bool training() const { return false; }
  // A layer's own lowering (LayerImpl::lower), or its call() as one op (ops::LayerCallOp; in
  // training, ops::LayerTrainOp) where it has none, or none this plan can use. `masks`: the
  // inputs' masks (see input_mask; empty or -1 for none); `output_masks`, when given, receives
  // the outputs' masks.
  virtual std::vector<ValueId> lower_layer(const LayerImpl& layer, const std::vector<ValueId>& inputs,
                                           const std::vector<ValueId>& masks = {},
                                           std::vector<ValueId>* output_masks = nullptr) = 0;

  // Keras's masks (Embedding(mask_zero=True), Masking): 0/1 values, one per sample and timestep,
  // riding along tensors as Keras's `_keras_mask`. While a layer lowers, input_mask(i) is the
  // mask of its input i (-1: none), what Keras passes as call()'s `mask`. A layer that makes
  // masks other than LayerImpl::supports_masking()'s default (its first input's mask on every
  // output) sets its outputs' with set_output_masks.
  virtual ValueId input_mask(size_t i) const = 0;
  virtual void set_output_masks(std::vector<ValueId> masks) = 0;
  // Keras's activations.softmax keeps its input as its output's `_keras_logits` whatever the axis:
  // a layer whose one output is such a softmax names that input here; the plan otherwise finds
  // a softmax over the last axis, or a sigmoid, by itself (PlanOptions::logits).
  virtual void set_output_logits(ValueId logits) = 0;
};

// One op of one output reading `inputs` (their shapes from the plan); returns its output.
ValueId emit1(Lowering& g, ops::OpAttrs attrs, const std::vector<ValueId>& inputs, Shape out,
              std::vector<const Tensor*> weights, const std::string& layer);

// y's axis i = v's axis perm[i], as a transpose op.
ValueId transpose(Lowering& g, ValueId v, std::vector<int> perm, const std::string& layer);
// The permutation that undoes `perm`.
std::vector<int> inverse_permutation(const std::vector<int>& perm);
// v with the axes where `moved[a]` holds last, both groups in their order: a transpose op unless
// they already are last. `perm` receives the permutation, for move_axes_back.
ValueId move_axes_last(Lowering& g, ValueId v, const std::vector<bool>& moved, std::vector<int>& perm,
                       const std::string& layer);
ValueId move_axes_back(Lowering& g, ValueId v, const std::vector<int>& perm, const std::string& layer);

// v, whose logical shape is `from` (numpy's: a scalar's is ()), with numpy's broadcasting to
// `to`: aligned on the right, size-1 axes repeated (a view, then a BroadcastOp if needed).
ValueId broadcast_to(Lowering& g, ValueId v, const Shape& from, const Shape& to, const std::string& layer);
// A constant the layer owns (it outlives the plans) as a value (a StateOp read: never
// differentiated), of logical shape `shape`, broadcast to `to`.
ValueId broadcast_constant(Lowering& g, const Tensor& c, const Shape& shape, const Shape& to, const std::string& layer);

// Shared lowerings of layout moves: (N, C, d...) <-> (N, d..., C) as transpose ops.
ValueId to_channels_last(Lowering& g, ValueId v, const std::string& layer);
ValueId to_channels_first(Lowering& g, ValueId v, const std::string& layer);
// An activation by Keras name along the last axis; the value itself for "linear".
ValueId activation(Lowering& g, ValueId v, const std::string& name, const std::string& layer);

// The mask of v's leading axes (v's shape without its last `reduced` axes): 1 where any of
// those values differs from `value` (ops::MaskOp).
ValueId mask_where_not(Lowering& g, ValueId v, double value, int reduced, const std::string& layer);
// A mask (shape: v's leading axes) times v, broadcast over v's other axes.
ValueId apply_mask(Lowering& g, ValueId v, ValueId mask, const std::string& layer);
// The logical AND of masks of one shape (their product); -1 entries are left out, -1 when all are.
ValueId all_masks(Lowering& g, const std::vector<ValueId>& masks, const std::string& layer);

}  // namespace keras::graph
