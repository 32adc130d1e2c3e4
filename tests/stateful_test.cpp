// Stateful RNNs (issue 9 item 3) against TensorFlow.js (tests/fixtures/stateful): predict over
// several batches carries the states from batch to batch, reset_states() starts again from
// zeros, and fit carries them too; a stateful model fed one timestep at a time equals predict
// over the whole sequence.
#include <fstream>
#include <nlohmann/json.hpp>

#include "keras/layers/rnn.h"
#include "test_helpers.h"

namespace keras {
namespace {

using nlohmann::json;

Tensor tensor_of(const json& j) {
  return Tensor(Shape(j.at("shape").get<std::vector<Dim>>()), j.at("data").get<std::vector<float>>());
}

// Rows [begin, end) of x's first axis.
Tensor rows(const Tensor& x, Dim begin, Dim end) {
  Shape s = x.shape();
  Dim per = x.size() / s[0];
  s[0] = end - begin;
  return Tensor(s, std::vector<float>(x.data() + begin * per, x.data() + end * per));
}

class StatefulOracle : public ::testing::TestWithParam<std::filesystem::path> {};

INSTANTIATE_TEST_SUITE_P(Fixtures, StatefulOracle, ::testing::ValuesIn(testing::fixture_files("stateful")),
                         testing::fixture_case_name);

TEST_P(StatefulOracle, PredictCarriesStatesAcrossBatches) {
  testing::Fixture f = testing::load_fixture(GetParam());
  std::ifstream in(GetParam());
  int batch = json::parse(in).at("batch_size").get<int>();
  SCOPED_TRACE(f.name + " (oracle: " + f.oracle + ")");
  Model model = model_from_json(f.model_json, ConfigContext{.source = f.name});
  model.set_weights(f.weights);
  EXPECT_TRUE(testing::AllClose(model.predict(f.inputs[0], {.batch_size = batch}), f.outputs[0]));
  model.reset_states();
  EXPECT_TRUE(testing::AllClose(model.predict(f.inputs[0], {.batch_size = batch}), f.outputs[0])) << "after reset";
  // The states matter: the second batch alone, from zero states, is not what it was after the first.
  model.reset_states();
  Tensor second = model.predict(rows(f.inputs[0], batch, 2 * batch), {.batch_size = batch});
  EXPECT_FALSE(testing::AllClose(second, rows(f.outputs[0], batch, 2 * batch)));
  // Another batch size is Keras's shape error.
  std::string error = testing::value_error_of([&] { model.predict(f.inputs[0], {.batch_size = batch + 1}); });
  EXPECT_NE(error.find("found shape=(" + std::to_string(batch + 1) + ","), std::string::npos) << error;
}

TEST_P(StatefulOracle, FitCarriesStatesAcrossBatches) {
  testing::Fixture f = testing::load_fixture(GetParam());
  std::ifstream in(GetParam());
  json j = json::parse(in);
  int batch = j.at("batch_size").get<int>();
  const json& t = j.at("training");
  SCOPED_TRACE(f.name + " (oracle: " + f.oracle + ")");
  Model model = model_from_json(f.model_json, ConfigContext{.source = f.name});
  model.set_weights(f.weights);
  model.compile({.optimizer = optimizers::SGD({.learning_rate = t.at("learning_rate").get<double>()}), .loss = "mse"});
  History h = model.fit(f.inputs[0], tensor_of(t.at("y")), {.batch_size = batch, .verbose = 0, .shuffle = false});
  double want = t.at("loss").get<double>();
  EXPECT_NEAR(h.history.at("loss").at(0), want, 1e-5 + 1e-4 * std::abs(want));
  std::vector<Tensor> got = model.get_weights();
  ASSERT_EQ(got.size(), t.at("weights_after").size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(testing::AllClose(got[i], tensor_of(t.at("weights_after")[i]))) << "weight " << i;
}

TEST(StatefulOracleFiles, ArePresent) { EXPECT_EQ(testing::fixture_files("stateful").size(), 5u); }

// Streaming: a stateful LSTM on (1, 1, features), fed one timestep at a time, gives at each step
// what the same weights give over the whole sequence with return_sequences (predict_on_batch
// reusing its output tensor, as an audio loop would).
TEST(Stateful, OneStepAtATimeEqualsTheWholeSequence) {
  const Dim steps = 7, features = 5, units = 4;
  KerasTensor seq_in = Input(Shape{steps, features});
  Model whole(seq_in, layers::LSTM({.units = units, .return_sequences = true})(seq_in));
  KerasTensor x = Input({.shape = Shape{1, features}, .batch_size = 1});
  Model stream(x, layers::LSTM({.units = units, .return_sequences = true, .stateful = true})(x));
  stream.set_weights(whole.get_weights());
  Tensor seq = testing::random_tensor(Shape{1, steps, features}, 3);
  Tensor want = whole.predict(seq);
  std::vector<Tensor> out;
  for (Dim t = 0; t < steps; ++t) {
    Tensor step(Shape{1, 1, features}, std::vector<float>(seq.data() + t * features, seq.data() + (t + 1) * features));
    stream.predict_on_batch({step}, out);
    Tensor want_t(Shape{1, 1, units}, std::vector<float>(want.data() + t * units, want.data() + (t + 1) * units));
    EXPECT_TRUE(testing::AllClose(out[0], want_t)) << "step " << t;
  }
}

}  // namespace
}  // namespace keras
