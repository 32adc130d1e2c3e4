// The noise layers in training (their inference is the identity: the tfjs oracle fixtures
// *_inference): the distributions Keras's formulas give, their gradients, and
// ActivityRegularization's penalty in evaluate() as Keras 3 adds it.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "keras/keras.h"
#include "test_helpers.h"

namespace keras {
namespace {

struct Moments {
  double mean, var;
};
Moments moments(const Tensor& t) {
  double s = 0, s2 = 0;
  for (float v : t.values()) s += v;
  double m = s / double(t.size());
  for (float v : t.values()) s2 += (v - m) * (v - m);
  return {m, s2 / double(t.size())};
}

Tensor standard_normal(const Shape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  Tensor t(shape);
  for (Dim i = 0; i < t.size(); ++i) t[i] = n(rng);
  return t;
}

// One training call and its backward with a gradient of ones: dx must be the saved dy/dx.
std::pair<Tensor, Tensor> train_call(const Layer& l, const Tensor& x) {
  SavedState saved;
  Tensor y = l->call({x}, {.training = true, .saved = &saved, .seed = 99}).at(0);
  Tensor dx = l->backward({{x}, {y}, {Tensor::ones(y.shape())}, saved}).inputs.at(0);
  return {y, dx};
}

// keras/src/layers/regularization/gaussian_noise.py: x + normal(0, stddev).
TEST(NoiseLayers, GaussianNoiseAddsNoiseOfItsStddev) {
  Tensor x = Tensor::ones({100, 200});
  auto [y, dx] = train_call(layers::GaussianNoise(0.3), x);
  Moments m = moments(y);
  EXPECT_NEAR(m.mean, 1.0, 0.011);             // 20000 draws: standard error 0.0021
  EXPECT_NEAR(std::sqrt(m.var), 0.3, 0.0075);  // standard error 0.0015
  EXPECT_TRUE(testing::AllClose(dx, Tensor::ones(x.shape())));
  EXPECT_EQ(layers::GaussianNoise(0.3)->call({x}, {}).at(0), x);  // inference
}

// gaussian_dropout.py: x * normal(1, sqrt(rate / (1 - rate))); dy/dx is that noise.
TEST(NoiseLayers, GaussianDropoutMultipliesByUnitMeanNoise) {
  Tensor x = Tensor::ones({100, 200});
  x[0] = 2.0f;
  auto [y, dx] = train_call(layers::GaussianDropout(0.3), x);
  Moments m = moments(dx);  // 20000 draws of stddev 0.65: bounds of 5 standard errors
  EXPECT_NEAR(m.mean, 1.0, 0.025);
  EXPECT_NEAR(std::sqrt(m.var), std::sqrt(0.3 / 0.7), 0.017);
  EXPECT_FLOAT_EQ(y[0], 2.0f * dx[0]);
  for (Dim i = 1; i < 50; ++i) EXPECT_FLOAT_EQ(y[i], dx[i]);
}

// alpha_dropout.py: dropped values become a * alpha_p + b, kept ones a * x + b; for inputs of
// mean 0 and variance 1 the output keeps both (the layer's purpose).
TEST(NoiseLayers, AlphaDropoutKeepsMeanAndVariance) {
  const double rate = 0.2, alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946;
  const double a = std::pow((1 - rate) * (1 + rate * alpha_p * alpha_p), -0.5), b = -a * alpha_p * rate;
  Tensor x = standard_normal({200, 200}, 5);
  auto [y, dx] = train_call(layers::AlphaDropout(rate), x);
  Dim dropped = 0;
  for (Dim i = 0; i < x.size(); ++i) {
    bool kept = dx[i] != 0.0f;
    dropped += kept ? 0 : 1;
    EXPECT_NEAR(y[i], kept ? a * x[i] + b : a * alpha_p + b, 1e-5) << i;
    if (kept) {
      EXPECT_NEAR(dx[i], a, 1e-6);
    }
  }
  EXPECT_NEAR(double(dropped) / double(x.size()), rate, 0.01);  // standard error 0.002
  Moments m = moments(y);                                       // 40000 values: 0.005 and 0.007
  EXPECT_NEAR(m.mean, 0.0, 0.025);
  EXPECT_NEAR(m.var, 1.0, 0.035);
}

TEST(NoiseLayers, ArgumentsAreChecked) {
  EXPECT_NE(testing::value_error_of([] { layers::GaussianNoise(1.5); }).find("stddev"), std::string::npos);
  EXPECT_NE(testing::value_error_of([] { layers::AlphaDropout(-0.1); }).find("rate"), std::string::npos);
}

// Keras 3 adds the activity regularizer's penalty of the layer's output to the loss (sum over
// the batch, not divided by it): mse + l1 * sum|x| + l2 * sum x^2.
TEST(ActivityRegularization, EvaluateAddsItsPenalty) {
  Model m = Sequential({Input({3}), layers::ActivityRegularization({.l1 = 0.01, .l2 = 0.001})});
  m.compile({.optimizer = "sgd", .loss = "mse"});
  Tensor x(Shape{2, 3}, {1, -2, 3, 0.5f, 0, -1}), y = Tensor::zeros({2, 3});
  double mse = (1 + 4 + 9 + 0.25 + 0 + 1) / 6.0, l1 = 1 + 2 + 3 + 0.5 + 0 + 1, l2 = 1 + 4 + 9 + 0.25 + 0 + 1;
  EXPECT_NEAR(m.evaluate(x, y, {.verbose = 0})[0], mse + 0.01 * l1 + 0.001 * l2, 1e-5);
}

}  // namespace
}  // namespace keras
