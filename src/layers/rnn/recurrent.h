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
#include "ops/activations.h"

namespace keras::layers::rnn {

// keras.layers.RNN's own arguments.
struct SequenceArgs {
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;
  bool unroll = false;
};

// The dropout masks of one training call (Keras 3's DropoutRNNCell): drawn once per call and
// used at every timestep; values 0 or 1/(1-rate). As Keras's cells, one input mask shared by
// all gates unless recurrent_dropout is set (Keras's implementation=1), then one per gate.
struct DropoutMasks {
  std::vector<Tensor> input;      // (N, features) each
  std::vector<Tensor> recurrent;  // (N, units) each, one per gate, or none
  bool empty() const { return input.empty() && recurrent.empty(); }
};

// Work buffers of one call, sized for the batch: z (N, gates*units), one (N, units) tensor
// per gate, and a spare (N, units); the recurrent dropout masks, if any.
struct StepScratch {
  Tensor z;
  std::vector<Tensor> gates;
  Tensor tmp;
  const std::vector<Tensor>* recurrent_masks = nullptr;
};

// A recurrent layer: x@kernel for all timesteps in one product, then the cell's recurrence.
// Keras's error for a non-positive `units`.
void check_units(Dim units);

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

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override;
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override;
  // Backpropagation through time, from the input projection and the states of every step
  // that a training forward pass saved.
  Gradients backward(const BackwardArgs& args) const override;
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
  // One timestep for the whole batch. `xw` holds x_t @ kernel + input bias, row n at
  // xw + n*xw_stride; `states` (each (N, units)) are updated in place; states[0] is the output.
  virtual void step(const float* xw, Dim xw_stride, std::vector<Tensor>& states, StepScratch& s) const = 0;
  // The backward of step() from the states before it (`prev`): `d_states` holds dL/d(states
  // after the step) on entry and dL/d(prev) on return. dL/d(xw) goes to d_xw (rows xw_stride
  // apart); the recurrent weights' gradients add into d_recurrent_kernel and d_bias (the
  // bias's input part is the base class's). `masks`: the call's recurrent dropout masks.
  virtual void step_backward(const float* xw, Dim xw_stride, const std::vector<Tensor>& prev,
                             std::vector<Tensor>& d_states, float* d_xw, Tensor& d_recurrent_kernel, Tensor& d_bias,
                             const std::vector<Tensor>* masks) const = 0;
  // The bias added to x @ kernel (gates*units values), or nullptr.
  virtual const float* input_bias() const = 0;
  // Creates kernel (in, gates*units), recurrent_kernel (units, gates*units) and the bias.
  void build_weights(const std::vector<Shape>& in) override;
  virtual void add_bias_weight() = 0;
  Initializer kernel_initializer_ = "glorot_uniform";
  Initializer recurrent_initializer_ = "orthogonal";
  Initializer bias_initializer_ = "zeros";

  const Tensor& kernel() const { return variables()[0]->value; }
  const Tensor& recurrent_kernel() const { return variables()[1]->value; }
  // z[:, :cols] += h @ recurrent_kernel[:, col0:col0+cols] (or = with accumulate false); with
  // recurrent dropout masks, gate g's columns use h * masks[g].
  void recurrent_product(const Tensor& h, Dim col0, Dim cols, Tensor& z, bool accumulate,
                         const std::vector<Tensor>* masks = nullptr) const;
  // Its backward for dz = dL/dz[:, :cols]: d_recurrent_kernel[:, col0:col0+cols] += h^T @ dz
  // and dh += dz @ recurrent_kernel[:, col0:col0+cols]^T (masked per gate as above).
  void recurrent_product_backward(const Tensor& h, const Tensor& dz, Dim col0, Tensor& d_recurrent_kernel, Tensor& dh,
                                  const std::vector<Tensor>* masks = nullptr) const;
  // Keras's cell arguments dropout and recurrent_dropout (clamped to [0, 1] as Keras does);
  // they act only in training mode and only strictly between 0 and 1.
  void set_dropout(double dropout, double recurrent_dropout);

 private:
  DropoutMasks draw_masks(Dim n, Dim features, uint64_t seed) const;
  // xw = (x masked per gate group) @ kernel + input bias, rows b*steps + t.
  Tensor project_inputs(const Tensor& x, const std::vector<Tensor>& masks) const;
  // The backward of project_inputs: dL/dx, and dL/dkernel into d_kernel.
  Tensor project_inputs_backward(const Tensor& x, const std::vector<Tensor>& masks, const Tensor& d_xw,
                                 Tensor& d_kernel) const;

  Dim units_;
  int gates_;
  int num_states_;
  SequenceArgs args_;
  double dropout_ = 0.0, recurrent_dropout_ = 0.0;
};

// A layer wrapping others (Bidirectional: forward, backward; TimeDistributed: its layer).
class WrapperImpl : public LayerImpl {
 public:
  using LayerImpl::LayerImpl;
  virtual std::vector<Layer> wrapped_layers() const = 0;
  // The attribute names Keras 3 saves the wrapped layers under ("forward_layer", "layer"...).
  virtual std::vector<std::string> wrapped_attributes() const = 0;
};

// Copies gate g (columns g*units..) of z (N, gates*units) into out (N, units), adding
// xw's columns too when xw is given (rows xw_stride apart).
void take_gate(const Tensor& z, const float* xw, Dim xw_stride, int g, Dim units, Tensor& out);
// The reverse: writes `in` (N, units) into columns g*units.. of `out` (rows `stride` apart).
void put_gate(const Tensor& in, int g, Dim units, float* out, Dim stride);

// The LSTM update from the pre-activation gates (i, f, c, o; each (rows, units)):
// c = f*c + i*activation(c~), h = o*activation(c), the gates through recurrent_activation.
void lstm_update(std::vector<Tensor>& gates, Tensor& h, Tensor& c, Tensor& tmp, ops::ActivationFn activation,
                 ops::ActivationFn recurrent_activation);

// The activations of an LSTM cell and their gradients.
struct LSTMActivations {
  ops::ActivationFn activation, recurrent_activation;
  ops::ActivationGradFn activation_grad, recurrent_activation_grad;
};
// The backward of lstm_update from the pre-activation gates `pre` (i, f, c~, o), the carry
// before the step, and dL/dh, dL/dc after it: dL/d(pre) into dz (rows, 4*units, gates side by
// side) and dL/d(c_prev).
void lstm_update_backward(const std::vector<Tensor>& pre, const Tensor& c_prev, const Tensor& dh, const Tensor& dc,
                          const LSTMActivations& fns, Tensor& dz, Tensor& dc_prev);

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
