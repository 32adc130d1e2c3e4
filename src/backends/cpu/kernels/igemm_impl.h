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

template <class S, int MR, int NV>
void micro_tile(const IGemmArgs& g, Dim m0, Dim n0, Dim ncols) {
  using V = typename S::V;
  constexpr int W = S::W;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = S::zero();
  const bool full = ncols >= NV * W;
  for (Dim t = 0; t < g.taps; ++t) {
    const float* ap[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      if (g.a_offsets) {
        int32_t o = g.a_offsets[(m0 + i) * g.taps + t];
        ap[i] = o < 0 ? g.zeros : g.a + o;
      } else {
        ap[i] = g.a + (m0 + i) * g.lda;
      }
    }
    const float* bp = g.b + t * g.k * g.ldb + n0;
    if (full) {
      for (Dim kk = 0; kk < g.k; ++kk, bp += g.ldb) {
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
    } else {
      for (Dim kk = 0; kk < g.k; ++kk, bp += g.ldb) {
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
  }
  V bias[NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) {
    int cnt = lanes(ncols, j * W, W);
    bias[j] = g.bias ? S::load_n(g.bias + n0 + j * W, cnt) : S::zero();
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* cp = g.c + (m0 + i) * g.ldc + n0;
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      V v = S::add(acc[i][j], bias[j]);
      if (g.relu) v = S::max(v, S::zero());
      int cnt = lanes(ncols, j * W, W);
      if (cnt == W)
        S::store(cp + j * W, v);
      else if (cnt > 0)
        S::store_n(cp + j * W, v, cnt);
    }
  }
}

// Rows [m0, m1) of one column strip [n0, n0 + ncols), ncols <= NV * W, in tiles of MR rows.
template <class S, int MR, int NV>
void strip(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim ncols) {
  Dim i = m0;
  for (; i + MR <= m1; i += MR) micro_tile<S, MR, NV>(g, i, n0, ncols);
  Dim rest = m1 - i;
  // The last rows: one tile of exactly the rows left (each count its own instantiation).
  [&]<int... R>(std::integer_sequence<int, R...>) {
    ((rest == R + 1 ? micro_tile<S, R + 1, NV>(g, i, n0, ncols) : void()), ...);
  }(std::make_integer_sequence<int, MR - 1>{});
}

// The block: column strips as wide as the kernel shape for this many rows allows.
template <class S, int MR, int NV, int MR_SMALL, int NV_SMALL>
void block(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1) {
  constexpr Dim kWide = NV * S::W, kWideSmall = NV_SMALL * S::W;
  bool few_rows = m1 - m0 <= MR_SMALL;
  for (Dim j = n0; j < n1;) {
    Dim cols = n1 - j;
    if (few_rows) {
      Dim w = min_dim(cols, kWideSmall);
      strip<S, MR_SMALL, NV_SMALL>(g, m0, m1, j, w);
      j += w;
    } else if (cols <= S::W) {
      strip<S, MR, 1>(g, m0, m1, j, cols);
      j += cols;
    } else {
      Dim w = min_dim(cols, kWide);
      strip<S, MR, NV>(g, m0, m1, j, w);
      j += w;
    }
  }
}

}  // namespace

}  // namespace keras::backends::cpu::detail
