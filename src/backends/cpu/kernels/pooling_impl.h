#pragma once
// Pooling over a SIMD traits type S (see igemm_impl.h); internal linkage throughout.
#include "backends/cpu/kernels/pooling.h"

namespace keras::backends::cpu::detail {
namespace {

inline Dim pmax(Dim a, Dim b) { return a > b ? a : b; }
inline Dim pmin(Dim a, Dim b) { return a < b ? a : b; }

// One output pixel's channels [c, c + lanes) over its window; full vectors load plainly.
template <class S, bool kMax, bool kFull>
inline void pool_pixel(const float* x, Dim row_stride, Dim C, Dim h0, Dim h1, Dim w0, Dim w1, Dim c, int lanes,
                       typename S::V divisor, float* o) {
  using V = typename S::V;
  V acc = kMax ? S::set1(-__builtin_inff()) : S::zero();
  for (Dim ih = h0; ih < h1; ++ih)
    for (Dim iw = w0; iw < w1; ++iw) {
      const float* p = x + ih * row_stride + iw * C + c;
      V v = kFull ? S::load(p) : S::load_n(p, lanes);
      acc = kMax ? S::max(acc, v) : S::add(acc, v);
    }
  if (!kMax) acc = S::div(acc, divisor);
  if (kFull)
    S::store(o + c, acc);
  else
    S::store_n(o + c, acc, lanes);
}

template <class S, bool kMax>
void pool_rows_mode(const ops::Pool2DArgs& g, const float* x, float* y, Dim r0, Dim r1) {
  const Dim C = g.channels, full = C / S::W * S::W, row_stride = g.in_w * C;
  for (Dim row = r0; row < r1; ++row) {
    Dim n = row / g.out_h, oh = row % g.out_h;
    Dim h0 = pmax(0, oh * g.stride_h - g.pad_top), h1 = pmin(g.in_h, oh * g.stride_h - g.pad_top + g.pool_h);
    const float* image = x + n * g.in_h * row_stride;
    for (Dim ow = 0; ow < g.out_w; ++ow) {
      Dim w0 = pmax(0, ow * g.stride_w - g.pad_left), w1 = pmin(g.in_w, ow * g.stride_w - g.pad_left + g.pool_w);
      float* o = y + (row * g.out_w + ow) * C;
      const typename S::V divisor = S::set1(static_cast<float>(pmax((h1 - h0) * (w1 - w0), 1)));
      for (Dim c = 0; c < full; c += S::W)
        pool_pixel<S, kMax, true>(image, row_stride, C, h0, h1, w0, w1, c, S::W, divisor, o);
      if (full < C)
        pool_pixel<S, kMax, false>(image, row_stride, C, h0, h1, w0, w1, full, static_cast<int>(C - full), divisor, o);
    }
  }
}

template <class S>
void pool_rows_impl(const ops::Pool2DArgs& g, bool max, const float* x, float* y, Dim r0, Dim r1) {
  if (max)
    pool_rows_mode<S, true>(g, x, y, r0, r1);
  else
    pool_rows_mode<S, false>(g, x, y, r0, r1);
}

// Per window and channel vector: the window position of the first maximum (as a float, exact
// for any window), then each cell adds the gradient where it is that position.
template <class S>
void max_pool_backward_impl(const ops::Pool2DArgs& g, const float* x, const float* dy, float* dx, Dim n0, Dim n1) {
  using V = typename S::V;
  const Dim C = g.channels, image = g.in_h * g.in_w * C;
  for (Dim i = n0 * image; i < n1 * image; ++i) dx[i] = 0.0f;
  for (Dim n = n0; n < n1; ++n)
    for (Dim oh = 0; oh < g.out_h; ++oh) {
      Dim h0 = pmax(0, oh * g.stride_h - g.pad_top), h1 = pmin(g.in_h, oh * g.stride_h - g.pad_top + g.pool_h);
      for (Dim ow = 0; ow < g.out_w; ++ow) {
        Dim w0 = pmax(0, ow * g.stride_w - g.pad_left), w1 = pmin(g.in_w, ow * g.stride_w - g.pad_left + g.pool_w);
        if (h0 >= h1 || w0 >= w1) continue;
        const float* grad = dy + ((n * g.out_h + oh) * g.out_w + ow) * C;
        auto cell = [&](Dim ih, Dim iw) { return ((n * g.in_h + ih) * g.in_w + iw) * C; };
        for (Dim c = 0; c < C; c += S::W) {
          int w = C - c >= S::W ? S::W : static_cast<int>(C - c);
          V best = S::load_n(x + cell(h0, w0) + c, w), where = S::zero();
          float k = 0.0f;
          for (Dim ih = h0; ih < h1; ++ih)
            for (Dim iw = w0; iw < w1; ++iw, k += 1.0f) {
              if (k == 0.0f) continue;
              V v = S::load_n(x + cell(ih, iw) + c, w);
              where = S::select_gt(v, best, S::set1(k), where);
              best = S::select_gt(v, best, v, best);
            }
          V gv = S::load_n(grad + c, w);
          k = 0.0f;
          for (Dim ih = h0; ih < h1; ++ih)
            for (Dim iw = w0; iw < w1; ++iw, k += 1.0f) {
              float* d = dx + cell(ih, iw) + c;
              S::store_n(d, S::add(S::load_n(d, w), S::select_eq(where, S::set1(k), gv, S::zero())), w);
            }
        }
      }
    }
}

}  // namespace
}  // namespace keras::backends::cpu::detail

#define KERAS_POOLING_DEFINE(suffix, S)                                                                          \
  void pool2d_rows_##suffix(const ops::Pool2DArgs& g, bool max, const float* x, float* y, Dim r0, Dim r1) {      \
    pool_rows_impl<S>(g, max, x, y, r0, r1);                                                                     \
  }                                                                                                              \
  void max_pool2d_backward_images_##suffix(const ops::Pool2DArgs& g, const float* x, const float* dy, float* dx, \
                                           Dim n0, Dim n1) {                                                     \
    max_pool_backward_impl<S>(g, x, dy, dx, n0, n1);                                                             \
  }
