// Callbacks driven by fit() on a model whose losses are fixed by hand (SGD with learning rate 0
// leaves the weights alone), checked against Keras's rules and output formats.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/pyformat.h"
#include "keras/keras.h"
#include "test_helpers.h"

namespace keras {
namespace {

Tensor column(std::vector<float> v) {
  Dim n = static_cast<Dim>(v.size());
  return Tensor(Shape{n, 1}, std::move(v));
}

Model linear_model() {
  auto in = Input({1});
  return Model(in, layers::Dense({.units = 1, .kernel_initializer = "zeros"})(in));
}

// A callback that reports a chosen value as val_loss each epoch (before the others see it).
class ScriptedValLoss : public callbacks::Callback {
 public:
  explicit ScriptedValLoss(std::vector<double> values) : values_(std::move(values)) {}
  void on_epoch_end(int epoch, Logs& logs) override { logs["val_loss"] = values_.at(size_t(epoch)); }

 private:
  std::vector<double> values_;
};

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("keras_cb_" + std::to_string(::getpid()) + "_" + name);
}

TEST(Callbacks, EarlyStoppingStopsAfterPatience) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse"});
  auto es = std::make_shared<callbacks::EarlyStopping>(callbacks::EarlyStoppingOptions{.patience = 2});
  History h = m.fit(column({1}), column({1}),
                    {.epochs = 10,
                     .verbose = 0,
                     .callbacks = {ScriptedValLoss({1.0, 0.5, 0.6, 0.7, 0.4, 0.3, 0.2, 0.1, 0.1, 0.1}), es}});
  // Best 0.5 at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3.
  EXPECT_EQ(h.epoch, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(es->stopped_epoch(), 3);
  EXPECT_EQ(es->best_epoch(), 1);
  EXPECT_EQ(es->best(), 0.5);
}

TEST(Callbacks, EarlyStoppingRestoresBestWeights) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.1}), .loss = "mse"});
  std::vector<std::vector<Tensor>> weights;
  callbacks::LambdaCallback record({.on_epoch_end = [&](int, Logs&) { weights.push_back(m.get_weights()); }});
  ::testing::internal::CaptureStdout();
  m.fit(column({1}), column({1}),
        {.epochs = 6,
         .verbose = 0,
         .callbacks = {ScriptedValLoss({3, 1, 2, 2, 2, 2}), record,
                       callbacks::EarlyStopping({.patience = 2, .verbose = 1, .restore_best_weights = true})}});
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(out, "Epoch 4: early stopping\nRestoring model weights from the end of the best epoch: 2.\n");
  ASSERT_EQ(weights.size(), 4u);
  EXPECT_EQ(m.get_weights(), weights[1]);
}

TEST(Callbacks, EarlyStoppingModeFromMetricDirection) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse", .metrics = {"mae"}});
  // mae goes down: with mode "auto" an increasing value is no improvement.
  History h =
      m.fit(column({1}), column({1}),
            {.epochs = 5, .verbose = 0, .callbacks = {callbacks::EarlyStopping({.monitor = "mae", .patience = 1})}});
  EXPECT_EQ(h.epoch.size(), 2u);  // mae stays 1.0: no improvement after epoch 0
  EXPECT_EQ(testing::value_error_of([&] {
              m.fit(column({1}), column({1}),
                    {.verbose = 0, .callbacks = {callbacks::EarlyStopping({.monitor = "val_foo"})}});
            }),
            "EarlyStopping callback received monitor=val_foo but Keras isn't able to automatically determine whether "
            "that metric should be maximized or minimized. Pass `mode='max'` in order to monitor based on the highest "
            "metric value, or pass `mode='min'` in order to use the lowest value.");
}

TEST(Callbacks, ReduceLROnPlateauLowersTheRateAndLogsIt) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.5}), .loss = "mse"});
  ::testing::internal::CaptureStdout();
  History h = m.fit(column({1}), column({0}),
                    {.epochs = 4,
                     .verbose = 0,
                     .callbacks = {ScriptedValLoss({1, 1, 1, 1}),
                                   callbacks::ReduceLROnPlateau({.factor = 0.5, .patience = 2, .verbose = 1})}});
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(out, "\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.25.\n");
  EXPECT_EQ(h.history.at("learning_rate"), (std::vector<double>{0.5, 0.5, 0.5, 0.25}));
  EXPECT_EQ(m.optimizer()->learning_rate(), 0.25);
}

TEST(Callbacks, LearningRateSchedulerAndTerminateOnNaN) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.5}), .loss = "mse"});
  History h =
      m.fit(column({1}), column({0}),
            {.epochs = 3, .verbose = 0, .callbacks = {callbacks::LearningRateScheduler([](int epoch, double lr) {
                                          return epoch == 0 ? lr : lr / 2;
                                        })}});
  EXPECT_EQ(h.history.at("learning_rate"), (std::vector<double>{0.5, 0.25, 0.125}));

  Model nan_model = linear_model();
  nan_model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse"});
  float nan = NAN;
  ::testing::internal::CaptureStdout();
  h = nan_model.fit(
      column({1, 1, 1}), column({nan, 0, 0}),
      {.batch_size = 1, .epochs = 3, .verbose = 0, .callbacks = {callbacks::TerminateOnNaN()}, .shuffle = false});
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "Batch 0: Invalid loss, terminating training\n");
  EXPECT_EQ(h.epoch.size(), 1u);
}

// Python's csv module: epoch then the sorted keys, repr(float) values, "\r\n" line ends.
TEST(Callbacks, CSVLoggerWritesWhatKerasWrites) {
  std::filesystem::path path = temp_path("log.csv");
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse", .metrics = {"mae"}});
  m.fit(column({1, 2}), column({0, 1}),
        {.epochs = 2,
         .verbose = 0,
         .callbacks = {callbacks::CSVLogger(path)},
         .validation_data = {column({1}), column({2})}});
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "epoch,loss,mae,val_loss,val_mae\r\n0,0.5,0.5,4.0,2.0\r\n1,0.5,0.5,4.0,2.0\r\n");
  m.fit(column({1, 2}), column({0, 1}), {.verbose = 0, .callbacks = {callbacks::CSVLogger(path, ";", true)}});
  std::ifstream again(path, std::ios::binary);
  std::stringstream appended;
  appended << again.rdbuf();
  EXPECT_EQ(appended.str(), text.str() + "0;0.5;0.5\r\n");
  std::filesystem::remove(path);
}

TEST(Callbacks, ModelCheckpointSavesBest) {
  std::filesystem::path dir = temp_path("ckpt");
  std::filesystem::remove_all(dir);
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse"});
  std::string pattern = (dir / "model-{epoch:02d}-{val_loss:.2f}.keras").string();
  ::testing::internal::CaptureStdout();
  m.fit(column({1}), column({1}),
        {.epochs = 3,
         .verbose = 0,
         .callbacks = {ScriptedValLoss({0.5, 0.7, 0.25}),
                       callbacks::ModelCheckpoint(pattern, {.verbose = 1, .save_best_only = true})}});
  std::string out = ::testing::internal::GetCapturedStdout();
  std::string f1 = (dir / "model-01-0.50.keras").string(), f3 = (dir / "model-03-0.25.keras").string();
  EXPECT_EQ(out, "\nEpoch 1: val_loss improved from None to 0.50000, saving model to " + f1 + "\n" +
                     "\nEpoch 1: finished saving model to " + f1 + "\n" +
                     "\nEpoch 2: val_loss did not improve from 0.50000\n" +
                     "\nEpoch 3: val_loss improved from 0.50000 to 0.25000, saving model to " + f3 + "\n" +
                     "\nEpoch 3: finished saving model to " + f3 + "\n");
  EXPECT_TRUE(std::filesystem::exists(f1));
  EXPECT_TRUE(std::filesystem::exists(f3));
  EXPECT_FALSE(std::filesystem::exists(dir / "model-02-0.70.keras"));
  std::filesystem::remove_all(dir);
  EXPECT_EQ(testing::value_error_of([] { callbacks::ModelCheckpoint("m.ckpt"); }),
            "The filepath provided must end in `.keras` (Keras model format). Received: filepath=m.ckpt");
}

TEST(Callbacks, HooksRunInKerasOrder) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse"});
  std::vector<std::string> events;
  class Recorder : public callbacks::Callback {
   public:
    explicit Recorder(std::vector<std::string>& e) : e_(e) {}
    void on_train_begin(const Logs&) override { e_.push_back("train_begin"); }
    void on_epoch_begin(int epoch, const Logs&) override { e_.push_back("epoch_begin " + std::to_string(epoch)); }
    void on_batch_begin(int64_t b, const Logs&) override { e_.push_back("batch_begin " + std::to_string(b)); }
    void on_batch_end(int64_t b, const Logs& logs) override {
      e_.push_back("batch_end " + std::to_string(b) + " loss " + engine::python_float_repr(logs.at("loss")));
    }
    void on_test_begin(const Logs&) override { e_.push_back("test_begin"); }
    void on_test_end(const Logs&) override { e_.push_back("test_end"); }
    void on_epoch_end(int epoch, Logs& logs) override {
      std::string keys;
      for (const auto& [k, v] : logs) keys += " " + k;
      e_.push_back("epoch_end " + std::to_string(epoch) + keys);
    }
    void on_train_end(const Logs&) override { e_.push_back("train_end"); }

   private:
    std::vector<std::string>& e_;
  };
  m.fit(column({1, 2, 3}), column({0, 0, 0}),
        {.batch_size = 2,
         .epochs = 2,
         .verbose = 0,
         .callbacks = {std::make_shared<Recorder>(events)},
         .validation_data = {column({1}), column({1})},
         .shuffle = false,
         .initial_epoch = 1});
  EXPECT_EQ(events, (std::vector<std::string>{"train_begin", "epoch_begin 1", "batch_begin 0", "batch_end 0 loss 0.0",
                                              "batch_begin 1", "batch_end 1 loss 0.0", "test_begin", "test_end",
                                              "epoch_end 1 loss val_loss", "train_end"}));
}

TEST(Callbacks, FormatFilepathAsPythonFormat) {
  Logs logs;
  logs["val_loss"] = 0.123456;
  logs["acc"] = 0.5;
  EXPECT_EQ(callbacks::format_filepath("m-{epoch:02d}-{val_loss:.2f}.keras", 3, logs), "m-03-0.12.keras");
  EXPECT_EQ(callbacks::format_filepath("{epoch}_{acc}_{{x}}", 12, logs), "12_0.5_{x}");
  EXPECT_EQ(engine::python_float_repr(1e-5), "1e-05");
  EXPECT_EQ(engine::python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(engine::python_float_repr(1e16), "1e+16");
  EXPECT_EQ(engine::python_float_repr(123.0), "123.0");
  EXPECT_EQ(engine::python_float_repr(double(0.001f)), "0.0010000000474974513");
}

}  // namespace
}  // namespace keras
