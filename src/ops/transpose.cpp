#include "ops/transpose.h"

#include <string>

#include "keras/errors.h"

namespace keras::ops {

namespace {

void check_rank(int rank) {
  if (rank < 3)
    throw ValueError(
        "A channels_first/channels_last transpose needs a tensor of rank >= 3 (batch, channels and at "
        "least one spatial axis); received rank " +
        std::to_string(rank));
}

// Both moves are the same 3-D transpose of a (N, A, B) view: (N, A, B) -> (N, B, A), with
// A = C, B = spatial size for channels_first -> last, and the reverse for last -> first.
void swap_inner(const float* x, float* y, Dim n, Dim a, Dim b) {
  for (Dim i = 0; i < n; ++i) {
    const float* xi = x + i * a * b;
    float* yi = y + i * a * b;
    for (Dim p = 0; p < a; ++p)
      for (Dim q = 0; q < b; ++q) yi[q * a + p] = xi[p * b + q];
  }
}

}  // namespace

Shape to_channels_last(const Shape& s) {
  check_rank(s.rank());
  std::vector<Dim> d(s.begin(), s.end());
  Dim c = d[1];
  d.erase(d.begin() + 1);
  d.push_back(c);
  return Shape(std::move(d));
}

Shape to_channels_first(const Shape& s) {
  check_rank(s.rank());
  std::vector<Dim> d(s.begin(), s.end());
  Dim c = d.back();
  d.pop_back();
  d.insert(d.begin() + 1, c);
  return Shape(std::move(d));
}

Tensor to_channels_last(const Tensor& x) {
  Tensor y(to_channels_last(x.shape()));
  Dim n = x.dim(0), c = x.dim(1);
  Dim spatial = n * c == 0 ? 0 : x.size() / (n * c);
  swap_inner(x.data(), y.data(), n, c, spatial);
  return y;
}

Tensor to_channels_first(const Tensor& x) {
  Tensor y(to_channels_first(x.shape()));
  Dim n = x.dim(0), c = x.dim(-1);
  Dim spatial = n * c == 0 ? 0 : x.size() / (n * c);
  swap_inner(x.data(), y.data(), n, spatial, c);
  return y;
}

}  // namespace keras::ops
