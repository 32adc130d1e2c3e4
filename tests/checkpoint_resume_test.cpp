// Issue 4: a checkpoint written mid-training and reloaded continues with the same loss curve
// as the uninterrupted run (same seed): weights, BatchNormalization statistics, optimizer
// slots and iteration count come back from the file, and shuffling and dropout follow the
// seed, the epoch and the iteration count.

#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_helpers.h"

namespace keras {
namespace {

namespace fs = std::filesystem;

Model small_convnet() {
  return Sequential({
      Input({8, 8, 1}),
      layers::Conv2D(4, {3, 3}, "relu"),
      layers::BatchNormalization(),
      layers::MaxPooling2D({2, 2}),
      layers::Flatten(),
      layers::Dropout(0.3),
      layers::Dense(3, "softmax"),
  });
}

struct Data {
  Tensor x, y;
};

Data make_data() {
  Tensor x = testing::random_tensor({60, 8, 8, 1}, 11, 0.0f, 1.0f);
  Tensor y(Shape{60});
  for (Dim i = 0; i < 60; ++i) y[i] = static_cast<float>((i * 7) % 3);
  return {x, y};
}

class CheckpointResume : public ::testing::TestWithParam<std::string> {};

INSTANTIATE_TEST_SUITE_P(Formats, CheckpointResume, ::testing::Values(".keras", ".h5"),
                         [](const auto& info) { return info.param.substr(1); });

TEST_P(CheckpointResume, ContinuesTheUninterruptedLossCurve) {
  testing::TempDir dir;
  Data d = make_data();
  FitOptions fit{.batch_size = 16, .epochs = 5, .verbose = 0, .validation_split = 0.2};

  set_random_seed(7);
  Model full = small_convnet();
  full.compile({.optimizer = optimizers::Adam({.learning_rate = 0.01}),
                .loss = "sparse_categorical_crossentropy",
                .metrics = {"accuracy"}});
  FitOptions with_checkpoints = fit;
  with_checkpoints.callbacks = {callbacks::ModelCheckpoint((dir / ("ckpt_{epoch}" + GetParam())).string())};
  History uninterrupted = full.fit(d.x, d.y, with_checkpoints);

  set_random_seed(7);
  Model resumed = load_model(dir / ("ckpt_2" + GetParam()));
  ASSERT_TRUE(resumed.compiled());
  EXPECT_EQ(resumed.optimizer()->iterations(), 2 * 3);  // 48 training samples, batches of 16
  FitOptions rest = fit;
  rest.initial_epoch = 2;
  History continued = resumed.fit(d.x, d.y, rest);

  EXPECT_EQ(continued.epoch, (std::vector<int>{2, 3, 4}));
  for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"}) {
    const std::vector<double>& a = uninterrupted.history.at(key);
    std::vector<double> tail(a.begin() + 2, a.end());
    EXPECT_EQ(continued.history.at(key), tail) << key;
  }
  // The curve is not flat: training moved (so equality above says something).
  EXPECT_NE(uninterrupted.history.at("loss")[0], uninterrupted.history.at("loss")[4]);
  std::vector<Tensor> a = full.get_weights(), b = resumed.get_weights();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "weight " << i;
}

// The opposite check: a fresh optimizer (weights only) does not continue the curve, so the
// optimizer state in the file is what makes the test above pass.
TEST(CheckpointResumeControl, WeightsAloneDoNotContinueTheCurve) {
  testing::TempDir dir;
  Data d = make_data();
  FitOptions fit{.batch_size = 16, .epochs = 4, .verbose = 0};
  set_random_seed(7);
  Model full = small_convnet();
  full.compile({.optimizer = optimizers::Adam({.learning_rate = 0.01}), .loss = "sparse_categorical_crossentropy"});
  FitOptions with_checkpoints = fit;
  with_checkpoints.callbacks = {
      callbacks::ModelCheckpoint((dir / "w_{epoch}.weights.h5").string(), {.save_weights_only = true})};
  History uninterrupted = full.fit(d.x, d.y, with_checkpoints);

  set_random_seed(7);
  Model fresh = small_convnet();
  fresh.load_weights(dir / "w_2.weights.h5");
  fresh.compile({.optimizer = optimizers::Adam({.learning_rate = 0.01}), .loss = "sparse_categorical_crossentropy"});
  FitOptions rest = fit;
  rest.initial_epoch = 2;
  History continued = fresh.fit(d.x, d.y, rest);
  EXPECT_NE(continued.history.at("loss")[0], uninterrupted.history.at("loss")[2]);
}

}  // namespace
}  // namespace keras

namespace keras {
namespace {

// A compile config this library cannot use leaves the loaded model uncompiled (Keras warns and
// does the same); the architecture and weights still load.
TEST(TrainingStateLoading, UnusableCompileConfigLeavesTheModelUncompiled) {
  Model m = Sequential({Input({3}), layers::Dense(2)});
  for (const char* cc : {R"({"loss": "no_such_loss", "optimizer": "adam"})", R"({"loss": 5, "metrics": [[1, 2]]})",
                         R"({"optimizer": {"class_name": "Custom>Mystery", "config": {}}})"}) {
    nlohmann::json config = nlohmann::json::parse(m.to_json());
    config["compile_config"] = nlohmann::json::parse(cc);
    Model back = model_from_json(config.dump());
    EXPECT_FALSE(back.compiled()) << cc;
    EXPECT_EQ(back.count_params(), 8) << cc;
  }
}

}  // namespace
}  // namespace keras
