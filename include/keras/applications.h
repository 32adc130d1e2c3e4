#pragma once
// keras.applications: reference architectures built from the library's layers.
#include <optional>
#include <string>

#include "keras/model.h"

namespace keras::applications {

struct VGG16Options {
  bool include_top = true;
  // Without the batch axis; default (224, 224, 3) with the top, (None, None, 3) without.
  std::optional<Shape> input_shape;
  // Without the top: "" (4-D output), "avg" or "max" (global pooling to 2-D).
  std::string pooling;
  Dim classes = 1000;
  std::string classifier_activation = "softmax";
  std::string name = "vgg16";
};

// VGG16 (keras/src/applications/vgg16.py): 13 3x3 convolutions in 5 blocks, each block ending in
// 2x2 max pooling; with the top, Flatten and Dense fc1/fc2 (4096) and "predictions".
// Weights are initialised as Keras would; load trained ones with the file functions.
Model VGG16(const VGG16Options& options = {});

}  // namespace keras::applications
