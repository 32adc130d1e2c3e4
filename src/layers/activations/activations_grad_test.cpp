// Gradients of the activation layers, checked numerically by the shared checker, away from
// the kinks where finite differences mean nothing.
#include <cmath>

#include "test_helpers.h"

namespace keras {
namespace {

using testing::away_from;
using testing::GradientCheck;
using testing::random_tensor;

TEST(ReLUGradient, EveryArgumentCombination) {
  Tensor x = away_from(random_tensor({4, 8}, 1, -3, 3), {0, 0.5f, 1.5f, 2.5f});
  EXPECT_TRUE(GradientCheck(layers::ReLU(), {x}));
  EXPECT_TRUE(GradientCheck(layers::ReLU({.max_value = 1.5}), {x}));
  EXPECT_TRUE(GradientCheck(layers::ReLU({.negative_slope = 0.3}), {x}));
  EXPECT_TRUE(GradientCheck(layers::ReLU({.threshold = 0.5}), {x}));
  EXPECT_TRUE(GradientCheck(layers::ReLU({.max_value = 2.5, .negative_slope = 0.2, .threshold = 0.5}), {x}));
  EXPECT_TRUE(GradientCheck(layers::ReLU({.max_value = 1.5, .negative_slope = 0.1}), {x}));
}

TEST(LeakyReLUGradient, SlopeBelowZero) {
  Tensor x = away_from(random_tensor({3, 2, 5}, 2), {0});
  EXPECT_TRUE(GradientCheck(layers::LeakyReLU(), {x}));
  EXPECT_TRUE(GradientCheck(layers::LeakyReLU(0.05), {x}));
}

TEST(ELUGradient, AlphaScalesTheNegativeSide) {
  Tensor x = away_from(random_tensor({3, 7}, 3, -2, 2), {0});
  EXPECT_TRUE(GradientCheck(layers::ELU(), {x}));
  EXPECT_TRUE(GradientCheck(layers::ELU(0.5), {x}));
}

TEST(ThresholdedReLUGradient, OneAboveThetaZeroBelow) {
  Tensor x = away_from(random_tensor({3, 7}, 4, -2, 2), {0.7f, 1.0f});
  EXPECT_TRUE(GradientCheck(layers::ThresholdedReLU(), {x}));
  EXPECT_TRUE(GradientCheck(layers::ThresholdedReLU(0.7), {x}));
}

TEST(PReLUGradient, AlphaGradientSumsOverBatchAndSharedAxes) {
  Tensor x = away_from(random_tensor({3, 4, 5, 2}, 5), {0});
  for (std::vector<int> shared : {std::vector<int>{}, {1}, {1, 2}, {3}, {1, 2, 3}}) {
    SCOPED_TRACE(shared.size());
    Layer l = layers::PReLU({.alpha_initializer = Initializer("random_uniform"), .shared_axes = shared});
    set_random_seed(6);
    l->build({Shape{None, 4, 5, 2}});
    EXPECT_TRUE(GradientCheck(l, {x}));
  }
  EXPECT_TRUE(GradientCheck(layers::PReLU(), {away_from(random_tensor({5, 3}, 7), {0})}));
}

TEST(SoftmaxGradient, OneAxisAndSeveralAxes) {
  Tensor x = random_tensor({2, 3, 4}, 8, -2, 2);
  EXPECT_TRUE(GradientCheck(layers::Softmax(), {x}));
  EXPECT_TRUE(GradientCheck(layers::Softmax(1), {x}));
  EXPECT_TRUE(GradientCheck(layers::Softmax(0), {x}));
  EXPECT_TRUE(GradientCheck(layers::Softmax({.axis = {1, 2}}), {x}));
  EXPECT_TRUE(GradientCheck(layers::Softmax({.axis = {0, 2}}), {x}));
}

}  // namespace
}  // namespace keras
