#pragma once
// Helpers to read layer arguments from Keras configs of any version (ints or tuples, null
// meaning default, Keras 1/2 argument spellings).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "keras/initializers.h"
#include "keras/saving.h"
#include "keras/shape.h"

namespace keras::saving {

using nlohmann::json;

std::string get_string(const json& c, const std::string& key, const std::string& fallback = "");
int64_t get_int(const json& c, const std::string& key, int64_t fallback);
double get_double(const json& c, const std::string& key, double fallback);
bool get_bool(const json& c, const std::string& key, bool fallback);
// An int or a list of `n` ints ("kernel_size": 3 or [3, 3]); an int is repeated n times.
std::vector<int64_t> get_ints(const json& c, const std::string& key, size_t n, std::vector<int64_t> fallback);
// A possibly missing/null float ("max_value": null).
std::optional<double> get_optional_double(const json& c, const std::string& key);
// An activation given as a string, null, or a serialized function object.
std::string get_activation(const json& c, const std::string& key, const ConfigContext& ctx);
Initializer get_initializer(const json& c, const std::string& key, const Initializer& fallback);
// "channels_last" unless the config says "channels_first" (Keras 1: dim_ordering "th").
std::string get_data_format(const json& c);
// The shape an input-capable layer declares: batch_shape, batch_input_shape or input_shape.
std::optional<Shape> get_batch_shape(const json& c);

json shape_to_json(const Shape& s);
Shape shape_from_json(const json& j);
json tuple_to_json(const std::vector<int64_t>& v);

}  // namespace keras::saving
