#pragma once
// keras.layers preprocessing layers as they run inside saved models: Rescaling.
#include <string>
#include <vector>

#include "keras/layer.h"

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

}  // namespace keras::layers
