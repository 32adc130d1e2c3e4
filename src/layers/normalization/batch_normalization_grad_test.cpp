// BatchNormalization's gradients (numerically, by the shared checker) in training mode
// (through the batch statistics) and inference mode, and its moving statistics after
// training steps against the momentum formula computed by hand.
#include <cmath>

#include "test_helpers.h"

namespace keras {
namespace {

using testing::AllClose;
using testing::GradientCheck;
using testing::random_tensor;

Tensor vec(std::vector<float> v) {
  Dim n = static_cast<Dim>(v.size());
  return Tensor(Shape{n}, std::move(v));
}

// Random gamma/beta and moving statistics, so no term is trivially 0 or 1.
Layer randomized(const layers::BatchNormalizationOptions& o, const Shape& input, uint32_t seed) {
  Layer bn = layers::BatchNormalization(o);
  Shape s = input;
  s[0] = None;
  bn->build({s});
  std::vector<Tensor> w;
  for (const Variable* v : std::as_const(*bn).variables()) {
    bool positive = v->name == "gamma" || v->name == "moving_variance";
    w.push_back(random_tensor(v->value.shape(), seed++, positive ? 0.5f : -1.0f, positive ? 1.5f : 1.0f));
  }
  bn.set_weights(w);
  return bn;
}

struct Case {
  layers::BatchNormalizationOptions options;
  Shape input;
};

std::vector<Case> cases() {
  return {{{}, Shape{6, 3}},
          {{}, Shape{4, 3, 3, 2}},
          {{.axis = 1}, Shape{4, 2, 3, 3}},
          {{.axis = 1, .epsilon = 0.1}, Shape{5, 3, 4}},
          {{.center = false}, Shape{6, 4}},
          {{.scale = false}, Shape{6, 4}},
          {{.center = false, .scale = false}, Shape{6, 4}},
          {{.axis = {1, 2}}, Shape{4, 3, 2, 2}}};
}

TEST(BatchNormalizationGradient, TrainingModeThroughBatchStatistics) {
  uint32_t seed = 1;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.input.str());
    EXPECT_TRUE(GradientCheck(randomized(c.options, c.input, seed), {random_tensor(c.input, seed + 50, -2, 2)},
                              {.training = true}));
    ++seed;
  }
}

TEST(BatchNormalizationGradient, InferenceModeWithMovingStatistics) {
  uint32_t seed = 20;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.input.str());
    EXPECT_TRUE(GradientCheck(randomized(c.options, c.input, seed), {random_tensor(c.input, seed + 50, -2, 2)}));
    ++seed;
  }
}

TEST(BatchNormalizationGradient, FrozenLayerTrainsInInferenceMode) {
  Layer bn = randomized({}, Shape{4, 3}, 40);
  bn->set_trainable(false);
  EXPECT_TRUE(GradientCheck(bn, {random_tensor({4, 3}, 41)}, {.training = true}));
  SavedState saved;
  Tensor x = random_tensor({4, 3}, 42);
  bn->call({x}, {.training = true, .saved = &saved});
  std::vector<Tensor> before = bn.get_weights();
  bn->apply_state_updates(saved);
  EXPECT_EQ(bn.get_weights(), before);
}

TEST(BatchNormalizationTraining, TwoStepsOfMovingStatisticsFollowTheMomentumFormula) {
  Layer bn = layers::BatchNormalization({.momentum = 0.9});
  bn->build({Shape{None, 2}});
  // Step 1: channel 0 sees {1, 3} (mean 2, biased variance 1), channel 1 sees {2, 6} (4, 4).
  Tensor x1(Shape{2, 2}, {1, 2, 3, 6});
  SavedState s1;
  Tensor y1 = bn->call({x1}, {.training = true, .saved = &s1}).at(0);
  // Normalised with the batch statistics: (x - mean) / sqrt(var + 1e-3), gamma 1, beta 0.
  float r0 = 1 / std::sqrt(1.001f), r1 = 1 / std::sqrt(4.001f);
  EXPECT_TRUE(AllClose(y1, Tensor(Shape{2, 2}, {-r0, -2 * r1, r0, 2 * r1})));
  bn->apply_state_updates(s1);
  // moving = moving * 0.9 + batch * 0.1, from moving_mean 0 and moving_variance 1.
  EXPECT_TRUE(AllClose(bn.get_weights()[2], vec({0.2f, 0.4f})));
  EXPECT_TRUE(AllClose(bn.get_weights()[3], vec({1.0f, 1.3f})));
  // Step 2: channel 0 sees {0, 4} (mean 2, var 4), channel 1 sees {-1, 1} (mean 0, var 1).
  Tensor x2(Shape{2, 2}, {0, -1, 4, 1});
  SavedState s2;
  bn->call({x2}, {.training = true, .saved = &s2});
  bn->apply_state_updates(s2);
  EXPECT_TRUE(AllClose(bn.get_weights()[2], vec({0.2f * 0.9f + 0.2f, 0.4f * 0.9f})));
  EXPECT_TRUE(AllClose(bn.get_weights()[3], vec({1.0f * 0.9f + 0.4f, 1.3f * 0.9f + 0.1f})));
  // An inference-mode call saves no batch statistics and changes nothing.
  SavedState s3;
  bn->call({x2}, {.training = false, .saved = &s3});
  bn->apply_state_updates(s3);
  EXPECT_TRUE(AllClose(bn.get_weights()[2], vec({0.38f, 0.36f})));
}

TEST(BatchNormalizationTraining, ModelRoutesStateUpdatesToItsLayers) {
  auto in = Input({2});
  auto bn = layers::BatchNormalization({.momentum = 0.5});
  Model model(in,
              bn(layers::Dense({.units = 2, .use_bias = false, .kernel_initializer = Initializer("identity")})(in)));
  SavedState saved;
  model->call({Tensor(Shape{2, 2}, {1, 2, 3, 6})}, {.training = true, .saved = &saved});
  model->apply_state_updates(saved);
  EXPECT_TRUE(AllClose(bn.get_weights()[2], vec({1.0f, 2.0f})));
  EXPECT_TRUE(AllClose(bn.get_weights()[3], vec({1.0f, 2.5f})));
}

}  // namespace
}  // namespace keras
