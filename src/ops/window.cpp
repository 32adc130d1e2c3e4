#include "ops/window.h"

#include <algorithm>

namespace keras::ops {

namespace {

// Axis `a` onwards of one block: the source rows that land in dst copied, the rest zeroed.
void copy_axis(const float* src, const Shape& ss, const std::vector<Dim>& src_strides, float* dst, const Shape& ds,
               const std::vector<Dim>& dst_strides, const std::vector<Dim>& offset, int a) {
  auto i = static_cast<size_t>(a);
  Dim lo = std::clamp<Dim>(offset[i], 0, ds[a]), hi = std::clamp<Dim>(ss[a] + offset[i], lo, ds[a]);
  Dim row = dst_strides[i];
  std::fill(dst, dst + lo * row, 0.0f);
  std::fill(dst + hi * row, dst + ds[a] * row, 0.0f);
  if (a == ds.rank() - 1) {
    std::copy(src + (lo - offset[i]), src + (hi - offset[i]), dst + lo);
    return;
  }
  for (Dim d = lo; d < hi; ++d)
    copy_axis(src + (d - offset[i]) * src_strides[i], ss, src_strides, dst + d * row, ds, dst_strides, offset, a + 1);
}

std::vector<Dim> strides_of(const Shape& s) {
  std::vector<Dim> st(static_cast<size_t>(s.rank()), 1);
  for (int a = s.rank() - 2; a >= 0; --a) st[static_cast<size_t>(a)] = st[static_cast<size_t>(a) + 1] * s[a + 1];
  return st;
}

}  // namespace

void shifted_window(const float* src, const Shape& src_shape, float* dst, const Shape& dst_shape,
                    const std::vector<Dim>& offset) {
  if (dst_shape.num_elements() == 0) return;
  if (dst_shape.rank() == 0) {
    dst[0] = src[0];
    return;
  }
  copy_axis(src, src_shape, strides_of(src_shape), dst, dst_shape, strides_of(dst_shape), offset, 0);
}

}  // namespace keras::ops
