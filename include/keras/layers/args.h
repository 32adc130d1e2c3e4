#pragma once
// Small argument types shared by the layer headers: Keras accepts an int or a tuple for
// kernel_size, strides, pool_size...; IntPair is that "int or (a, b)" for 2-D layers.
#include <string>
#include <vector>

#include "keras/shape.h"

namespace keras::layers {

// An int broadcast to both axes, or a pair: `.kernel_size = 3` or `.kernel_size = {3, 5}`.
struct IntPair {
  Dim first = 0;   // height (rows)
  Dim second = 0;  // width (columns)

  IntPair() = default;
  IntPair(Dim v) : first(v), second(v) {}  // NOLINT: implicit, as Keras broadcasts ints
  IntPair(Dim a, Dim b) : first(a), second(b) {}

  Dim operator[](int i) const { return i == 0 ? first : second; }
  std::vector<Dim> vec() const { return {first, second}; }
  // "(3, 3)", as Keras prints tuples in error messages.
  std::string str() const { return "(" + std::to_string(first) + ", " + std::to_string(second) + ")"; }
  friend bool operator==(const IntPair&, const IntPair&) = default;
};

}  // namespace keras::layers
