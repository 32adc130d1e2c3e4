#include "ops/broadcast.h"

#include <algorithm>
#include <vector>

namespace keras::ops {

namespace {

// Calls f(big_flat, small_flat) for every element of `big`, where `small` (same rank)
// broadcasts to it: an odometer over big's indices with small's strides 0 along its size-1 axes.
template <class F>
void for_each_broadcast(const Shape& small, const Shape& big, F f) {
  // Inference runs allocate nothing: the odometer lives on the stack up to rank 8.
  int r = big.rank();
  constexpr size_t kSmall = 8;
  Dim st_small[kSmall], index_small[kSmall] = {};
  std::vector<Dim> st_heap, index_heap;
  Dim *st = st_small, *index = index_small;
  if (static_cast<size_t>(r) > kSmall) {
    st_heap.resize(static_cast<size_t>(r));
    index_heap.assign(static_cast<size_t>(r), 0);
    st = st_heap.data();
    index = index_heap.data();
  }
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
