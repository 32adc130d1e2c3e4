#include "keras/layers/rnn.h"
#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "ops/activations.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class SimpleRNNImpl : public rnn::RecurrentImpl {
 public:
  explicit SimpleRNNImpl(const SimpleRNNOptions& o) : RecurrentImpl(o, "simple_rnn", 1, 1), options_(o) {
    // Keras's error for an unknown name at construction, not at the first call.
    ops::activation_grad(o.activation);
  }
  std::string class_name() const override { return class_or_rnn("SimpleRNN"); }

  nlohmann::json get_config() const override {
    auto c = RecurrentImpl::get_config();
    add_cell_config(c, options_);
    return rnn_form(c);
  }

 protected:
  void add_bias_weight() override {
    if (options_.use_bias) add_weight("bias", {units()}, bias_initializer_);
  }
  void describe_cell(ops::RecurrentOp& op) const override {
    op.cell = ops::RecurrentOp::Cell::kSimpleRNN;
    op.activation = options_.activation;
  }

 private:
  SimpleRNNOptions options_;
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
