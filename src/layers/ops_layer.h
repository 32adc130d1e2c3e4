#pragma once
// Bases for layers that describe themselves only as ops (LayerImpl::lower): their call() and
// backward() run those ops (LayerImpl::call_ops, backward_ops); and for those that return their
// input.
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

// Its input, unchanged (Identity, ActivityRegularization).
class PassThroughLayerImpl : public LayerImpl {
 public:
  using LayerImpl::LayerImpl;
  bool supports_masking() const override { return true; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    return in;
  }
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext&) const override {
    return {inputs.at(0)};
  }
  bool lower(graph::Lowering&, const std::vector<int>& in, std::vector<int>& out) const override {
    out = {in.at(0)};
    return true;
  }
  Gradients backward(const BackwardArgs& a) const override { return {{a.output_grads.at(0)}, {}}; }
};

}  // namespace keras::layers
