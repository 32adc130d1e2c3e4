// The reference backend: every op as plain loops over C-order memory, written to be read, not
// to be fast. Products and pooling reuse the reference kernels (ops/reference) that the
// oracle tests have checked; LayerCallOp runs a layer's own call().
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "backends/backend.h"
#include "keras/errors.h"
#include "keras/layer.h"
#include "ops/activations.h"

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

FnOperator::Fn dense(const ops::Op& op, const ops::DenseOp& a) {
  const float* w = op.weights.at(0)->data();
  const float* b = a.epilogue.bias ? op.weights.at(1)->data() : nullptr;
  return [a, w, b](Inputs in, Outputs out) {
    ops::reference_kernels().gemm(false, false, a.rows, a.units, a.in, 1.0f, in[0], a.in, w, a.units, 0.0f, out[0],
                                  a.units);
    epilogue(a.epilogue, b, out[0], a.rows * a.units, a.units);
  };
}

Dim conv_output_size(const ops::Conv2DArgs& g) { return g.batch * g.out_h * g.out_w * g.out_c; }

void conv2d_into(const ops::Conv2DOp& a, const float* x, const float* w, const float* b, float* y) {
  const ops::Kernels& k = ops::reference_kernels();
  (a.depthwise ? k.depthwise_conv2d : k.conv2d)(a.geometry, x, w, y);
  epilogue(a.epilogue, b, y, conv_output_size(a.geometry), a.geometry.out_c);
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
      : a_(a), w_(op.weights.at(0)->data()), b_(a.epilogue.bias ? op.weights.at(1)->data() : nullptr) {}
  size_t workspace_bytes() const override { return sizeof(float) * static_cast<size_t>(conv_output_size(a_.geometry)); }
  void run(Inputs in, Outputs out, void* workspace, const RunContext&) const override {
    auto* y = static_cast<float*>(workspace);
    conv2d_into(a_, in[0], w_, b_, y);
    pool2d_into(*a_.pool, y, out[0]);
  }

 private:
  ops::Conv2DOp a_;
  const float* w_;
  const float* b_;
};

FnOperator::Fn conv2d(const ops::Op& op, const ops::Conv2DOp& a) {
  const float* w = op.weights.at(0)->data();
  const float* b = a.epilogue.bias ? op.weights.at(1)->data() : nullptr;
  return [a, w, b](Inputs in, Outputs out) { conv2d_into(a, in[0], w, b, out[0]); };
}

FnOperator::Fn global_pool(const ops::GlobalPoolOp& a) {
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
  const float* scale = op.weights.at(0)->data();
  const float* shift = op.weights.at(1)->data();
  return [a, scale, shift](Inputs in, Outputs out) {
    for (Dim i = 0; i < a.size; ++i) out[0][i] = in[0][i] * scale[i % a.channels] + shift[i % a.channels];
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

class ReferenceBackend final : public Backend {
 public:
  const char* name() const override { return "reference"; }
  bool supports(const ops::Op&) const override { return true; }
  std::unique_ptr<Operator> create(const ops::Op& op, const CreateOptions&) const override {
    if (const auto* c = std::get_if<ops::Conv2DOp>(&op.attrs); c && c->pool)
      return std::make_unique<ConvPoolOperator>(op, *c);
    return std::make_unique<FnOperator>(std::visit(
        [&](const auto& a) -> FnOperator::Fn {
          using T = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<T, ops::DenseOp>) return dense(op, a);
          if constexpr (std::is_same_v<T, ops::Conv2DOp>) return conv2d(op, a);
          if constexpr (std::is_same_v<T, ops::Pool2DOp>) return pool2d(a);
          if constexpr (std::is_same_v<T, ops::GlobalPoolOp>) return global_pool(a);
          if constexpr (std::is_same_v<T, ops::ActivationOp>) return activation(a);
          if constexpr (std::is_same_v<T, ops::AffineOp>) return affine(op, a);
          if constexpr (std::is_same_v<T, ops::MergeOp>) return merge(a);
          if constexpr (std::is_same_v<T, ops::ConcatOp>) return concat(a);
          if constexpr (std::is_same_v<T, ops::TransposeOp>) return transpose(op, a);
          if constexpr (std::is_same_v<T, ops::LayerCallOp>) return layer_call(op, a);
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
