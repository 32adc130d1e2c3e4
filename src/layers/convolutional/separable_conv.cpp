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
  void convolve(const ops::Conv2DArgs& args, const Tensor& x, Tensor& y) const override {
    ops::Conv2DArgs depthwise = depthwise_args(args);
    std::vector<float> mid = depthwise_output(depthwise, x);
    ops::kernels().gemm(false, false, pixels(args), args.out_c, depthwise.out_c, 1.0f, mid.data(), depthwise.out_c,
                        weight(1).data(), args.out_c, 0.0f, y.data(), args.out_c);
  }

  // y = mid @ pointwise with mid = depthwise(x): dpointwise = mid^T dy, dmid = dy pointwise^T.
  // mid is recomputed rather than kept from the forward pass.
  std::vector<Tensor> convolve_backward(const ops::Conv2DArgs& args, const Tensor& x, const Tensor& dy,
                                        Tensor& dx) const override {
    const auto& k = ops::kernels();
    ops::Conv2DArgs depthwise = depthwise_args(args);
    Dim n = pixels(args), mid_c = depthwise.out_c;
    std::vector<float> mid = depthwise_output(depthwise, x);
    Tensor dpointwise(weight(1).shape());
    k.gemm(true, false, mid_c, args.out_c, n, 1.0f, mid.data(), mid_c, dy.data(), args.out_c, 0.0f, dpointwise.data(),
           args.out_c);
    std::vector<float> dmid(mid.size());
    k.gemm(false, true, n, mid_c, args.out_c, 1.0f, dy.data(), args.out_c, weight(1).data(), args.out_c, 0.0f,
           dmid.data(), mid_c);
    Tensor ddepthwise(weight(0).shape());
    if (!dx.empty()) k.depthwise_conv2d_backward_input(depthwise, dmid.data(), weight(0).data(), dx.data());
    k.depthwise_conv2d_backward_filter(depthwise, x.data(), dmid.data(), ddepthwise.data());
    return {std::move(ddepthwise), std::move(dpointwise)};
  }

 private:
  static Dim pixels(const ops::Conv2DArgs& args) { return args.batch * args.out_h * args.out_w; }
  ops::Conv2DArgs depthwise_args(const ops::Conv2DArgs& args) const {
    ops::Conv2DArgs depthwise = args;
    depthwise.out_c = args.in_c * spec().depth_multiplier;
    return depthwise;
  }
  std::vector<float> depthwise_output(const ops::Conv2DArgs& depthwise, const Tensor& x) const {
    std::vector<float> mid(static_cast<size_t>(pixels(depthwise) * depthwise.out_c));
    ops::kernels().depthwise_conv2d(depthwise, x.data(), weight(0).data(), mid.data());
    return mid;
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
