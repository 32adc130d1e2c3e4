#pragma once
// What every convolution layer shares: its arguments in one normalized form (tuples as
// rank-length vectors), their Keras validation, reading them from Keras 1/2/3 configs, and a
// base layer doing shapes and layout (channels_first, 1-D as height 1). Subclasses create
// weights and describe the convolution proper as ops on NHWC data.
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "keras/initializers.h"
#include "keras/layer.h"
#include "keras/saving.h"
#include "ops/kernels.h"
#include "ops/op.h"

namespace keras::layers::conv {

enum class Kind { kConv, kDepthwise, kSeparable, kTranspose };

struct ConvSpec {
  Kind kind = Kind::kConv;
  int rank = 2;
  Dim filters = 0;           // all but depthwise
  Dim depth_multiplier = 1;  // depthwise and separable
  std::vector<Dim> kernel_size, strides, dilation_rate;
  std::optional<std::vector<Dim>> output_padding;  // transpose only
  std::string padding = "valid";
  std::string data_format = "channels_last";
  Dim groups = 1;  // conv only
  std::string activation;
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";  // the depthwise kernel's for depthwise/separable
  Initializer pointwise_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  std::string name;
};

// "Conv2D", "DepthwiseConv1D", "Conv2DTranspose"...
std::string class_name_of(Kind kind, int rank);

// The spec from a layer config of any Keras version (Keras 1: nb_filter, nb_row/nb_col,
// filter_length, subsample, border_mode, dim_ordering, atrous_rate, init, bias).
ConvSpec spec_from_config(const nlohmann::json& config, Kind kind, int rank, const ConfigContext& ctx);

// Python's tuple repr: "(3, 3)", "(3,)".
std::string tuple_str(const std::vector<Dim>& v);

// Base of all convolution layers. Validates the spec on construction with Keras's messages.
class ConvBase : public LayerImpl {
 public:
  explicit ConvBase(ConvSpec spec);
  std::string class_name() const final { return class_name_; }
  const ConvSpec& spec() const { return spec_; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const final;
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const final;
  // Described once, as ops: call() and backward() run lower()'s ops.
  bool lower(graph::Lowering& g, const std::vector<int>& inputs, std::vector<int>& outputs) const final;
  Gradients backward(const BackwardArgs& args) const final;
  nlohmann::json get_config() const override;

 protected:
  void build_weights(const std::vector<Shape>& in) final;
  // Creates the layer's weights for `in_channels` input channels; the bias, if any, last.
  virtual void create_weights(Dim in_channels) = 0;
  virtual Dim output_channels(Dim in_channels) const = 0;
  // The convolution with `epilogue` (bias, activation) after it, as ops from value x (N, H, W, C)
  // to a value of shape y (N, OH, OW, OC); 1-D layers see H = OH = 1. `args`: x's geometry, in_*
  // for x and out_* for y (for transposes: as axis_geometry gives them).
  virtual int emit(graph::Lowering& g, int x, const ops::Conv2DArgs& args, const Shape& y,
                   const ops::Epilogue& epilogue) const = 0;
  // One op from x to y reading `kernel`, and the bias when the epilogue adds one.
  int emit_op(graph::Lowering& g, ops::OpAttrs attrs, int x, const Shape& y, const Tensor& kernel) const;
  // Output length and leading pad along spatial axis `axis` for input length `in` (None stays None).
  virtual ops::Padding1D axis_geometry(int axis, Dim in, const Shape& full_input) const;

  const Tensor& weight(size_t i) const { return variables()[i]->value; }

 private:
  void validate() const;
  void check_input(const Shape& s) const;
  Dim channels_of(const Shape& s) const;
  std::vector<Dim> spatial_of(const Shape& s) const;
  // 4-D NHWC geometry for a concrete channels-last input shape.
  ops::Conv2DArgs kernel_args(const Shape& x_last) const;

  ConvSpec spec_;
  std::string class_name_;
};

}  // namespace keras::layers::conv
