#pragma once
// Keras's automatic names: snake_case of the class, made unique per process (KERAS_SPEC §6).
#include <string>

namespace keras::naming {

// "Conv2D" -> "conv2d", "LeakyReLU" -> "leaky_re_lu", "MaxPooling2D" -> "max_pooling2d".
std::string to_snake_case(const std::string& class_name);
// First use of a prefix gives the prefix itself, later uses prefix_1, prefix_2, ...
std::string uniquify(const std::string& prefix);
void reset();

}  // namespace keras::naming
