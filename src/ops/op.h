#pragma once
// What a computation is: an op's kind, its attributes and its concrete shapes. Plain data, no
// pointers into memory that the op runs on; a backend turns an Op into an Operator
// (backends/backend.h). Layers describe themselves as Ops when the engine lowers a model
// (engine/graph/lowering.h); the plan decides where every tensor lives.
//
// Layout conventions: activations are C order with channels last (NHWC; 1-D convolutions and
// pools use height 1); weights stay in Keras's layouts (Dense kernel [in, units], conv kernel
// [KH, KW, C/groups, F], depthwise kernel [KH, KW, C, M]) so an operator can read a Variable
// directly, and packs a copy only where its kernel gains from another layout.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "keras/shape.h"
#include "keras/tensor.h"
#include "ops/kernels.h"
#include "ops/resize.h"

namespace keras {
class LayerImpl;
}

namespace keras::ops {

// What follows a product in the same operator: + bias (per output channel), then a Keras
// activation along the last axis ("" = linear). Fusing saves one pass over the output.
struct Epilogue {
  bool bias = false;
  std::string activation;
};

// y[rows, units] = x[rows, in] @ kernel[in, units] (+ bias, activation). Weights: kernel, bias.
struct DenseOp {
  Dim rows = 0, in = 0, units = 0;
  Epilogue epilogue;
};

// NHWC pooling; padded cells never take part (max ignores them, mean leaves them out of the
// divisor, as Keras).
struct Pool2DOp {
  enum class Mode { kMax, kAverage };
  Pool2DArgs geometry;
  Mode mode = Mode::kMax;
};

// NHWC convolution (cross-correlation), geometry with explicit padding. Weights: kernel
// [KH, KW, C/groups, F] (depthwise: [KH, KW, C, M], output channel c*M+m), bias.
// `pool`, when set, pools the result (after the epilogue) in the same operator, so the
// convolution's output never goes out to memory whole; the op's output is then the pool's.
struct Conv2DOp {
  Conv2DArgs geometry;
  bool depthwise = false;
  Epilogue epilogue;
  std::optional<Pool2DOp> pool;
};

// The transpose of a convolution (Keras's Conv1DTranspose/Conv2DTranspose): the gradient of
// `geometry`'s forward convolution w.r.t. its input, applied to this op's input. So geometry's
// in_* describe this op's output y [N, in_h, in_w, in_c] and its out_* this op's input x
// [N, out_h, out_w, out_c]. Weights: kernel [KH, KW, in_c, out_c] (Keras's transposed layout
// (KH, KW, filters, C)), bias [in_c].
struct Conv2DTransposeOp {
  Conv2DArgs geometry;
  Epilogue epilogue;
};

// Mean or max over the middle axis of x[batch, spatial, channels] -> y[batch, channels].
// `masked` (a mean only): a second input m[batch, spatial] of 0/1 weighs the steps, y = sum(x *
// m) / sum(m) (Keras's GlobalAveragePooling1D with a mask; 0/0 = NaN where all are masked).
struct GlobalPoolOp {
  Dim batch = 0, spatial = 0, channels = 0;
  bool max = false;
  bool masked = false;
};

// Keras's masks as values (Embedding(mask_zero=True), Masking, merged masks): y[r] = 1 where
// any of x[r, 0..last) differs from `value`, else 0. Masks have no gradient: they are
// constants of the backward pass.
struct MaskOp {
  Dim rows = 0, last = 1;
  double value = 0;
};

// A Keras activation on every value (softmax-like ones per row of `last` values).
struct ActivationOp {
  std::string name;
  Dim size = 0, last = 1;
};

// Keras's rectifiers with their arguments, elementwise (ops/rectifier.h): relu(x,
// negative_slope, max_value, threshold) for the ReLU, LeakyReLU and ThresholdedReLU layers,
// elu(x, alpha) for ELU.
struct RectifierOp {
  enum class Kind { kRelu, kElu };
  Kind kind = Kind::kRelu;
  double negative_slope = 0, threshold = 0, alpha = 1;
  std::optional<double> max_value;
};

// PReLU: y = x > 0 ? x : alpha * x, alpha (the weight: the input's shape without the batch,
// 1 on shared axes) repeated along the batch and the shared axes.
struct PReluOp {};

// y[i, :] = table[index[i], :] for each of the input's `rows` values (Embedding). Indices are
// floats holding integers in [0, vocabulary): anything else is a ValueError naming the layer,
// as Keras's cast to int32 and TensorFlow's bounds check. Weights: table [vocabulary, dim].
// Indices have no gradient.
struct GatherOp {
  Dim rows = 0, vocabulary = 0, dim = 0;
};

// y = x * scale[c] + shift[c] over the last axis (BatchNormalization at inference, once
// folded into scale and shift). Weights: scale, shift.
struct AffineOp {
  Dim size = 0, channels = 0;
};

// y = x0 (op) x1 (op) ... on equal shapes: Keras's merge layers, and keras.ops' binary
// arithmetic once its operands are broadcast (kDivide: true division, kPower: x0 ** x1, only
// there).
struct MergeOp {
  enum class Kind { kAdd, kSubtract, kMultiply, kAverage, kMaximum, kMinimum, kDivide, kPower };
  Kind kind = Kind::kAdd;
  Dim size = 0;
};

// x (the op's input shape: same rank as the output, size 1 along some axes) repeated along
// those axes to the output's shape (ops/broadcast.h): merges of shapes that broadcast.
struct BroadcastOp {};

// Concatenation along an axis of C-order tensors: `outer` blocks, each the inputs' `widths`
// (the axis length times the inner size) one after another.
struct ConcatOp {
  Dim outer = 0;
  std::vector<Dim> widths;
};

// y = x transposed by `perm` (y's axis i is x's axis perm[i]); shapes in the Op.
struct TransposeOp {
  std::vector<int> perm;
};

// y = x with `before[a]` zeros ahead of axis a (and zeros after, up to y's shape): Keras's
// ZeroPadding layers. Its gradient is a CropOp.
struct PadOp {
  std::vector<Dim> before;
};

// y = the window of x that starts at `begin` (y's shape): Keras's Cropping layers. Its
// gradient is a PadOp.
struct CropOp {
  std::vector<Dim> begin;
};

// Images resized by integer factors (ops/resize.h): Keras's UpSampling layers.
struct ResizeOp {
  ResizeArgs geometry;
};

// x viewed as [outer, steps, inner] with its middle axis reversed: the time axis of the
// backward direction of Bidirectional. Its own gradient.
struct ReverseOp {
  Dim outer = 0, steps = 0, inner = 0;
};

// Keras's RNN layer around one of its cells over a whole sequence (ops/recurrent.h): the input
// projection of every timestep at once, then the recurrence step by step. Dense cells
// (SimpleRNN, LSTM, GRU): x [batch, steps, features], kernel [features, gates*units]. ConvLSTM2D
// (`conv`): x [batch, steps, H, W, C] channels-last, kernel [KH, KW, C, 4*units], each step's
// image convolved by `input_conv` (its batch: batch*steps) and the state by `recurrent_conv`
// ('same', stride 1); a state is then `rows` = H'*W' pixels of `units` channels.
// Weights: kernel, recurrent_kernel, then bias ([gates*units]; GRU reset_after: [2, 3*units],
// row 1 the recurrent bias) when `bias`. Inputs: x, then the initial states when
// `initial_state` (else zeros), then with `masked` Keras's mask m [batch, steps] (0/1): at a
// step where m is 0 the states carry over unchanged and the output repeats the previous step's
// (0 before any unmasked step; 0 always with `zero_output_for_mask`, as Bidirectional asks). Outputs: y (the sequence
// [batch, steps, rows*units] with return_sequences, in go_backwards order as Keras, else the last output), the final
// states; with `save`, then what RecurrentGradOp reads: the projection xw [batch*steps*rows, gates*units] and each
// state's history [steps+1, batch*rows, units]; last, the dropout masks a call draws: the inputs' [1 or gates, batch,
// features], the recurrent ones [gates, batch, units].
struct RecurrentOp {
  enum class Cell { kSimpleRNN, kLSTM, kGRU };
  Cell cell = Cell::kSimpleRNN;
  Dim batch = 0, steps = 0, features = 0, units = 0, rows = 1;
  bool conv = false;
  Conv2DArgs input_conv, recurrent_conv;
  std::string activation = "tanh", recurrent_activation = "sigmoid";
  bool bias = true, reset_after = false;
  bool go_backwards = false, return_sequences = false, initial_state = false;
  bool masked = false, zero_output_for_mask = false;
  // The rates in force (training calls only): masks drawn once per call from the run's seed and
  // the layer's name, shared by every timestep (Keras's DropoutRNNCell); one per gate when
  // recurrent_dropout is set (Keras's implementation 1), else one input mask for all gates.
  double dropout = 0, recurrent_dropout = 0;
  bool save = false;
};

// A stateful layer's state (Keras's stateful RNNs: the states one call leaves for the next),
// held by the layer as a Tensor the op names as its weight. kRead: no inputs, the output is a
// copy of the state. kWrite: the input is copied into the state, no outputs. The state is
// neither a variable nor differentiated: a training step reads it as a constant, as Keras.
// kRead also brings a layer's constants into the plan as values (the numbers in keras.ops
// calls such as `x * 2.0`).
struct StateOp {
  enum class Mode { kRead, kWrite };
  Mode mode = Mode::kRead;
};

// A layer's variable (its one weight) as a value, for layers whose arithmetic on it is made of
// other ops (Normalization's statistics). Its gradient is the output's: the weight's gradient.
struct VariableOp {};

// keras.ops' elementwise math on every value (ops/numpy_ops.h): exp, log, sqrt, square,
// absolute, negative, and clip to [lo, hi].
struct UnaryOp {
  enum class Kind { kExp, kLog, kSqrt, kSquare, kAbs, kNegative, kClip };
  Kind kind = Kind::kExp;
  Dim size = 0;
  double lo = 0, hi = 0;
};

// The sum, mean, max or min of x viewed as [outer, n, inner] over its middle axis -> y[outer,
// inner] (keras.ops.sum/mean/max/min once the reduced axes are moved together).
struct ReduceOp {
  enum class Kind { kSum, kMean, kMax, kMin };
  Kind kind = Kind::kSum;
  Dim outer = 0, n = 0, inner = 0;
};

// Numpy's basic indexing on the op's input (keras.ops GetItem, tf.keras's getitem): y (the
// op's output shape, the input's rank) takes x[begin[a] + i * step[a]] along each axis a; a
// negative step walks backwards. Integer indices and new axes are views around it.
struct StridedSliceOp {
  std::vector<Dim> begin, step;
};

// A layer no backend describes yet, run through its own call() in inference mode. The
// reference backend runs it, so every model works while layers move to ops.
struct LayerCallOp {
  const LayerImpl* layer = nullptr;
};

// ---- Training: the gradients of the ops above, emitted by the training plan's autodiff
// (engine/graph/autodiff.h). dy names the gradient of the loss w.r.t. a forward op's output.

// C[m, n] = op(A) @ op(B), op = transpose when asked; A [m, k] (or [k, m]), B [k, n] (or [n, k]).
// B is a weight when the op has one (a Dense kernel in dx = dz @ kernel^T), else input 1.
// `batch` products one after another (the Dot layer): A, B and C are each that many matrices in
// a row (a weight B is one matrix, shared).
struct MatMulOp {
  Dim m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
  Dim batch = 1;
};

// keras.ops.normalize (order 2) of x viewed as [outer, n, inner] along n (ops/l2_normalize.h):
// x * min(rsqrt(sum(x^2)), max_scale) (1/epsilon; UnitNormalization's is 1e6).
struct L2NormalizeOp {
  Dim outer = 0, n = 0, inner = 0;
  double max_scale = 1e7;
};

// db[c] = sum over rows of dz[r, c]: a bias's gradient.
struct BiasGradOp {
  Dim rows = 0, channels = 0;
};

// dz = f'(z) * dy for y = f(z) along the last axis. Inputs: z (or y where the gradient needs
// only the output, ops::activation_grad_from_output), y, dy.
struct ActivationGradOp {
  std::string name;
  Dim size = 0, last = 1;
};

// A convolution's gradient w.r.t. its input (inputs: dy; weights: kernel) or its kernel
// (inputs: x, dy). Geometry of the forward op (no fused pooling).
struct Conv2DGradOp {
  enum class Wrt { kInput, kKernel };
  Conv2DArgs geometry;
  bool depthwise = false;
  Wrt wrt = Wrt::kInput;
};

// A pooling's gradient w.r.t. its input. Inputs: x (the forward input), dy.
struct Pool2DGradOp {
  Pool2DOp pool;
};

// dx of a global pooling. Inputs: x, y, dy (max sends each channel's gradient to its first
// maximum, as TensorFlow).
struct GlobalPoolGradOp {
  GlobalPoolOp pool;
};

// Inverted dropout in a training step: y = x * mask, the mask (of the noise shape, broadcast
// over x) drawn by ops::draw_dropout_mask from the step's seed (RunContext::seed), mixed with
// `seed` when the layer has one of its own, else with the layer's name (engine::layer_seed),
// as the Dropout layers' own call. Outputs: y, and dy/dx (the mask broadcast to x's shape: what
// the gradient multiplies). The other noise layers' training calls (ops/dropout.h apply_noise):
// kGaussianNoise y = x + N(0, rate) (rate: the stddev), kGaussianDropout y = x * N(1,
// sqrt(rate / (1 - rate))), kAlphaDropout y = a * (x * kept + alpha' * (1 - kept)) + b with kept
// drawn over the noise shape (Keras's AlphaDropout).
struct DropoutOp {
  enum class Kind { kDropout, kGaussianNoise, kGaussianDropout, kAlphaDropout };
  Kind kind = Kind::kDropout;
  double rate = 0;
  Shape noise;
  std::optional<uint64_t> seed;
};

// BatchNormalization over the last axis in a training plan (ops/batch_norm.h): normalized by
// the batch's statistics. Weights: gamma, then beta, each when the layer has it. Outputs: y,
// the batch's mean and variance per channel (the gradient reads them; the layer folds them
// into its moving statistics after the step, Lowering::update_state).
// `moving`: normalized by the moving statistics instead, the weights after gamma and beta
// (moving_mean, moving_variance): an inference-mode call recorded for backward, or a frozen
// layer in training (Keras 3). Outputs: y only.
struct BatchNormOp {
  Dim rows = 0, channels = 0;
  double epsilon = 1e-3;
  bool gamma = true, beta = true;
  bool moving = false;
};
// Its gradient. Inputs: x, dy, and the batch's mean and var (not when moving); weights: gamma
// (when the layer has it), then for `moving` the moving mean and variance. Outputs: dx, then
// dgamma and dbeta as the layer has them, then for `moving` the moving statistics' gradients.
struct BatchNormGradOp {
  BatchNormOp forward;
};

// Keras's LayerNormalization over rows of n values (the normalized axes moved last; ops/
// layer_norm.h): y = (x - mean) * rsqrt(var + epsilon) * gamma + beta with each row's mean and
// biased variance; `rms` (Keras 3.1's rms_scaling): y = x * rsqrt(var + epsilon) * gamma.
// Weights: gamma (when `gamma`), beta (when `beta`), each [n]; with `param_width` (Keras's
// GroupNormalization, rows = (sample, group), values = (spatial, channel in group)), each of
// [param_groups * param_width] instead, value i of row r taking parameter (r % param_groups) *
// param_width + i % param_width.
struct LayerNormOp {
  Dim rows = 0, n = 0;
  double epsilon = 1e-3;
  bool gamma = true, beta = true, rms = false;
  Dim param_groups = 1, param_width = 0;
};
// Its gradients. Inputs: x, dy; weights: gamma (when the op has it). Outputs: dx, then dgamma
// and dbeta as the op has them.
struct LayerNormGradOp {
  LayerNormOp forward;
};

// Rows of `width` values at `offset` within rows of `total`, `outer` rows: a ConcatOp input's
// gradient, cut from the output's.
struct SliceOp {
  Dim outer = 0, width = 0, offset = 0, total = 0;
};

// A broadcast's gradient: dy (the op's input shape) summed down to the output's shape.
struct ReduceToOp {};

// A MergeOp's gradient w.r.t. its input `wrt`. Inputs: the forward inputs, then dy. Maximum
// and Minimum send each value's gradient to the input it came from, the earlier one on ties
// (TensorFlow's gradients folded left to right).
struct MergeGradOp {
  MergeOp merge;
  size_t wrt = 0;
};

// A rectifier's gradient. Inputs: x, dy.
struct RectifierGradOp {
  RectifierOp forward;
};

// PReLU's gradients. Inputs: x, dy; weights: alpha. Outputs: dx, dalpha.
struct PReluGradOp {};

// The table's gradient of a GatherOp: zero, then each output row's gradient added into its
// index's row, in order. Inputs: indices, dy.
struct GatherGradOp {
  GatherOp gather;
};

// dx of an L2NormalizeOp. Inputs: x, dy.
struct L2NormalizeGradOp {
  L2NormalizeOp forward;
};

// dx of a ResizeOp. Inputs: dy.
struct ResizeGradOp {
  ResizeArgs geometry;
};

// Backpropagation through time of a RecurrentOp. Inputs: x, the initial states (when given),
// the mask (when masked; it has no gradient), the forward's saved outputs (xw, histories, masks), then the gradients of
// y and of each final state that has one (`output_grads`, y first). Weights: the forward's. Outputs: dx, the initial
// states' gradients (when given), then one gradient per weight.
struct RecurrentGradOp {
  RecurrentOp forward;
  std::vector<bool> output_grads;
};

// One optimizer step on one variable (ops/optimizer_update.h): Keras's update_step of `kind`,
// elementwise. Inputs: the gradient. Outputs, read and written in place: the variable, then its
// slots in the kind's order (SGD: momentum when momentum != 0; Adam: momentum, velocity, and
// velocity_hat with amsgrad; Adamax: momentum, norm; Nadam: momentum, velocity; RMSprop:
// velocity, then momentum when momentum > 0, then average_gradient when centered; Adagrad:
// accumulator; Adadelta: accumulated gradient, accumulated delta). Made per step: the step's
// scalars are attributes.
struct UpdateOp {
  enum class Kind { kSGD, kAdam, kAdamax, kNadam, kRMSprop, kAdagrad, kAdadelta };
  Kind kind = Kind::kSGD;
  Dim size = 0;
  double learning_rate = 0;
  double momentum = 0, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7, rho = 0.9;
  bool nesterov = false, amsgrad = false, centered = false;
  // What the iteration count makes of the rates. Adam: alpha = lr * sqrt(1 - beta_2^t) /
  // (1 - beta_1^t); Adamax: 1 - beta_1^t; Nadam: u_t, u_{t+1}, the momentum products to t and
  // t+1, 1 - beta_2^t.
  double step[5] = {0, 0, 0, 0, 0};
};

// dx of a UnaryOp. Inputs: x, y, dy. At clip's bounds the gradient passes, as TensorFlow's.
struct UnaryGradOp {
  UnaryOp forward;
};

// dx of a ReduceOp. Inputs: x, y, dy. Max and min share each gradient equally among the values
// equal to the result, as TensorFlow's reduce_max.
struct ReduceGradOp {
  ReduceOp forward;
};

// dx of a StridedSliceOp: zeros, with dy at the places the slice read. Inputs: dy.
struct StridedSliceGradOp {
  StridedSliceOp forward;
};

// A layer no op describes yet, in training: its own call() (training mode, recording what its
// backward needs in the run's slot) and, in the backward pass, its own backward(). Forward
// inputs: the layer's inputs; outputs: its outputs. Backward inputs: the forward inputs, the
// forward outputs and their gradients; outputs: the input gradients (when asked), then one
// gradient per layer variable.
struct LayerTrainOp {
  const LayerImpl* layer = nullptr;
  int slot = 0;          // the run's SavedState for this call
  bool training = true;  // CallContext::training of the call
};
struct LayerGradOp {
  const LayerImpl* layer = nullptr;
  int slot = 0;
  size_t inputs = 0;           // of the forward call
  std::vector<bool> has_grad;  // per forward output
  bool input_grads = true;
};

using OpAttrs =
    std::variant<DenseOp, Conv2DOp, Conv2DTransposeOp, Pool2DOp, GlobalPoolOp, ActivationOp, RectifierOp, PReluOp,
                 GatherOp, AffineOp, MergeOp, BroadcastOp, ConcatOp, TransposeOp, ReverseOp, PadOp, CropOp, ResizeOp,
                 MaskOp, StateOp, VariableOp, UnaryOp, ReduceOp, StridedSliceOp, LayerCallOp, MatMulOp, L2NormalizeOp,
                 BiasGradOp, ActivationGradOp, Conv2DGradOp, Pool2DGradOp, GlobalPoolGradOp, DropoutOp, BatchNormOp,
                 BatchNormGradOp, LayerNormOp, LayerNormGradOp, SliceOp, ReduceToOp, MergeGradOp, RectifierGradOp,
                 PReluGradOp, GatherGradOp, L2NormalizeGradOp, ResizeGradOp, RecurrentOp, RecurrentGradOp, UnaryGradOp,
                 ReduceGradOp, StridedSliceGradOp, UpdateOp, LayerTrainOp, LayerGradOp>;

struct Op {
  OpAttrs attrs;
  std::vector<Shape> inputs;   // concrete shapes
  std::vector<Shape> outputs;  // concrete shapes
  // Constant operands in the order the attrs name them (kernel, bias...). They outlive every
  // operator made from this op: a layer's Variable values, or constants the plan owns.
  std::vector<const Tensor*> weights;
  std::string layer;  // the Keras layer it comes from, for messages
};

// "dense", "conv2d", ... for messages and benchmarks.
const char* kind_name(const Op& op);
// Floating-point operations of a product op (2 per multiply-add); 0 for the others.
double flops(const Op& op);

}  // namespace keras::ops
