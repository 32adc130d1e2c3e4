// Backpropagation through time for SimpleRNN, LSTM, GRU and the wrappers, checked
// numerically by the shared checker over many configurations, dropout masks included.
#include "test_helpers.h"

namespace keras {
namespace {

using testing::GradientCheck;
using testing::random_tensor;

constexpr Dim kBatch = 2, kSteps = 4, kFeatures = 3, kUnits = 3;

Tensor sequence(uint32_t seed) { return random_tensor({kBatch, kSteps, kFeatures}, seed); }
Tensor state(uint32_t seed) { return random_tensor({kBatch, kUnits}, seed, -0.5f, 0.5f); }

// Builds `l` for `inputs` and gives every weight random values (biases too, which start at zero).
Layer randomized(Layer l, const std::vector<Tensor>& inputs, uint32_t seed) {
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) {
    Shape s = t.shape();
    s[0] = None;
    shapes.push_back(s);
  }
  l->build(shapes);
  std::vector<Tensor> w;
  for (const Tensor& v : l.get_weights()) w.push_back(random_tensor(v.shape(), seed++, -0.6f, 0.6f));
  l.set_weights(w);
  return l;
}

::testing::AssertionResult check(const Layer& l, const std::vector<Tensor>& inputs, uint32_t seed) {
  return GradientCheck(randomized(l, inputs, seed), inputs, {.training = true});
}

TEST(SimpleRNNGradient, Configurations) {
  Tensor x = sequence(1);
  EXPECT_TRUE(check(layers::SimpleRNN(kUnits), {x}, 10));
  EXPECT_TRUE(check(layers::SimpleRNN({.units = kUnits, .activation = "sigmoid", .return_sequences = true}), {x}, 11));
  EXPECT_TRUE(check(layers::SimpleRNN({.units = kUnits, .use_bias = false, .go_backwards = true}), {x}, 12));
  EXPECT_TRUE(check(
      layers::SimpleRNN({.units = kUnits, .activation = "linear", .return_sequences = true, .go_backwards = true}), {x},
      13));
  EXPECT_TRUE(
      check(layers::SimpleRNN({.units = kUnits, .return_sequences = true, .return_state = true}), {x, state(2)}, 14));
  EXPECT_TRUE(check(layers::SimpleRNN({.units = kUnits, .return_state = true}), {x, state(3)}, 15));
}

TEST(LSTMGradient, Configurations) {
  Tensor x = sequence(2);
  EXPECT_TRUE(check(layers::LSTM(kUnits), {x}, 20));
  EXPECT_TRUE(check(layers::LSTM({.units = kUnits, .return_sequences = true}), {x}, 21));
  EXPECT_TRUE(check(layers::LSTM({.units = kUnits, .use_bias = false, .go_backwards = true}), {x}, 22));
  EXPECT_TRUE(check(layers::LSTM({.units = kUnits, .return_sequences = true, .return_state = true}),
                    {x, state(4), state(5)}, 23));
  EXPECT_TRUE(
      check(layers::LSTM({.units = kUnits, .return_state = true, .go_backwards = true}), {x, state(6), state(7)}, 24));
  EXPECT_TRUE(check(
      layers::LSTM(
          {.units = 2, .activation = "softsign", .recurrent_activation = "hard_sigmoid", .return_sequences = true}),
      {x}, 25));
}

TEST(GRUGradient, BothResetAfterModes) {
  Tensor x = sequence(3);
  for (bool after : {true, false}) {
    SCOPED_TRACE(after ? "reset_after" : "reset_before");
    EXPECT_TRUE(check(layers::GRU({.units = kUnits, .reset_after = after}), {x}, 30));
    EXPECT_TRUE(check(layers::GRU({.units = kUnits, .use_bias = false, .reset_after = after}), {x}, 31));
    EXPECT_TRUE(check(
        layers::GRU({.units = kUnits, .return_sequences = true, .go_backwards = true, .reset_after = after}), {x}, 32));
    EXPECT_TRUE(
        check(layers::GRU({.units = kUnits, .return_sequences = true, .return_state = true, .reset_after = after}),
              {x, state(8)}, 33));
    EXPECT_TRUE(check(layers::GRU({.units = kUnits,
                                   .activation = "elu",
                                   .recurrent_activation = "softsign",
                                   .return_state = true,
                                   .reset_after = after}),
                      {x, state(9)}, 34));
  }
}

TEST(BidirectionalGradient, EveryMergeMode) {
  Tensor x = sequence(4);
  for (const char* mode : {"concat", "sum", "mul", "ave"}) {
    SCOPED_TRACE(mode);
    EXPECT_TRUE(check(layers::Bidirectional(layers::LSTM({.units = 2, .return_sequences = true}), mode), {x}, 40));
    EXPECT_TRUE(check(layers::Bidirectional(layers::GRU(2), mode), {x}, 41));
  }
  EXPECT_TRUE(
      check(layers::Bidirectional(layers::SimpleRNN({.units = 2, .return_sequences = true}), std::nullopt), {x}, 42));
}

TEST(BidirectionalGradient, ReturnStateWithInitialStates) {
  Tensor x = sequence(5);
  Layer lstm = layers::LSTM({.units = kUnits, .return_sequences = true, .return_state = true});
  EXPECT_TRUE(check(layers::Bidirectional(lstm), {x, state(10), state(11), state(12), state(13)}, 50));
  Layer gru = layers::GRU({.units = kUnits, .return_state = true, .reset_after = false});
  EXPECT_TRUE(check(layers::Bidirectional(gru, std::nullopt), {x, state(14), state(15)}, 51));
  EXPECT_TRUE(check(layers::Bidirectional(layers::SimpleRNN({.units = kUnits, .return_state = true}), "mul"), {x}, 52));
}

TEST(TimeDistributedGradient, WrappedLayerSeesEveryTimestep) {
  Tensor x = random_tensor({2, 3, 4}, 6);
  EXPECT_TRUE(check(layers::TimeDistributed(layers::Dense(3, "tanh")), {x}, 60));
  EXPECT_TRUE(check(layers::TimeDistributed(layers::Dense(2)), {random_tensor({2, 3, 2, 4}, 7)}, 61));
  // BatchNormalization in training mode: batch statistics over batch and time.
  EXPECT_TRUE(check(layers::TimeDistributed(layers::BatchNormalization()), {x}, 62));
  EXPECT_TRUE(
      check(layers::TimeDistributed(layers::TimeDistributed(layers::Dense(2))), {random_tensor({2, 3, 2, 4}, 8)}, 63));
}

TEST(TimeDistributedGradient, PassesStateUpdatesToTheWrappedLayer) {
  Layer td = layers::TimeDistributed(layers::BatchNormalization({.momentum = 0.5}));
  td->build({Shape{None, 2, 1}});
  // Over batch and time the one channel sees {1, 3, 5, 7}: mean 4, biased variance 5.
  SavedState saved;
  td->call({Tensor(Shape{2, 2, 1}, {1, 3, 5, 7})}, {.training = true, .saved = &saved});
  td->apply_state_updates(saved);
  EXPECT_TRUE(testing::AllClose(td.get_weights()[2], Tensor(Shape{1}, {2.0f})));
  EXPECT_TRUE(testing::AllClose(td.get_weights()[3], Tensor(Shape{1}, {3.0f})));
}

TEST(ConvLSTM2DGradient, Configurations) {
  Tensor x = random_tensor({2, 3, 5, 4, 2}, 10);  // (batch, time, rows, cols, channels)
  EXPECT_TRUE(check(layers::ConvLSTM2D({.filters = 2, .kernel_size = 3, .padding = "same"}), {x}, 80));
  EXPECT_TRUE(check(layers::ConvLSTM2D({.filters = 2, .kernel_size = {3, 2}, .strides = 2, .return_sequences = true}),
                    {x}, 81));
  EXPECT_TRUE(
      check(layers::ConvLSTM2D(
                {.filters = 3, .kernel_size = 2, .dilation_rate = {2, 1}, .use_bias = false, .go_backwards = true}),
            {x}, 82));
  // States (batch, rows', cols', filters): 'valid' 3x3 over 5x4 leaves 3x2.
  Tensor h0 = random_tensor({2, 3, 2, 2}, 11, -0.5f, 0.5f), c0 = random_tensor({2, 3, 2, 2}, 12, -0.5f, 0.5f);
  EXPECT_TRUE(
      check(layers::ConvLSTM2D({.filters = 2, .kernel_size = 3, .return_sequences = true, .return_state = true}),
            {x, h0, c0}, 83));
  // channels_first: (batch, time, channels, rows, cols) and states (batch, filters, rows', cols').
  Tensor xf = random_tensor({2, 3, 2, 5, 4}, 13);
  EXPECT_TRUE(check(layers::ConvLSTM2D({.filters = 2,
                                        .kernel_size = 3,
                                        .padding = "same",
                                        .data_format = "channels_first",
                                        .return_sequences = true}),
                    {xf}, 84));
  Tensor hf = random_tensor({2, 2, 3, 2}, 14, -0.5f, 0.5f), cf = random_tensor({2, 2, 3, 2}, 15, -0.5f, 0.5f);
  EXPECT_TRUE(
      check(layers::ConvLSTM2D({.filters = 2, .kernel_size = 3, .data_format = "channels_first", .return_state = true}),
            {xf, hf, cf}, 85));
}

// Reseeds the global generator before every forward pass, so each of the checker's passes
// draws the same dropout masks and the layer is a deterministic function to differentiate.
class FixedMasks : public LayerImpl {
 public:
  explicit FixedMasks(Layer inner) : LayerImpl("fixed_masks", "fixed_masks"), inner_(std::move(inner)) {}
  std::string class_name() const override { return "FixedMasks"; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    return inner_->compute_output_shape(in);
  }
  std::vector<Tensor> call(const std::vector<Tensor>& in, const CallContext& ctx) const override {
    set_random_seed(77);
    return inner_->call(in, ctx);
  }
  Gradients backward(const BackwardArgs& a) const override { return inner_->backward(a); }
  std::vector<Variable*> variables() override { return inner_->variables(); }

 protected:
  void build_weights(const std::vector<Shape>& in) override { inner_->build(in); }

 private:
  Layer inner_;
};

::testing::AssertionResult check_with_masks(const Layer& l, const std::vector<Tensor>& inputs, uint32_t seed) {
  return check(Layer(std::make_shared<FixedMasks>(l)), inputs, seed);
}

TEST(RecurrentDropoutGradient, MasksOfTheForwardPassScaleTheGradients) {
  Tensor x = sequence(9);
  EXPECT_TRUE(check_with_masks(layers::Dropout(0.4), {x}, 70));
  EXPECT_TRUE(check_with_masks(
      layers::SimpleRNN({.units = kUnits, .dropout = 0.3, .recurrent_dropout = 0.3, .return_sequences = true}), {x},
      71));
  // dropout alone: one input mask shared by the gates; with recurrent_dropout, one per gate.
  EXPECT_TRUE(check_with_masks(layers::LSTM({.units = kUnits, .dropout = 0.4}), {x}, 72));
  EXPECT_TRUE(check_with_masks(
      layers::LSTM({.units = kUnits, .dropout = 0.3, .recurrent_dropout = 0.3, .return_sequences = true}),
      {x, state(16), state(17)}, 73));
  EXPECT_TRUE(
      check_with_masks(layers::LSTM({.units = kUnits, .recurrent_dropout = 0.5, .go_backwards = true}), {x}, 74));
  for (bool after : {true, false}) {
    SCOPED_TRACE(after ? "reset_after" : "reset_before");
    EXPECT_TRUE(check_with_masks(layers::GRU({.units = kUnits, .dropout = 0.4, .reset_after = after}), {x}, 75));
    EXPECT_TRUE(check_with_masks(layers::GRU({.units = kUnits,
                                              .dropout = 0.3,
                                              .recurrent_dropout = 0.4,
                                              .return_sequences = true,
                                              .reset_after = after}),
                                 {x}, 76));
  }
  EXPECT_TRUE(check_with_masks(
      layers::Bidirectional(layers::LSTM({.units = 2, .dropout = 0.3, .recurrent_dropout = 0.3})), {x}, 77));
}

TEST(RecurrentDropout, OneMaskPerCallSharedByEveryTimestepOnlyInTraining) {
  // A linear SimpleRNN without recurrence sees the same input at every step: with the mask
  // drawn once per call (Keras's DropoutRNNCell), every step's output is the same.
  Layer rnn = layers::SimpleRNN({.units = 2, .activation = "linear", .dropout = 0.5, .return_sequences = true});
  rnn->build({Shape{None, 3, 8}});
  std::vector<Tensor> w = rnn.get_weights();
  rnn.set_weights({random_tensor(w[0].shape(), 1), Tensor::zeros(w[1].shape()), Tensor::zeros(w[2].shape())});
  Tensor x(Shape{4, 3, 8});
  Tensor row = random_tensor({4, 1, 8}, 2);
  for (Dim b = 0; b < 4; ++b)
    for (Dim t = 0; t < 3; ++t)
      for (Dim f = 0; f < 8; ++f) x[(b * 3 + t) * 8 + f] = row[b * 8 + f];
  set_random_seed(3);
  Tensor train = rnn->call({x}, {.training = true}).at(0);
  Tensor infer = rnn->call({x}, {}).at(0);
  EXPECT_NE(train, infer);
  for (Dim b = 0; b < 4; ++b)
    for (Dim t = 1; t < 3; ++t)
      for (Dim u = 0; u < 2; ++u) EXPECT_EQ(train[(b * 3 + t) * 2 + u], train[(b * 3) * 2 + u]);
  // Without dropout, training and inference agree.
  Layer plain = layers::SimpleRNN({.units = 2, .return_sequences = true});
  plain->build({Shape{None, 3, 8}});
  EXPECT_EQ(plain->call({x}, {.training = true}).at(0), plain->call({x}, {}).at(0));
}

}  // namespace
}  // namespace keras
