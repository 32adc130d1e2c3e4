// Gradients against an oracle (issue 9 item 7): for each oracle fixture that carries one
// (tests/fixtures/layers/*.json with "cotangents": every TensorFlow.js case that tfjs can
// differentiate, from its tf.variableGrads and tf.grads), the gradients the training plan computes for L = sum(output *
// cotangent), in inference mode as the oracle ran, w.r.t. every weight and every float input.
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/functional.h"
#include "engine/graph/plan.h"
#include "test_helpers.h"

namespace keras {
namespace {

std::vector<std::filesystem::path> gradient_fixtures() {
  std::vector<std::filesystem::path> with;
  for (const auto& p : testing::fixture_files("layers"))
    if (!testing::load_fixture(p).cotangents.empty()) with.push_back(p);
  return with;
}

class GradientOracle : public ::testing::TestWithParam<std::filesystem::path> {};

INSTANTIATE_TEST_SUITE_P(Fixtures, GradientOracle, ::testing::ValuesIn(gradient_fixtures()),
                         testing::fixture_case_name);

TEST_P(GradientOracle, TrainingPlanGradientsMatchTheOracle) {
  testing::Fixture f = testing::load_fixture(GetParam());
  SCOPED_TRACE(f.name + " (oracle: " + f.oracle + ")");
  Model model = model_from_json(f.model_json, ConfigContext{.source = f.name});
  model.set_weights(f.weights);
  std::vector<Shape> shapes;
  std::vector<const float*> x, dy;
  for (const Tensor& t : f.inputs) {
    shapes.push_back(t.shape());
    x.push_back(t.data());
  }
  for (const Tensor& t : f.cotangents) dy.push_back(t.data());
  graph::Plan plan(model.functional(), shapes, default_runtime(),
                   {.training = true, .input_gradients = true, .inference_mode = true});
  graph::Plan::TrainingRun run(plan);
  run.forward(x, 1);
  std::vector<Tensor> outputs = run.outputs();
  ASSERT_EQ(outputs.size(), f.outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i)
    EXPECT_TRUE(testing::AllClose(outputs[i], f.outputs[i])) << "output " << i;
  run.backward(dy);

  std::vector<Variable*> vars = model.functional().variables();
  ASSERT_EQ(vars.size(), f.weight_gradients.size());
  const auto& with_grad = plan.gradient_variables();
  for (size_t i = 0; i < vars.size(); ++i) {
    if (f.weight_gradients[i].empty()) continue;  // not trainable
    Tensor got = Tensor::zeros(vars[i]->value.shape());
    if (auto it = std::find(with_grad.begin(), with_grad.end(), vars[i]); it != with_grad.end()) {
      const float* g = run.gradient(static_cast<size_t>(it - with_grad.begin()));
      std::copy(g, g + got.size(), got.data());
    }
    EXPECT_TRUE(testing::AllClose(got, f.weight_gradients[i])) << "weight " << i << " (" << vars[i]->name << ")";
  }
  ASSERT_EQ(f.input_gradients.size(), f.inputs.size());
  for (size_t i = 0; i < f.inputs.size(); ++i) {
    if (f.input_gradients[i].empty()) continue;
    Tensor got = Tensor::zeros(f.inputs[i].shape());
    if (const float* g = run.input_gradient(i)) std::copy(g, g + got.size(), got.data());
    EXPECT_TRUE(testing::AllClose(got, f.input_gradients[i])) << "input " << i;
  }
}

// Losses honour y_pred's mask (issue 9 item 2): one SGD step of fit() on the whole batch of a
// masked sequence model, against TensorFlow.js differentiating Keras's masked mean
// sum(loss * m) / sum(m) (fixtures with "training").
std::vector<std::filesystem::path> training_fixtures() {
  std::vector<std::filesystem::path> with;
  for (const auto& p : testing::fixture_files("layers")) {
    std::ifstream in(p);
    if (nlohmann::json::parse(in).contains("training")) with.push_back(p);
  }
  return with;
}

class MaskedTraining : public ::testing::TestWithParam<std::filesystem::path> {};

INSTANTIATE_TEST_SUITE_P(Fixtures, MaskedTraining, ::testing::ValuesIn(training_fixtures()),
                         testing::fixture_case_name);

Tensor tensor_of(const nlohmann::json& j) {
  return Tensor(Shape(j.at("shape").get<std::vector<Dim>>()), j.at("data").get<std::vector<float>>());
}

TEST_P(MaskedTraining, OneStepOnTheUnmaskedStepsMatchesTheOracle) {
  testing::Fixture f = testing::load_fixture(GetParam());
  std::ifstream in(GetParam());
  nlohmann::json t = nlohmann::json::parse(in).at("training");
  SCOPED_TRACE(f.name + " (oracle: " + f.oracle + ")");
  Model model = model_from_json(f.model_json, ConfigContext{.source = f.name});
  model.set_weights(f.weights);
  model.compile({.optimizer = optimizers::SGD({.learning_rate = t.at("learning_rate").get<double>()}),
                 .loss = t.at("loss").get<std::string>()});
  History h = model.fit(f.inputs, {tensor_of(t.at("y"))},
                        {.batch_size = static_cast<int>(f.inputs[0].dim(0)), .verbose = 0, .shuffle = false});
  double want = t.at("loss_value").get<double>();
  EXPECT_NEAR(h.history.at("loss").at(0), want, 1e-5 + 1e-4 * std::abs(want));
  std::vector<Tensor> got = model.get_weights();
  const auto& after = t.at("weights_after");
  ASSERT_EQ(got.size(), after.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(testing::AllClose(got[i], tensor_of(after[i]))) << "weight " << i;
}

// evaluate() honours the mask too: the loss before the step, and accuracy over the unmasked
// steps only (Keras's MeanMetricWrapper weighs by the mask), from the oracle's predictions.
TEST(MaskedTraining, EvaluateCountsOnlyUnmaskedSteps) {
  auto path = testing::source_dir() / "tests" / "fixtures" / "layers" / "mask_gru_seq_softmax_training.json";
  testing::Fixture f = testing::load_fixture(path);
  std::ifstream in(path);
  nlohmann::json t = nlohmann::json::parse(in).at("training");
  Model model = model_from_json(f.model_json);
  model.set_weights(f.weights);
  model.compile({.optimizer = "sgd", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  Tensor y = tensor_of(t.at("y"));
  const Tensor& x = f.inputs[0];
  const Tensor& p = f.outputs[0];  // (batch, steps, 3)
  double correct = 0, kept = 0;
  for (Dim i = 0; i < y.size(); ++i) {
    if (x[i] == 0) continue;  // a masked step
    Dim best = 0;
    for (Dim c = 1; c < 3; ++c)
      if (p[i * 3 + c] > p[i * 3 + best]) best = c;
    correct += best == static_cast<Dim>(y[i]) ? 1 : 0;
    kept += 1;
  }
  ASSERT_GT(kept, 0);
  ASSERT_LT(kept, y.size());
  Scores r = model.evaluate(f.inputs, {y}, {.batch_size = static_cast<int>(x.dim(0)), .verbose = 0});
  ASSERT_EQ(r.size(), 2u);
  double want = t.at("loss_value").get<double>();
  EXPECT_NEAR(r[0], want, 1e-5 + 1e-4 * std::abs(want));
  EXPECT_NEAR(r[1], correct / kept, 1e-6);
}

TEST(MaskedTraining, EveryGeneratedOracleIsChecked) { EXPECT_EQ(training_fixtures().size(), 2u); }

// Every fixture the generator writes with a gradient oracle is found (a renamed key or a
// dropped case would otherwise shrink the suite silently).
TEST(GradientOracle, EveryGeneratedOracleIsChecked) { EXPECT_EQ(gradient_fixtures().size(), 235u); }

}  // namespace
}  // namespace keras
