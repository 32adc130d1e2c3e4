#pragma once
// The one product kernel of the CPU backend: an indirect GEMM (XNNPACK's igemm). Rows of A are
// found through per-row offsets, one per kernel tap, so a convolution runs as a GEMM over its
// input without an im2col copy; a Dense layer is the same kernel with one tap and plain rows.
//
//   C[i, j] = sum_t sum_kk A_t[i][kk] * B[t * k + kk][j]   (+ bias[j], then relu)
//
// B is read in place with row stride ldb: Keras's Dense kernel [in, units] and conv kernel
// [KH, KW, C, F] are already [taps * k, n] row-major, so weights need no packing.
#include <cstdint>

#include "keras/shape.h"

namespace keras::backends::cpu {

enum class Isa { kGeneric, kAvx2, kAvx512 };

// The best level this CPU and OS support (cpuid and XCR0, not a library's guess).
Isa detect_isa();
const char* isa_name(Isa isa);

struct IGemmArgs {
  Dim m = 0, n = 0;  // rows and columns of C
  Dim taps = 1, k = 0;
  const float* a = nullptr;
  // [m][taps] offsets of row i's values for tap t from `a`; -1 reads `zeros` (padding). Null:
  // row i's values for tap t at a + i * lda + t * k (a plain matrix with its reduction split
  // into `taps` slices of k, which lets the kernel block the reduction for the cache).
  const int32_t* a_offsets = nullptr;
  Dim lda = 0;
  const float* zeros = nullptr;  // k zeros
  const float* b = nullptr;
  Dim ldb = 0;
  const float* bias = nullptr;  // n values, or null
  bool relu = false;
  float* c = nullptr;
  Dim ldc = 0;
};

// Rows [m0, m1) and columns [n0, n1) of C; n0 a multiple of 16.
void igemm_block(Isa isa, const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1);

namespace detail {
void igemm_block_avx512(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1);
void igemm_block_avx2(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1);
void igemm_block_generic(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1);
// Independent FMA chains for measuring the machine's peak (keras::measure_fma_peak_gflops).
float fma_loop_avx512(long iters);  // 24 x 16 lanes per round
float fma_loop_avx2(long iters);    // 12 x 8 lanes per round
}  // namespace detail

}  // namespace keras::backends::cpu
