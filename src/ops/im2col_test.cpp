// The products operators run on (im2col over the reference gemm, over OpenBLAS, and the CPU
// backend's igemm products on a thread pool) against the reference loops; the vectorised pooling
// kernels likewise.
#include <cmath>
#include <random>
#include <tuple>

#include "backends/cpu/products.h"
#include "backends/thread_pool.h"
#include "ops/pooling.h"
#include "ops/products.h"
#include "test_helpers.h"

namespace keras {
namespace {

using testing::AllClose;
using testing::random_tensor;

ops::Conv2DArgs geometry(ops::Conv2DArgs a, const std::string& padding) {
  auto h = ops::conv_padding(a.in_h, a.k_h, a.stride_h, a.dilation_h, padding);
  auto w = ops::conv_padding(a.in_w, a.k_w, a.stride_w, a.dilation_w, padding);
  a.out_h = h.out;
  a.pad_top = h.pad_before;
  a.out_w = w.out;
  a.pad_left = w.pad_before;
  return a;
}

std::vector<ops::Conv2DArgs> cases() {
  return {
      geometry({.batch = 2, .in_h = 5, .in_w = 6, .in_c = 3, .out_c = 4, .k_h = 3, .k_w = 2}, "valid"),
      geometry(
          {.batch = 3, .in_h = 7, .in_w = 5, .in_c = 2, .out_c = 3, .k_h = 3, .k_w = 3, .stride_h = 2, .stride_w = 2},
          "same"),
      geometry({.batch = 2,
                .in_h = 6,
                .in_w = 6,
                .in_c = 2,
                .out_c = 2,
                .k_h = 2,
                .k_w = 3,
                .dilation_h = 2,
                .dilation_w = 2},
               "same"),
      geometry({.batch = 2, .in_h = 5, .in_w = 5, .in_c = 4, .out_c = 6, .k_h = 3, .k_w = 3, .groups = 2}, "valid"),
      geometry({.batch = 1, .in_h = 1, .in_w = 9, .in_c = 3, .out_c = 2, .k_h = 1, .k_w = 4, .stride_w = 3}, "same"),
      geometry({.batch = 2, .in_h = 4, .in_w = 3, .in_c = 5, .out_c = 3, .k_h = 1, .k_w = 1}, "valid"),  // pointwise
      geometry(
          {.batch = 2, .in_h = 5, .in_w = 5, .in_c = 3, .out_c = 2, .k_h = 1, .k_w = 1, .stride_h = 2, .stride_w = 2},
          "valid"),
      // More column floats than one chunk holds: the batch is lowered in two chunks.
      geometry({.batch = 8, .in_h = 48, .in_w = 48, .in_c = 32, .out_c = 8, .k_h = 3, .k_w = 3}, "same"),
  };
}

// Convolutions through im2col on the reference gemm (Products' own lowering).
class Im2colProducts final : public ops::Products {
 public:
  void gemm(bool ta, bool tb, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b, Dim ldb,
            float beta, float* c, Dim ldc) const override {
    ops::reference_products().gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
};

struct Named {
  const char* name;
  const ops::Products* products;
};

std::vector<Named> all_products() {
  static const Im2colProducts im2col;
  static backends::ThreadPool pool(3);
  static const backends::cpu::PoolProducts cpu(pool);
  return {{"im2col", &im2col}, {"openblas", &ops::blas_products()}, {"cpu", &cpu}};
}

class FastProducts : public ::testing::TestWithParam<Named> {};

INSTANTIATE_TEST_SUITE_P(All, FastProducts, ::testing::ValuesIn(all_products()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_P(FastProducts, GemmMatchesReference) {
  const auto& ref = ops::reference_products();
  const auto& fast = *GetParam().products;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (auto [m, n, k] : {std::tuple<Dim, Dim, Dim>{5, 7, 3}, {33, 17, 65}, {1, 10, 1600}, {4, 3, 0}}) {
        for (float beta : {0.0f, 1.0f, 0.5f}) {
          SCOPED_TRACE(::testing::Message()
                       << "ta " << ta << " tb " << tb << " m " << m << " n " << n << " k " << k << " beta " << beta);
          Dim lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3;  // padded rows
          Tensor a = random_tensor({std::max<Dim>(ta ? k : m, 1), lda}, 1);
          Tensor b = random_tensor({std::max<Dim>(tb ? n : k, 1), ldb}, 2);
          Tensor c0 = random_tensor({m, ldc}, 3), c1 = c0;
          ref.gemm(ta, tb, m, n, k, 1.5f, a.data(), lda, b.data(), ldb, beta, c0.data(), ldc);
          fast.gemm(ta, tb, m, n, k, 1.5f, a.data(), lda, b.data(), ldb, beta, c1.data(), ldc);
          EXPECT_TRUE(AllClose(c1, c0));
        }
      }
}

// The same arithmetic in the same order per value: results equal the reference exactly.
TEST(FastPooling, MatchesReferenceExactly) {
  const auto& ref = ops::reference_kernels();
  backends::ThreadPool pool(3);
  struct Case {
    Dim n, h, w, c, ph, pw, sh, sw;
    const char* padding;
  };
  for (const Case& k : {Case{2, 6, 6, 5, 2, 2, 2, 2, "valid"}, Case{1, 7, 5, 3, 3, 3, 2, 2, "same"},
                        Case{2, 5, 6, 4, 3, 2, 1, 1, "same"}, Case{1, 9, 4, 17, 2, 3, 3, 1, "valid"}}) {
    auto ph = ops::conv_padding(k.h, k.ph, k.sh, 1, k.padding), pw = ops::conv_padding(k.w, k.pw, k.sw, 1, k.padding);
    ops::Pool2DArgs a{.batch = k.n,
                      .in_h = k.h,
                      .in_w = k.w,
                      .channels = k.c,
                      .out_h = ph.out,
                      .out_w = pw.out,
                      .pool_h = k.ph,
                      .pool_w = k.pw,
                      .stride_h = k.sh,
                      .stride_w = k.sw,
                      .pad_top = ph.pad_before,
                      .pad_left = pw.pad_before};
    Tensor x = random_tensor({k.n, k.h, k.w, k.c}, 8);
    x[3] = x[4 + k.c];  // a tie inside a window: the first maximum takes the gradient
    Tensor dy = random_tensor({k.n, ph.out, pw.out, k.c}, 9);
    for (bool max : {true, false}) {
      Tensor y0(dy.shape()), y1(dy.shape(), 7.0f), dx0(x.shape()), dx1(x.shape(), 7.0f);
      (max ? ref.max_pool2d : ref.avg_pool2d)(a, x.data(), y0.data());
      (max ? ops::fast_max_pool2d : ops::fast_avg_pool2d)(a, x.data(), y1.data());
      EXPECT_EQ(y1, y0) << (max ? "max " : "avg ") << k.padding;
      Tensor dx2(x.shape(), 7.0f);
      if (max) {
        ref.max_pool2d_backward(a, x.data(), dy.data(), dx0.data());
        ops::fast_max_pool2d_backward(a, x.data(), dy.data(), dx1.data());
        backends::cpu::max_pool2d_backward(pool, a, x.data(), dy.data(), dx2.data());
      } else {
        ref.avg_pool2d_backward(a, dy.data(), dx0.data());
        ops::fast_avg_pool2d_backward(a, dy.data(), dx1.data());
        backends::cpu::avg_pool2d_backward(pool, a, dy.data(), dx2.data());
      }
      EXPECT_EQ(dx1, dx0) << (max ? "max backward " : "avg backward ") << k.padding;
      EXPECT_EQ(dx2, dx0) << (max ? "max backward (pool) " : "avg backward (pool) ") << k.padding;
    }
  }
}

// A convolution and both its gradients, fast products against the reference loops.
void check_convolution(const ops::Products& fast, const ops::Conv2DArgs& a) {
  const auto& ref = ops::reference_products();
  SCOPED_TRACE(std::to_string(a.batch) + "x" + std::to_string(a.in_h) + "x" + std::to_string(a.in_w) + "x" +
               std::to_string(a.in_c) + " -> " + std::to_string(a.out_c) + " k" + std::to_string(a.k_h) + "x" +
               std::to_string(a.k_w) + " s" + std::to_string(a.stride_h) + "x" + std::to_string(a.stride_w) + " d" +
               std::to_string(a.dilation_h) + "x" + std::to_string(a.dilation_w) + " pad " + std::to_string(a.pad_top) +
               "," + std::to_string(a.pad_left) + " groups " + std::to_string(a.groups));
  Tensor x = random_tensor({a.batch, a.in_h, a.in_w, a.in_c}, 1);
  Tensor w = random_tensor({a.k_h, a.k_w, a.in_c / a.groups, a.out_c}, 2);
  Tensor dy = random_tensor({a.batch, a.out_h, a.out_w, a.out_c}, 3);
  Tensor y0(dy.shape()), y1(dy.shape(), 7.0f), dx0(x.shape()), dx1(x.shape(), 7.0f), dw0(w.shape()),
      dw1(w.shape(), 7.0f);
  ref.conv2d(a, x.data(), w.data(), y0.data());
  fast.conv2d(a, x.data(), w.data(), y1.data());
  EXPECT_TRUE(AllClose(y1, y0));
  ref.conv2d_backward_input(a, dy.data(), w.data(), dx0.data());
  fast.conv2d_backward_input(a, dy.data(), w.data(), dx1.data());
  EXPECT_TRUE(AllClose(dx1, dx0));
  ref.conv2d_backward_filter(a, x.data(), dy.data(), dw0.data());
  fast.conv2d_backward_filter(a, x.data(), dy.data(), dw1.data());
  // Each filter gradient sums batch*out_h*out_w products in float32 in a different order;
  // rounding grows with the square root of the count.
  double terms = static_cast<double>(a.batch * a.out_h * a.out_w);
  EXPECT_TRUE(AllClose(dw1, dw0, 1e-4 + 1e-5 * std::sqrt(terms), 1e-4));
}

TEST_P(FastProducts, MatchReferenceConvolutionAndGradients) {
  for (const ops::Conv2DArgs& a : cases()) check_convolution(*GetParam().products, a);
}

// Random geometries, forward and backward: odd sizes, strides or dilations, both paddings,
// groups.
TEST_P(FastProducts, RandomConvolutionsAndGradientsMatchReference) {
  std::mt19937 gen(5);
  auto pick = [&](Dim lo, Dim hi) { return std::uniform_int_distribution<Dim>(lo, hi)(gen); };
  for (int trial = 0; trial < 40; ++trial) {
    bool dilated = pick(0, 2) == 0;
    ops::Conv2DArgs a{.batch = pick(1, 3), .k_h = pick(1, 4), .k_w = pick(1, 4)};
    a.stride_h = dilated ? 1 : pick(1, 3);
    a.stride_w = dilated ? 1 : pick(1, 3);
    a.dilation_h = dilated ? pick(1, 3) : 1;
    a.dilation_w = dilated ? pick(1, 3) : 1;
    a.in_h = pick((a.k_h - 1) * a.dilation_h + 1, 13);
    a.in_w = pick((a.k_w - 1) * a.dilation_w + 1, 13);
    a.groups = pick(1, 3);
    a.in_c = a.groups * pick(1, 6);
    a.out_c = a.groups * pick(1, 7);
    a = geometry(a, pick(0, 1) ? "same" : "valid");
    SCOPED_TRACE("trial " + std::to_string(trial));
    check_convolution(*GetParam().products, a);
  }
}

}  // namespace
}  // namespace keras
