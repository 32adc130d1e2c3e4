#pragma once
// keras.layers recurrent layers: SimpleRNN, LSTM, GRU, ConvLSTM2D, and the wrappers
// Bidirectional and TimeDistributed (KERAS_SPEC §5.5). Inference only.
//
// A recurrent layer takes (batch, timesteps, features) and, optionally, initial states as
// further inputs: lstm({x, h0, c0}) is Keras's lstm(x, initial_state=[h0, c0]). Its outputs
// are the last output (or the whole sequence with return_sequences) followed, with
// return_state, by the final states (h for SimpleRNN/GRU; h, c for LSTM): use
// keras::outputs_of() to get them all.
//
// Weights are the cell's, in Keras's order and layouts: kernel (features, k*units),
// recurrent_kernel (units, k*units), bias (k*units,) — GRU with reset_after: (2, 3*units),
// row 0 the input bias, row 1 the recurrent bias. Gate order along k*units: LSTM i, f, c, o;
// GRU z, r, h. Keras 3 files keep them in the cell ("<layer>/cell/vars/0..2").
//
// `stateful` is accepted and written back, but states are not kept between calls: every call
// starts from the given initial states or zeros (what a stateful layer computes on its first
// call after reset_states()). `unroll` changes nothing here; dropout is inference-off.
#include <cstdint>
#include <optional>
#include <string>

#include "keras/initializers.h"
#include "keras/layer.h"
#include "keras/layers/args.h"

namespace keras::layers {

struct SimpleRNNOptions {
  Dim units = 0;
  std::string activation = "tanh";
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer recurrent_initializer = "orthogonal";
  Initializer bias_initializer = "zeros";
  double dropout = 0.0;
  double recurrent_dropout = 0.0;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;
  bool unroll = false;
  std::optional<int64_t> seed;
  std::string name;
};
// h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias).
Layer SimpleRNN(const SimpleRNNOptions& options);
Layer SimpleRNN(Dim units, const std::string& activation = "tanh");

struct LSTMOptions {
  Dim units = 0;
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer recurrent_initializer = "orthogonal";
  Initializer bias_initializer = "zeros";
  bool unit_forget_bias = true;  // initialise the forget-gate bias to ones
  double dropout = 0.0;
  double recurrent_dropout = 0.0;
  std::optional<int64_t> seed;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;
  bool unroll = false;
  std::string name;
};
Layer LSTM(const LSTMOptions& options);
Layer LSTM(Dim units);

struct GRUOptions {
  Dim units = 0;
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer recurrent_initializer = "orthogonal";
  Initializer bias_initializer = "zeros";
  double dropout = 0.0;
  double recurrent_dropout = 0.0;
  std::optional<int64_t> seed;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;
  bool unroll = false;
  // True (Keras >= 2.4 / tf.keras 2.x / Keras 3): the reset gate multiplies h@U after the
  // product, with separate input and recurrent biases. False (Keras 1 and 2.0-2.3): before.
  bool reset_after = true;
  std::string name;
};
Layer GRU(const GRUOptions& options);
Layer GRU(Dim units);

struct ConvLSTM2DOptions {
  Dim filters = 0;
  IntPair kernel_size = 0;
  IntPair strides = 1;
  std::string padding = "valid";  // of the input convolution; the recurrent one is always "same"
  std::string data_format = "channels_last";
  IntPair dilation_rate = 1;
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";  // tf.keras 2 defaulted to hard_sigmoid
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer recurrent_initializer = "orthogonal";
  Initializer bias_initializer = "zeros";
  bool unit_forget_bias = true;
  double dropout = 0.0;
  double recurrent_dropout = 0.0;
  std::optional<int64_t> seed;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;
  bool unroll = false;
  std::string name;
};
// An LSTM whose products are convolutions: input (batch, time, rows, cols, channels) (or
// (batch, time, channels, rows, cols)); kernel (kH, kW, channels, 4*filters), recurrent_kernel
// (kH, kW, filters, 4*filters), bias (4*filters,), gates i, f, c, o. States (batch, rows', cols',
// filters) in the layer's data_format.
Layer ConvLSTM2D(const ConvLSTM2DOptions& options);
Layer ConvLSTM2D(Dim filters, IntPair kernel_size);

struct BidirectionalOptions {
  Layer layer;  // a recurrent layer; a fresh copy named "forward_<name>" runs forwards
  // "concat", "sum", "mul", "ave", or nullopt (Keras's None: both outputs, forward first).
  std::optional<std::string> merge_mode = "concat";
  // Default: a copy of `layer` with go_backwards flipped, named "backward_<name>".
  Layer backward_layer;
  std::string name;
};
// Runs `layer` forwards and backwards over the sequence and merges the outputs (the backward
// sequence is flipped back to time order first). Initial states: the first half of the extra
// inputs go to the forward layer, the second half to the backward one. Weights: forward's,
// then backward's.
Layer Bidirectional(const BidirectionalOptions& options);
Layer Bidirectional(const Layer& layer, std::optional<std::string> merge_mode = "concat");

struct TimeDistributedOptions {
  Layer layer;
  std::string name;
};
// Applies `layer` to every timestep: (batch, time, ...) -> (batch, time, layer's output...).
Layer TimeDistributed(const TimeDistributedOptions& options);
Layer TimeDistributed(const Layer& layer);

}  // namespace keras::layers
