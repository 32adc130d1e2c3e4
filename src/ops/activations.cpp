#include "ops/activations.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "keras/errors.h"

namespace keras::ops {

namespace {

template <class F>
void each(Tensor& t, F f) {
  for (float& v : t.values()) v = f(v);
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float softplus(float x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
float hard_sigmoid3(float x) { return std::clamp(x / 6.0f + 0.5f, 0.0f, 1.0f); }

constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;

void log_softmax_last(Tensor& t) {
  Dim n = t.dim(-1), rows = t.size() / std::max<Dim>(n, 1);
  for (Dim r = 0; r < rows; ++r) {
    float* v = t.data() + r * n;
    float m = *std::max_element(v, v + n);
    double s = 0;
    for (Dim i = 0; i < n; ++i) s += std::exp(double(v[i]) - m);
    float ls = static_cast<float>(std::log(s));
    for (Dim i = 0; i < n; ++i) v[i] = v[i] - m - ls;
  }
}

const std::map<std::string, ActivationFn>& table() {
  static const std::map<std::string, ActivationFn> t = {
      {"linear", [](Tensor&) {}},
      {"relu", [](Tensor& x) { each(x, [](float v) { return v > 0 ? v : 0.0f; }); }},
      {"relu6", [](Tensor& x) { each(x, [](float v) { return std::clamp(v, 0.0f, 6.0f); }); }},
      {"sigmoid", [](Tensor& x) { each(x, sigmoid); }},
      {"tanh", [](Tensor& x) { each(x, [](float v) { return std::tanh(v); }); }},
      {"softmax", [](Tensor& x) { softmax(x, -1); }},
      {"log_softmax", log_softmax_last},
      {"elu", [](Tensor& x) { each(x, [](float v) { return v > 0 ? v : std::expm1(v); }); }},
      {"selu", [](Tensor& x) { each(x, [](float v) { return kSeluScale * (v > 0 ? v : kSeluAlpha * std::expm1(v)); }); }},
      {"softplus", [](Tensor& x) { each(x, softplus); }},
      {"softsign", [](Tensor& x) { each(x, [](float v) { return v / (1.0f + std::abs(v)); }); }},
      {"gelu", [](Tensor& x) { each(x, [](float v) { return 0.5f * v * (1.0f + std::erf(v / std::sqrt(2.0f))); }); }},
      {"swish", [](Tensor& x) { each(x, [](float v) { return v * sigmoid(v); }); }},
      {"silu", [](Tensor& x) { each(x, [](float v) { return v * sigmoid(v); }); }},
      {"hard_sigmoid", [](Tensor& x) { each(x, hard_sigmoid3); }},
      {"hard_sigmoid_keras2", [](Tensor& x) { each(x, [](float v) { return std::clamp(0.2f * v + 0.5f, 0.0f, 1.0f); }); }},
      {"hard_silu", [](Tensor& x) { each(x, [](float v) { return v * hard_sigmoid3(v); }); }},
      {"hard_swish", [](Tensor& x) { each(x, [](float v) { return v * hard_sigmoid3(v); }); }},
      {"leaky_relu", [](Tensor& x) { each(x, [](float v) { return v > 0 ? v : 0.2f * v; }); }},
      {"exponential", [](Tensor& x) { each(x, [](float v) { return std::exp(v); }); }},
      {"mish", [](Tensor& x) { each(x, [](float v) { return v * std::tanh(softplus(v)); }); }},
      {"log_sigmoid", [](Tensor& x) { each(x, [](float v) { return -softplus(-v); }); }},
      {"celu", [](Tensor& x) { each(x, [](float v) { return v > 0 ? v : std::expm1(v); }); }},
      {"hard_tanh", [](Tensor& x) { each(x, [](float v) { return std::clamp(v, -1.0f, 1.0f); }); }},
      {"tanh_shrink", [](Tensor& x) { each(x, [](float v) { return v - std::tanh(v); }); }},
      {"soft_shrink", [](Tensor& x) { each(x, [](float v) { return v > 0.5f ? v - 0.5f : v < -0.5f ? v + 0.5f : 0.0f; }); }},
      {"hard_shrink", [](Tensor& x) { each(x, [](float v) { return std::abs(v) > 0.5f ? v : 0.0f; }); }},
      {"squareplus", [](Tensor& x) { each(x, [](float v) { return (v + std::sqrt(v * v + 4.0f)) / 2.0f; }); }},
      {"sparse_plus", [](Tensor& x) { each(x, [](float v) { return v <= -1 ? 0.0f : v >= 1 ? v : 0.25f * (v + 1) * (v + 1); }); }},
      {"sparse_sigmoid", [](Tensor& x) { each(x, [](float v) { return v <= -1 ? 0.0f : v >= 1 ? 1.0f : 0.5f * (v + 1); }); }},
  };
  return t;
}

}  // namespace

ActivationFn activation(const std::string& name) {
  std::string key = name.empty() || name == "None" ? "linear" : name;
  auto it = table().find(key);
  if (it == table().end()) throw ValueError("Could not interpret activation function identifier: " + name);
  return it->second;
}

void softmax(Tensor& t, int axis) {
  int a = t.shape().normalize_axis(axis);
  Dim n = t.dim(a), inner = 1;
  for (int i = a + 1; i < t.rank(); ++i) inner *= t.dim(i);
  Dim outer = t.size() / std::max<Dim>(n * inner, 1);
  for (Dim o = 0; o < outer; ++o)
    for (Dim in = 0; in < inner; ++in) {
      float* base = t.data() + o * n * inner + in;
      float m = base[0];
      for (Dim i = 1; i < n; ++i) m = std::max(m, base[i * inner]);
      float s = 0;
      for (Dim i = 0; i < n; ++i) s += (base[i * inner] = std::exp(base[i * inner] - m));
      for (Dim i = 0; i < n; ++i) base[i * inner] /= s;
    }
}

}  // namespace keras::ops
