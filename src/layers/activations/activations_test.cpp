// Activation layers against hand-computed values from Keras's formulas and docstrings
// (keras/src/layers/activations/*.py, keras/src/activations/activations.py).
#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

#include "layers/from_config.h"
#include "test_helpers.h"

namespace keras {
namespace {

using testing::AllClose;

Tensor row(std::vector<float> v) {
  Dim n = static_cast<Dim>(v.size());
  return Tensor(Shape{1, n}, std::move(v));
}

TEST(ReLULayer, DefaultIsMaxWithZero) {
  EXPECT_TRUE(AllClose(layers::ReLU()(row({-10, -5, 0, 5, 10})), row({0, 0, 0, 5, 10})));
}

TEST(ReLULayer, KerasDocstringCombinations) {
  Tensor x = row({-10, -5, 0, 5, 10});
  // ReLU(max_value=10, negative_slope=0.5, threshold=0) -> [-5, -2.5, 0, 5, 10].
  EXPECT_TRUE(AllClose(layers::ReLU({.max_value = 10, .negative_slope = 0.5})(x), row({-5, -2.5, 0, 5, 10})));
  // relu(x, max_value=5.) -> [0, 0, 0, 5, 5]; relu(x, threshold=5.) -> [0, 0, 0, 0, 10].
  EXPECT_TRUE(AllClose(layers::ReLU({.max_value = 5})(x), row({0, 0, 0, 5, 5})));
  EXPECT_TRUE(AllClose(layers::ReLU({.threshold = 5})(x), row({0, 0, 0, 0, 10})));
  // relu(x, negative_slope=0.5) -> [-5, -2.5, 0, 5, 10].
  EXPECT_TRUE(AllClose(layers::ReLU({.negative_slope = 0.5})(x), row({-5, -2.5, 0, 5, 10})));
}

TEST(ReLULayer, ThresholdSlopeAndMaxTogether) {
  // x > 0.5 -> min(x, 2.5); else 0.2 * (x - 0.5).
  auto l = layers::ReLU({.max_value = 2.5, .negative_slope = 0.2, .threshold = 0.5});
  EXPECT_TRUE(AllClose(l(row({-1, 0.25, 0.5, 1, 3})), row({-0.3f, -0.05f, 0, 1, 2.5})));
}

TEST(ReLULayer, RejectsNegativeArgumentsWithKerasMessages) {
  EXPECT_EQ(testing::value_error_of([] { layers::ReLU({.max_value = -1}); }),
            "max_value of a ReLU layer cannot be a negative value. Received: max_value=-1.0");
  EXPECT_EQ(testing::value_error_of([] { layers::ReLU({.negative_slope = -0.5}); }),
            "negative_slope of a ReLU layer cannot be None or a negative value. Received: negative_slope=-0.5");
  EXPECT_EQ(testing::value_error_of([] { layers::ReLU({.threshold = -2}); }),
            "threshold of a ReLU layer cannot be None or a negative value. Received: threshold=-2.0");
}

TEST(LeakyReLULayer, LayerDefaultSlopeIsPointThreeButActivationIsPointTwo) {
  EXPECT_TRUE(AllClose(layers::LeakyReLU()(row({-1, 2})), row({-0.3f, 2})));
  EXPECT_TRUE(AllClose(layers::Activation("leaky_relu")(row({-1, 2})), row({-0.2f, 2})));
  // LeakyReLU(negative_slope=0.5) on [-10, -5, 0, 5, 10] -> [-5, -2.5, 0, 5, 10].
  EXPECT_TRUE(AllClose(layers::LeakyReLU(0.5)(row({-10, -5, 0, 5, 10})), row({-5, -2.5, 0, 5, 10})));
  EXPECT_EQ(testing::value_error_of([] { layers::LeakyReLU(-1e-7); }),
            "The negative_slope value of a Leaky ReLU layer cannot be None or negative value. Expected a float. "
            "Received: negative_slope=-1e-07");
}

TEST(LeakyReLULayer, ReadsKeras2AlphaAndWritesKeras3NegativeSlope) {
  Layer k2 = layers::leaky_relu_from_config({{"name", "lr"}, {"alpha", 0.1}}, {});
  EXPECT_TRUE(AllClose(k2(row({-2})), row({-0.2f})));
  EXPECT_EQ(k2->get_config()["negative_slope"], 0.1);
  Layer k3 = layers::leaky_relu_from_config({{"negative_slope", 0.05}}, {});
  EXPECT_TRUE(AllClose(k3(row({-2})), row({-0.1f})));
  Layer dflt = layers::leaky_relu_from_config({{"name", "d"}}, {});
  EXPECT_TRUE(AllClose(dflt(row({-1})), row({-0.3f})));
}

TEST(ReLULayer, ReadsConfigWithNullMaxValue) {
  Layer l = layers::relu_from_config({{"max_value", nullptr}, {"negative_slope", 0.0}, {"threshold", 1.0}}, {});
  EXPECT_TRUE(AllClose(l(row({0.5, 2})), row({0, 2})));
  auto c = l->get_config();
  EXPECT_TRUE(c["max_value"].is_null());
  EXPECT_EQ(c["threshold"], 1.0);
}

TEST(ELULayer, AlphaScalesTheNegativePart) {
  float e = static_cast<float>(std::exp(-1.0) - 1.0);
  EXPECT_TRUE(AllClose(layers::ELU()(row({-1, 0, 2})), row({e, 0, 2})));
  EXPECT_TRUE(AllClose(layers::ELU(0.5)(row({-1, 3})), row({0.5f * e, 3})));
  EXPECT_EQ(layers::elu_from_config({{"alpha", 0.5}}, {})->get_config()["alpha"], 0.5);
}

TEST(ThresholdedReLULayer, KeepsValuesAboveTheta) {
  EXPECT_TRUE(AllClose(layers::ThresholdedReLU()(row({0.5, 1, 1.5, -3})), row({0, 0, 1.5, 0})));
  EXPECT_TRUE(AllClose(layers::ThresholdedReLU(0.7)(row({0.7f, 0.71f})), row({0, 0.71f})));
  EXPECT_EQ(testing::value_error_of([] { layers::ThresholdedReLU(-1); }),
            "The theta value of a Thresholded ReLU layer should be >=0. Received: -1.0");
}

TEST(SoftmaxLayer, LastAxisByDefault) {
  // Keras docstring: Softmax()([1., 2., 1.]) -> [0.21194157, 0.5761169, 0.21194157].
  EXPECT_TRUE(AllClose(layers::Softmax()(row({1, 2, 1})), row({0.21194157f, 0.5761169f, 0.21194157f})));
}

TEST(SoftmaxLayer, OtherAxisAndSeveralAxes) {
  float ln3 = std::log(3.0f), ln5 = std::log(5.0f);
  Tensor x(Shape{1, 2, 2}, {0, 0, ln3, 0});
  EXPECT_TRUE(AllClose(layers::Softmax(1)(x), Tensor(Shape{1, 2, 2}, {0.25f, 0.5f, 0.75f, 0.5f})));
  // Over axes (1, 2) jointly: exp values 1, 1, 1, 5 sum to 8.
  Tensor y(Shape{1, 2, 2}, {0, 0, 0, ln5});
  EXPECT_TRUE(AllClose(layers::Softmax({.axis = {1, 2}})(y), Tensor(Shape{1, 2, 2}, {0.125f, 0.125f, 0.125f, 0.625f})));
  Layer from_list = layers::softmax_from_config({{"axis", {1, 2}}}, {});
  EXPECT_TRUE(AllClose(from_list(y), Tensor(Shape{1, 2, 2}, {0.125f, 0.125f, 0.125f, 0.625f})));
  EXPECT_EQ(from_list->get_config()["axis"], nlohmann::json({1, 2}));
}

TEST(PReLULayer, AlphaWeightShapedLikeInputWithoutBatch) {
  Layer l = layers::PReLU();
  l->build({Shape{None, 2, 3}});
  ASSERT_EQ(l->variables().size(), 1u);
  EXPECT_EQ(l->variables()[0]->name, "alpha");
  EXPECT_EQ(l.get_weights()[0].shape(), (Shape{2, 3}));
  // alpha_initializer zeros: a plain relu until trained.
  Tensor x(Shape{1, 2, 3}, {-1, 2, -3, 4, -5, 6});
  EXPECT_TRUE(AllClose(l(x), Tensor(Shape{1, 2, 3}, {0, 2, 0, 4, 0, 6})));
  l.set_weights({Tensor(Shape{2, 3}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f})});
  EXPECT_TRUE(AllClose(l(x), Tensor(Shape{1, 2, 3}, {-0.1f, 2, -0.9f, 4, -2.5f, 6})));
}

TEST(PReLULayer, SharedAxesAreOneBasedAndBroadcast) {
  Layer l = layers::PReLU({.shared_axes = {1}});
  l->build({Shape{None, 2, 3}});
  EXPECT_EQ(l.get_weights()[0].shape(), (Shape{1, 3}));
  l.set_weights({Tensor(Shape{1, 3}, {0.1f, 0.2f, 0.3f})});
  Tensor x(Shape{1, 2, 3}, -1.0f);
  EXPECT_TRUE(AllClose(l(x), Tensor(Shape{1, 2, 3}, {-0.1f, -0.2f, -0.3f, -0.1f, -0.2f, -0.3f})));
  EXPECT_EQ(l->get_config()["shared_axes"], nlohmann::json({1}));
}

TEST(PReLULayer, NeedsKnownSizesOnUnsharedAxes) {
  EXPECT_THROW(layers::PReLU()->build({Shape{None, None, 3}}), ValueError);
  EXPECT_NO_THROW(layers::PReLU({.shared_axes = {1}})->build({Shape{None, None, 3}}));
}

TEST(ActivationLayers, AutomaticNamesAreKerasSnakeCase) {
  clear_session();
  EXPECT_EQ(layers::ReLU().name(), "re_lu");
  EXPECT_EQ(layers::ReLU().name(), "re_lu_1");
  EXPECT_EQ(layers::LeakyReLU().name(), "leaky_re_lu");
  EXPECT_EQ(layers::PReLU().name(), "p_re_lu");
  EXPECT_EQ(layers::ELU().name(), "elu");
  EXPECT_EQ(layers::Softmax().name(), "softmax");
  EXPECT_EQ(layers::ThresholdedReLU().name(), "thresholded_re_lu");
}

TEST(ActivationLayers, LoadFromModelJson) {
  std::string json = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "name": "in"}},
      {"class_name": "LeakyReLU", "config": {"alpha": 0.1, "name": "a"}},
      {"class_name": "ReLU", "config": {"max_value": 1.0, "name": "b"}}]}})";
  Model m = model_from_json(json);
  EXPECT_TRUE(AllClose(m.predict(row({-2, 0.5, 3})), row({0, 0.5, 1})));
}

}  // namespace
}  // namespace keras

namespace keras {
namespace {

// Softmax on extreme float32 logits, against TensorFlow.js 4.22's CPU backend (tf.softmax and a
// Dense(softmax) layer on the same rows): -inf entries get 0, finite extremes give exact one-hot
// rows, and a row holding +inf (inf - inf) or only -inf is NaN there as in TensorFlow. Every path
// keras.cpp has: the Softmax layer, Activation, and a Dense whose product carries the softmax
// (one row and a batch that the fast backend runs).
TEST(Softmax, ExtremeLogitsAsTensorFlow) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> logits{-inf, 0, 1, 2, 1e38f, -1e38f, 3e38f, 0, inf, 0, 1, -inf, -inf, -inf, -inf, -inf};
  std::vector<float> want{
      0,  0.09003057330846786f, 0.2447284758090973f, 0.6652409434318542f, 0, 0, 1, 0, nan, nan, nan, nan, nan, nan, nan,
      nan};
  auto check = [&](const Tensor& got, const std::vector<float>& expected, const std::string& what) {
    ASSERT_EQ(got.size(), static_cast<Dim>(expected.size())) << what;
    for (size_t i = 0; i < expected.size(); ++i) {
      if (std::isnan(expected[i]))
        EXPECT_TRUE(std::isnan(got.data()[i])) << what << " [" << i << "] = " << got.data()[i];
      else
        EXPECT_NEAR(got.data()[i], expected[i], 1e-7) << what << " [" << i << "]";
    }
  };
  for (Layer layer : {layers::Softmax(), layers::Activation("softmax")})
    check(Sequential({Input({4}), layer}).predict(Tensor(Shape{4, 4}, logits)), want, layer->class_name());
  // tfjs: dense({units: 4, activation: "softmax"}) with these weights on [1, 0] and [1, 1].
  Model dense = Sequential({Input({2}), layers::Dense(4, "softmax")});
  dense.set_weights({Tensor(Shape{2, 4}, std::vector<float>{1e38f, -1e38f, 3e38f, 0, 1e38f, 1e38f, 1e38f, 1e38f}),
                     Tensor(Shape{4}, std::vector<float>{-inf, 0, 0, 0})});
  std::vector<float> x, dense_want;
  for (int i = 0; i < 64; ++i) {
    x.insert(x.end(), {1.0f, i % 2 ? 1.0f : 0.0f});
    if (i % 2)
      dense_want.insert(dense_want.end(), {nan, nan, nan, nan});
    else
      dense_want.insert(dense_want.end(), {0, 0, 1, 0});
  }
  check(dense.predict(Tensor(Shape{2, 2}, std::vector<float>(x.begin(), x.begin() + 4))),
        std::vector<float>(dense_want.begin(), dense_want.begin() + 8), "Dense, 2 rows");
  check(dense.predict(Tensor(Shape{64, 2}, x)), dense_want, "Dense, 64 rows");
}

}  // namespace
}  // namespace keras
