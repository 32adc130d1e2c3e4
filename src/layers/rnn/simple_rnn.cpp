#include "keras/layers/rnn.h"
#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class SimpleRNNImpl : public rnn::RecurrentImpl {
 public:
  explicit SimpleRNNImpl(const SimpleRNNOptions& o)
      : RecurrentImpl(o, "simple_rnn", 1, 1),
        options_(o),
        activation_(ops::activation(o.activation)),
        activation_grad_(ops::activation_grad(o.activation)) {}
  std::string class_name() const override { return "SimpleRNN"; }

  nlohmann::json get_config() const override {
    auto c = RecurrentImpl::get_config();
    add_cell_config(c, options_);
    return c;
  }

 protected:
  void add_bias_weight() override {
    if (options_.use_bias) add_weight("bias", {units()}, bias_initializer_);
  }
  const float* input_bias() const override { return options_.use_bias ? variables()[2]->value.data() : nullptr; }

  void step(const float* xw, Dim xw_stride, std::vector<Tensor>& states, rnn::StepScratch& s) const override {
    recurrent_product(states[0], 0, units(), s.z, false, s.recurrent_masks);
    rnn::take_gate(s.z, xw, xw_stride, 0, units(), states[0]);
    activation_(states[0]);
  }

  // h = activation(z), z = xw + h_prev @ U.
  void step_backward(const float* xw, Dim xw_stride, const std::vector<Tensor>& prev, std::vector<Tensor>& d_states,
                     float* d_xw, Tensor& d_recurrent_kernel, Tensor&,
                     const std::vector<Tensor>* masks) const override {
    Dim u = units(), n = prev[0].dim(0);
    Tensor z({n, u}), h({n, u});
    recurrent_product(prev[0], 0, u, z, false, masks);
    rnn::take_gate(z, xw, xw_stride, 0, u, h);
    z = h;
    activation_(h);
    Tensor dz = std::move(d_states[0]);
    activation_grad_(z, h, dz);
    rnn::put_gate(dz, 0, u, d_xw, xw_stride);
    d_states[0] = Tensor::zeros({n, u});
    recurrent_product_backward(prev[0], dz, 0, d_recurrent_kernel, d_states[0], masks);
  }

 private:
  SimpleRNNOptions options_;
  ops::ActivationFn activation_;
  ops::ActivationGradFn activation_grad_;
};

}  // namespace

Layer SimpleRNN(const SimpleRNNOptions& options) { return Layer(std::make_shared<SimpleRNNImpl>(options)); }
Layer SimpleRNN(Dim units, const std::string& activation) {
  return SimpleRNN(SimpleRNNOptions{.units = units, .activation = activation});
}

Layer simple_rnn_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  auto cell = rnn::cell_config(c, ctx);
  auto seq = rnn::sequence_args_from_config(c);
  SimpleRNNOptions o{.units = cell.units,
                     .activation = cell.activation,
                     .use_bias = cell.use_bias,
                     .kernel_initializer = cell.kernel_initializer,
                     .recurrent_initializer = cell.recurrent_initializer,
                     .bias_initializer = cell.bias_initializer,
                     .dropout = cell.dropout,
                     .recurrent_dropout = cell.recurrent_dropout,
                     .return_sequences = seq.return_sequences,
                     .return_state = seq.return_state,
                     .go_backwards = seq.go_backwards,
                     .stateful = seq.stateful,
                     .unroll = seq.unroll,
                     .seed = cell.seed,
                     .name = saving::get_string(c, "name")};
  Layer l = SimpleRNN(o);
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
