#include "saving/config_utils.h"

#include "keras/errors.h"

namespace keras::saving {

static bool present(const json& c, const std::string& key) { return c.is_object() && c.contains(key) && !c.at(key).is_null(); }

static ValueError bad(const std::string& key, const json& v, const std::string& want) {
  return ValueError("Config argument `" + key + "` should be " + want + ", received: " + v.dump());
}

std::string get_string(const json& c, const std::string& key, const std::string& fallback) {
  if (!present(c, key)) return fallback;
  if (!c.at(key).is_string()) throw bad(key, c.at(key), "a string");
  return c.at(key).get<std::string>();
}

int64_t get_int(const json& c, const std::string& key, int64_t fallback) {
  if (!present(c, key)) return fallback;
  const json& v = c.at(key);
  if (v.is_array() && v.size() == 1) return get_int(json{{key, v[0]}}, key, fallback);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>())))
    return static_cast<int64_t>(v.get<double>());
  throw bad(key, v, "an integer");
}

double get_double(const json& c, const std::string& key, double fallback) {
  if (!present(c, key)) return fallback;
  if (!c.at(key).is_number()) throw bad(key, c.at(key), "a number");
  return c.at(key).get<double>();
}

std::optional<double> get_optional_double(const json& c, const std::string& key) {
  if (!present(c, key)) return std::nullopt;
  return get_double(c, key, 0.0);
}

bool get_bool(const json& c, const std::string& key, bool fallback) {
  if (!present(c, key)) return fallback;
  if (!c.at(key).is_boolean()) throw bad(key, c.at(key), "a boolean");
  return c.at(key).get<bool>();
}

std::vector<int64_t> get_ints(const json& c, const std::string& key, size_t n, std::vector<int64_t> fallback) {
  if (!present(c, key)) return fallback;
  const json& v = c.at(key);
  if (v.is_number()) return std::vector<int64_t>(n, get_int(c, key, 0));
  if (!v.is_array() || (v.size() != n && v.size() != 1)) throw bad(key, v, std::to_string(n) + " integers");
  std::vector<int64_t> out;
  for (const json& e : v) {
    if (!e.is_number_integer()) throw bad(key, v, std::to_string(n) + " integers");
    out.push_back(e.get<int64_t>());
  }
  if (out.size() == 1) out.assign(n, out[0]);
  return out;
}

std::string get_activation(const json& c, const std::string& key, const ConfigContext& ctx) {
  if (!present(c, key)) return "linear";
  const json& v = c.at(key);
  std::string name;
  if (v.is_string()) {
    name = v.get<std::string>();
  } else if (v.is_object()) {
    // Keras 3 may serialize a function as {"class_name": "function", "config": "relu", ...}
    // or an activation object {"class_name": "ReLU", ...}.
    if (v.contains("config") && v.at("config").is_string())
      name = v.at("config").get<std::string>();
    else if (v.contains("class_name") && v.at("class_name").is_string())
      name = v.at("class_name").get<std::string>();
    else
      throw bad(key, v, "an activation name");
  } else {
    throw bad(key, v, "an activation name");
  }
  // hard_sigmoid changed meaning in Keras 3 (KERAS_SPEC §5.3); keep the file's semantics.
  if (name == "hard_sigmoid" && ctx.keras_major < 3) return "hard_sigmoid_keras2";
  return name;
}

Initializer get_initializer(const json& c, const std::string& key, const Initializer& fallback) {
  if (!present(c, key)) return fallback;
  return initializer_from_config(c.at(key));
}

std::string get_data_format(const json& c) {
  // Keras 1 spelled it dim_ordering: "th" (Theano, channels first) or "tf"; "default" meant
  // the keras.json setting, which we take to be TensorFlow's.
  if (!present(c, "data_format") && present(c, "dim_ordering"))
    return get_string(c, "dim_ordering") == "th" ? "channels_first" : "channels_last";
  std::string f = get_string(c, "data_format", "channels_last");
  if (f != "channels_last" && f != "channels_first")
    throw ValueError("The `data_format` argument must be one of \"channels_first\", \"channels_last\". Received: " + f);
  return f;
}

json shape_to_json(const Shape& s) {
  json a = json::array();
  for (Dim d : s) a.push_back(d < 0 ? json(nullptr) : json(d));
  return a;
}

Shape shape_from_json(const json& j) {
  if (!j.is_array()) throw ValueError("Expected a shape list, received: " + j.dump());
  std::vector<Dim> d;
  for (const json& e : j) {
    if (e.is_null())
      d.push_back(None);
    else if (e.is_number_integer() && e.get<int64_t>() >= 0)
      d.push_back(e.get<int64_t>());
    else
      throw ValueError("Expected a shape list, received: " + j.dump());
  }
  return Shape(std::move(d));
}

json tuple_to_json(const std::vector<int64_t>& v) { return json(v); }

std::optional<Shape> get_batch_shape(const json& c) {
  if (present(c, "batch_shape")) return shape_from_json(c.at("batch_shape"));
  if (present(c, "batch_input_shape")) return shape_from_json(c.at("batch_input_shape"));
  if (present(c, "input_shape")) return shape_from_json(c.at("input_shape")).with_batch(None);
  if (present(c, "input_dim")) return Shape{None, get_int(c, "input_dim", 0)};  // Keras 1 Dense
  return std::nullopt;
}

}  // namespace keras::saving
