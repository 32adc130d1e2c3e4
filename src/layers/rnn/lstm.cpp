#include "keras/layers/rnn.h"
#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "ops/activations.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class LSTMImpl : public rnn::RecurrentImpl {
 public:
  explicit LSTMImpl(const LSTMOptions& o) : RecurrentImpl(o, "lstm", 4, 2), options_(o) {
    // Keras's error for an unknown name at construction, not at the first call.
    ops::activation_grad(o.activation);
    ops::activation_grad(o.recurrent_activation);
  }
  std::string class_name() const override { return class_or_rnn("LSTM"); }

  nlohmann::json get_config() const override {
    auto c = RecurrentImpl::get_config();
    add_cell_config(c, options_);
    c["recurrent_activation"] = options_.recurrent_activation.empty() ? "linear" : options_.recurrent_activation;
    c["unit_forget_bias"] = options_.unit_forget_bias;
    return rnn_form(c);
  }

 protected:
  void add_bias_weight() override {
    if (!options_.use_bias) return;
    Dim u = units();
    Variable& b = add_weight("bias", {4 * u}, bias_initializer_);
    if (options_.unit_forget_bias)
      for (Dim j = u; j < 2 * u; ++j) b.value[j] = 1.0f;
  }
  void describe_cell(ops::RecurrentOp& op) const override {
    op.cell = ops::RecurrentOp::Cell::kLSTM;
    op.activation = options_.activation;
    op.recurrent_activation = options_.recurrent_activation;
  }

 private:
  LSTMOptions options_;
};

}  // namespace

Layer LSTM(const LSTMOptions& options) { return Layer(std::make_shared<LSTMImpl>(options)); }
Layer LSTM(Dim units) { return LSTM(LSTMOptions{.units = units}); }

Layer lstm_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  using namespace saving;
  auto cell = rnn::cell_config(c, ctx);
  auto seq = rnn::sequence_args_from_config(c);
  // Keras 1 spelled unit_forget_bias as forget_bias_init="one".
  bool forget_bias = c.contains("forget_bias_init") ? get_string(c, "forget_bias_init") == "one" : true;
  LSTMOptions o{.units = cell.units,
                .activation = cell.activation,
                .recurrent_activation = cell.recurrent_activation,
                .use_bias = cell.use_bias,
                .kernel_initializer = cell.kernel_initializer,
                .recurrent_initializer = cell.recurrent_initializer,
                .bias_initializer = cell.bias_initializer,
                .unit_forget_bias = get_bool(c, "unit_forget_bias", forget_bias),
                .dropout = cell.dropout,
                .recurrent_dropout = cell.recurrent_dropout,
                .seed = cell.seed,
                .return_sequences = seq.return_sequences,
                .return_state = seq.return_state,
                .go_backwards = seq.go_backwards,
                .stateful = seq.stateful,
                .unroll = seq.unroll,
                .name = get_string(c, "name")};
  Layer l = LSTM(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

// Keras 2's CuDNNLSTM (tf.keras 1.x, keras.layers.CuDNNLSTM): an LSTM with CuDNN's fixed
// functions (tanh, sigmoid) and a bias; it runs here as that LSTM, its weights converted from
// CuDNN's form when they load (rnn::convert_cudnn_weights).
Layer cudnn_lstm_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  nlohmann::json lstm = c;
  lstm["activation"] = "tanh";
  lstm["recurrent_activation"] = "sigmoid";
  lstm["use_bias"] = true;
  return lstm_from_config(lstm, ctx);
}

}  // namespace keras::layers
