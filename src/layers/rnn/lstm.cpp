#include <cstring>

#include "keras/layers/rnn.h"
#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class LSTMImpl : public rnn::RecurrentImpl {
 public:
  explicit LSTMImpl(const LSTMOptions& o)
      : RecurrentImpl(o, "lstm", 4, 2),
        options_(o),
        activation_(ops::activation(o.activation)),
        recurrent_activation_(ops::activation(o.recurrent_activation)),
        activation_grad_(ops::activation_grad(o.activation)),
        recurrent_activation_grad_(ops::activation_grad(o.recurrent_activation)) {}
  std::string class_name() const override { return "LSTM"; }

  nlohmann::json get_config() const override {
    auto c = RecurrentImpl::get_config();
    add_cell_config(c, options_);
    c["recurrent_activation"] = options_.recurrent_activation.empty() ? "linear" : options_.recurrent_activation;
    c["unit_forget_bias"] = options_.unit_forget_bias;
    return c;
  }

 protected:
  void add_bias_weight() override {
    if (!options_.use_bias) return;
    Dim u = units();
    Variable& b = add_weight("bias", {4 * u}, bias_initializer_);
    if (options_.unit_forget_bias)
      for (Dim j = u; j < 2 * u; ++j) b.value[j] = 1.0f;
  }
  const float* input_bias() const override { return options_.use_bias ? variables()[2]->value.data() : nullptr; }

  void step(const float* xw, Dim xw_stride, std::vector<Tensor>& states, rnn::StepScratch& s) const override {
    Dim u = units();
    recurrent_product(states[0], 0, 4 * u, s.z, false, s.recurrent_masks);
    for (int g = 0; g < 4; ++g) rnn::take_gate(s.z, xw, xw_stride, g, u, s.gates[static_cast<size_t>(g)]);
    rnn::lstm_update(s.gates, states[0], states[1], s.tmp, activation_, recurrent_activation_);
  }

  void step_backward(const float* xw, Dim xw_stride, const std::vector<Tensor>& prev, std::vector<Tensor>& d_states,
                     float* d_xw, Tensor& d_recurrent_kernel, Tensor&,
                     const std::vector<Tensor>* masks) const override {
    Dim u = units(), n = prev[0].dim(0);
    const Tensor &h_prev = prev[0], &c_prev = prev[1];
    Tensor z({n, 4 * u});
    recurrent_product(h_prev, 0, 4 * u, z, false, masks);
    std::vector<Tensor> pre(4, Tensor({n, u}));
    for (int g = 0; g < 4; ++g) rnn::take_gate(z, xw, xw_stride, g, u, pre[static_cast<size_t>(g)]);
    Tensor dz({n, 4 * u}), dc_prev({n, u});
    rnn::lstm_update_backward(pre, c_prev, d_states[0], d_states[1],
                              {activation_, recurrent_activation_, activation_grad_, recurrent_activation_grad_}, dz,
                              dc_prev);
    for (Dim b = 0; b < n; ++b)
      std::memcpy(d_xw + b * xw_stride, dz.data() + b * 4 * u, static_cast<size_t>(4 * u) * sizeof(float));
    Tensor dh_prev({n, u});
    recurrent_product_backward(h_prev, dz, 0, d_recurrent_kernel, dh_prev, masks);
    d_states = {std::move(dh_prev), std::move(dc_prev)};
  }

 private:
  LSTMOptions options_;
  ops::ActivationFn activation_;
  ops::ActivationFn recurrent_activation_;
  ops::ActivationGradFn activation_grad_;
  ops::ActivationGradFn recurrent_activation_grad_;
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

}  // namespace keras::layers
