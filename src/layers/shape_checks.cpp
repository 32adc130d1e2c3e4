#include "layers/shape_checks.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "keras/errors.h"

namespace keras::layers::detail {

std::string tuple_str(const std::vector<Dim>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (v.size() == 1 ? ",)" : ")");
}

static std::string incompatible(const std::string& layer) {
  return "Input 0 of layer \"" + layer + "\" is incompatible with the layer: ";
}

void check_ndim(const std::string& layer, const Shape& shape, int ndim) {
  if (shape.rank() != ndim)
    throw ValueError(incompatible(layer) + "expected ndim=" + std::to_string(ndim) +
                     ", found ndim=" + std::to_string(shape.rank()) + ". Full shape received: " + shape.str());
}

void check_min_ndim(const std::string& layer, const Shape& shape, int min_ndim) {
  if (shape.rank() < min_ndim)
    throw ValueError(incompatible(layer) + "expected min_ndim=" + std::to_string(min_ndim) +
                     ", found ndim=" + std::to_string(shape.rank()) + ". Full shape received: " + shape.str());
}

std::string standardize_data_format(const std::string& data_format) {
  std::string f = data_format;
  std::transform(f.begin(), f.end(), f.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (f != "channels_first" && f != "channels_last")
    throw ValueError(
        "The `data_format` argument must be one of {'channels_first', 'channels_last'}. Received: "
        "data_format=" +
        data_format);
  return f;
}

void check_tuple(const std::vector<Dim>& values, const std::string& arg, bool allow_zero) {
  std::set<Dim> bad;
  for (Dim v : values)
    if (v < 0 || (v == 0 && !allow_zero)) bad.insert(v);
  if (bad.empty()) return;
  std::string set = "{";
  for (Dim v : bad) set += (set.size() > 1 ? ", " : "") + std::to_string(v);
  throw ValueError("The `" + arg + "` argument must be a tuple of " + std::to_string(values.size()) +
                   " integers. Received " + arg + "=" + tuple_str(values) + ", including values " + set +
                   "} that do not satisfy `value " + (allow_zero ? ">= 0" : "> 0") + "`");
}

static ValueError bad_value(const std::string& arg, const nlohmann::json& v, const std::string& want) {
  return ValueError("Config argument `" + arg + "` should be " + want + ", received: " + v.dump());
}

static Dim int_of(const nlohmann::json& v, const std::string& arg) {
  if (!v.is_number_integer()) throw bad_value(arg, v, "an integer");
  return v.get<Dim>();
}

IntPair pair_from_json(const nlohmann::json& v, const std::string& arg) {
  if (v.is_number_integer()) return IntPair(v.get<Dim>());
  if (v.is_array() && v.size() == 2) return IntPair(int_of(v[0], arg), int_of(v[1], arg));
  if (v.is_object() && v.contains("left_pad") && v.contains("right_pad"))
    return IntPair(int_of(v["left_pad"], arg), int_of(v["right_pad"], arg));
  throw bad_value(arg, v, "an integer or a pair of integers");
}

Sides2D sides2d_from_json(const nlohmann::json& v, const std::string& arg) {
  if (v.is_number_integer()) return Sides2D(v.get<Dim>());
  if (v.is_array() && v.size() == 2) return Sides2D(pair_from_json(v[0], arg), pair_from_json(v[1], arg));
  if (v.is_array() && v.size() == 4)
    return Sides2D(IntPair(int_of(v[0], arg), int_of(v[1], arg)), IntPair(int_of(v[2], arg), int_of(v[3], arg)));
  if (v.is_object() && v.contains("top_pad"))
    return Sides2D(IntPair(int_of(v.value("top_pad", nlohmann::json(0)), arg),
                           int_of(v.value("bottom_pad", nlohmann::json(0)), arg)),
                   IntPair(int_of(v.value("left_pad", nlohmann::json(0)), arg),
                           int_of(v.value("right_pad", nlohmann::json(0)), arg)));
  throw bad_value(arg, v, "an integer, 2 integers or 2 pairs of integers");
}

nlohmann::json sides2d_to_json(const Sides2D& s) { return nlohmann::json::array({s.rows.vec(), s.cols.vec()}); }

}  // namespace keras::layers::detail
