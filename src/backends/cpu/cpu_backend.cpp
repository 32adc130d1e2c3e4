// The fast CPU backend: products (Dense, Conv2D) through the igemm kernels, pooling vectorised
// over channels, all split over the runtime's threads in tasks that never share an output.
// Ops it does not list in supports() run on the reference backend.
#include <algorithm>
#include <limits>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/thread_pool.h"
#include "keras/errors.h"
#include "ops/activations.h"

namespace keras::backends::cpu {

namespace {

// Splitting work only pays when each thread gets more than a wake-up's worth of it.
constexpr Dim kMinFlopsPerTask = 200'000;

Dim ceil_div(Dim a, Dim b) { return (a + b - 1) / b; }

// Applies a non-relu epilogue activation over whole rows after the product.
void activation_pass(ops::RawActivationFn fn, float* y, Dim rows, Dim cols, Dim flops_per_row,
                     const RunContext& ctx) {
  Dim rows_per_task = std::max<Dim>(1, kMinFlopsPerTask / std::max<Dim>(flops_per_row, 1));
  ctx.pool->parallel_for(ceil_div(rows, rows_per_task), [&](Dim t) {
    Dim r0 = t * rows_per_task, r1 = std::min(rows, r0 + rows_per_task);
    fn(y + r0 * cols, (r1 - r0) * cols, cols);
  });
}

// One igemm over the runtime's threads. Tasks are (column panel, row chunk) pairs, shaped so
// that the larger operand is read once: a large B (weights) is split by columns and each task
// takes every row; a large A (many pixels) is split by rows. The split depends only on the
// shapes and the thread count, never on which thread runs a task, and no task shares an
// output with another, so results do not depend on the thread count at all.
void run_igemm(Isa isa, const IGemmArgs& g, const RunContext& ctx, Dim a_values) {
  Dim threads = ctx.pool->threads();
  Dim flops_per_row = 2 * g.taps * g.k * g.n;
  if (threads == 1 || flops_per_row * g.m < 2 * kMinFlopsPerTask) return igemm_block(isa, g, 0, g.m, 0, g.n);
  Dim want = 4 * threads;
  Dim b_values = g.taps * g.k * g.n;
  Dim panel, rows;
  if (b_values >= a_values) {
    panel = std::max<Dim>(32, ceil_div(ceil_div(g.n, want), 16) * 16);
    rows = g.m;
    Dim panels = ceil_div(g.n, panel);
    if (panels < want) rows = ceil_div(ceil_div(g.m, ceil_div(want, panels)), 12) * 12;
  } else {
    panel = std::min<Dim>(ceil_div(g.n, 16) * 16, 128);
    Dim chunks = ceil_div(want, ceil_div(g.n, panel));
    rows = ceil_div(ceil_div(g.m, chunks), 12) * 12;
  }
  rows = std::max(rows, ceil_div(kMinFlopsPerTask, flops_per_row * panel / std::max<Dim>(g.n, 1) + 1));
  Dim row_chunks = ceil_div(g.m, rows), panels = ceil_div(g.n, panel);
  ctx.pool->parallel_for(panels * row_chunks, [&](Dim t) {
    Dim p = t / row_chunks, r = t % row_chunks;
    Dim m0 = r * rows, m1 = std::min(g.m, m0 + rows);
    Dim n0 = p * panel, n1 = std::min(g.n, n0 + panel);
    igemm_block(isa, g, m0, m1, n0, n1);
  });
}

// The reduction of a plain product cut into equal slices of 64 to 512 steps, so the kernel
// can block it for the cache; no cut when no such slice size divides it.
Dim reduction_slice(Dim k) {
  if (k <= 512) return k;
  for (Dim s = 512; s >= 64; --s)
    if (k % s == 0) return s;
  return k;
}

class DenseOperator final : public Operator {
 public:
  DenseOperator(Isa isa, const ops::Op& op) : isa_(isa), a_(std::get<ops::DenseOp>(op.attrs)) {
    kernel_ = op.weights.at(0)->data();
    bias_ = a_.epilogue.bias ? op.weights.at(1)->data() : nullptr;
    relu_ = a_.epilogue.activation == "relu";
    if (!relu_ && !ops::is_linear(a_.epilogue.activation)) post_ = ops::raw_activation(a_.epilogue.activation);
  }
  // Batch-1 products read every weight once and do little with it: they are bound by memory.
  // With few rows the reduction is cut into fixed slices of whole, contiguous weight rows, one
  // task each, summed in slice order afterwards: the weights stream front to back.
  size_t workspace_bytes() const override { return slices() > 1 ? sizeof(float) * slices() * a_.rows * a_.units : 0; }

  void run(std::span<const float* const> in, std::span<float* const> out, void* workspace,
           const RunContext& ctx) const override {
    if (slices() > 1) {
      run_sliced(in[0], out[0], static_cast<float*>(workspace), ctx);
    } else {
      Dim k = reduction_slice(a_.in);
      IGemmArgs g{.m = a_.rows, .n = a_.units, .taps = a_.in / k, .k = k, .a = in[0], .lda = a_.in, .b = kernel_,
                  .ldb = a_.units, .bias = bias_, .relu = relu_, .c = out[0], .ldc = a_.units};
      run_igemm(isa_, g, ctx, a_.rows * a_.in);
    }
    if (post_) activation_pass(post_, out[0], a_.rows, a_.units, 8 * a_.units, ctx);
  }

 private:
  static constexpr Dim kSliceRows = 2048;
  Dim slices() const { return a_.rows <= 3 && a_.in >= 2 * kSliceRows ? ceil_div(a_.in, kSliceRows) : 1; }

  void run_sliced(const float* x, float* y, float* partial, const RunContext& ctx) const {
    Dim n = a_.units, m = a_.rows, count = slices();
    ctx.pool->parallel_for(count, [&](Dim s) {
      Dim k0 = s * kSliceRows, k1 = std::min(a_.in, k0 + kSliceRows);
      IGemmArgs g{.m = m, .n = n, .taps = 1, .k = k1 - k0, .a = x + k0, .lda = a_.in, .b = kernel_ + k0 * n, .ldb = n,
                  .c = partial + s * m * n, .ldc = n};
      igemm_block(isa_, g, 0, m, 0, n);
    });
    for (Dim i = 0; i < m * n; ++i) {
      float v = partial[i];
      for (Dim s = 1; s < count; ++s) v += partial[s * m * n + i];
      if (bias_) v += bias_[i % n];
      y[i] = relu_ ? std::max(v, 0.0f) : v;
    }
  }

  Isa isa_;
  ops::DenseOp a_;
  const float* kernel_;
  const float* bias_;
  bool relu_;
  ops::RawActivationFn post_ = nullptr;
};

// Conv2D as igemm over the input: row (n, oh, ow), tap (kh, kw) reads the input pixel under
// that tap, or zeros where the tap falls in the padding. The offsets depend only on the
// shapes, so they are computed once here.
class Conv2DOperator final : public Operator {
 public:
  Conv2DOperator(Isa isa, const ops::Op& op) : isa_(isa), a_(std::get<ops::Conv2DOp>(op.attrs)) {
    const ops::Conv2DArgs& g = a_.geometry;
    if (g.batch * g.in_h * g.in_w * g.in_c > std::numeric_limits<int32_t>::max())
      throw ValueError("Layer \"" + op.layer + "\": the input of " + op.inputs[0].str() + " is too large for int32 offsets");
    kernel_ = op.weights.at(0)->data();
    bias_ = a_.epilogue.bias ? op.weights.at(1)->data() : nullptr;
    relu_ = a_.epilogue.activation == "relu";
    if (!relu_ && !ops::is_linear(a_.epilogue.activation)) post_ = ops::raw_activation(a_.epilogue.activation);
    Dim taps = g.k_h * g.k_w, m = g.batch * g.out_h * g.out_w;
    offsets_.resize(static_cast<size_t>(m * taps));
    int32_t* o = offsets_.data();
    for (Dim n = 0; n < g.batch; ++n)
      for (Dim oh = 0; oh < g.out_h; ++oh)
        for (Dim ow = 0; ow < g.out_w; ++ow)
          for (Dim p = 0; p < g.k_h; ++p)
            for (Dim q = 0; q < g.k_w; ++q) {
              Dim ih = oh * g.stride_h + p * g.dilation_h - g.pad_top;
              Dim iw = ow * g.stride_w + q * g.dilation_w - g.pad_left;
              bool inside = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
              *o++ = inside ? static_cast<int32_t>(((n * g.in_h + ih) * g.in_w + iw) * g.in_c) : -1;
            }
    zeros_.assign(static_cast<size_t>(g.in_c / g.groups), 0.0f);
  }

  void run(std::span<const float* const> in, std::span<float* const> out, void*, const RunContext& ctx) const override {
    const ops::Conv2DArgs& geo = a_.geometry;
    Dim cg = geo.in_c / geo.groups, fg = geo.out_c / geo.groups;
    Dim m = geo.batch * geo.out_h * geo.out_w;
    for (Dim grp = 0; grp < geo.groups; ++grp) {
      IGemmArgs g{.m = m, .n = fg, .taps = geo.k_h * geo.k_w, .k = cg, .a = in[0] + grp * cg,
                  .a_offsets = offsets_.data(), .zeros = zeros_.data(), .b = kernel_ + grp * fg, .ldb = geo.out_c,
                  .bias = bias_ ? bias_ + grp * fg : nullptr, .relu = relu_, .c = out[0] + grp * fg, .ldc = geo.out_c};
      run_igemm(isa_, g, ctx, geo.batch * geo.in_h * geo.in_w * cg);
    }
    if (post_) activation_pass(post_, out[0], m, geo.out_c, 8 * geo.out_c, ctx);
  }

 private:
  Isa isa_;
  ops::Conv2DOp a_;
  const float* kernel_;
  const float* bias_;
  bool relu_;
  ops::RawActivationFn post_ = nullptr;
  std::vector<int32_t> offsets_;
  std::vector<float> zeros_;
};

// Pooling, one task per output row of pixels; the inner loops run over channels.
class Pool2DOperator final : public Operator {
 public:
  explicit Pool2DOperator(const ops::Op& op) : a_(std::get<ops::Pool2DOp>(op.attrs)) {}
  void run(std::span<const float* const> in, std::span<float* const> out, void*, const RunContext& ctx) const override {
    const ops::Pool2DArgs& g = a_.geometry;
    Dim work_per_row = g.out_w * g.pool_h * g.pool_w * g.channels;
    Dim rows_per_task = std::max<Dim>(1, kMinFlopsPerTask / std::max<Dim>(work_per_row, 1));
    Dim rows = g.batch * g.out_h;
    ctx.pool->parallel_for(ceil_div(rows, rows_per_task), [&](Dim t) {
      for (Dim r = t * rows_per_task, end = std::min(rows, r + rows_per_task); r < end; ++r) pool_row(in[0], out[0], r);
    });
  }

 private:
  void pool_row(const float* x, float* y, Dim row) const {
    const ops::Pool2DArgs& g = a_.geometry;
    Dim n = row / g.out_h, oh = row % g.out_h, C = g.channels;
    bool max = a_.mode == ops::Pool2DOp::Mode::kMax;
    Dim h0 = std::max<Dim>(0, oh * g.stride_h - g.pad_top), h1 = std::min(g.in_h, oh * g.stride_h - g.pad_top + g.pool_h);
    for (Dim ow = 0; ow < g.out_w; ++ow) {
      Dim w0 = std::max<Dim>(0, ow * g.stride_w - g.pad_left);
      Dim w1 = std::min(g.in_w, ow * g.stride_w - g.pad_left + g.pool_w);
      float* o = y + (row * g.out_w + ow) * C;
      std::fill(o, o + C, max ? -std::numeric_limits<float>::infinity() : 0.0f);
      for (Dim ih = h0; ih < h1; ++ih)
        for (Dim iw = w0; iw < w1; ++iw) {
          const float* p = x + ((n * g.in_h + ih) * g.in_w + iw) * C;
          if (max)
            for (Dim c = 0; c < C; ++c) o[c] = std::max(o[c], p[c]);
          else
            for (Dim c = 0; c < C; ++c) o[c] += p[c];
        }
      if (!max) {
        float count = static_cast<float>(std::max<Dim>((h1 - h0) * (w1 - w0), 1));
        for (Dim c = 0; c < C; ++c) o[c] /= count;
      }
    }
  }

  ops::Pool2DOp a_;
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(Isa isa) : isa_(isa) {}
  const char* name() const override { return "cpu"; }
  bool supports(const ops::Op& op) const override {
    if (const auto* c = std::get_if<ops::Conv2DOp>(&op.attrs)) return !c->depthwise;
    return std::holds_alternative<ops::DenseOp>(op.attrs) || std::holds_alternative<ops::Pool2DOp>(op.attrs);
  }
  std::unique_ptr<Operator> create(const ops::Op& op) const override {
    if (std::holds_alternative<ops::DenseOp>(op.attrs)) return std::make_unique<DenseOperator>(isa_, op);
    if (std::holds_alternative<ops::Conv2DOp>(op.attrs) && supports(op))
      return std::make_unique<Conv2DOperator>(isa_, op);
    if (std::holds_alternative<ops::Pool2DOp>(op.attrs)) return std::make_unique<Pool2DOperator>(op);
    throw NotImplementedError(std::string("The cpu backend has no operator for ") + ops::kind_name(op));
  }

 private:
  Isa isa_;
};

}  // namespace

const Backend& backend_for(Isa isa) {
  static const CpuBackend avx512(Isa::kAvx512), avx2(Isa::kAvx2), generic(Isa::kGeneric);
  return isa == Isa::kAvx512 ? static_cast<const Backend&>(avx512)
         : isa == Isa::kAvx2 ? static_cast<const Backend&>(avx2)
                             : static_cast<const Backend&>(generic);
}

}  // namespace keras::backends::cpu

namespace keras::backends {
const Backend& cpu_backend() { return cpu::backend_for(cpu::detect_isa()); }
}  // namespace keras::backends
