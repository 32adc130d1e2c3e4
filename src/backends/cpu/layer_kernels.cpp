// The kernel table the layers' own call() and backward() use (training, and eager calls):
// im2col convolutions whose products run on the igemm kernels over the default runtime's
// threads, instead of a BLAS with threads of its own. Transposed operands are copied into
// row-major form first (thread-local buffers that grow as needed).
#include <algorithm>
#include <vector>

#include "backends/cpu/parallel_igemm.h"
#include "keras/runtime.h"
#include "ops/kernels.h"

namespace keras::ops {

namespace {

// dst[c][r] = src[r][c] for a rows x cols block at row stride ld; 32 x 32 tiles for the cache.
void transpose_into(const float* src, Dim rows, Dim cols, Dim ld, std::vector<float>& dst) {
  dst.resize(static_cast<size_t>(rows * cols));
  constexpr Dim kTile = 32;
  for (Dim r0 = 0; r0 < rows; r0 += kTile)
    for (Dim c0 = 0; c0 < cols; c0 += kTile)
      for (Dim r = r0; r < std::min(rows, r0 + kTile); ++r)
        for (Dim c = c0; c < std::min(cols, c0 + kTile); ++c) dst[static_cast<size_t>(c * rows + r)] = src[r * ld + c];
}

void gemm(bool ta, bool tb, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b, Dim ldb,
          float beta, float* c, Dim ldc);

// C = A^T B with A [k][m] much wider than B [k][n] (a convolution's filter gradient: A the
// patches, B the output gradient): C^T = B^T A needs only B and C^T transposed, not A.
bool gemm_by_transposed_result(Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b, Dim ldb,
                               float beta, float* c, Dim ldc) {
  if (n >= m) return false;
  thread_local std::vector<float> ct, t;
  ct.resize(static_cast<size_t>(n * m));
  gemm(true, false, n, m, k, 1.0f, b, ldb, a, lda, 0.0f, ct.data(), m);  // B^T A: b is [k][n]
  transpose_into(ct.data(), n, m, m, t);
  for (Dim i = 0; i < m; ++i)
    for (Dim j = 0; j < n; ++j)
      c[i * ldc + j] = alpha * t[static_cast<size_t>(i * n + j)] + (beta == 0 ? 0.0f : beta * c[i * ldc + j]);
  return true;
}

void gemm(bool ta, bool tb, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b, Dim ldb,
          float beta, float* c, Dim ldc) {
  if (m == 0 || n == 0) return;
  if (ta && !tb && k > 0 && gemm_by_transposed_result(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
  thread_local std::vector<float> at, bt, ct;
  bool direct = alpha == 1.0f && beta == 0.0f;
  if (k == 0) {
    for (Dim i = 0; i < m; ++i)
      for (Dim j = 0; j < n; ++j) c[i * ldc + j] = beta == 0 ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  const float* A = a;
  Dim la = lda;
  if (ta) {  // a is [k][m]
    transpose_into(a, k, m, lda, at);
    A = at.data();
    la = k;
  }
  const float* B = b;
  Dim lb = ldb;
  if (tb) {  // b is [n][k]
    transpose_into(b, n, k, ldb, bt);
    B = bt.data();
    lb = n;
  }
  float* C = c;
  Dim lc = ldc;
  if (!direct) {
    ct.resize(static_cast<size_t>(m * n));
    C = ct.data();
    lc = n;
  }
  Dim slice = backends::cpu::reduction_slice(k);
  backends::cpu::IGemmArgs g{
      .m = m, .n = n, .taps = k / slice, .k = slice, .a = A, .lda = la, .b = B, .ldb = lb, .c = C, .ldc = lc};
  std::shared_ptr<Runtime> runtime = default_runtime();
  backends::cpu::parallel_igemm(backends::cpu::detect_isa(), g, runtime->pool(), m * k);
  if (!direct)
    for (Dim i = 0; i < m; ++i)
      for (Dim j = 0; j < n; ++j)
        c[i * ldc + j] = alpha * ct[static_cast<size_t>(i * n + j)] + (beta == 0 ? 0.0f : beta * c[i * ldc + j]);
}

}  // namespace

const Kernels& engine_kernels() {
  static const Kernels k = [] {
    Kernels t = im2col_kernels();
    t.name = "igemm";
    t.gemm = gemm;
    return t;
  }();
  return k;
}

}  // namespace keras::ops
