#include "ops/batch_norm.h"

#include <algorithm>
#include <cmath>

namespace keras::ops {

namespace {

// Channels per pass: their sums stay in registers while the rows stream by.
constexpr Dim kBlock = 16;

// For channels [b0, b0 + n): r = 1 / sqrt(var + eps), and the sums over the rows of dy and of
// dy * xh, xh = (x - mean) * r.
void gradient_sums(const BatchNormArgs& a, const float* x, const float* dy, const float* mean, const float* var, Dim b0,
                   Dim n, double* rs, double* sum_g, double* sum_gx) {
  const Dim C = a.channels;
  for (Dim c = 0; c < n; ++c) {
    rs[c] = 1.0 / std::sqrt(double(var[b0 + c]) + a.epsilon);
    sum_g[c] = sum_gx[c] = 0;
  }
  for (Dim r = 0; r < a.rows; ++r)
    for (Dim c = 0; c < n; ++c) {
      Dim i = r * C + b0 + c;
      double xh = (double(x[i]) - mean[b0 + c]) * rs[c];
      sum_g[c] += dy[i];
      sum_gx[c] += dy[i] * xh;
    }
}

}  // namespace

ChannelAffine batch_norm_affine(const BatchNormArgs& a, double mean, double var, Dim c) {
  double g = a.gamma ? a.gamma[c] : 1.0, be = a.beta ? a.beta[c] : 0.0;
  double i = g / std::sqrt(var + a.epsilon);
  return {static_cast<float>(i), static_cast<float>(be - mean * i)};
}

void batch_norm_forward(const BatchNormArgs& a, const float* x, float* y, float* mean, float* var, Dim c0, Dim c1) {
  double count = std::max<double>(static_cast<double>(a.rows), 1.0);
  const Dim C = a.channels;
  for (Dim b0 = c0; b0 < c1; b0 += kBlock) {
    Dim n = std::min(kBlock, c1 - b0);
    double m[kBlock] = {}, v[kBlock] = {};
    for (Dim r = 0; r < a.rows; ++r)
      for (Dim c = 0; c < n; ++c) m[c] += x[r * C + b0 + c];
    for (Dim c = 0; c < n; ++c) m[c] /= count;
    for (Dim r = 0; r < a.rows; ++r)
      for (Dim c = 0; c < n; ++c) {
        double d = x[r * C + b0 + c] - m[c];
        v[c] += d * d;
      }
    float inv[kBlock], shift[kBlock];
    for (Dim c = 0; c < n; ++c) {
      v[c] /= count;
      ChannelAffine f = batch_norm_affine(a, m[c], v[c], b0 + c);
      inv[c] = f.scale;
      shift[c] = f.shift;
      mean[b0 + c] = static_cast<float>(m[c]);
      var[b0 + c] = static_cast<float>(v[c]);
    }
    for (Dim r = 0; r < a.rows; ++r)
      for (Dim c = 0; c < n; ++c) y[r * C + b0 + c] = x[r * C + b0 + c] * inv[c] + shift[c];
  }
}

void batch_norm_backward(const BatchNormArgs& a, const float* x, const float* dy, const float* mean, const float* var,
                         float* dx, float* dgamma, float* dbeta, Dim c0, Dim c1) {
  double count = std::max<double>(static_cast<double>(a.rows), 1.0);
  const Dim C = a.channels;
  for (Dim b0 = c0; b0 < c1; b0 += kBlock) {
    Dim n = std::min(kBlock, c1 - b0);
    double rs[kBlock], sum_g[kBlock], sum_gx[kBlock];
    gradient_sums(a, x, dy, mean, var, b0, n, rs, sum_g, sum_gx);
    for (Dim r = 0; r < a.rows; ++r)
      for (Dim c = 0; c < n; ++c) {
        Dim i = r * C + b0 + c;
        double xh = (double(x[i]) - mean[b0 + c]) * rs[c];
        double scale = (a.gamma ? a.gamma[b0 + c] : 1.0) * rs[c];
        dx[i] = static_cast<float>(scale * (dy[i] - (sum_g[c] + xh * sum_gx[c]) / count));
      }
    for (Dim c = 0; c < n; ++c) {
      if (dgamma) dgamma[b0 + c] = static_cast<float>(sum_gx[c]);
      if (dbeta) dbeta[b0 + c] = static_cast<float>(sum_g[c]);
    }
  }
}

void batch_norm_inference(const BatchNormArgs& a, const float* x, const float* mean, const float* var, float* y, Dim c0,
                          Dim c1) {
  const Dim C = a.channels;
  for (Dim b0 = c0; b0 < c1; b0 += kBlock) {
    Dim n = std::min(kBlock, c1 - b0);
    float inv[kBlock], shift[kBlock];
    for (Dim c = 0; c < n; ++c) {
      ChannelAffine f = batch_norm_affine(a, mean[b0 + c], var[b0 + c], b0 + c);
      inv[c] = f.scale;
      shift[c] = f.shift;
    }
    for (Dim r = 0; r < a.rows; ++r)
      for (Dim c = 0; c < n; ++c) y[r * C + b0 + c] = x[r * C + b0 + c] * inv[c] + shift[c];
  }
}

void batch_norm_inference_backward(const BatchNormArgs& a, const float* x, const float* dy, const float* mean,
                                   const float* var, float* dx, float* dgamma, float* dbeta, float* dmean, float* dvar,
                                   Dim c0, Dim c1) {
  const Dim C = a.channels;
  for (Dim b0 = c0; b0 < c1; b0 += kBlock) {
    Dim n = std::min(kBlock, c1 - b0);
    double rs[kBlock], sum_g[kBlock], sum_gx[kBlock];
    gradient_sums(a, x, dy, mean, var, b0, n, rs, sum_g, sum_gx);
    for (Dim r = 0; r < a.rows; ++r)
      for (Dim c = 0; c < n; ++c) {
        Dim i = r * C + b0 + c;
        dx[i] = static_cast<float>((a.gamma ? a.gamma[b0 + c] : 1.0) * rs[c] * dy[i]);
      }
    for (Dim c = 0; c < n; ++c) {
      double gm = a.gamma ? a.gamma[b0 + c] : 1.0;
      if (dgamma) dgamma[b0 + c] = static_cast<float>(sum_gx[c]);
      if (dbeta) dbeta[b0 + c] = static_cast<float>(sum_g[c]);
      dmean[b0 + c] = static_cast<float>(-gm * rs[c] * sum_g[c]);
      dvar[b0 + c] = static_cast<float>(-0.5 * gm * rs[c] * rs[c] * sum_gx[c]);
    }
  }
}

}  // namespace keras::ops
