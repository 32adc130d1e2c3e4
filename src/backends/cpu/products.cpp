// The CPU backend's products on a given thread pool: gemm and convolutions (forward and both
// gradients) as indirect products on the igemm kernels, pooling gradients per image. Transposed
// operands are copied into row-major form first (thread-local buffers that grow as needed);
// grouped convolutions, and inputs too large for int32 offsets, go through im2col on the same
// gemm.
#include "backends/cpu/products.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/kernels/pooling.h"
#include "backends/cpu/parallel_igemm.h"
#include "ops/im2col.h"
#include "ops/pooling.h"

namespace keras::backends::cpu {

namespace {

using ops::Conv2DArgs;
using ops::Pool2DArgs;
// dst[c][r] = src[r][c] for a rows x cols block at row stride ld; 32 x 32 tiles for the cache.
void transpose_into(const float* src, Dim rows, Dim cols, Dim ld, std::vector<float>& dst) {
  dst.resize(static_cast<size_t>(rows * cols));
  constexpr Dim kTile = 32;
  for (Dim r0 = 0; r0 < rows; r0 += kTile)
    for (Dim c0 = 0; c0 < cols; c0 += kTile)
      for (Dim r = r0; r < std::min(rows, r0 + kTile); ++r)
        for (Dim c = c0; c < std::min(cols, c0 + kTile); ++c) dst[static_cast<size_t>(c * rows + r)] = src[r * ld + c];
}

// C = A^T B with A [k][m] much wider than B [k][n] (a convolution's filter gradient: A the
// patches, B the output gradient): C^T = B^T A needs only B and C^T transposed, not A.
bool gemm_by_transposed_result(ThreadPool& pool, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda,
                               const float* b, Dim ldb, float beta, float* c, Dim ldc) {
  if (n >= m) return false;
  thread_local std::vector<float> ct, t;
  ct.resize(static_cast<size_t>(n * m));
  gemm(pool, true, false, n, m, k, 1.0f, b, ldb, a, lda, 0.0f, ct.data(), m);  // B^T A: b is [k][n]
  transpose_into(ct.data(), n, m, m, t);
  for (Dim i = 0; i < m; ++i)
    for (Dim j = 0; j < n; ++j)
      c[i * ldc + j] = alpha * t[static_cast<size_t>(i * n + j)] + (beta == 0 ? 0.0f : beta * c[i * ldc + j]);
  return true;
}

}  // namespace

void gemm(ThreadPool& pool, bool ta, bool tb, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b,
          Dim ldb, float beta, float* c, Dim ldc) {
  if (m == 0 || n == 0) return;
  if (ta && !tb && k > 0 && gemm_by_transposed_result(pool, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
  thread_local std::vector<float> at, bt, ct;
  bool direct = alpha == 1.0f && beta == 0.0f;
  if (k == 0) {
    for (Dim i = 0; i < m; ++i)
      for (Dim j = 0; j < n; ++j) c[i * ldc + j] = beta == 0 ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  const float* A = a;
  Dim la = lda;
  if (ta) {  // a is [k][m]
    transpose_into(a, k, m, lda, at);
    A = at.data();
    la = k;
  }
  const float* B = b;
  Dim lb = ldb;
  if (tb) {  // b is [n][k]
    transpose_into(b, n, k, ldb, bt);
    B = bt.data();
    lb = n;
  }
  float* C = c;
  Dim lc = ldc;
  if (!direct) {
    ct.resize(static_cast<size_t>(m * n));
    C = ct.data();
    lc = n;
  }
  Dim slice = reduction_slice(k);
  IGemmArgs g{.m = m, .n = n, .taps = k / slice, .k = slice, .a = A, .lda = la, .b = B, .ldb = lb, .c = C, .ldc = lc};
  parallel_igemm(detect_isa(), g, pool, m * k);
  if (!direct)
    for (Dim i = 0; i < m; ++i)
      for (Dim j = 0; j < n; ++j)
        c[i * ldc + j] = alpha * ct[static_cast<size_t>(i * n + j)] + (beta == 0 ? 0.0f : beta * c[i * ldc + j]);
}

namespace {

// The offsets of the last geometry this thread saw: a training step asks for the same ones
// three times (forward, and both gradients).
bool same_geometry(const Conv2DArgs& a, const Conv2DArgs& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

const std::vector<int32_t>* cached_offsets(const Conv2DArgs& a, bool transpose) {
  struct Entry {
    Conv2DArgs args;
    std::vector<int32_t> offsets;
    bool valid = false;
  };
  thread_local Entry forward[2], backward[2];
  thread_local int next = 0;
  Entry* entries = transpose ? backward : forward;
  for (int i = 0; i < 2; ++i)
    if (entries[i].valid && same_geometry(entries[i].args, a)) return &entries[i].offsets;
  Entry& e = entries[next++ % 2];
  e.args = a;
  e.valid = transpose ? conv_transpose_offsets(a, e.offsets) : conv_offsets(a, e.offsets);
  return e.valid ? &e.offsets : nullptr;
}

}  // namespace

// Grouped convolutions run through im2col; the rest as indirect products.
void conv2d(ThreadPool& pool, const Conv2DArgs& a, const float* x, const float* w, float* y) {
  const std::vector<int32_t>* offsets = a.groups == 1 ? cached_offsets(a, false) : nullptr;
  if (!offsets) return ops::im2col_conv2d(PoolProducts(pool), a, x, w, y);
  thread_local std::vector<float> zeros;
  zeros.assign(static_cast<size_t>(a.in_c), 0.0f);
  IGemmArgs g{.m = a.batch * a.out_h * a.out_w,
              .n = a.out_c,
              .taps = a.k_h * a.k_w,
              .k = a.in_c,
              .a = x,
              .a_offsets = offsets->data(),
              .zeros = zeros.data(),
              .b = w,
              .ldb = a.out_c,
              .c = y,
              .ldc = a.out_c};
  parallel_igemm(detect_isa(), g, pool, a.batch * a.in_h * a.in_w * a.in_c);
}

// dx = the transposed convolution of dy: per input pixel and tap, the output-gradient row the
// tap connects, times the kernel with its channel axes swapped ([tap][F][C]).
void conv2d_backward_input(ThreadPool& pool, const Conv2DArgs& a, const float* dy, const float* w, float* dx) {
  const std::vector<int32_t>* offsets = a.groups == 1 ? cached_offsets(a, true) : nullptr;
  if (!offsets) return ops::im2col_conv2d_backward_input(PoolProducts(pool), a, dy, w, dx);
  Dim taps = a.k_h * a.k_w, C = a.in_c, F = a.out_c;
  thread_local std::vector<float> swapped, zeros;
  swapped.resize(static_cast<size_t>(taps * C * F));
  for (Dim t = 0; t < taps; ++t)
    for (Dim c = 0; c < C; ++c)
      for (Dim f = 0; f < F; ++f) swapped[static_cast<size_t>((t * F + f) * C + c)] = w[(t * C + c) * F + f];
  zeros.assign(static_cast<size_t>(F), 0.0f);
  IGemmArgs g{.m = a.batch * a.in_h * a.in_w,
              .n = C,
              .taps = taps,
              .k = F,
              .a = dy,
              .a_offsets = offsets->data(),
              .zeros = zeros.data(),
              .b = swapped.data(),
              .ldb = C,
              .c = dx,
              .ldc = C};
  parallel_igemm(detect_isa(), g, pool, a.batch * a.out_h * a.out_w * F);
}

// dw per (tap, channel block, filter block) task: every task owns its part of dw and sums over
// all pixels itself, so the result does not depend on the thread count.
void conv2d_backward_filter(ThreadPool& pool, const Conv2DArgs& a, const float* x, const float* dy, float* dw) {
  const std::vector<int32_t>* offsets = a.groups == 1 ? cached_offsets(a, false) : nullptr;
  if (!offsets) return ops::im2col_conv2d_backward_filter(PoolProducts(pool), a, x, dy, dw);
  thread_local std::vector<float> zeros;
  zeros.assign(static_cast<size_t>(a.in_c), 0.0f);
  Dim taps = a.k_h * a.k_w;
  WGradArgs g{.taps = taps,
              .channels = a.in_c,
              .filters = a.out_c,
              .pixels = a.batch * a.out_h * a.out_w,
              .x = x,
              .offsets = offsets->data(),
              .zeros = zeros.data(),
              .dy = dy,
              .dw = dw};
  constexpr Dim kChannels = 24, kFilters = 64;
  Dim fb = (a.out_c + kFilters - 1) / kFilters;
  auto isa = detect_isa();
  if (a.in_c < 12) {  // few channels: tiles of (tap, channel) rows
    Dim rows = taps * a.in_c, rb = (rows + kChannels - 1) / kChannels;
    pool.parallel_for(rb * fb, [&](Dim task) {
      Dim r = task / fb, f = task % fb;
      wgrad_rows(isa, g, r * kChannels, std::min(rows, (r + 1) * kChannels), f * kFilters,
                 std::min(a.out_c, (f + 1) * kFilters));
    });
    return;
  }
  Dim cb = (a.in_c + kChannels - 1) / kChannels;
  pool.parallel_for(taps * cb * fb, [&](Dim task) {
    Dim t = task / (cb * fb), c = task / fb % cb, f = task % fb;
    wgrad_block(isa, g, t, c * kChannels, std::min(a.in_c, (c + 1) * kChannels), f * kFilters,
                std::min(a.out_c, (f + 1) * kFilters));
  });
}

namespace {

// Pooling one image per task: images own disjoint parts of the output.
template <class F>
void per_image(ThreadPool& pool, const Pool2DArgs& g, F&& f) {
  Dim in = g.in_h * g.in_w * g.channels, out = g.out_h * g.out_w * g.channels;
  pool.parallel_for(g.batch, [&](Dim n) {
    Pool2DArgs one = g;
    one.batch = 1;
    f(one, n * in, n * out);
  });
}

}  // namespace

void max_pool2d_backward(ThreadPool& pool, const Pool2DArgs& g, const float* x, const float* dy, float* dx) {
  auto isa = detect_isa();
  pool.parallel_for(g.batch, [&](Dim n) { max_pool2d_backward_images(isa, g, x, dy, dx, n, n + 1); });
}

void avg_pool2d_backward(ThreadPool& pool, const Pool2DArgs& g, const float* dy, float* dx) {
  per_image(pool, g,
            [&](const Pool2DArgs& one, Dim xo, Dim yo) { ops::fast_avg_pool2d_backward(one, dy + yo, dx + xo); });
}

void PoolProducts::gemm(bool ta, bool tb, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b,
                        Dim ldb, float beta, float* c, Dim ldc) const {
  cpu::gemm(pool_, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void PoolProducts::conv2d(const Conv2DArgs& g, const float* x, const float* w, float* y) const {
  cpu::conv2d(pool_, g, x, w, y);
}
void PoolProducts::conv2d_backward_input(const Conv2DArgs& g, const float* dy, const float* w, float* dx) const {
  cpu::conv2d_backward_input(pool_, g, dy, w, dx);
}
void PoolProducts::conv2d_backward_filter(const Conv2DArgs& g, const float* x, const float* dy, float* dw) const {
  cpu::conv2d_backward_filter(pool_, g, x, dy, dw);
}

}  // namespace keras::backends::cpu
