#pragma once
// keras.layers activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax, ThresholdedReLU.
// (The Activation layer, taking an activation by name, is in core.h.)
#include <optional>
#include <string>
#include <vector>

#include "keras/initializers.h"
#include "keras/layer.h"
#include "keras/layers/axes.h"

namespace keras::layers {

struct ReLUOptions {
  std::optional<double> max_value;  // None: unbounded
  double negative_slope = 0.0;
  double threshold = 0.0;
  std::string name;
};
// y = min(x, max_value) if x > threshold, else negative_slope * (x - threshold).
Layer ReLU(const ReLUOptions& options = {});

struct LeakyReLUOptions {
  double negative_slope = 0.3;  // the layer's default; the "leaky_relu" activation uses 0.2
  std::string name;
};
// y = x if x > 0 else negative_slope * x.
Layer LeakyReLU(const LeakyReLUOptions& options = {});
Layer LeakyReLU(double negative_slope);

struct PReLUOptions {
  Initializer alpha_initializer = "zeros";
  // 1-based axes (batch excluded) along which alpha is shared, e.g. {1, 2} for images.
  std::vector<int> shared_axes;
  std::string name;
};
// y = x if x > 0 else alpha * x, with a learned alpha shaped like the input without batch
// (size 1 along shared_axes). Weight: "alpha".
Layer PReLU(const PReLUOptions& options = {});

struct ELUOptions {
  double alpha = 1.0;
  std::string name;
};
// y = x if x > 0 else alpha * (exp(x) - 1).
Layer ELU(const ELUOptions& options = {});
Layer ELU(double alpha);

struct SoftmaxOptions {
  Axes axis = -1;  // several axes: normalised jointly over all of them
  std::string name;
};
Layer Softmax(const SoftmaxOptions& options = {});
Layer Softmax(int axis);

struct ThresholdedReLUOptions {
  double theta = 1.0;
  std::string name;
};
// Keras 2's layer: y = x if x > theta else 0.
Layer ThresholdedReLU(const ThresholdedReLUOptions& options = {});
Layer ThresholdedReLU(double theta);

}  // namespace keras::layers
