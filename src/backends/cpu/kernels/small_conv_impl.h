#pragma once
// small_conv over a SIMD traits type S (see igemm_impl.h); internal linkage throughout.
#include <utility>

#include "backends/cpu/kernels/small_conv.h"

namespace keras::backends::cpu::detail {
namespace {

// Not std::min/max: this header is compiled with ISA flags (see igemm_impl.h).
inline Dim sc_min(Dim a, Dim b) { return a < b ? a : b; }
inline Dim sc_max(Dim a, Dim b) { return a > b ? a : b; }

// A strip of NV vectors of filters starting at f0, its R = k_h * k_w * in_c weights held in
// registers as b[r][j].
template <class S, int R, int NV>
struct SmallConvStrip {
  using V = typename S::V;
  const SmallConvArgs& a;
  const ops::Conv2DArgs& g;
  Dim f0;
  int lanes[NV];
  Dim delta[R];  // reduction value r of an inner pixel: its input at origin + delta[r]
  Dim tap_h[R], tap_w[R], channel[R];
  V b[R][NV];
  V bias[NV];

  SmallConvStrip(const SmallConvArgs& args, Dim first) : a(args), g(*args.conv), f0(first) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      Dim left = g.out_c - f0 - j * S::W;
      lanes[j] = left <= 0 ? 0 : left >= S::W ? S::W : static_cast<int>(left);
      bias[j] = a.bias ? S::load_n(a.bias + f0 + j * S::W, lanes[j]) : S::zero();
    }
    for (int r = 0; r < R; ++r) {
      Dim t = r / g.in_c;
      tap_h[r] = t / g.k_w * g.dilation_h;
      tap_w[r] = t % g.k_w * g.dilation_w;
      channel[r] = r % g.in_c;
      delta[r] = (tap_h[r] * g.in_w + tap_w[r]) * g.in_c + channel[r];
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) b[r][j] = S::load_n(a.kernel + r * g.out_c + f0 + j * S::W, lanes[j]);
  }

  // Whether every tap of output pixel (oh, ow) falls inside the input (no padding to check).
  bool inner(Dim oh, Dim ow) const {
    Dim ih = oh * g.stride_h - g.pad_top, iw = ow * g.stride_w - g.pad_left;
    return ih >= 0 && iw >= 0 && ih + (g.k_h - 1) * g.dilation_h < g.in_h && iw + (g.k_w - 1) * g.dilation_w < g.in_w;
  }
  // Reduction value r of output pixel (oh, ow) of image n, zero in the padding.
  float value(Dim n, Dim oh, Dim ow, int r) const {
    Dim ih = oh * g.stride_h - g.pad_top + tap_h[r], iw = ow * g.stride_w - g.pad_left + tap_w[r];
    if (ih < 0 || iw < 0 || ih >= g.in_h || iw >= g.in_w) return 0.0f;
    return a.x[((n * g.in_h + ih) * g.in_w + iw) * g.in_c + channel[r]];
  }

  // Output pixels (oh[i], ow[i]) of image n, bias and relu applied, into out[P][NV]; P
  // independent chains hide the FMA latency.
  template <int P>
  void pixels(Dim n, const Dim (&oh)[P], const Dim (&ow)[P], V (&out)[P][NV]) const {
#pragma GCC unroll 4
    for (int i = 0; i < P; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) out[i][j] = S::zero();
    bool all_inner = true;
    const float* origin[P];
#pragma GCC unroll 4
    for (int i = 0; i < P; ++i) {
      all_inner = all_inner && inner(oh[i], ow[i]);
      origin[i] =
          a.x + ((n * g.in_h + oh[i] * g.stride_h - g.pad_top) * g.in_w + ow[i] * g.stride_w - g.pad_left) * g.in_c;
    }
    if (all_inner) {
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int i = 0; i < P; ++i) {
          V v = S::broadcast(origin[i] + delta[r]);
#pragma GCC unroll 4
          for (int j = 0; j < NV; ++j) out[i][j] = S::fma(v, b[r][j], out[i][j]);
        }
    } else {
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int i = 0; i < P; ++i) {
          float x = value(n, oh[i], ow[i], r);
          V v = S::broadcast(&x);
#pragma GCC unroll 4
          for (int j = 0; j < NV; ++j) out[i][j] = S::fma(v, b[r][j], out[i][j]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < P; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) {
        if (a.bias) out[i][j] = S::add(out[i][j], bias[j]);
        if (a.relu) out[i][j] = S::max(out[i][j], S::zero());
      }
  }

  void store(float* y, const V (&v)[NV]) const {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j)
      if (lanes[j] == S::W)
        S::store(y + f0 + j * S::W, v[j]);
      else if (lanes[j] > 0)
        S::store_n(y + f0 + j * S::W, v[j], lanes[j]);
  }

  // Convolution rows [r0, r1) of image n, four pixels at a time.
  void conv_rows(Dim n, Dim r0, Dim r1) const {
    for (Dim oh = r0; oh < r1; ++oh) {
      float* y = a.y + (n * g.out_h + oh) * g.out_w * g.out_c;
      Dim ow = 0;
      for (; ow + 4 <= g.out_w; ow += 4) {
        const Dim hs[4] = {oh, oh, oh, oh}, ws[4] = {ow, ow + 1, ow + 2, ow + 3};
        V out[4][NV];
        pixels<4>(n, hs, ws, out);
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) store(y + (ow + i) * g.out_c, out[i]);
      }
      for (; ow < g.out_w; ++ow) {
        const Dim hs[1] = {oh}, ws[1] = {ow};
        V out[1][NV];
        pixels<1>(n, hs, ws, out);
        store(y + ow * g.out_c, out[0]);
      }
    }
  }

  // Pooled rows [r0, r1) of image n: each window's convolution pixels in row-major order, four
  // at a time where the window allows, folded into the pool.
  void pooled_rows(Dim n, Dim r0, Dim r1) const {
    const ops::Pool2DArgs& p = *a.pool;
    for (Dim ph = r0; ph < r1; ++ph) {
      Dim h0 = sc_max(0, ph * p.stride_h - p.pad_top), h1 = sc_min(p.in_h, ph * p.stride_h - p.pad_top + p.pool_h);
      for (Dim pw = 0; pw < p.out_w; ++pw) {
        Dim w0 = sc_max(0, pw * p.stride_w - p.pad_left), w1 = sc_min(p.in_w, pw * p.stride_w - p.pad_left + p.pool_w);
        V acc[NV];
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) acc[j] = a.max ? S::set1(-__builtin_inff()) : S::zero();
        auto fold = [&](const V(&v)[NV]) {
#pragma GCC unroll 4
          for (int j = 0; j < NV; ++j) acc[j] = a.max ? S::max(acc[j], v[j]) : S::add(acc[j], v[j]);
        };
        if (h1 - h0 == 2 && w1 - w0 == 2) {  // the common 2x2 window, as one group of four
          const Dim hs[4] = {h0, h0, h0 + 1, h0 + 1}, ws[4] = {w0, w0 + 1, w0, w0 + 1};
          V out[4][NV];
          pixels<4>(n, hs, ws, out);
#pragma GCC unroll 4
          for (int i = 0; i < 4; ++i) fold(out[i]);
        } else {
          for (Dim ih = h0; ih < h1; ++ih)
            for (Dim iw = w0; iw < w1; ++iw) {
              const Dim hs[1] = {ih}, ws[1] = {iw};
              V out[1][NV];
              pixels<1>(n, hs, ws, out);
              fold(out[0]);
            }
        }
        if (!a.max) {
          const V divisor = S::set1(static_cast<float>(sc_max((h1 - h0) * (w1 - w0), 1)));
#pragma GCC unroll 4
          for (int j = 0; j < NV; ++j) acc[j] = S::div(acc[j], divisor);
        }
        store(a.y + ((n * p.out_h + ph) * p.out_w + pw) * g.out_c, acc);
      }
    }
  }
};

template <class S, int R, int NV>
void small_conv_strips(const SmallConvArgs& a, Dim n, Dim r0, Dim r1) {
  for (Dim f0 = 0; f0 < a.conv->out_c; f0 += NV * S::W) {
    SmallConvStrip<S, R, NV> strip(a, f0);
    if (a.pool)
      strip.pooled_rows(n, r0, r1);
    else
      strip.conv_rows(n, r0, r1);
  }
}

// One instantiation per reduction size, so the weights' registers are named at compile time.
template <class S, int NV>
void small_conv_impl(const SmallConvArgs& a, Dim n, Dim r0, Dim r1) {
  Dim reduction = a.conv->k_h * a.conv->k_w * a.conv->in_c;
  [&]<int... R>(std::integer_sequence<int, R...>) {
    ((reduction == R + 1 ? small_conv_strips<S, R + 1, NV>(a, n, r0, r1) : void()), ...);
  }
  (std::make_integer_sequence<int, kSmallConvReduction>{});
}

}  // namespace
}  // namespace keras::backends::cpu::detail
