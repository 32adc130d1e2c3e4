#pragma once
// keras.utils helpers.
#include <cstdint>

#include "keras/tensor.h"

namespace keras::utils {

// One-hot encoding of integer class labels, as keras.utils.to_categorical: labels of shape
// (N,) or (N, 1) give (N, num_classes); other shapes gain a last axis. num_classes < 0 takes
// max(label) + 1. Throws ValueError for negative, fractional or too-large labels.
Tensor to_categorical(const Tensor& labels, int num_classes = -1);

// keras.utils.set_random_seed: seeds weights initialisation, dropout and shuffling.
void set_random_seed(uint64_t seed);

}  // namespace keras::utils
