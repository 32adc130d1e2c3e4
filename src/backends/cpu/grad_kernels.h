#pragma once
// The products and pooling gradients that training needs, on a given thread pool: the plans'
// gradient operators run them on their runtime's threads (layer_kernels.cpp; the layers' own
// kernel table calls the same functions on the default runtime's threads).
#include "backends/thread_pool.h"
#include "ops/kernels.h"

namespace keras::backends::cpu {

// Row-major C[m,n] = alpha * op(A)[m,k] @ op(B)[k,n] + beta * C, as ops::Kernels::gemm.
void gemm(ThreadPool& pool, bool trans_a, bool trans_b, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda,
          const float* b, Dim ldb, float beta, float* c, Dim ldc);
// As ops::Kernels' functions of the same names.
void conv2d(ThreadPool& pool, const ops::Conv2DArgs& args, const float* x, const float* w, float* y);
void conv2d_backward_input(ThreadPool& pool, const ops::Conv2DArgs& args, const float* dy, const float* w, float* dx);
void conv2d_backward_filter(ThreadPool& pool, const ops::Conv2DArgs& args, const float* x, const float* dy, float* dw);
void max_pool2d_backward(ThreadPool& pool, const ops::Pool2DArgs& args, const float* x, const float* dy, float* dx);
void avg_pool2d_backward(ThreadPool& pool, const ops::Pool2DArgs& args, const float* dy, float* dx);

}  // namespace keras::backends::cpu
