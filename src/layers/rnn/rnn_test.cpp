// Recurrent layers on tiny cases worked out by hand from the Keras cell formulas
// (KERAS_SPEC §5.5), one case computed by real Keras (frugally-deep's GRU), and config reading.
// Random-weight cases against TensorFlow.js and PyTorch are in tests/fixtures/layers/rnn_*.json.
#include <nlohmann/json.hpp>

#include "layers/rnn/weights.h"
#include "saving/model_config.h"
#include "test_helpers.h"

namespace keras {
namespace {

using testing::AllClose;

Tensor t(Shape s, std::vector<float> v) { return Tensor(std::move(s), std::move(v)); }

std::vector<Tensor> run(const Layer& l, const std::vector<Tensor>& in) {
  std::vector<Shape> shapes;
  for (const Tensor& x : in) shapes.push_back(x.shape());
  l->build(shapes);
  return l->call(in, CallContext{});
}

// h_t = x_t*2 + h_{t-1}*0.5 + 1 on x = 1, 2, 3: 3, 6.5, 10.25.
Layer linear_rnn(bool return_sequences, bool go_backwards = false) {
  Layer l = layers::SimpleRNN(
      {.units = 1, .activation = "linear", .return_sequences = return_sequences, .go_backwards = go_backwards});
  l->build({Shape{None, 3, 1}});
  l.set_weights({t({1, 1}, {2}), t({1, 1}, {0.5f}), t({1}, {1})});
  return l;
}

const Tensor kSeq123 = Tensor(Shape{1, 3, 1}, std::vector<float>{1, 2, 3});

TEST(SimpleRNN, LinearRecurrenceByHand) {
  EXPECT_TRUE(AllClose(run(linear_rnn(false), {kSeq123})[0], t({1, 1}, {10.25f})));
  EXPECT_TRUE(AllClose(run(linear_rnn(true), {kSeq123})[0], t({1, 3, 1}, {3, 6.5f, 10.25f})));
}

TEST(SimpleRNN, GoBackwardsReadsFromTheEndAndReturnsThatOrder) {
  // x read as 3, 2, 1: 7, 8.5, 7.25 — returned in processing order, as Keras does.
  EXPECT_TRUE(AllClose(run(linear_rnn(true, true), {kSeq123})[0], t({1, 3, 1}, {7, 8.5f, 7.25f})));
}

TEST(SimpleRNN, InitialStateInput) {
  // h0 = 2: 3 + 1, 5 + 2, 7 + 3.5 = 4, 7, 10.5.
  EXPECT_TRUE(AllClose(run(linear_rnn(true), {kSeq123, t({1, 1}, {2})})[0], t({1, 3, 1}, {4, 7, 10.5f})));
}

// LSTM, units 1, linear activation, Keras 2 hard_sigmoid (0.2x + 0.5) so every value is exact.
// W = [1, 0, 2, 0.5], U = [0.5, 1, 1, 0], b = [0, 0.5, 0, 0] in gate order i, f, c, o.
// t=1 (x=1): i .7 f .6 c~ 2 o .6 -> c = 1.4, h = .84.
// t=2 (x=2): z = [2.42, 1.34, 4.84, 1] -> i .984 f .768 o .7 -> c = 5.83776, h = 4.086432.
TEST(LSTM, GateOrderIFCOByHand) {
  Layer l = layers::LSTM(
      {.units = 1, .activation = "linear", .recurrent_activation = "hard_sigmoid_keras2", .return_state = true});
  l->build({Shape{None, 2, 1}});
  l.set_weights({t({1, 4}, {1, 0, 2, 0.5f}), t({1, 4}, {0.5f, 1, 1, 0}), t({4}, {0, 0.5f, 0, 0})});
  auto out = run(l, {t({1, 2, 1}, {1, 2})});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(AllClose(out[0], t({1, 1}, {4.086432f})));
  EXPECT_TRUE(AllClose(out[1], t({1, 1}, {4.086432f})));
  EXPECT_TRUE(AllClose(out[2], t({1, 1}, {5.83776f})));
}

TEST(LSTM, UnitForgetBiasInitialisesForgetGateToOne) {
  Layer l = layers::LSTM(2);
  l->build({Shape{None, 4, 3}});
  EXPECT_TRUE(AllClose(l.get_weights()[2], t({8}, {0, 0, 1, 1, 0, 0, 0, 0})));
  EXPECT_EQ(layers::LSTM(6)->build({Shape{None, 5, 8}}).at(0), (Shape{None, 6}));
}

TEST(LSTM, ParamsAsKeras) {
  Layer l = layers::LSTM(6);
  l->build({Shape{None, 5, 8}});
  EXPECT_EQ(l.count_params(), 360);  // 4u(in + u + 1), KERAS_SPEC §5.5
}

// GRU, units 1, linear activation, Keras 2 hard_sigmoid; W = [1, .5, 2], U = [.5, 1, 2] (z, r, h).
Layer tiny_gru(bool reset_after) {
  Layer l = layers::GRU({.units = 1,
                         .activation = "linear",
                         .recurrent_activation = "hard_sigmoid_keras2",
                         .return_sequences = true,
                         .reset_after = reset_after});
  l->build({Shape{None, 2, 1}});
  Tensor bias = reset_after ? t({2, 3}, {0, 0, 1, 0, 0, 0.5f}) : t({3}, {0, 0, 1});
  l.set_weights({t({1, 3}, {1, 0.5f, 2}), t({1, 3}, {0.5f, 1, 2}), bias});
  return l;
}

TEST(GRU, ResetBeforeByHand) {
  // t=1 (x=1): z .7, r .6, hh = 2 + 1 + (.6*0)*2 = 3 -> h = .9
  // t=2 (x=-1): z = hs(-.55) = .39, r = hs(.4) = .58, hh = -2 + 1 + (.58*.9)*2 = .044 -> h = .37784
  EXPECT_TRUE(AllClose(run(tiny_gru(false), {t({1, 2, 1}, {1, -1})})[0], t({1, 2, 1}, {0.9f, 0.37784f})));
}

TEST(GRU, ResetAfterByHand) {
  // Recurrent bias [0, 0, .5]. t=1: z .7, r .6, hh = 3 + .6*(0 + .5) = 3.3 -> h = .99
  // t=2: z = hs(-.505) = .399, r = hs(.49) = .598, hh = -1 + .598*(1.98 + .5) = .48304 -> h = .68531704
  EXPECT_TRUE(AllClose(run(tiny_gru(true), {t({1, 2, 1}, {1, -1})})[0], t({1, 2, 1}, {0.99f, 0.68531704f})));
}

TEST(GRU, ParamsAsKeras) {
  Layer a = layers::GRU(3);
  a->build({Shape{None, 4, 6}});
  EXPECT_EQ(a.count_params(), 99);  // 3u(in + u + 2) with reset_after
  Layer b = layers::GRU({.units = 3, .reset_after = false});
  b->build({Shape{None, 4, 6}});
  EXPECT_EQ(b.count_params(), 90);
}

// Real Keras 2.2.4-tf (frugally-deep temp_rnn_results.txt): GRU(1, activation=None, use_bias=False,
// reset_after=True, return_sequences=True), input [1, 0, 0], initial state 10.
TEST(GRU, FrugallyDeepInitialStateCaseFromRealKeras) {
  KerasTensor x = Input({3, 1});
  KerasTensor h0 = Input({1});
  Layer gru = layers::GRU({.units = 1, .activation = "linear", .use_bias = false, .return_sequences = true});
  KerasTensor y = gru({x, h0});
  Model model({x, h0}, {y});
  gru.set_weights({t({1, 3}, {1, -2, 3}), t({1, 3}, {-0.5f, 2, -1.1f})});
  auto out = model.predict({t({1, 3, 1}, {1, 0, 0}), t({1, 1}, {10})});
  EXPECT_TRUE(AllClose(out[0], t({1, 3, 1}, {-7.676248f, -7.5144324f, -7.3429837f})));
}

TEST(Recurrent, RejectsWrongRankAndStateCount) {
  try {
    run(layers::LSTM(2), {Tensor({2, 3})});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("expected ndim=3, found ndim=2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(run(layers::LSTM(2), {Tensor({1, 3, 2}), Tensor({1, 2})}), ValueError);
  EXPECT_THROW(layers::GRU(0), ValueError);
}

TEST(Recurrent, ReturnStateGivesSeveralOutputsInTheGraph) {
  KerasTensor x = Input({5, 3});
  KerasTensor seq = layers::LSTM({.units = 4, .return_sequences = true, .return_state = true})(x);
  auto all = outputs_of(seq);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].shape(), (Shape{None, 5, 4}));
  EXPECT_EQ(all[1].shape(), (Shape{None, 4}));
  EXPECT_EQ(all[2].shape(), (Shape{None, 4}));
}

Layer bidirectional(std::optional<std::string> merge_mode, bool return_sequences) {
  Layer b = layers::Bidirectional(
      layers::SimpleRNN({.units = 1, .activation = "linear", .return_sequences = return_sequences}), merge_mode);
  b->build({Shape{None, 3, 1}});
  b.set_weights({t({1, 1}, {2}), t({1, 1}, {0.5f}), t({1}, {1}), t({1, 1}, {2}), t({1, 1}, {0.5f}), t({1}, {1})});
  return b;
}

TEST(Bidirectional, BackwardSequenceIsFlippedBackBeforeMerging) {
  // forward 3, 6.5, 10.25; backward read 3, 2, 1 gives 7, 8.5, 7.25, flipped: 7.25, 8.5, 7.
  EXPECT_TRUE(
      AllClose(run(bidirectional("concat", true), {kSeq123})[0], t({1, 3, 2}, {3, 7.25f, 6.5f, 8.5f, 10.25f, 7})));
  EXPECT_TRUE(AllClose(run(bidirectional("sum", false), {kSeq123})[0], t({1, 1}, {17.5f})));
  EXPECT_TRUE(AllClose(run(bidirectional("mul", false), {kSeq123})[0], t({1, 1}, {74.3125f})));
  EXPECT_TRUE(AllClose(run(bidirectional("ave", false), {kSeq123})[0], t({1, 1}, {8.75f})));
  auto both = run(bidirectional(std::nullopt, false), {kSeq123});
  ASSERT_EQ(both.size(), 2u);
  EXPECT_TRUE(AllClose(both[1], t({1, 1}, {7.25f})));
}

TEST(Bidirectional, NamesAndConfigAsKeras) {
  Layer b = layers::Bidirectional(layers::LSTM({.units = 2, .name = "enc"}));
  b->build({Shape{None, 4, 3}});
  auto c = b->get_config();
  EXPECT_EQ(c["merge_mode"], "concat");
  EXPECT_EQ(c["layer"]["config"]["name"], "forward_enc");
  EXPECT_EQ(c["backward_layer"]["config"]["name"], "backward_enc");
  EXPECT_EQ(c["backward_layer"]["config"]["go_backwards"], true);
  EXPECT_EQ(b.count_params(), 2 * 4 * 2 * (3 + 2 + 1));
  EXPECT_THROW(layers::Bidirectional(layers::LSTM(2), std::string("max")), ValueError);
  EXPECT_THROW(layers::Bidirectional(layers::Dense(2)), ValueError);
}

TEST(TimeDistributed, AppliesTheLayerToEveryTimestep) {
  Layer td = layers::TimeDistributed(layers::Dense(2));
  td->build({Shape{None, 2, 3}});
  td.set_weights({t({3, 2}, {1, 0, 0, 1, 1, 1}), t({2}, {0.5f, -1})});
  // rows [1,2,3] -> [1+3+.5, 2+3-1] = [4.5, 4]; [0,1,0] -> [.5, 0]
  auto y = run(td, {t({1, 2, 3}, {1, 2, 3, 0, 1, 0})});
  EXPECT_TRUE(AllClose(y[0], t({1, 2, 2}, {4.5f, 4, 0.5f, 0})));
  EXPECT_EQ(td->compute_output_shape({Shape{None, 7, 3}})[0], (Shape{None, 7, 2}));
  EXPECT_THROW(td->compute_output_shape({Shape{None, 3}}), ValueError);
}

TEST(ConvLSTM2D, ShapesAndParamsAsKeras) {
  // The layers of dl4j tfkeras_convlstm2d_1.h5: kernels (3, 3, 4, 16), bias (16,).
  Layer l = layers::ConvLSTM2D(
      {.filters = 4, .kernel_size = 3, .padding = "same", .data_format = "channels_first", .return_sequences = true});
  EXPECT_EQ(l->build({Shape{None, 3, 4, 10, 10}})[0], (Shape{None, 3, 4, 10, 10}));
  EXPECT_EQ(l.count_params(), 2 * 3 * 3 * 4 * 16 + 16);
  Layer v = layers::ConvLSTM2D({.filters = 2, .kernel_size = {3, 2}, .strides = 2, .return_state = true});
  auto out = v->build({Shape{None, 5, 7, 6, 3}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], (Shape{None, 3, 3, 2}));
  EXPECT_THROW(layers::ConvLSTM2D({.filters = 2, .kernel_size = 3, .strides = 2, .dilation_rate = 2}), ValueError);
  EXPECT_THROW(layers::ConvLSTM2D(2, 3)->build({Shape{None, 5, 7, 3}}), ValueError);
}

// ---------------------------------------------------------------- config reading

Model from_json(const nlohmann::json& j, const std::string& version = "") {
  ConfigContext ctx;
  ctx.keras_version = version;
  ctx.keras_major = saving::detect_keras_major(j);
  if (!version.empty()) ctx.keras_major = version[0] - '0';
  return model_from_config(j, ctx);
}

TEST(RecurrentConfig, Keras1LSTMKeysAndHardSigmoid) {
  // The layer config of dl4j simple_lstm_tf_keras_1_model.h5 (Keras 1.2.2).
  auto j = nlohmann::json::parse(R"({"class_name": "Sequential", "config": [{"class_name": "LSTM", "config": {
      "inner_activation": "hard_sigmoid", "trainable": true, "inner_init": "orthogonal", "output_dim": 1,
      "unroll": false, "consume_less": "cpu", "init": "glorot_uniform", "dropout_U": 0.0, "input_dtype": "float32",
      "batch_input_shape": [null, 2, 1], "input_length": null, "dropout_W": 0.2, "activation": "linear",
      "stateful": false, "name": "lstm_1", "go_backwards": false, "input_dim": 1, "return_sequences": false,
      "forget_bias_init": "one"}}]})");
  Model m = from_json(j, "1.2.2");
  Layer l = m.get_layer("lstm_1");
  EXPECT_EQ(l->get_config()["recurrent_activation"], "hard_sigmoid_keras2");
  EXPECT_EQ(l->get_config()["units"], 1);
  // Keras 1 weights: W, U, b per gate, gates in the file's order i, c, f, o.
  std::vector<Tensor> k1;
  for (auto [w, u, b] : {std::tuple{1.f, .5f, 0.f}, {2.f, 1.f, 0.f}, {0.f, 1.f, .5f}, {.5f, 0.f, 0.f}}) {
    k1.push_back(t({1, 1}, {w}));
    k1.push_back(t({1, 1}, {u}));
    k1.push_back(t({1}, {b}));
  }
  l.set_weights(layers::rnn::convert_keras1_weights(*l, k1));
  EXPECT_TRUE(AllClose(l.get_weights()[0], t({1, 4}, {1, 0, 2, 0.5f})));
  // Same numbers as LSTM.GateOrderIFCOByHand.
  EXPECT_TRUE(AllClose(m.predict(t({1, 2, 1}, {1, 2})), t({1, 1}, {4.086432f})));
}

TEST(RecurrentConfig, VersionDefaults) {
  auto gru = nlohmann::json::parse(R"({"class_name": "Sequential", "config": [{"class_name": "GRU", "config": {
      "name": "g", "units": 2, "batch_input_shape": [null, 3, 4]}}]})");
  auto cfg = [&](const std::string& v) { return from_json(gru, v).get_layer("g")->get_config(); };
  EXPECT_EQ(cfg("2.2.4")["reset_after"], false);
  EXPECT_EQ(cfg("2.2.4")["recurrent_activation"], "hard_sigmoid_keras2");
  EXPECT_EQ(cfg("2.3.1")["recurrent_activation"], "sigmoid");
  EXPECT_EQ(cfg("2.3.1")["reset_after"], false);
  EXPECT_EQ(cfg("2.15.0")["reset_after"], true);
  EXPECT_EQ(cfg("")["reset_after"], true);
}

TEST(RecurrentConfig, Keras3InitialStateKwargsAndRoundTrip) {
  KerasTensor x = Input({4, 3}, "x");
  KerasTensor h0 = Input({2}, "h0");
  KerasTensor c0 = Input({2}, "c0");
  KerasTensor y = layers::LSTM({.units = 2, .name = "lstm_is"})({x, h0, c0});
  Model m({x, h0, c0}, {y});
  auto j = nlohmann::json::parse(m.to_json());
  const auto& node = j["config"]["layers"][3]["inbound_nodes"][0];
  ASSERT_EQ(node["args"].size(), 1u);
  EXPECT_EQ(node["args"][0]["config"]["keras_history"][0], "x");
  ASSERT_EQ(node["kwargs"]["initial_state"].size(), 2u);
  EXPECT_EQ(node["kwargs"]["initial_state"][1]["config"]["keras_history"][0], "c0");

  Model back = model_from_json(m.to_json());
  back.set_weights(m.get_weights());
  std::vector<Tensor> in{Tensor({2, 4, 3}, 0.5f), Tensor({2, 2}, 0.25f), Tensor({2, 2}, -1.0f)};
  EXPECT_TRUE(AllClose(back.predict(in)[0], m.predict(in)[0], 0, 0));
  in[2] = Tensor({2, 2}, 1.0f);
  EXPECT_FALSE(AllClose(back.predict(in)[0], m.predict({in[0], in[1], Tensor({2, 2}, -1.0f)})[0]));
}

// ConvLSTM2D's dropout has no masks yet: a training call says so instead of training without
// them; inference (where Keras applies no dropout) runs.
TEST(ConvLSTM2D, DropoutInTrainingIsAClearError) {
  Layer l = layers::ConvLSTM2D({.filters = 2, .kernel_size = 3, .dropout = 0.2});
  l->build({Shape{None, 2, 5, 5, 1}});
  Tensor x = testing::random_tensor({1, 2, 5, 5, 1}, 3);
  EXPECT_EQ(l->call({x}, {}).at(0).shape(), Shape({1, 3, 3, 2}));
  EXPECT_THROW(l->call({x}, {.training = true}), NotImplementedError);
}

TEST(RecurrentConfig, WrappersRoundTripThroughJson) {
  Sequential m({Input({5, 3}), layers::Bidirectional(layers::GRU({.units = 2, .return_sequences = true}), "ave"),
                layers::TimeDistributed(layers::Dense(3, "relu")), layers::SimpleRNN(2)});
  Model back = model_from_json(m.to_json());
  back.set_weights(m.get_weights());
  Tensor x({2, 5, 3});
  for (Dim i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) / 7.0f - 0.4f;
  EXPECT_TRUE(AllClose(back.predict(x), m.predict(x), 0, 0));
  EXPECT_EQ(back.count_params(), m.count_params());
}

TEST(RecurrentConfig, UnknownWrappedLayerIsListed) {
  auto j = nlohmann::json::parse(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "Bidirectional", "config": {"name": "bi", "batch_input_shape": [null, 3, 4],
       "layer": {"class_name": "CuDNNLSTMX", "config": {"name": "c", "units": 2}}}}]}})");
  try {
    model_from_config(j);
    FAIL();
  } catch (const UnsupportedLayers& e) {
    EXPECT_NE(std::string(e.what()).find("CuDNNLSTMX \"c\""), std::string::npos) << e.what();
  }
}

TEST(RecurrentWeights, Keras3GroupsFollowTheCell) {
  Layer b = layers::Bidirectional(layers::LSTM(2));
  b->build({Shape{None, 4, 3}});
  auto groups = layers::rnn::keras3_variable_groups(*b);
  ASSERT_EQ(groups.size(), 5u);
  EXPECT_EQ(groups[2].path, "forward_layer/cell");
  EXPECT_EQ(groups[2].variables.size(), 3u);
  EXPECT_EQ(groups[4].path, "backward_layer/cell");
  Layer td = layers::TimeDistributed(layers::Dense(2));
  td->build({Shape{None, 4, 3}});
  auto g = layers::rnn::keras3_variable_groups(*td);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[1].path, "layer");
}

}  // namespace
}  // namespace keras

namespace keras {
namespace {

// RNN(LSTMCell(4)) as Keras 3 writes it (the fixture's hand-written config): read as the LSTM
// computation, written back as that RNN with its cell.
TEST(RnnCell, WrittenBackAsAnRnnWithItsCell) {
  for (const char* name : {"rnn_k3_lstm_cell", "rnn_k3_gru_cell_sequences", "rnn_k3_simple_rnn_cell"}) {
    SCOPED_TRACE(name);
    testing::Fixture f =
        testing::load_fixture(testing::source_dir() / "tests/fixtures/layers" / (std::string(name) + ".json"));
    nlohmann::json want = nlohmann::json::parse(f.model_json)["config"]["layers"][1];
    nlohmann::json got = nlohmann::json::parse(model_from_json(f.model_json).to_json())["config"]["layers"][1];
    EXPECT_EQ(got["class_name"], "RNN");
    EXPECT_EQ(got["config"]["cell"], want["config"]["cell"]);
    for (const char* k : {"name", "return_sequences", "return_state", "go_backwards", "stateful", "unroll"})
      EXPECT_EQ(got["config"][k], want["config"][k]) << k;
    EXPECT_FALSE(got["config"].contains("units"));
  }
}

}  // namespace
}  // namespace keras
