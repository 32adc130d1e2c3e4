#pragma once
// The igemm microkernels, written once over a SIMD traits type S (igemm_avx512.cpp and
// igemm_avx2.cpp include this with their own S and compiler flags). A microkernel keeps an
// MR x (NV * S::W) tile of C in registers for the whole reduction: per reduction step it
// loads NV vectors of B and broadcasts MR values of A.
#include <utility>

#include "backends/cpu/kernels/igemm.h"

namespace keras::backends::cpu::detail {

// This header is compiled with ISA-specific flags: everything it uses must have internal
// linkage, or the linker could hand AVX-512 copies of an inline function (std::min...) to
// code that runs on any CPU.
namespace {

inline int lanes(Dim cols, Dim j0, int w) {
  Dim n = cols - j0;
  return n <= 0 ? 0 : n >= w ? w : static_cast<int>(n);
}
inline Dim min_dim(Dim a, Dim b) { return a < b ? a : b; }

// acc += A's MR rows (ap) times B's k rows (bp, row stride kStride, or ldb when kStride is 0)
// over ncols columns.
template <class S, int MR, int NV, Dim kStride>
__attribute__((always_inline)) inline void reduce(typename S::V (&acc)[MR][NV], const float* const (&ap)[MR],
                                                  const float* bp, Dim ldb, Dim k, Dim ncols) {
  using V = typename S::V;
  constexpr int W = S::W;
  const Dim stride = kStride ? kStride : ldb;
  if (ncols >= NV * W) {
    for (Dim kk = 0; kk < k; ++kk, bp += stride) {
      V b[NV];
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) b[j] = S::load(bp + j * W);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        V a = S::broadcast(ap[i] + kk);
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[i][j] = S::fma(a, b[j], acc[i][j]);
      }
    }
    return;
  }
  for (Dim kk = 0; kk < k; ++kk, bp += stride) {
    V b[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) b[j] = S::load_n(bp + j * W, lanes(ncols, j * W, W));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      V a = S::broadcast(ap[i] + kk);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = S::fma(a, b[j], acc[i][j]);
    }
  }
}

// Taps [t0, t1) of one MR x (NV * W) tile: starts from zero (t0 == 0) or from what C holds,
// and applies bias and relu after the last tap.
template <class S, int MR, int NV, Dim P>
void micro_tile(const IGemmArgs& g, Dim m0, Dim n0, Dim ncols, Dim t0, Dim t1) {
  using V = typename S::V;
  constexpr int W = S::W;
  V acc[MR][NV];
  const bool first = t0 == 0 && !g.accumulate, last = t1 == g.taps;
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    const float* cp = g.c + (m0 + i) * g.ldc + n0;
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = first ? S::zero() : S::load_n(cp + j * W, lanes(ncols, j * W, W));
  }
  for (Dim t = t0; t < t1; ++t) {
    const float* ap[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      if (g.a_offsets) {
        int32_t o = g.a_offsets[(m0 + i) * g.taps + t];
        ap[i] = o < 0 ? g.zeros : g.a + o;
      } else {
        ap[i] = g.a + (m0 + i) * g.lda + t * g.k;
      }
    }
    const float* bp =
        g.packed ? g.b + (n0 / g.packed) * (g.taps * g.k * g.packed) + t * g.k * g.packed : g.b + t * g.k * g.ldb + n0;
    // Packed strips are the kernel's own width P, a constant: with the row pointers live, a
    // stride held in a register would push one of them out to the stack.
    if (g.packed)
      reduce<S, MR, NV, P>(acc, ap, bp, 0, g.k, ncols);
    else
      reduce<S, MR, NV, 0>(acc, ap, bp, g.ldb, g.k, ncols);
  }
  V bias[NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j)
    bias[j] = last && g.bias ? S::load_n(g.bias + n0 + j * W, lanes(ncols, j * W, W)) : S::zero();
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* cp = g.c + (m0 + i) * g.ldc + n0;
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      V v = last && g.bias ? S::add(acc[i][j], bias[j]) : acc[i][j];
      if (last && g.relu) v = S::max(v, S::zero());
      int cnt = lanes(ncols, j * W, W);
      if (cnt == W)
        S::store(cp + j * W, v);
      else if (cnt > 0)
        S::store_n(cp + j * W, v, cnt);
    }
  }
}

// Rows [m0, m1) of one column strip [n0, n0 + ncols), ncols <= NV * W, in tiles of MR rows.
template <class S, int MR, int NV, Dim P>
void strip(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim ncols, Dim t0, Dim t1) {
  Dim i = m0;
  for (; i + MR <= m1; i += MR) micro_tile<S, MR, NV, P>(g, i, n0, ncols, t0, t1);
  Dim rest = m1 - i;
  // The last rows: one tile of exactly the rows left (each count its own instantiation).
  [&]<int... R>(std::integer_sequence<int, R...>) {
    ((rest == R + 1 ? micro_tile<S, R + 1, NV, P>(g, i, n0, ncols, t0, t1) : void()), ...);
  }
  (std::make_integer_sequence<int, MR - 1>{});
}

// About this many reduction steps per pass over a column strip, so the strip's slice of B
// (kKBlock x 32 floats: 64 KiB) stays in the L2 cache while every row tile reuses it.
inline constexpr Dim kKBlock = 512;

// Few rows and few columns (a batch-1 classifier head): a single row's products would wait on
// one FMA chain, so each row keeps four chains, one per reduction step modulo 4, summed in a
// fixed order at the end.
template <class S, int NV>
void narrow_row(const IGemmArgs& g, Dim i, Dim n0, Dim cols) {
  using V = typename S::V;
  constexpr int W = S::W;
  V acc[4][NV];
#pragma GCC unroll 4
  for (int u = 0; u < 4; ++u)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[u][j] = S::zero();
  int n[NV];
#pragma GCC unroll 4
  for (int j = 0; j < NV; ++j) n[j] = lanes(cols, j * W, W);
  for (Dim t = 0; t < g.taps; ++t) {
    const float* a;
    if (g.a_offsets) {
      int32_t o = g.a_offsets[i * g.taps + t];
      a = o < 0 ? g.zeros : g.a + o;
    } else {
      a = g.a + i * g.lda + t * g.k;
    }
    const float* b = g.b + t * g.k * g.ldb + n0;
    Dim kk = 0;
    for (; kk + 4 <= g.k; kk += 4, b += 4 * g.ldb)
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u) {
        V av = S::broadcast(a + kk + u);
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) acc[u][j] = S::fma(av, S::load_n(b + u * g.ldb + j * W, n[j]), acc[u][j]);
      }
    for (; kk < g.k; ++kk, b += g.ldb) {
      V av = S::broadcast(a + kk);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[0][j] = S::fma(av, S::load_n(b + j * W, n[j]), acc[0][j]);
    }
  }
  float* c = g.c + i * g.ldc + n0;
#pragma GCC unroll 4
  for (int j = 0; j < NV; ++j) {
    V v = S::add(S::add(acc[0][j], acc[1][j]), S::add(acc[2][j], acc[3][j]));
    if (g.accumulate) v = S::add(S::load_n(c + j * W, n[j]), v);
    if (g.bias) v = S::add(v, S::load_n(g.bias + n0 + j * W, n[j]));
    if (g.relu) v = S::max(v, S::zero());
    S::store_n(c + j * W, v, n[j]);
  }
}

// Products with very few rows (Dense at batch 1) are bound by reading B: stream its rows
// front to back and keep C's few rows in L1 (narrow ones in registers, narrow_row).
template <class S>
void few_rows_block(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1) {
  if (n1 - n0 <= 4 * S::W) {
    Dim cols = n1 - n0, nv = (cols + S::W - 1) / S::W;
    for (Dim i = m0; i < m1; ++i) {
      if (nv == 1)
        narrow_row<S, 1>(g, i, n0, cols);
      else if (nv == 2)
        narrow_row<S, 2>(g, i, n0, cols);
      else if (nv == 3)
        narrow_row<S, 3>(g, i, n0, cols);
      else
        narrow_row<S, 4>(g, i, n0, cols);
    }
    return;
  }
  using V = typename S::V;
  constexpr int W = S::W;
  const Dim cols = n1 - n0, rows = m1 - m0;
  if (!g.accumulate)
    for (Dim i = 0; i < rows; ++i)
      for (Dim j = 0; j < cols; j += W) S::store_n(g.c + (m0 + i) * g.ldc + n0 + j, S::zero(), lanes(cols, j, W));
  for (Dim t = 0; t < g.taps; ++t)
    for (Dim i = 0; i < rows; ++i) {
      const float* a;
      if (g.a_offsets) {
        int32_t o = g.a_offsets[(m0 + i) * g.taps + t];
        a = o < 0 ? g.zeros : g.a + o;
      } else {
        a = g.a + (m0 + i) * g.lda + t * g.k;
      }
      float* c = g.c + (m0 + i) * g.ldc + n0;
      const float* b = g.b + t * g.k * g.ldb + n0;
      Dim kk = 0;
      for (; kk + 4 <= g.k; kk += 4, b += 4 * g.ldb) {
        V a0 = S::broadcast(a + kk), a1 = S::broadcast(a + kk + 1), a2 = S::broadcast(a + kk + 2),
          a3 = S::broadcast(a + kk + 3);
        Dim j = 0;
        for (; j + W <= cols; j += W) {
          V v = S::load(c + j);
          v = S::fma(a0, S::load(b + j), v);
          v = S::fma(a1, S::load(b + g.ldb + j), v);
          v = S::fma(a2, S::load(b + 2 * g.ldb + j), v);
          v = S::fma(a3, S::load(b + 3 * g.ldb + j), v);
          S::store(c + j, v);
        }
        if (j < cols) {
          int n = lanes(cols, j, W);
          V v = S::load_n(c + j, n);
          v = S::fma(a0, S::load_n(b + j, n), v);
          v = S::fma(a1, S::load_n(b + g.ldb + j, n), v);
          v = S::fma(a2, S::load_n(b + 2 * g.ldb + j, n), v);
          v = S::fma(a3, S::load_n(b + 3 * g.ldb + j, n), v);
          S::store_n(c + j, v, n);
        }
      }
      for (; kk < g.k; ++kk, b += g.ldb) {
        V av = S::broadcast(a + kk);
        for (Dim j = 0; j < cols; j += W) {
          int n = lanes(cols, j, W);
          S::store_n(c + j, S::fma(av, S::load_n(b + j, n), S::load_n(c + j, n)), n);
        }
      }
    }
  for (Dim i = 0; i < rows; ++i) {
    float* c = g.c + (m0 + i) * g.ldc + n0;
    for (Dim j = 0; j < cols; j += W) {
      int n = lanes(cols, j, W);
      V v = S::load_n(c + j, n);
      if (g.bias) v = S::add(v, S::load_n(g.bias + n0 + j, n));
      if (g.relu) v = S::max(v, S::zero());
      S::store_n(c + j, v, n);
    }
  }
}

// The block, taps in slices of about kKBlock reduction steps; within a slice, column strips
// of NV vectors (one vector for narrow outputs). Products of at most FEW rows in all (by
// g.m, not by this block, so the choice never depends on how the work was split) go to
// few_rows_block.
template <class S, int MR, int NV, int FEW>
void block(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1) {
  if (g.m <= FEW && !g.packed) return few_rows_block<S>(g, m0, m1, n0, n1);
  constexpr Dim kWide = NV * S::W;
  Dim taps_per_slice = g.k >= kKBlock ? 1 : kKBlock / g.k;
  for (Dim t0 = 0; t0 < g.taps; t0 += taps_per_slice) {
    Dim t1 = min_dim(g.taps, t0 + taps_per_slice);
    for (Dim j = n0; j < n1;) {
      // Full strips, then one of just enough vectors for the columns left.
      Dim w = min_dim(n1 - j, kWide);
      int nv = static_cast<int>((w + S::W - 1) / S::W);
      [&]<int... V>(std::integer_sequence<int, V...>) {
        ((nv == V + 1 ? strip<S, MR, V + 1, kWide>(g, m0, m1, j, w, t0, t1) : void()), ...);
      }
      (std::make_integer_sequence<int, NV>{});
      j += w;
    }
  }
}

// One MR x (NV * W) tile of dw's rows [r0, r0 + MR) (row r: tap r / C, channel r % C) for pixels
// [p0, p1): from zero (p0 == 0) or what dw holds. kOneTap: the tile's rows share one tap (one
// input row per pixel, channels consecutive); otherwise (few channels, a first layer) every
// row gathers its own value per pixel.
template <class S, int MR, int NV, bool kOneTap>
void wgrad_tile(const WGradArgs& g, Dim r0, Dim f0, Dim ncols, Dim p0, Dim p1) {
  using V = typename S::V;
  constexpr int W = S::W;
  V acc[MR][NV];
  Dim tap[MR], chan[MR];
  float* out = g.dw + r0 * g.filters + f0;
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    tap[i] = (r0 + i) / g.channels;
    chan[i] = (r0 + i) % g.channels;
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j)
      acc[i][j] = p0 == 0 ? S::zero() : S::load_n(out + i * g.filters + j * W, lanes(ncols, j * W, W));
  }
  for (Dim p = p0; p < p1; ++p) {
    const int32_t* offs = g.offsets + p * g.taps;
    const float* dyp = g.dy + p * g.filters + f0;
    V b[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) b[j] = S::load_n(dyp + j * W, lanes(ncols, j * W, W));
    const float* px = nullptr;
    if constexpr (kOneTap) {
      int32_t o = offs[tap[0]];
      px = (o < 0 ? g.zeros : g.x + o) + chan[0];
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      V a;
      if constexpr (kOneTap) {
        a = S::broadcast(px + i);
      } else {
        int32_t o = offs[tap[i]];
        a = S::broadcast(o < 0 ? g.zeros : g.x + o + chan[i]);
      }
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = S::fma(a, b[j], acc[i][j]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      int cnt = lanes(ncols, j * W, W);
      if (cnt > 0) S::store_n(out + i * g.filters + j * W, acc[i][j], cnt);
    }
}

// Rows [r0, r1) of dw (kOneTap: all of one tap), filters [f0, f1). Pixels in slices, so a
// slice of dy (kKBlock pixels x NV * W filters) stays in cache while every row tile uses it.
template <class S, int MR, int NV, bool kOneTap>
void wgrad_rows_impl(const WGradArgs& g, Dim r0, Dim r1, Dim f0, Dim f1) {
  constexpr Dim kWide = NV * S::W;
  for (Dim p0 = 0; p0 < g.pixels; p0 += kKBlock) {
    Dim p1 = min_dim(g.pixels, p0 + kKBlock);
    for (Dim j = f0; j < f1; j += kWide) {
      Dim cols = min_dim(f1 - j, kWide);
      Dim r = r0;
      for (; r + MR <= r1; r += MR) wgrad_tile<S, MR, NV, kOneTap>(g, r, j, cols, p0, p1);
      Dim rest = r1 - r;
      [&]<int... R>(std::integer_sequence<int, R...>) {
        ((rest == R + 1 ? wgrad_tile<S, R + 1, NV, kOneTap>(g, r, j, cols, p0, p1) : void()), ...);
      }
      (std::make_integer_sequence<int, MR - 1>{});
    }
  }
}

template <class S, int MR, int NV>
void wgrad(const WGradArgs& g, Dim t, Dim c0, Dim c1, Dim f0, Dim f1) {
  wgrad_rows_impl<S, MR, NV, true>(g, t * g.channels + c0, t * g.channels + c1, f0, f1);
}

template <class S, int MR, int NV>
void wgrad_flat(const WGradArgs& g, Dim r0, Dim r1, Dim f0, Dim f1) {
  wgrad_rows_impl<S, MR, NV, false>(g, r0, r1, f0, f1);
}

}  // namespace

}  // namespace keras::backends::cpu::detail
