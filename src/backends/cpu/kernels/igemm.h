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
  // Nonzero: B was packed by pack_b into strips of this many columns (the kernel's tile width,
  // packed_width(isa)), each strip's taps * k rows contiguous, so a tile streams its slice of B
  // front to back instead of striding across rows. ldb is then ignored, and column blocks must
  // start at multiples of the width.
  Dim packed = 0;
  const float* bias = nullptr;  // n values, or null
  bool relu = false;
  float* c = nullptr;
  Dim ldc = 0;
  // Add the product to what C holds (a reduction run in slices).
  bool accumulate = false;
};

// A convolution's weight gradient, one tap at a time: dw[t][c][f] = sum over pixels p of
// x_t(p)[c] * dy[p][f], where x_t(p) is the input row under tap t of output pixel p (offsets
// as IGemmArgs's, -1 for padding). The reduction runs over pixels, so rows of the result are
// channels: the same tile kernel shape with A read across pixel rows.
struct WGradArgs {
  Dim taps = 1, channels = 0, filters = 0, pixels = 0;
  const float* x = nullptr;
  const int32_t* offsets = nullptr;  // [pixels][taps]
  const float* zeros = nullptr;      // channels zeros
  const float* dy = nullptr;         // [pixels][filters]
  float* dw = nullptr;               // [taps][channels][filters]
};

// Tap t, channels [c0, c1), filters [f0, f1) of dw (overwritten).
void wgrad_block(Isa isa, const WGradArgs& g, Dim t, Dim c0, Dim c1, Dim f0, Dim f1);
// Rows [r0, r1) of dw seen as taps * channels rows (row r: tap r / C, channel r % C), filters
// [f0, f1): for few channels, where one tap's rows would leave the tile kernel idle.
void wgrad_rows(Isa isa, const WGradArgs& g, Dim r0, Dim r1, Dim f0, Dim f1);

// Rows [m0, m1) and columns [n0, n1) of C; n0 a multiple of 16.
void igemm_block(Isa isa, const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1);

// The strip width igemm_block's tiles read B in (0: this ISA's kernel takes B unpacked), and
// the number of floats pack_b writes for a [rows][n] B.
Dim packed_width(Isa isa);
inline Dim packed_size(Dim rows, Dim n, Dim width) { return (n + width - 1) / width * width * rows; }
// B [rows][n] (row stride ldb) into strips of `width` columns, zero-padded: out[s][r][j] =
// B[r][s * width + j].
void pack_b(const float* b, Dim rows, Dim n, Dim ldb, Dim width, float* out);

namespace detail {
void igemm_block_avx512(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1);
void igemm_block_avx2(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1);
void igemm_block_generic(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1);
void wgrad_block_avx512(const WGradArgs& g, Dim t, Dim c0, Dim c1, Dim f0, Dim f1);
void wgrad_block_avx2(const WGradArgs& g, Dim t, Dim c0, Dim c1, Dim f0, Dim f1);
void wgrad_block_generic(const WGradArgs& g, Dim t, Dim c0, Dim c1, Dim f0, Dim f1);
void wgrad_rows_avx512(const WGradArgs& g, Dim r0, Dim r1, Dim f0, Dim f1);
void wgrad_rows_avx2(const WGradArgs& g, Dim r0, Dim r1, Dim f0, Dim f1);
// Independent FMA chains for measuring the machine's peak (keras::measure_fma_peak_gflops).
float fma_loop_avx512(long iters);  // 24 x 16 lanes per round
float fma_loop_avx2(long iters);    // 12 x 8 lanes per round
}  // namespace detail

}  // namespace keras::backends::cpu
