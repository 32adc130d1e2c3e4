#pragma once
// keras.layers regularization layers: GaussianNoise, GaussianDropout, AlphaDropout,
// ActivityRegularization (Dropout and the SpatialDropouts are in core.h).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keras/layer.h"

namespace keras::layers {

struct GaussianNoiseOptions {
  double stddev = 0.0;  // in [0, 1]
  std::optional<int64_t> seed;
  std::string name;
};
// Identity at inference; in training, x + N(0, stddev) (fresh noise every step).
Layer GaussianNoise(const GaussianNoiseOptions& options);
Layer GaussianNoise(double stddev);

struct GaussianDropoutOptions {
  double rate = 0.0;  // in [0, 1]
  std::optional<int64_t> seed;
  std::string name;
};
// Identity at inference; in training, x * N(1, sqrt(rate / (1 - rate))).
Layer GaussianDropout(const GaussianDropoutOptions& options);
Layer GaussianDropout(double rate);

struct AlphaDropoutOptions {
  double rate = 0.0;             // in [0, 1]
  std::vector<Dim> noise_shape;  // empty: the input's; None (-1) takes the input's size
  std::optional<int64_t> seed;
  std::string name;
};
// Identity at inference; in training, SELU-preserving dropout: dropped values become
// -alpha*scale, then a * x + b keeps the mean and variance (Keras's formula).
Layer AlphaDropout(const AlphaDropoutOptions& options);
Layer AlphaDropout(double rate);

struct ActivityRegularizationOptions {
  double l1 = 0.0, l2 = 0.0;
  std::string name;
};
// Identity, with an activity regularizer L1L2(l1, l2) on its output that fit() adds to the loss.
Layer ActivityRegularization(const ActivityRegularizationOptions& options = {});

}  // namespace keras::layers
