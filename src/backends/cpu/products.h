#pragma once
// The CPU backend's products and pooling gradients on a given thread pool (its operators pass
// their run's pool), and the same products as ops::Products for the operators that take them
// (recurrent ops, im2col).
#include "backends/thread_pool.h"
#include "ops/products.h"

namespace keras::backends::cpu {

// Row-major C[m,n] = alpha * op(A)[m,k] @ op(B)[k,n] + beta * C, as ops::Products::gemm.
void gemm(ThreadPool& pool, bool trans_a, bool trans_b, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda,
          const float* b, Dim ldb, float beta, float* c, Dim ldc);
// As ops::Kernels' functions of the same names.
void conv2d(ThreadPool& pool, const ops::Conv2DArgs& args, const float* x, const float* w, float* y);
void conv2d_backward_input(ThreadPool& pool, const ops::Conv2DArgs& args, const float* dy, const float* w, float* dx);
void conv2d_backward_filter(ThreadPool& pool, const ops::Conv2DArgs& args, const float* x, const float* dy, float* dw);
void max_pool2d_backward(ThreadPool& pool, const ops::Pool2DArgs& args, const float* x, const float* dy, float* dx);
void avg_pool2d_backward(ThreadPool& pool, const ops::Pool2DArgs& args, const float* dy, float* dx);

class PoolProducts final : public ops::Products {
 public:
  explicit PoolProducts(ThreadPool& pool) : pool_(pool) {}
  void gemm(bool ta, bool tb, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b, Dim ldb,
            float beta, float* c, Dim ldc) const override;
  void conv2d(const ops::Conv2DArgs& g, const float* x, const float* w, float* y) const override;
  void conv2d_backward_input(const ops::Conv2DArgs& g, const float* dy, const float* w, float* dx) const override;
  void conv2d_backward_filter(const ops::Conv2DArgs& g, const float* x, const float* dy, float* dw) const override;

 private:
  ThreadPool& pool_;
};

}  // namespace keras::backends::cpu
