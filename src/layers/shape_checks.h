#pragma once
// Argument and input-rank checks shared by the pooling and reshaping layers, with Keras's
// wording (keras/src/layers/input_spec.py, keras/src/utils/argument_validation.py).
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "keras/layers/reshaping.h"
#include "keras/shape.h"

namespace keras::layers::detail {

// Python's tuple repr: "(3, -1)", "(12,)".
std::string tuple_str(const std::vector<Dim>& v);

// Keras's InputSpec errors, naming the layer: "Input 0 of layer "x" is incompatible ...".
void check_ndim(const std::string& layer, const Shape& shape, int ndim);
void check_min_ndim(const std::string& layer, const Shape& shape, int min_ndim);

// "channels_last"/"channels_first" (case-insensitive), else Keras's ValueError.
std::string standardize_data_format(const std::string& data_format);
// Every value > 0 (>= 0 with allow_zero), else Keras's standardize_tuple ValueError.
void check_tuple(const std::vector<Dim>& values, const std::string& arg, bool allow_zero);

// Reads a Keras 2-D padding/cropping argument: n, [a, b], [[t, b], [l, r]], or Keras 1's
// [t, b, l, r] and {"top_pad": t, ...} dictionaries.
Sides2D sides2d_from_json(const nlohmann::json& v, const std::string& arg);
// Reads an int or a pair: n or [a, b] (Keras 1 also {"left_pad": a, "right_pad": b}).
IntPair pair_from_json(const nlohmann::json& v, const std::string& arg);
nlohmann::json sides2d_to_json(const Sides2D& s);

}  // namespace keras::layers::detail
