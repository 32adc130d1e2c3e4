// OpenBLAS's sgemm as Products (convolutions through im2col): what the benchmarks and tests
// compare the CPU backend's own products with.
#include <cblas.h>

#include "ops/products.h"

namespace keras::ops {

namespace {

void gemm(bool ta, bool tb, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b, Dim ldb,
          float beta, float* c, Dim ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS leaves C untouched when k == 0 only if beta == 1; make beta apply
    for (Dim i = 0; i < m; ++i)
      for (Dim j = 0; j < n; ++j) c[i * ldc + j] = beta == 0 ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

}  // namespace

const Products& blas_products() {
  class Blas final : public Products {
   public:
    void gemm(bool ta, bool tb, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b, Dim ldb,
              float beta, float* c, Dim ldc) const override {
      ops::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
  };
  static const Blas products;
  return products;
}

}  // namespace keras::ops
