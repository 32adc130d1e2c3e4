#include "keras/layers/rnn.h"
#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class LSTMImpl : public rnn::RecurrentImpl {
 public:
  explicit LSTMImpl(const LSTMOptions& o)
      : RecurrentImpl(o.name, "lstm", o.units, 4, 2,
                      {o.return_sequences, o.return_state, o.go_backwards, o.stateful, o.unroll}),
        options_(o),
        activation_(ops::activation(o.activation)),
        recurrent_activation_(ops::activation(o.recurrent_activation)),
        activation_grad_(ops::activation_grad(o.activation)),
        recurrent_activation_grad_(ops::activation_grad(o.recurrent_activation)) {
    rnn::check_units(o.units);
    set_dropout(o.dropout, o.recurrent_dropout);
    kernel_initializer_ = o.kernel_initializer;
    recurrent_initializer_ = o.recurrent_initializer;
    bias_initializer_ = o.bias_initializer;
  }
  std::string class_name() const override { return "LSTM"; }

  nlohmann::json get_config() const override {
    auto c = RecurrentImpl::get_config();
    c["activation"] = options_.activation.empty() ? "linear" : options_.activation;
    c["recurrent_activation"] = options_.recurrent_activation.empty() ? "linear" : options_.recurrent_activation;
    c["use_bias"] = options_.use_bias;
    c["unit_forget_bias"] = options_.unit_forget_bias;
    c["dropout"] = options_.dropout;
    c["recurrent_dropout"] = options_.recurrent_dropout;
    c["seed"] = options_.seed ? nlohmann::json(*options_.seed) : nlohmann::json(nullptr);
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

  // Gates i, f, c~, o from pre-activations a_*; c = f*c_prev + i*c~, h = o*activation(c).
  void step_backward(const float* xw, Dim xw_stride, const std::vector<Tensor>& prev, std::vector<Tensor>& d_states,
                     float* d_xw, Tensor& d_recurrent_kernel, Tensor&,
                     const std::vector<Tensor>* masks) const override {
    Dim u = units(), n = prev[0].dim(0);
    const Tensor &h_prev = prev[0], &c_prev = prev[1];
    Tensor z({n, 4 * u});
    recurrent_product(h_prev, 0, 4 * u, z, false, masks);
    std::vector<Tensor> pre(4, Tensor({n, u}));
    for (int g = 0; g < 4; ++g) rnn::take_gate(z, xw, xw_stride, g, u, pre[static_cast<size_t>(g)]);
    std::vector<Tensor> act = pre;
    Tensor &i = act[0], &f = act[1], &cand = act[2], &o = act[3];
    recurrent_activation_(i);
    recurrent_activation_(f);
    activation_(cand);
    recurrent_activation_(o);
    Tensor c({n, u});
    for (Dim k = 0; k < c.size(); ++k) c[k] = f[k] * c_prev[k] + i[k] * cand[k];
    Tensor tc = c;
    activation_(tc);

    const Tensor &dh = d_states[0], &dc_in = d_states[1];
    std::vector<Tensor> d(4, Tensor({n, u}));
    Tensor dc({n, u});
    for (Dim k = 0; k < c.size(); ++k) {
      d[3][k] = dh[k] * tc[k];
      dc[k] = dh[k] * o[k];
    }
    activation_grad_(c, tc, dc);
    Tensor dc_prev({n, u});
    for (Dim k = 0; k < c.size(); ++k) {
      dc[k] += dc_in[k];
      d[0][k] = dc[k] * cand[k];
      d[1][k] = dc[k] * c_prev[k];
      d[2][k] = dc[k] * i[k];
      dc_prev[k] = dc[k] * f[k];
    }
    recurrent_activation_grad_(pre[0], i, d[0]);
    recurrent_activation_grad_(pre[1], f, d[1]);
    activation_grad_(pre[2], cand, d[2]);
    recurrent_activation_grad_(pre[3], o, d[3]);
    Tensor dz({n, 4 * u});
    for (int g = 0; g < 4; ++g) {
      rnn::put_gate(d[static_cast<size_t>(g)], g, u, d_xw, xw_stride);
      rnn::put_gate(d[static_cast<size_t>(g)], g, u, dz.data(), 4 * u);
    }
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
