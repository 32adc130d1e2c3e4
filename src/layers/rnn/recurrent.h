#pragma once
// The shared machinery of SimpleRNN, LSTM and GRU (Keras's RNN layer around a cell), and
// helpers the wrappers and the file readers use.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "keras/layer.h"
#include "keras/saving.h"
#include "ops/op.h"

namespace keras::layers::rnn {

// keras.layers.RNN's own arguments.
struct SequenceArgs {
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;
  bool unroll = false;
  // Keras's zero_output_for_mask: masked steps output zeros rather than the previous output
  // (Bidirectional forces it on with return_sequences).
  bool zero_output_for_mask = false;
};

// Keras's error for a non-positive `units`.
void check_units(Dim units);

// A recurrent layer (Keras's RNN around SimpleRNNCell, LSTMCell or GRUCell): x@kernel for all
// timesteps in one product, then the cell's recurrence.
class RecurrentImpl : public LayerImpl {
 public:
  // From a layer's options (SimpleRNNOptions, LSTMOptions, GRUOptions): the arguments every
  // Keras RNN layer and cell shares.
  template <class Options>
  RecurrentImpl(const Options& o, const std::string& prefix, int gates, int num_states)
      : RecurrentImpl(o.name, prefix, o.units, gates, num_states,
                      {o.return_sequences, o.return_state, o.go_backwards, o.stateful, o.unroll}) {
    check_units(o.units);
    set_dropout(o.dropout, o.recurrent_dropout);
    kernel_initializer_ = o.kernel_initializer;
    recurrent_initializer_ = o.recurrent_initializer;
    bias_initializer_ = o.bias_initializer;
  }
  RecurrentImpl(const std::string& name, const std::string& prefix, Dim units, int gates, int num_states,
                const SequenceArgs& args);

  Dim units() const { return units_; }
  int num_states() const { return num_states_; }
  const SequenceArgs& sequence_args() const { return args_; }
  void set_zero_output_for_mask(bool zero) { args_.zero_output_for_mask = zero; }
  // Keras's RNN(cell=LSTMCell(...)) computes what LSTM(...) does: the layer keeps the class
  // "RNN" and writes its config as that RNN with its cell (`cell_class`, named `cell_name`).
  void wrap_in_rnn(std::string cell_class, std::string cell_name);
  // Masks: the input's mask skips steps (ops::RecurrentOp::masked); with return_sequences the
  // output keeps it (Keras's RNN.compute_mask; Keras since July 2026 drops it, every release
  // before and tf.keras keep it).
  bool supports_masking() const override { return true; }
  // stateful=True (Keras's stateful RNN, its batch fixed at build): each call starts from the
  // states the last one left (zeros at first and after reset_states()), in predict (across its
  // batches), fit and eager calls alike. One call at a time: a stateful layer is not for
  // concurrent predicts.
  void reset_states() override;

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override;
  // Described once, as one ops::RecurrentOp (the input projection and the recurrence, its
  // gradient the op's backpropagation through time).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override;
  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }
  // name, trainable, dtype and the RNN arguments; subclasses add the cell's.
  nlohmann::json get_config() const override;
  // The cell arguments every option struct has: activation, use_bias, dropout,
  // recurrent_dropout, seed.
  template <class Options>
  static void add_cell_config(nlohmann::json& c, const Options& o) {
    c["activation"] = o.activation.empty() ? "linear" : o.activation;
    c["use_bias"] = o.use_bias;
    c["dropout"] = o.dropout;
    c["recurrent_dropout"] = o.recurrent_dropout;
    c["seed"] = o.seed ? nlohmann::json(*o.seed) : nlohmann::json(nullptr);
  }

 protected:
  // The cell's part of the op: its kind and activations (the base fills in the rest).
  virtual void describe_cell(ops::RecurrentOp& op) const = 0;
  // Creates kernel (in, gates*units), recurrent_kernel (units, gates*units) and the bias.
  void build_weights(const std::vector<Shape>& in) override;
  virtual void add_bias_weight() = 0;
  Initializer kernel_initializer_ = "glorot_uniform";
  Initializer recurrent_initializer_ = "orthogonal";
  Initializer bias_initializer_ = "zeros";

  const Tensor& kernel() const { return variables()[0]->value; }
  // The layer's class: `layer_class` ("LSTM"), or "RNN" once wrapped.
  std::string class_or_rnn(const char* layer_class) const { return cell_class_.empty() ? layer_class : "RNN"; }
  // The layer's config (the subclass's get_config), or once wrapped the RNN's with its cell's.
  nlohmann::json rnn_form(nlohmann::json config) const;
  // Keras's cell arguments dropout and recurrent_dropout (clamped to [0, 1] as Keras does);
  // they act only in training mode and only strictly between 0 and 1.
  void set_dropout(double dropout, double recurrent_dropout);

 private:
  Dim units_;
  int gates_;
  int num_states_;
  SequenceArgs args_;
  double dropout_ = 0.0, recurrent_dropout_ = 0.0;
  std::vector<Tensor> states_;  // stateful: [batch, units] per state, written by the plans
  std::string cell_class_, cell_name_;
};

// A layer wrapping others (Bidirectional: forward, backward; TimeDistributed: its layer).
class WrapperImpl : public LayerImpl {
 public:
  using LayerImpl::LayerImpl;
  virtual std::vector<Layer> wrapped_layers() const = 0;
  // The attribute names Keras 3 saves the wrapped layers under ("forward_layer", "layer"...).
  virtual std::vector<std::string> wrapped_attributes() const = 0;
};

// The RNN arguments of a Keras 1/2/3 config.
SequenceArgs sequence_args_from_config(const nlohmann::json& c);
// Defaults that depend on the Keras version that wrote the file (KERAS_SPEC §5.5):
// standalone Keras <= 2.2 (and Keras 1) used hard_sigmoid, Keras < 2.4 had reset_after=False.
struct VersionDefaults {
  std::string recurrent_activation = "sigmoid";
  bool reset_after = true;
};
VersionDefaults version_defaults(const ConfigContext& ctx);
// Reads the units, activations and initializers common to the three layers, with Keras 1
// spellings (output_dim, inner_activation, init, inner_init).
struct CellConfig {
  Dim units = 0;
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer recurrent_initializer = "orthogonal";
  Initializer bias_initializer = "zeros";
  double dropout = 0.0, recurrent_dropout = 0.0;
  std::optional<int64_t> seed;
};
CellConfig cell_config(const nlohmann::json& c, const ConfigContext& ctx);
// True for layers whose extra inputs are initial states (RNNs, Bidirectional): Keras 3 JSON
// writes those as the `initial_state` keyword.
bool takes_initial_state(const LayerImpl& layer);

// A fresh layer from `layer`'s config with `edit` applied to the config (the wrappers copy
// their inner layer this way, as Keras does).
Layer clone_layer(const LayerImpl& layer, const std::function<void(nlohmann::json&)>& edit = {});
// The layer a wrapper's config names under `key` ({"class_name", "config"}), via the registry.
Layer nested_layer(const nlohmann::json& c, const std::string& key, const ConfigContext& ctx);

}  // namespace keras::layers::rnn
