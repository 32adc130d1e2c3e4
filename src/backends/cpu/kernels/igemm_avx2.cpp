// The igemm kernels for AVX2 + FMA (compiled with -mavx2 -mfma; called only when detect_isa()
// finds them). 6 x 16 tiles: 12 accumulators of the 16 ymm registers.
#include <immintrin.h>

#include "backends/cpu/kernels/depthwise_impl.h"
#include "backends/cpu/kernels/igemm_impl.h"
#include "backends/cpu/kernels/pooling_impl.h"
#include "backends/cpu/kernels/winograd_impl.h"

namespace keras::backends::cpu::detail {

namespace {

struct Avx2 {
  using V = __m256;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load_n(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void store_n(float* p, V v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V select_gt(V a, V b, V x, V y) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_GT_OQ)); }
  static V select_eq(V a, V b, V x, V y) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_EQ_OQ)); }
  static V set1(float v) { return _mm256_set1_ps(v); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static __m256i mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
};

}  // namespace

void igemm_block_avx2(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1) { block<Avx2, 6, 2, 3>(g, m0, m1, n0, n1); }

void wgrad_block_avx2(const WGradArgs& g, Dim t, Dim c0, Dim c1, Dim f0, Dim f1) {
  wgrad<Avx2, 6, 2>(g, t, c0, c1, f0, f1);
}

void wgrad_rows_avx2(const WGradArgs& g, Dim r0, Dim r1, Dim f0, Dim f1) { wgrad_flat<Avx2, 6, 2>(g, r0, r1, f0, f1); }

KERAS_WINOGRAD_DEFINE(avx2, Avx2)
KERAS_POOLING_DEFINE(avx2, Avx2)
KERAS_DEPTHWISE_DEFINE(avx2, Avx2)

}  // namespace keras::backends::cpu::detail

namespace keras::backends::cpu::detail {

float fma_loop_avx2(long iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.0001f);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

}  // namespace keras::backends::cpu::detail
