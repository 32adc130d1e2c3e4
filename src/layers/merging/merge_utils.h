#pragma once
// Shared by the merging layers.
#include <string>
#include <vector>

#include "keras/shape.h"

namespace keras::layers::merging {

// Python's repr of a list of shape tuples, as Keras's merge errors print input_shape:
// "[(None, 3), (None, 4)]".
inline std::string shapes_repr(const std::vector<Shape>& shapes) {
  std::string s = "[";
  for (size_t i = 0; i < shapes.size(); ++i) s += (i ? ", " : "") + shapes[i].str();
  return s + "]";
}

}  // namespace keras::layers::merging
