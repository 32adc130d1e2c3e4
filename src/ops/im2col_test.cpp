// The fast kernel tables (im2col + the reference gemm, + OpenBLAS, and the engine's igemm ones) against the
// reference loops, and the convolution layers' gradients with them active.
#include <cmath>
#include <random>
#include <tuple>

#include "ops/kernels.h"
#include "test_helpers.h"

namespace keras {
namespace {

using testing::AllClose;
using testing::GradientCheck;
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

// Makes `k` the active table for one scope.
class ActiveKernels {
 public:
  explicit ActiveKernels(const ops::Kernels& k) : saved_(ops::kernels()) { ops::set_kernels(k); }
  ~ActiveKernels() { ops::set_kernels(saved_); }
  ActiveKernels(const ActiveKernels&) = delete;
  ActiveKernels& operator=(const ActiveKernels&) = delete;

 private:
  const ops::Kernels& saved_;
};

// Each fast table is tested while active, so its lowered convolutions use its own gemm.
class FastKernels : public ::testing::TestWithParam<const ops::Kernels*> {
 protected:
  ActiveKernels active_{*GetParam()};
};

INSTANTIATE_TEST_SUITE_P(Tables, FastKernels,
                         ::testing::Values(&ops::im2col_kernels(), &ops::openblas_kernels(), &ops::engine_kernels()),
                         [](const auto& info) { return std::string(info.param->name); });

TEST_P(FastKernels, GemmMatchesReference) {
  const auto& ref = ops::reference_kernels();
  const auto& fast = *GetParam();
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
TEST_P(FastKernels, PoolingMatchesReferenceExactly) {
  const auto& ref = ops::reference_kernels();
  const auto& fast = *GetParam();
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
      (max ? fast.max_pool2d : fast.avg_pool2d)(a, x.data(), y1.data());
      EXPECT_EQ(y1, y0) << (max ? "max " : "avg ") << k.padding;
      if (max) {
        ref.max_pool2d_backward(a, x.data(), dy.data(), dx0.data());
        fast.max_pool2d_backward(a, x.data(), dy.data(), dx1.data());
      } else {
        ref.avg_pool2d_backward(a, dy.data(), dx0.data());
        fast.avg_pool2d_backward(a, dy.data(), dx1.data());
      }
      EXPECT_EQ(dx1, dx0) << (max ? "max backward " : "avg backward ") << k.padding;
    }
  }
}

// A convolution, both its gradients and (one group) its transpose, fast table against reference.
void check_convolution(const ops::Kernels& fast, const ops::Conv2DArgs& a) {
  const auto& ref = ops::reference_kernels();
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
  if (a.groups != 1) return;
  // conv2d_transpose reads args as the conv from its output back to its input.
  ops::Conv2DArgs t = a;
  std::swap(t.in_h, t.out_h);
  std::swap(t.in_w, t.out_w);
  std::swap(t.in_c, t.out_c);
  Tensor wt = random_tensor({a.k_h, a.k_w, a.in_c, a.out_c}, 4);  // (KH, KW, filters, C) of the transpose
  Tensor t0(x.shape()), t1(x.shape(), 7.0f);
  ref.conv2d_transpose(t, dy.data(), wt.data(), t0.data());
  fast.conv2d_transpose(t, dy.data(), wt.data(), t1.data());
  EXPECT_TRUE(AllClose(t1, t0));
}

TEST_P(FastKernels, MatchReferenceConvolutionAndGradients) {
  for (const ops::Conv2DArgs& a : cases()) check_convolution(*GetParam(), a);
}

// Random geometries, forward and backward: odd sizes, strides or dilations, both paddings,
// groups, and depthwise convolutions with their gradients.
TEST_P(FastKernels, RandomConvolutionsAndGradientsMatchReference) {
  std::mt19937 gen(5);
  auto pick = [&](Dim lo, Dim hi) { return std::uniform_int_distribution<Dim>(lo, hi)(gen); };
  const auto& ref = ops::reference_kernels();
  const auto& fast = *GetParam();
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
    check_convolution(fast, a);

    // Depthwise: out_c = in_c * M, kernel [KH, KW, C, M].
    ops::Conv2DArgs d = a;
    d.groups = 1;
    d.out_c = d.in_c * pick(1, 3);
    Tensor x = random_tensor({d.batch, d.in_h, d.in_w, d.in_c}, 11);
    Tensor w = random_tensor({d.k_h, d.k_w, d.in_c, d.out_c / d.in_c}, 12);
    Tensor dy = random_tensor({d.batch, d.out_h, d.out_w, d.out_c}, 13);
    Tensor y0(dy.shape()), y1(dy.shape(), 7.0f), dx0(x.shape()), dx1(x.shape(), 7.0f), dw0(w.shape()),
        dw1(w.shape(), 7.0f);
    ref.depthwise_conv2d(d, x.data(), w.data(), y0.data());
    fast.depthwise_conv2d(d, x.data(), w.data(), y1.data());
    EXPECT_TRUE(AllClose(y1, y0)) << "depthwise, trial " << trial;
    ref.depthwise_conv2d_backward_input(d, dy.data(), w.data(), dx0.data());
    fast.depthwise_conv2d_backward_input(d, dy.data(), w.data(), dx1.data());
    EXPECT_TRUE(AllClose(dx1, dx0)) << "depthwise input gradient, trial " << trial;
    ref.depthwise_conv2d_backward_filter(d, x.data(), dy.data(), dw0.data());
    fast.depthwise_conv2d_backward_filter(d, x.data(), dy.data(), dw1.data());
    EXPECT_TRUE(AllClose(dw1, dw0, 1e-4 + 1e-5 * std::sqrt(static_cast<double>(d.batch * d.out_h * d.out_w)), 1e-4))
        << "depthwise filter gradient, trial " << trial;
  }
}

TEST_P(FastKernels, ConvolutionLayerGradients) {
  set_random_seed(61);
  EXPECT_TRUE(GradientCheck(layers::Conv2D({.filters = 3, .kernel_size = 3, .strides = 2, .padding = "same"}),
                            {random_tensor({2, 6, 5, 2}, 1)}));
  EXPECT_TRUE(GradientCheck(layers::Conv2D({.filters = 4, .kernel_size = 2, .dilation_rate = 2, .groups = 2}),
                            {random_tensor({2, 5, 5, 4}, 2)}));
  EXPECT_TRUE(GradientCheck(layers::Conv1D({.filters = 2, .kernel_size = 3, .padding = "causal"}),
                            {random_tensor({2, 6, 3}, 3)}));
  EXPECT_TRUE(GradientCheck(layers::Conv2DTranspose({.filters = 2, .kernel_size = 3, .strides = 2, .padding = "same"}),
                            {random_tensor({2, 3, 3, 2}, 4)}));
}

// Every oracle fixture again, with the lowered convolutions doing the work.
TEST_P(FastKernels, PredictWhatTheOraclesPredicted) {
  for (const auto& path : testing::fixture_files("layers")) {
    testing::Fixture f = testing::load_fixture(path);
    SCOPED_TRACE(f.name + " (oracle: " + f.oracle + ")");
    Model model = model_from_json(f.model_json, ConfigContext{.source = f.name});
    model.set_weights(f.weights);
    auto got = model.predict(f.inputs);
    ASSERT_EQ(got.size(), f.outputs.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(AllClose(got[i], f.outputs[i])) << "output " << i;
  }
}

}  // namespace
}  // namespace keras
