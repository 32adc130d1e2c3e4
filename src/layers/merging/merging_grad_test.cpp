// Gradients of the merging layers (broadcasting included), checked numerically by the
// shared checker.
#include <cmath>
#include <nlohmann/json.hpp>

#include "layers/from_config.h"
#include "test_helpers.h"

namespace keras {
namespace {

using testing::AllClose;
using testing::GradientCheck;
using testing::random_tensor;

// Values on a grid of 0.1 plus a per-input offset: no two inputs come within 0.03 of each
// other, so Maximum/Minimum never change winner under the checker's 0.01 steps.
Tensor gridded(const Shape& s, uint32_t seed, float offset) {
  Tensor t = random_tensor(s, seed);
  for (float& v : t.values()) v = std::round(v * 10) / 10 + offset;
  return t;
}

TEST(ConcatenateGradient, SplitsAlongTheAxis) {
  Tensor a = random_tensor({2, 3, 4}, 1), b = random_tensor({2, 3, 2}, 2), c = random_tensor({2, 3, 1}, 3);
  EXPECT_TRUE(GradientCheck(layers::Concatenate(), {a, b, c}));
  EXPECT_TRUE(GradientCheck(layers::Concatenate(1), {a, random_tensor({2, 5, 4}, 4)}));
  EXPECT_TRUE(GradientCheck(layers::Concatenate(0), {a, random_tensor({1, 3, 4}, 5)}));
}

TEST(ElementwiseMergeGradient, SameShapes) {
  std::vector<Tensor> in{random_tensor({3, 4}, 1), random_tensor({3, 4}, 2), random_tensor({3, 4}, 3)};
  EXPECT_TRUE(GradientCheck(layers::Add(), in));
  EXPECT_TRUE(GradientCheck(layers::Multiply(), in));
  EXPECT_TRUE(GradientCheck(layers::Average(), in));
  EXPECT_TRUE(GradientCheck(layers::Subtract(), {in[0], in[1]}));
  std::vector<Tensor> apart{gridded({3, 4}, 1, 0), gridded({3, 4}, 2, 0.033f), gridded({3, 4}, 3, 0.066f)};
  EXPECT_TRUE(GradientCheck(layers::Maximum(), apart));
  EXPECT_TRUE(GradientCheck(layers::Minimum(), apart));
}

TEST(ElementwiseMergeGradient, BroadcastInputsSumOverBroadcastAxes) {
  Tensor a = random_tensor({2, 3, 4}, 1);
  for (const Shape& other : {Shape{2, 1, 4}, Shape{2, 3, 1}, Shape{2, 1, 1}, Shape{2, 4}, Shape{2, 1}}) {
    SCOPED_TRACE(other.str());
    Tensor b = random_tensor(other, 2);
    EXPECT_TRUE(GradientCheck(layers::Add(), {a, b}));
    EXPECT_TRUE(GradientCheck(layers::Subtract(), {b, a}));
    EXPECT_TRUE(GradientCheck(layers::Multiply(), {a, b, random_tensor({2, 3, 4}, 3)}));
    EXPECT_TRUE(GradientCheck(layers::Average(), {b, a}));
    EXPECT_TRUE(GradientCheck(layers::Maximum(), {gridded({2, 3, 4}, 1, 0), gridded(other, 2, 0.05f)}));
    EXPECT_TRUE(GradientCheck(layers::Minimum(), {gridded(other, 2, 0.05f), gridded({2, 3, 4}, 1, 0)}));
  }
}

TEST(ElementwiseMergeGradient, TiesGoToTheFirstInputAsTensorFlow) {
  Tensor a(Shape{1, 3}, {1, 2, 3}), b(Shape{1, 3}, {1, 5, 0});
  Tensor g(Shape{1, 3}, {10, 20, 30});
  for (Layer l : {layers::Maximum(), layers::Minimum()}) {
    SavedState saved;
    Tensor y = l->call({a, b}, {.training = true, .saved = &saved}).at(0);
    Gradients grads = l->backward({{a, b}, {y}, {g}, std::move(saved)});
    bool max = l->class_name() == "Maximum";
    EXPECT_TRUE(AllClose(grads.inputs[0], Tensor(Shape{1, 3}, {10, max ? 0.0f : 20, max ? 30.0f : 0})));
    EXPECT_TRUE(AllClose(grads.inputs[1], Tensor(Shape{1, 3}, {0, max ? 20.0f : 0, max ? 0.0f : 30})));
  }
}

TEST(DotGradient, AxesAndNormalize) {
  EXPECT_TRUE(GradientCheck(layers::Dot(-1), {random_tensor({3, 5}, 1), random_tensor({3, 5}, 2)}));
  EXPECT_TRUE(GradientCheck(layers::Dot(1, true), {random_tensor({3, 5}, 3), random_tensor({3, 5}, 4)}));
  Tensor a = random_tensor({2, 3, 4}, 5), b = random_tensor({2, 4, 5}, 6), c = random_tensor({2, 5, 3}, 7);
  EXPECT_TRUE(GradientCheck(layers::Dot({2, 1}), {a, b}));
  EXPECT_TRUE(GradientCheck(layers::Dot({1, 2}), {a, c}));
  EXPECT_TRUE(GradientCheck(layers::Dot({1, 2}, true), {a, c}));
  EXPECT_TRUE(GradientCheck(layers::Dot({2, 1}, true), {a, b}));
  EXPECT_TRUE(GradientCheck(layers::Dot(-1), {random_tensor({2, 3, 4}, 8), random_tensor({2, 4}, 9)}));
}

TEST(MergeK1Gradient, RunsThroughTheKeras2Layer) {
  Tensor a = random_tensor({2, 3}, 1), b = random_tensor({2, 3}, 2);
  for (const char* mode : {"sum", "mul", "ave", "concat", "dot"}) {
    SCOPED_TRACE(mode);
    nlohmann::json c = {{"name", std::string("m_") + mode}, {"mode", mode}, {"concat_axis", -1}, {"dot_axes", -1}};
    EXPECT_TRUE(GradientCheck(layers::merge_from_config(c, ConfigContext{.keras_major = 1}), {a, b}));
  }
  nlohmann::json mx = {{"name", "m_max"}, {"mode", "max"}};
  EXPECT_TRUE(GradientCheck(layers::merge_from_config(mx, ConfigContext{.keras_major = 1}),
                            {gridded({2, 3}, 1, 0), gridded({2, 3}, 2, 0.05f)}));
}

}  // namespace
}  // namespace keras
