#pragma once
// Bases for layers that describe themselves only as ops (LayerImpl::lower): their call() and
// backward() run those ops (LayerImpl::call_ops, backward_ops).
#include "keras/layer.h"

namespace keras::layers {

class OpsLayerImpl : public LayerImpl {
 public:
  using LayerImpl::LayerImpl;
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }
};

// One input, an output of its shape, its mask passed on (the normalization and rescaling
// layers); check_input() says what else the input must satisfy.
class SameShapeLayerImpl : public OpsLayerImpl {
 public:
  using OpsLayerImpl::OpsLayerImpl;
  bool supports_masking() const override { return true; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    check_input(in[0]);
    return in;
  }

 protected:
  virtual void check_input(const Shape&) const {}
};

}  // namespace keras::layers
