// SeparableConv1D/2D: a depthwise conv (strides, padding, dilation) then a 1x1 pointwise conv.
#include <vector>

#include "keras/layers/convolutional.h"
#include "layers/convolutional/conv_utils.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

using conv::ConvSpec;
using conv::Kind;

class SeparableConvImpl : public conv::ConvBase {
 public:
  using ConvBase::ConvBase;

 protected:
  void create_weights(Dim in_channels) override {
    std::vector<Dim> depthwise = spec().kernel_size;
    depthwise.push_back(in_channels);
    depthwise.push_back(spec().depth_multiplier);
    std::vector<Dim> pointwise(static_cast<size_t>(spec().rank), 1);
    pointwise.push_back(in_channels * spec().depth_multiplier);
    pointwise.push_back(spec().filters);
    add_weight("depthwise_kernel", Shape(depthwise), spec().kernel_initializer);
    add_weight("pointwise_kernel", Shape(pointwise), spec().pointwise_initializer);
    if (spec().use_bias) add_weight("bias", {spec().filters}, spec().bias_initializer);
  }
  Dim output_channels(Dim) const override { return spec().filters; }
  // The depthwise convolution (strides, padding, dilation) into C * depth_multiplier channels,
  // then the pointwise one as a 1x1 convolution with the epilogue.
  int emit(graph::Lowering& g, int x, const ops::Conv2DArgs& args, const Shape& y,
           const ops::Epilogue& e) const override {
    ops::Conv2DArgs depthwise = args;
    depthwise.out_c = args.in_c * spec().depth_multiplier;
    std::vector<Dim> mid = y.dims();
    mid.back() = depthwise.out_c;
    int m = emit_op(g, ops::Conv2DOp{.geometry = depthwise, .depthwise = true}, x, Shape(mid), weight(0));
    ops::Conv2DArgs pointwise{.batch = args.batch,
                              .in_h = args.out_h,
                              .in_w = args.out_w,
                              .in_c = depthwise.out_c,
                              .out_h = args.out_h,
                              .out_w = args.out_w,
                              .out_c = args.out_c};
    return emit_op(g, ops::Conv2DOp{.geometry = pointwise, .epilogue = e}, m, y, weight(1));
  }
};

Layer make(const ConvSpec& spec, bool trainable = true) {
  Layer l(std::make_shared<SeparableConvImpl>(spec));
  l->set_trainable(trainable);
  return l;
}

}  // namespace

Layer SeparableConv1D(const SeparableConv1DOptions& o) {
  return make({.kind = Kind::kSeparable,
               .rank = 1,
               .filters = o.filters,
               .depth_multiplier = o.depth_multiplier,
               .kernel_size = {o.kernel_size},
               .strides = {o.strides},
               .dilation_rate = {o.dilation_rate},
               .padding = o.padding,
               .data_format = o.data_format,
               .activation = o.activation,
               .use_bias = o.use_bias,
               .kernel_initializer = o.depthwise_initializer,
               .pointwise_initializer = o.pointwise_initializer,
               .bias_initializer = o.bias_initializer,
               .name = o.name});
}
Layer SeparableConv1D(Dim filters, Dim kernel_size, const std::string& activation) {
  return SeparableConv1D(
      SeparableConv1DOptions{.filters = filters, .kernel_size = kernel_size, .activation = activation});
}

Layer SeparableConv2D(const SeparableConv2DOptions& o) {
  return make({.kind = Kind::kSeparable,
               .rank = 2,
               .filters = o.filters,
               .depth_multiplier = o.depth_multiplier,
               .kernel_size = o.kernel_size.vec(),
               .strides = o.strides.vec(),
               .dilation_rate = o.dilation_rate.vec(),
               .padding = o.padding,
               .data_format = o.data_format,
               .activation = o.activation,
               .use_bias = o.use_bias,
               .kernel_initializer = o.depthwise_initializer,
               .pointwise_initializer = o.pointwise_initializer,
               .bias_initializer = o.bias_initializer,
               .name = o.name});
}
Layer SeparableConv2D(Dim filters, IntPair kernel_size, const std::string& activation) {
  return SeparableConv2D(
      SeparableConv2DOptions{.filters = filters, .kernel_size = kernel_size, .activation = activation});
}

Layer separable_conv1d_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  return make(conv::spec_from_config(c, Kind::kSeparable, 1, ctx), saving::get_bool(c, "trainable", true));
}
Layer separable_conv2d_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  return make(conv::spec_from_config(c, Kind::kSeparable, 2, ctx), saving::get_bool(c, "trainable", true));
}

}  // namespace keras::layers
