#include "ops/numpy_ops.h"

#include <algorithm>
#include <cmath>

namespace keras::ops {

namespace {

float unary_value(const UnaryOp& a, float v) {
  using K = UnaryOp::Kind;
  switch (a.kind) {
    case K::kExp:
      return std::exp(v);
    case K::kLog:
      return std::log(v);
    case K::kSqrt:
      return std::sqrt(v);
    case K::kSquare:
      return v * v;
    case K::kAbs:
      return std::abs(v);
    case K::kNegative:
      return -v;
    case K::kClip:
      // TensorFlow's clip_by_value is min(max(x, lo), hi), defined even when lo > hi.
      return std::min(std::max(v, static_cast<float>(a.lo)), static_cast<float>(a.hi));
  }
  return v;
}

// dx / dy at one value, from x and y = f(x): TensorFlow's gradient functions.
float unary_slope(const UnaryOp& a, float x, float y) {
  using K = UnaryOp::Kind;
  switch (a.kind) {
    case K::kExp:
      return y;
    case K::kLog:
      return 1.0f / x;
    case K::kSqrt:
      return 0.5f / y;
    case K::kSquare:
      return 2.0f * x;
    case K::kAbs:
      return x > 0 ? 1.0f : x < 0 ? -1.0f : 0.0f;
    case K::kNegative:
      return -1.0f;
    case K::kClip:
      return x < static_cast<float>(a.lo) || x > static_cast<float>(a.hi) ? 0.0f : 1.0f;
  }
  return 1.0f;
}

// Calls f(index of x, index of y) for every value of a C-order slice of `in` into `out`.
template <class F>
void each_slice_index(const StridedSliceOp& a, const Shape& in, const Shape& out, F f) {
  int rank = out.rank();
  Dim total = out.num_elements();
  if (total == 0) return;
  std::vector<Dim> at(static_cast<size_t>(rank), 0), stride(static_cast<size_t>(rank), 1);
  for (int d = rank - 2; d >= 0; --d) stride[size_t(d)] = stride[size_t(d) + 1] * in[d + 1];
  for (Dim o = 0; o < total; ++o) {
    Dim src = 0;
    for (int d = 0; d < rank; ++d) src += (a.begin[size_t(d)] + at[size_t(d)] * a.step[size_t(d)]) * stride[size_t(d)];
    f(src, o);
    for (int d = rank - 1; d >= 0; --d) {
      if (++at[size_t(d)] < out[d]) break;
      at[size_t(d)] = 0;
    }
  }
}

}  // namespace

void unary(const UnaryOp& a, const float* x, float* y) {
  for (Dim i = 0; i < a.size; ++i) y[i] = unary_value(a, x[i]);
}

void unary_grad(const UnaryOp& a, const float* x, const float* y, const float* dy, float* dx) {
  for (Dim i = 0; i < a.size; ++i) dx[i] = dy[i] * unary_slope(a, x[i], y[i]);
}

void reduce(const ReduceOp& a, const float* x, float* y) {
  using K = ReduceOp::Kind;
  for (Dim o = 0; o < a.outer; ++o)
    for (Dim i = 0; i < a.inner; ++i) {
      const float* p = x + o * a.n * a.inner + i;
      float r = a.n ? p[0] : (a.kind == K::kMax ? -INFINITY : a.kind == K::kMin ? INFINITY : 0.0f);
      for (Dim k = 1; k < a.n; ++k) {
        float v = p[k * a.inner];
        r = a.kind == K::kMax ? std::max(r, v) : a.kind == K::kMin ? std::min(r, v) : r + v;
      }
      if (a.kind == K::kMean) r /= static_cast<float>(a.n);
      y[o * a.inner + i] = r;
    }
}

void reduce_grad(const ReduceOp& a, const float* x, const float* y, const float* dy, float* dx) {
  using K = ReduceOp::Kind;
  for (Dim o = 0; o < a.outer; ++o)
    for (Dim i = 0; i < a.inner; ++i) {
      Dim base = o * a.n * a.inner + i;
      float g = dy[o * a.inner + i], r = y[o * a.inner + i];
      if (a.kind == K::kSum || a.kind == K::kMean) {
        if (a.kind == K::kMean) g /= static_cast<float>(a.n);
        for (Dim k = 0; k < a.n; ++k) dx[base + k * a.inner] = g;
        continue;
      }
      Dim ties = 0;
      for (Dim k = 0; k < a.n; ++k) ties += x[base + k * a.inner] == r;
      for (Dim k = 0; k < a.n; ++k)
        dx[base + k * a.inner] = x[base + k * a.inner] == r ? g / static_cast<float>(ties) : 0.0f;
    }
}

void strided_slice(const StridedSliceOp& a, const Shape& in, const Shape& out, const float* x, float* y) {
  each_slice_index(a, in, out, [&](Dim src, Dim o) { y[o] = x[src]; });
}

void strided_slice_grad(const StridedSliceOp& a, const Shape& in, const Shape& out, const float* dy, float* dx) {
  std::fill(dx, dx + in.num_elements(), 0.0f);
  each_slice_index(a, in, out, [&](Dim src, Dim o) { dx[src] += dy[o]; });
}

void moments(const float* x, const Shape& shape, const std::vector<bool>& keep, std::vector<double>& mean,
             std::vector<double>& var) {
  Dim kept = 1;
  for (int d = 0; d < shape.rank(); ++d)
    if (keep[size_t(d)]) kept *= shape[d];
  Dim total = shape.num_elements(), count = kept ? total / kept : 0;
  mean.assign(size_t(kept), 0.0);
  var.assign(size_t(kept), 0.0);
  // The kept position of each flat index, from its multi-index.
  std::vector<Dim> at(static_cast<size_t>(shape.rank()), 0), position(static_cast<size_t>(total));
  for (Dim i = 0; i < total; ++i) {
    Dim p = 0;
    for (int d = 0; d < shape.rank(); ++d)
      if (keep[size_t(d)]) p = p * shape[d] + at[size_t(d)];
    position[size_t(i)] = p;
    for (int d = shape.rank() - 1; d >= 0; --d) {
      if (++at[size_t(d)] < shape[d]) break;
      at[size_t(d)] = 0;
    }
  }
  for (Dim i = 0; i < total; ++i) mean[size_t(position[size_t(i)])] += x[i];
  for (double& m : mean) m /= double(count);
  for (Dim i = 0; i < total; ++i) {
    double c = x[i] - mean[size_t(position[size_t(i)])];
    var[size_t(position[size_t(i)])] += c * c;
  }
  for (double& v : var) v /= double(count);
}

}  // namespace keras::ops
