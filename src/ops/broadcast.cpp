#include "ops/broadcast.h"

#include <algorithm>
#include <vector>

namespace keras::ops {

namespace {

// Calls f(big_flat, small_flat) for every element of `big`, where `small` (same rank)
// broadcasts to it: an odometer over big's indices with small's strides 0 along its size-1 axes.
template <class F>
void for_each_broadcast(const Shape& small, const Shape& big, F f) {
  int r = big.rank();
  std::vector<Dim> st(static_cast<size_t>(r)), index(static_cast<size_t>(r), 0);
  for (Dim d = r - 1, k = 1; d >= 0; --d) {
    st[static_cast<size_t>(d)] = small[static_cast<int>(d)] == 1 ? 0 : k;
    k *= small[static_cast<int>(d)];
  }
  Dim it = 0, n = big.num_elements();
  for (Dim flat = 0; flat < n; ++flat) {
    f(flat, it);
    for (int d = r - 1; d >= 0; --d) {
      auto u = static_cast<size_t>(d);
      it += st[u];
      if (++index[u] < big[d]) break;
      it -= st[u] * index[u];
      index[u] = 0;
    }
  }
}

}  // namespace

void broadcast_to(const float* x, const Shape& x_shape, float* y, const Shape& y_shape) {
  for_each_broadcast(x_shape, y_shape, [&](Dim o, Dim i) { y[o] = x[i]; });
}

void reduce_to(const float* dy, const Shape& dy_shape, float* dx, const Shape& x_shape) {
  std::fill(dx, dx + x_shape.num_elements(), 0.0f);
  for_each_broadcast(x_shape, dy_shape, [&](Dim o, Dim i) { dx[i] += dy[o]; });
}

}  // namespace keras::ops
