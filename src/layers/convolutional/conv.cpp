// Conv1D and Conv2D (groups included): cross-correlation, kernel (k..., C/groups, filters).
#include "keras/layers/convolutional.h"
#include "layers/convolutional/conv_utils.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

using conv::ConvSpec;
using conv::Kind;

class ConvImpl : public conv::ConvBase {
 public:
  using ConvBase::ConvBase;

 protected:
  void create_weights(Dim in_channels) override {
    std::vector<Dim> shape = spec().kernel_size;
    shape.push_back(in_channels / spec().groups);
    shape.push_back(spec().filters);
    add_weight("kernel", Shape(shape), spec().kernel_initializer);
    if (spec().use_bias) add_weight("bias", {spec().filters}, spec().bias_initializer);
  }
  Dim output_channels(Dim) const override { return spec().filters; }
  int emit(graph::Lowering& g, int x, const ops::Conv2DArgs& args, const Shape& y,
           const ops::Epilogue& e) const override {
    return emit_op(g, ops::Conv2DOp{.geometry = args, .epilogue = e}, x, y, weight(0));
  }
};

Layer make(const ConvSpec& spec, bool trainable = true) {
  Layer l(std::make_shared<ConvImpl>(spec));
  l->set_trainable(trainable);
  return l;
}

}  // namespace

Layer Conv1D(const Conv1DOptions& o) {
  return make({.kind = Kind::kConv,
               .rank = 1,
               .filters = o.filters,
               .kernel_size = {o.kernel_size},
               .strides = {o.strides},
               .dilation_rate = {o.dilation_rate},
               .padding = o.padding,
               .data_format = o.data_format,
               .groups = o.groups,
               .activation = o.activation,
               .use_bias = o.use_bias,
               .kernel_initializer = o.kernel_initializer,
               .bias_initializer = o.bias_initializer,
               .name = o.name});
}
Layer Conv1D(Dim filters, Dim kernel_size, const std::string& activation) {
  return Conv1D(Conv1DOptions{.filters = filters, .kernel_size = kernel_size, .activation = activation});
}

Layer Conv2D(const Conv2DOptions& o) {
  return make({.kind = Kind::kConv,
               .rank = 2,
               .filters = o.filters,
               .kernel_size = o.kernel_size.vec(),
               .strides = o.strides.vec(),
               .dilation_rate = o.dilation_rate.vec(),
               .padding = o.padding,
               .data_format = o.data_format,
               .groups = o.groups,
               .activation = o.activation,
               .use_bias = o.use_bias,
               .kernel_initializer = o.kernel_initializer,
               .bias_initializer = o.bias_initializer,
               .name = o.name});
}
Layer Conv2D(Dim filters, IntPair kernel_size, const std::string& activation) {
  return Conv2D(Conv2DOptions{.filters = filters, .kernel_size = kernel_size, .activation = activation});
}

Layer conv1d_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  return make(conv::spec_from_config(c, Kind::kConv, 1, ctx), saving::get_bool(c, "trainable", true));
}
Layer conv2d_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  return make(conv::spec_from_config(c, Kind::kConv, 2, ctx), saving::get_bool(c, "trainable", true));
}

}  // namespace keras::layers
