#pragma once
// Keras's recurrent cells run over a sequence (ops::RecurrentOp) and their backpropagation
// through time (ops::RecurrentGradOp), on raw memory. The products inside (the input projection,
// each step's recurrent product and their gradients) go through the backend's Products, so the
// reference backend runs them as plain loops and the CPU backend on its kernels and threads; the
// gate arithmetic around them is shared.
#include <cstddef>
#include <cstdint>
#include <span>

#include "ops/op.h"
#include "ops/products.h"

namespace keras::ops {

// Gates per cell (SimpleRNN 1, LSTM 4, GRU 3) and states (LSTM: h and c; the others h).
int recurrent_gates(const RecurrentOp& op);
int recurrent_states(const RecurrentOp& op);
// The dropout masks a RecurrentOp draws: input masks (0, 1 or gates), recurrent ones (0 or gates).
int input_masks(const RecurrentOp& op);
int recurrent_masks(const RecurrentOp& op);

// The weights as the op names them; bias null without one.
struct RecurrentWeights {
  const float* kernel = nullptr;
  const float* recurrent_kernel = nullptr;
  const float* bias = nullptr;
};

// Scratch floats of one forward run / one backward run (the plan reserves them).
size_t recurrent_workspace_floats(const RecurrentOp& op);
size_t recurrent_grad_workspace_floats(const RecurrentOp& op);

// The forward pass: inputs and outputs as RecurrentOp lists them. `seed`: the draw of this
// call's dropout masks.
void recurrent_forward(const RecurrentOp& op, const Products& p, const RecurrentWeights& w,
                       std::span<const float* const> in, std::span<float* const> out, uint64_t seed, float* workspace);
// The backward pass: inputs and outputs as RecurrentGradOp lists them.
void recurrent_backward(const RecurrentGradOp& op, const Products& p, const RecurrentWeights& w,
                        std::span<const float* const> in, std::span<float* const> out, float* workspace);

}  // namespace keras::ops
