#include "keras/layers/rnn.h"
#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "ops/kernels.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class GRUImpl : public rnn::RecurrentImpl {
 public:
  explicit GRUImpl(const GRUOptions& o)
      : RecurrentImpl(o.name, "gru", o.units, 3, 1,
                      {o.return_sequences, o.return_state, o.go_backwards, o.stateful, o.unroll}),
        options_(o),
        activation_(ops::activation(o.activation)),
        recurrent_activation_(ops::activation(o.recurrent_activation)) {
    rnn::check_units(o.units);
    kernel_initializer_ = o.kernel_initializer;
    recurrent_initializer_ = o.recurrent_initializer;
    bias_initializer_ = o.bias_initializer;
  }
  std::string class_name() const override { return "GRU"; }

  nlohmann::json get_config() const override {
    auto c = RecurrentImpl::get_config();
    c["activation"] = options_.activation.empty() ? "linear" : options_.activation;
    c["recurrent_activation"] = options_.recurrent_activation.empty() ? "linear" : options_.recurrent_activation;
    c["use_bias"] = options_.use_bias;
    c["dropout"] = options_.dropout;
    c["recurrent_dropout"] = options_.recurrent_dropout;
    c["reset_after"] = options_.reset_after;
    c["seed"] = options_.seed ? nlohmann::json(*options_.seed) : nlohmann::json(nullptr);
    return c;
  }

 protected:
  void add_bias_weight() override {
    if (!options_.use_bias) return;
    Dim u = units();
    // reset_after keeps separate input and recurrent biases (CuDNN-compatible).
    add_weight("bias", options_.reset_after ? Shape{2, 3 * u} : Shape{3 * u}, bias_initializer_);
  }
  const float* input_bias() const override { return options_.use_bias ? variables()[2]->value.data() : nullptr; }

  // Keras's GRUCell: z, r = recurrent_activation(x_z + h@U_z (+b), x_r + h@U_r (+b));
  // hh = activation(x_h + r*(h@U_h + b_h)) with reset_after, else activation(x_h + (r*h)@U_h);
  // h = z*h + (1-z)*hh.
  void step(const float* xw, Dim xw_stride, std::vector<Tensor>& states, rnn::StepScratch& s) const override {
    Dim u = units(), n = s.z.dim(0);
    Tensor& h = states[0];
    Tensor &z = s.gates[0], &r = s.gates[1], &hh = s.gates[2];
    recurrent_product(h, 0, options_.reset_after ? 3 * u : 2 * u, s.z, false);
    if (options_.reset_after && options_.use_bias) {
      const float* rb = variables()[2]->value.data() + 3 * u;
      for (Dim b = 0; b < n; ++b)
        for (Dim j = 0; j < 3 * u; ++j) s.z[b * 3 * u + j] += rb[j];
    }
    rnn::take_gate(s.z, xw, xw_stride, 0, u, z);
    rnn::take_gate(s.z, xw, xw_stride, 1, u, r);
    recurrent_activation_(z);
    recurrent_activation_(r);
    if (options_.reset_after) {
      rnn::take_gate(s.z, nullptr, 0, 2, u, hh);
      for (Dim k = 0; k < hh.size(); ++k) hh[k] *= r[k];
    } else {
      for (Dim k = 0; k < h.size(); ++k) s.tmp[k] = r[k] * h[k];
      ops::kernels().gemm(false, false, n, u, u, 1.0f, s.tmp.data(), u, recurrent_kernel().data() + 2 * u, 3 * u,
                          0.0f, hh.data(), u);
    }
    for (Dim b = 0; b < n; ++b)
      for (Dim j = 0; j < u; ++j) hh[b * u + j] += xw[b * xw_stride + 2 * u + j];
    activation_(hh);
    for (Dim k = 0; k < h.size(); ++k) h[k] = z[k] * h[k] + (1.0f - z[k]) * hh[k];
  }

 private:
  GRUOptions options_;
  ops::ActivationFn activation_;
  ops::ActivationFn recurrent_activation_;
};

}  // namespace

Layer GRU(const GRUOptions& options) { return Layer(std::make_shared<GRUImpl>(options)); }
Layer GRU(Dim units) { return GRU(GRUOptions{.units = units}); }

Layer gru_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  using namespace saving;
  auto cell = rnn::cell_config(c, ctx);
  auto seq = rnn::sequence_args_from_config(c);
  GRUOptions o{.units = cell.units,
               .activation = cell.activation,
               .recurrent_activation = cell.recurrent_activation,
               .use_bias = cell.use_bias,
               .kernel_initializer = cell.kernel_initializer,
               .recurrent_initializer = cell.recurrent_initializer,
               .bias_initializer = cell.bias_initializer,
               .dropout = cell.dropout,
               .recurrent_dropout = cell.recurrent_dropout,
               .seed = cell.seed,
               .return_sequences = seq.return_sequences,
               .return_state = seq.return_state,
               .go_backwards = seq.go_backwards,
               .stateful = seq.stateful,
               .unroll = seq.unroll,
               .reset_after = get_bool(c, "reset_after", rnn::version_defaults(ctx).reset_after),
               .name = get_string(c, "name")};
  Layer l = GRU(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
