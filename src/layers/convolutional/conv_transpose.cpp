// Conv1DTranspose/Conv2DTranspose: the transpose (input gradient) of a convolution, with
// TensorFlow's sizes and padding placement (Keras's deconv_output_length).
#include <algorithm>

#include "keras/layers/convolutional.h"
#include "layers/convolutional/conv_utils.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

using conv::ConvSpec;
using conv::Kind;

class ConvTransposeImpl : public conv::ConvBase {
 public:
  using ConvBase::ConvBase;

 protected:
  void create_weights(Dim in_channels) override {
    std::vector<Dim> shape = spec().kernel_size;
    shape.push_back(spec().filters);
    shape.push_back(in_channels);
    add_weight("kernel", Shape(shape), spec().kernel_initializer);
    if (spec().use_bias) add_weight("bias", {spec().filters}, spec().bias_initializer);
  }
  Dim output_channels(Dim) const override { return spec().filters; }

  // out: Keras's deconv_output_length. pad_before: the leading pad of the forward conv that
  // maps the output back to the input (TF's conv2d_backprop_input: that conv's 'same' pad,
  // odd pixel at the end; none for 'valid').
  ops::Padding1D axis_geometry(int axis, Dim in, const Shape&) const override {
    if (in < 0) return {None, 0};
    auto i = static_cast<size_t>(axis);
    Dim s = spec().strides[i], ke = spec().dilation_rate[i] * (spec().kernel_size[i] - 1) + 1;
    std::optional<Dim> op;
    if (spec().output_padding) op = (*spec().output_padding)[i];
    ops::Padding1D p;
    if (spec().padding == "valid") {
      p.out = op ? (in - 1) * s + ke + *op : (in - 1) * s + std::max(ke, s);
    } else {
      p.out = op ? (in - 1) * s + ke % 2 + *op : in * s;
      p.pad_before = std::max<Dim>((in - 1) * s + ke - p.out, 0) / 2;
    }
    return p;
  }

  // args: in_* = x, out_* = y; the op takes the forward convolution from y to x.
  int emit(graph::Lowering& g, int x, const ops::Conv2DArgs& args, const Shape& y,
           const ops::Epilogue& e) const override {
    ops::Conv2DArgs forward = args;
    forward.in_h = args.out_h;
    forward.in_w = args.out_w;
    forward.in_c = args.out_c;
    forward.out_h = args.in_h;
    forward.out_w = args.in_w;
    forward.out_c = args.in_c;
    return emit_op(g, ops::Conv2DTransposeOp{forward, e}, x, y, weight(0));
  }
};

Layer make(const ConvSpec& spec, bool trainable = true) {
  Layer l(std::make_shared<ConvTransposeImpl>(spec));
  l->set_trainable(trainable);
  return l;
}

}  // namespace

Layer Conv1DTranspose(const Conv1DTransposeOptions& o) {
  std::optional<std::vector<Dim>> op;
  if (o.output_padding) op = std::vector<Dim>{*o.output_padding};
  return make({.kind = Kind::kTranspose,
               .rank = 1,
               .filters = o.filters,
               .kernel_size = {o.kernel_size},
               .strides = {o.strides},
               .dilation_rate = {o.dilation_rate},
               .output_padding = op,
               .padding = o.padding,
               .data_format = o.data_format,
               .activation = o.activation,
               .use_bias = o.use_bias,
               .kernel_initializer = o.kernel_initializer,
               .bias_initializer = o.bias_initializer,
               .name = o.name});
}
Layer Conv1DTranspose(Dim filters, Dim kernel_size, const std::string& activation) {
  return Conv1DTranspose(
      Conv1DTransposeOptions{.filters = filters, .kernel_size = kernel_size, .activation = activation});
}

Layer Conv2DTranspose(const Conv2DTransposeOptions& o) {
  std::optional<std::vector<Dim>> op;
  if (o.output_padding) op = o.output_padding->vec();
  return make({.kind = Kind::kTranspose,
               .rank = 2,
               .filters = o.filters,
               .kernel_size = o.kernel_size.vec(),
               .strides = o.strides.vec(),
               .dilation_rate = o.dilation_rate.vec(),
               .output_padding = op,
               .padding = o.padding,
               .data_format = o.data_format,
               .activation = o.activation,
               .use_bias = o.use_bias,
               .kernel_initializer = o.kernel_initializer,
               .bias_initializer = o.bias_initializer,
               .name = o.name});
}
Layer Conv2DTranspose(Dim filters, IntPair kernel_size, const std::string& activation) {
  return Conv2DTranspose(
      Conv2DTransposeOptions{.filters = filters, .kernel_size = kernel_size, .activation = activation});
}

Layer conv1d_transpose_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  return make(conv::spec_from_config(c, Kind::kTranspose, 1, ctx), saving::get_bool(c, "trainable", true));
}
Layer conv2d_transpose_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  return make(conv::spec_from_config(c, Kind::kTranspose, 2, ctx), saving::get_bool(c, "trainable", true));
}

}  // namespace keras::layers
