#pragma once
// What every convolution layer shares: its arguments in one normalized form (tuples as
// rank-length vectors), their Keras validation, reading them from Keras 1/2/3 configs, and a
// base layer doing shapes, layout (channels_first, 1-D as height 1), bias and activation.
// Subclasses only create weights and run the convolution proper on NHWC data.
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "keras/initializers.h"
#include "keras/layer.h"
#include "keras/saving.h"
#include "ops/activations.h"
#include "ops/kernels.h"

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
  // Conv and depthwise convolutions lower to a conv2d op; separable and transposed ones run
  // through call() for now.
  bool lower(graph::Lowering& g, const std::vector<int>& inputs, std::vector<int>& outputs) const final;
  // Activation, layout and bias gradients here; the convolution's own in convolve_backward.
  Gradients backward(const BackwardArgs& args) const final;
  bool as_ops() const;
  nlohmann::json get_config() const override;

 protected:
  void build_weights(const std::vector<Shape>& in) final;
  // Creates the layer's weights for `in_channels` input channels; the bias, if any, last.
  virtual void create_weights(Dim in_channels) = 0;
  virtual Dim output_channels(Dim in_channels) const = 0;
  // The convolution without bias: x (N, H, W, C) -> y (N, OH, OW, OC) already sized; 1-D
  // layers see H = OH = 1. `args` holds the geometry (for transposes: of the forward conv y -> x).
  virtual void convolve(const ops::Conv2DArgs& args, const Tensor& x, Tensor& y) const = 0;
  // The gradients of convolve() given dy, the gradient of its output: fills dx (sized as x;
  // left alone when empty: not needed) and returns the gradients of the weights in
  // variables() order, the bias left out.
  virtual std::vector<Tensor> convolve_backward(const ops::Conv2DArgs& args, const Tensor& x, const Tensor& dy,
                                                Tensor& dx) const = 0;
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
  ops::ActivationFn activation_;
};

}  // namespace keras::layers::conv
