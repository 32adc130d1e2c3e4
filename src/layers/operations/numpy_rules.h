#pragma once
// Numpy's rules as keras.ops follows them, on shapes (None for unknown sizes) and on the
// constants of a call: broadcasting, axes, reshape targets, basic indexing.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "keras/tensor.h"

namespace keras::layers::operations {

// tf.keras's JSON encoder writes tuples as {"class_name": "__tuple__", "items": [...]}: the
// same value with plain lists.
nlohmann::json plain(const nlohmann::json& j);

// A number, a (nested) list of numbers, or Keras 3's __numpy__/__tensor__ entry, as float32;
// `shape` receives its numpy shape (() for a number, whose tensor holds one value).
Tensor constant_tensor(const nlohmann::json& j, Shape& shape);

// The product of s's sizes on axes [from, to).
Dim product(const Shape& s, int from, int to);
// An axis argument (an integer or a list) normalized for `rank`; ValueError naming `what`.
std::vector<int> axes_of(const nlohmann::json& axis, int rank, const std::string& what);
Shape broadcast_shapes(const Shape& x, const Shape& y);
// Numpy's reshape target: one -1 takes what is left; unknown input sizes leave it unknown.
Shape reshape_target(const Shape& in, const nlohmann::json& shape_arg);

// One entry of a numpy index: an integer, a slice, a new axis (None) or an ellipsis.
struct IndexItem {
  enum class Kind { kIndex, kSlice, kNewAxis, kEllipsis };
  Kind kind = Kind::kIndex;
  int64_t index = 0;
  std::optional<int64_t> start, stop, step;
};
// A key as Keras 3 (__slice__ entries, lists for tuples) or tf.keras ({start, stop, step},
// __ellipsis__, __tuple__) writes it.
std::vector<IndexItem> index_items(const nlohmann::json& key);

// How an index applies to a shape: per input axis, what it keeps (begin, step, length; an
// integer keeps length 1 and drops the axis); the output shape with new axes.
struct Indexing {
  std::vector<Dim> begin, step, length;
  Shape sliced, output;
  bool identity = true;
};
Indexing plan_indexing(const std::vector<IndexItem>& items, const Shape& in);

}  // namespace keras::layers::operations
