#include "backends/cpu/parallel_igemm.h"

#include <algorithm>

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
  pool.parallel_for(panels * row_chunks, [&](Dim t) {
    Dim p = t / row_chunks, r = t % row_chunks;
    Dim m0 = r * rows, m1 = std::min(g.m, m0 + rows);
    Dim n0 = p * panel, n1 = std::min(g.n, n0 + panel);
    igemm_block(isa, g, m0, m1, n0, n1);
  });
}

Dim reduction_slice(Dim k) {
  if (k <= 512) return k;
  for (Dim s = 512; s >= 64; --s)
    if (k % s == 0) return s;
  return k;
}

}  // namespace keras::backends::cpu
