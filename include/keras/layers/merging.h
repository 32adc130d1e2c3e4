#pragma once
// keras.layers merging layers: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum,
// Dot. They take a list of tensors: layers::Add()({a, b}), or the functional helpers
// layers::add({a, b}), layers::concatenate({a, b}, 1).
#include <initializer_list>
#include <string>
#include <vector>

#include "keras/layer.h"
#include "keras/layers/axes.h"

namespace keras::layers {

struct ConcatenateOptions {
  int axis = -1;
  std::string name;
};
// Joins inputs along `axis`; all other dimensions must match.
Layer Concatenate(const ConcatenateOptions& options = {});
Layer Concatenate(int axis);

// The elementwise merges. Inputs of different ranks are expanded after the batch axis, then
// broadcast as numpy does.
struct MergeOptions {
  std::string name;
};
Layer Add(const MergeOptions& options = {});
Layer Subtract(const MergeOptions& options = {});  // exactly 2 inputs: inputs[0] - inputs[1]
Layer Multiply(const MergeOptions& options = {});
Layer Average(const MergeOptions& options = {});
Layer Maximum(const MergeOptions& options = {});
Layer Minimum(const MergeOptions& options = {});

struct DotOptions {
  Axes axes = -1;          // one axis for both inputs, or {axis of input 0, axis of input 1}
  bool normalize = false;  // L2-normalise along the axes first (cosine proximity)
  std::string name;
};
// Batchwise dot product of 2 inputs along the given axes (Keras's batch_dot).
Layer Dot(const DotOptions& options);
Layer Dot(int axes, bool normalize = false);
Layer Dot(std::initializer_list<int> axes, bool normalize = false);  // Dot({1, 2})

// The functional interface (keras.layers.add(...) etc.).
KerasTensor concatenate(const std::vector<KerasTensor>& inputs, int axis = -1);
KerasTensor add(const std::vector<KerasTensor>& inputs);
KerasTensor subtract(const std::vector<KerasTensor>& inputs);
KerasTensor multiply(const std::vector<KerasTensor>& inputs);
KerasTensor average(const std::vector<KerasTensor>& inputs);
KerasTensor maximum(const std::vector<KerasTensor>& inputs);
KerasTensor minimum(const std::vector<KerasTensor>& inputs);
KerasTensor dot(const std::vector<KerasTensor>& inputs, Axes axes = -1, bool normalize = false);

}  // namespace keras::layers
