#include "ops/rectifier.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace keras::ops {

namespace {

using Kind = RectifierOp::Kind;

// Keras's activations.relu, step by step in float32 as the backends do it.
float relu(const RectifierOp& a, float x) {
  const auto slope = static_cast<float>(a.negative_slope), thr = static_cast<float>(a.threshold);
  if (slope != 0 && !a.max_value && thr == 0) return x > 0 ? x : slope * x;
  float y = thr != 0 ? (x > thr ? x : 0.0f) : std::max(x, 0.0f);
  if (a.max_value) y = std::clamp(y, 0.0f, static_cast<float>(*a.max_value));
  if (slope != 0) y -= slope * std::max(thr - x, 0.0f);
  return y;
}

float relu_derivative(const RectifierOp& a, float x) {
  const auto slope = static_cast<float>(a.negative_slope), thr = static_cast<float>(a.threshold);
  if (slope != 0 && !a.max_value && thr == 0) return x > 0 ? 1.0f : slope;
  float d = (thr != 0 ? x > thr : x > 0) ? 1.0f : 0.0f;
  if (a.max_value && x >= static_cast<float>(*a.max_value)) d = 0;
  if (slope != 0 && x < thr) d += slope;
  return d;
}

}  // namespace

void rectifier(const RectifierOp& a, const float* x, float* y, Dim n) {
  const auto alpha = static_cast<float>(a.alpha);
  for (Dim i = 0; i < n; ++i)
    y[i] = a.kind == Kind::kElu ? (x[i] >= 0 ? x[i] : alpha * std::expm1(x[i])) : relu(a, x[i]);
}

void rectifier_grad(const RectifierOp& a, const float* x, const float* dy, float* dx, Dim n) {
  const auto alpha = static_cast<float>(a.alpha);
  for (Dim i = 0; i < n; ++i)
    dx[i] = dy[i] * (a.kind == Kind::kElu ? (x[i] >= 0 ? 1.0f : alpha * std::exp(x[i])) : relu_derivative(a, x[i]));
}

std::vector<Dim> prelu_alpha_index(const Shape& x_shape, const Shape& alpha_shape) {
  Shape sample = x_shape.without_batch();
  std::vector<Dim> index(static_cast<size_t>(sample.num_elements()));
  std::vector<Dim> at(static_cast<size_t>(sample.rank()), 0);
  for (auto& k : index) {
    Dim flat = 0;
    for (int d = 0; d < sample.rank(); ++d)
      flat = flat * alpha_shape[d] + (alpha_shape[d] == 1 ? 0 : at[static_cast<size_t>(d)]);
    k = flat;
    for (int d = sample.rank() - 1; d >= 0 && ++at[static_cast<size_t>(d)] == sample[d]; --d)
      at[static_cast<size_t>(d)] = 0;
  }
  return index;
}

void prelu(const std::vector<Dim>& index, const float* x, const float* alpha, float* y, Dim n) {
  auto per_sample = static_cast<Dim>(index.size());
  for (Dim i = 0; i < n; ++i)  // Keras: relu(x) - alpha * relu(-x)
    y[i] = x[i] > 0 ? x[i] : alpha[index[static_cast<size_t>(i % per_sample)]] * x[i];
}

void prelu_grad(const std::vector<Dim>& index, const float* x, const float* alpha, const float* dy, float* dx,
                float* dalpha, Dim n, Dim alpha_size) {
  auto per_sample = static_cast<Dim>(index.size());
  std::fill(dalpha, dalpha + alpha_size, 0.0f);
  for (Dim i = 0; i < n; ++i) {
    dx[i] = dy[i];
    if (x[i] > 0) continue;
    Dim k = index[static_cast<size_t>(i % per_sample)];
    dalpha[k] += dy[i] * x[i];
    dx[i] *= alpha[k];
  }
}

}  // namespace keras::ops
