#pragma once
// keras.layers pooling: MaxPooling1D/2D, AveragePooling1D/2D, GlobalAveragePooling1D/2D,
// GlobalMaxPooling1D/2D and Keras's short aliases (MaxPool2D, AvgPool2D, GlobalAvgPool2D...).
// Arguments, defaults and output sizes are Keras's (KERAS_SPEC §3). No weights.
#include <cstddef>
#include <optional>
#include <string>

#include "keras/layer.h"
#include "keras/layers/args.h"

namespace keras::layers {

struct Pooling1DOptions {
  Dim pool_size = 2;
  std::optional<Dim> strides;     // None: strides = pool_size
  std::string padding = "valid";  // "valid" or "same" (case-insensitive)
  std::string data_format = "channels_last";
  std::string name;
};
// Input (batch, steps, features). 'same' pads the odd extra step at the end; average pooling
// divides by the number of real (unpadded) steps in each window.
Layer MaxPooling1D(const Pooling1DOptions& options = {});
Layer MaxPooling1D(Dim pool_size, std::optional<Dim> strides = std::nullopt, const std::string& padding = "valid");
Layer AveragePooling1D(const Pooling1DOptions& options = {});
Layer AveragePooling1D(Dim pool_size, std::optional<Dim> strides = std::nullopt, const std::string& padding = "valid");

struct Pooling2DOptions {
  IntPair pool_size = 2;
  std::optional<IntPair> strides;  // None: strides = pool_size
  std::string padding = "valid";   // "valid" or "same" (the odd extra cell goes bottom/right)
  std::string data_format = "channels_last";
  std::string name;
};
// Input (batch, rows, cols, channels). valid: out = floor((in - pool) / s) + 1;
// same: out = floor((in - 1) / s) + 1. Average 'same' excludes padded cells from the divisor.
// MaxPooling2D({2, 3}) reads as Keras's MaxPooling2D((2, 3)): a braced pair is pool_size.
Layer MaxPooling2D(const Pooling2DOptions& options = {});
Layer MaxPooling2D(IntPair pool_size, std::optional<IntPair> strides = std::nullopt,
                   const std::string& padding = "valid");
template <std::size_t N>
Layer MaxPooling2D(const Dim (&pool_size)[N]) {
  static_assert(N == 2, "pool_size takes 2 integers: (rows, cols)");
  return MaxPooling2D(IntPair(pool_size[0], pool_size[1]));
}
Layer AveragePooling2D(const Pooling2DOptions& options = {});
Layer AveragePooling2D(IntPair pool_size, std::optional<IntPair> strides = std::nullopt,
                       const std::string& padding = "valid");
template <std::size_t N>
Layer AveragePooling2D(const Dim (&pool_size)[N]) {
  static_assert(N == 2, "pool_size takes 2 integers: (rows, cols)");
  return AveragePooling2D(IntPair(pool_size[0], pool_size[1]));
}

struct GlobalPoolingOptions {
  std::string data_format = "channels_last";
  bool keepdims = false;  // keep the pooled axes with length 1
  std::string name;
};
// Mean / max over every spatial axis: (batch, ..., channels) -> (batch, channels).
Layer GlobalAveragePooling1D(const GlobalPoolingOptions& options = {});
Layer GlobalAveragePooling2D(const GlobalPoolingOptions& options = {});
Layer GlobalMaxPooling1D(const GlobalPoolingOptions& options = {});
Layer GlobalMaxPooling2D(const GlobalPoolingOptions& options = {});

// Keras's aliases: the same classes under shorter names.
inline Layer MaxPool1D(const Pooling1DOptions& o = {}) { return MaxPooling1D(o); }
inline Layer MaxPool1D(Dim pool_size, std::optional<Dim> strides = std::nullopt, const std::string& padding = "valid") {
  return MaxPooling1D(pool_size, strides, padding);
}
inline Layer AvgPool1D(const Pooling1DOptions& o = {}) { return AveragePooling1D(o); }
inline Layer AvgPool1D(Dim pool_size, std::optional<Dim> strides = std::nullopt, const std::string& padding = "valid") {
  return AveragePooling1D(pool_size, strides, padding);
}
inline Layer MaxPool2D(const Pooling2DOptions& o = {}) { return MaxPooling2D(o); }
inline Layer MaxPool2D(IntPair pool_size, std::optional<IntPair> strides = std::nullopt,
                       const std::string& padding = "valid") {
  return MaxPooling2D(pool_size, strides, padding);
}
template <std::size_t N>
Layer MaxPool2D(const Dim (&pool_size)[N]) {
  return MaxPooling2D(pool_size);
}
inline Layer AvgPool2D(const Pooling2DOptions& o = {}) { return AveragePooling2D(o); }
inline Layer AvgPool2D(IntPair pool_size, std::optional<IntPair> strides = std::nullopt,
                       const std::string& padding = "valid") {
  return AveragePooling2D(pool_size, strides, padding);
}
template <std::size_t N>
Layer AvgPool2D(const Dim (&pool_size)[N]) {
  return AveragePooling2D(pool_size);
}
inline Layer GlobalAvgPool1D(const GlobalPoolingOptions& o = {}) { return GlobalAveragePooling1D(o); }
inline Layer GlobalAvgPool2D(const GlobalPoolingOptions& o = {}) { return GlobalAveragePooling2D(o); }
inline Layer GlobalMaxPool1D(const GlobalPoolingOptions& o = {}) { return GlobalMaxPooling1D(o); }
inline Layer GlobalMaxPool2D(const GlobalPoolingOptions& o = {}) { return GlobalMaxPooling2D(o); }

}  // namespace keras::layers
