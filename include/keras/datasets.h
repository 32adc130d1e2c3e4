#pragma once
// Keras's built-in data sets (keras.datasets), read from gzip-compressed IDX files.
#include <filesystem>
#include <string>
#include <vector>

#include "keras/tensor.h"

namespace keras::datasets {

// One split: x holds the images as float32 with uint8 values 0..255 (Keras gives uint8; scale
// with x / 255.0f), shape (N, 28, 28); y holds the integer labels 0..9, shape (N,).
struct Split {
  Tensor x;
  Tensor y;
};

// `auto [train, test] = datasets::fashion_mnist::load_data();`
struct TrainTest {
  Split train;
  Split test;
};

namespace fashion_mnist {
// Reads train-/t10k-{images-idx3,labels-idx1}-ubyte.gz from `directory`, or when it is empty from
// $KERAS_HOME/datasets/fashion-mnist, ~/.keras/datasets/fashion-mnist, then Debian's
// dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist). Throws FileError saying
// where it looked and how to get the files.
TrainTest load_data(const std::filesystem::path& directory = {});
// The names of the ten classes, by label.
const std::vector<std::string>& class_names();
}  // namespace fashion_mnist

namespace mnist {
// MNIST has no Debian package: the same four IDX .gz files are read from `directory`, or when
// it is empty from $KERAS_HOME/datasets/mnist or ~/.keras/datasets/mnist.
TrainTest load_data(const std::filesystem::path& directory = {});
}  // namespace mnist

}  // namespace keras::datasets
