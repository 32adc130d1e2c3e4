#pragma once
// The depthwise convolution over a SIMD traits type S (see igemm_impl.h); internal linkage.
#include "backends/cpu/kernels/depthwise.h"

namespace keras::backends::cpu::detail {
namespace {

// Channels [c, c + lanes) of one output pixel: the taps inside the image, in window order.
template <class S, bool kFull>
inline void depthwise_pixel(const ops::Conv2DArgs& g, const float* image, const float* w, const float* bias, bool relu,
                            Dim oh, Dim ow, Dim c, int lanes, float* o) {
  using V = typename S::V;
  const Dim C = g.in_c;
  V acc = bias ? (kFull ? S::load(bias + c) : S::load_n(bias + c, lanes)) : S::zero();
  for (Dim p = 0; p < g.k_h; ++p) {
    Dim ih = oh * g.stride_h + p * g.dilation_h - g.pad_top;
    if (ih < 0 || ih >= g.in_h) continue;
    for (Dim q = 0; q < g.k_w; ++q) {
      Dim iw = ow * g.stride_w + q * g.dilation_w - g.pad_left;
      if (iw < 0 || iw >= g.in_w) continue;
      const float* xp = image + (ih * g.in_w + iw) * C + c;
      const float* wp = w + (p * g.k_w + q) * C + c;
      V xv = kFull ? S::load(xp) : S::load_n(xp, lanes), wv = kFull ? S::load(wp) : S::load_n(wp, lanes);
      acc = S::fma(xv, wv, acc);
    }
  }
  if (relu) acc = S::max(acc, S::zero());
  if (kFull)
    S::store(o + c, acc);
  else
    S::store_n(o + c, acc, lanes);
}

template <class S>
void depthwise_rows_impl(const ops::Conv2DArgs& g, const float* x, const float* w, const float* bias, bool relu,
                         float* y, Dim r0, Dim r1) {
  const Dim C = g.in_c, full = C / S::W * S::W;
  for (Dim row = r0; row < r1; ++row) {
    Dim n = row / g.out_h, oh = row % g.out_h;
    const float* image = x + n * g.in_h * g.in_w * C;
    for (Dim ow = 0; ow < g.out_w; ++ow) {
      float* o = y + (row * g.out_w + ow) * C;
      for (Dim c = 0; c < full; c += S::W) depthwise_pixel<S, true>(g, image, w, bias, relu, oh, ow, c, S::W, o);
      if (full < C) depthwise_pixel<S, false>(g, image, w, bias, relu, oh, ow, full, static_cast<int>(C - full), o);
    }
  }
}

}  // namespace
}  // namespace keras::backends::cpu::detail

#define KERAS_DEPTHWISE_DEFINE(suffix, S)                                                                          \
  void depthwise_conv2d_rows_##suffix(const ops::Conv2DArgs& g, const float* x, const float* w, const float* bias, \
                                      bool relu, float* y, Dim r0, Dim r1) {                                       \
    depthwise_rows_impl<S>(g, x, w, bias, relu, y, r0, r1);                                                        \
  }
