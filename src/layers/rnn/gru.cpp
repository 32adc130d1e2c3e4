#include "keras/layers/rnn.h"
#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "ops/activations.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class GRUImpl : public rnn::RecurrentImpl {
 public:
  explicit GRUImpl(const GRUOptions& o) : RecurrentImpl(o, "gru", 3, 1), options_(o) {
    // Keras's error for an unknown name at construction, not at the first call.
    ops::activation_grad(o.activation);
    ops::activation_grad(o.recurrent_activation);
  }
  std::string class_name() const override { return class_or_rnn("GRU"); }

  nlohmann::json get_config() const override {
    auto c = RecurrentImpl::get_config();
    add_cell_config(c, options_);
    c["recurrent_activation"] = options_.recurrent_activation.empty() ? "linear" : options_.recurrent_activation;
    c["reset_after"] = options_.reset_after;
    return rnn_form(c);
  }

 protected:
  void add_bias_weight() override {
    if (!options_.use_bias) return;
    Dim u = units();
    // reset_after keeps separate input and recurrent biases (CuDNN-compatible).
    add_weight("bias", options_.reset_after ? Shape{2, 3 * u} : Shape{3 * u}, bias_initializer_);
  }
  // reset_after: the recurrent bias (the bias's second row) applied inside r * (h@U_h + b_h).
  void describe_cell(ops::RecurrentOp& op) const override {
    op.cell = ops::RecurrentOp::Cell::kGRU;
    op.activation = options_.activation;
    op.recurrent_activation = options_.recurrent_activation;
    op.reset_after = options_.reset_after;
  }

 private:
  GRUOptions options_;
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

// Keras 2's CuDNNGRU: a GRU(reset_after=True) with tanh, sigmoid and a bias (see CuDNNLSTM).
Layer cudnn_gru_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  nlohmann::json gru = c;
  gru["activation"] = "tanh";
  gru["recurrent_activation"] = "sigmoid";
  gru["use_bias"] = true;
  gru["reset_after"] = true;
  return gru_from_config(gru, ctx);
}

}  // namespace keras::layers
