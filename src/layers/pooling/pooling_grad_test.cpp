// Gradients of the pooling layers through the shared finite-difference checker (random
// inputs have no ties, so every max is differentiable), plus TensorFlow's tie rule and the
// backward kernels' adjoint identities.
#include <algorithm>
#include <numeric>

#include "ops/kernels.h"
#include "test_helpers.h"

namespace keras {
namespace {

using layers::IntPair;
using testing::AllClose;
using testing::GradientCheck;
using testing::random_tensor;

double dot(const Tensor& a, const Tensor& b) {
  return std::inner_product(a.data(), a.data() + a.size(), b.data(), 0.0);
}

// random_tensor's values in the same order but 0.05 apart: no two cells closer than twice
// the checker's step, so no finite difference crosses from one maximum to another.
Tensor tie_free(const Shape& shape, uint32_t seed) {
  Tensor r = random_tensor(shape, seed);
  std::vector<Dim> order(static_cast<size_t>(r.size()));
  std::iota(order.begin(), order.end(), Dim{0});
  std::sort(order.begin(), order.end(), [&](Dim a, Dim b) { return r[a] < r[b]; });
  Tensor t(shape);
  for (size_t rank = 0; rank < order.size(); ++rank)
    t[order[rank]] = 0.05f * (static_cast<float>(rank) - static_cast<float>(order.size()) / 2);
  return t;
}

TEST(Pooling2DGradient, MatchesFiniteDifferences) {
  struct Case {
    const char* what;
    layers::Pooling2DOptions options;
    Shape input;
  };
  const std::vector<Case> cases = {
      {"default", {}, {2, 4, 6, 3}},
      {"odd valid", {.pool_size = 3, .strides = IntPair(2)}, {2, 7, 6, 2}},
      {"overlapping", {.pool_size = {2, 3}, .strides = IntPair(1)}, {1, 4, 5, 2}},
      {"same", {.pool_size = 3, .strides = IntPair(2), .padding = "same"}, {2, 6, 5, 2}},
      {"same odd", {.pool_size = 2, .padding = "same"}, {2, 5, 5, 2}},
      {"same stride 1", {.pool_size = {3, 2}, .strides = IntPair(1), .padding = "same"}, {1, 4, 4, 3}},
      {"channels_first", {.pool_size = 2, .padding = "same", .data_format = "channels_first"}, {2, 3, 5, 4}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_TRUE(GradientCheck(layers::MaxPooling2D(c.options), {tie_free(c.input, 41)})) << "max";
    EXPECT_TRUE(GradientCheck(layers::AveragePooling2D(c.options), {random_tensor(c.input, 42)})) << "average";
  }
}

TEST(Pooling1DGradient, MatchesFiniteDifferences) {
  struct Case {
    const char* what;
    layers::Pooling1DOptions options;
    Shape input;
  };
  const std::vector<Case> cases = {
      {"default", {}, {2, 6, 3}},
      {"odd valid", {.pool_size = 3, .strides = 2}, {2, 8, 2}},
      {"same", {.pool_size = 3, .strides = 2, .padding = "same"}, {2, 8, 2}},
      {"same stride 1", {.pool_size = 2, .strides = 1, .padding = "same"}, {2, 5, 2}},
      {"channels_first", {.pool_size = 2, .padding = "same", .data_format = "channels_first"}, {2, 3, 7}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_TRUE(GradientCheck(layers::MaxPooling1D(c.options), {tie_free(c.input, 43)})) << "max";
    EXPECT_TRUE(GradientCheck(layers::AveragePooling1D(c.options), {random_tensor(c.input, 44)})) << "average";
  }
}

TEST(GlobalPoolingGradient, MatchesFiniteDifferences) {
  for (bool keepdims : {false, true})
    for (const char* format : {"channels_last", "channels_first"}) {
      SCOPED_TRACE(std::string(format) + (keepdims ? " keepdims" : ""));
      layers::GlobalPoolingOptions o{.data_format = format, .keepdims = keepdims};
      EXPECT_TRUE(GradientCheck(layers::GlobalAveragePooling1D(o), {random_tensor({2, 5, 3}, 51)}));
      EXPECT_TRUE(GradientCheck(layers::GlobalMaxPooling1D(o), {tie_free({2, 5, 3}, 52)}));
      EXPECT_TRUE(GradientCheck(layers::GlobalAveragePooling2D(o), {random_tensor({2, 3, 4, 3}, 53)}));
      EXPECT_TRUE(GradientCheck(layers::GlobalMaxPooling2D(o), {tie_free({2, 3, 4, 3}, 54)}));
    }
}

Tensor pool_backward(const Layer& layer, const Tensor& x, const Tensor& dy) {
  Shape s = x.shape();
  s[0] = None;
  layer->build({s});
  std::vector<Tensor> in{x};
  SavedState saved;
  std::vector<Tensor> out = layer->call(in, {.saved = &saved});
  std::vector<Tensor> grads{dy};
  return layer->backward({in, out, grads, saved}).inputs.at(0);
}

// TensorFlow's MaxPoolGrad: a window's gradient goes to its first maximum in row-major order.
TEST(PoolingGradient, TiesGoToTheFirstMaximum) {
  Tensor x({1, 2, 4, 1}, {5, 5, 1, 2, 5, 5, 2, 2});
  Tensor dy({1, 1, 2, 1}, {10, 20});
  EXPECT_TRUE(AllClose(pool_backward(layers::MaxPooling2D(IntPair(2)), x, dy),
                       Tensor({1, 2, 4, 1}, {10, 0, 0, 20, 0, 0, 0, 0})));
  Tensor g({1, 4, 1}, {3, 1, 3, 3});
  EXPECT_TRUE(
      AllClose(pool_backward(layers::GlobalMaxPooling1D(), g, Tensor({1, 1}, {7})), Tensor({1, 4, 1}, {7, 0, 0, 0})));
}

// Keras's divisor rule: 'same' average pooling divides by the real cells only, so a corner
// window of one real cell passes its whole gradient back.
TEST(PoolingGradient, AverageSameDividesByRealCells) {
  Tensor x = random_tensor({1, 3, 3, 1}, 3);
  Tensor dy({1, 2, 2, 1}, {4, 8, 12, 16});
  // Windows (rows, cols): [0,2)x[0,2) 4 cells, [0,2)x[2,3) 2, [2,3)x[0,2) 2, [2,3)x[2,3) 1.
  Tensor want({1, 3, 3, 1}, {1, 1, 4, 1, 1, 4, 6, 6, 16});
  EXPECT_TRUE(AllClose(pool_backward(layers::AveragePooling2D(IntPair(2), std::nullopt, "same"), x, dy), want));
}

TEST(PoolKernels, BackwardKernelsAreAdjoints) {
  const auto& k = ops::reference_kernels();
  ops::Pool2DArgs a{.batch = 2,
                    .in_h = 5,
                    .in_w = 7,
                    .channels = 3,
                    .out_h = 3,
                    .out_w = 4,
                    .pool_h = 3,
                    .pool_w = 2,
                    .stride_h = 2,
                    .stride_w = 2,
                    .pad_top = 1,
                    .pad_left = 0};
  Tensor x = random_tensor({2, 5, 7, 3}, 7), dy = random_tensor({2, 3, 4, 3}, 8);
  Tensor y(dy.shape()), dx(x.shape());
  k.avg_pool2d(a, x.data(), y.data());
  k.avg_pool2d_backward(a, dy.data(), dx.data());
  EXPECT_NEAR(dot(y, dy), dot(x, dx), 1e-4);
  // Max pooling is linear where it is differentiable: y = P x with P selecting the maxima.
  k.max_pool2d(a, x.data(), y.data());
  k.max_pool2d_backward(a, x.data(), dy.data(), dx.data());
  EXPECT_NEAR(dot(y, dy), dot(x, dx), 1e-4);
}

}  // namespace
}  // namespace keras
