#pragma once
// Keras activation functions by name (KERAS_SPEC §5.3), applied in place.
#include <string>

#include "keras/tensor.h"

namespace keras::ops {

using ActivationFn = void (*)(Tensor& t);

// The function for a Keras activation name ("relu", "softmax"...; "hard_sigmoid_keras2" is
// Keras 2's hard_sigmoid). Throws ValueError for an unknown name.
ActivationFn activation(const std::string& name);

// Softmax along `axis`, in place.
void softmax(Tensor& t, int axis);

}  // namespace keras::ops
