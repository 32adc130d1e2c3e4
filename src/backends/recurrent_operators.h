#pragma once
// The operators of ops::RecurrentOp and ops::RecurrentGradOp, shared by the backends: the gate
// arithmetic is ops/recurrent's, the products the backend's (MakeProducts(ctx) returns an
// ops::Products, by value or by reference, for one run). Weights are read as the operator runs,
// so a training plan sees every optimizer step.
#include <string>

#include "backends/backend.h"
#include "engine/random.h"
#include "ops/recurrent.h"

namespace keras::backends {

inline ops::RecurrentWeights recurrent_weights(const std::vector<const Tensor*>& w, bool bias) {
  return {w.at(0)->data(), w.at(1)->data(), bias ? w.at(2)->data() : nullptr};
}

template <class MakeProducts>
class RecurrentOperator final : public Operator {
 public:
  explicit RecurrentOperator(const ops::Op& op)
      : a_(std::get<ops::RecurrentOp>(op.attrs)), weights_(op.weights), layer_(op.layer) {}
  size_t workspace_bytes() const override { return sizeof(float) * ops::recurrent_workspace_floats(a_); }
  void run(std::span<const float* const> in, std::span<float* const> out, void* workspace,
           const RunContext& ctx) const override {
    // Only a call that draws masks takes a seed: an inference call must not advance the global
    // generator (engine::layer_seed draws from it outside a training step).
    bool draws = ops::input_masks(a_) || ops::recurrent_masks(a_);
    uint64_t seed = draws ? engine::layer_seed(ctx.seed, layer_) : 0;
    decltype(auto) products = MakeProducts{}(ctx);
    ops::recurrent_forward(a_, products, recurrent_weights(weights_, a_.bias), in, out, seed,
                           static_cast<float*>(workspace));
  }

 private:
  ops::RecurrentOp a_;
  std::vector<const Tensor*> weights_;
  std::string layer_;
};

template <class MakeProducts>
class RecurrentGradOperator final : public Operator {
 public:
  explicit RecurrentGradOperator(const ops::Op& op)
      : a_(std::get<ops::RecurrentGradOp>(op.attrs)), weights_(op.weights) {}
  size_t workspace_bytes() const override { return sizeof(float) * ops::recurrent_grad_workspace_floats(a_.forward); }
  void run(std::span<const float* const> in, std::span<float* const> out, void* workspace,
           const RunContext& ctx) const override {
    decltype(auto) products = MakeProducts{}(ctx);
    ops::recurrent_backward(a_, products, recurrent_weights(weights_, a_.forward.bias), in, out,
                            static_cast<float*>(workspace));
  }

 private:
  ops::RecurrentGradOp a_;
  std::vector<const Tensor*> weights_;
};

}  // namespace keras::backends
