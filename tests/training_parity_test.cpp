// Training parity (issue 4's must-show): from fixed initial weights and data, without shuffling,
// fit() lands on the weights and losses that an independent float64 implementation of Keras's
// rules gives (tests/fixtures/generate/torch/gen_training.py), within 1e-5 relative; the
// crossentropies by Keras's TensorFlow backend's rule (from a softmax's or sigmoid's logits) and,
// where a case says so, by the JAX/torch backends' (clipped probabilities), from starts where
// the two rules part.
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_helpers.h"

namespace keras {
namespace {

using nlohmann::json;

Tensor tensor_of(const json& j) {
  std::vector<Dim> shape = j["shape"].get<std::vector<Dim>>();
  return Tensor(Shape(shape), j["data"].get<std::vector<float>>());
}

std::vector<Tensor> tensors_of(const json& j) {
  std::vector<Tensor> out;
  for (const json& t : j) out.push_back(tensor_of(t));
  return out;
}

// What the oracle supports: float32 training against float64 rules agrees to about 1e-6
// relative; 1e-5, with a small floor for values near zero.
constexpr double kRtol = 1e-5, kAtol = 1e-6;

class TrainingParity : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(TrainingParity, FitMatchesKerasRulesInFloat64) {
  std::ifstream in(GetParam());
  json f = json::parse(in);
  SCOPED_TRACE(f["case"].get<std::string>() + " (oracle: " + f["oracle"].get<std::string>() + ")");
  Model model = model_from_json(f["model"].dump());
  model.set_weights(tensors_of(f["weights"]));
  model.compile({.optimizer = optimizers::deserialize(f["optimizer"]),
                 .loss = f["loss"].get<std::string>(),
                 .crossentropy_from_activation_logits = f["crossentropy_from_activation_logits"].get<bool>()});

  std::vector<double> running;
  callbacks::LambdaCallback record(
      {.on_train_batch_end = [&](int64_t, const Logs& logs) { running.push_back(logs.at("loss")); }});
  History h = model.fit(tensor_of(f["x"]), tensor_of(f["y"]),
                        {.batch_size = f["batch_size"].get<int>(),
                         .epochs = f["epochs"].get<int>(),
                         .verbose = 0,
                         .callbacks = {record},
                         .shuffle = false});

  EXPECT_EQ(model.optimizer()->iterations(), f["steps"].get<int64_t>());
  auto want_running = f["running_losses"].get<std::vector<double>>();
  ASSERT_EQ(running.size(), want_running.size());
  for (size_t i = 0; i < running.size(); ++i)
    EXPECT_NEAR(running[i], want_running[i], kAtol + kRtol * std::abs(want_running[i])) << "after step " << i + 1;
  auto want_epochs = f["epoch_losses"].get<std::vector<double>>();
  ASSERT_EQ(h.history.at("loss").size(), want_epochs.size());
  for (size_t i = 0; i < want_epochs.size(); ++i)
    EXPECT_NEAR(h.history["loss"][i], want_epochs[i], kAtol + kRtol * std::abs(want_epochs[i])) << "epoch " << i;

  std::vector<Tensor> got = model.get_weights(), want = tensors_of(f["final_weights"]);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(testing::AllClose(got[i], want[i], kAtol, kRtol)) << "weight " << i;
}

// evaluate() on the first batch, from the initial weights, gives the oracle's first step loss:
// the crossentropies' rule holds at inference too (a plan keeping the logits). BatchNormalization
// trains on batch statistics, which evaluate does not use.
class FirstStepLoss : public ::testing::TestWithParam<std::filesystem::path> {};

std::vector<std::filesystem::path> without_batch_statistics() {
  std::vector<std::filesystem::path> out;
  for (const auto& p : testing::fixture_files("training")) {
    std::ifstream in(p);
    if (json::parse(in)["model"].dump().find("BatchNormalization") == std::string::npos) out.push_back(p);
  }
  return out;
}

TEST_P(FirstStepLoss, EvaluateOnTheFirstBatchMatchesIt) {
  std::ifstream in(GetParam());
  json f = json::parse(in);
  Model model = model_from_json(f["model"].dump());
  model.set_weights(tensors_of(f["weights"]));
  model.compile({.optimizer = optimizers::deserialize(f["optimizer"]),
                 .loss = f["loss"].get<std::string>(),
                 .crossentropy_from_activation_logits = f["crossentropy_from_activation_logits"].get<bool>()});
  Dim b = f["batch_size"].get<Dim>();
  Tensor x = tensor_of(f["x"]), y = tensor_of(f["y"]);
  auto first = [&](const Tensor& t) {
    std::vector<Dim> dims = t.shape().dims();
    dims[0] = b;
    return Tensor(Shape(dims), std::vector<float>(t.data(), t.data() + Shape(dims).num_elements()));
  };
  double want = f["step_losses"][0].get<double>();
  EXPECT_NEAR(model.evaluate(first(x), first(y), {.verbose = 0})[0], want, kAtol + kRtol * std::abs(want));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TrainingParity, ::testing::ValuesIn(testing::fixture_files("training")),
                         testing::fixture_case_name);
INSTANTIATE_TEST_SUITE_P(Fixtures, FirstStepLoss, ::testing::ValuesIn(without_batch_statistics()),
                         testing::fixture_case_name);

// Exactly the committed fixtures: a lost file fails here, not silently.
TEST(TrainingParityFiles, ArePresent) {
  EXPECT_EQ(testing::fixture_files("training").size(), 27u);
  EXPECT_EQ(without_batch_statistics().size(), 26u);
}

}  // namespace
}  // namespace keras
