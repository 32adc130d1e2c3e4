#include "ops/resize.h"

#include <algorithm>
#include <cmath>

namespace keras::ops {

namespace {

struct Taps {
  Dim lo, hi;
  float w_hi;
};

Taps linear_taps(Dim o, Dim factor, Dim in) {
  double src = std::max((static_cast<double>(o) + 0.5) / static_cast<double>(factor) - 0.5, 0.0);
  auto lo = std::min(static_cast<Dim>(std::floor(src)), in - 1);
  return {lo, std::min(lo + 1, in - 1), static_cast<float>(src - static_cast<double>(lo))};
}

}  // namespace

void resize(const ResizeArgs& a, const float* x, float* y) {
  Dim out_rows = a.rows * a.fy, out_cols = a.cols * a.fx, C = a.channels;
  for (Dim b = 0; b < a.batch; ++b) {
    const float* img = x + b * a.rows * a.cols * C;
    for (Dim i = 0; i < out_rows; ++i)
      for (Dim j = 0; j < out_cols; ++j) {
        float* out = y + ((b * out_rows + i) * out_cols + j) * C;
        if (!a.bilinear) {
          std::copy_n(img + ((i / a.fy) * a.cols + j / a.fx) * C, C, out);
          continue;
        }
        Taps r = linear_taps(i, a.fy, a.rows), c = linear_taps(j, a.fx, a.cols);
        for (Dim ch = 0; ch < C; ++ch) {
          auto at = [&](Dim ri, Dim ci) { return img[(ri * a.cols + ci) * C + ch]; };
          float top = at(r.lo, c.lo) + c.w_hi * (at(r.lo, c.hi) - at(r.lo, c.lo));
          float bottom = at(r.hi, c.lo) + c.w_hi * (at(r.hi, c.hi) - at(r.hi, c.lo));
          out[ch] = top + r.w_hi * (bottom - top);
        }
      }
  }
}

void resize_backward(const ResizeArgs& a, const float* dy, float* dx) {
  Dim out_rows = a.rows * a.fy, out_cols = a.cols * a.fx, C = a.channels;
  std::fill(dx, dx + a.batch * a.rows * a.cols * C, 0.0f);
  for (Dim b = 0; b < a.batch; ++b) {
    float* img = dx + b * a.rows * a.cols * C;
    for (Dim i = 0; i < out_rows; ++i)
      for (Dim j = 0; j < out_cols; ++j) {
        const float* grad = dy + ((b * out_rows + i) * out_cols + j) * C;
        auto add = [&](Dim ri, Dim ci, float w) {
          float* cell = img + (ri * a.cols + ci) * C;
          for (Dim ch = 0; ch < C; ++ch) cell[ch] += w * grad[ch];
        };
        if (!a.bilinear) {
          add(i / a.fy, j / a.fx, 1.0f);
          continue;
        }
        Taps r = linear_taps(i, a.fy, a.rows), c = linear_taps(j, a.fx, a.cols);
        add(r.lo, c.lo, (1 - r.w_hi) * (1 - c.w_hi));
        add(r.lo, c.hi, (1 - r.w_hi) * c.w_hi);
        add(r.hi, c.lo, r.w_hi * (1 - c.w_hi));
        add(r.hi, c.hi, r.w_hi * c.w_hi);
      }
  }
}

}  // namespace keras::ops
