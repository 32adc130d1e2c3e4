// Losses against the values in Keras's docstrings (keras/src/losses/losses.py examples) and
// hand-computed cases; gradients against central finite differences of the loss value.
#include "keras/losses.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "test_helpers.h"

namespace keras {
namespace {

using namespace losses;

Tensor t2(std::vector<float> v, Dim cols) {
  Dim n = static_cast<Dim>(v.size());
  return Tensor(Shape{n / cols, cols}, std::move(v));
}

TEST(Losses, KerasDocstringValues) {
  Tensor a_true = t2({0, 1, 0, 0}, 2), a_pred = t2({0.6f, 0.4f, 0.4f, 0.6f}, 2);
  Tensor b_true = t2({0, 1, 0, 0}, 2), b_pred = t2({1, 1, 1, 0}, 2);
  EXPECT_NEAR(BinaryCrossentropy()(a_true, a_pred), 0.815, 1e-3);
  EXPECT_NEAR(Huber()(a_true, a_pred), 0.155, 1e-3);
  EXPECT_NEAR(KLDivergence()(a_true, a_pred), 0.458, 1e-3);
  EXPECT_NEAR(Hinge()(a_true, a_pred), 1.3, 1e-3);
  EXPECT_NEAR(SquaredHinge()(a_true, a_pred), 1.86, 1e-3);
  EXPECT_NEAR(CategoricalHinge()(a_true, a_pred), 1.4, 1e-3);
  EXPECT_NEAR(MeanSquaredError()(b_true, b_pred), 0.5, 1e-6);
  EXPECT_NEAR(MeanAbsoluteError()(b_true, b_pred), 0.5, 1e-6);
  EXPECT_NEAR(MeanSquaredLogarithmicError()(b_true, b_pred), 0.240, 1e-3);
  EXPECT_NEAR(MeanAbsolutePercentageError()(t2({2, 1, 2, 3}, 2), b_pred), 50.0, 1e-3);
  EXPECT_NEAR(LogCosh()(b_true, t2({1, 1, 0, 0}, 2)), 0.108, 1e-3);
  EXPECT_NEAR(Poisson()(b_true, t2({1, 1, 0, 0}, 2)), 0.5, 1e-3);
  EXPECT_NEAR(CosineSimilarity()(t2({0, 1, 1, 1}, 2), t2({1, 0, 1, 1}, 2)), -0.5, 1e-6);
  Tensor logits_true(Shape{4}, std::vector<float>{0, 1, 0, 0}),
      logits(Shape{4}, std::vector<float>{-18.6f, 0.51f, 2.94f, -12.8f});
  EXPECT_NEAR(BinaryCrossentropy({.from_logits = true})(logits_true, logits), 0.865, 1e-3);
}

TEST(Losses, CategoricalCrossentropyDocstring) {
  Tensor y_true = t2({0, 1, 0, 0, 0, 1}, 3), y_pred = t2({0.05f, 0.95f, 0, 0.1f, 0.8f, 0.1f}, 3);
  EXPECT_NEAR(CategoricalCrossentropy()(y_true, y_pred), 1.177, 1e-3);
  EXPECT_NEAR(CategoricalCrossentropy()(y_true, y_pred, Tensor(Shape{2}, std::vector<float>{0.3f, 0.7f})), 0.814, 1e-3);
  EXPECT_NEAR(CategoricalCrossentropy({.reduction = "sum"})(y_true, y_pred), 2.354, 1e-3);
  Tensor per = CategoricalCrossentropy({.reduction = "none"})->call(y_true, y_pred);
  EXPECT_TRUE(testing::AllClose(per, Tensor(Shape{2}, std::vector<float>{0.0513f, 2.303f}), 1e-3, 0));
  Tensor labels(Shape{2}, std::vector<float>{1, 2});
  EXPECT_NEAR(SparseCategoricalCrossentropy()(labels, y_pred), 1.177, 1e-3);
  EXPECT_NEAR(SparseCategoricalCrossentropy()(labels.reshape({2, 1}), y_pred), 1.177, 1e-3);
}

// Probabilities are renormalised, clipped to [1e-7, 1 - 1e-7]; label smoothing mixes in 1/C.
TEST(Losses, CategoricalCrossentropyByHand) {
  Tensor y_true = t2({0, 1, 0}, 3), y_pred = t2({2, 6, 0}, 3);  // normalises to 0.25, 0.75, 0
  EXPECT_NEAR(CategoricalCrossentropy()(y_true, y_pred), -std::log(0.75), 1e-6);
  double s = 0.1, t0 = s / 3, t1 = 1 - s + s / 3;
  double want = -(t0 * std::log(0.25) + t1 * std::log(0.75) + t0 * std::log(double(1e-7f)));
  EXPECT_NEAR(CategoricalCrossentropy({.label_smoothing = s})(y_true, y_pred), want, 1e-5);
  Tensor logits = t2({1, 2, 3}, 3);
  double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(CategoricalCrossentropy({.from_logits = true})(y_true, logits), lse - 2, 1e-6);
}

TEST(Losses, SampleWeightsAndReductions) {
  Tensor y_true = t2({0, 1, 1, 0}, 2), y_pred = t2({0, 0, 0, 0}, 2);  // mse per sample 0.5, 0.5
  Tensor w(Shape{2}, std::vector<float>{1, 3});
  EXPECT_NEAR(MeanSquaredError()(y_true, y_pred, w), (0.5 + 1.5) / 2, 1e-6);
  EXPECT_NEAR(MeanSquaredError({.reduction = "sum"})(y_true, y_pred, w), 2.0, 1e-6);
  EXPECT_NEAR(MeanSquaredError({.reduction = "mean_with_sample_weight"})(y_true, y_pred, w), 0.5, 1e-6);
  EXPECT_EQ(testing::value_error_of([] { MeanSquaredError({.reduction = "avg"}); }),
            "Invalid value for argument `reduction`. Expected one of {'sum_over_batch_size', 'sum', None, 'none', "
            "'mean', 'mean_with_sample_weight'}. Received: reduction=avg");
}

TEST(Losses, ShapeErrorsReadLikeKeras) {
  EXPECT_EQ(testing::value_error_of([] {
              CategoricalCrossentropy()(t2({1, 0}, 2), t2({0.5f, 0.2f, 0.3f}, 3));
            }),
            "Arguments `target` and `output` must have the same shape. Received: target.shape=(1, 2), "
            "output.shape=(1, 3)");
  EXPECT_EQ(testing::value_error_of([] {
              SparseCategoricalCrossentropy()(Tensor(Shape{1}, 3.0f), t2({0.5f, 0.2f, 0.3f}, 3));
            }),
            "Received a label value of 3 which is outside the valid range of [0, 3).");
}

// Central differences of the reduced loss against value_and_grad, at every element.
void expect_gradient(const Loss& loss, const Tensor& y_true, Tensor y_pred, const Tensor& w = {}, double eps = 1e-3) {
  LossValue lv = loss->value_and_grad(y_true, y_pred, w);
  EXPECT_NEAR(lv.value, loss(y_true, y_pred, w), 1e-6) << loss->name();
  for (Dim i = 0; i < y_pred.size(); ++i) {
    float saved = y_pred[i];
    y_pred[i] = saved + float(eps);
    double up = loss(y_true, y_pred, w);
    y_pred[i] = saved - float(eps);
    double down = loss(y_true, y_pred, w);
    y_pred[i] = saved;
    double fd = (up - down) / (double(saved + float(eps)) - double(saved - float(eps)));
    EXPECT_NEAR(lv.grad[i], fd, 2e-3 + 2e-2 * std::abs(fd)) << loss->name() << " at " << i;
  }
}

TEST(Losses, GradientsMatchFiniteDifferences) {
  Tensor probs = t2({0.2f, 0.5f, 0.3f, 0.6f, 0.1f, 0.3f}, 3);
  Tensor onehot = t2({0, 1, 0, 1, 0, 0}, 3), labels(Shape{2}, std::vector<float>{1, 0});
  Tensor w(Shape{2}, std::vector<float>{0.5f, 2.0f});
  Tensor x = testing::random_tensor({2, 3}, 3), target = testing::random_tensor({2, 3}, 4, 0.1f, 0.9f);
  expect_gradient(CategoricalCrossentropy(), onehot, probs, w);
  expect_gradient(CategoricalCrossentropy({.label_smoothing = 0.2}), onehot, probs);
  expect_gradient(CategoricalCrossentropy({.from_logits = true}), onehot, x, w);
  expect_gradient(SparseCategoricalCrossentropy(), labels, probs);
  expect_gradient(SparseCategoricalCrossentropy({.from_logits = true}), labels, x);
  expect_gradient(BinaryCrossentropy(), target, probs, w);
  expect_gradient(BinaryCrossentropy({.from_logits = true, .label_smoothing = 0.1}), target, x);
  for (const Loss& l : {MeanSquaredError(), MeanAbsoluteError(), MeanAbsolutePercentageError(), LogCosh(),
                        Huber({.delta = 0.3}), Hinge(), SquaredHinge(), CategoricalHinge(), CosineSimilarity()})
    expect_gradient(l, target, x, w);
  expect_gradient(MeanSquaredLogarithmicError(), target, probs);
  expect_gradient(KLDivergence(), target, probs);
  expect_gradient(Poisson(), target, probs);
}

TEST(Losses, GetAndSerialize) {
  EXPECT_EQ(losses::get("mse")->class_name(), "MeanSquaredError");
  EXPECT_EQ(losses::get("categorical_crossentropy")->name(), "categorical_crossentropy");
  EXPECT_EQ(losses::get("BinaryCrossentropy")->class_name(), "BinaryCrossentropy");
  EXPECT_EQ(testing::value_error_of([] { losses::get("nope"); }), "Could not interpret loss identifier: nope");
  EXPECT_EQ(serialize(Loss("mse")), "mse");
  nlohmann::json j = serialize(CategoricalCrossentropy({.from_logits = true, .label_smoothing = 0.1}));
  EXPECT_EQ(j["class_name"], "CategoricalCrossentropy");
  EXPECT_EQ(j["config"]["from_logits"], true);
  EXPECT_EQ(deserialize(j)->get_config(), j["config"]);
  EXPECT_EQ(deserialize({{"class_name", "Huber"}, {"config", {{"delta", 2.0}, {"reduction", "auto"}}}})
                ->get_config()["delta"],
            2.0);
}

}  // namespace
}  // namespace keras
