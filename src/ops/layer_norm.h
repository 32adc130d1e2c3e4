#pragma once
// Keras's LayerNormalization on raw memory (LayerNormOp and its gradient), shared by every
// backend: rows of n values, each normalized by its own mean and biased variance (statistics in
// double), then scaled and shifted per value position.
#include "ops/op.h"

namespace keras::ops {

// gamma, beta: null where the op has none. Keras 3.1's arithmetic order, in float32: inv =
// rsqrt(var + eps) * gamma, y = x * inv + (beta - mean * inv); rms: y = x * rsqrt(var + eps) * gamma.
void layer_norm(const LayerNormOp& a, const float* x, const float* gamma, const float* beta, float* y);
// dgamma, dbeta: null where the op has none (overwritten otherwise).
void layer_norm_grad(const LayerNormOp& a, const float* x, const float* gamma, const float* dy, float* dx,
                     float* dgamma, float* dbeta);

}  // namespace keras::ops
