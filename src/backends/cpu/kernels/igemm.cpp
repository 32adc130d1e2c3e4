// igemm dispatch and the portable kernel (any x86-64 or other CPU; the compiler vectorises the
// inner loop over columns).
#include "backends/cpu/kernels/igemm.h"

#include <algorithm>
#include <stdexcept>

#include "backends/cpu/kernels/small_conv.h"

namespace keras::backends::cpu {

Isa detect_isa() {
#if defined(__x86_64__) || defined(__i386__)
  // libgcc's checks include the OS's XCR0 state bits, not only cpuid.
  if (__builtin_cpu_supports("avx512f")) return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
#endif
  return Isa::kGeneric;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kGeneric:
      break;
  }
  return "generic";
}

void igemm_block(Isa isa, const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1) {
#if defined(KERAS_HAVE_X86_KERNELS)
  if (isa == Isa::kAvx512) return detail::igemm_block_avx512(g, m0, m1, n0, n1);
  if (isa == Isa::kAvx2) return detail::igemm_block_avx2(g, m0, m1, n0, n1);
#else
  (void)isa;
#endif
  detail::igemm_block_generic(g, m0, m1, n0, n1);
}

bool has_small_conv(Isa isa) {
#if defined(KERAS_HAVE_X86_KERNELS)
  return isa == Isa::kAvx512;
#else
  (void)isa;
  return false;
#endif
}

void small_conv_rows(Isa isa, const SmallConvArgs& a, Dim n, Dim r0, Dim r1) {
#if defined(KERAS_HAVE_X86_KERNELS)
  if (isa == Isa::kAvx512) return detail::small_conv_rows_avx512(a, n, r0, r1);
#endif
  (void)isa, (void)a, (void)n, (void)r0, (void)r1;
  throw std::logic_error("small_conv_rows: no kernel for this ISA (check has_small_conv)");
}

Dim packed_width(Isa isa) {
  // The AVX-512 tiles are four vectors wide, the AVX2 ones two; the portable kernel reads B row
  // by row.
  return isa == Isa::kAvx512 ? 64 : isa == Isa::kAvx2 ? 16 : 0;
}

void pack_b(const float* b, Dim rows, Dim n, Dim ldb, Dim width, float* out) {
  for (Dim s0 = 0; s0 < n; s0 += width) {
    Dim cols = std::min(width, n - s0);
    for (Dim r = 0; r < rows; ++r, out += width) {
      std::copy(b + r * ldb + s0, b + r * ldb + s0 + cols, out);
      std::fill(out + cols, out + width, 0.0f);
    }
  }
}

void wgrad_block(Isa isa, const WGradArgs& g, Dim t, Dim c0, Dim c1, Dim f0, Dim f1) {
#if defined(KERAS_HAVE_X86_KERNELS)
  if (isa == Isa::kAvx512) return detail::wgrad_block_avx512(g, t, c0, c1, f0, f1);
  if (isa == Isa::kAvx2) return detail::wgrad_block_avx2(g, t, c0, c1, f0, f1);
#else
  (void)isa;
#endif
  detail::wgrad_block_generic(g, t, c0, c1, f0, f1);
}

void wgrad_rows(Isa isa, const WGradArgs& g, Dim r0, Dim r1, Dim f0, Dim f1) {
#if defined(KERAS_HAVE_X86_KERNELS)
  if (isa == Isa::kAvx512) return detail::wgrad_rows_avx512(g, r0, r1, f0, f1);
  if (isa == Isa::kAvx2) return detail::wgrad_rows_avx2(g, r0, r1, f0, f1);
#endif
  for (Dim r = r0; r < r1; ++r) {
    Dim t = r / g.channels, c = r % g.channels;
    wgrad_block(isa, g, t, c, c + 1, f0, f1);
  }
}

namespace detail {

void wgrad_block_generic(const WGradArgs& g, Dim t, Dim c0, Dim c1, Dim f0, Dim f1) {
  for (Dim c = c0; c < c1; ++c) {
    float* out = g.dw + (t * g.channels + c) * g.filters;
    for (Dim f = f0; f < f1; ++f) out[f] = 0.0f;
    for (Dim p = 0; p < g.pixels; ++p) {
      int32_t o = g.offsets[p * g.taps + t];
      float xv = o < 0 ? 0.0f : g.x[o + c];
      const float* dyp = g.dy + p * g.filters;
      for (Dim f = f0; f < f1; ++f) out[f] += xv * dyp[f];
    }
  }
}

void igemm_block_generic(const IGemmArgs& g, Dim m0, Dim m1, Dim n0, Dim n1) {
  Dim cols = n1 - n0;
  for (Dim i = m0; i < m1; ++i) {
    float* c = g.c + i * g.ldc + n0;
    for (Dim j = 0; j < cols; ++j) c[j] = (g.accumulate ? c[j] : 0.0f) + (g.bias ? g.bias[n0 + j] : 0.0f);
    for (Dim t = 0; t < g.taps; ++t) {
      const float* a;
      if (g.a_offsets) {
        int32_t o = g.a_offsets[i * g.taps + t];
        a = o < 0 ? g.zeros : g.a + o;
      } else {
        a = g.a + i * g.lda + t * g.k;
      }
      const float* b = g.b + t * g.k * g.ldb + n0;
      for (Dim kk = 0; kk < g.k; ++kk, b += g.ldb) {
        float av = a[kk];
        for (Dim j = 0; j < cols; ++j) c[j] += av * b[j];
      }
    }
    if (g.relu)
      for (Dim j = 0; j < cols; ++j) c[j] = std::max(c[j], 0.0f);
  }
}

}  // namespace detail

}  // namespace keras::backends::cpu
