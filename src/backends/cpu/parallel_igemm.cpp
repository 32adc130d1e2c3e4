#include "backends/cpu/parallel_igemm.h"

#include <algorithm>
#include <limits>

namespace keras::backends::cpu {

// One igemm over the runtime's threads. Tasks are (column panel, row chunk) pairs, shaped so
// that the larger operand is read once: a large B (weights) is split by columns and each task
// takes every row; a large A (many pixels) is split by rows. The split depends only on the
// shapes and the thread count, never on which thread runs a task, and no task shares an
// output with another, so results do not depend on the thread count at all.
void parallel_igemm(Isa isa, const IGemmArgs& g, ThreadPool& pool, Dim a_values) {
  Dim threads = pool.threads();
  Dim flops_per_row = 2 * g.taps * g.k * g.n;
  if (threads == 1 || flops_per_row * g.m < 2 * kMinFlopsPerTask) return igemm_block(isa, g, 0, g.m, 0, g.n);
  Dim want = 4 * threads;
  Dim b_values = g.taps * g.k * g.n;
  Dim panel, rows;
  if (b_values >= a_values) {
    Dim align = std::max<Dim>(16, g.packed);  // packed strips must not be split
    panel = std::max<Dim>(32, ceil_div(ceil_div(g.n, want), align) * align);
    rows = g.m;
    Dim panels = ceil_div(g.n, panel);
    // Row chunks of one panel each read the panel's B again: when B is too large to stay in
    // cache that is a second trip to memory, so split rows only to give every thread a task.
    Dim enough = b_values > (Dim{1} << 18) ? threads : want;
    if (panels < enough) rows = ceil_div(ceil_div(g.m, ceil_div(enough, panels)), 12) * 12;
  } else {
    panel = std::min<Dim>(ceil_div(g.n, 16) * 16, 128);
    Dim chunks = ceil_div(want, ceil_div(g.n, panel));
    rows = ceil_div(ceil_div(g.m, chunks), 12) * 12;
  }
  rows = std::max(rows, ceil_div(kMinFlopsPerTask, flops_per_row * panel / std::max<Dim>(g.n, 1) + 1));
  Dim row_chunks = ceil_div(g.m, rows), panels = ceil_div(g.n, panel);
  pool.parallel_for(panels * row_chunks, [&](Dim t) {
    Dim p = t / row_chunks, r = t % row_chunks;
    Dim m0 = r * rows, m1 = std::min(g.m, m0 + rows);
    Dim n0 = p * panel, n1 = std::min(g.n, n0 + panel);
    igemm_block(isa, g, m0, m1, n0, n1);
  });
}

bool conv_offsets(const ops::Conv2DArgs& g, std::vector<int32_t>& out) {
  if (g.batch * g.in_h * g.in_w * g.in_c > std::numeric_limits<int32_t>::max()) return false;
  out.resize(static_cast<size_t>(g.batch * g.out_h * g.out_w * g.k_h * g.k_w));
  int32_t* o = out.data();
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
  return true;
}

bool conv_transpose_offsets(const ops::Conv2DArgs& g, std::vector<int32_t>& out) {
  if (g.batch * g.out_h * g.out_w * g.out_c > std::numeric_limits<int32_t>::max()) return false;
  out.resize(static_cast<size_t>(g.batch * g.in_h * g.in_w * g.k_h * g.k_w));
  int32_t* o = out.data();
  for (Dim n = 0; n < g.batch; ++n)
    for (Dim ih = 0; ih < g.in_h; ++ih)
      for (Dim iw = 0; iw < g.in_w; ++iw)
        for (Dim p = 0; p < g.k_h; ++p)
          for (Dim q = 0; q < g.k_w; ++q) {
            // ih = oh * stride + p * dilation - pad, solved for oh.
            Dim sh = ih + g.pad_top - p * g.dilation_h, sw = iw + g.pad_left - q * g.dilation_w;
            bool hit = sh >= 0 && sw >= 0 && sh % g.stride_h == 0 && sw % g.stride_w == 0 &&
                       sh / g.stride_h < g.out_h && sw / g.stride_w < g.out_w;
            *o++ = hit ? static_cast<int32_t>(((n * g.out_h + sh / g.stride_h) * g.out_w + sw / g.stride_w) * g.out_c)
                       : -1;
          }
  return true;
}

Dim reduction_slice(Dim k) {
  if (k <= 512) return k;
  for (Dim s = 512; s >= 64; --s)
    if (k % s == 0) return s;
  return k;
}

}  // namespace keras::backends::cpu
