#pragma once
// keras.layers normalization layers: BatchNormalization, LayerNormalization,
// GroupNormalization, UnitNormalization.
#include <string>

#include "keras/initializers.h"
#include "keras/layer.h"
#include "keras/layers/axes.h"

namespace keras::layers {

struct BatchNormalizationOptions {
  Axes axis = -1;  // the feature axis (1 after a channels_first conv); several axes: Keras 2 only
  double momentum = 0.99;
  double epsilon = 1e-3;
  bool center = true;  // add beta
  bool scale = true;   // multiply by gamma
  Initializer beta_initializer = "zeros";
  Initializer gamma_initializer = "ones";
  Initializer moving_mean_initializer = "zeros";
  Initializer moving_variance_initializer = "ones";
  bool synchronized = false;
  std::string name;
};
// Inference: y = (x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta.
// Training (CallContext::training on a trainable layer): the batch's mean and (biased) variance
// over every axis but `axis` replace the moving statistics.
// Weights, in order: gamma (if scale), beta (if center), moving_mean, moving_variance (the last
// two non-trainable); each of shape (C,) with C the size of `axis`.
Layer BatchNormalization(const BatchNormalizationOptions& options = {});

struct LayerNormalizationOptions {
  Axes axis = -1;  // the axes normalized together, per sample
  double epsilon = 1e-3;
  bool center = true;        // add beta
  bool scale = true;         // multiply by gamma
  bool rms_scaling = false;  // Keras 3.1: y = x / sqrt(var + epsilon) * gamma (no centring, no beta)
  Initializer beta_initializer = "zeros";
  Initializer gamma_initializer = "ones";
  std::string name;
};
// Each sample's values over `axis` normalized by their own mean and (biased) variance: y = (x -
// mean) / sqrt(var + epsilon) * gamma + beta, the same in training and inference. Weights, in
// order: gamma (if scale or rms_scaling), beta (if center and not rms_scaling), of shape (the
// input's sizes on `axis`, in its order).
Layer LayerNormalization(const LayerNormalizationOptions& options = {});

struct GroupNormalizationOptions {
  Dim groups = 32;  // -1: one group per channel
  int axis = -1;    // the channel axis
  double epsilon = 1e-3;
  bool center = true;
  bool scale = true;
  Initializer beta_initializer = "zeros";
  Initializer gamma_initializer = "ones";
  std::string name;
};
// The channels split into `groups`; each sample's values of one group (every other axis but the
// batch) normalized by their mean and biased variance, then y = xh * gamma + beta per channel.
// Weights: gamma (if scale), beta (if center), of shape (channels,).
Layer GroupNormalization(const GroupNormalizationOptions& options = {});

struct UnitNormalizationOptions {
  Axes axis = -1;
  std::string name;
};
// x / sqrt(max(sum(x^2) over `axis`, 1e-12)): each sample's vectors along `axis` scaled to norm 1.
Layer UnitNormalization(const UnitNormalizationOptions& options = {});

}  // namespace keras::layers
