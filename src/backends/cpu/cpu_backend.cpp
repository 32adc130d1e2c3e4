// The fast CPU backend: products (Dense, Conv2D) through the igemm kernels, pooling vectorised
// over channels, all split over the runtime's threads in tasks that never share an output.
// Ops it does not list in supports() run on the reference backend.
#include "backends/cpu/cpu_backend.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/elementwise_ops.h"
#include "backends/cpu/kernels/depthwise.h"
#include "backends/cpu/kernels/pooling.h"
#include "backends/cpu/kernels/small_conv.h"
#include "backends/cpu/kernels/winograd.h"
#include "backends/cpu/parallel_igemm.h"
#include "backends/cpu/products.h"
#include "backends/recurrent_operators.h"
#include "backends/thread_pool.h"
#include "keras/errors.h"
#include "ops/activations.h"
#include "ops/optimizer_update.h"

namespace keras::backends::cpu {

namespace {

// Splitting work only pays when each thread gets more than a wake-up's worth of it.
constexpr Dim kMinFlopsPerTask = 200'000;

Dim ceil_div(Dim a, Dim b) { return (a + b - 1) / b; }

// Applies a non-relu epilogue activation over whole rows after the product.
template <class Fn>
void activation_pass(Fn fn, float* y, Dim rows, Dim cols, Dim flops_per_row, const RunContext& ctx) {
  Dim rows_per_task = std::max<Dim>(1, kMinFlopsPerTask / std::max<Dim>(flops_per_row, 1));
  ctx.pool->parallel_for(ceil_div(rows, rows_per_task), [&](Dim t) {
    Dim r0 = t * rows_per_task, r1 = std::min(rows, r0 + rows_per_task);
    fn(y + r0 * cols, (r1 - r0) * cols, cols);
  });
}

void run_igemm(Isa isa, const IGemmArgs& g, const RunContext& ctx, Dim a_values) {
  parallel_igemm(isa, g, *ctx.pool, a_values);
}

// What every product operator reads: its kernel and bias, and its epilogue's activation, relu
// fused into the kernel, any other applied over whole rows afterwards (activation_pass).
class ProductOperator : public Operator {
 protected:
  ProductOperator(const ops::Op& op, const ops::Epilogue& e)
      : kernel_t_(op.weights.at(0)),
        bias_t_(e.bias ? op.weights.at(1) : nullptr),
        relu_(e.activation == "relu"),
        post_(relu_ || ops::is_linear(e.activation) ? nullptr : ops::raw_activation(e.activation)) {}

  // Packs the kernel ([rows][n], Keras's layout) into the tile kernel's strips, once, when the
  // product has enough rows to run through tiles and the copy is at most 64 MiB.
  void pack_kernel(Isa isa, Dim rows, Dim n, Dim m) {
    Dim width = packed_width(isa);
    if (width == 0 || m <= 3 || packed_size(rows, n, width) > (Dim{16} << 20)) return;
    packed_.resize(static_cast<size_t>(packed_size(rows, n, width)));
    pack_b(kernel(), rows, n, n, width, packed_.data());
    width_ = width;
  }
  const float* b() const { return packed_.empty() ? kernel() : packed_.data(); }

  // Read when the operator runs: a training plan's weights change between runs, and a Tensor
  // may move to a new buffer when written.
  const float* kernel() const { return kernel_t_->data(); }
  const float* bias() const { return bias_t_ ? bias_t_->data() : nullptr; }

  const Tensor* kernel_t_;
  const Tensor* bias_t_;
  bool relu_;
  ops::RawActivationFn post_;
  std::vector<float> packed_;
  Dim width_ = 0;  // IGemmArgs::packed
};

class DenseOperator final : public ProductOperator {
 public:
  DenseOperator(Isa isa, const ops::Op& op, bool weights_change)
      : ProductOperator(op, std::get<ops::DenseOp>(op.attrs).epilogue),
        isa_(isa),
        a_(std::get<ops::DenseOp>(op.attrs)) {
    if (slices() == 1 && !weights_change) pack_kernel(isa, a_.in, a_.units, a_.rows);
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
      IGemmArgs g{.m = a_.rows,
                  .n = a_.units,
                  .taps = a_.in / k,
                  .k = k,
                  .a = in[0],
                  .lda = a_.in,
                  .b = b(),
                  .ldb = a_.units,
                  .packed = width_,
                  .bias = bias(),
                  .relu = relu_,
                  .c = out[0],
                  .ldc = a_.units};
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
      IGemmArgs g{.m = m,
                  .n = n,
                  .taps = 1,
                  .k = k1 - k0,
                  .a = x + k0,
                  .lda = a_.in,
                  .b = kernel() + k0 * n,
                  .ldb = n,
                  .c = partial + s * m * n,
                  .ldc = n};
      igemm_block(isa_, g, 0, m, 0, n);
    });
    for (Dim i = 0; i < m * n; ++i) {
      float v = partial[i];
      for (Dim s = 1; s < count; ++s) v += partial[s * m * n + i];
      if (bias()) v += bias()[i % n];
      y[i] = relu_ ? std::max(v, 0.0f) : v;
    }
  }

  Isa isa_;
  ops::DenseOp a_;
};

// Depthwise convolutions with a depth multiplier of 1, in tasks of whole output rows; bias and
// relu fused, other activations over whole rows afterwards.
class DepthwiseConv2DOperator final : public ProductOperator {
 public:
  DepthwiseConv2DOperator(Isa isa, const ops::Op& op)
      : ProductOperator(op, std::get<ops::Conv2DOp>(op.attrs).epilogue),
        isa_(isa),
        g_(std::get<ops::Conv2DOp>(op.attrs).geometry) {}

  // Depth multiplier 1, no fused pooling.
  static bool suits(const ops::Conv2DOp& c) {
    return c.depthwise && !c.pool && c.geometry.out_c == c.geometry.in_c && c.geometry.groups == 1;
  }

  void run(std::span<const float* const> in, std::span<float* const> out, void*, const RunContext& ctx) const override {
    Dim rows = g_.batch * g_.out_h, flops_per_row = std::max<Dim>(1, 2 * g_.out_w * g_.k_h * g_.k_w * g_.in_c);
    Dim per_task = std::max<Dim>(1, kMinFlopsPerTask / flops_per_row);
    ctx.pool->parallel_for(ceil_div(rows, per_task), [&](Dim t) {
      depthwise_conv2d_rows(isa_, g_, in[0], kernel(), bias(), relu_, out[0], t * per_task,
                            std::min(rows, (t + 1) * per_task));
    });
    if (post_) activation_pass(post_, out[0], rows * g_.out_w, g_.out_c, 8 * g_.out_c, ctx);
  }

 private:
  Isa isa_;
  ops::Conv2DArgs g_;
};

// Conv2D as igemm over the input: row (n, oh, ow), tap (kh, kw) reads the input pixel under
// that tap, or zeros where the tap falls in the padding. The offsets depend only on the
// shapes, so they are computed once here.
class Conv2DOperator final : public ProductOperator {
 public:
  Conv2DOperator(Isa isa, const ops::Op& op, int threads, bool weights_change)
      : ProductOperator(op, std::get<ops::Conv2DOp>(op.attrs).epilogue),
        isa_(isa),
        a_(std::get<ops::Conv2DOp>(op.attrs)),
        threads_(threads) {
    const ops::Conv2DArgs& g = a_.geometry;
    if (small()) return;  // reads the input and the kernel in place: no offsets, no packing
    if (!conv_offsets(g, offsets_))
      throw ValueError("Layer \"" + op.layer + "\": the input of " + op.inputs[0].str() +
                       " is too large for int32 offsets");
    zeros_.assign(static_cast<size_t>(g.in_c / g.groups), 0.0f);
    if (g.groups == 1 && !weights_change)
      pack_kernel(isa, g.k_h * g.k_w * g.in_c, g.out_c, g.batch * g.out_h * g.out_w);
  }

  // With few input channels (a first layer on images) each tap holds too little work for
  // the indirect kernel: copy the patches of a chunk of rows into the thread's scratch and run
  // them as a plain product. The FMAs per value come in the same order either way.
  size_t workspace_bytes() const override {
    if (small()) return 0;
    size_t per_thread = (patches() ? kPatchRows * reduction() : 0) + (a_.pool ? band_values() : 0);
    return sizeof(float) * static_cast<size_t>(threads_) * per_thread;
  }

  void run(std::span<const float* const> in, std::span<float* const> out, void* workspace,
           const RunContext& ctx) const override {
    const ops::Conv2DArgs& geo = a_.geometry;
    Dim cg = geo.in_c / geo.groups, fg = geo.out_c / geo.groups;
    Dim m = geo.batch * geo.out_h * geo.out_w;
    if (small()) return run_small(in[0], out[0], ctx);
    if (a_.pool) return run_pooled(in[0], out[0], static_cast<float*>(workspace), ctx);
    if (patches()) {
      run_patches(in[0], out[0], static_cast<float*>(workspace), ctx);
      if (post_) activation_pass(post_, out[0], m, geo.out_c, 8 * geo.out_c, ctx);
      return;
    }
    for (Dim grp = 0; grp < geo.groups; ++grp) {
      IGemmArgs g{.m = m,
                  .n = fg,
                  .taps = geo.k_h * geo.k_w,
                  .k = cg,
                  .a = in[0] + grp * cg,
                  .a_offsets = offsets_.data(),
                  .zeros = zeros_.data(),
                  .b = geo.groups == 1 ? b() : kernel() + grp * fg,
                  .ldb = geo.out_c,
                  .packed = geo.groups == 1 ? width_ : 0,
                  .bias = bias() ? bias() + grp * fg : nullptr,
                  .relu = relu_,
                  .c = out[0] + grp * fg,
                  .ldc = geo.out_c};
      run_igemm(isa_, g, ctx, geo.batch * geo.in_h * geo.in_w * cg);
    }
    if (post_) activation_pass(post_, out[0], m, geo.out_c, 8 * geo.out_c, ctx);
  }

 private:
  static constexpr Dim kPatchRows = 240;
  Dim reduction() const { return a_.geometry.k_h * a_.geometry.k_w * a_.geometry.in_c; }
  bool patches() const { return a_.geometry.groups == 1 && a_.geometry.in_c < 8 && reduction() <= 256; }
  // Few enough reduction values for the kernel's weights to stay in registers (small_conv.h);
  // activations other than relu run after the whole output, so not with a fused pooling.
  bool small() const {
    return a_.geometry.groups == 1 && !a_.depthwise && reduction() <= kSmallConvReduction && has_small_conv(isa_) &&
           !(a_.pool && post_);
  }

  void run_small(const float* x, float* y, const RunContext& ctx) const {
    const ops::Conv2DArgs& geo = a_.geometry;
    SmallConvArgs s{.conv = &geo,
                    .x = x,
                    .kernel = kernel(),
                    .bias = bias(),
                    .relu = relu_,
                    .pool = a_.pool ? &a_.pool->geometry : nullptr,
                    .max = !a_.pool || a_.pool->mode == ops::Pool2DOp::Mode::kMax,
                    .y = y};
    // Tasks are bands of output rows of one image, each worth a wake-up.
    Dim rows = a_.pool ? a_.pool->geometry.out_h : geo.out_h;
    Dim window = a_.pool ? a_.pool->geometry.pool_h * a_.pool->geometry.pool_w : 1;
    Dim cols = a_.pool ? a_.pool->geometry.out_w : geo.out_w;
    Dim row_flops = 2 * reduction() * geo.out_c * cols * window;
    Dim band = std::clamp<Dim>(ceil_div(kMinFlopsPerTask, std::max<Dim>(row_flops, 1)), 1, rows);
    Dim bands = ceil_div(rows, band);
    ctx.pool->parallel_for(geo.batch * bands, [&](Dim t) {
      Dim n = t / bands, r0 = t % bands * band;
      small_conv_rows(isa_, s, n, r0, std::min(rows, r0 + band));
    });
    if (post_) activation_pass(post_, y, geo.batch * geo.out_h * geo.out_w, geo.out_c, 8 * geo.out_c, ctx);
  }

  void run_patches(const float* x, float* y, float* scratch, const RunContext& ctx) const {
    const ops::Conv2DArgs& geo = a_.geometry;
    Dim m = geo.batch * geo.out_h * geo.out_w;
    ctx.pool->parallel_for_indexed(ceil_div(m, kPatchRows), [&](Dim chunk, int thread) {
      Dim r0 = chunk * kPatchRows;
      float* p = scratch + static_cast<size_t>(thread) * kPatchRows * reduction();
      patch_product(x, r0, std::min(kPatchRows, m - r0), p, y + r0 * geo.out_c);
    });
  }

  // Rows [r0, r0 + rows) of the product (rows <= kPatchRows) through patches copied into p.
  void patch_product(const float* x, Dim r0, Dim rows, float* p, float* y) const {
    const ops::Conv2DArgs& geo = a_.geometry;
    Dim taps = geo.k_h * geo.k_w, c = geo.in_c, k = reduction();
    const int32_t* offs = offsets_.data() + r0 * taps;
    if (c == 1) {  // one channel (grey images): one value per tap
      for (Dim j = 0; j < rows * taps; ++j) p[j] = offs[j] < 0 ? 0.0f : x[offs[j]];
    } else {
      for (Dim r = 0; r < rows; ++r)
        for (Dim t = 0; t < taps; ++t) {
          int32_t o = offs[r * taps + t];
          for (Dim i = 0; i < c; ++i) p[r * k + t * c + i] = o < 0 ? 0.0f : x[o + i];
        }
    }
    // One tap of k values: the same FMAs in the same order as taps of c values, without a
    // row lookup per tap.
    IGemmArgs g = rows_into(rows, y);
    g.k = k;
    g.a = p;
    g.lda = k;
    igemm_block(isa_, g, 0, rows, 0, geo.out_c);
  }

  // A product of `rows` rows into y with this operator's kernel and epilogue (groups == 1); the
  // caller says where A comes from.
  IGemmArgs rows_into(Dim rows, float* y) const {
    Dim out_c = a_.geometry.out_c;
    return {.m = rows,
            .n = out_c,
            .b = b(),
            .ldb = out_c,
            .packed = width_,
            .bias = bias(),
            .relu = relu_,
            .c = y,
            .ldc = out_c};
  }

  // Rows [r0, r0 + rows) of the product, whichever way this convolution runs (groups == 1).
  void product_rows(const float* x, Dim r0, Dim rows, float* patch_scratch, float* y) const {
    const ops::Conv2DArgs& geo = a_.geometry;
    if (patches()) {
      for (Dim done = 0; done < rows; done += kPatchRows)
        patch_product(x, r0 + done, std::min(kPatchRows, rows - done), patch_scratch, y + done * geo.out_c);
      return;
    }
    Dim taps = geo.k_h * geo.k_w;
    IGemmArgs g = rows_into(rows, y);
    g.taps = taps;
    g.k = geo.in_c;
    g.a = x;
    g.a_offsets = offsets_.data() + r0 * taps;
    g.zeros = zeros_.data();
    igemm_block(isa_, g, 0, rows, 0, geo.out_c);
  }

  // With a fused pooling, a task is a band of pooled rows of one image: it computes the
  // convolution rows the band reads into its thread's scratch (which stays in cache), applies
  // the epilogue, and pools them into the output. Every value is computed as without fusion.
  Dim band() const {
    const ops::Conv2DArgs& geo = a_.geometry;
    const ops::Pool2DArgs& p = a_.pool->geometry;
    Dim row_values = geo.out_w * geo.out_c;
    Dim fits = std::max<Dim>(1, ((Dim{1} << 15) / std::max<Dim>(row_values, 1) - p.pool_h) / p.stride_h + 1);
    Dim flops_per_row = 2 * p.stride_h * row_values * reduction();
    Dim wanted = ceil_div(2 * kMinFlopsPerTask, std::max<Dim>(flops_per_row, 1));
    return std::clamp<Dim>(wanted, 1, std::min(fits, p.out_h));
  }
  size_t band_values() const {
    const ops::Pool2DArgs& p = a_.pool->geometry;
    return static_cast<size_t>(((band() - 1) * p.stride_h + p.pool_h) * a_.geometry.out_w * a_.geometry.out_c);
  }

  void run_pooled(const float* x, float* y, float* workspace, const RunContext& ctx) const {
    const ops::Conv2DArgs& geo = a_.geometry;
    const ops::Pool2DArgs& p = a_.pool->geometry;
    bool max = a_.pool->mode == ops::Pool2DOp::Mode::kMax;
    Dim rows_per_band = band(), bands = ceil_div(p.out_h, rows_per_band);
    size_t per_thread = (patches() ? kPatchRows * reduction() : 0) + band_values();
    ctx.pool->parallel_for_indexed(geo.batch * bands, [&](Dim task, int thread) {
      Dim n = task / bands, p0 = task % bands * rows_per_band, p1 = std::min(p.out_h, p0 + rows_per_band);
      float* conv = workspace + static_cast<size_t>(thread) * per_thread;
      float* patch_scratch = conv + band_values();
      Dim c0 = std::max<Dim>(0, p0 * p.stride_h - p.pad_top);
      Dim c1 = std::min(geo.out_h, (p1 - 1) * p.stride_h - p.pad_top + p.pool_h);
      Dim rows = (c1 - c0) * geo.out_w;
      product_rows(x, (n * geo.out_h + c0) * geo.out_w, rows, patch_scratch, conv);
      if (post_) post_(conv, rows * geo.out_c, geo.out_c);
      ops::Pool2DArgs part = p;
      part.batch = 1;
      part.in_h = c1 - c0;
      part.out_h = p1 - p0;
      part.pad_top = c0 - (p0 * p.stride_h - p.pad_top);
      pool2d_rows(isa_, part, max, conv, y + (n * p.out_h + p0) * p.out_w * p.channels, 0, p1 - p0);
    });
  }

  Isa isa_;
  ops::Conv2DOp a_;
  std::vector<int32_t> offsets_;
  std::vector<float> zeros_;
  int threads_ = 1;
};

// 3x3 stride-1 convolutions by Winograd F(2x2, 3x3) or F(4x4, 3x3) (`tile`, see tile_for). Two
// ways to split the work, by the size of the transformed weights U (alpha^2 x C x F):
//  - small U (early, wide layers: many tiles, few channels): U is transformed once per run into
//    the workspace, and tasks are blocks of tiles, each transforming its input tiles, running
//    the alpha^2 products through igemm and transforming the results into the output;
//  - large U (late layers: few tiles, many channels): the input tiles V are transformed once
//    into the workspace; tasks are panels of filters, each accumulating its products over
//    slices of the input channels, with only that slice of U transformed at a time into its
//    thread's scratch (where it stays in cache), so U is never written out whole nor read twice.
// Per output value the arithmetic is the same however the work is split (the reduction over
// channels runs in order), so results do not depend on the thread count.
class WinogradConv2DOperator final : public ProductOperator {
 public:
  // A fused pooling must be 2x2 with stride 2 from the top left (whole windows per output
  // tile), after at most relu (other activations run after the whole output).
  static bool pools(const ops::Conv2DOp& c) {
    const ops::Pool2DArgs& p = c.pool->geometry;
    return p.pool_h == 2 && p.pool_w == 2 && p.stride_h == 2 && p.stride_w == 2 && p.pad_top == 0 && p.pad_left == 0 &&
           p.out_h <= (c.geometry.out_h + 1) / 2 && p.out_w <= (c.geometry.out_w + 1) / 2 &&
           (c.epilogue.activation == "relu" || ops::is_linear(c.epilogue.activation));
  }

  // F(4x4, 3x3) (36 products per 16 outputs) where the outputs fill 3/4 of their tiles and
  // there are at least 16 tiles; else F(2x2, 3x3) (16 per 4).
  static Dim tile_for(const ops::Conv2DOp& c) {
    const ops::Conv2DArgs& g = c.geometry;
    Dim tiles_h = ceil_div(g.out_h, 4), tiles_w = ceil_div(g.out_w, 4);
    bool fills = g.out_h * g.out_w * 4 >= tiles_h * tiles_w * 16 * 3;
    return fills && g.batch * tiles_h * tiles_w >= 16 ? 4 : 2;
  }

  static bool suits(const ops::Conv2DOp& c) {
    const ops::Conv2DArgs& g = c.geometry;
    if (c.depthwise || g.groups != 1 || g.k_h != 3 || g.k_w != 3 || g.stride_h != 1 || g.stride_w != 1 ||
        g.dilation_h != 1 || g.dilation_w != 1 || g.in_c < 16 || g.out_c < 16)
      return false;
    return tile_for(c) == 4 || g.batch * ceil_div(g.out_h, 2) * ceil_div(g.out_w, 2) >= 64;
  }

  WinogradConv2DOperator(Isa isa, const ops::Op& op, int threads)
      : ProductOperator(op, std::get<ops::Conv2DOp>(op.attrs).epilogue),
        isa_(isa),
        a_(std::get<ops::Conv2DOp>(op.attrs)) {
    const ops::Conv2DArgs& g = a_.geometry;
    s_ = {g.batch, g.in_h, g.in_w, g.in_c, g.out_h, g.out_w, g.out_c, g.pad_top, g.pad_left, tile_for(a_)};
    const Dim C = g.in_c, F = g.out_c, freqs = s_.frequencies(), tiles = s_.tiles();
    // Split by filters when U is over 1 MiB and there are few tiles to share it.
    split_filters_ = freqs * C * F > (Dim{1} << 18) && tiles <= 256;
    // U is written in the tile kernel's packed strips; panels must hold whole strips.
    width_ = packed_width(isa);
    Dim align = std::max<Dim>(16, width_);
    panel_ = F;
    if (split_filters_) {
      // Two panels per thread, each one's products M (alpha^2 x tiles x panel) within 1 MiB.
      Dim fits = std::max<Dim>(1, (Dim{1} << 18) / (freqs * tiles));
      panel_ = std::max<Dim>(align, std::min(ceil_div(F, 2 * threads), fits) / align * align);
      slice_ = std::min<Dim>(C, 64);
    }
    panels_ = ceil_div(F, panel_);
    // Tiles per block: a block's V and M within about 2 MiB, a multiple of the row tile.
    block_ = split_filters_ ? tiles : std::clamp<Dim>((Dim{1} << 19) / (freqs * (C + panel_)) / 12 * 12, 12, 240);
    block_ = std::min(block_, tiles);
    blocks_ = ceil_div(tiles, block_);
    threads_ = threads;
  }

  size_t workspace_bytes() const override {
    size_t shared = split_filters_ ? static_cast<size_t>(s_.frequencies() * s_.tiles() * s_.in_c) : u_values();
    return sizeof(float) * (shared + static_cast<size_t>(threads_) * scratch_values());
  }

  void run(std::span<const float* const> in, std::span<float* const> out, void* workspace,
           const RunContext& ctx) const override {
    if (split_filters_) {
      run_panels(in[0], out[0], static_cast<float*>(workspace), ctx);
    } else {
      float* shared_u = static_cast<float*>(workspace);
      float* scratch = shared_u + u_values();
      const Dim C = s_.in_c, F = s_.out_c;
      Dim c_per_task = std::max<Dim>(1, ceil_div(C, 4 * ctx.pool->threads()));
      ctx.pool->parallel_for(ceil_div(C, c_per_task), [&](Dim t) {
        winograd_weights(isa_, s_, kernel(), shared_u,
                         {t * c_per_task, std::min(C, (t + 1) * c_per_task), 0, F, padded(F), width_});
      });
      ctx.pool->parallel_for_indexed(blocks_, [&](Dim b, int thread) {
        run_block(in[0], out[0], shared_u, b, scratch + static_cast<size_t>(thread) * scratch_values());
      });
    }
    if (post_) activation_pass(post_, out[0], s_.batch * s_.out_h * s_.out_w, s_.out_c, 8 * s_.out_c, ctx);
  }

 private:
  Dim padded(Dim filters) const { return width_ ? ceil_div(filters, width_) * width_ : filters; }
  size_t u_values() const { return static_cast<size_t>(s_.frequencies() * s_.in_c * padded(s_.out_c)); }
  // Per thread: V and M of a block of tiles; or, by panels, a slice of U and the panel's M.
  size_t scratch_values() const {
    Dim freqs = s_.frequencies();
    if (split_filters_) return static_cast<size_t>(freqs * (slice_ * padded(panel_) + s_.tiles() * panel_));
    return static_cast<size_t>(freqs * block_ * (s_.in_c + panel_));
  }

  WinogradOutput output_args(const float* m, Dim stride, Dim f0, Dim f1) const {
    WinogradOutput o{m, stride, f1 - f0, f0, f1};
    if (a_.pool) {
      o.pool = a_.pool->mode == ops::Pool2DOp::Mode::kMax ? WinogradOutput::Pool::kMax : WinogradOutput::Pool::kAverage;
      o.pooled_h = a_.pool->geometry.out_h;
      o.pooled_w = a_.pool->geometry.out_w;
    }
    return o;
  }

  // The alpha^2 products m[xi] (+)= v[xi] u[xi] of `rows` tiles: v rows of lda values from
  // input channel c0 on, u `k` rows in packed strips of `cols` filters.
  void products(const float* v, Dim v_stride, Dim lda, const float* u, Dim k, float* m, Dim rows, Dim cols,
                bool accumulate) const {
    Dim slice = reduction_slice(k), ldu = padded(cols);
    for (Dim xi = 0; xi < s_.frequencies(); ++xi) {
      IGemmArgs g{.m = rows,
                  .n = cols,
                  .taps = k / slice,
                  .k = slice,
                  .a = v + xi * v_stride * lda,
                  .lda = lda,
                  .b = u + xi * k * ldu,
                  .ldb = ldu,
                  .packed = width_,
                  .c = m + xi * rows * cols,
                  .ldc = cols,
                  .accumulate = accumulate};
      igemm_block(isa_, g, 0, rows, 0, cols);
    }
  }

  // Tiles of block b through the whole U (small-U way).
  void run_block(const float* x, float* y, const float* u, Dim b, float* scratch) const {
    const Dim C = s_.in_c;
    Dim t0 = b * block_, count = std::min(block_, s_.tiles() - t0);
    float* v = scratch;
    float* m = v + s_.frequencies() * block_ * C;
    winograd_input(isa_, s_, x, t0, count, v, block_);
    products(v, block_, C, u, C, m, count, s_.out_c, false);
    winograd_output(isa_, s_, output_args(m, count, 0, s_.out_c), t0, count, bias(), relu_, y);
  }

  // Large-U way: V of every tile once, then panels of filters over slices of channels.
  void run_panels(const float* x, float* y, float* workspace, const RunContext& ctx) const {
    const Dim C = s_.in_c, F = s_.out_c, tiles = s_.tiles();
    float* v = workspace;
    float* scratch = v + s_.frequencies() * tiles * C;
    Dim per_task = std::max<Dim>(1, ceil_div(tiles, 4 * ctx.pool->threads()));
    ctx.pool->parallel_for(ceil_div(tiles, per_task), [&](Dim t) {
      Dim t0 = t * per_task;
      winograd_input(isa_, s_, x, t0, std::min(per_task, tiles - t0), v + t0 * C, tiles);
    });
    ctx.pool->parallel_for_indexed(panels_, [&](Dim p, int thread) {
      float* u = scratch + static_cast<size_t>(thread) * scratch_values();
      float* m = u + s_.frequencies() * slice_ * padded(panel_);
      Dim f0 = p * panel_, f1 = std::min(F, f0 + panel_), cols = f1 - f0;
      for (Dim c0 = 0; c0 < C; c0 += slice_) {
        Dim c1 = std::min(C, c0 + slice_);
        winograd_weights(isa_, s_, kernel(), u, {c0, c1, f0, f1, padded(cols), width_, true});
        products(v + c0, tiles, C, u, c1 - c0, m, tiles, cols, c0 > 0);
      }
      winograd_output(isa_, s_, output_args(m, tiles, f0, f1), 0, tiles, bias(), relu_, y);
    });
  }

  Isa isa_;
  ops::Conv2DOp a_;
  WinogradShape s_;
  bool split_filters_ = false;
  Dim block_ = 12, blocks_ = 1, panel_ = 16, panels_ = 1, slice_ = 0;
  int threads_ = 1;
};

// Pooling, tasks of whole output rows.
class Pool2DOperator final : public Operator {
 public:
  Pool2DOperator(Isa isa, const ops::Op& op) : isa_(isa), a_(std::get<ops::Pool2DOp>(op.attrs)) {}
  void run(std::span<const float* const> in, std::span<float* const> out, void*, const RunContext& ctx) const override {
    const ops::Pool2DArgs& g = a_.geometry;
    Dim work_per_row = g.out_w * g.pool_h * g.pool_w * g.channels;
    Dim rows_per_task = std::max<Dim>(1, kMinFlopsPerTask / std::max<Dim>(work_per_row, 1));
    Dim rows = g.batch * g.out_h;
    bool max = a_.mode == ops::Pool2DOp::Mode::kMax;
    ctx.pool->parallel_for(ceil_div(rows, rows_per_task), [&](Dim t) {
      pool2d_rows(isa_, g, max, in[0], out[0], t * rows_per_task, std::min(rows, (t + 1) * rows_per_task));
    });
  }

 private:
  Isa isa_;
  ops::Pool2DOp a_;
};

// ---- Training ops: the products and pooling gradients of products.h on the plan's threads.

class MatMulOperator final : public Operator {
 public:
  explicit MatMulOperator(const ops::Op& op)
      : a_(std::get<ops::MatMulOp>(op.attrs)), weight_(op.weights.empty() ? nullptr : op.weights[0]) {}
  void run(std::span<const float* const> in, std::span<float* const> out, void*, const RunContext& ctx) const override {
    for (Dim i = 0; i < a_.batch; ++i) {
      const float* b = weight_ ? weight_->data() : in[1] + i * a_.k * a_.n;
      gemm(*ctx.pool, a_.trans_a, a_.trans_b, a_.m, a_.n, a_.k, 1.0f, in[0] + i * a_.m * a_.k, a_.trans_a ? a_.m : a_.k,
           b, a_.trans_b ? a_.k : a_.n, 0.0f, out[0] + i * a_.m * a_.n, a_.n);
    }
  }

 private:
  ops::MatMulOp a_;
  const Tensor* weight_;
};

class Conv2DGradOperator final : public Operator {
 public:
  explicit Conv2DGradOperator(const ops::Op& op)
      : a_(std::get<ops::Conv2DGradOp>(op.attrs)), kernel_(op.weights.empty() ? nullptr : op.weights[0]) {}
  void run(std::span<const float* const> in, std::span<float* const> out, void*, const RunContext& ctx) const override {
    bool input = a_.wrt == ops::Conv2DGradOp::Wrt::kInput;
    if (input) {
      conv2d_backward_input(*ctx.pool, a_.geometry, in[0], kernel_->data(), out[0]);
    } else {
      conv2d_backward_filter(*ctx.pool, a_.geometry, in[0], in[1], out[0]);
    }
  }

 private:
  ops::Conv2DGradOp a_;
  const Tensor* kernel_;
};

// An optimizer step over a variable in chunks, one task each: every element's update is
// independent, so the result does not depend on the split.
class UpdateOperator final : public Operator {
 public:
  explicit UpdateOperator(const ops::Op& op) : a_(std::get<ops::UpdateOp>(op.attrs)) {}
  void run(std::span<const float* const> in, std::span<float* const> out, void*, const RunContext& ctx) const override {
    constexpr Dim kChunk = Dim{1} << 15;
    ctx.pool->parallel_for(ceil_div(a_.size, kChunk), [&](Dim t) {
      ops::apply_update(a_, in[0], out[0], out.data() + 1, t * kChunk, std::min(a_.size, (t + 1) * kChunk));
    });
  }

 private:
  ops::UpdateOp a_;
};

// The products of the recurrent operators on the plan's threads.
struct MakePoolProducts {
  PoolProducts operator()(const RunContext& ctx) const { return PoolProducts(*ctx.pool); }
};

// A transposed convolution runs as its forward convolution's input gradient, then the
// epilogue over whole rows.
class Conv2DTransposeOperator final : public Operator {
 public:
  explicit Conv2DTransposeOperator(const ops::Op& op)
      : a_(std::get<ops::Conv2DTransposeOp>(op.attrs)),
        kernel_(op.weights.at(0)),
        bias_(a_.epilogue.bias ? op.weights.at(1) : nullptr),
        post_(ops::raw_activation(a_.epilogue.activation)) {}
  void run(std::span<const float* const> in, std::span<float* const> out, void*, const RunContext& ctx) const override {
    const ops::Conv2DArgs& g = a_.geometry;
    conv2d_backward_input(*ctx.pool, g, in[0], kernel_->data(), out[0]);
    Dim rows = g.batch * g.in_h * g.in_w, cols = g.in_c;
    const float* b = bias_ ? bias_->data() : nullptr;
    auto fn = post_;
    activation_pass(
        [b, fn](float* y, Dim size, Dim last) {
          if (b)
            for (Dim i = 0; i < size; ++i) y[i] += b[i % last];
          fn(y, size, last);
        },
        out[0], rows, cols, 8 * cols, ctx);
  }

 private:
  ops::Conv2DTransposeOp a_;
  const Tensor* kernel_;
  const Tensor* bias_;
  ops::RawActivationFn post_;
};

class Pool2DGradOperator final : public Operator {
 public:
  explicit Pool2DGradOperator(const ops::Op& op) : a_(std::get<ops::Pool2DGradOp>(op.attrs)) {}
  void run(std::span<const float* const> in, std::span<float* const> out, void*, const RunContext& ctx) const override {
    if (a_.pool.mode == ops::Pool2DOp::Mode::kMax)
      max_pool2d_backward(*ctx.pool, a_.pool.geometry, in[0], in[1], out[0]);
    else
      avg_pool2d_backward(*ctx.pool, a_.pool.geometry, in[1], out[0]);
  }

 private:
  ops::Pool2DGradOp a_;
};

// Inputs past int32 offsets go to the reference backend.
bool fits_offsets(const ops::Conv2DArgs& g) {
  return g.batch * g.in_h * g.in_w * g.in_c <= std::numeric_limits<int32_t>::max() &&
         g.batch * g.out_h * g.out_w * g.out_c <= std::numeric_limits<int32_t>::max();
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(Isa isa) : isa_(isa) {}
  const char* name() const override { return "cpu"; }
  bool supports(const ops::Op& op) const override {
    // Inputs past int32 offsets go to the reference backend.
    if (const auto* c = std::get_if<ops::Conv2DOp>(&op.attrs)) {
      const ops::Conv2DArgs& g = c->geometry;
      if (c->depthwise) return DepthwiseConv2DOperator::suits(*c);
      // A fused pooling runs in the direct convolutions, and in Winograd's when it is one pixel
      // per output tile.
      if (c->pool && (g.groups != 1 || (WinogradConv2DOperator::suits(*c) && !WinogradConv2DOperator::pools(*c))))
        return false;
      return !c->depthwise && fits_offsets(g);
    }
    // Depthwise gradients stay on the reference backend's loops.
    if (const auto* c = std::get_if<ops::Conv2DGradOp>(&op.attrs)) return !c->depthwise && fits_offsets(c->geometry);
    if (const auto* c = std::get_if<ops::Conv2DTransposeOp>(&op.attrs)) return fits_offsets(c->geometry);
    if (supports_elementwise(op)) return true;
    return std::holds_alternative<ops::DenseOp>(op.attrs) || std::holds_alternative<ops::Pool2DOp>(op.attrs) ||
           std::holds_alternative<ops::RecurrentOp>(op.attrs) || std::holds_alternative<ops::UpdateOp>(op.attrs) ||
           std::holds_alternative<ops::RecurrentGradOp>(op.attrs) || std::holds_alternative<ops::MatMulOp>(op.attrs) ||
           std::holds_alternative<ops::Pool2DGradOp>(op.attrs);
  }
  std::unique_ptr<Operator> create(const ops::Op& op, const CreateOptions& o) const override {
    if (std::holds_alternative<ops::DenseOp>(op.attrs))
      return std::make_unique<DenseOperator>(isa_, op, o.weights_change);
    if (const auto* c = std::get_if<ops::Conv2DOp>(&op.attrs); c && supports(op)) {
      if (c->depthwise) return std::make_unique<DepthwiseConv2DOperator>(isa_, op);
      // A training step's forward products stay direct, summing as their gradients do.
      if (!o.weights_change && WinogradConv2DOperator::suits(*c) && (!c->pool || WinogradConv2DOperator::pools(*c)))
        return std::make_unique<WinogradConv2DOperator>(isa_, op, o.threads);
      return std::make_unique<Conv2DOperator>(isa_, op, o.threads, o.weights_change);
    }
    if (std::holds_alternative<ops::Pool2DOp>(op.attrs)) return std::make_unique<Pool2DOperator>(isa_, op);
    if (std::holds_alternative<ops::MatMulOp>(op.attrs)) return std::make_unique<MatMulOperator>(op);
    if (std::holds_alternative<ops::UpdateOp>(op.attrs)) return std::make_unique<UpdateOperator>(op);
    if (std::holds_alternative<ops::RecurrentOp>(op.attrs))
      return std::make_unique<RecurrentOperator<MakePoolProducts>>(op);
    if (std::holds_alternative<ops::RecurrentGradOp>(op.attrs))
      return std::make_unique<RecurrentGradOperator<MakePoolProducts>>(op);
    if (std::holds_alternative<ops::Conv2DGradOp>(op.attrs) && supports(op))
      return std::make_unique<Conv2DGradOperator>(op);
    if (std::holds_alternative<ops::Pool2DGradOp>(op.attrs)) return std::make_unique<Pool2DGradOperator>(op);
    if (std::holds_alternative<ops::Conv2DTransposeOp>(op.attrs) && supports(op))
      return std::make_unique<Conv2DTransposeOperator>(op);
    if (auto e = create_elementwise(op)) return e;
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
