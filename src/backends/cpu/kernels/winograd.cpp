// Winograd, pooling and depthwise dispatch, and their portable versions (one channel at a time).
#include <algorithm>

#include "backends/cpu/kernels/depthwise_impl.h"
#include "backends/cpu/kernels/pooling_impl.h"
#include "backends/cpu/kernels/winograd_impl.h"

namespace keras::backends::cpu {

namespace detail {
namespace {

struct Scalar {
  using V = float;
  static constexpr int W = 1;
  static V zero() { return 0.0f; }
  static V load(const float* p) { return *p; }
  static V load_n(const float* p, int) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static void store_n(float* p, V v, int) { *p = v; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V max(V a, V b) { return std::max(a, b); }
  static V div(V a, V b) { return a / b; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V select_gt(V a, V b, V x, V y) { return a > b ? x : y; }
  static V select_eq(V a, V b, V x, V y) { return a == b ? x : y; }
  static V set1(float v) { return v; }
};

}  // namespace

KERAS_WINOGRAD_DEFINE(generic, Scalar)
KERAS_POOLING_DEFINE(generic, Scalar)
KERAS_DEPTHWISE_DEFINE(generic, Scalar)

}  // namespace detail

#if defined(KERAS_HAVE_X86_KERNELS)
#define KERAS_WINOGRAD_DISPATCH(fn, ...)                            \
  if (isa == Isa::kAvx512) return detail::fn##_avx512(__VA_ARGS__); \
  if (isa == Isa::kAvx2) return detail::fn##_avx2(__VA_ARGS__);     \
  return detail::fn##_generic(__VA_ARGS__);
#else
#define KERAS_WINOGRAD_DISPATCH(fn, ...) \
  (void)isa;                             \
  return detail::fn##_generic(__VA_ARGS__);
#endif

void winograd_weights(Isa isa, const WinogradShape& s, const float* kernel, float* u, const WinogradWeights& r) {
  KERAS_WINOGRAD_DISPATCH(winograd_weights, s, kernel, u, r)
}

void winograd_input(Isa isa, const WinogradShape& s, const float* x, Dim t0, Dim count, float* v, Dim stride) {
  KERAS_WINOGRAD_DISPATCH(winograd_input, s, x, t0, count, v, stride)
}

void winograd_output(Isa isa, const WinogradShape& s, const WinogradOutput& o, Dim t0, Dim count, const float* bias,
                     bool relu, float* y) {
  KERAS_WINOGRAD_DISPATCH(winograd_output, s, o, t0, count, bias, relu, y)
}

void pool2d_rows(Isa isa, const ops::Pool2DArgs& g, bool max, const float* x, float* y, Dim r0, Dim r1) {
  KERAS_WINOGRAD_DISPATCH(pool2d_rows, g, max, x, y, r0, r1)
}

void depthwise_conv2d_rows(Isa isa, const ops::Conv2DArgs& g, const float* x, const float* w, const float* bias,
                           bool relu, float* y, Dim r0, Dim r1) {
  KERAS_WINOGRAD_DISPATCH(depthwise_conv2d_rows, g, x, w, bias, relu, y, r0, r1)
}

void max_pool2d_backward_images(Isa isa, const ops::Pool2DArgs& g, const float* x, const float* dy, float* dx, Dim n0,
                                Dim n1) {
  KERAS_WINOGRAD_DISPATCH(max_pool2d_backward_images, g, x, dy, dx, n0, n1)
}

#undef KERAS_WINOGRAD_DISPATCH

}  // namespace keras::backends::cpu
