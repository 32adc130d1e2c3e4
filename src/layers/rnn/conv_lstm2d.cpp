#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

#include "keras/layers/rnn.h"
#include "layers/convolutional/conv_utils.h"
#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "layers/shape_checks.h"
#include "ops/kernels.h"
#include "ops/transpose.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

using nlohmann::json;

class ConvLSTM2DImpl : public LayerImpl {
 public:
  explicit ConvLSTM2DImpl(const ConvLSTM2DOptions& o)
      : LayerImpl(o.name, "conv_lstm2d"),
        o_(o),
        activation_(ops::activation(o.activation)),
        recurrent_activation_(ops::activation(o.recurrent_activation)),
        fns_{activation_, recurrent_activation_, ops::activation_grad(o.activation),
             ops::activation_grad(o.recurrent_activation)} {
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

  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override;
  // Backpropagation through time from the input projection and the per-step states a
  // training forward pass saved; the convolutions' gradients come from the backward kernels.
  Gradients backward(const BackwardArgs& args) const override;

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
      c[k] = nullptr;
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
  Tensor to_last(const Tensor& t) const { return channels_first() ? ops::to_channels_last(t) : t; }
  Tensor to_format(const Tensor& t) const { return channels_first() ? ops::to_channels_first(t) : t; }
  Tensor project_inputs(const Tensor& x5, ops::Conv2DArgs& args) const;
  // The input convolution over (batch*time) channels-last images of `image` shape.
  ops::Conv2DArgs input_conv(const Shape& image) const;
  // The recurrent convolution: "same" padding, stride 1, over the (rows, cols) state grid.
  ops::Conv2DArgs recurrent_conv(Dim n, Dim rows, Dim cols) const;
  // (batch, time, ...) in the layer's format -> channels-last (batch*time, ...) images.
  Tensor images_last(const Tensor& x5) const {
    std::vector<Dim> image(x5.shape().dims().begin() + 2, x5.shape().dims().end());
    image.insert(image.begin(), x5.dim(0) * x5.dim(1));
    return to_last(x5.reshape(Shape(image)));
  }

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
  ops::ActivationFn activation_;
  ops::ActivationFn recurrent_activation_;
  rnn::LSTMActivations fns_;
};

// Layout: everything runs channels-last; channels_first inputs, states and outputs are moved at
// the edges.
std::vector<Tensor> ConvLSTM2DImpl::call(const std::vector<Tensor>& inputs, const CallContext& ctx) const {
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  compute_output_shape(shapes);
  const Tensor& x = inputs.at(0);
  Dim n = x.dim(0), steps = x.dim(1), f = o_.filters, g = 4 * f;
  if (steps == 0) fail("cannot run on a sequence of 0 timesteps. Received input shape " + x.shape().str());
  ops::Conv2DArgs in_conv;
  Tensor xw = project_inputs(x, in_conv);
  Dim rows = in_conv.out_h, cols = in_conv.out_w, pixels = rows * cols;

  ops::Conv2DArgs rec_conv = recurrent_conv(n, rows, cols);

  // States as (batch*pixels, filters) rows, channels-last.
  Tensor h = Tensor::zeros({n * pixels, f}), c = Tensor::zeros({n * pixels, f});
  if (inputs.size() == 3) {
    h = to_last(inputs[1]).reshape({n * pixels, f});
    c = to_last(inputs[2]).reshape({n * pixels, f});
  }
  Tensor z({n * pixels, g}), tmp({n * pixels, f});
  std::vector<Tensor> gates(4, Tensor({n * pixels, f}));
  Tensor sequence;
  if (o_.return_sequences) sequence = Tensor({n, steps, rows, cols, f});
  const float* recurrent_kernel = variables()[1]->value.data();
  // For backward(): h and c before each step and after the last, (steps+1, batch*pixels, filters).
  Tensor h_hist, c_hist;
  auto record = [&](Dim i) {
    std::memcpy(h_hist.data() + i * h.size(), h.data(), static_cast<size_t>(h.size()) * sizeof(float));
    std::memcpy(c_hist.data() + i * c.size(), c.data(), static_cast<size_t>(c.size()) * sizeof(float));
  };
  if (ctx.saved) {
    h_hist = Tensor({steps + 1, n * pixels, f});
    c_hist = Tensor({steps + 1, n * pixels, f});
    record(0);
  }
  for (Dim i = 0; i < steps; ++i) {
    Dim t = o_.go_backwards ? steps - 1 - i : i;
    ops::kernels().conv2d(rec_conv, h.data(), recurrent_kernel, z.data());
    for (Dim b = 0; b < n; ++b) {
      const float* xr = xw.data() + (b * steps + t) * pixels * g;
      float* zr = z.data() + b * pixels * g;
      for (Dim k = 0; k < pixels * g; ++k) zr[k] += xr[k];
    }
    for (int q = 0; q < 4; ++q) rnn::take_gate(z, nullptr, 0, q, f, gates[static_cast<size_t>(q)]);
    rnn::lstm_update(gates, h, c, tmp, activation_, recurrent_activation_);
    if (ctx.saved) record(i + 1);
    if (o_.return_sequences)
      for (Dim b = 0; b < n; ++b)
        std::memcpy(sequence.data() + (b * steps + i) * pixels * f, h.data() + b * pixels * f,
                    static_cast<size_t>(pixels * f) * sizeof(float));
  }

  if (ctx.saved) ctx.saved->tensors = {std::move(xw), std::move(h_hist), std::move(c_hist)};
  std::vector<Tensor> out;
  if (o_.return_sequences) {
    Tensor seq = to_format(std::move(sequence).reshape({n * steps, rows, cols, f}));
    std::vector<Dim> d = seq.shape().dims();
    d[0] = steps;
    d.insert(d.begin(), n);
    out.push_back(std::move(seq).reshape(Shape(d)));
  } else {
    out.push_back(to_format(h.reshape({n, rows, cols, f})));
  }
  if (o_.return_state) {
    out.push_back(to_format(h.reshape({n, rows, cols, f})));
    out.push_back(to_format(c.reshape({n, rows, cols, f})));
  }
  return out;
}

// The input convolution of all timesteps in one call (batch*time images), bias added:
// (batch*time*rows'*cols', 4*filters). Fills `args` (rows' = args.out_h).
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

Gradients ConvLSTM2DImpl::backward(const BackwardArgs& a) const {
  const auto& saved = a.saved.tensors;
  if (saved.size() != 3) fail("backward() needs the states of a forward pass run with CallContext::saved");
  const Tensor& x5 = a.inputs.at(0);
  const Tensor &xw = saved[0], &h_hist = saved[1], &c_hist = saved[2];
  Dim n = x5.dim(0), steps = x5.dim(1), f = o_.filters, g = 4 * f;
  Tensor x = images_last(x5);
  ops::Conv2DArgs in_conv = input_conv(x.shape());
  Dim rows = in_conv.out_h, cols = in_conv.out_w, pixels = rows * cols, cells = n * pixels;
  ops::Conv2DArgs rec_conv = recurrent_conv(n, rows, cols);
  auto vars = variables();
  const Tensor &kernel = vars[0]->value, &recurrent_kernel = vars[1]->value;

  // The output gradients as channels-last (batch*pixels, filters) rows.
  auto state_rows = [&](const Tensor& t) { return to_last(t).reshape({cells, f}); };
  Tensor dh = o_.return_sequences ? Tensor::zeros({cells, f}) : state_rows(a.output_grads.at(0));
  Tensor dc = Tensor::zeros({cells, f});
  if (o_.return_state) {
    Tensor gh = state_rows(a.output_grads.at(1));
    for (Dim k = 0; k < dh.size(); ++k) dh[k] += gh[k];
    dc = state_rows(a.output_grads.at(2));
  }
  Tensor d_seq;  // (batch, time, pixels, filters)
  if (o_.return_sequences) d_seq = images_last(a.output_grads.at(0));

  Tensor d_xw({xw.dim(0), g}), d_recurrent(recurrent_kernel.shape()), part(recurrent_kernel.shape());
  Tensor z({cells, g}), dz({cells, g}), dc_prev({cells, f}), dh_prev({cells, f});
  std::vector<Tensor> pre(4, Tensor({cells, f}));
  for (Dim i = steps - 1; i >= 0; --i) {
    Dim t = o_.go_backwards ? steps - 1 - i : i;
    if (o_.return_sequences)
      for (Dim b = 0; b < n; ++b) {
        const float* gs = d_seq.data() + (b * steps + i) * pixels * f;
        for (Dim k = 0; k < pixels * f; ++k) dh[b * pixels * f + k] += gs[k];
      }
    Tensor h_prev = h_hist.slice(i, i + 1).reshape({cells, f}), c_prev = c_hist.slice(i, i + 1).reshape({cells, f});
    ops::kernels().conv2d(rec_conv, h_prev.data(), recurrent_kernel.data(), z.data());
    for (Dim b = 0; b < n; ++b) {
      const float* xr = xw.data() + (b * steps + t) * pixels * g;
      for (Dim k = 0; k < pixels * g; ++k) z[b * pixels * g + k] += xr[k];
    }
    for (int q = 0; q < 4; ++q) rnn::take_gate(z, nullptr, 0, q, f, pre[static_cast<size_t>(q)]);
    rnn::lstm_update_backward(pre, c_prev, dh, dc, fns_, dz, dc_prev);
    for (Dim b = 0; b < n; ++b)
      std::memcpy(d_xw.data() + (b * steps + t) * pixels * g, dz.data() + b * pixels * g,
                  static_cast<size_t>(pixels * g) * sizeof(float));
    ops::kernels().conv2d_backward_filter(rec_conv, h_prev.data(), dz.data(), part.data());
    for (Dim k = 0; k < part.size(); ++k) d_recurrent[k] += part[k];
    ops::kernels().conv2d_backward_input(rec_conv, dz.data(), recurrent_kernel.data(), dh_prev.data());
    std::swap(dh, dh_prev);
    std::swap(dc, dc_prev);
  }

  Gradients grads;
  Tensor dx(x.shape());
  ops::kernels().conv2d_backward_input(in_conv, d_xw.data(), kernel.data(), dx.data());
  grads.inputs.push_back(to_format(dx).reshape(x5.shape()));
  if (a.inputs.size() == 3) {
    grads.inputs.push_back(to_format(dh.reshape({n, rows, cols, f})));
    grads.inputs.push_back(to_format(dc.reshape({n, rows, cols, f})));
  }
  grads.variables.emplace_back(kernel.shape());
  ops::kernels().conv2d_backward_filter(in_conv, x.data(), d_xw.data(), grads.variables[0].data());
  grads.variables.push_back(std::move(d_recurrent));
  if (o_.use_bias) {
    Tensor db({g});
    const float* d = std::as_const(d_xw).data();
    float* sum = db.data();
    for (Dim r = 0; r < d_xw.dim(0); ++r)
      for (Dim j = 0; j < g; ++j) sum[j] += d[r * g + j];
    grads.variables.push_back(std::move(db));
  }
  return grads;
}

Tensor ConvLSTM2DImpl::project_inputs(const Tensor& x5, ops::Conv2DArgs& args) const {
  Tensor x = images_last(x5);
  auto vars = variables();
  const Tensor& kernel = vars[0]->value;
  if (x.dim(3) != kernel.dim(2))
    throw ValueError("Input 0 of layer \"" + name() + "\" is incompatible with the layer: expected " +
                     std::to_string(kernel.dim(2)) + " channels, but received input with shape " + x5.shape().str());
  Dim g = 4 * o_.filters;
  args = input_conv(x.shape());
  Tensor xw({args.batch * args.out_h * args.out_w, g});
  ops::kernels().conv2d(args, x.data(), kernel.data(), xw.data());
  if (o_.use_bias)
    for (Dim r = 0; r < xw.dim(0); ++r)
      for (Dim j = 0; j < g; ++j) xw[r * g + j] += vars[2]->value[j];
  return xw;
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
