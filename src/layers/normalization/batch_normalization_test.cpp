// BatchNormalization against hand-computed values of Keras's formulas
// (keras/src/layers/normalization/batch_normalization.py; KERAS_SPEC §5.1).
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>

#include "layers/from_config.h"
#include "test_helpers.h"

namespace keras {
namespace {

using testing::AllClose;

Tensor vec(std::vector<float> v) {
  Dim n = static_cast<Dim>(v.size());
  return Tensor(Shape{n}, std::move(v));
}

TEST(BatchNormalization, WeightsInKerasOrderWithMovingStatsFrozen) {
  Layer bn = layers::BatchNormalization();
  bn->build({Shape{None, 4, 4, 3}});
  auto vars = bn->variables();
  ASSERT_EQ(vars.size(), 4u);
  std::vector<std::string> names;
  for (auto* v : vars) names.push_back(v->name);
  EXPECT_EQ(names, (std::vector<std::string>{"gamma", "beta", "moving_mean", "moving_variance"}));
  EXPECT_TRUE(vars[0]->trainable && vars[1]->trainable);
  EXPECT_FALSE(vars[2]->trainable || vars[3]->trainable);
  for (auto* v : vars) EXPECT_EQ(v->value.shape(), (Shape{3}));
  EXPECT_EQ(bn.count_params(), 12);
  EXPECT_EQ(bn->count_trainable_params(), 6);
  // Initializers: gamma ones, beta zeros, moving_mean zeros, moving_variance ones.
  EXPECT_TRUE(AllClose(vars[0]->value, vec({1, 1, 1})));
  EXPECT_TRUE(AllClose(vars[3]->value, vec({1, 1, 1})));
}

TEST(BatchNormalization, InferenceUsesMovingStatistics) {
  Layer bn = layers::BatchNormalization();
  bn->build({Shape{None, 2}});
  // var + eps = 4 and 0.25: sqrt gives 2 and 0.5, so inv = gamma / sqrt = 1 and 2.
  bn.set_weights({vec({2, 1}), vec({1, 0}), vec({1, -1}), vec({3.999f, 0.249f})});
  Tensor x(Shape{2, 2}, {3, 0, 1, -2});
  // ch0: (x - 1) * 1 + 1; ch1: (x + 1) * 2 + 0.
  EXPECT_TRUE(AllClose(bn(x), Tensor(Shape{2, 2}, {3, 2, 1, -2})));
}

TEST(BatchNormalization, NoCenterNoScaleHasOnlyMovingStatistics) {
  Layer bn = layers::BatchNormalization({.center = false, .scale = false});
  bn->build({Shape{None, 3}});
  ASSERT_EQ(bn.get_weights().size(), 2u);
  EXPECT_EQ(bn->variables()[0]->name, "moving_mean");
  bn.set_weights({vec({1, 2, 3}), vec({0.999f, 3.999f, 8.999f})});
  EXPECT_TRUE(AllClose(bn(Tensor(Shape{1, 3}, {2, 4, 9})), Tensor(Shape{1, 3}, {1, 1, 2})));
}

TEST(BatchNormalization, ChannelsFirstAxisOne) {
  Layer bn = layers::BatchNormalization({.axis = 1, .epsilon = 0.0});
  bn->build({Shape{None, 2, 3}});
  EXPECT_EQ(bn.get_weights()[0].shape(), (Shape{2}));
  bn.set_weights({vec({1, 3}), vec({0, 1}), vec({0, 10}), vec({4, 1})});
  Tensor x(Shape{1, 2, 3}, {2, 4, 6, 10, 11, 12});
  // ch0: x / 2; ch1: (x - 10) * 3 + 1.
  EXPECT_TRUE(AllClose(bn(x), Tensor(Shape{1, 2, 3}, {1, 2, 3, 1, 4, 7})));
}

TEST(BatchNormalization, TrainingModeUsesBatchStatistics) {
  Layer bn = layers::BatchNormalization();
  bn->build({Shape{None, 1}});
  Tensor x(Shape{2, 1}, {1, 3});  // mean 2, biased variance 1
  float s = static_cast<float>(1.0 / std::sqrt(1.001));
  EXPECT_TRUE(AllClose(bn->call({x}, CallContext{.training = true}).at(0), Tensor(Shape{2, 1}, {-s, s})));
  // Moving statistics are not used in training, and are left as they were.
  EXPECT_TRUE(AllClose(bn.get_weights()[2], vec({0})));
  // A frozen layer runs in inference mode even when training (Keras 3).
  bn->set_trainable(false);
  EXPECT_TRUE(AllClose(bn->call({x}, CallContext{.training = true}).at(0), Tensor(Shape{2, 1}, {s, 3 * s})));
}

TEST(BatchNormalization, Keras2ListAxesOverSeveralAxes) {
  Layer bn = layers::batch_normalization_from_config({{"axis", {1, 2}}, {"epsilon", 0.0}}, {});
  bn->build({Shape{None, 2, 2}});
  // Keras 2: weights of shape (1, 2, 2), the input's with 1 on the other axes.
  EXPECT_EQ(bn.get_weights()[0].shape(), (Shape{1, 2, 2}));
  Shape p{1, 2, 2};
  bn.set_weights({Tensor(p, {1, 1, 1, 2}), Tensor(p, 0.0f), Tensor(p, {0, 1, 2, 3}), Tensor(p, {1, 1, 1, 4})});
  EXPECT_TRUE(AllClose(bn(Tensor(p, {5, 5, 5, 5})), Tensor(p, {5, 4, 3, 2})));
}

TEST(BatchNormalization, Keras2BuiltAxisListAndKeras1Config) {
  Layer k2 = layers::batch_normalization_from_config({{"axis", {3}}, {"name", "bn2"}}, {});
  k2->build({Shape{None, 2, 2, 5}});
  EXPECT_EQ(k2.get_weights()[0].shape(), (Shape{5}));
  Layer k1 = layers::batch_normalization_from_config({{"name", "bn1"},
                                                      {"mode", 0},
                                                      {"axis", -1},
                                                      {"epsilon", 0.001},
                                                      {"momentum", 0.99},
                                                      {"gamma_init", "one"},
                                                      {"beta_init", "zero"}},
                                                     {});
  k1->build({Shape{None, 3}});
  EXPECT_EQ(k1.get_weights().size(), 4u);
  EXPECT_THROW(layers::batch_normalization_from_config({{"mode", 2}}, {}), ValueError);
}

TEST(BatchNormalization, ConfigUsesKeras3Spelling) {
  auto c = layers::BatchNormalization({.axis = 1, .epsilon = 0.01, .name = "bn"})->get_config();
  EXPECT_EQ(c["axis"], 1);
  EXPECT_EQ(c["momentum"], 0.99);
  EXPECT_EQ(c["epsilon"], 0.01);
  EXPECT_EQ(c["center"], true);
  EXPECT_EQ(c["gamma_initializer"]["class_name"], "Ones");
  EXPECT_EQ(c["synchronized"], false);
}

TEST(BatchNormalization, InputSpecErrors) {
  Layer bn = layers::BatchNormalization({.name = "bn"});
  bn->build({Shape{None, 3}});
  EXPECT_EQ(testing::value_error_of([&] {
              bn->compute_output_shape({Shape{None, 4}});
            }),
            "Input 0 of layer \"bn\" is incompatible with the layer: expected axis -1 of input shape to have value 3, "
            "but received input with shape (None, 4)");
  EXPECT_THROW(bn->compute_output_shape({Shape{None, 2, 3}}), ValueError);
  EXPECT_THROW(layers::BatchNormalization({.axis = 3})->build({Shape{None, 3}}), ValueError);
  EXPECT_THROW(layers::BatchNormalization()->build({Shape{None, None}}), ValueError);
}

}  // namespace
}  // namespace keras
