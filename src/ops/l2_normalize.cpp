#include "ops/l2_normalize.h"

#include <algorithm>
#include <cmath>

namespace keras::ops {

namespace {

double sum_of_squares(const float* base, Dim n, Dim inner) {
  double sq = 0;
  for (Dim k = 0; k < n; ++k) sq += double(base[k * inner]) * base[k * inner];
  return sq;
}

}  // namespace

void l2_normalize(const float* x, float* y, Dim outer, Dim n, Dim inner, double max_scale) {
  for (Dim o = 0; o < outer; ++o)
    for (Dim i = 0; i < inner; ++i) {
      Dim base = o * n * inner + i;
      auto inv = static_cast<float>(std::min(1.0 / std::sqrt(sum_of_squares(x + base, n, inner)), max_scale));
      for (Dim k = 0; k < n; ++k) y[base + k * inner] = x[base + k * inner] * inv;
    }
}

void l2_normalize_grad(const float* x, const float* dy, float* dx, Dim outer, Dim n, Dim inner, double max_scale) {
  for (Dim o = 0; o < outer; ++o)
    for (Dim i = 0; i < inner; ++i) {
      Dim base = o * n * inner + i;
      double inv = 1.0 / std::sqrt(sum_of_squares(x + base, n, inner)), dot = 0;
      if (!(inv < max_scale)) {
        for (Dim k = 0; k < n; ++k) dx[base + k * inner] = static_cast<float>(dy[base + k * inner] * max_scale);
        continue;
      }
      for (Dim k = 0; k < n; ++k) dot += double(dy[base + k * inner]) * x[base + k * inner] * inv;
      for (Dim k = 0; k < n; ++k)
        dx[base + k * inner] = static_cast<float>(inv * (dy[base + k * inner] - x[base + k * inner] * inv * dot));
    }
}

}  // namespace keras::ops
