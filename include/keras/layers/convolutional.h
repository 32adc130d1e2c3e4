#pragma once
// keras.layers convolutional: Conv1D/2D, DepthwiseConv1D/2D, SeparableConv1D/2D,
// Conv1DTranspose/2DTranspose. Arguments, defaults and weight layouts are Keras's
// (KERAS_SPEC §2): kernels are (k..., C_in/groups, filters) whatever the data_format.
#include <optional>
#include <string>

#include "keras/initializers.h"
#include "keras/layer.h"
#include "keras/layers/args.h"

namespace keras::layers {

struct Conv1DOptions {
  Dim filters = 0;
  Dim kernel_size = 0;
  Dim strides = 1;
  std::string padding = "valid";  // "valid", "same" or "causal" (case-insensitive)
  std::string data_format = "channels_last";
  Dim dilation_rate = 1;
  Dim groups = 1;
  std::string activation;  // empty = linear
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  std::string name;
};
// Input (batch, steps, channels); kernel (kernel_size, channels/groups, filters).
Layer Conv1D(const Conv1DOptions& options);
Layer Conv1D(Dim filters, Dim kernel_size, const std::string& activation = "");

struct Conv2DOptions {
  Dim filters = 0;
  IntPair kernel_size = 0;
  IntPair strides = 1;
  std::string padding = "valid";  // "valid" or "same" (the odd extra pixel goes bottom/right)
  std::string data_format = "channels_last";
  IntPair dilation_rate = 1;
  Dim groups = 1;
  std::string activation;
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  std::string name;
};
// Input (batch, rows, cols, channels); kernel (kH, kW, channels/groups, filters).
Layer Conv2D(const Conv2DOptions& options);
Layer Conv2D(Dim filters, IntPair kernel_size, const std::string& activation = "");

struct DepthwiseConv1DOptions {
  Dim kernel_size = 0;
  Dim strides = 1;
  std::string padding = "valid";
  Dim depth_multiplier = 1;
  std::string data_format = "channels_last";
  Dim dilation_rate = 1;
  std::string activation;
  bool use_bias = true;
  Initializer depthwise_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  std::string name;
};
// Each channel convolved with its own depth_multiplier filters; kernel (k, C, M), output
// channel c*M + m.
Layer DepthwiseConv1D(const DepthwiseConv1DOptions& options);
Layer DepthwiseConv1D(Dim kernel_size, const std::string& activation = "");

struct DepthwiseConv2DOptions {
  IntPair kernel_size = 0;
  IntPair strides = 1;
  std::string padding = "valid";
  Dim depth_multiplier = 1;
  std::string data_format = "channels_last";
  IntPair dilation_rate = 1;
  std::string activation;
  bool use_bias = true;
  Initializer depthwise_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  std::string name;
};
// Kernel (kH, kW, C, M), named "kernel" as in Keras 3 (Keras 2 called it depthwise_kernel).
Layer DepthwiseConv2D(const DepthwiseConv2DOptions& options);
Layer DepthwiseConv2D(IntPair kernel_size, const std::string& activation = "");

struct SeparableConv1DOptions {
  Dim filters = 0;
  Dim kernel_size = 0;
  Dim strides = 1;
  std::string padding = "valid";
  std::string data_format = "channels_last";
  Dim dilation_rate = 1;
  Dim depth_multiplier = 1;
  std::string activation;
  bool use_bias = true;
  Initializer depthwise_initializer = "glorot_uniform";
  Initializer pointwise_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  std::string name;
};
// A depthwise conv then a 1x1 conv; weights depthwise_kernel (k, C, M), pointwise_kernel
// (1, C*M, filters), bias (filters,).
Layer SeparableConv1D(const SeparableConv1DOptions& options);
Layer SeparableConv1D(Dim filters, Dim kernel_size, const std::string& activation = "");

struct SeparableConv2DOptions {
  Dim filters = 0;
  IntPair kernel_size = 0;
  IntPair strides = 1;
  std::string padding = "valid";
  std::string data_format = "channels_last";
  IntPair dilation_rate = 1;
  Dim depth_multiplier = 1;
  std::string activation;
  bool use_bias = true;
  Initializer depthwise_initializer = "glorot_uniform";
  Initializer pointwise_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  std::string name;
};
// Weights depthwise_kernel (kH, kW, C, M), pointwise_kernel (1, 1, C*M, filters), bias.
Layer SeparableConv2D(const SeparableConv2DOptions& options);
Layer SeparableConv2D(Dim filters, IntPair kernel_size, const std::string& activation = "");

struct Conv1DTransposeOptions {
  Dim filters = 0;
  Dim kernel_size = 0;
  Dim strides = 1;
  std::string padding = "valid";
  std::optional<Dim> output_padding;  // None: Keras picks the natural size
  std::string data_format = "channels_last";
  Dim dilation_rate = 1;
  std::string activation;
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  std::string name;
};
// The transpose of Conv1D; kernel (k, filters, C_in).
Layer Conv1DTranspose(const Conv1DTransposeOptions& options);
Layer Conv1DTranspose(Dim filters, Dim kernel_size, const std::string& activation = "");

struct Conv2DTransposeOptions {
  Dim filters = 0;
  IntPair kernel_size = 0;
  IntPair strides = 1;
  std::string padding = "valid";
  std::optional<IntPair> output_padding;  // e.g. 1 or IntPair{1, 0}; None: natural size
  std::string data_format = "channels_last";
  IntPair dilation_rate = 1;
  std::string activation;
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  std::string name;
};
// The transpose (input gradient) of Conv2D, as TensorFlow's conv2d_transpose; kernel
// (kH, kW, filters, C_in). Output size per Keras's deconv_output_length (ke: dilated kernel):
// valid (in-1)*s + max(ke, s), or (in-1)*s + ke + output_padding; same in*s, or
// (in-1)*s + ke%2 + output_padding.
Layer Conv2DTranspose(const Conv2DTransposeOptions& options);
Layer Conv2DTranspose(Dim filters, IntPair kernel_size, const std::string& activation = "");

}  // namespace keras::layers
