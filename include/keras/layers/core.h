#pragma once
// keras.layers core: Dense, Activation, Dropout (and SpatialDropout1D/2D/3D), Embedding, Masking
// (InputLayer: see keras::Input).
#include <optional>
#include <string>
#include <vector>

#include "keras/initializers.h"
#include "keras/layer.h"

namespace keras::layers {

struct DenseOptions {
  Dim units = 0;
  std::string activation;  // empty = linear
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  std::string name;
};
// y = activation(x @ kernel + bias) over the last axis of any rank; kernel (in, units).
Layer Dense(const DenseOptions& options);
Layer Dense(Dim units, const std::string& activation = "");

struct ActivationOptions {
  std::string activation;
  std::string name;
};
Layer Activation(const ActivationOptions& options);
Layer Activation(const std::string& activation);

struct DropoutOptions {
  double rate = 0.0;
  std::optional<int64_t> seed;
  std::string name;
  // Keras's noise_shape: the mask's shape, broadcast over the input; None (-1) takes the
  // input's dimension ({None, 1, None}: one mask value per sample and channel, all timesteps).
  std::vector<Dim> noise_shape;
};
// Identity at inference; inverted dropout in training.
Layer Dropout(const DropoutOptions& options);
Layer Dropout(double rate);

// SpatialDropout1D/2D/3D: whole feature maps dropped (the mask is per sample and channel).
struct SpatialDropoutOptions {
  double rate = 0.0;
  std::optional<int64_t> seed;
  std::string data_format = "channels_last";  // 2D and 3D only
  std::string name;
};
Layer SpatialDropout1D(const SpatialDropoutOptions& options);
Layer SpatialDropout1D(double rate);
Layer SpatialDropout2D(const SpatialDropoutOptions& options);
Layer SpatialDropout2D(double rate);
Layer SpatialDropout3D(const SpatialDropoutOptions& options);
Layer SpatialDropout3D(double rate);

struct EmbeddingOptions {
  Dim input_dim = 0;
  Dim output_dim = 0;
  Initializer embeddings_initializer = "uniform";
  bool mask_zero = false;
  std::string name;
};
// Row lookup: integer indices (given as floats) -> rows of embeddings (input_dim, output_dim).
// mask_zero: index 0 is padding; the mask (indices != 0) rides along to the layers after it,
// and RNNs, GlobalAveragePooling1D, merges and the losses honour it as Keras does.
Layer Embedding(const EmbeddingOptions& options);
Layer Embedding(Dim input_dim, Dim output_dim);

struct MaskingOptions {
  double mask_value = 0.0;
  std::string name;
};
// Masks (and zeroes) every step whose features all equal mask_value; the mask rides along as
// Embedding(mask_zero=True)'s does.
Layer Masking(const MaskingOptions& options);
Layer Masking(double mask_value = 0.0);

// Keras's Identity: its input, unchanged (masks too).
Layer Identity(const std::string& name = "");

}  // namespace keras::layers
