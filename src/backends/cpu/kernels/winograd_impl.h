#pragma once
// The Winograd transforms over a SIMD traits type S (see igemm_impl.h), vectorised over
// channels. Included by each instruction set's file, so everything here has internal linkage.
#include "backends/cpu/kernels/winograd.h"

namespace keras::backends::cpu::detail {
namespace {

inline int wlanes(Dim n, Dim j, int w) {
  Dim left = n - j;
  return left >= w ? w : static_cast<int>(left);
}

template <class S>
void weights_impl(const WinogradShape& s, const float* kernel, float* u, const WinogradWeights& range) {
  using V = typename S::V;
  const Dim C = s.in_c, F = s.out_c, ldu = range.ldu;
  const V half = S::set1(0.5f);
  for (Dim c = range.c0; c < range.c1; ++c)
    for (Dim f = range.f0; f < range.f1; f += S::W) {
      int n = wlanes(range.f1, f, S::W);
      V g[3][3];
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) g[i][j] = S::load_n(kernel + ((i * 3 + j) * C + c) * F + f, n);
      // t = G g (4 x 3), then U = t G^T (4 x 4).
      V t[4][3];
      for (int j = 0; j < 3; ++j) {
        t[0][j] = g[0][j];
        t[1][j] = S::mul(half, S::add(S::add(g[0][j], g[1][j]), g[2][j]));
        t[2][j] = S::mul(half, S::add(S::sub(g[0][j], g[1][j]), g[2][j]));
        t[3][j] = g[2][j];
      }
      for (int i = 0; i < 4; ++i) {
        V r[4] = {t[i][0], S::mul(half, S::add(S::add(t[i][0], t[i][1]), t[i][2])),
                  S::mul(half, S::add(S::sub(t[i][0], t[i][1]), t[i][2])), t[i][2]};
        for (int j = 0; j < 4; ++j) {
          Dim col = f - range.f0, freq = i * 4 + j;
          float* at = range.packed ? u + freq * C * ldu + (col / range.packed) * C * range.packed + c * range.packed +
                                         col % range.packed
                                   : u + (freq * C + c) * ldu + col;
          S::store_n(at, r[j], n);
        }
      }
    }
}

template <class S>
void input_impl(const WinogradShape& s, const float* x, Dim t0, Dim count, float* v, Dim stride) {
  using V = typename S::V;
  const Dim C = s.in_c, th = s.tiles_h(), tw = s.tiles_w();
  for (Dim t = 0; t < count; ++t) {
    Dim tile = t0 + t, n = tile / (th * tw), r = tile % (th * tw);
    Dim ih0 = (r / tw) * 2 - s.pad_top, iw0 = (r % tw) * 2 - s.pad_left;
    const float* rows[4][4];
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        Dim ih = ih0 + i, iw = iw0 + j;
        bool inside = ih >= 0 && ih < s.in_h && iw >= 0 && iw < s.in_w;
        rows[i][j] = inside ? x + ((n * s.in_h + ih) * s.in_w + iw) * C : nullptr;
      }
    for (Dim c = 0; c < C; c += S::W) {
      int w = wlanes(C, c, S::W);
      V d[4][4];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) d[i][j] = rows[i][j] ? S::load_n(rows[i][j] + c, w) : S::zero();
      // B^T d: rows (d0 - d2, d1 + d2, d2 - d1, d1 - d3); then the same on columns.
      V b[4][4];
      for (int j = 0; j < 4; ++j) {
        b[0][j] = S::sub(d[0][j], d[2][j]);
        b[1][j] = S::add(d[1][j], d[2][j]);
        b[2][j] = S::sub(d[2][j], d[1][j]);
        b[3][j] = S::sub(d[1][j], d[3][j]);
      }
      for (int i = 0; i < 4; ++i) {
        V r[4] = {S::sub(b[i][0], b[i][2]), S::add(b[i][1], b[i][2]), S::sub(b[i][2], b[i][1]),
                  S::sub(b[i][1], b[i][3])};
        for (int j = 0; j < 4; ++j) S::store_n(v + ((i * 4 + j) * stride + t) * C + c, r[j], w);
      }
    }
  }
}

template <class S>
void output_impl(const WinogradShape& s, const WinogradOutput& o, Dim t0, Dim count, const float* bias, bool relu,
                 float* y) {
  using V = typename S::V;
  const Dim F = o.f1 - o.f0, th = s.tiles_h(), tw = s.tiles_w();
  const float* m = o.m;
  const Dim stride = o.stride;
  for (Dim t = 0; t < count; ++t) {
    Dim tile = t0 + t, n = tile / (th * tw), r = tile % (th * tw);
    Dim oh0 = (r / tw) * 2, ow0 = (r % tw) * 2;
    for (Dim f = 0; f < F; f += S::W) {
      int w = wlanes(F, f, S::W);
      V q[4][4];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) q[i][j] = S::load_n(m + ((i * 4 + j) * stride + t) * o.ldm + f, w);
      // A^T q: rows (q0 + q1 + q2, q1 - q2 - q3); then the same on columns.
      V a[2][4];
      for (int j = 0; j < 4; ++j) {
        a[0][j] = S::add(S::add(q[0][j], q[1][j]), q[2][j]);
        a[1][j] = S::sub(S::sub(q[1][j], q[2][j]), q[3][j]);
      }
      V b = bias ? S::load_n(bias + o.f0 + f, w) : S::zero();
      V v[2][2];
      for (int i = 0; i < 2; ++i) {
        V out[2] = {S::add(S::add(a[i][0], a[i][1]), a[i][2]), S::sub(S::sub(a[i][1], a[i][2]), a[i][3])};
        for (int j = 0; j < 2; ++j) {
          v[i][j] = S::add(out[j], b);
          if (relu) v[i][j] = S::max(v[i][j], S::zero());
        }
      }
      if (o.pool != WinogradOutput::Pool::kNone) {
        Dim py = oh0 / 2, px = ow0 / 2;
        if (py >= o.pooled_h || px >= o.pooled_w) continue;
        bool max = o.pool == WinogradOutput::Pool::kMax;
        V acc = max ? S::set1(-__builtin_inff()) : S::zero();
        int cells = 0;
        for (int i = 0; i < 2; ++i)
          for (int j = 0; j < 2; ++j) {
            if (oh0 + i >= s.out_h || ow0 + j >= s.out_w) continue;
            acc = max ? S::max(acc, v[i][j]) : S::add(acc, v[i][j]);
            ++cells;
          }
        if (!max) acc = S::div(acc, S::set1(static_cast<float>(cells)));
        S::store_n(y + ((n * o.pooled_h + py) * o.pooled_w + px) * s.out_c + o.f0 + f, acc, w);
        continue;
      }
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) {
          Dim oh = oh0 + i, ow = ow0 + j;
          if (oh >= s.out_h || ow >= s.out_w) continue;
          S::store_n(y + ((n * s.out_h + oh) * s.out_w + ow) * s.out_c + o.f0 + f, v[i][j], w);
        }
    }
  }
}

}  // namespace
}  // namespace keras::backends::cpu::detail

#define KERAS_WINOGRAD_DEFINE(suffix, S)                                                                               \
  void winograd_weights_##suffix(const WinogradShape& s, const float* kernel, float* u, const WinogradWeights& r) {    \
    weights_impl<S>(s, kernel, u, r);                                                                                  \
  }                                                                                                                    \
  void winograd_input_##suffix(const WinogradShape& s, const float* x, Dim t0, Dim count, float* v, Dim stride) {      \
    input_impl<S>(s, x, t0, count, v, stride);                                                                         \
  }                                                                                                                    \
  void winograd_output_##suffix(const WinogradShape& s, const WinogradOutput& o, Dim t0, Dim count, const float* bias, \
                                bool relu, float* y) {                                                                 \
    output_impl<S>(s, o, t0, count, bias, relu, y);                                                                    \
  }
