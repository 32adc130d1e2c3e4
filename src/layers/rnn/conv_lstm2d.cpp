#include <algorithm>
#include <cctype>
#include <utility>

#include "engine/graph/lowering.h"
#include "keras/layers/rnn.h"
#include "layers/convolutional/conv_utils.h"
#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "layers/shape_checks.h"
#include "ops/activations.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

using nlohmann::json;

class ConvLSTM2DImpl : public LayerImpl {
 public:
  explicit ConvLSTM2DImpl(const ConvLSTM2DOptions& o) : LayerImpl(o.name, "conv_lstm2d"), o_(o) {
    // Keras's error for an unknown name at construction, not at the first call.
    ops::activation_grad(o.activation);
    ops::activation_grad(o.recurrent_activation);
    if (o.filters <= 0)
      throw ValueError("Invalid value for argument `filters`. Expected a strictly positive value. Received filters=" +
                       std::to_string(o.filters) + ".");
    std::transform(o_.padding.begin(), o_.padding.end(), o_.padding.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (o_.padding != "valid" && o_.padding != "same")
      throw ValueError("The `padding` argument must be a list/tuple or one of {'valid', 'same'}. Received: " +
                       o.padding);
    o_.data_format = detail::standardize_data_format(o.data_format);
    for (const auto* arg : {&o.kernel_size, &o.strides, &o.dilation_rate})
      if (arg->first <= 0 || arg->second <= 0)
        throw ValueError("The kernel_size, strides and dilation_rate arguments must be positive integers. Received: " +
                         arg->str());
    if (std::max(o.strides.first, o.strides.second) > 1 && std::max(o.dilation_rate.first, o.dilation_rate.second) > 1)
      throw ValueError(
          "Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please provide "
          "`strides=1` or `dilation_rate=1`. Received: strides=" +
          o.strides.str() + " and dilation_rate=" + o.dilation_rate.str());
  }
  std::string class_name() const override { return "ConvLSTM2D"; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    if (in.empty()) expect_inputs(in, 1);
    detail::check_ndim(name(), in[0], 5);
    Shape state = state_shape(in[0]);
    if (in.size() != 1 && in.size() != 3)
      fail(
          "An `initial_state` was passed that is not compatible with the cell: it expects 2 state tensor(s), but "
          "received " +
          std::to_string(in.size() - 1));
    for (size_t i = 1; i < in.size(); ++i) {
      Shape want = state;
      want[0] = in[i][0];
      if (in[i] != want)
        fail("initial state " + std::to_string(i - 1) + " should have shape " + want.str() + ", but received shape " +
             in[i].str());
    }
    std::vector<Shape> out;
    if (o_.return_sequences) {
      std::vector<Dim> d = state.dims();
      d.insert(d.begin() + 1, in[0][1]);
      out.emplace_back(d);
    } else {
      out.push_back(state);
    }
    if (o_.return_state) out.insert(out.end(), {state, state});
    return out;
  }

  // Described once, as ops: channels-last images (transposes at the edges for channels_first)
  // through one ops::RecurrentOp whose products are the input and recurrent convolutions.
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override;
  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }

  json get_config() const override {
    json c = LayerImpl::get_config();
    c["return_sequences"] = o_.return_sequences;
    c["return_state"] = o_.return_state;
    c["go_backwards"] = o_.go_backwards;
    c["stateful"] = o_.stateful;
    c["unroll"] = o_.unroll;
    c["zero_output_for_mask"] = false;
    c["filters"] = o_.filters;
    c["kernel_size"] = o_.kernel_size.vec();
    c["strides"] = o_.strides.vec();
    c["padding"] = o_.padding;
    c["data_format"] = o_.data_format;
    c["dilation_rate"] = o_.dilation_rate.vec();
    c["activation"] = o_.activation.empty() ? "linear" : o_.activation;
    c["recurrent_activation"] = o_.recurrent_activation.empty() ? "linear" : o_.recurrent_activation;
    c["use_bias"] = o_.use_bias;
    c["kernel_initializer"] = initializer_to_config(o_.kernel_initializer);
    c["recurrent_initializer"] = initializer_to_config(o_.recurrent_initializer);
    c["bias_initializer"] = initializer_to_config(o_.bias_initializer);
    c["unit_forget_bias"] = o_.unit_forget_bias;
    for (const char* k : {"kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                          "kernel_constraint", "recurrent_constraint", "bias_constraint"})
      c[k] = rule_config(k);
    c["dropout"] = o_.dropout;
    c["recurrent_dropout"] = o_.recurrent_dropout;
    c["seed"] = o_.seed ? json(*o_.seed) : json(nullptr);
    return c;
  }

 protected:
  void build_weights(const std::vector<Shape>& in) override {
    compute_output_shape(in);
    const Shape& x = in[0];
    bool cf = channels_first();
    if (x[cf ? 3 : 2] < 0 || x[cf ? 4 : 3] < 0)
      fail(
          "ConvLSTM layers only support static input shapes for the spatial dimension. Received invalid input "
          "shape: input_shape=" +
          x.str());
    Dim channels = x[cf ? 2 : 4];
    if (channels < 0)
      fail(
          "The channel dimension of the inputs (last axis) should be defined. Found None. Full input shape "
          "received: input_shape=" +
          x.str());
    Dim f = o_.filters, kh = o_.kernel_size.first, kw = o_.kernel_size.second;
    add_weight("kernel", {kh, kw, channels, 4 * f}, o_.kernel_initializer);
    add_weight("recurrent_kernel", {kh, kw, f, 4 * f}, o_.recurrent_initializer);
    if (o_.use_bias) {
      Variable& b = add_weight("bias", {4 * f}, o_.bias_initializer);
      if (o_.unit_forget_bias)
        for (Dim j = f; j < 2 * f; ++j) b.value[j] = 1.0f;
    }
  }

 private:
  bool channels_first() const { return o_.data_format == "channels_first"; }
  // The input convolution over (batch*time) channels-last images of `image` shape.
  ops::Conv2DArgs input_conv(const Shape& image) const;
  // The recurrent convolution: "same" padding, stride 1, over the (rows, cols) state grid.
  ops::Conv2DArgs recurrent_conv(Dim n, Dim rows, Dim cols) const;

  Dim out_size(Dim in, int axis) const {
    if (in < 0) return None;
    return ops::conv_padding(in, o_.kernel_size[axis], o_.strides[axis], o_.dilation_rate[axis], o_.padding).out;
  }

  // The state (and per-step output) shape for a 5-D input shape, in the layer's data_format.
  Shape state_shape(const Shape& x) const {
    bool cf = channels_first();
    Dim rows = out_size(x[cf ? 3 : 2], 0), cols = out_size(x[cf ? 4 : 3], 1);
    return cf ? Shape{x[0], o_.filters, rows, cols} : Shape{x[0], rows, cols, o_.filters};
  }

  ConvLSTM2DOptions o_;
};

// Layout: the op runs channels-last; channels_first inputs, states and outputs are moved at
// the edges.
bool ConvLSTM2DImpl::lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const {
  if (o_.stateful)
    throw NotImplementedError("Layer \"" + name() +
                              "\": a stateful ConvLSTM2D is not supported (SimpleRNN, LSTM and "
                              "GRU are)");
  // Keras's ConvLSTM2D would skip masked steps; computing without the mask would be wrong.
  if (g.input_mask(0) >= 0)
    throw NotImplementedError("Layer \"" + name() + "\": ConvLSTM2D on a masked input (mask of shape " +
                              g.shape(g.input_mask(0)).str() + ") is not supported");
  std::vector<Shape> shapes;
  for (int v : in) shapes.push_back(g.shape(v));
  std::vector<Shape> results = compute_output_shape(shapes);
  const Shape& x5 = shapes[0];
  Dim n = x5[0], steps = x5[1], f = o_.filters;
  if (steps == 0) fail("cannot run on a sequence of 0 timesteps. Received input shape " + x5.str());
  // Keras's ConvLSTMCell drops inputs and states in training; without those masks a training
  // step would compute something else, so it says so instead.
  auto active = [](double rate) { return rate > 0 && rate < 1; };
  if (g.training() && (active(o_.dropout) || active(o_.recurrent_dropout)))
    throw NotImplementedError("Layer \"" + name() +
                              "\" (ConvLSTM2D): dropout and recurrent_dropout in training are not supported yet");
  auto vars = variables();
  bool cf = channels_first();
  std::vector<int> values = in;
  if (cf) {
    values[0] = graph::transpose(g, in[0], {0, 1, 3, 4, 2}, name());
    for (size_t i = 1; i < in.size(); ++i) values[i] = graph::to_channels_last(g, in[i], name());
  }
  const Shape& x = g.shape(values[0]);  // (batch, time, rows, cols, channels)
  if (x[4] != vars[0]->value.dim(2))
    throw ValueError("Input 0 of layer \"" + name() + "\" is incompatible with the layer: expected " +
                     std::to_string(vars[0]->value.dim(2)) + " channels, but received input with shape " + x5.str());
  ops::Conv2DArgs in_conv = input_conv(Shape{n * steps, x[2], x[3], x[4]});
  Dim rows = in_conv.out_h, cols = in_conv.out_w;
  ops::RecurrentOp op{.cell = ops::RecurrentOp::Cell::kLSTM,
                      .batch = n,
                      .steps = steps,
                      .features = x[4],
                      .units = f,
                      .rows = rows * cols,
                      .conv = true,
                      .input_conv = in_conv,
                      .recurrent_conv = recurrent_conv(n, rows, cols),
                      .activation = o_.activation,
                      .recurrent_activation = o_.recurrent_activation,
                      .bias = o_.use_bias,
                      .go_backwards = o_.go_backwards,
                      .return_sequences = o_.return_sequences,
                      .initial_state = in.size() > 1,
                      .save = g.differentiates()};
  Shape state{n, rows, cols, f};
  std::vector<Shape> outputs{o_.return_sequences ? Shape{n, steps, rows, cols, f} : state, state, state};
  if (op.save)
    outputs.insert(outputs.end(), {Shape{n * steps * rows * cols, 4 * f}, Shape{steps + 1, n * rows * cols, f},
                                   Shape{steps + 1, n * rows * cols, f}});
  std::vector<Shape> op_inputs;
  for (int v : values) op_inputs.push_back(g.shape(v));
  ops::Op o{.attrs = op, .inputs = op_inputs, .outputs = outputs, .layer = name()};
  for (const Variable* v : vars) o.weights.push_back(&v->value);
  std::vector<int> y = g.emit(std::move(o), values);
  out = {y[0]};
  if (o_.return_state) out.insert(out.end(), {y[1], y[2]});
  if (cf) {
    out[0] = o_.return_sequences ? graph::transpose(g, out[0], {0, 1, 4, 2, 3}, name())
                                 : graph::to_channels_first(g, out[0], name());
    for (size_t i = 1; i < out.size(); ++i) out[i] = graph::to_channels_first(g, out[i], name());
  }
  return true;
}

// The input convolution of all timesteps in one call: (batch*time) images x [N, H, W, C].
ops::Conv2DArgs ConvLSTM2DImpl::input_conv(const Shape& x) const {
  ops::Conv2DArgs args{.batch = x[0],
                       .in_h = x[1],
                       .in_w = x[2],
                       .in_c = x[3],
                       .out_h = out_size(x[1], 0),
                       .out_w = out_size(x[2], 1),
                       .out_c = 4 * o_.filters,
                       .k_h = o_.kernel_size.first,
                       .k_w = o_.kernel_size.second,
                       .stride_h = o_.strides.first,
                       .stride_w = o_.strides.second,
                       .dilation_h = o_.dilation_rate.first,
                       .dilation_w = o_.dilation_rate.second};
  args.pad_top = ops::conv_padding(args.in_h, args.k_h, args.stride_h, args.dilation_h, o_.padding).pad_before;
  args.pad_left = ops::conv_padding(args.in_w, args.k_w, args.stride_w, args.dilation_w, o_.padding).pad_before;
  return args;
}

ops::Conv2DArgs ConvLSTM2DImpl::recurrent_conv(Dim n, Dim rows, Dim cols) const {
  ops::Conv2DArgs a{.batch = n,
                    .in_h = rows,
                    .in_w = cols,
                    .in_c = o_.filters,
                    .out_h = rows,
                    .out_w = cols,
                    .out_c = 4 * o_.filters,
                    .k_h = o_.kernel_size.first,
                    .k_w = o_.kernel_size.second};
  a.pad_top = ops::conv_padding(rows, a.k_h, 1, 1, "same").pad_before;
  a.pad_left = ops::conv_padding(cols, a.k_w, 1, 1, "same").pad_before;
  return a;
}

}  // namespace

Layer ConvLSTM2D(const ConvLSTM2DOptions& options) { return Layer(std::make_shared<ConvLSTM2DImpl>(options)); }
Layer ConvLSTM2D(Dim filters, IntPair kernel_size) {
  return ConvLSTM2D(ConvLSTM2DOptions{.filters = filters, .kernel_size = kernel_size});
}

Layer conv_lstm2d_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  using namespace saving;
  conv::ConvSpec spec = conv::spec_from_config(c, conv::Kind::kConv, 2, ctx);
  rnn::CellConfig cell = rnn::cell_config(c, ctx);
  rnn::SequenceArgs seq = rnn::sequence_args_from_config(c);
  // tf.keras kept hard_sigmoid as ConvLSTM2D's default after LSTM moved to sigmoid.
  std::string recurrent = cell.recurrent_activation;
  if (!c.contains("recurrent_activation") && ctx.keras_major < 3)
    recurrent = get_activation(json{{"a", "hard_sigmoid"}}, "a", ctx);
  auto pair = [](const std::vector<Dim>& v) { return IntPair(v.at(0), v.at(1)); };
  ConvLSTM2DOptions o{.filters = spec.filters,
                      .kernel_size = pair(spec.kernel_size),
                      .strides = pair(spec.strides),
                      .padding = spec.padding,
                      .data_format = spec.data_format,
                      .dilation_rate = pair(spec.dilation_rate),
                      .activation = cell.activation,
                      .recurrent_activation = recurrent,
                      .use_bias = cell.use_bias,
                      .kernel_initializer = cell.kernel_initializer,
                      .recurrent_initializer = cell.recurrent_initializer,
                      .bias_initializer = cell.bias_initializer,
                      .unit_forget_bias = get_bool(c, "unit_forget_bias", true),
                      .dropout = cell.dropout,
                      .recurrent_dropout = cell.recurrent_dropout,
                      .seed = cell.seed,
                      .return_sequences = seq.return_sequences,
                      .return_state = seq.return_state,
                      .go_backwards = seq.go_backwards,
                      .stateful = seq.stateful,
                      .unroll = seq.unroll,
                      .name = spec.name};
  Layer l = ConvLSTM2D(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
