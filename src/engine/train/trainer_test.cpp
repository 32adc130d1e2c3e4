// fit / evaluate semantics on models whose numbers can be worked out by hand from Keras's rules
// (KERAS_SPEC §9.1): steps, partial batches, the batch-size-weighted running loss,
// validation_split, shuffling, class and sample weights, History, evaluate's order.
#include "engine/train/trainer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "engine/functional.h"
#include "keras/keras.h"
#include "test_helpers.h"

namespace keras {
namespace {

Tensor column(std::vector<float> v) {
  Dim n = static_cast<Dim>(v.size());
  return Tensor(Shape{n, 1}, std::move(v));
}

// y = w x + b with w = b = 0.
Model linear_model() {
  auto in = Input({1});
  Model m(in, layers::Dense({.units = 1, .kernel_initializer = "zeros"})(in));
  return m;
}

TEST(Fit, OneSgdStepByHand) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.01}), .loss = "mse"});
  History h = m.fit(column({1, 2}), column({3, 5}), {.batch_size = 2, .verbose = 0, .shuffle = false});
  // loss = (9 + 25) / 2; dw = (2/2) * (-3*1 - 5*2) = -13; db = -8.
  ASSERT_EQ(h.history.at("loss").size(), 1u);
  EXPECT_NEAR(h.history["loss"][0], 17.0, 1e-5);
  auto w = m.get_weights();
  EXPECT_NEAR(w[0][0], 0.13, 1e-6);
  EXPECT_NEAR(w[1][0], 0.08, 1e-6);
  EXPECT_EQ(h.epoch, std::vector<int>{0});
  EXPECT_EQ(h.params.steps, 1);
  EXPECT_EQ(h.params.epochs, 1);
}

// Batches of 2 and 1: the epoch loss is the mean weighted by batch size, not the batch mean.
TEST(Fit, LossIsRunningMeanWeightedByBatchSize) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse"});
  History h = m.fit(column({1, 2, 3}), column({1, 2, 3}), {.batch_size = 2, .verbose = 0, .shuffle = false});
  EXPECT_EQ(h.params.steps, 2);  // ceil(3 / 2), the last batch partial
  EXPECT_NEAR(h.history["loss"][0], (2 * 2.5 + 1 * 9.0) / 3, 1e-5);
}

// validation_split takes the last samples, before shuffling; evaluation is silent and unshuffled.
TEST(Fit, ValidationSplitTakesTheLastFraction) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mae"});
  Tensor x = column({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  Tensor target = column({1, 1, 1, 1, 1, 1, 1, 1, 5, 7});
  History h = m.fit(x, target, {.batch_size = 3, .epochs = 2, .verbose = 0, .validation_split = 0.2});
  EXPECT_EQ(h.params.steps, 3);  // 8 training samples
  ASSERT_EQ(h.history.at("val_loss").size(), 2u);
  EXPECT_NEAR(h.history["val_loss"][0], 6.0, 1e-6);  // |5| and |7| of the last two samples
  EXPECT_NEAR(h.history["loss"][1], 1.0, 1e-6);
  EXPECT_EQ(h.epoch, (std::vector<int>{0, 1}));
  std::vector<std::string> keys;
  for (const auto& [k, v] : h.history) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"loss", "val_loss"}));
  EXPECT_EQ(testing::value_error_of([&] {
              m.fit(column({1, 2}), column({1, 2}), {.verbose = 0, .validation_split = 0.6});
            }),
            "Training data contains 2 samples, which is not sufficient to split it into a validation and training set "
            "as specified by `validation_split=0.6`. Either provide more data, or a different value for the "
            "`validation_split` argument.");
}

TEST(Fit, ValidationDataAndFrequency) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mae"});
  History h = m.fit(column({1, 2}), column({0, 0}),
                    {.epochs = 4, .verbose = 0, .validation_data = {column({0}), column({3})}, .validation_freq = 2});
  EXPECT_EQ(h.history.at("loss").size(), 4u);
  EXPECT_EQ(h.history.at("val_loss"), (std::vector<double>{3.0, 3.0}));
}

// Shuffling follows keras::set_random_seed: same seed, same weights; no shuffle, no dependence.
TEST(Fit, ShuffleIsSeeded) {
  auto train = [](uint64_t seed, bool shuffle) {
    set_random_seed(5);
    Model m = linear_model();
    m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.05}), .loss = "mse"});
    set_random_seed(seed);
    m.fit(column({1, 2, 3, 4, 5, 6}), column({2, 4, 6, 8, 10, 12}),
          {.batch_size = 2, .epochs = 3, .verbose = 0, .shuffle = shuffle});
    return m.get_weights()[0][0];
  };
  EXPECT_EQ(train(1, true), train(1, true));
  EXPECT_NE(train(1, true), train(2, true));
  EXPECT_EQ(train(1, false), train(2, false));
}

TEST(Fit, ClassAndSampleWeights) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mae"});
  // Labels 0 and 1 (predictions 0): losses 0 and 1; weights 1 and 3 -> (0 + 3) / 2.
  History h = m.fit(column({1, 2}), column({0, 1}), {.verbose = 0, .class_weight = {{1, 3.0}}});
  EXPECT_NEAR(h.history["loss"][0], 1.5, 1e-6);
  h = m.fit(column({1, 2}), column({0, 1}),
            {.verbose = 0, .sample_weight = Tensor(Shape{2}, std::vector<float>{1, 5})});
  EXPECT_NEAR(h.history["loss"][0], 2.5, 1e-6);
  EXPECT_EQ(testing::value_error_of([&] {
              m.fit(column({1}), column({0}),
                    {.verbose = 0, .class_weight = {{1, 3.0}}, .sample_weight = Tensor(Shape{1}, 1.0f)});
            }),
            "You cannot `class_weight` and `sample_weight` at the same time.");
}

TEST(Fit, EvaluateReturnsLossThenMetricsInCompileOrder) {
  auto in = Input({2});
  Model m(in, layers::Dense({.units = 2, .activation = "softmax", .kernel_initializer = "zeros"})(in));
  m.compile({.optimizer = "adam",
             .loss = "sparse_categorical_crossentropy",
             .metrics = {"sparse_categorical_crossentropy", "accuracy"}});
  Tensor x(Shape{4, 2}, std::vector<float>{1, 0, 0, 1, 1, 1, 0, 0});
  Tensor y(Shape{4}, std::vector<float>{0, 1, 1, 0});
  Scores score = m.evaluate(x, y, {.verbose = 0});
  ASSERT_EQ(score.size(), 3u);
  EXPECT_NEAR(score[0], std::log(2.0), 1e-6);  // uniform predictions
  EXPECT_NEAR(score[1], std::log(2.0), 1e-6);
  EXPECT_NEAR(score[2], 0.5, 1e-6);  // argmax of a tie is class 0
  EXPECT_EQ(m.metrics_names(), (std::vector<std::string>{"loss", "sparse_categorical_crossentropy", "accuracy"}));
  // The same values by name, unpacked, and as Keras's return_dict.
  EXPECT_EQ(score.names(), m.metrics_names());
  EXPECT_EQ(score["accuracy"], score[2]);
  EXPECT_EQ(score.loss(), score[0]);
  auto [loss, ce, acc] = score.as<3>();
  EXPECT_EQ(std::vector<double>({loss, ce, acc}), score.values());
  EXPECT_EQ(score.as_dict().at("sparse_categorical_crossentropy"), score[1]);
  // Two names for three values: Python's "too many values to unpack".
  auto contains = [](const std::string& text, const std::string& part) { return text.find(part) != text.npos; };
  EXPECT_PRED2(contains, testing::value_error_of([&] {
                 auto [l, a] = score;
                 (void)l, (void)a;
               }),
               "too many values to unpack (expected 2, got 3");
  EXPECT_PRED2(contains, testing::value_error_of([&] { (void)score["auc"]; }), "No score named \"auc\"");
  EXPECT_PRED2(contains, testing::value_error_of([&] { (void)score[3]; }), "out of range");
}

TEST(Evaluate, UnpacksLossAndOneMetricAsPythonDoes) {
  auto in = Input({2});
  Model m(in, layers::Dense({.units = 2, .activation = "softmax", .kernel_initializer = "zeros"})(in));
  m.compile({.optimizer = "sgd", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  Tensor x(Shape{4, 2}, std::vector<float>{1, 0, 0, 1, 1, 1, 0, 0});
  Tensor y(Shape{4}, std::vector<float>{0, 1, 1, 0});
  auto [loss, accuracy] = m.evaluate(x, y, {.verbose = 0});
  EXPECT_NEAR(loss, std::log(2.0), 1e-6);
  EXPECT_NEAR(accuracy, 0.5, 1e-6);
  auto [batch_loss, batch_accuracy] = m.test_on_batch({x}, y);
  EXPECT_NEAR(batch_loss, std::log(2.0), 1e-6);
  EXPECT_NEAR(batch_accuracy, 0.5, 1e-6);
}

TEST(Fit, ErrorsReadLikeKeras) {
  Model m = linear_model();
  EXPECT_EQ(testing::value_error_of([&] { m.fit(column({1}), column({1})); }),
            "You must call `compile()` before using the model.");
  m.compile({.optimizer = "sgd", .loss = "mse"});
  EXPECT_EQ(testing::value_error_of([&] {
              m.fit(column({1, 2}), column({1}), {.verbose = 0});
            }),
            "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples.'x' sizes: 2\n"
            "'y' sizes: 1\n");
  Model no_loss = linear_model();
  no_loss.compile({.optimizer = "sgd"});
  EXPECT_EQ(testing::value_error_of([&] { no_loss.fit(column({1}), column({1}), {.verbose = 0}); }),
            "No loss to compute. Provide a `loss` argument in `compile()`.");
}

TEST(Fit, SequentialWithoutInputIsBuiltByTheData) {
  set_random_seed(3);
  Sequential m({layers::Dense(4, "relu"), layers::Dropout(0.5), layers::Dense(3, "softmax")});
  m.compile({.optimizer = "adam", .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
  Tensor x = testing::random_tensor({16, 5}, 1);
  Tensor y(Shape{16, 3});
  for (Dim i = 0; i < 16; ++i) y[i * 3 + i % 3] = 1;
  History h = m.fit(x, y, {.batch_size = 4, .epochs = 2, .verbose = 0});
  EXPECT_EQ(h.history.at("accuracy").size(), 2u);
  EXPECT_EQ(m.optimizer()->iterations(), 8);
}

// Training moves a small classifier towards its targets.
TEST(Fit, LearnsASeparableProblem) {
  set_random_seed(11);
  auto in = Input({2});
  auto h1 = layers::Dense(8, "tanh")(in);
  Model m(in, layers::Dense(1, "sigmoid")(h1));
  m.compile(
      {.optimizer = optimizers::Adam({.learning_rate = 0.05}), .loss = "binary_crossentropy", .metrics = {"accuracy"}});
  Tensor x = testing::random_tensor({64, 2}, 7), y(Shape{64, 1});
  for (Dim i = 0; i < 64; ++i) y[i] = x[2 * i] + x[2 * i + 1] > 0 ? 1.0f : 0.0f;
  History h = m.fit(x, y, {.batch_size = 16, .epochs = 30, .verbose = 0});
  EXPECT_LT(h.history["loss"].back(), h.history["loss"].front());
  EXPECT_GE(m.evaluate(x, y, {.verbose = 0})[1], 0.9);
}

TEST(Fit, TrainAndTestOnBatch) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.01}), .loss = "mse"});
  auto r = m.train_on_batch({column({1, 2})}, column({3, 5}));
  EXPECT_NEAR(r[0], 17.0, 1e-5);
  m.reset_metrics();
  r = m.test_on_batch({column({1, 2})}, column({3, 5}));
  EXPECT_NEAR(r[0], ((3 - 0.21) * (3 - 0.21) + (5 - 0.34) * (5 - 0.34)) / 2, 1e-4);
}

TEST(Fit, CompileConfigRoundTrip) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.1, .momentum = 0.9}),
             .loss = losses::Huber({.delta = 2.0}),
             .metrics = {"mae", metrics::AUC({.num_thresholds = 50})}});
  nlohmann::json c = m.compile_config();
  EXPECT_EQ(c["optimizer"]["class_name"], "SGD");
  EXPECT_EQ(c["loss"]["config"]["delta"], 2.0);
  EXPECT_EQ(c["metrics"][0], "mae");
  Model other = linear_model();
  other.compile_from_config(c);
  EXPECT_EQ(other.compile_config(), c);
  // Keras 2's training_config.
  other.compile_from_config({{"optimizer_config", {{"class_name", "Adam"}, {"config", {{"learning_rate", 0.01}}}}},
                             {"loss", "categorical_crossentropy"},
                             {"metrics", {"accuracy"}}});
  EXPECT_EQ(other.optimizer()->class_name(), "Adam");
  EXPECT_EQ(other.metrics_names(), (std::vector<std::string>{"loss", "accuracy"}));
}

// Off a terminal (as under ctest) verbose 1 writes each bar's final line only, without escapes.
// Times are patterns: a slow or sanitizer machine may take seconds.
TEST(Fit, ProgressOutputOffATerminal) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse", .metrics = {"mae"}});
  std::string bar;
  for (int i = 0; i < 20; ++i) bar += "\u2501";
  ::testing::internal::CaptureStdout();
  m.fit(column({1, 2, 3}), column({0, 0, 2}),
        {.batch_size = 2, .epochs = 2, .validation_data = {column({1}), column({1})}});
  std::string out = ::testing::internal::GetCapturedStdout();
  std::string line =
      "2/2 " + bar +
      " [0-9]+s [0-9]+(us|ms|s)/step - loss: 1\\.3333 - mae: 0\\.6667 - val_loss: 1\\.0000 - val_mae: 1\\.0000\n";
  EXPECT_TRUE(std::regex_match(out, std::regex("Epoch 1/2\n" + line + "Epoch 2/2\n" + line))) << out;
  ::testing::internal::CaptureStdout();
  m.evaluate(column({1, 2, 3}), column({0, 0, 2}));
  out = ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(std::regex_match(
      out, std::regex("1/1 " + bar + " [0-9]+s [0-9]+(us|ms|s)/step - loss: 1\\.3333 - mae: 0\\.6667\n")))
      << out;
  ::testing::internal::CaptureStdout();
  m.fit(column({1, 2, 3}), column({0, 0, 2}), {.batch_size = 2, .verbose = 2});
  out = ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(
      std::regex_match(out, std::regex("2/2 - [0-9]+s - [0-9]+(us|ms|s)/step - loss: 1\\.3333 - mae: 0\\.6667\n")))
      << out;
}

// A callback's stop_training ends the epoch after the current batch.
TEST(Fit, StopTrainingFromABatch) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse"});
  int batches = 0;
  callbacks::LambdaCallback stop({.on_train_batch_end = [&](int64_t batch, const Logs&) {
    ++batches;
    if (batch == 1) m.set_stop_training(true);
  }});
  History h = m.fit(column({1, 2, 3, 4, 5}), column({1, 2, 3, 4, 5}),
                    {.batch_size = 1, .epochs = 3, .verbose = 0, .callbacks = {stop}, .shuffle = false});
  EXPECT_EQ(batches, 2);
  EXPECT_EQ(h.epoch, std::vector<int>{0});
  EXPECT_NEAR(h.history["loss"][0], (1.0 + 4.0) / 2, 1e-6);  // the two batches run
}

TEST(Fit, TrainableVariablesSkipFrozenLayers) {
  auto in = Input({2});
  Layer frozen = layers::Dense(2);
  auto h = frozen(in);
  Model m(in, layers::Dense(1)(h));
  frozen->set_trainable(false);
  auto vars = engine::trainable_variables(m.functional());
  ASSERT_EQ(vars.size(), 2u);
  EXPECT_EQ(vars[0].path, m.layers()[2].name() + "/kernel");
  EXPECT_EQ(vars[0].index, 2u);
  m.compile({.optimizer = "sgd", .loss = "mse"});
  auto before = frozen.get_weights();
  m.fit(testing::random_tensor({4, 2}, 1), testing::random_tensor({4, 1}, 2), {.verbose = 0});
  EXPECT_EQ(frozen.get_weights(), before);
}

}  // namespace
}  // namespace keras

namespace keras {
namespace {

// Two heads on one input: a = w_a x + b_a and b = w_b x + b_b, all zero at the start.
Model two_heads() {
  auto in = Input({1});
  auto a = layers::Dense({.units = 1, .kernel_initializer = "zeros", .name = "a"})(in);
  auto b = layers::Dense({.units = 1, .kernel_initializer = "zeros", .name = "b"})(in);
  return Model({in}, {a, b});
}

TEST(FitMultiOutput, LossesAndWeightsByHand) {
  Model m = two_heads();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.01}),
             .losses = {"mse", "mse"},
             .loss_weights = {1.0, 0.5},
             .output_metrics = {{"mae"}, {}}});
  History h =
      m.fit({column({1, 2})}, {column({3, 5}), column({1, 1})}, {.batch_size = 2, .verbose = 0, .shuffle = false});
  // a: loss (9 + 25) / 2 = 17, dw = -13, db = -8; b: loss (1 + 1) / 2 = 1, dw = -3, db = -2,
  // weighted by 0.5 in the total 17 + 0.5 * 1 and in its gradients.
  EXPECT_NEAR(h.history.at("loss")[0], 17.5, 1e-5);
  EXPECT_NEAR(h.history.at("a_loss")[0], 17.0, 1e-5);
  EXPECT_NEAR(h.history.at("b_loss")[0], 1.0, 1e-6);
  EXPECT_NEAR(h.history.at("a_mae")[0], 4.0, 1e-6);
  auto w = m.get_weights();
  EXPECT_NEAR(w[0][0], 0.13, 1e-6);
  EXPECT_NEAR(w[1][0], 0.08, 1e-6);
  EXPECT_NEAR(w[2][0], 0.015, 1e-7);
  EXPECT_NEAR(w[3][0], 0.01, 1e-7);
  EXPECT_EQ(m.metrics_names(), (std::vector<std::string>{"loss", "a_loss", "b_loss", "a_mae"}));
  Scores score = m.evaluate({column({1, 2})}, {column({3, 5}), column({1, 1})}, {.verbose = 0});
  ASSERT_EQ(score.size(), 4u);
  EXPECT_NEAR(score[0], score[1] + 0.5 * score[2], 1e-6);
}

// One loss for every output (Keras 3 applies a single loss to each); an output given no loss
// is not trained: the model learns exactly as its one-output twin.
TEST(FitMultiOutput, SingleLossForAllAndUntrainedOutputs) {
  Model m = two_heads();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.01}), .loss = "mse", .metrics = {"mae"}});
  History h = m.fit({column({1, 2})}, {column({3, 5}), column({1, 1})}, {.batch_size = 2, .verbose = 0});
  EXPECT_NEAR(h.history.at("loss")[0], 18.0, 1e-5);
  EXPECT_EQ(m.metrics_names(), (std::vector<std::string>{"loss", "a_loss", "b_loss", "a_mae", "b_mae"}));

  set_random_seed(4);
  auto in = Input({3, 3, 1});
  auto trunk = layers::Flatten()(layers::Conv2D(2, {2, 2}, "relu")(in));
  auto head = layers::Dense(1, "sigmoid")(layers::Dropout(0.3)(trunk));
  auto extra = layers::Dense(2)(trunk);
  Model both({in}, {head, extra});
  Model one({in}, {head});  // the same layers, so the same starting weights
  std::vector<Tensor> start = one.get_weights();
  Tensor x = testing::random_tensor({12, 3, 3, 1}, 1), y = testing::random_tensor({12, 1}, 2, 0, 1);
  Tensor y2 = testing::random_tensor({12, 2}, 3);
  set_random_seed(9);
  one.compile({.optimizer = "adam", .loss = "binary_crossentropy"});
  History h1 = one.fit(x, y, {.batch_size = 5, .epochs = 2, .verbose = 0});
  std::vector<Tensor> after_one = one.get_weights();
  one.set_weights(start);
  set_random_seed(9);
  both.compile({.optimizer = "adam", .losses = {"binary_crossentropy", losses::Loss()}});
  History h2 = both.fit({x}, {y, y2}, {.batch_size = 5, .epochs = 2, .verbose = 0});
  EXPECT_EQ(h2.history.at("loss"), h1.history.at("loss"));
  // One loss computed: no per-output loss entries (Keras's CompileLoss tracks them from two).
  EXPECT_EQ(both.metrics_names(), (std::vector<std::string>{"loss"}));
  std::vector<Tensor> after_both = one.get_weights();
  for (size_t i = 0; i < after_one.size(); ++i) EXPECT_EQ(after_both[i], after_one[i]) << "weight " << i;
}

TEST(FitMultiOutput, CompileConfigAndErrors) {
  Model m = two_heads();
  m.compile({.optimizer = optimizers::SGD(),
             .losses = {"mse", "mae"},
             .loss_weights = {2, 1},
             .output_metrics = {{"mae"}, {"mse"}}});
  nlohmann::json c = m.compile_config();
  EXPECT_EQ(c["loss"], nlohmann::json({"mse", "mae"}));
  EXPECT_EQ(c["loss_weights"], nlohmann::json({2.0, 1.0}));
  EXPECT_EQ(c["metrics"], nlohmann::json::parse(R"([["mae"], ["mse"]])"));
  Model other = two_heads();
  other.compile_from_config(c);
  EXPECT_EQ(other.compile_config(), c);
  // Keras 2's dicts by output name.
  other.compile_from_config(nlohmann::json::parse(
      R"({"loss": {"b": "mae", "a": "mse"}, "loss_weights": {"a": 1.0, "b": 0.25}, "metrics": {"a": ["mae"], "b": []}})"));
  EXPECT_EQ(other.compile_config()["loss"], nlohmann::json({"mse", "mae"}));
  EXPECT_EQ(other.compile_config()["loss_weights"], nlohmann::json({1.0, 0.25}));
  EXPECT_EQ(other.metrics_names(), (std::vector<std::string>{"loss", "a_loss", "b_loss", "a_mae"}));

  std::string msg = testing::value_error_of([] { two_heads().compile({.losses = {"mse"}}); });
  EXPECT_NE(msg.find("has 2 outputs, but `loss` has 1 entries"), std::string::npos) << msg;
  m.compile({.optimizer = "sgd", .loss = "mse"});
  msg = testing::value_error_of([&] { m.fit({column({1})}, {column({1})}, {.verbose = 0}); });
  EXPECT_NE(msg.find("has 2 outputs, but 1 target arrays were given"), std::string::npos) << msg;
  msg = testing::value_error_of([&] {
    m.fit({column({1})}, {column({1}), column({0})}, {.verbose = 0, .class_weight = {{0, 1.0}}});
  });
  EXPECT_NE(msg.find("single output"), std::string::npos) << msg;
}

}  // namespace
}  // namespace keras

namespace keras {
namespace {

// Keras's CompileMetrics: `metrics` ignore sample weights, `weighted_metrics` use them (a
// weighted mean), named "weighted_<name>" beside a plain metric of the same name.
TEST(Fit, WeightedMetricsUseSampleWeightsAndPlainMetricsDoNot) {
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}),
             .loss = "mae",
             .metrics = {"mae"},
             .weighted_metrics = {"mae", "mse"}});
  Tensor sw(Shape{2}, std::vector<float>{1, 5});
  History h = m.fit(column({1, 2}), column({0, 1}), {.verbose = 0, .sample_weight = sw});
  EXPECT_NEAR(h.history.at("loss")[0], 2.5, 1e-6);                // (0 * 1 + 1 * 5) / 2
  EXPECT_NEAR(h.history.at("mae")[0], 0.5, 1e-6);                 // (0 + 1) / 2
  EXPECT_NEAR(h.history.at("weighted_mae")[0], 5.0 / 6.0, 1e-6);  // (0 * 1 + 1 * 5) / (1 + 5)
  EXPECT_NEAR(h.history.at("mse")[0], 5.0 / 6.0, 1e-6);
  EXPECT_EQ(m.metrics_names(), (std::vector<std::string>{"loss", "mae", "weighted_mae", "mse"}));
  nlohmann::json c = m.compile_config();
  EXPECT_EQ(c["weighted_metrics"], nlohmann::json({"mae", "mse"}));
  Model other = linear_model();
  other.compile_from_config(c);
  EXPECT_EQ(other.metrics_names(), m.metrics_names());
  // A repeated name gets a counter (CompileMetrics.result's unique names).
  other.compile({.optimizer = "sgd", .loss = "mae", .metrics = {"mae", "mae"}, .weighted_metrics = {"mae"}});
  EXPECT_EQ(other.metrics_names(), (std::vector<std::string>{"loss", "mae", "mae_1", "weighted_mae"}));
}

}  // namespace
}  // namespace keras

namespace keras {
namespace {

// The first layers skip their input gradients in training; an input read by such a layer and
// by one that computes them anyway trains the same as when every gradient is computed.
TEST(Fit, InputGradientsAreSkippedWithoutChangingTraining) {
  set_random_seed(2);
  auto in = Input({4, 4, 1});
  auto conv = layers::Flatten()(layers::Conv2D(2, {3, 3}, "relu")(in));
  auto skip = layers::Flatten()(in);
  Model m({in}, {layers::Dense(1)(layers::Concatenate()({conv, skip}))});
  std::vector<Tensor> start = m.get_weights();
  Tensor x = testing::random_tensor({6, 4, 4, 1}, 1), y = testing::random_tensor({6, 1}, 2);
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.05}), .loss = "mse"});
  m.fit(x, y, {.batch_size = 3, .epochs = 2, .verbose = 0, .shuffle = false});
  std::vector<Tensor> trained = m.get_weights();

  // The same steps by hand with every input gradient computed.
  m.set_weights(start);
  for (int epoch = 0; epoch < 2; ++epoch)
    for (Dim b = 0; b < 6; b += 3) {
      SavedState saved;
      std::vector<Tensor> xb{x.slice(b, b + 3)};
      std::vector<Tensor> out = m->call(xb, {.training = true, .saved = &saved});
      Tensor yb = y.slice(b, b + 3), dy(out[0].shape());
      for (Dim i = 0; i < dy.size(); ++i) dy[i] = 2 * (out[0][i] - yb[i]) / 3;  // d mean((p - y)^2)
      Gradients g = m->backward({xb, out, {dy}, saved});
      ASSERT_EQ(g.inputs.at(0).shape(), xb[0].shape());
      std::vector<Tensor> w = m.get_weights();
      for (size_t i = 0; i < w.size(); ++i)
        for (Dim j = 0; j < w[i].size(); ++j) w[i][j] -= 0.05f * g.variables[i][j];
      m.set_weights(w);
    }
  std::vector<Tensor> by_hand = m.get_weights();
  for (size_t i = 0; i < trained.size(); ++i) EXPECT_TRUE(testing::AllClose(trained[i], by_hand[i])) << i;
}

}  // namespace
}  // namespace keras

namespace keras {
namespace {

// steps_per_epoch below the batch count: epochs continue through the data (Keras's
// EpochIterator), so two epochs of 2 steps equal one epoch of 4 steps; above it, the epoch
// ends when the data runs out.
TEST(Fit, StepsPerEpochContinuesThroughTheData) {
  Tensor x = column({1, 2, 3, 4, 5, 6, 7, 8}), y = column({2, 4, 6, 8, 10, 12, 14, 16});
  auto run = [&](int epochs, int steps) {
    Model m = linear_model();
    m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.01}), .loss = "mse"});
    History h =
        m.fit(x, y, {.batch_size = 2, .epochs = epochs, .verbose = 0, .shuffle = false, .steps_per_epoch = steps});
    return std::pair{m.get_weights(), h};
  };
  auto [w_split, h_split] = run(2, 2);
  auto [w_whole, h_whole] = run(1, 0);
  EXPECT_EQ(h_split.params.steps, 2);
  for (size_t i = 0; i < w_split.size(); ++i) EXPECT_EQ(w_split[i], w_whole[i]);
  // 4 batches, 3 epochs of 3 steps: 3 + 1 (then a new pass) + 3.
  Model m = linear_model();
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "mse"});
  m.fit(x, y, {.batch_size = 2, .epochs = 3, .verbose = 0, .shuffle = false, .steps_per_epoch = 3});
  EXPECT_EQ(m.optimizer()->iterations(), 7);
}

}  // namespace
}  // namespace keras
