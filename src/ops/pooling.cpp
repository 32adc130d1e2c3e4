// Pooling kernels for the fast tables: the same arithmetic as the reference loops, in the
// same order per output value (so results are identical), with the channel loop innermost
// so it runs over contiguous NHWC memory and vectorises.
#include "ops/pooling.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "ops/pool_windows.h"

namespace keras::ops {

void fast_max_pool2d(const Pool2DArgs& g, const float* x, float* y) {
  const Dim C = g.channels;
  for_each_window(g, [&](const Dim* cells, Dim count, Dim yo) {
    float* out = y + yo;
    std::fill(out, out + C, -std::numeric_limits<float>::infinity());
    for (Dim i = 0; i < count; ++i) {
      const float* in = x + cells[i];
      for (Dim c = 0; c < C; ++c) out[c] = std::max(out[c], in[c]);
    }
  });
}

void fast_avg_pool2d(const Pool2DArgs& g, const float* x, float* y) {
  const Dim C = g.channels;
  for_each_window(g, [&](const Dim* cells, Dim count, Dim yo) {
    float* out = y + yo;
    std::fill(out, out + C, 0.0f);
    for (Dim i = 0; i < count; ++i) {
      const float* in = x + cells[i];
      for (Dim c = 0; c < C; ++c) out[c] += in[c];
    }
    float divisor = static_cast<float>(std::max<Dim>(count, 1));
    for (Dim c = 0; c < C; ++c) out[c] /= divisor;
  });
}

void fast_max_pool2d_backward(const Pool2DArgs& g, const float* x, const float* dy, float* dx) {
  const Dim C = g.channels;
  std::fill(dx, dx + g.batch * g.in_h * g.in_w * C, 0.0f);
  std::vector<float> best(static_cast<size_t>(C));
  std::vector<Dim> where(static_cast<size_t>(C));
  for_each_window(g, [&](const Dim* cells, Dim count, Dim yo) {
    if (count == 0) return;
    const float* first = x + cells[0];
    for (Dim c = 0; c < C; ++c) {
      best[static_cast<size_t>(c)] = first[c];
      where[static_cast<size_t>(c)] = cells[0];
    }
    // A strict > keeps the first maximum in window order, as the reference and TensorFlow.
    for (Dim i = 1; i < count; ++i) {
      const float* in = x + cells[i];
      for (Dim c = 0; c < C; ++c)
        if (in[c] > best[static_cast<size_t>(c)]) {
          best[static_cast<size_t>(c)] = in[c];
          where[static_cast<size_t>(c)] = cells[i];
        }
    }
    const float* grad = dy + yo;
    for (Dim c = 0; c < C; ++c) dx[where[static_cast<size_t>(c)] + c] += grad[c];
  });
}

void fast_avg_pool2d_backward(const Pool2DArgs& g, const float* dy, float* dx) {
  const Dim C = g.channels;
  std::fill(dx, dx + g.batch * g.in_h * g.in_w * C, 0.0f);
  std::vector<float> share(static_cast<size_t>(C));
  for_each_window(g, [&](const Dim* cells, Dim count, Dim yo) {
    float divisor = static_cast<float>(std::max<Dim>(count, 1));
    for (Dim c = 0; c < C; ++c) share[static_cast<size_t>(c)] = dy[yo + c] / divisor;
    for (Dim i = 0; i < count; ++i) {
      float* d = dx + cells[i];
      for (Dim c = 0; c < C; ++c) d[c] += share[static_cast<size_t>(c)];
    }
  });
}

}  // namespace keras::ops
