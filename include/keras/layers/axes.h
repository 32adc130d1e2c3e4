#pragma once
// An axis argument that Keras accepts as an int or a list of ints (Softmax(axis=...),
// BatchNormalization(axis=...), Dot(axes=...)): `.axis = 1` and `.axis = {1, 2}` both read.
#include <initializer_list>
#include <utility>
#include <vector>

namespace keras::layers {

struct Axes {
  std::vector<int> values;

  Axes(int axis) : values{axis} {}  // NOLINT: implicit on purpose, as Python's int
  Axes(std::initializer_list<int> axes) : values(axes) {}
  explicit Axes(std::vector<int> axes) : values(std::move(axes)) {}

  size_t size() const { return values.size(); }
  int operator[](size_t i) const { return values[i]; }
  friend bool operator==(const Axes&, const Axes&) = default;
};

}  // namespace keras::layers
