// The reference backend: every op as plain loops over C-order memory, written to be read, not
// to be fast. Products and pooling reuse the reference kernels (ops/reference) that the
// oracle tests have checked; LayerCallOp runs a layer's own call().
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "backends/backend.h"
#include "backends/recurrent_operators.h"
#include "engine/random.h"
#include "keras/errors.h"
#include "keras/layer.h"
#include "ops/activations.h"
#include "ops/batch_norm.h"
#include "ops/broadcast.h"
#include "ops/dropout.h"
#include "ops/l2_normalize.h"
#include "ops/layer_norm.h"
#include "ops/numpy_ops.h"
#include "ops/optimizer_update.h"
#include "ops/rectifier.h"
#include "ops/window.h"

namespace keras::backends {

namespace {

using Inputs = std::span<const float* const>;
using Outputs = std::span<float* const>;

class FnOperator final : public Operator {
 public:
  using Fn = std::function<void(Inputs, Outputs)>;
  explicit FnOperator(Fn fn) : fn_(std::move(fn)) {}
  void run(Inputs in, Outputs out, void*, const RunContext&) const override { fn_(in, out); }

 private:
  Fn fn_;
};

Dim elements(const Shape& s) {
  Dim n = 1;
  for (int i = 0; i < s.rank(); ++i) n *= s[i];
  return n;
}

void epilogue(const ops::Epilogue& e, const float* bias, float* y, Dim size, Dim channels) {
  if (e.bias)
    for (Dim i = 0; i < size; ++i) y[i] += bias[i % channels];
  ops::raw_activation(e.activation)(y, size, channels);
}

// Weights are read when the operator runs, not when it is made: a training plan's change
// between runs (and a Tensor may move to a new buffer when written).
const float* data_of(const Tensor* t) { return t ? t->data() : nullptr; }

FnOperator::Fn dense(const ops::Op& op, const ops::DenseOp& a) {
  const Tensor* w = op.weights.at(0);
  const Tensor* b = a.epilogue.bias ? op.weights.at(1) : nullptr;
  return [a, w, b](Inputs in, Outputs out) {
    ops::reference_kernels().gemm(false, false, a.rows, a.units, a.in, 1.0f, in[0], a.in, w->data(), a.units, 0.0f,
                                  out[0], a.units);
    epilogue(a.epilogue, data_of(b), out[0], a.rows * a.units, a.units);
  };
}

Dim conv_output_size(const ops::Conv2DArgs& g) { return g.batch * g.out_h * g.out_w * g.out_c; }

void conv2d_into(const ops::Conv2DOp& a, const float* x, const float* w, const float* b, float* y) {
  const ops::Kernels& k = ops::reference_kernels();
  (a.depthwise ? k.depthwise_conv2d : k.conv2d)(a.geometry, x, w, y);
  epilogue(a.epilogue, b, y, conv_output_size(a.geometry), a.geometry.out_c);
}

// The transposed convolution is its forward convolution's input gradient.
FnOperator::Fn conv2d_transpose(const ops::Op& op, const ops::Conv2DTransposeOp& a) {
  const Tensor* w = op.weights.at(0);
  const Tensor* b = a.epilogue.bias ? op.weights.at(1) : nullptr;
  return [a, w, b](Inputs in, Outputs out) {
    const ops::Conv2DArgs& g = a.geometry;
    ops::reference_kernels().conv2d_backward_input(g, in[0], w->data(), out[0]);
    epilogue(a.epilogue, data_of(b), out[0], g.batch * g.in_h * g.in_w * g.in_c, g.in_c);
  };
}

FnOperator::Fn merge_grad(const ops::MergeGradOp& a) {
  using K = ops::MergeOp::Kind;
  return [a](Inputs in, Outputs out) {
    size_t n = in.size() - 1, wrt = a.wrt;
    const float* dy = in[n];
    float* dx = out[0];
    for (Dim i = 0; i < a.merge.size; ++i) {
      float g = dy[i];
      switch (a.merge.kind) {
        case K::kAdd:
          break;
        case K::kSubtract:
          if (wrt == 1) g = -g;
          break;
        case K::kAverage:
          g /= static_cast<float>(n);
          break;
        case K::kMultiply:
          for (size_t j = 0; j < n; ++j)
            if (j != wrt) g *= in[j][i];
          break;
        case K::kDivide:  // y = x0 / x1
          g = wrt == 0 ? g / in[1][i] : -g * in[0][i] / (in[1][i] * in[1][i]);
          break;
        case K::kPower: {  // y = x0 ** x1; TensorFlow's: no gradient for the exponent where x0 <= 0
          float x = in[0][i], p = in[1][i];
          g = wrt == 0 ? g * p * std::pow(x, p - 1) : x > 0 ? g * std::pow(x, p) * std::log(x) : 0.0f;
          break;
        }
        case K::kMaximum:
        case K::kMinimum: {
          size_t winner = 0;
          float best = in[0][i];
          for (size_t j = 1; j < n; ++j)
            if (a.merge.kind == K::kMaximum ? in[j][i] > best : in[j][i] < best) {
              best = in[j][i];
              winner = j;
            }
          if (winner != wrt) g = 0;
          break;
        }
      }
      dx[i] = g;
    }
  };
}

FnOperator::Fn prelu(const ops::Op& op) {
  const Tensor* alpha = op.weights.at(0);
  Dim n = op.inputs.at(0).num_elements();
  return [index = ops::prelu_alpha_index(op.inputs.at(0), alpha->shape()), alpha, n](Inputs in, Outputs out) {
    ops::prelu(index, in[0], alpha->data(), out[0], n);
  };
}

FnOperator::Fn prelu_grad(const ops::Op& op) {
  const Tensor* alpha = op.weights.at(0);
  Dim n = op.inputs.at(0).num_elements();
  return [index = ops::prelu_alpha_index(op.inputs.at(0), alpha->shape()), alpha, n](Inputs in, Outputs out) {
    ops::prelu_grad(index, in[0], alpha->data(), in[1], out[0], out[1], n, alpha->size());
  };
}

// The row of each index, checked before it is read.
Dim gather_row(const ops::GatherOp& a, float v, const std::string& layer) {
  if (!(v >= 0 && v < static_cast<float>(a.vocabulary)) || std::floor(v) != v)
    throw ValueError("Layer \"" + layer + "\": index " + std::to_string(v) + " is not an integer in [0, " +
                     std::to_string(a.vocabulary) + ")");
  return static_cast<Dim>(v);
}

FnOperator::Fn gather(const ops::Op& op, const ops::GatherOp& a) {
  const Tensor* table = op.weights.at(0);
  return [a, table, layer = op.layer](Inputs in, Outputs out) {
    for (Dim i = 0; i < a.rows; ++i)
      std::copy_n(table->data() + gather_row(a, in[0][i], layer) * a.dim, a.dim, out[0] + i * a.dim);
  };
}

FnOperator::Fn gather_grad(const ops::Op& op, const ops::GatherGradOp& g) {
  return [a = g.gather, layer = op.layer](Inputs in, Outputs out) {
    std::fill(out[0], out[0] + a.vocabulary * a.dim, 0.0f);
    for (Dim i = 0; i < a.rows; ++i) {
      float* row = out[0] + gather_row(a, in[0][i], layer) * a.dim;
      for (Dim j = 0; j < a.dim; ++j) row[j] += in[1][i * a.dim + j];
    }
  };
}

FnOperator::Fn pad(const ops::Op& op, const ops::PadOp& a) {
  return [x = op.inputs.at(0), y = op.outputs.at(0), a](Inputs in, Outputs out) {
    ops::shifted_window(in[0], x, out[0], y, a.before);
  };
}

FnOperator::Fn crop(const ops::Op& op, const ops::CropOp& a) {
  std::vector<Dim> offset;
  for (Dim b : a.begin) offset.push_back(-b);
  return [x = op.inputs.at(0), y = op.outputs.at(0), offset](Inputs in, Outputs out) {
    ops::shifted_window(in[0], x, out[0], y, offset);
  };
}

void pool2d_into(const ops::Pool2DOp& a, const float* x, float* y) {
  const ops::Kernels& k = ops::reference_kernels();
  (a.mode == ops::Pool2DOp::Mode::kMax ? k.max_pool2d : k.avg_pool2d)(a.geometry, x, y);
}

FnOperator::Fn pool2d(const ops::Pool2DOp& a) {
  return [a](Inputs in, Outputs out) { pool2d_into(a, in[0], out[0]); };
}

// A convolution with a pooling fused after it: the whole convolution into the workspace, then
// the pool, exactly as the two ops one after the other.
class ConvPoolOperator final : public Operator {
 public:
  ConvPoolOperator(const ops::Op& op, const ops::Conv2DOp& a)
      : a_(a), w_(op.weights.at(0)), b_(a.epilogue.bias ? op.weights.at(1) : nullptr) {}
  size_t workspace_bytes() const override { return sizeof(float) * static_cast<size_t>(conv_output_size(a_.geometry)); }
  void run(Inputs in, Outputs out, void* workspace, const RunContext&) const override {
    auto* y = static_cast<float*>(workspace);
    conv2d_into(a_, in[0], w_->data(), data_of(b_), y);
    pool2d_into(*a_.pool, y, out[0]);
  }

 private:
  ops::Conv2DOp a_;
  const Tensor* w_;
  const Tensor* b_;
};

FnOperator::Fn conv2d(const ops::Op& op, const ops::Conv2DOp& a) {
  const Tensor* w = op.weights.at(0);
  const Tensor* b = a.epilogue.bias ? op.weights.at(1) : nullptr;
  return [a, w, b](Inputs in, Outputs out) { conv2d_into(a, in[0], w->data(), data_of(b), out[0]); };
}

// y = sum(x * m) / sum(m) over the steps.
FnOperator::Fn masked_global_average(const ops::GlobalPoolOp& a) {
  return [a](Inputs in, Outputs out) {
    for (Dim n = 0; n < a.batch; ++n) {
      const float* m = in[1] + n * a.spatial;
      float count = 0.0f;
      for (Dim s = 0; s < a.spatial; ++s) count += m[s];
      for (Dim c = 0; c < a.channels; ++c) {
        float acc = 0.0f;
        for (Dim s = 0; s < a.spatial; ++s) acc += in[0][(n * a.spatial + s) * a.channels + c] * m[s];
        out[0][n * a.channels + c] = acc / count;
      }
    }
  };
}

FnOperator::Fn global_pool(const ops::GlobalPoolOp& a) {
  if (a.masked) return masked_global_average(a);
  return [a](Inputs in, Outputs out) {
    for (Dim n = 0; n < a.batch; ++n)
      for (Dim c = 0; c < a.channels; ++c) {
        float acc = a.max ? -std::numeric_limits<float>::infinity() : 0.0f;
        for (Dim s = 0; s < a.spatial; ++s) {
          float v = in[0][(n * a.spatial + s) * a.channels + c];
          acc = a.max ? std::max(acc, v) : acc + v;
        }
        out[0][n * a.channels + c] = a.max ? acc : acc / static_cast<float>(a.spatial);
      }
  };
}

FnOperator::Fn activation(const ops::ActivationOp& a) {
  ops::RawActivationFn fn = ops::raw_activation(a.name);
  return [a, fn](Inputs in, Outputs out) {
    std::copy(in[0], in[0] + a.size, out[0]);
    fn(out[0], a.size, a.last);
  };
}

FnOperator::Fn affine(const ops::Op& op, const ops::AffineOp& a) {
  const Tensor* scale_t = op.weights.at(0);
  const Tensor* shift_t = op.weights.at(1);
  return [a, scale_t, shift_t](Inputs in, Outputs out) {
    const float* scale = scale_t->data();
    const float* shift = shift_t->data();
    for (Dim i = 0; i < a.size; ++i) out[0][i] = in[0][i] * scale[i % a.channels] + shift[i % a.channels];
  };
}

FnOperator::Fn layer_norm(const ops::Op& op, const ops::LayerNormOp& a) {
  const Tensor* gamma = a.gamma ? op.weights.at(0) : nullptr;
  const Tensor* beta = a.beta ? op.weights.at(a.gamma ? 1 : 0) : nullptr;
  return [a, gamma, beta](Inputs in, Outputs out) { ops::layer_norm(a, in[0], data_of(gamma), data_of(beta), out[0]); };
}

FnOperator::Fn layer_norm_grad(const ops::Op& op, const ops::LayerNormGradOp& g) {
  const Tensor* gamma = g.forward.gamma ? op.weights.at(0) : nullptr;
  return [a = g.forward, gamma](Inputs in, Outputs out) {
    size_t k = 1;
    float* dgamma = a.gamma ? out[k++] : nullptr;
    float* dbeta = a.beta ? out[k++] : nullptr;
    ops::layer_norm_grad(a, in[0], data_of(gamma), in[1], out[0], dgamma, dbeta);
  };
}

FnOperator::Fn merge(const ops::MergeOp& a) {
  using K = ops::MergeOp::Kind;
  return [a](Inputs in, Outputs out) {
    float* y = out[0];
    std::copy(in[0], in[0] + a.size, y);
    for (size_t j = 1; j < in.size(); ++j)
      for (Dim i = 0; i < a.size; ++i) {
        float v = in[j][i];
        switch (a.kind) {
          case K::kAdd:
          case K::kAverage:
            y[i] += v;
            break;
          case K::kSubtract:
            y[i] -= v;
            break;
          case K::kMultiply:
            y[i] *= v;
            break;
          case K::kMaximum:
            y[i] = std::max(y[i], v);
            break;
          case K::kMinimum:
            y[i] = std::min(y[i], v);
            break;
          case K::kDivide:
            y[i] /= v;
            break;
          case K::kPower:
            y[i] = std::pow(y[i], v);
            break;
        }
      }
    if (a.kind == K::kAverage)
      for (Dim i = 0; i < a.size; ++i) y[i] /= static_cast<float>(in.size());
  };
}

FnOperator::Fn concat(const ops::ConcatOp& a) {
  return [a](Inputs in, Outputs out) {
    float* y = out[0];
    for (Dim o = 0; o < a.outer; ++o)
      for (size_t j = 0; j < in.size(); ++j) {
        const float* x = in[j] + o * a.widths[j];
        y = std::copy(x, x + a.widths[j], y);
      }
  };
}

FnOperator::Fn transpose(const ops::Op& op, const ops::TransposeOp& a) {
  Shape in_shape = op.inputs[0];
  int rank = in_shape.rank();
  std::vector<Dim> in_strides(static_cast<size_t>(rank), 1);
  for (int i = rank - 2; i >= 0; --i)
    in_strides[static_cast<size_t>(i)] = in_strides[static_cast<size_t>(i) + 1] * in_shape[i + 1];
  std::vector<Dim> out_dims, strides;
  for (int p : a.perm) {
    out_dims.push_back(in_shape[p]);
    strides.push_back(in_strides[static_cast<size_t>(p)]);
  }
  Dim size = elements(in_shape);
  return [out_dims, strides, size](Inputs in, Outputs out) {
    std::vector<Dim> idx(out_dims.size(), 0);
    for (Dim i = 0; i < size; ++i) {
      Dim src = 0;
      for (size_t d = 0; d < idx.size(); ++d) src += idx[d] * strides[d];
      out[0][i] = in[0][src];
      for (size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < out_dims[d]) break;
        idx[d] = 0;
      }
    }
  };
}

FnOperator::Fn layer_call(const ops::Op& op, const ops::LayerCallOp& a) {
  return [op, layer = a.layer](Inputs in, Outputs out) {
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      Tensor t(op.inputs[i]);
      std::copy(in[i], in[i] + t.size(), t.data());
      inputs.push_back(std::move(t));
    }
    std::vector<Tensor> results = layer->call(inputs, CallContext{});
    for (size_t i = 0; i < op.outputs.size(); ++i) {
      if (results.at(i).shape() != op.outputs[i])
        throw ValueError("Layer \"" + op.layer + "\" returned shape " + results[i].shape().str() + ", expected " +
                         op.outputs[i].str());
      std::copy(results[i].data(), results[i].data() + results[i].size(), out[i]);
    }
  };
}

// ---- Training ops ----

FnOperator::Fn matmul(const ops::Op& op, const ops::MatMulOp& a) {
  const Tensor* weight = op.weights.empty() ? nullptr : op.weights[0];
  return [a, weight](Inputs in, Outputs out) {
    for (Dim i = 0; i < a.batch; ++i) {
      const float* b = weight ? weight->data() : in[1] + i * a.k * a.n;
      ops::reference_kernels().gemm(a.trans_a, a.trans_b, a.m, a.n, a.k, 1.0f, in[0] + i * a.m * a.k,
                                    a.trans_a ? a.m : a.k, b, a.trans_b ? a.k : a.n, 0.0f, out[0] + i * a.m * a.n, a.n);
    }
  };
}

FnOperator::Fn bias_grad(const ops::BiasGradOp& a) {
  return [a](Inputs in, Outputs out) {
    std::fill(out[0], out[0] + a.channels, 0.0f);
    for (Dim r = 0; r < a.rows; ++r)
      for (Dim c = 0; c < a.channels; ++c) out[0][c] += in[0][r * a.channels + c];
  };
}

FnOperator::Fn activation_grad(const ops::ActivationGradOp& a) {
  ops::RawActivationGradFn fn = ops::raw_activation_grad(a.name);
  return [a, fn](Inputs in, Outputs out) {
    std::copy(in[2], in[2] + a.size, out[0]);
    fn(in[0], in[1], out[0], a.size, a.last);
  };
}

FnOperator::Fn conv2d_grad(const ops::Op& op, const ops::Conv2DGradOp& a) {
  const Tensor* kernel = op.weights.empty() ? nullptr : op.weights[0];
  return [a, kernel](Inputs in, Outputs out) {
    const ops::Kernels& k = ops::reference_kernels();
    if (a.wrt == ops::Conv2DGradOp::Wrt::kInput)
      (a.depthwise ? k.depthwise_conv2d_backward_input : k.conv2d_backward_input)(a.geometry, in[0], kernel->data(),
                                                                                  out[0]);
    else
      (a.depthwise ? k.depthwise_conv2d_backward_filter : k.conv2d_backward_filter)(a.geometry, in[0], in[1], out[0]);
  };
}

FnOperator::Fn pool2d_grad(const ops::Pool2DGradOp& a) {
  return [a](Inputs in, Outputs out) {
    const ops::Kernels& k = ops::reference_kernels();
    if (a.pool.mode == ops::Pool2DOp::Mode::kMax)
      k.max_pool2d_backward(a.pool.geometry, in[0], in[1], out[0]);
    else
      k.avg_pool2d_backward(a.pool.geometry, in[1], out[0]);
  };
}

FnOperator::Fn global_pool_grad(const ops::GlobalPoolGradOp& op) {
  const ops::GlobalPoolOp a = op.pool;
  if (a.masked)  // dx = dy * m / sum(m); inputs x, y, dy, m
    return [a](Inputs in, Outputs out) {
      for (Dim n = 0; n < a.batch; ++n) {
        const float* m = in[3] + n * a.spatial;
        float count = 0.0f;
        for (Dim s = 0; s < a.spatial; ++s) count += m[s];
        for (Dim s = 0; s < a.spatial; ++s)
          for (Dim c = 0; c < a.channels; ++c)
            out[0][(n * a.spatial + s) * a.channels + c] = in[2][n * a.channels + c] * m[s] / count;
      }
    };
  return [a](Inputs in, Outputs out) {
    const float *x = in[0], *y = in[1], *dy = in[2];
    float* dx = out[0];
    std::fill(dx, dx + a.batch * a.spatial * a.channels, 0.0f);
    for (Dim n = 0; n < a.batch; ++n)
      for (Dim c = 0; c < a.channels; ++c) {
        float g = dy[n * a.channels + c];
        if (!a.max) {
          for (Dim s = 0; s < a.spatial; ++s)
            dx[(n * a.spatial + s) * a.channels + c] = g / static_cast<float>(a.spatial);
          continue;
        }
        for (Dim s = 0; s < a.spatial; ++s)
          if (x[(n * a.spatial + s) * a.channels + c] == y[n * a.channels + c]) {
            dx[(n * a.spatial + s) * a.channels + c] = g;
            break;
          }
      }
  };
}

class DropoutOperator final : public Operator {
 public:
  explicit DropoutOperator(const ops::Op& op)
      : a_(std::get<ops::DropoutOp>(op.attrs)), shape_(op.inputs.at(0)), layer_(op.layer) {}
  size_t workspace_bytes() const override { return sizeof(float) * static_cast<size_t>(elements(a_.noise)); }
  void run(Inputs in, Outputs out, void* workspace, const RunContext& ctx) const override {
    uint64_t seed = a_.seed ? engine::mix_seed(*a_.seed, ctx.seed) : engine::layer_seed(ctx.seed, layer_);
    auto* mask = static_cast<float*>(workspace);
    if (a_.kind != ops::DropoutOp::Kind::kDropout)
      return ops::apply_noise(a_, seed, in[0], shape_, out[0], out[1], mask);
    ops::draw_dropout_mask(a_.rate, seed, mask, elements(a_.noise));
    Dim n = elements(shape_);
    std::copy(in[0], in[0] + n, out[0]);
    ops::scale_by_mask(out[0], shape_, mask, a_.noise);
    std::fill(out[1], out[1] + n, 1.0f);
    ops::scale_by_mask(out[1], shape_, mask, a_.noise);
  }

 private:
  ops::DropoutOp a_;
  Shape shape_;
  std::string layer_;
};

ops::BatchNormArgs batch_norm_args(const ops::BatchNormOp& a) {
  return {.rows = a.rows, .channels = a.channels, .epsilon = a.epsilon};
}

FnOperator::Fn batch_norm(const ops::Op& op, const ops::BatchNormOp& a) {
  const Tensor* gamma = a.gamma ? op.weights.at(0) : nullptr;
  const Tensor* beta = a.beta ? op.weights.at(a.gamma ? 1 : 0) : nullptr;
  const Tensor* mean = a.moving ? op.weights.at(op.weights.size() - 2) : nullptr;
  const Tensor* var = a.moving ? op.weights.back() : nullptr;
  return [a, gamma, beta, mean, var](Inputs in, Outputs out) {
    ops::BatchNormArgs args = batch_norm_args(a);
    args.gamma = data_of(gamma);
    args.beta = data_of(beta);
    if (a.moving)
      ops::batch_norm_inference(args, in[0], mean->data(), var->data(), out[0], 0, a.channels);
    else
      ops::batch_norm_forward(args, in[0], out[0], out[1], out[2], 0, a.channels);
  };
}

FnOperator::Fn batch_norm_grad(const ops::Op& op, const ops::BatchNormGradOp& g) {
  const ops::BatchNormOp a = g.forward;
  const Tensor* gamma = a.gamma ? op.weights.at(0) : nullptr;
  const Tensor* mean = a.moving ? op.weights.at(op.weights.size() - 2) : nullptr;
  const Tensor* var = a.moving ? op.weights.back() : nullptr;
  return [a, gamma, mean, var](Inputs in, Outputs out) {
    ops::BatchNormArgs args = batch_norm_args(a);
    args.gamma = data_of(gamma);
    size_t o = 1;
    float* dgamma = a.gamma ? out[o++] : nullptr;
    float* dbeta = a.beta ? out[o++] : nullptr;
    if (a.moving)
      ops::batch_norm_inference_backward(args, in[0], in[1], mean->data(), var->data(), out[0], dgamma, dbeta, out[o],
                                         out[o + 1], 0, a.channels);
    else
      ops::batch_norm_backward(args, in[0], in[1], in[2], in[3], out[0], dgamma, dbeta, 0, a.channels);
  };
}

FnOperator::Fn slice(const ops::SliceOp& a) {
  return [a](Inputs in, Outputs out) {
    for (Dim o = 0; o < a.outer; ++o) std::copy_n(in[0] + o * a.total + a.offset, a.width, out[0] + o * a.width);
  };
}

std::vector<Tensor> tensors_from(Inputs in, const std::vector<Shape>& shapes, size_t first, size_t count) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < count; ++i) {
    Tensor t = Tensor::empty(shapes.at(first + i));
    std::copy(in[first + i], in[first + i] + t.size(), t.data());
    out.push_back(std::move(t));
  }
  return out;
}

void copy_out(const Tensor& t, const Shape& want, float* out, const std::string& layer) {
  if (t.shape() != want)
    throw ValueError("Layer \"" + layer + "\" returned shape " + t.shape().str() + ", expected " + want.str());
  std::copy(t.data(), t.data() + t.size(), out);
}

class LayerTrainOperator final : public Operator {
 public:
  LayerTrainOperator(const ops::Op& op, const ops::LayerTrainOp& a) : op_(op), a_(a) {}
  void run(Inputs in, Outputs out, void*, const RunContext& ctx) const override {
    SavedState& saved = ctx.saved->at(static_cast<size_t>(a_.slot));
    saved = SavedState{};
    std::vector<Tensor> results =
        a_.layer->call(tensors_from(in, op_.inputs, 0, op_.inputs.size()),
                       CallContext{.training = a_.training, .saved = &saved, .seed = ctx.seed});
    for (size_t i = 0; i < op_.outputs.size(); ++i) copy_out(results.at(i), op_.outputs[i], out[i], op_.layer);
  }

 private:
  ops::Op op_;
  ops::LayerTrainOp a_;
};

// Inputs: the layer's n inputs, its m outputs, the gradients that reached them.
class LayerGradOperator final : public Operator {
 public:
  LayerGradOperator(const ops::Op& op, const ops::LayerGradOp& a) : op_(op), a_(a) {}
  void run(Inputs in, Outputs out, void*, const RunContext& ctx) const override {
    size_t n = a_.inputs, m = a_.has_grad.size();
    std::vector<Tensor> x = tensors_from(in, op_.inputs, 0, n), y = tensors_from(in, op_.inputs, n, m), dy;
    for (size_t i = 0, next = n + m; i < m; ++i) {
      if (!a_.has_grad[i]) {
        dy.push_back(Tensor::zeros(y[i].shape()));
        continue;
      }
      dy.push_back(std::move(tensors_from(in, op_.inputs, next++, 1)[0]));
    }
    Gradients g = a_.layer->backward({x, y, dy, ctx.saved->at(static_cast<size_t>(a_.slot)), a_.input_grads});
    size_t o = 0;
    if (a_.input_grads)
      for (size_t i = 0; i < n; ++i, ++o) copy_out(g.inputs.at(i), op_.outputs[o], out[o], op_.layer);
    for (size_t v = 0; o < op_.outputs.size(); ++v, ++o) copy_out(g.variables.at(v), op_.outputs[o], out[o], op_.layer);
  }

 private:
  ops::Op op_;
  ops::LayerGradOp a_;
};

struct ReferenceProducts {
  const ops::Products& operator()(const RunContext&) const { return ops::reference_products(); }
};

class ReferenceBackend final : public Backend {
 public:
  const char* name() const override { return "reference"; }
  bool supports(const ops::Op&) const override { return true; }
  std::unique_ptr<Operator> create(const ops::Op& op, const CreateOptions&) const override {
    if (const auto* c = std::get_if<ops::Conv2DOp>(&op.attrs); c && c->pool)
      return std::make_unique<ConvPoolOperator>(op, *c);
    if (const auto* t = std::get_if<ops::LayerTrainOp>(&op.attrs)) return std::make_unique<LayerTrainOperator>(op, *t);
    if (std::holds_alternative<ops::DropoutOp>(op.attrs)) return std::make_unique<DropoutOperator>(op);
    if (const auto* g = std::get_if<ops::LayerGradOp>(&op.attrs)) return std::make_unique<LayerGradOperator>(op, *g);
    if (std::holds_alternative<ops::RecurrentOp>(op.attrs))
      return std::make_unique<RecurrentOperator<ReferenceProducts>>(op);
    if (std::holds_alternative<ops::RecurrentGradOp>(op.attrs))
      return std::make_unique<RecurrentGradOperator<ReferenceProducts>>(op);
    return std::make_unique<FnOperator>(std::visit(
        [&](const auto& a) -> FnOperator::Fn {
          using T = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<T, ops::DenseOp>) return dense(op, a);
          if constexpr (std::is_same_v<T, ops::Conv2DOp>) return conv2d(op, a);
          if constexpr (std::is_same_v<T, ops::Conv2DTransposeOp>) return conv2d_transpose(op, a);
          if constexpr (std::is_same_v<T, ops::Pool2DOp>) return pool2d(a);
          if constexpr (std::is_same_v<T, ops::GlobalPoolOp>) return global_pool(a);
          if constexpr (std::is_same_v<T, ops::ActivationOp>) return activation(a);
          if constexpr (std::is_same_v<T, ops::AffineOp>) return affine(op, a);
          if constexpr (std::is_same_v<T, ops::MergeOp>) return merge(a);
          if constexpr (std::is_same_v<T, ops::ConcatOp>) return concat(a);
          if constexpr (std::is_same_v<T, ops::TransposeOp>) return transpose(op, a);
          if constexpr (std::is_same_v<T, ops::BroadcastOp>)
            return [x = op.inputs.at(0), y = op.outputs.at(0)](Inputs in, Outputs out) {
              ops::broadcast_to(in[0], x, out[0], y);
            };
          if constexpr (std::is_same_v<T, ops::ReduceToOp>)
            return [dy = op.inputs.at(0), x = op.outputs.at(0)](Inputs in, Outputs out) {
              ops::reduce_to(in[0], dy, out[0], x);
            };
          if constexpr (std::is_same_v<T, ops::MergeGradOp>) return merge_grad(a);
          if constexpr (std::is_same_v<T, ops::RectifierOp>)
            return [a, n = op.inputs.at(0).num_elements()](Inputs in, Outputs out) {
              ops::rectifier(a, in[0], out[0], n);
            };
          if constexpr (std::is_same_v<T, ops::RectifierGradOp>)
            return [a, n = op.inputs.at(0).num_elements()](Inputs in, Outputs out) {
              ops::rectifier_grad(a.forward, in[0], in[1], out[0], n);
            };
          if constexpr (std::is_same_v<T, ops::GatherOp>) return gather(op, a);
          if constexpr (std::is_same_v<T, ops::GatherGradOp>) return gather_grad(op, a);
          if constexpr (std::is_same_v<T, ops::L2NormalizeOp>)
            return
                [a](Inputs in, Outputs out) { ops::l2_normalize(in[0], out[0], a.outer, a.n, a.inner, a.max_scale); };
          if constexpr (std::is_same_v<T, ops::L2NormalizeGradOp>)
            return [f = a.forward](Inputs in, Outputs out) {
              ops::l2_normalize_grad(in[0], in[1], out[0], f.outer, f.n, f.inner, f.max_scale);
            };
          if constexpr (std::is_same_v<T, ops::PReluOp>) return prelu(op);
          if constexpr (std::is_same_v<T, ops::PReluGradOp>) return prelu_grad(op);
          if constexpr (std::is_same_v<T, ops::ReverseOp>)
            return [a](Inputs in, Outputs out) {
              for (Dim o = 0; o < a.outer; ++o)
                for (Dim t = 0; t < a.steps; ++t)
                  std::copy_n(in[0] + (o * a.steps + t) * a.inner, a.inner,
                              out[0] + (o * a.steps + a.steps - 1 - t) * a.inner);
            };
          if constexpr (std::is_same_v<T, ops::MaskOp>)
            return [a](Inputs in, Outputs out) {
              auto value = static_cast<float>(a.value);  // compared in float32, as Keras
              for (Dim r = 0; r < a.rows; ++r) {
                const float* x = in[0] + r * a.last;
                out[0][r] = std::any_of(x, x + a.last, [&](float v) { return v != value; }) ? 1.0f : 0.0f;
              }
            };
          if constexpr (std::is_same_v<T, ops::StateOp>)
            return [a, state = op.weights.at(0)](Inputs in, Outputs out) {
              // The layer owns its state and lets its plans write it (one call at a time).
              auto* data = const_cast<float*>(state->data());
              if (a.mode == ops::StateOp::Mode::kRead)
                std::copy(data, data + state->size(), out[0]);
              else
                std::copy(in[0], in[0] + state->size(), data);
            };
          if constexpr (std::is_same_v<T, ops::VariableOp>)
            return [w = op.weights.at(0)](Inputs, Outputs out) { std::copy(w->data(), w->data() + w->size(), out[0]); };
          if constexpr (std::is_same_v<T, ops::UnaryOp>)
            return [a](Inputs in, Outputs out) { ops::unary(a, in[0], out[0]); };
          if constexpr (std::is_same_v<T, ops::UnaryGradOp>)
            return [a](Inputs in, Outputs out) { ops::unary_grad(a.forward, in[0], in[1], in[2], out[0]); };
          if constexpr (std::is_same_v<T, ops::ReduceOp>)
            return [a](Inputs in, Outputs out) { ops::reduce(a, in[0], out[0]); };
          if constexpr (std::is_same_v<T, ops::ReduceGradOp>)
            return [a](Inputs in, Outputs out) { ops::reduce_grad(a.forward, in[0], in[1], in[2], out[0]); };
          if constexpr (std::is_same_v<T, ops::StridedSliceOp>)
            return [a, x = op.inputs.at(0), y = op.outputs.at(0)](Inputs in, Outputs out) {
              ops::strided_slice(a, x, y, in[0], out[0]);
            };
          if constexpr (std::is_same_v<T, ops::StridedSliceGradOp>)
            return [a, x = op.outputs.at(0), y = op.inputs.at(0)](Inputs in, Outputs out) {
              ops::strided_slice_grad(a.forward, x, y, in[0], out[0]);
            };
          if constexpr (std::is_same_v<T, ops::LayerNormOp>) return layer_norm(op, a);
          if constexpr (std::is_same_v<T, ops::LayerNormGradOp>) return layer_norm_grad(op, a);
          if constexpr (std::is_same_v<T, ops::PadOp>) return pad(op, a);
          if constexpr (std::is_same_v<T, ops::CropOp>) return crop(op, a);
          if constexpr (std::is_same_v<T, ops::ResizeOp>)
            return [g = a.geometry](Inputs in, Outputs out) { ops::resize(g, in[0], out[0]); };
          if constexpr (std::is_same_v<T, ops::ResizeGradOp>)
            return [g = a.geometry](Inputs in, Outputs out) { ops::resize_backward(g, in[0], out[0]); };
          if constexpr (std::is_same_v<T, ops::UpdateOp>)
            return [a](Inputs in, Outputs out) { ops::apply_update(a, in[0], out[0], out.data() + 1, 0, a.size); };
          if constexpr (std::is_same_v<T, ops::LayerCallOp>) return layer_call(op, a);
          if constexpr (std::is_same_v<T, ops::MatMulOp>) return matmul(op, a);
          if constexpr (std::is_same_v<T, ops::BiasGradOp>) return bias_grad(a);
          if constexpr (std::is_same_v<T, ops::ActivationGradOp>) return activation_grad(a);
          if constexpr (std::is_same_v<T, ops::Conv2DGradOp>) return conv2d_grad(op, a);
          if constexpr (std::is_same_v<T, ops::Pool2DGradOp>) return pool2d_grad(a);
          if constexpr (std::is_same_v<T, ops::GlobalPoolGradOp>) return global_pool_grad(a);
          if constexpr (std::is_same_v<T, ops::BatchNormOp>) return batch_norm(op, a);
          if constexpr (std::is_same_v<T, ops::SliceOp>) return slice(a);
          if constexpr (std::is_same_v<T, ops::BatchNormGradOp>) return batch_norm_grad(op, a);
          throw NotImplementedError(std::string("The reference backend has no operator for ") + ops::kind_name(op));
        },
        op.attrs));
  }
};

}  // namespace

const Backend& reference_backend() {
  static const ReferenceBackend backend;
  return backend;
}

}  // namespace keras::backends
