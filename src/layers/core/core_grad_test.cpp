// Gradients of the core layers, checked numerically by the shared checker.
#include "test_helpers.h"

namespace keras {
namespace {

using testing::GradientCheck;
using testing::random_tensor;

TEST(DenseGradient, MatchesFiniteDifferences) {
  set_random_seed(7);  // deterministic weights: no sample lands within eps of a kink
  for (const char* act : {"", "relu", "sigmoid", "tanh", "softmax", "gelu", "elu", "selu", "softplus", "swish",
                          "mish", "softsign", "hard_sigmoid", "log_softmax", "exponential", "leaky_relu"}) {
    SCOPED_TRACE(act);
    EXPECT_TRUE(GradientCheck(layers::Dense(4, act), {random_tensor({3, 5}, 1)}));
  }
  EXPECT_TRUE(GradientCheck(layers::Dense({.units = 3, .use_bias = false}), {random_tensor({2, 4, 6}, 2)}));
}

TEST(FunctionalGradient, SumsOverBranchesAndSharedLayers) {
  set_random_seed(8);
  // y = d2(concat(d1(a), d1(b))): d1 is shared, so its weight gradient sums over both calls.
  auto a = Input({3});
  auto b = Input({3});
  auto d1 = layers::Dense(2, "tanh");
  auto d2 = layers::Dense(1);
  Model model({a, b}, {d2(layers::Concatenate()({d1(a), d1(b)}))});
  EXPECT_TRUE(GradientCheck(model, {random_tensor({4, 3}, 3), random_tensor({4, 3}, 4)}));
}

}  // namespace
}  // namespace keras
