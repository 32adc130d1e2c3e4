#pragma once
// Weight initializers with Keras's names and formulas (KERAS_SPEC §2.4).
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "keras/shape.h"
#include "keras/tensor.h"

namespace keras {

// A Keras initializer: a name ("glorot_uniform", "zeros", "orthogonal"...) and its arguments.
struct Initializer {
  std::string name = "glorot_uniform";
  double scale = 1.0;            // VarianceScaling scale, Orthogonal gain
  std::string mode = "fan_avg";  // VarianceScaling
  std::string distribution = "uniform";
  double minval = -0.05, maxval = 0.05;  // RandomUniform
  double mean = 0.0, stddev = 0.05;      // RandomNormal / TruncatedNormal
  double value = 0.0;                    // Constant
  int64_t seed = -1;                     // -1: draw from the global generator
  // name "custom": an initializer a file names that keras.cpp cannot build (a user's Python
  // class), its config kept to be written back as it was. Using it is a ValueError: the
  // weights must come from the file.
  std::string custom_config;

  Initializer() = default;
  Initializer(const char* n);         // NOLINT: "zeros", "glorot_uniform"...
  Initializer(const std::string& n);  // NOLINT

  Tensor operator()(const Shape& shape) const;
};

// Reads a Keras initializer from a config: a string or {"class_name": ..., "config": ...}. An
// unknown class (a user's Python initializer) gives a "custom" one, with a warning on stderr:
// the model loads when its weights come from the file.
Initializer initializer_from_config(const nlohmann::json& j);
nlohmann::json initializer_to_config(const Initializer& init);

// Seeds the library's global random generator (weights init, dropout, shuffling).
void set_random_seed(uint64_t seed);

}  // namespace keras
