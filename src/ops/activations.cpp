#include "ops/activations.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "keras/errors.h"

namespace keras::ops {

namespace {

template <class F>
void each(float* x, Dim n, F f) {
  for (Dim i = 0; i < n; ++i) x[i] = f(x[i]);
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float softplus(float x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
float hard_sigmoid3(float x) { return std::clamp(x / 6.0f + 0.5f, 0.0f, 1.0f); }
constexpr float kSqrt2OverPi = 0.79788456080286536f;
float gelu_tanh(float x) { return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x))); }

constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;

void log_softmax_last(float* x, Dim size, Dim n) {
  Dim rows = size / std::max<Dim>(n, 1);
  for (Dim r = 0; r < rows; ++r) {
    float* v = x + r * n;
    float m = *std::max_element(v, v + n);
    double s = 0;
    for (Dim i = 0; i < n; ++i) s += std::exp(double(v[i]) - m);
    float ls = static_cast<float>(std::log(s));
    for (Dim i = 0; i < n; ++i) v[i] = v[i] - m - ls;
  }
}

const std::map<std::string, RawActivationFn>& table() {
  static const std::map<std::string, RawActivationFn> t = {
      {"linear", [](float*, Dim, Dim) {}},
      {"relu", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return v > 0 ? v : 0.0f; }); }},
      {"relu6", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return std::clamp(v, 0.0f, 6.0f); }); }},
      {"sigmoid", [](float* x, Dim n, Dim) { each(x, n, sigmoid); }},
      {"tanh", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return std::tanh(v); }); }},
      {"softmax", softmax_last},
      {"log_softmax", log_softmax_last},
      {"elu", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return v > 0 ? v : std::expm1(v); }); }},
      {"selu", [](float* x, Dim n,
                  Dim) { each(x, n, [](float v) { return kSeluScale * (v > 0 ? v : kSeluAlpha * std::expm1(v)); }); }},
      {"softplus", [](float* x, Dim n, Dim) { each(x, n, softplus); }},
      {"softsign", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return v / (1.0f + std::abs(v)); }); }},
      {"gelu", [](float* x, Dim n,
                  Dim) { each(x, n, [](float v) { return 0.5f * v * (1.0f + std::erf(v / std::sqrt(2.0f))); }); }},
      // keras.ops.gelu's default (approximate=True), TensorFlow's tanh form; no Keras
      // activation has this name (activations.gelu defaults to the exact form, "gelu").
      {"gelu_approximate", [](float* x, Dim n, Dim) { each(x, n, gelu_tanh); }},
      {"swish", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return v * sigmoid(v); }); }},
      {"silu", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return v * sigmoid(v); }); }},
      {"hard_sigmoid", [](float* x, Dim n, Dim) { each(x, n, hard_sigmoid3); }},
      {"hard_sigmoid_keras2",
       [](float* x, Dim n, Dim) { each(x, n, [](float v) { return std::clamp(0.2f * v + 0.5f, 0.0f, 1.0f); }); }},
      {"hard_silu", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return v * hard_sigmoid3(v); }); }},
      {"hard_swish", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return v * hard_sigmoid3(v); }); }},
      {"leaky_relu", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return v > 0 ? v : 0.2f * v; }); }},
      {"exponential", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return std::exp(v); }); }},
      {"mish", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return v * std::tanh(softplus(v)); }); }},
      {"log_sigmoid", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return -softplus(-v); }); }},
      {"celu", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return v > 0 ? v : std::expm1(v); }); }},
      {"hard_tanh", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return std::clamp(v, -1.0f, 1.0f); }); }},
      {"tanh_shrink", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return v - std::tanh(v); }); }},
      {"soft_shrink",
       [](float* x, Dim n, Dim) {
         each(x, n, [](float v) { return v > 0.5f ? v - 0.5f : v < -0.5f ? v + 0.5f : 0.0f; });
       }},
      {"hard_shrink", [](float* x, Dim n, Dim) { each(x, n, [](float v) { return std::abs(v) > 0.5f ? v : 0.0f; }); }},
      {"squareplus",
       [](float* x, Dim n, Dim) { each(x, n, [](float v) { return (v + std::sqrt(v * v + 4.0f)) / 2.0f; }); }},
      {"sparse_plus",
       [](float* x, Dim n, Dim) {
         each(x, n, [](float v) { return v <= -1 ? 0.0f : v >= 1 ? v : 0.25f * (v + 1) * (v + 1); });
       }},
      {"sparse_sigmoid",
       [](float* x, Dim n, Dim) {
         each(x, n, [](float v) { return v <= -1 ? 0.0f : v >= 1 ? 1.0f : 0.5f * (v + 1); });
       }},
  };
  return t;
}

// d f / d z for elementwise activations, from z and y = f(z).
template <class D>
void elementwise_grad(const float* z, const float* y, float* g, Dim n, D d) {
  for (Dim i = 0; i < n; ++i) g[i] *= d(z[i], y[i]);
}

#define KERAS_GRAD(expr)                                     \
  [](const float* z, const float* y, float* g, Dim n, Dim) { \
    elementwise_grad(z, y, g, n, [](float x, float f) {      \
      (void)x;                                               \
      (void)f;                                               \
      return (expr);                                         \
    });                                                      \
  }

float dsigmoid(float x) {
  float s = sigmoid(x);
  return s * (1 - s);
}
float dsoftplus(float x) { return sigmoid(x); }
float dgelu_tanh(float x) {
  float inner = kSqrt2OverPi * (x + 0.044715f * x * x * x), t = std::tanh(inner);
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * x * x);
}
float dgelu(float x) {
  constexpr float kInvSqrt2 = 0.70710678118654752f, kInvSqrt2Pi = 0.39894228040143268f;
  return 0.5f * (1.0f + std::erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * std::exp(-0.5f * x * x);
}
float dmish(float x) {
  float sp = softplus(x), t = std::tanh(sp);
  return t + x * (1 - t * t) * sigmoid(x);
}

void log_softmax_grad(const float*, const float* y, float* g, Dim size, Dim n) {
  // dz = g - softmax(z) * sum(g), softmax(z) = exp(y).
  Dim rows = size / std::max<Dim>(n, 1);
  for (Dim r = 0; r < rows; ++r) {
    float s = 0;
    for (Dim i = 0; i < n; ++i) s += g[r * n + i];
    for (Dim i = 0; i < n; ++i) g[r * n + i] -= std::exp(y[r * n + i]) * s;
  }
}

void softmax_grad_last(const float*, const float* y, float* g, Dim size, Dim n) {
  for (Dim r = 0, rows = size / std::max<Dim>(n, 1); r < rows; ++r) {
    const float* yb = y + r * n;
    float* gb = g + r * n;
    float dot = 0;
    for (Dim i = 0; i < n; ++i) dot += yb[i] * gb[i];
    for (Dim i = 0; i < n; ++i) gb[i] = yb[i] * (gb[i] - dot);
  }
}

const std::map<std::string, RawActivationGradFn>& grad_table() {
  static const std::map<std::string, RawActivationGradFn> t = {
      {"linear", [](const float*, const float*, float*, Dim, Dim) {}},
      {"relu", KERAS_GRAD(x > 0 ? 1.0f : 0.0f)},
      {"relu6", KERAS_GRAD(x > 0 && x < 6 ? 1.0f : 0.0f)},
      {"sigmoid", KERAS_GRAD(f * (1 - f))},
      {"tanh", KERAS_GRAD(1 - f * f)},
      {"softmax", softmax_grad_last},
      {"log_softmax", log_softmax_grad},
      {"elu", KERAS_GRAD(x > 0 ? 1.0f : f + 1)},
      {"selu", KERAS_GRAD(x > 0 ? kSeluScale : f + kSeluScale * kSeluAlpha)},
      {"softplus", KERAS_GRAD(dsoftplus(x))},
      {"softsign", KERAS_GRAD(1 / ((1 + std::abs(x)) * (1 + std::abs(x))))},
      {"gelu", KERAS_GRAD(dgelu(x))},
      {"gelu_approximate", KERAS_GRAD(dgelu_tanh(x))},
      {"swish", KERAS_GRAD(sigmoid(x) + x * dsigmoid(x))},
      {"silu", KERAS_GRAD(sigmoid(x) + x * dsigmoid(x))},
      {"hard_sigmoid", KERAS_GRAD(x > -3 && x < 3 ? 1.0f / 6 : 0.0f)},
      // Keras 2's clip_by_value(0.2 x + 0.5, 0, 1): TensorFlow's clip gradient passes at the
      // bounds too (x = +-2.5), unlike Keras 3's relu6(x + 3) / 6 (open at +-3).
      {"hard_sigmoid_keras2", KERAS_GRAD(0.2f * x + 0.5f >= 0.0f && 0.2f * x + 0.5f <= 1.0f ? 0.2f : 0.0f)},
      {"hard_silu", KERAS_GRAD(x < -3  ? 0.0f
                               : x > 3 ? 1.0f
                                       : x / 3 + 0.5f)},
      {"hard_swish", KERAS_GRAD(x < -3  ? 0.0f
                                : x > 3 ? 1.0f
                                        : x / 3 + 0.5f)},
      {"leaky_relu", KERAS_GRAD(x > 0 ? 1.0f : 0.2f)},
      {"exponential", KERAS_GRAD(f)},
      {"mish", KERAS_GRAD(dmish(x))},
      {"log_sigmoid", KERAS_GRAD(sigmoid(-x))},
      {"celu", KERAS_GRAD(x > 0 ? 1.0f : f + 1)},
      {"hard_tanh", KERAS_GRAD(x > -1 && x < 1 ? 1.0f : 0.0f)},
      {"tanh_shrink", KERAS_GRAD(std::tanh(x) * std::tanh(x))},
      {"soft_shrink", KERAS_GRAD(std::abs(x) > 0.5f ? 1.0f : 0.0f)},
      {"hard_shrink", KERAS_GRAD(std::abs(x) > 0.5f ? 1.0f : 0.0f)},
      {"squareplus", KERAS_GRAD(0.5f * (1 + x / std::sqrt(x * x + 4)))},
      {"sparse_plus", KERAS_GRAD(x <= -1  ? 0.0f
                                 : x >= 1 ? 1.0f
                                          : 0.5f * (x + 1))},
      {"sparse_sigmoid", KERAS_GRAD(x > -1 && x < 1 ? 0.5f : 0.0f)},
  };
  return t;
}

#undef KERAS_GRAD

}  // namespace

bool is_linear(const std::string& name) { return name.empty() || name == "linear" || name == "None"; }

bool acts_per_row(const std::string& name) { return name == "softmax" || name == "log_softmax"; }

bool activation_grad_from_output(const std::string& name) {
  return name == "relu" || name == "sigmoid" || name == "tanh" || name == "softmax" || name == "log_softmax";
}

RawActivationGradFn raw_activation_grad(const std::string& name) {
  auto it = grad_table().find(is_linear(name) ? "linear" : name);
  if (it == grad_table().end()) throw ValueError("Could not interpret activation function identifier: " + name);
  return it->second;
}

ActivationGradFn activation_grad(const std::string& name) { return ActivationGradFn{raw_activation_grad(name)}; }

void ActivationGradFn::operator()(const Tensor& z, const Tensor& y, Tensor& grad) const {
  fn(z.data(), y.data(), grad.data(), grad.size(), grad.rank() ? grad.dim(-1) : 1);
}

ActivationFn activation(const std::string& name) { return ActivationFn{raw_activation(name)}; }

RawActivationFn raw_activation(const std::string& name) {
  std::string key = name.empty() || name == "None" ? "linear" : name;
  auto it = table().find(key);
  if (it == table().end()) throw ValueError("Could not interpret activation function identifier: " + name);
  return it->second;
}

void ActivationFn::operator()(Tensor& t) const { fn(t.data(), t.size(), t.rank() ? t.dim(-1) : 1); }

void softmax_last(float* x, Dim size, Dim n) {
  Dim rows = size / std::max<Dim>(n, 1);
  for (Dim r = 0; r < rows; ++r) {
    float* v = x + r * n;
    float m = v[0];
    for (Dim i = 1; i < n; ++i) m = std::max(m, v[i]);
    float s = 0;
    for (Dim i = 0; i < n; ++i) s += (v[i] = std::exp(v[i] - m));
    for (Dim i = 0; i < n; ++i) v[i] /= s;
  }
}

}  // namespace keras::ops
