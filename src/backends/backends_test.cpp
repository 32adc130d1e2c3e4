// The fast CPU backend against the reference backend, on random layers of odd shapes:
// convolutions (strides, dilation, groups, padding, both layouts, depthwise), Dense of any
// rank, pooling, and the inference rewrites (BatchNormalization folded into a product,
// activations fused). Every instruction set this CPU has is checked, on 1 and 3 threads.
#include <gtest/gtest.h>

#include <random>

#include "backends/cpu/kernels/igemm.h"
#include "engine/functional.h"
#include "keras/keras.h"
#include "keras/runtime.h"
#include "test_helpers.h"

namespace keras {
namespace {

using testing::AllClose;
using testing::random_tensor;

std::vector<std::string> isas() {
  std::vector<std::string> v{"generic"};
  auto best = backends::cpu::detect_isa();
  if (best >= backends::cpu::Isa::kAvx2) v.push_back("avx2");
  if (best >= backends::cpu::Isa::kAvx512) v.push_back("avx512");
  return v;
}

// Random weights scaled so that outputs stay near 1 (the tolerance is relative).
void randomize(Model& m, uint32_t seed) {
  std::vector<Tensor> w = m.get_weights();
  for (size_t i = 0; i < w.size(); ++i) {
    Dim fan_in = w[i].rank() >= 2 ? w[i].size() / w[i].dim(-1) : 1;
    float s = 1.0f / std::sqrt(static_cast<float>(std::max<Dim>(fan_in, 1)));
    w[i] = random_tensor(w[i].shape(), seed + static_cast<uint32_t>(i), -s, s);
    if (w[i].rank() == 1) w[i] = random_tensor(w[i].shape(), seed + 100 + static_cast<uint32_t>(i), 0.5f, 1.5f);
  }
  m.set_weights(w);
}

::testing::AssertionResult fast_matches_reference(Model& m, const Tensor& x) {
  m.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.backend = "reference", .threads = 1}));
  Tensor want = m.predict(x);
  for (const std::string& isa : isas())
    for (int threads : {1, 3}) {
      m.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.threads = threads, .isa = isa}));
      Tensor got = m.predict(x, {.batch_size = 1 << 20});
      auto r = AllClose(got, want);
      if (!r) return r << " (isa " << isa << ", " << threads << " threads)";
    }
  return ::testing::AssertionSuccess();
}

struct Rng {
  std::mt19937 gen;
  explicit Rng(uint32_t seed) : gen(seed) {}
  Dim pick(Dim lo, Dim hi) { return std::uniform_int_distribution<Dim>(lo, hi)(gen); }
  template <class T>
  const T& one_of(const std::vector<T>& v) {
    return v[static_cast<size_t>(pick(0, static_cast<Dim>(v.size()) - 1))];
  }
};

// A Conv2D, or a DepthwiseConv2D when `depthwise` (groups 1), of the given geometry.
Layer conv_layer(bool depthwise, Dim filters, Dim groups, Dim multiplier, layers::IntPair kernel,
                 layers::IntPair strides, layers::IntPair dilation, const std::string& padding,
                 const std::string& format, const std::string& act) {
  if (depthwise)
    return layers::DepthwiseConv2D({.kernel_size = kernel,
                                    .strides = strides,
                                    .padding = padding,
                                    .depth_multiplier = multiplier,
                                    .data_format = format,
                                    .dilation_rate = dilation,
                                    .activation = act});
  return layers::Conv2D({.filters = filters,
                         .kernel_size = kernel,
                         .strides = strides,
                         .padding = padding,
                         .data_format = format,
                         .dilation_rate = dilation,
                         .groups = groups,
                         .activation = act});
}

TEST(FastBackend, RandomConv2DMatchesReference) {
  Rng r(7);
  for (int trial = 0; trial < 60; ++trial) {
    Dim groups = r.one_of<Dim>({1, 1, 2, 3});
    Dim c = groups * r.pick(1, 9), f = groups * r.pick(1, 23);
    Dim kh = r.pick(1, 4), kw = r.pick(1, 4), sh = r.pick(1, 3), sw = r.pick(1, 3);
    bool dilated = r.pick(0, 3) == 0 && sh == 1 && sw == 1;
    Dim dh = dilated ? r.pick(1, 3) : 1, dw = dilated ? r.pick(1, 3) : 1;
    std::string padding = r.one_of<std::string>({"valid", "same"});
    std::string format = r.one_of<std::string>({"channels_last", "channels_last", "channels_first"});
    std::string act = r.one_of<std::string>({"linear", "relu", "sigmoid", "softmax"});
    Dim h = r.pick((kh - 1) * dh + 1, 17), w = r.pick((kw - 1) * dw + 1, 17), n = r.pick(1, 3);
    bool depthwise = groups == 1 && r.pick(0, 4) == 0;
    Shape in = format == "channels_last" ? Shape{h, w, c} : Shape{c, h, w};
    auto input = Input(in);
    Layer layer = conv_layer(depthwise, f, groups, depthwise ? r.pick(1, 3) : 1, {kh, kw}, {sh, sw}, {dh, dw}, padding,
                             format, act);
    Model m(input, layer(input));
    randomize(m, static_cast<uint32_t>(trial));
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + m.to_json());
    EXPECT_TRUE(fast_matches_reference(m, random_tensor(Shape{n, in[0], in[1], in[2]}, 1000u + trial)));
  }
}

// Convolutions of at most nine reduction values (grey images) keep their weights in registers
// (backends/cpu/kernels/small_conv.h): every padding, stride and dilation, filters across
// several register strips and partial ones.
TEST(FastBackend, SmallReductionConv2DMatchesReference) {
  Rng r(11);
  for (int trial = 0; trial < 30; ++trial) {
    Dim c = r.one_of<Dim>({1, 1, 2}), kh = r.pick(1, 3), kw = r.pick(1, c == 1 ? 3 : 2);
    bool dilated = r.pick(0, 2) == 0;  // Keras takes strides or dilation, not both
    Dim sh = dilated ? 1 : r.pick(1, 3), sw = dilated ? 1 : r.pick(1, 3);
    Dim dh = dilated ? r.pick(1, 3) : 1, dw = dilated ? r.pick(1, 3) : 1;
    Dim h = r.pick((kh - 1) * dh + 1, 20), w = r.pick((kw - 1) * dw + 1, 20);
    auto input = Input({h, w, c});
    Model m(input, layers::Conv2D({.filters = r.pick(1, 70),
                                   .kernel_size = {kh, kw},
                                   .strides = {sh, sw},
                                   .padding = r.one_of<std::string>({"valid", "same"}),
                                   .dilation_rate = {dh, dw},
                                   .activation = r.one_of<std::string>({"linear", "relu", "tanh"})})(input));
    randomize(m, 300u + static_cast<uint32_t>(trial));
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + m.to_json());
    EXPECT_TRUE(fast_matches_reference(m, random_tensor(Shape{r.pick(1, 3), h, w, c}, 1300u + trial)));
  }
}

// 3x3 stride-1 convolutions with at least 16 channels in and out run by Winograd, F(4x4, 3x3)
// where the outputs fill their 4x4 tiles, else F(2x2, 3x3): both tile sizes with both ways of
// splitting the work (shared transformed weights for many tiles, filter panels over channel
// slices for few), then random odd sizes and both paddings.
TEST(FastBackend, RandomWinogradConv2DMatchesReference) {
  struct Case {
    Dim batch, size, c, f;
  };
  // F(2x2) shared, F(2x2) panels, F(4x4) shared, F(4x4) panels (150 channels: three slices).
  std::vector<Case> cases{{3, 11, 20, 24}, {3, 11, 150, 140}, {1, 22, 20, 24}, {1, 16, 150, 140}};
  Rng r(13);
  for (int trial = 0; trial < 16; ++trial) {
    bool wide = trial % 2 == 0;
    Dim c = wide ? r.pick(16, 40) : r.pick(150, 200), f = wide ? r.pick(16, 50) : r.pick(120, 170);
    Dim h = wide ? r.pick(3, 40) : r.pick(3, 12);
    cases.push_back({r.pick(1, 2), h, c, f});
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& k = cases[i];
    Dim w = i < 4 ? k.size : k.size + r.pick(-2, 2);
    std::string padding = i < 4 ? "valid" : r.one_of<std::string>({"valid", "same"});
    auto input = Input({k.size, std::max<Dim>(w, 3), k.c});
    Model m(input, layers::Conv2D({.filters = k.f,
                                   .kernel_size = {3, 3},
                                   .padding = padding,
                                   .activation = r.one_of<std::string>({"relu", "linear", "tanh"})})(input));
    randomize(m, static_cast<uint32_t>(i));
    SCOPED_TRACE(m.to_json());
    EXPECT_TRUE(fast_matches_reference(m, random_tensor(Shape{k.batch, k.size, std::max<Dim>(w, 3), k.c}, 300u + i)));
  }
}

TEST(FastBackend, RandomConv1DMatchesReference) {
  Rng r(11);
  for (int trial = 0; trial < 20; ++trial) {
    Dim c = r.pick(1, 20), f = r.pick(1, 40), k = r.pick(1, 5), len = r.pick(k, 30);
    std::string padding = r.one_of<std::string>({"valid", "same", "causal"});
    auto input = Input({len, c});
    Model m(input,
            layers::Conv1D(
                {.filters = f, .kernel_size = k, .strides = r.pick(1, 2), .padding = padding, .activation = "relu"})(
                input));
    randomize(m, static_cast<uint32_t>(trial));
    SCOPED_TRACE(m.to_json());
    EXPECT_TRUE(fast_matches_reference(m, random_tensor(Shape{r.pick(1, 4), len, c}, 50u + trial)));
  }
}

TEST(FastBackend, RandomDenseMatchesReference) {
  Rng r(3);
  for (int trial = 0; trial < 40; ++trial) {
    Dim in = r.one_of<Dim>({1, 3, 17, 64, 129, 700, 1601, 4500}), units = r.one_of<Dim>({1, 2, 10, 31, 128, 257, 300});
    std::string act = r.one_of<std::string>({"linear", "relu", "softmax", "tanh"});
    bool rank3 = r.pick(0, 3) == 0;
    auto input = rank3 ? Input({r.pick(1, 5), in}) : Input({in});
    Model m(input, layers::Dense({.units = units, .activation = act, .use_bias = r.pick(0, 3) > 0})(input));
    randomize(m, static_cast<uint32_t>(trial));
    Shape s = input.shape();
    std::vector<Dim> dims = s.dims();
    dims[0] = r.one_of<Dim>({1, 2, 7, 13, 64});
    SCOPED_TRACE(m.to_json());
    EXPECT_TRUE(fast_matches_reference(m, random_tensor(Shape(dims), 70u + trial)));
  }
}

TEST(FastBackend, RandomPoolingMatchesReference) {
  Rng r(5);
  for (int trial = 0; trial < 30; ++trial) {
    Dim ph = r.pick(1, 3), pw = r.pick(1, 3), h = r.pick(ph, 13), w = r.pick(pw, 13), c = r.pick(1, 37);
    std::string padding = r.one_of<std::string>({"valid", "same"});
    std::string format = r.one_of<std::string>({"channels_last", "channels_first"});
    layers::Pooling2DOptions o{.pool_size = {ph, pw},
                               .strides = layers::IntPair{r.pick(1, 3), r.pick(1, 3)},
                               .padding = padding,
                               .data_format = format};
    Shape in = format == "channels_last" ? Shape{h, w, c} : Shape{c, h, w};
    auto input = Input(in);
    Model m(input, (r.pick(0, 1) ? layers::MaxPooling2D(o) : layers::AveragePooling2D(o))(input));
    SCOPED_TRACE(m.to_json());
    EXPECT_TRUE(fast_matches_reference(m, random_tensor(Shape{r.pick(1, 3), in[0], in[1], in[2]}, 90u + trial)));
  }
}

// `conv` pooled (max or mean, at random) against the reference backend; counts in `fused`
// whether the plan ran the pooling inside the convolution's operator.
void check_pooled(Rng& r, const KerasTensor& input, const KerasTensor& conv, const layers::Pooling2DOptions& o,
                  const Shape& batch_shape, uint32_t seed, int& fused) {
  Model m(input, (r.pick(0, 1) ? layers::MaxPooling2D(o) : layers::AveragePooling2D(o))(conv));
  randomize(m, seed);
  SCOPED_TRACE(m.to_json());
  fused += m.plan_info({batch_shape}).steps.find("conv2d+pool2d") != std::string::npos;
  EXPECT_TRUE(fast_matches_reference(m, random_tensor(batch_shape, 500u + seed)));
}

// A pooling after a direct convolution (few channels: patches; more: the indirect product)
// runs in the convolution's operator, band by band; the numbers stay those of the two layers.
TEST(FastBackend, ConvolutionWithFusedPoolingMatchesReference) {
  Rng r(21);
  int fused = 0;
  for (int trial = 0; trial < 24; ++trial) {
    Dim c = r.one_of<Dim>({1, 3, 5, 9, 12}), f = r.pick(1, 40);
    Dim kh = r.pick(1, 3), kw = r.pick(1, 3), sh = r.pick(1, 2), sw = r.pick(1, 2);
    Dim h = r.pick(kh + 6, 30), w = r.pick(kw + 6, 30);
    std::string act = r.one_of<std::string>({"relu", "linear", "tanh"});
    auto input = Input({h, w, c});
    KerasTensor y = layers::Conv2D({.filters = f,
                                    .kernel_size = {kh, kw},
                                    .strides = {sh, sw},
                                    .padding = r.one_of<std::string>({"valid", "same"}),
                                    .activation = act})(input);
    Dim ph = r.pick(1, 3), pw = r.pick(1, 3);
    layers::Pooling2DOptions o{.pool_size = {ph, pw},
                               .strides = layers::IntPair{r.pick(1, 3), r.pick(1, 3)},
                               .padding = r.one_of<std::string>({"valid", "same"})};
    check_pooled(r, input, y, o, Shape{r.pick(1, 3), h, w, c}, static_cast<uint32_t>(trial), fused);
  }
  EXPECT_GT(fused, 20);
}

// Winograd's output tiles are 2x2 or 4x4, so a 2x2 stride-2 pooling becomes one or four pixels
// per tile: odd
// sizes (a last tile half outside), both paddings of the convolution and of the pooling.
TEST(FastBackend, WinogradWithFusedPoolingMatchesReference) {
  Rng r(23);
  int fused = 0;
  for (int trial = 0; trial < 12; ++trial) {
    Dim c = r.pick(16, 40), f = r.pick(16, 50), h = r.pick(10, 33), w = r.pick(10, 33);
    auto input = Input({h, w, c});
    KerasTensor y = layers::Conv2D({.filters = f,
                                    .kernel_size = {3, 3},
                                    .padding = r.one_of<std::string>({"valid", "same"}),
                                    .activation = r.one_of<std::string>({"relu", "linear"})})(input);
    layers::Pooling2DOptions o{.pool_size = {2, 2}, .padding = r.one_of<std::string>({"valid", "same"})};
    check_pooled(r, input, y, o, Shape{r.pick(1, 3), h, w, c}, 100u + static_cast<uint32_t>(trial), fused);
  }
  EXPECT_GT(fused, 8);
}

// conv -> BatchNormalization -> relu folds into one conv operator; the numbers stay the
// reference's (which runs the three layers unfused).
TEST(FastBackend, FoldedBatchNormalizationMatchesReference) {
  auto input = Input({9, 11, 5});
  auto x = layers::Conv2D({.filters = 19, .kernel_size = {3, 3}, .padding = "same"})(input);
  x = layers::BatchNormalization()(x);
  x = layers::Activation("relu")(x);
  x = layers::MaxPooling2D({2, 2})(x);
  x = layers::Flatten()(x);
  x = layers::Dense(7)(x);
  x = layers::BatchNormalization()(x);
  Model m(input, layers::Activation("softmax")(x));
  randomize(m, 1);
  std::string plan = m.plan_info({Shape{2, 9, 11, 5}}).steps;
  EXPECT_EQ(plan.find("affine"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("activation"), std::string::npos) << plan;
  EXPECT_TRUE(fast_matches_reference(m, random_tensor(Shape{2, 9, 11, 5}, 4)));
}

// A weight changed after the plan was built (set_weights) makes the next predict use it.
TEST(FastBackend, ChangedWeightsRebuildThePlan) {
  auto input = Input({4});
  Model m(input, layers::Dense(3)(input));
  Tensor x = random_tensor(Shape{2, 4}, 1);
  Tensor before = m.predict(x);
  std::vector<Tensor> w = m.get_weights();
  w[1] = Tensor(Shape{3}, 10.0f);
  m.set_weights(w);
  Tensor after = m.predict(x);
  for (Dim i = 0; i < after.size(); ++i) EXPECT_NEAR(after[i] - before[i], 10.0f, 1e-5f);
}

// A training step on m's training plan: the outputs and every variable's gradient, for a
// random output gradient.
std::vector<Tensor> training_step(Model& m, const Tensor& x) {
  std::vector<const Shape*> shapes{&x.shape()};
  auto plan = m.functional().training_plan(shapes);
  graph::Plan::TrainingRun run(*plan);
  const float* in = x.data();
  run.forward({&in, 1}, 11);
  std::vector<Tensor> result = run.outputs(), output_grads;
  std::vector<const float*> dy;
  for (size_t i = 0; i < result.size(); ++i)
    dy.push_back(output_grads.emplace_back(random_tensor(result[i].shape(), 77u + static_cast<uint32_t>(i))).data());
  run.backward(dy);
  for (size_t i = 0; i < plan->gradient_variables().size(); ++i) {
    Tensor& t = result.emplace_back(Tensor::empty(plan->gradient_variables()[i]->value.shape()));
    std::copy(run.gradient(i), run.gradient(i) + t.size(), t.data());
  }
  return result;
}

// A training step on the default CPU backend (1 and 3 threads) against the reference backend's.
void expect_training_matches_reference(Model& m, const Tensor& x) {
  m.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.backend = "reference", .threads = 1}));
  std::vector<Tensor> want = training_step(m, x);
  for (int threads : {1, 3}) {
    m.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.threads = threads}));
    std::vector<Tensor> got = training_step(m, x);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_TRUE(AllClose(got[i], want[i])) << "tensor " << i << ", " << threads << " threads";
  }
}

// Training plans: forward and backward ops of random convnets (odd sizes, strides, dilation,
// groups, depthwise, both layouts, fused and split activations, batch normalization (frozen
// too), pooling,
// dropout, merges) on
// every fast instruction set and thread count against the reference backend's.
TEST(FastBackend, RandomTrainingStepsMatchReference) {
  Rng r(17);
  for (int trial = 0; trial < 30; ++trial) {
    Dim groups = r.one_of<Dim>({1, 1, 1, 2});
    Dim c = groups * r.pick(1, 6), f = groups * r.pick(1, 12);
    Dim kh = r.pick(1, 3), kw = r.pick(1, 3), sh = r.pick(1, 2), sw = r.pick(1, 2);
    bool dilated = r.pick(0, 3) == 0 && sh == 1 && sw == 1;
    Dim dh = dilated ? 2 : 1, dw = dilated ? 2 : 1;
    std::string format = r.one_of<std::string>({"channels_last", "channels_last", "channels_first"});
    std::string act = r.one_of<std::string>({"linear", "relu", "elu", "tanh", "gelu"});
    bool depthwise = groups == 1 && r.pick(0, 4) == 0;
    Dim h = r.pick((kh - 1) * dh + 3, 14), w = r.pick((kw - 1) * dw + 3, 14), n = r.pick(1, 4);
    Shape in = format == "channels_last" ? Shape{h, w, c} : Shape{c, h, w};
    auto input = Input(in);
    std::string padding = r.one_of<std::string>({"valid", "same"});
    Layer conv = conv_layer(depthwise, f, groups, depthwise ? r.pick(1, 2) : 1, {kh, kw}, {sh, sw}, {dh, dw}, padding,
                            format, act);
    auto y = conv(input);
    if (r.pick(0, 1)) {  // over the channels of either layout; sometimes frozen (its moving statistics)
      Layer bn = layers::BatchNormalization({.axis = format == "channels_last" ? -1 : 1});
      bn->set_trainable(r.pick(0, 2) != 0);
      y = bn(y);
    }
    if (r.pick(0, 1)) y = layers::MaxPooling2D({.pool_size = {2, 2}, .padding = "same", .data_format = format})(y);
    auto flat = layers::Flatten()(y);
    auto hidden = layers::Dense(r.pick(1, 40), r.one_of<std::string>({"relu", "selu", "sigmoid"}))(flat);
    auto skip = layers::Dense(hidden.shape()[-1])(layers::Dropout(0.25)(flat));
    auto merged = r.pick(0, 1) ? layers::Add()(std::vector<KerasTensor>{hidden, skip})
                               : layers::Multiply()(std::vector<KerasTensor>{hidden, skip});
    Model m(input, layers::Dense(r.pick(1, 5), "softmax")(merged));
    randomize(m, static_cast<uint32_t>(trial));
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + m.to_json());
    Tensor x = random_tensor(Shape{n, in[0], in[1], in[2]}, 2000u + trial);
    m.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.backend = "reference", .threads = 1}));
    std::vector<Tensor> want = training_step(m, x);
    for (const std::string& isa : isas())
      for (int threads : {1, 3}) {
        m.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.threads = threads, .isa = isa}));
        std::vector<Tensor> got = training_step(m, x);
        ASSERT_EQ(got.size(), want.size());
        for (size_t i = 0; i < got.size(); ++i)
          EXPECT_TRUE(AllClose(got[i], want[i])) << "tensor " << i << ", isa " << isa << ", " << threads << " threads";
      }
  }
}

// Transposed convolutions (output padding, dilation, both layouts) and separable ones (a
// depthwise then a pointwise op), forward and in training, against the reference backend.
TEST(FastBackend, RandomTransposedAndSeparableConvolutionsMatchReference) {
  Rng r(23);
  for (int trial = 0; trial < 24; ++trial) {
    Dim c = r.pick(1, 7), f = r.pick(1, 13);
    Dim kh = r.pick(1, 4), kw = r.pick(1, 4), sh = r.pick(1, 3), sw = r.pick(1, 3);
    bool dilated = r.pick(0, 3) == 0 && sh == 1 && sw == 1;
    Dim dh = dilated ? 2 : 1, dw = dilated ? 2 : 1;
    std::string padding = r.one_of<std::string>({"valid", "same"});
    std::string format = r.one_of<std::string>({"channels_last", "channels_last", "channels_first"});
    std::string act = r.one_of<std::string>({"linear", "relu", "tanh"});
    std::optional<layers::IntPair> output_padding;
    if (r.pick(0, 2) == 0) output_padding = layers::IntPair{r.pick(0, sh - 1), r.pick(0, sw - 1)};
    Dim h = r.pick(2, 9), w = r.pick(2, 9), n = r.pick(1, 3);
    Shape in = format == "channels_last" ? Shape{h, w, c} : Shape{c, h, w};
    auto input = Input(in);
    auto y = layers::Conv2DTranspose({.filters = f,
                                      .kernel_size = {kh, kw},
                                      .strides = {sh, sw},
                                      .padding = padding,
                                      .output_padding = output_padding,
                                      .data_format = format,
                                      .dilation_rate = {dh, dw},
                                      .activation = act})(input);
    y = layers::SeparableConv2D({.filters = r.pick(1, 9),
                                 .kernel_size = {r.pick(1, 3), r.pick(1, 3)},
                                 .padding = "same",
                                 .data_format = format,
                                 .depth_multiplier = r.pick(1, 2),
                                 .activation = act})(y);
    Model m(input, layers::Dense(r.pick(1, 4))(layers::Flatten()(y)));
    randomize(m, static_cast<uint32_t>(trial));
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + m.to_json());
    Tensor x = random_tensor(Shape{n, in[0], in[1], in[2]}, 3000u + trial);
    EXPECT_TRUE(fast_matches_reference(m, x));
    expect_training_matches_reference(m, x);
  }
}

// Recurrent layers (SimpleRNN, LSTM, GRU both reset modes, Bidirectional, ConvLSTM2D in both
// layouts; sequences, go_backwards, dropout masks in training), forward and in training, against
// the reference backend: the products differ, the gate arithmetic is shared.
TEST(FastBackend, RandomRecurrentLayersMatchReference) {
  Rng r(29);
  for (int trial = 0; trial < 24; ++trial) {
    Dim steps = r.pick(1, 6), features = r.pick(1, 9), units = r.pick(1, 12), n = r.pick(1, 5);
    bool sequences = r.pick(0, 1), backwards = r.pick(0, 2) == 0, bias = r.pick(0, 3) != 0;
    double dropout = r.one_of<double>({0.0, 0.0, 0.3}), recurrent = r.one_of<double>({0.0, 0.0, 0.4});
    std::string act = r.one_of<std::string>({"tanh", "relu", "linear"});
    std::string ract = r.one_of<std::string>({"sigmoid", "hard_sigmoid"});
    Dim kind = r.pick(0, 4);
    Shape in{steps, features};
    Layer rnn;
    if (kind == 0)
      rnn = layers::SimpleRNN({.units = units,
                               .activation = act,
                               .use_bias = bias,
                               .dropout = dropout,
                               .recurrent_dropout = recurrent,
                               .return_sequences = sequences,
                               .go_backwards = backwards});
    else if (kind == 1 || kind == 3)
      rnn = layers::LSTM({.units = units,
                          .activation = act,
                          .recurrent_activation = ract,
                          .use_bias = bias,
                          .dropout = dropout,
                          .recurrent_dropout = recurrent,
                          .return_sequences = sequences,
                          .go_backwards = backwards});
    else
      rnn = layers::GRU({.units = units,
                         .activation = act,
                         .recurrent_activation = ract,
                         .use_bias = bias,
                         .dropout = dropout,
                         .recurrent_dropout = recurrent,
                         .return_sequences = sequences,
                         .go_backwards = backwards,
                         .reset_after = r.pick(0, 1) != 0});
    if (kind == 3) rnn = layers::Bidirectional(rnn, r.one_of<std::string>({"concat", "sum", "mul"}));
    if (kind == 4) {
      std::string format = r.one_of<std::string>({"channels_last", "channels_first"});
      Dim h = r.pick(2, 6), w = r.pick(2, 6), c = r.pick(1, 4);
      in = format == "channels_last" ? Shape{steps, h, w, c} : Shape{steps, c, h, w};
      rnn = layers::ConvLSTM2D({.filters = r.pick(1, 5),
                                .kernel_size = {r.pick(1, 3), r.pick(1, 3)},
                                .strides = {r.pick(1, 2), 1},
                                .padding = r.one_of<std::string>({"valid", "same"}),
                                .data_format = format,
                                .activation = act,
                                .recurrent_activation = ract,
                                .use_bias = bias,
                                .return_sequences = sequences,
                                .go_backwards = backwards});
    }
    auto input = Input(in);
    Model m(input, layers::Dense(r.pick(1, 4))(layers::Flatten()(rnn(input))));
    randomize(m, static_cast<uint32_t>(trial));
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + m.to_json());
    std::vector<Dim> dims = in.dims();
    dims.insert(dims.begin(), n);
    Tensor x = random_tensor(Shape(dims), 4000u + trial);
    EXPECT_TRUE(fast_matches_reference(m, x));
    expect_training_matches_reference(m, x);
  }
}

// The memory-bound ops the CPU backend splits over threads: rectifiers, an unfolded
// BatchNormalization (an affine op), concatenation and global pooling, on odd shapes.
TEST(FastBackend, RandomMemoryBoundOpsMatchReference) {
  Rng r(31);
  for (int trial = 0; trial < 16; ++trial) {
    Dim h = r.pick(1, 40), w = r.pick(1, 40), c = r.pick(1, 37), n = r.pick(1, 3);
    auto input = Input(Shape{h, w, c});
    auto bn = layers::BatchNormalization()(input);  // first: nothing to fold into
    auto a = layers::LeakyReLU(0.1 * double(r.pick(0, 5)))(bn);
    auto b = layers::ELU(0.5 + 0.25 * double(r.pick(0, 4)))(input);
    auto d = layers::ReLU({.max_value = 2.0, .threshold = 0.1})(input);
    auto cat = layers::Concatenate(r.one_of<int>({-1, 1, 2}))(std::vector<KerasTensor>{a, b, d});
    auto pooled = r.pick(0, 1) ? layers::GlobalAveragePooling2D()(cat) : layers::GlobalMaxPooling2D()(cat);
    Model m(input, pooled);
    randomize(m, static_cast<uint32_t>(trial));
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + m.to_json());
    EXPECT_TRUE(fast_matches_reference(m, random_tensor(Shape{n, h, w, c}, 5000u + trial, -3.0f, 3.0f)));
  }
}

TEST(Runtime, RejectsUnknownBackendsAndInstructionSets) {
  EXPECT_THROW(Runtime(RuntimeOptions{.backend = "gpu"}), ValueError);
  EXPECT_THROW(Runtime(RuntimeOptions{.isa = "sse9"}), ValueError);
  EXPECT_THROW(Runtime(RuntimeOptions{.threads = -1}), ValueError);
}

}  // namespace
}  // namespace keras
