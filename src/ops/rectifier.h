#pragma once
// Keras's rectifiers with their arguments, on raw memory, shared by every backend: the ReLU,
// LeakyReLU, ThresholdedReLU and ELU layers (RectifierOp) and PReLU (PReluOp).
#include <vector>

#include "ops/op.h"

namespace keras::ops {

void rectifier(const RectifierOp& a, const float* x, float* y, Dim n);
// dx = f'(x) * dy; at a kink, the side the backends' gradients take (0 for relu at 0).
void rectifier_grad(const RectifierOp& a, const float* x, const float* dy, float* dx, Dim n);

// PReLU over x [batch, sample...], alpha (the sample's shape with 1 on shared axes) repeated
// along the batch and the shared axes: for each value of one sample, its alpha's flat index.
// Computed once per shape, when an operator is made.
std::vector<Dim> prelu_alpha_index(const Shape& x_shape, const Shape& alpha_shape);
void prelu(const std::vector<Dim>& index, const float* x, const float* alpha, float* y, Dim n);
// dx, and dalpha (overwritten, `alpha_size` values) summed over the batch and shared axes.
void prelu_grad(const std::vector<Dim>& index, const float* x, const float* alpha, const float* dy, float* dx,
                float* dalpha, Dim n, Dim alpha_size);

}  // namespace keras::ops
