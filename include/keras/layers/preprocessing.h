#pragma once
// keras.layers preprocessing layers as they run inside saved models: Rescaling, Normalization.
#include <string>
#include <vector>

#include "keras/layer.h"
#include "keras/layers/axes.h"

namespace keras::layers {

struct RescalingOptions {
  // A number, or one value per position of the input's trailing axes (numpy broadcasting, e.g.
  // one per channel): Keras's scale and offset arguments.
  std::vector<float> scale{1.0f};
  std::vector<float> offset{0.0f};
  std::string name;
};
// y = x * scale + offset (as Keras, in float32).
Layer Rescaling(const RescalingOptions& options);
Layer Rescaling(float scale, float offset = 0.0f);

struct NormalizationOptions {
  // The axes that keep their own mean and variance (the others are averaged over); an empty
  // list: one mean and variance for everything (Keras's axis=None).
  Axes axis = -1;
  // Given statistics (numbers, or one per position of the kept axes, C order); empty: the
  // layer has them as weights "mean", "variance" and "count" (non-trainable), set by adapt()
  // or loaded from a file.
  std::vector<float> mean, variance;
  bool invert = false;
  std::string name;
};
// y = (x - mean) / max(sqrt(variance), 1e-7); with invert, y = mean + x * max(sqrt(variance), 1e-7).
Layer Normalization(const NormalizationOptions& options = {});
// Keras's Normalization.adapt() on an array: the mean and biased variance of `data` over every
// axis but the kept ones, into the layer's weights (building it for data's shape, batch axis
// unknown). ValueError for a layer with given statistics or another kept shape.
void adapt(const Layer& normalization, const Tensor& data);

}  // namespace keras::layers
