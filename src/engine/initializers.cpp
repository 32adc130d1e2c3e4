#include "keras/initializers.h"

#include <cmath>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "engine/random.h"
#include "keras/errors.h"

namespace keras {

namespace {

std::mutex rng_mutex;
std::mt19937_64& global_rng() {
  static std::mt19937_64 rng(std::random_device{}());
  return rng;
}

// keras/src/initializers/random_initializers.py::compute_fans
std::pair<double, double> compute_fans(const Shape& s) {
  if (s.rank() == 0) return {1, 1};
  if (s.rank() == 1) return {double(s[0]), double(s[0])};
  if (s.rank() == 2) return {double(s[0]), double(s[1])};
  double receptive = 1;
  for (int i = 0; i < s.rank() - 2; ++i) receptive *= double(s[i]);
  return {double(s[-2]) * receptive, double(s[-1]) * receptive};
}

std::string canonical(std::string n) {
  // Keras accepts class names too: "GlorotUniform" -> "glorot_uniform".
  static const std::pair<const char*, const char*> aliases[] = {{"GlorotUniform", "glorot_uniform"},
                                                                {"GlorotNormal", "glorot_normal"},
                                                                {"HeUniform", "he_uniform"},
                                                                {"HeNormal", "he_normal"},
                                                                {"LecunUniform", "lecun_uniform"},
                                                                {"LecunNormal", "lecun_normal"},
                                                                {"Zeros", "zeros"},
                                                                {"Ones", "ones"},
                                                                {"Constant", "constant"},
                                                                {"RandomUniform", "random_uniform"},
                                                                {"RandomNormal", "random_normal"},
                                                                {"TruncatedNormal", "truncated_normal"},
                                                                {"Orthogonal", "orthogonal"},
                                                                {"VarianceScaling", "variance_scaling"},
                                                                {"Identity", "identity"},
                                                                {"uniform", "random_uniform"},
                                                                {"normal", "random_normal"},
                                                                {"zero", "zeros"},
                                                                {"one", "ones"}};
  for (auto [a, b] : aliases)
    if (n == a) return b;
  return n;
}

}  // namespace

std::optional<uint64_t>& seed_given() {
  static std::optional<uint64_t> seed;
  return seed;
}

void set_random_seed(uint64_t seed) {
  std::lock_guard lock(rng_mutex);
  global_rng().seed(seed);
  seed_given() = seed;
}

namespace engine {

uint64_t next_random_seed() {
  std::lock_guard lock(rng_mutex);
  return global_rng()();
}

uint64_t training_seed() {
  std::lock_guard lock(rng_mutex);
  if (!seed_given()) seed_given() = std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
  return *seed_given();
}

uint64_t hash_name(const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

uint64_t layer_seed(uint64_t step_seed, const std::string& layer_name) {
  return step_seed != 0 ? mix_seed(step_seed, hash_name(layer_name)) : next_random_seed();
}

}  // namespace engine

Initializer::Initializer(const char* n) : Initializer(std::string(n)) {}

Initializer::Initializer(const std::string& n) : name(canonical(n)) {
  // The named variance-scaling family (KERAS_SPEC §2.4).
  if (name == "glorot_uniform") {
    name = "variance_scaling";
    mode = "fan_avg";
    distribution = "uniform";
  } else if (name == "glorot_normal") {
    name = "variance_scaling";
    mode = "fan_avg";
    distribution = "truncated_normal";
  } else if (name == "he_uniform") {
    name = "variance_scaling";
    scale = 2;
    mode = "fan_in";
    distribution = "uniform";
  } else if (name == "he_normal") {
    name = "variance_scaling";
    scale = 2;
    mode = "fan_in";
    distribution = "truncated_normal";
  } else if (name == "lecun_uniform") {
    name = "variance_scaling";
    mode = "fan_in";
    distribution = "uniform";
  } else if (name == "lecun_normal") {
    name = "variance_scaling";
    mode = "fan_in";
    distribution = "truncated_normal";
  } else if (name != "zeros" && name != "ones" && name != "constant" && name != "random_uniform" &&
             name != "random_normal" && name != "truncated_normal" && name != "orthogonal" &&
             name != "variance_scaling" && name != "identity")
    throw ValueError("Unknown initializer: " + n);
}

Tensor Initializer::operator()(const Shape& shape) const {
  if (name == "custom")
    throw ValueError("The initializer " + nlohmann::json::parse(custom_config).value("class_name", std::string("?")) +
                     " is not one keras.cpp can run (a Python class or function): give the layer weights " +
                     shape.str() + " from a model file or set_weights()");
  Tensor t(shape);
  if (name == "zeros") return t;
  if (name == "ones" || name == "constant") {
    for (float& v : t.values()) v = name == "ones" ? 1.0f : static_cast<float>(value);
    return t;
  }
  std::lock_guard lock(rng_mutex);
  std::mt19937_64 seeded(static_cast<uint64_t>(seed));
  std::mt19937_64& rng = seed >= 0 ? seeded : global_rng();
  auto truncated = [&](double m, double sd) {
    std::normal_distribution<double> d(m, sd);
    for (;;) {
      double x = d(rng);
      if (std::abs(x - m) <= 2 * sd) return x;
    }
  };
  if (name == "random_uniform") {
    std::uniform_real_distribution<double> d(minval, maxval);
    for (float& v : t.values()) v = static_cast<float>(d(rng));
  } else if (name == "random_normal") {
    std::normal_distribution<double> d(mean, stddev);
    for (float& v : t.values()) v = static_cast<float>(d(rng));
  } else if (name == "truncated_normal") {
    for (float& v : t.values()) v = static_cast<float>(truncated(mean, stddev));
  } else if (name == "variance_scaling") {
    auto [fan_in, fan_out] = compute_fans(shape);
    double n = mode == "fan_in" ? fan_in : mode == "fan_out" ? fan_out : (fan_in + fan_out) / 2;
    double s = scale / std::max(1.0, n);
    if (distribution == "uniform") {
      double limit = std::sqrt(3 * s);
      std::uniform_real_distribution<double> d(-limit, limit);
      for (float& v : t.values()) v = static_cast<float>(d(rng));
    } else if (distribution == "untruncated_normal") {
      std::normal_distribution<double> d(0, std::sqrt(s));
      for (float& v : t.values()) v = static_cast<float>(d(rng));
    } else {
      double sd = std::sqrt(s) / 0.87962566103423978;
      for (float& v : t.values()) v = static_cast<float>(truncated(0, sd));
    }
  } else if (name == "orthogonal" || name == "identity") {
    // Rows x cols view; QR of a Gaussian matrix by Gram-Schmidt (orthogonal), or the identity.
    if (shape.rank() < 2)
      throw ValueError("The " + name + " initializer needs a shape of rank >= 2, got " + shape.str());
    Dim cols = shape[-1], rows = shape.num_elements() / cols;
    if (name == "identity") {
      for (Dim i = 0; i < std::min(rows, cols); ++i) t[i * cols + i] = static_cast<float>(scale);
      return t;
    }
    bool transposed = rows < cols;
    Dim r = transposed ? cols : rows, c = transposed ? rows : cols;
    std::normal_distribution<double> d(0, 1);
    std::vector<double> q(static_cast<size_t>(r * c));
    for (double& v : q) v = d(rng);
    for (Dim j = 0; j < c; ++j) {  // columns of q become orthonormal
      for (Dim k = 0; k < j; ++k) {
        double dot = 0;
        for (Dim i = 0; i < r; ++i) dot += q[i * c + j] * q[i * c + k];
        for (Dim i = 0; i < r; ++i) q[i * c + j] -= dot * q[i * c + k];
      }
      double norm = 0;
      for (Dim i = 0; i < r; ++i) norm += q[i * c + j] * q[i * c + j];
      norm = std::sqrt(norm);
      for (Dim i = 0; i < r; ++i) q[i * c + j] /= norm;
    }
    for (Dim i = 0; i < rows; ++i)
      for (Dim j = 0; j < cols; ++j)
        t[i * cols + j] = static_cast<float>(scale * (transposed ? q[j * c + i] : q[i * c + j]));
  }
  return t;
}

Initializer initializer_from_config(const nlohmann::json& j) {
  if (j.is_string()) return Initializer(j.get<std::string>());
  if (!j.is_object() || !j.contains("class_name") || !j["class_name"].is_string())
    throw ValueError("Malformed initializer config: " + j.dump());
  std::string cls = j["class_name"].get<std::string>();
  Initializer init;
  try {
    init = Initializer(cls);
  } catch (const ValueError&) {
    init.name = "custom";
    init.custom_config = j.dump();
    std::cerr << "WARNING: the initializer " << cls
              << " is not one keras.cpp can run (a Python class or function); layers using it need their weights "
                 "from the model file\n";
    return init;
  }
  const nlohmann::json c = j.value("config", nlohmann::json::object());
  auto num = [&](const char* k, double d) { return c.contains(k) && c[k].is_number() ? c[k].get<double>() : d; };
  init.scale = num("scale", num("gain", init.scale));
  if (c.contains("mode") && c["mode"].is_string()) init.mode = c["mode"];
  if (c.contains("distribution") && c["distribution"].is_string()) {
    init.distribution = c["distribution"];
    if (init.distribution == "normal") init.distribution = "truncated_normal";  // Keras 2.x alias
  }
  init.minval = num("minval", init.minval);
  init.maxval = num("maxval", init.maxval);
  init.mean = num("mean", init.mean);
  init.stddev = num("stddev", init.stddev);
  init.value = num("value", init.value);
  if (c.contains("seed") && c["seed"].is_number_integer()) init.seed = c["seed"];
  return init;
}

nlohmann::json initializer_to_config(const Initializer& init) {
  if (!init.custom_config.empty()) return nlohmann::json::parse(init.custom_config);
  nlohmann::json c = nlohmann::json::object();
  std::string cls;
  if (init.name == "zeros")
    cls = "Zeros";
  else if (init.name == "ones")
    cls = "Ones";
  else if (init.name == "constant") {
    cls = "Constant";
    c["value"] = init.value;
  } else if (init.name == "random_uniform") {
    cls = "RandomUniform";
    c = {{"minval", init.minval}, {"maxval", init.maxval}};
  } else if (init.name == "random_normal") {
    cls = "RandomNormal";
    c = {{"mean", init.mean}, {"stddev", init.stddev}};
  } else if (init.name == "truncated_normal") {
    cls = "TruncatedNormal";
    c = {{"mean", init.mean}, {"stddev", init.stddev}};
  } else if (init.name == "orthogonal") {
    cls = "Orthogonal";
    c["gain"] = init.scale;
  } else if (init.name == "identity") {
    cls = "Identity";
    c["gain"] = init.scale;
  } else if (init.scale == 1 && init.mode == "fan_avg" && init.distribution == "uniform")
    cls = "GlorotUniform";
  else if (init.scale == 1 && init.mode == "fan_avg" && init.distribution == "truncated_normal")
    cls = "GlorotNormal";
  else if (init.scale == 2 && init.mode == "fan_in" && init.distribution == "uniform")
    cls = "HeUniform";
  else if (init.scale == 2 && init.mode == "fan_in" && init.distribution == "truncated_normal")
    cls = "HeNormal";
  else {
    cls = "VarianceScaling";
    c = {{"scale", init.scale}, {"mode", init.mode}, {"distribution", init.distribution}};
  }
  if (init.name != "zeros" && init.name != "ones" && init.name != "constant")
    c["seed"] = init.seed >= 0 ? nlohmann::json(init.seed) : nlohmann::json(nullptr);
  return {{"module", "keras.initializers"}, {"class_name", cls}, {"config", c}, {"registered_name", nullptr}};
}

}  // namespace keras
