// The igemm kernels for AVX-512 (compiled with -mavx512f -mfma; called only when detect_isa()
// finds AVX-512). 6 x 64 tiles: 24 accumulators of the 32 zmm registers, and only six row
// pointers, so the reduction loop keeps every pointer in a register (12 x 32 tiles spilled
// two of their twelve to the stack).
#include <immintrin.h>

#include "backends/cpu/kernels/depthwise_impl.h"
#include "backends/cpu/kernels/igemm_impl.h"
#include "backends/cpu/kernels/pooling_impl.h"
#include "backends/cpu/kernels/small_conv_impl.h"
#include "backends/cpu/kernels/winograd_impl.h"

namespace keras::backends::cpu::detail {

namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int W = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load_n(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void store_n(float* p, V v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V select_gt(V a, V b, V x, V y) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), y, x); }
  static V select_eq(V a, V b, V x, V y) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ), y, x); }
  static V set1(float v) { return _mm512_set1_ps(v); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static __mmask16 mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
};

}  // namespace

void igemm_block_avx512(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1) {
  block<Avx512, 6, 4, 3>(g, m0, m1, n0, n1);
}

void wgrad_block_avx512(const WGradArgs& g, Dim t, Dim c0, Dim c1, Dim f0, Dim f1) {
  wgrad<Avx512, 12, 2>(g, t, c0, c1, f0, f1);
}

void wgrad_rows_avx512(const WGradArgs& g, Dim r0, Dim r1, Dim f0, Dim f1) {
  wgrad_flat<Avx512, 12, 2>(g, r0, r1, f0, f1);
}

// 32 filters a strip: up to 9 x 2 weight registers, 4 x 2 accumulators.
void small_conv_rows_avx512(const SmallConvArgs& a, Dim n, Dim r0, Dim r1) { small_conv_impl<Avx512, 2>(a, n, r0, r1); }

KERAS_WINOGRAD_DEFINE(avx512, Avx512)
KERAS_POOLING_DEFINE(avx512, Avx512)
KERAS_DEPTHWISE_DEFINE(avx512, Avx512)

}  // namespace keras::backends::cpu::detail

namespace keras::backends::cpu::detail {

// 24 independent FMA chains (the microkernel's shape), `iters` rounds; returns a value the
// compiler cannot drop.
float fma_loop_avx512(long iters) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.0001f);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < 24; ++i) s = _mm512_add_ps(s, acc[i]);
  float out[16];
  _mm512_storeu_ps(out, s);
  float sum = 0;
  for (float v : out) sum += v;
  return sum;
}

}  // namespace keras::backends::cpu::detail
