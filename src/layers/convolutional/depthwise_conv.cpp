// DepthwiseConv1D/2D: each input channel convolved with its own depth_multiplier filters.
#include "keras/layers/convolutional.h"
#include "layers/convolutional/conv_utils.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

using conv::ConvSpec;
using conv::Kind;

class DepthwiseConvImpl : public conv::ConvBase {
 public:
  using ConvBase::ConvBase;

 protected:
  void create_weights(Dim in_channels) override {
    std::vector<Dim> shape = spec().kernel_size;
    shape.push_back(in_channels);
    shape.push_back(spec().depth_multiplier);
    // Keras 3's name; Keras 2 files call it depthwise_kernel (same layout).
    add_weight("kernel", Shape(shape), spec().kernel_initializer);
    if (spec().use_bias) add_weight("bias", {in_channels * spec().depth_multiplier}, spec().bias_initializer);
  }
  Dim output_channels(Dim in_channels) const override { return in_channels * spec().depth_multiplier; }
  int emit(graph::Lowering& g, int x, const ops::Conv2DArgs& args, const Shape& y,
           const ops::Epilogue& e) const override {
    return emit_op(g, ops::Conv2DOp{.geometry = args, .depthwise = true, .epilogue = e}, x, y, weight(0));
  }
};

Layer make(const ConvSpec& spec, bool trainable = true) {
  Layer l(std::make_shared<DepthwiseConvImpl>(spec));
  l->set_trainable(trainable);
  return l;
}

}  // namespace

Layer DepthwiseConv1D(const DepthwiseConv1DOptions& o) {
  return make({.kind = Kind::kDepthwise,
               .rank = 1,
               .depth_multiplier = o.depth_multiplier,
               .kernel_size = {o.kernel_size},
               .strides = {o.strides},
               .dilation_rate = {o.dilation_rate},
               .padding = o.padding,
               .data_format = o.data_format,
               .activation = o.activation,
               .use_bias = o.use_bias,
               .kernel_initializer = o.depthwise_initializer,
               .bias_initializer = o.bias_initializer,
               .name = o.name});
}
Layer DepthwiseConv1D(Dim kernel_size, const std::string& activation) {
  return DepthwiseConv1D(DepthwiseConv1DOptions{.kernel_size = kernel_size, .activation = activation});
}

Layer DepthwiseConv2D(const DepthwiseConv2DOptions& o) {
  return make({.kind = Kind::kDepthwise,
               .rank = 2,
               .depth_multiplier = o.depth_multiplier,
               .kernel_size = o.kernel_size.vec(),
               .strides = o.strides.vec(),
               .dilation_rate = o.dilation_rate.vec(),
               .padding = o.padding,
               .data_format = o.data_format,
               .activation = o.activation,
               .use_bias = o.use_bias,
               .kernel_initializer = o.depthwise_initializer,
               .bias_initializer = o.bias_initializer,
               .name = o.name});
}
Layer DepthwiseConv2D(IntPair kernel_size, const std::string& activation) {
  return DepthwiseConv2D(DepthwiseConv2DOptions{.kernel_size = kernel_size, .activation = activation});
}

Layer depthwise_conv1d_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  return make(conv::spec_from_config(c, Kind::kDepthwise, 1, ctx), saving::get_bool(c, "trainable", true));
}
Layer depthwise_conv2d_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  return make(conv::spec_from_config(c, Kind::kDepthwise, 2, ctx), saving::get_bool(c, "trainable", true));
}

}  // namespace keras::layers
