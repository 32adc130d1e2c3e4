#include "ops/dropout.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/random.h"

namespace keras::ops {

void draw_dropout_mask(double rate, uint64_t seed, float* m, Dim n) { draw_dropout_mask_range(rate, seed, m, 0, n); }

void draw_dropout_mask_range(double rate, uint64_t seed, float* m, Dim begin, Dim end) {
  if (rate >= 1) {
    for (Dim i = begin; i < end; ++i) m[i] = 0.0f;
    return;
  }
  auto threshold = static_cast<uint64_t>(std::ldexp(1.0 - rate, 32));
  float scale = static_cast<float>(1.0 / (1.0 - rate));
  for (Dim pair = begin / 2; 2 * pair < end; ++pair) {
    uint64_t bits = engine::mix_seed(seed, static_cast<uint64_t>(pair));
    m[2 * pair] = (bits & 0xffffffffu) < threshold ? scale : 0.0f;
    if (2 * pair + 1 < end) m[2 * pair + 1] = (bits >> 32) < threshold ? scale : 0.0f;
  }
}

void scale_by_mask(float* y, const Shape& shape, const float* k, const Shape& mask_shape) {
  Dim size = 1;
  for (int a = 0; a < shape.rank(); ++a) size *= shape[a];
  if (mask_shape == shape) {
    for (Dim i = 0; i < size; ++i) y[i] *= k[i];
    return;
  }
  int rank = shape.rank();
  std::vector<Dim> index(static_cast<size_t>(rank), 0), stride(static_cast<size_t>(rank), 0);
  for (Dim s = 1, a = rank - 1; a >= 0; --a) {
    stride[static_cast<size_t>(a)] = mask_shape[static_cast<int>(a)] == 1 ? 0 : s;
    s *= mask_shape[static_cast<int>(a)];
  }
  Dim m = 0;
  for (Dim i = 0; i < size; ++i) {
    y[i] *= k[m];
    for (int a = rank - 1; a >= 0; --a) {  // advance the multi-index, last axis fastest
      size_t u = static_cast<size_t>(a);
      m += stride[u];
      if (++index[u] < shape[a]) break;
      m -= stride[u] * index[u];
      index[u] = 0;
    }
  }
}

namespace {

// n draws of N(mean, stddev), two per hash: Box-Muller on the hash's 32-bit halves.
void draw_normal(uint64_t seed, double mean, double stddev, float* out, Dim n) {
  constexpr double kTwoPi = 6.283185307179586;
  for (Dim pair = 0; 2 * pair < n; ++pair) {
    uint64_t bits = engine::mix_seed(seed, static_cast<uint64_t>(pair));
    double u1 = (double(bits & 0xffffffffu) + 0.5) / 4294967296.0, u2 = (double(bits >> 32) + 0.5) / 4294967296.0;
    double r = std::sqrt(-2.0 * std::log(u1));
    out[2 * pair] = static_cast<float>(mean + stddev * r * std::cos(kTwoPi * u2));
    if (2 * pair + 1 < n) out[2 * pair + 1] = static_cast<float>(mean + stddev * r * std::sin(kTwoPi * u2));
  }
}

}  // namespace

void apply_noise(const DropoutOp& a, uint64_t seed, const float* x, const Shape& shape, float* y, float* slope,
                 float* noise) {
  Dim n = shape.num_elements();
  switch (a.kind) {
    case DropoutOp::Kind::kGaussianNoise:
      draw_normal(seed, 0.0, a.rate, y, n);
      for (Dim i = 0; i < n; ++i) y[i] += x[i];
      std::fill(slope, slope + n, 1.0f);
      return;
    case DropoutOp::Kind::kGaussianDropout:
      draw_normal(seed, 1.0, std::sqrt(a.rate / (1.0 - a.rate)), slope, n);
      for (Dim i = 0; i < n; ++i) y[i] = x[i] * slope[i];
      return;
    case DropoutOp::Kind::kAlphaDropout: {
      // keras/src/layers/regularization/alpha_dropout.py: kept where uniform >= rate.
      constexpr double kAlpha = 1.6732632423543772848170429916717, kScale = 1.0507009873554804934193349852946;
      const double alpha_p = -kAlpha * kScale;
      double a_ = std::pow((1 - a.rate) * (1 + a.rate * alpha_p * alpha_p), -0.5), b = -a_ * alpha_p * a.rate;
      draw_dropout_mask(a.rate, seed, noise, a.noise.num_elements());  // 0 or 1/(1-rate): kept where nonzero
      std::fill(slope, slope + n, 1.0f);
      scale_by_mask(slope, shape, noise, a.noise);
      for (Dim i = 0; i < n; ++i) {
        bool kept = slope[i] != 0.0f;
        y[i] = static_cast<float>(a_ * (kept ? x[i] : alpha_p) + b);
        slope[i] = kept ? static_cast<float>(a_) : 0.0f;
      }
      return;
    }
    case DropoutOp::Kind::kDropout:
      break;
  }
}

}  // namespace keras::ops
