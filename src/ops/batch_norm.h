#pragma once
// BatchNormalization over the last axis in training plans, on raw memory (the training plans'
// operators; the arithmetic of the layer's own call and backward, in double where they are).
// Channels [c0, c1) only, so a backend may split the channels over threads: every channel's
// sums run over the rows in order, whatever the split.
#include "keras/shape.h"

namespace keras::ops {

struct BatchNormArgs {
  Dim rows = 0, channels = 0;
  double epsilon = 1e-3;
  const float* gamma = nullptr;  // null: scale 1
  const float* beta = nullptr;   // null: shift 0
};

// The affine map channel c applies for statistics mean and var: scale = gamma / sqrt(var + eps),
// shift = beta - mean * scale, in double, rounded once.
struct ChannelAffine {
  float scale, shift;
};
ChannelAffine batch_norm_affine(const BatchNormArgs& a, double mean, double var, Dim c);

// mean and var: the batch's per-channel mean and biased variance (written as floats);
// y = x * inv + (beta - mean * inv), inv = gamma / sqrt(var + eps), from the double statistics.
void batch_norm_forward(const BatchNormArgs& a, const float* x, float* y, float* mean, float* var, Dim c0, Dim c1);

// With xh = (x - mean) * r, r = 1 / sqrt(var + eps): dgamma = sum(dy * xh), dbeta = sum(dy),
// dx = gamma * r * (dy - (dbeta + xh * dgamma) / rows). dgamma and dbeta may be null.
void batch_norm_backward(const BatchNormArgs& a, const float* x, const float* dy, const float* mean, const float* var,
                         float* dx, float* dgamma, float* dbeta, Dim c0, Dim c1);

// With given (moving) statistics: y = x * inv + (beta - mean * inv), inv = gamma / sqrt(var +
// eps), in double as the layer's inference.
void batch_norm_inference(const BatchNormArgs& a, const float* x, const float* mean, const float* var, float* y, Dim c0,
                          Dim c1);
// Its gradients: dx = gamma * r * dy, dgamma = sum(dy * xh), dbeta = sum(dy), and the
// statistics' own, dmean = -gamma * r * sum(dy), dvar = -gamma * r^2 / 2 * sum(dy * xh).
// dgamma and dbeta may be null.
void batch_norm_inference_backward(const BatchNormArgs& a, const float* x, const float* dy, const float* mean,
                                   const float* var, float* dx, float* dgamma, float* dbeta, float* dmean, float* dvar,
                                   Dim c0, Dim c1);

}  // namespace keras::ops
