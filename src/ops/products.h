#pragma once
// The products an operator runs inside it (a recurrent op's projections and steps, a lowered
// convolution's gemm), as one backend runs them: the reference backend's plain loops, the CPU
// backend's igemm on the plan's threads, a BLAS. An object, made per run where it needs the run's
// thread pool, so nothing about how products run is process-global.
#include "ops/kernels.h"

namespace keras::ops {

class Products {
 public:
  // Row-major C[m,n] = alpha * op(A)[m,k] @ op(B)[k,n] + beta * C.
  virtual void gemm(bool trans_a, bool trans_b, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda,
                    const float* b, Dim ldb, float beta, float* c, Dim ldc) const = 0;
  // Convolutions as Kernels' functions of the same names; by default lowered to im2col and
  // gemm() (ops/im2col.h).
  virtual void conv2d(const Conv2DArgs& g, const float* x, const float* w, float* y) const;
  virtual void conv2d_backward_input(const Conv2DArgs& g, const float* dy, const float* w, float* dx) const;
  virtual void conv2d_backward_filter(const Conv2DArgs& g, const float* x, const float* dy, float* dw) const;

 protected:
  ~Products() = default;
};

// The reference kernels' loops (ops/reference), convolutions direct.
const Products& reference_products();
// OpenBLAS's sgemm (ops/blas), convolutions through im2col: for comparison in tests and
// benchmarks.
const Products& blas_products();

}  // namespace keras::ops
