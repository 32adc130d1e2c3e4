#pragma once
#include "keras/layer.h"

namespace keras::layers {

// keras.layers.InputLayer: the entry of a functional graph; its output is the model's input.
class InputLayerImpl : public LayerImpl {
 public:
  InputLayerImpl(Shape batch_shape, std::string name);
  std::string class_name() const override { return "InputLayer"; }
  const Shape& batch_shape() const { return batch_shape_; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>&) const override { return {batch_shape_}; }
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext&) const override { return inputs; }
  Gradients backward(const BackwardArgs& args) const override { return {args.output_grads, {}}; }
  nlohmann::json get_config() const override;

 private:
  Shape batch_shape_;
};

}  // namespace keras::layers
