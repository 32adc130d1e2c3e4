// Training parity (issue 4's must-show): from fixed initial weights and data, without shuffling,
// fit() lands on the weights and losses that an independent float64 implementation of Keras's
// rules gives (tests/fixtures/generate/torch/gen_training.py), within 1e-5 relative.
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
  model.compile({.optimizer = optimizers::deserialize(f["optimizer"]), .loss = f["loss"].get<std::string>()});

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

INSTANTIATE_TEST_SUITE_P(Fixtures, TrainingParity, ::testing::ValuesIn(testing::fixture_files("training")),
                         testing::fixture_case_name);

// Exactly the committed fixtures: a lost file fails here, not silently.
TEST(TrainingParityFiles, ArePresent) { EXPECT_EQ(testing::fixture_files("training").size(), 15u); }

}  // namespace
}  // namespace keras
