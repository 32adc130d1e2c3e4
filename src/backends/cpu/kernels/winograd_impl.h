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

// The one-dimensional transforms of F(M x M, 3 x 3), alpha = M + 2 points. Applied to the
// columns and then to the rows of a tile, they give the two-dimensional ones.
template <class S, int M>
struct Winograd1D;

// F(2, 3), points 0, 1, -1 and infinity.
template <class S>
struct Winograd1D<S, 2> {
  using V = typename S::V;
  // G g: (g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2).
  static void weights(const V* g, V* t) {
    const V half = S::set1(0.5f);
    t[0] = g[0];
    t[1] = S::mul(half, S::add(S::add(g[0], g[1]), g[2]));
    t[2] = S::mul(half, S::add(S::sub(g[0], g[1]), g[2]));
    t[3] = g[2];
  }
  // B^T d: (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
  static void input(const V* d, V* r) {
    r[0] = S::sub(d[0], d[2]);
    r[1] = S::add(d[1], d[2]);
    r[2] = S::sub(d[2], d[1]);
    r[3] = S::sub(d[1], d[3]);
  }
  // A^T q: (q0 + q1 + q2, q1 - q2 - q3).
  static void output(const V* q, V* o) {
    o[0] = S::add(S::add(q[0], q[1]), q[2]);
    o[1] = S::sub(S::sub(q[1], q[2]), q[3]);
  }
};

// F(4, 3), points 0, 1, -1, 2, -2 and infinity (Lavin & Gray's matrices), 36 products per 16
// outputs instead of F(2, 3)'s 64; the larger constants cost some precision, still within
// 1e-6 relative of direct convolution on VGG16's layers.
template <class S>
struct Winograd1D<S, 4> {
  using V = typename S::V;
  // G g: (g0 / 4, -(g0 + g1 + g2) / 6, -(g0 - g1 + g2) / 6, g0 / 24 + g1 / 12 + g2 / 6,
  //       g0 / 24 - g1 / 12 + g2 / 6, g2).
  static void weights(const V* g, V* t) {
    const V sixth = S::set1(-1.0f / 6.0f);
    V even = S::add(g[0], g[2]), odd_big = S::mul(S::set1(1.0f / 12.0f), g[1]);
    V even_big = S::fma(S::set1(1.0f / 24.0f), g[0], S::mul(S::set1(1.0f / 6.0f), g[2]));
    t[0] = S::mul(S::set1(0.25f), g[0]);
    t[1] = S::mul(sixth, S::add(even, g[1]));
    t[2] = S::mul(sixth, S::sub(even, g[1]));
    t[3] = S::add(even_big, odd_big);
    t[4] = S::sub(even_big, odd_big);
    t[5] = g[2];
  }
  // B^T d: (4 d0 - 5 d2 + d4, d3 + d4 - 4 (d1 + d2), d4 - d3 + 4 (d1 - d2),
  //         d4 - d2 + 2 (d3 - d1), d4 - d2 - 2 (d3 - d1), 4 d1 - 5 d3 + d5).
  static void input(const V* d, V* r) {
    const V four = S::set1(4.0f), five = S::set1(-5.0f), two = S::set1(2.0f);
    r[0] = S::fma(four, d[0], S::fma(five, d[2], d[4]));
    r[1] = S::sub(S::add(d[3], d[4]), S::mul(four, S::add(d[1], d[2])));
    r[2] = S::fma(four, S::sub(d[1], d[2]), S::sub(d[4], d[3]));
    V base = S::sub(d[4], d[2]), diff = S::mul(two, S::sub(d[3], d[1]));
    r[3] = S::add(base, diff);
    r[4] = S::sub(base, diff);
    r[5] = S::fma(four, d[1], S::fma(five, d[3], d[5]));
  }
  // A^T q: (q0 + q1 + q2 + q3 + q4, q1 - q2 + 2 (q3 - q4), q1 + q2 + 4 (q3 + q4),
  //         q1 - q2 + 8 (q3 - q4) + q5).
  static void output(const V* q, V* o) {
    V sum12 = S::add(q[1], q[2]), dif12 = S::sub(q[1], q[2]);
    V sum34 = S::add(q[3], q[4]), dif34 = S::sub(q[3], q[4]);
    o[0] = S::add(S::add(q[0], sum12), sum34);
    o[1] = S::fma(S::set1(2.0f), dif34, dif12);
    o[2] = S::fma(S::set1(4.0f), sum34, sum12);
    o[3] = S::add(S::fma(S::set1(8.0f), dif34, dif12), q[5]);
  }
};

template <class S, int M>
void weights_tile(const WinogradShape& s, const float* kernel, float* u, const WinogradWeights& range) {
  using V = typename S::V;
  using T = Winograd1D<S, M>;
  constexpr int A = M + 2;
  const Dim C = s.in_c, F = s.out_c, ldu = range.ldu, rows = range.local ? range.c1 - range.c0 : C;
  const Dim first = range.local ? range.c0 : 0;
  for (Dim c = range.c0; c < range.c1; ++c)
    for (Dim f = range.f0; f < range.f1; f += S::W) {
      int n = wlanes(range.f1, f, S::W);
      V g[3][3];
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) g[i][j] = S::load_n(kernel + ((i * 3 + j) * C + c) * F + f, n);
      // t = G g (A x 3), then U = t G^T (A x A).
      V t[A][3];
      for (int j = 0; j < 3; ++j) {
        V col[3] = {g[0][j], g[1][j], g[2][j]}, out[A];
        T::weights(col, out);
        for (int i = 0; i < A; ++i) t[i][j] = out[i];
      }
      for (int i = 0; i < A; ++i) {
        V r[A];
        T::weights(t[i], r);
        for (int j = 0; j < A; ++j) {
          Dim col = f - range.f0, freq = i * A + j;
          Dim row = c - first;
          float* at = range.packed ? u + freq * rows * ldu + (col / range.packed) * rows * range.packed +
                                         row * range.packed + col % range.packed
                                   : u + (freq * rows + row) * ldu + col;
          S::store_n(at, r[j], n);
        }
      }
    }
}

template <class S, int M>
void input_tile(const WinogradShape& s, const float* x, Dim t0, Dim count, float* v, Dim stride) {
  using V = typename S::V;
  using T = Winograd1D<S, M>;
  constexpr int A = M + 2;
  const Dim C = s.in_c, th = s.tiles_h(), tw = s.tiles_w();
  for (Dim t = 0; t < count; ++t) {
    Dim tile = t0 + t, n = tile / (th * tw), r = tile % (th * tw);
    Dim ih0 = (r / tw) * M - s.pad_top, iw0 = (r % tw) * M - s.pad_left;
    const float* rows[A][A];
    for (int i = 0; i < A; ++i)
      for (int j = 0; j < A; ++j) {
        Dim ih = ih0 + i, iw = iw0 + j;
        bool inside = ih >= 0 && ih < s.in_h && iw >= 0 && iw < s.in_w;
        rows[i][j] = inside ? x + ((n * s.in_h + ih) * s.in_w + iw) * C : nullptr;
      }
    for (Dim c = 0; c < C; c += S::W) {
      int w = wlanes(C, c, S::W);
      // B^T d on the columns, then on the rows.
      V b[A][A];
      for (int j = 0; j < A; ++j) {
        V col[A], out[A];
        for (int i = 0; i < A; ++i) col[i] = rows[i][j] ? S::load_n(rows[i][j] + c, w) : S::zero();
        T::input(col, out);
        for (int i = 0; i < A; ++i) b[i][j] = out[i];
      }
      for (int i = 0; i < A; ++i) {
        V r[A];
        T::input(b[i], r);
        for (int j = 0; j < A; ++j) S::store_n(v + ((i * A + j) * stride + t) * C + c, r[j], w);
      }
    }
  }
}

template <class S, int M>
void output_tile(const WinogradShape& s, const WinogradOutput& o, Dim t0, Dim count, const float* bias, bool relu,
                 float* y) {
  using V = typename S::V;
  using T = Winograd1D<S, M>;
  constexpr int A = M + 2;
  const Dim F = o.f1 - o.f0, th = s.tiles_h(), tw = s.tiles_w();
  const float* m = o.m;
  const Dim stride = o.stride;
  for (Dim t = 0; t < count; ++t) {
    Dim tile = t0 + t, n = tile / (th * tw), r = tile % (th * tw);
    Dim oh0 = (r / tw) * M, ow0 = (r % tw) * M;
    for (Dim f = 0; f < F; f += S::W) {
      int w = wlanes(F, f, S::W);
      // A^T q on the columns, then on the rows; + bias, relu.
      V a[M][A];
      for (int j = 0; j < A; ++j) {
        V col[A], out[M];
        for (int i = 0; i < A; ++i) col[i] = S::load_n(m + ((i * A + j) * stride + t) * o.ldm + f, w);
        T::output(col, out);
        for (int i = 0; i < M; ++i) a[i][j] = out[i];
      }
      V b = bias ? S::load_n(bias + o.f0 + f, w) : S::zero();
      V v[M][M];
      for (int i = 0; i < M; ++i) {
        V out[M];
        T::output(a[i], out);
        for (int j = 0; j < M; ++j) {
          v[i][j] = S::add(out[j], b);
          if (relu) v[i][j] = S::max(v[i][j], S::zero());
        }
      }
      if (o.pool != WinogradOutput::Pool::kNone) {
        // 2x2 stride-2 windows aligned with the tile: (M / 2)^2 pooled pixels.
        bool max = o.pool == WinogradOutput::Pool::kMax;
        for (int pi = 0; pi < M / 2; ++pi)
          for (int pj = 0; pj < M / 2; ++pj) {
            Dim py = oh0 / 2 + pi, px = ow0 / 2 + pj;
            if (py >= o.pooled_h || px >= o.pooled_w) continue;
            V acc = max ? S::set1(-__builtin_inff()) : S::zero();
            int cells = 0;
            for (int i = 2 * pi; i < 2 * pi + 2; ++i)
              for (int j = 2 * pj; j < 2 * pj + 2; ++j) {
                if (oh0 + i >= s.out_h || ow0 + j >= s.out_w) continue;
                acc = max ? S::max(acc, v[i][j]) : S::add(acc, v[i][j]);
                ++cells;
              }
            if (!max) acc = S::div(acc, S::set1(static_cast<float>(cells)));
            S::store_n(y + ((n * o.pooled_h + py) * o.pooled_w + px) * s.out_c + o.f0 + f, acc, w);
          }
        continue;
      }
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < M; ++j) {
          Dim oh = oh0 + i, ow = ow0 + j;
          if (oh >= s.out_h || ow >= s.out_w) continue;
          S::store_n(y + ((n * s.out_h + oh) * s.out_w + ow) * s.out_c + o.f0 + f, v[i][j], w);
        }
    }
  }
}

template <class S>
void weights_impl(const WinogradShape& s, const float* kernel, float* u, const WinogradWeights& range) {
  if (s.tile == 4) return weights_tile<S, 4>(s, kernel, u, range);
  weights_tile<S, 2>(s, kernel, u, range);
}

template <class S>
void input_impl(const WinogradShape& s, const float* x, Dim t0, Dim count, float* v, Dim stride) {
  if (s.tile == 4) return input_tile<S, 4>(s, x, t0, count, v, stride);
  input_tile<S, 2>(s, x, t0, count, v, stride);
}

template <class S>
void output_impl(const WinogradShape& s, const WinogradOutput& o, Dim t0, Dim count, const float* bias, bool relu,
                 float* y) {
  if (s.tile == 4) return output_tile<S, 4>(s, o, t0, count, bias, relu, y);
  output_tile<S, 2>(s, o, t0, count, bias, relu, y);
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
