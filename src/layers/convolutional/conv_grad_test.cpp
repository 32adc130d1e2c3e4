// Gradients of the convolution layers: every layer through the shared finite-difference
// checker on many geometries, and the backward kernels against the adjoint identities
// <K x, dy> = <x, K^T dy> (input) and <K_w x, dy> = <w, dK_w> (filter, K linear in w).
#include <numeric>

#include "ops/kernels.h"
#include "test_helpers.h"

namespace keras {
namespace {

using layers::IntPair;
using testing::GradientCheck;
using testing::random_tensor;

double dot(const Tensor& a, const Tensor& b) {
  return std::inner_product(a.data(), a.data() + a.size(), b.data(), 0.0);
}

TEST(Conv2DGradient, MatchesFiniteDifferences) {
  set_random_seed(11);
  struct Case {
    const char* what;
    layers::Conv2DOptions options;
    Shape input;
  };
  const std::vector<Case> cases = {
      {"valid", {.filters = 3, .kernel_size = 3}, {2, 5, 6, 2}},
      {"same strided", {.filters = 2, .kernel_size = {3, 2}, .strides = {2, 3}, .padding = "same"}, {2, 7, 8, 3}},
      {"same even kernel", {.filters = 2, .kernel_size = 2, .padding = "same"}, {1, 5, 5, 2}},
      {"valid strided", {.filters = 2, .kernel_size = 3, .strides = 2}, {2, 7, 6, 1}},
      {"dilated", {.filters = 2, .kernel_size = 3, .padding = "same", .dilation_rate = {2, 1}}, {2, 7, 6, 2}},
      {"dilated valid", {.filters = 2, .kernel_size = 2, .dilation_rate = 2}, {1, 6, 6, 2}},
      {"groups", {.filters = 4, .kernel_size = 3, .groups = 2}, {2, 5, 5, 4}},
      {"groups same", {.filters = 6, .kernel_size = 2, .padding = "same", .groups = 3}, {1, 4, 5, 3}},
      {"channels_first",
       {.filters = 3, .kernel_size = 2, .strides = 2, .padding = "same", .data_format = "channels_first"},
       {2, 2, 5, 5}},
      {"tanh, no bias", {.filters = 2, .kernel_size = 3, .activation = "tanh", .use_bias = false}, {2, 5, 5, 2}},
      {"softmax channels_first",
       {.filters = 3, .kernel_size = 2, .data_format = "channels_first", .activation = "softmax"},
       {2, 2, 4, 3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_TRUE(GradientCheck(layers::Conv2D(c.options), {random_tensor(c.input, 21)}));
  }
}

TEST(Conv1DGradient, MatchesFiniteDifferences) {
  set_random_seed(12);
  struct Case {
    const char* what;
    layers::Conv1DOptions options;
    Shape input;
  };
  const std::vector<Case> cases = {
      {"valid", {.filters = 3, .kernel_size = 3}, {2, 7, 2}},
      {"same strided", {.filters = 2, .kernel_size = 4, .strides = 3, .padding = "same"}, {2, 10, 3}},
      {"causal dilated", {.filters = 2, .kernel_size = 3, .padding = "causal", .dilation_rate = 2}, {2, 8, 2}},
      {"causal strided", {.filters = 2, .kernel_size = 2, .strides = 2, .padding = "causal"}, {1, 7, 2}},
      {"groups", {.filters = 4, .kernel_size = 2, .groups = 2, .activation = "sigmoid"}, {2, 6, 4}},
      {"channels_first",
       {.filters = 3, .kernel_size = 3, .padding = "same", .data_format = "channels_first"},
       {2, 2, 6}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_TRUE(GradientCheck(layers::Conv1D(c.options), {random_tensor(c.input, 22)}));
  }
}

TEST(DepthwiseConvGradient, MatchesFiniteDifferences) {
  set_random_seed(13);
  EXPECT_TRUE(GradientCheck(layers::DepthwiseConv2D({.kernel_size = 3}), {random_tensor({2, 5, 5, 2}, 1)}));
  EXPECT_TRUE(GradientCheck(
      layers::DepthwiseConv2D({.kernel_size = {3, 2}, .strides = 2, .padding = "same", .depth_multiplier = 2}),
      {random_tensor({2, 7, 6, 3}, 2)}));
  EXPECT_TRUE(GradientCheck(
      layers::DepthwiseConv2D({.kernel_size = 2, .padding = "same", .dilation_rate = {1, 2}, .activation = "tanh"}),
      {random_tensor({1, 5, 6, 2}, 3)}));
  EXPECT_TRUE(
      GradientCheck(layers::DepthwiseConv2D(
                        {.kernel_size = 2, .depth_multiplier = 3, .data_format = "channels_first", .use_bias = false}),
                    {random_tensor({2, 2, 4, 5}, 4)}));
  EXPECT_TRUE(
      GradientCheck(layers::DepthwiseConv1D({.kernel_size = 3, .depth_multiplier = 2}), {random_tensor({2, 6, 3}, 5)}));
  EXPECT_TRUE(GradientCheck(layers::DepthwiseConv1D({.kernel_size = 2, .strides = 2, .padding = "same"}),
                            {random_tensor({2, 7, 2}, 6)}));
  EXPECT_TRUE(GradientCheck(layers::DepthwiseConv1D({.kernel_size = 3, .padding = "causal", .dilation_rate = 2}),
                            {random_tensor({2, 7, 2}, 7)}));
  EXPECT_TRUE(GradientCheck(layers::DepthwiseConv1D({.kernel_size = 2, .data_format = "channels_first"}),
                            {random_tensor({2, 3, 5}, 8)}));
}

TEST(SeparableConvGradient, MatchesFiniteDifferences) {
  set_random_seed(14);
  EXPECT_TRUE(
      GradientCheck(layers::SeparableConv2D({.filters = 3, .kernel_size = 3}), {random_tensor({2, 5, 5, 2}, 1)}));
  EXPECT_TRUE(GradientCheck(layers::SeparableConv2D({.filters = 2,
                                                     .kernel_size = 2,
                                                     .strides = 2,
                                                     .padding = "same",
                                                     .depth_multiplier = 2,
                                                     .activation = "tanh"}),
                            {random_tensor({2, 5, 6, 3}, 2)}));
  EXPECT_TRUE(GradientCheck(layers::SeparableConv2D({.filters = 2,
                                                     .kernel_size = 3,
                                                     .padding = "same",
                                                     .data_format = "channels_first",
                                                     .dilation_rate = 2,
                                                     .use_bias = false}),
                            {random_tensor({2, 2, 6, 5}, 3)}));
  EXPECT_TRUE(GradientCheck(layers::SeparableConv1D({.filters = 3, .kernel_size = 3, .depth_multiplier = 2}),
                            {random_tensor({2, 7, 2}, 4)}));
  EXPECT_TRUE(GradientCheck(
      layers::SeparableConv1D(
          {.filters = 2, .kernel_size = 2, .strides = 2, .padding = "same", .data_format = "channels_first"}),
      {random_tensor({2, 3, 7}, 5)}));
  // tf.keras allows 'causal' here too, and its files load.
  EXPECT_TRUE(
      GradientCheck(layers::SeparableConv1D({.filters = 2, .kernel_size = 3, .padding = "causal", .dilation_rate = 2}),
                    {random_tensor({2, 7, 2}, 6)}));
}

TEST(ConvTransposeGradient, MatchesFiniteDifferences) {
  set_random_seed(15);
  struct Case {
    const char* what;
    layers::Conv2DTransposeOptions options;
    Shape input;
  };
  const std::vector<Case> cases = {
      {"valid", {.filters = 2, .kernel_size = 3}, {2, 4, 3, 2}},
      {"valid strided", {.filters = 2, .kernel_size = {3, 2}, .strides = {2, 3}}, {2, 3, 3, 2}},
      {"same strided", {.filters = 3, .kernel_size = 3, .strides = 2, .padding = "same"}, {2, 3, 4, 2}},
      {"same even kernel", {.filters = 2, .kernel_size = 2, .strides = 2, .padding = "same"}, {1, 3, 3, 2}},
      {"output_padding", {.filters = 2, .kernel_size = 3, .strides = 2, .output_padding = IntPair(1, 0)}, {2, 3, 3, 1}},
      {"dilated", {.filters = 2, .kernel_size = 2, .padding = "same", .dilation_rate = 2}, {1, 4, 4, 2}},
      {"channels_first",
       {.filters = 2, .kernel_size = 3, .strides = 2, .data_format = "channels_first", .activation = "tanh"},
       {2, 3, 3, 3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_TRUE(GradientCheck(layers::Conv2DTranspose(c.options), {random_tensor(c.input, 23)}));
  }
  EXPECT_TRUE(GradientCheck(layers::Conv1DTranspose({.filters = 2, .kernel_size = 3, .strides = 2}),
                            {random_tensor({2, 4, 3}, 24)}));
  EXPECT_TRUE(GradientCheck(
      layers::Conv1DTranspose({.filters = 3, .kernel_size = 4, .strides = 2, .padding = "same", .output_padding = 1}),
      {random_tensor({2, 4, 2}, 25)}));
  EXPECT_TRUE(GradientCheck(layers::Conv1DTranspose({.filters = 2,
                                                     .kernel_size = 3,
                                                     .padding = "same",
                                                     .data_format = "channels_first",
                                                     .dilation_rate = 2,
                                                     .use_bias = false}),
                            {random_tensor({2, 2, 5}, 26)}));
}

// The keras.io convnet in miniature, differentiated through the functional graph.
TEST(ConvnetGradient, Conv2DMaxPoolingFlattenDense) {
  set_random_seed(16);
  auto x = Input({6, 6, 2});
  auto h = layers::Conv2D({.filters = 3, .kernel_size = 3, .padding = "same", .activation = "tanh"})(x);
  h = layers::MaxPooling2D(IntPair(2))(h);
  h = layers::Flatten()(h);
  Model model(x, layers::Dense(4, "softmax")(h));
  EXPECT_TRUE(GradientCheck(model, {random_tensor({3, 6, 6, 2}, 31)}));
}

TEST(ConvnetGradient, ReluConvStack) {
  set_random_seed(17);
  auto x = Input({7, 7, 1});
  auto h = layers::Conv2D(4, 3, "relu")(x);
  h = layers::Conv2D({.filters = 2, .kernel_size = 2, .strides = 2, .padding = "same"})(h);
  h = layers::Flatten()(h);
  Model model(x, layers::Dense(3)(h));
  // A smaller step: at 1e-2 one relu input crosses zero and the difference quotient straddles the kink.
  EXPECT_TRUE(GradientCheck(model, {random_tensor({2, 7, 7, 1}, 32)}, {.eps = 1e-3}));
}

// Geometries for the kernel-level identities: odd sizes, padding, strides, dilation, groups.
std::vector<ops::Conv2DArgs> kernel_cases() {
  std::vector<ops::Conv2DArgs> cases;
  auto add = [&](ops::Conv2DArgs a, const std::string& padding) {
    auto h = ops::conv_padding(a.in_h, a.k_h, a.stride_h, a.dilation_h, padding);
    auto w = ops::conv_padding(a.in_w, a.k_w, a.stride_w, a.dilation_w, padding);
    a.out_h = h.out;
    a.pad_top = h.pad_before;
    a.out_w = w.out;
    a.pad_left = w.pad_before;
    cases.push_back(a);
  };
  add({.batch = 2, .in_h = 5, .in_w = 6, .in_c = 3, .out_c = 4, .k_h = 3, .k_w = 2}, "valid");
  add({.batch = 1, .in_h = 7, .in_w = 5, .in_c = 2, .out_c = 3, .k_h = 3, .k_w = 3, .stride_h = 2, .stride_w = 2},
      "same");
  add({.batch = 2, .in_h = 6, .in_w = 6, .in_c = 2, .out_c = 2, .k_h = 2, .k_w = 3, .dilation_h = 2, .dilation_w = 2},
      "same");
  add({.batch = 1, .in_h = 5, .in_w = 5, .in_c = 4, .out_c = 6, .k_h = 3, .k_w = 3, .groups = 2}, "valid");
  add({.batch = 1, .in_h = 1, .in_w = 9, .in_c = 3, .out_c = 2, .k_h = 1, .k_w = 4, .stride_w = 3}, "same");
  return cases;
}

TEST(ConvKernels, BackwardKernelsAreAdjointsOfConv2D) {
  const auto& k = ops::reference_kernels();
  for (const ops::Conv2DArgs& a : kernel_cases()) {
    SCOPED_TRACE(a.in_h * 1000 + a.in_w * 100 + a.k_h * 10 + a.groups);
    Tensor x = random_tensor({a.batch, a.in_h, a.in_w, a.in_c}, 1);
    Tensor w = random_tensor({a.k_h, a.k_w, a.in_c / a.groups, a.out_c}, 2);
    Tensor dy = random_tensor({a.batch, a.out_h, a.out_w, a.out_c}, 3);
    Tensor y(dy.shape()), dx(x.shape()), dw(w.shape());
    k.conv2d(a, x.data(), w.data(), y.data());
    k.conv2d_backward_input(a, dy.data(), w.data(), dx.data());
    k.conv2d_backward_filter(a, x.data(), dy.data(), dw.data());
    EXPECT_NEAR(dot(y, dy), dot(x, dx), 1e-4);
    EXPECT_NEAR(dot(y, dy), dot(w, dw), 1e-4);
  }
}

TEST(ConvKernels, DepthwiseBackwardKernelsAreAdjoints) {
  const auto& k = ops::reference_kernels();
  for (ops::Conv2DArgs a : kernel_cases()) {
    a.groups = 1;
    a.out_c = a.in_c * 2;
    Tensor x = random_tensor({a.batch, a.in_h, a.in_w, a.in_c}, 4);
    Tensor w = random_tensor({a.k_h, a.k_w, a.in_c, 2}, 5);
    Tensor dy = random_tensor({a.batch, a.out_h, a.out_w, a.out_c}, 6);
    Tensor y(dy.shape()), dx(x.shape()), dw(w.shape());
    k.depthwise_conv2d(a, x.data(), w.data(), y.data());
    k.depthwise_conv2d_backward_input(a, dy.data(), w.data(), dx.data());
    k.depthwise_conv2d_backward_filter(a, x.data(), dy.data(), dw.data());
    EXPECT_NEAR(dot(y, dy), dot(x, dx), 1e-4);
    EXPECT_NEAR(dot(y, dy), dot(w, dw), 1e-4);
  }
}

}  // namespace
}  // namespace keras
