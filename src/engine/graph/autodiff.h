#pragma once
// Reverse-mode differentiation of ops, for training plans (engine/graph/plan.h): each
// differentiable op emits the ops that compute its inputs' and weights' gradients from its
// outputs' gradients, into the same plan, so the backward pass runs on the backends and lives
// in the arena as the forward pass does (as ggml's build_backward). A layer that lowers to an
// op without a rule here trains through its own call() and backward() (ops::LayerTrainOp).
#include <vector>

#include "engine/graph/lowering.h"

namespace keras::graph {

// Whether emit_gradients has a rule for op.
bool differentiable(const ops::Op& op);

// A training step's form of a product: one whose activation's gradient needs the
// pre-activation values (ops::activation_grad_from_output is false) becomes the product
// without it and an ActivationOp, so the pre-activation is a value the backward pass reads.
// Returns false for every other op (emitted as it is). `always`: any product with a
// non-linear epilogue activation splits (to keep a softmax's logits).
bool split_activation(const ops::Op& op, ops::Op& product, ops::Op& activation, bool always);

struct OpGradients {
  std::vector<ValueId> inputs;   // per op input; -1 where not needed
  std::vector<ValueId> weights;  // per op weight (LayerTrainOp: per layer variable)
};

// outputs = op(inputs) ran forward; dy[i] is the gradient of output i (-1: none reached it;
// at least one did); need[i] says whether input i wants its gradient.
OpGradients emit_gradients(Lowering& g, const ops::Op& op, const std::vector<ValueId>& inputs,
                           const std::vector<ValueId>& outputs, const std::vector<ValueId>& dy,
                           const std::vector<bool>& need);

// The sum of gradients reaching one value, in the order given (a fan-out).
ValueId sum_gradients(Lowering& g, const std::vector<ValueId>& parts, const std::string& layer);

}  // namespace keras::graph
