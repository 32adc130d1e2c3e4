#include "ops/layer_norm.h"

#include <algorithm>
#include <cmath>

namespace keras::ops {

namespace {

struct RowStats {
  double mean, r;  // r = 1 / sqrt(var + eps)
};

RowStats stats(const LayerNormOp& a, const float* x) {
  double sum = 0;
  for (Dim i = 0; i < a.n; ++i) sum += x[i];
  double mean = sum / double(a.n), var = 0;
  for (Dim i = 0; i < a.n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= double(a.n);
  return {mean, 1.0 / std::sqrt(var + a.epsilon)};
}

// The parameter of value i in row `row`.
Dim param(const LayerNormOp& a, Dim row, Dim i) {
  return a.param_width ? (row % a.param_groups) * a.param_width + i % a.param_width : i;
}

}  // namespace

void layer_norm(const LayerNormOp& a, const float* x, const float* gamma, const float* beta, float* y) {
  for (Dim row = 0; row < a.rows; ++row) {
    const float* xr = x + row * a.n;
    float* yr = y + row * a.n;
    RowStats s = stats(a, xr);
    auto r = static_cast<float>(s.r), mean = static_cast<float>(s.mean);
    for (Dim i = 0; i < a.n; ++i) {
      Dim p = param(a, row, i);
      float inv = gamma ? r * gamma[p] : r;
      yr[i] = a.rms ? xr[i] * inv : xr[i] * inv + ((beta ? beta[p] : 0.0f) - mean * inv);
    }
  }
}

// Standard: xh = (x - mean) r, y = xh g + b: dx = r (dxh - mean(dxh) - xh mean(dxh xh)), dxh = dy g.
// rms (y = x r g, r of the centred variance): dx = r g dy - r^3 (x - mean) / n * sum(dy g x).
void layer_norm_grad(const LayerNormOp& a, const float* x, const float* gamma, const float* dy, float* dx,
                     float* dgamma, float* dbeta) {
  Dim params = a.param_width ? a.param_groups * a.param_width : a.n;
  if (dgamma) std::fill(dgamma, dgamma + params, 0.0f);
  if (dbeta) std::fill(dbeta, dbeta + params, 0.0f);
  for (Dim row = 0; row < a.rows; ++row) {
    const float *xr = x + row * a.n, *dyr = dy + row * a.n;
    float* dxr = dx + row * a.n;
    RowStats s = stats(a, xr);
    double sum_d = 0, sum_dxh = 0;
    for (Dim i = 0; i < a.n; ++i) {
      Dim p = param(a, row, i);
      double g = gamma ? gamma[p] : 1.0, d = dyr[i] * g;
      double xh = a.rms ? xr[i] * s.r : (xr[i] - s.mean) * s.r;
      sum_d += d;
      sum_dxh += a.rms ? d * xr[i] : d * xh;
      if (dgamma) dgamma[p] += static_cast<float>(dyr[i] * xh);
      if (dbeta) dbeta[p] += dyr[i];
    }
    double n = double(a.n);
    for (Dim i = 0; i < a.n; ++i) {
      double g = gamma ? gamma[param(a, row, i)] : 1.0, d = dyr[i] * g, c = xr[i] - s.mean;
      dxr[i] = static_cast<float>(a.rms ? s.r * d - s.r * s.r * s.r * c / n * sum_dxh
                                        : s.r * (d - sum_d / n - c * s.r * sum_dxh / n));
    }
  }
}

}  // namespace keras::ops
