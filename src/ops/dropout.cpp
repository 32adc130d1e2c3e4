#include "ops/dropout.h"

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

}  // namespace keras::ops
