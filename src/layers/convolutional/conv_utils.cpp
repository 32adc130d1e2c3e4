#include "layers/convolutional/conv_utils.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "engine/graph/lowering.h"
#include "engine/naming.h"
#include "ops/activations.h"
#include "saving/config_utils.h"

namespace keras::layers::conv {

namespace {

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// numpy's repr of an int array, as Keras's output-size error prints dilation_rate: "[1 1]".
std::string numpy_str(const std::vector<Dim>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + std::to_string(v[i]);
  return s + "]";
}

// Keras's standardize_tuple check: `rank` values, each > 0 (>= 0 with allow_zero). Empty
// when fine, else Keras's message.
std::string tuple_error(const std::vector<Dim>& v, int rank, const std::string& name, bool allow_zero = false) {
  std::set<Dim> bad;
  for (Dim x : v)
    if (allow_zero ? x < 0 : x <= 0) bad.insert(x);
  if (bad.empty() && static_cast<int>(v.size()) == rank) return "";
  std::string msg = "The `" + name + "` argument must be a tuple of " + std::to_string(rank) + " integers. Received " +
                    name + "=" + tuple_str(v);
  if (!bad.empty()) {
    std::string set = "{";
    for (Dim x : bad) set += (set.size() > 1 ? ", " : "") + std::to_string(x);
    msg += ", including values " + set + "} that do not satisfy `value " + (allow_zero ? ">= 0" : "> 0") + "`";
  }
  return msg;
}

ConvSpec normalized(ConvSpec s) {
  s.padding = lower(s.padding);
  s.data_format = lower(s.data_format);
  return s;
}

std::vector<Dim> ints_or(const nlohmann::json& c, const std::string& key, const std::string& legacy, int rank,
                         std::vector<Dim> fallback) {
  using saving::get_ints;
  if (c.contains(key) && !c.at(key).is_null()) return get_ints(c, key, static_cast<size_t>(rank), fallback);
  return get_ints(c, legacy, static_cast<size_t>(rank), std::move(fallback));
}

}  // namespace

std::string tuple_str(const std::vector<Dim>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (v.size() == 1 ? ",)" : ")");
}

std::string class_name_of(Kind kind, int rank) {
  std::string r = rank == 1 ? "1D" : "2D";
  switch (kind) {
    case Kind::kConv:
      return "Conv" + r;
    case Kind::kDepthwise:
      return "DepthwiseConv" + r;
    case Kind::kSeparable:
      return "SeparableConv" + r;
    case Kind::kTranspose:
      return "Conv" + r + "Transpose";
  }
  return "Conv" + r;
}

ConvSpec spec_from_config(const nlohmann::json& c, Kind kind, int rank, const ConfigContext& ctx) {
  using namespace saving;
  ConvSpec s;
  s.kind = kind;
  s.rank = rank;
  s.name = get_string(c, "name");
  if (kind != Kind::kDepthwise) s.filters = get_int(c, "filters", get_int(c, "nb_filter", 0));
  if (c.contains("kernel_size"))
    s.kernel_size = get_ints(c, "kernel_size", static_cast<size_t>(rank), {});
  else if (rank == 2)
    s.kernel_size = {get_int(c, "nb_row", 0), get_int(c, "nb_col", 0)};
  else
    s.kernel_size = {get_int(c, "filter_length", 0)};
  std::vector<Dim> ones(static_cast<size_t>(rank), 1);
  s.strides = ints_or(c, "strides", rank == 2 ? "subsample" : "subsample_length", rank, ones);
  s.dilation_rate = ints_or(c, "dilation_rate", "atrous_rate", rank, ones);
  if (c.contains("output_padding") && !c.at("output_padding").is_null())
    s.output_padding = get_ints(c, "output_padding", static_cast<size_t>(rank), {});
  s.padding = get_string(c, "padding", get_string(c, "border_mode", "valid"));
  // Keras 1 said dim_ordering: "th" (Theano, channels first) or "tf".
  std::string ordering = get_string(c, "dim_ordering", "tf");
  s.data_format = get_string(c, "data_format", ordering == "th" ? "channels_first" : "channels_last");
  s.groups = get_int(c, "groups", 1);
  s.depth_multiplier = get_int(c, "depth_multiplier", 1);
  s.activation = get_activation(c, "activation", ctx);
  s.use_bias = get_bool(c, "use_bias", get_bool(c, "bias", true));
  Initializer init = get_initializer(c, "init", "glorot_uniform");
  bool depthwise = kind == Kind::kDepthwise || kind == Kind::kSeparable;
  s.kernel_initializer = get_initializer(c, depthwise ? "depthwise_initializer" : "kernel_initializer", init);
  s.pointwise_initializer = get_initializer(c, "pointwise_initializer", init);
  s.bias_initializer = get_initializer(c, "bias_initializer", "zeros");
  return s;
}

ConvBase::ConvBase(ConvSpec spec)
    : LayerImpl(spec.name, naming::to_snake_case(class_name_of(spec.kind, spec.rank))),
      spec_(normalized(std::move(spec))),
      class_name_(class_name_of(spec_.kind, spec_.rank)) {
  ops::activation(spec_.activation);  // an unknown name fails here, not at the first call
  validate();
}

void ConvBase::validate() const {
  const ConvSpec& s = spec_;
  for (const auto& [v, name] : {std::pair{&s.kernel_size, "kernel_size"}, std::pair{&s.strides, "strides"},
                                std::pair{&s.dilation_rate, "dilation_rate"}})
    if (std::string e = tuple_error(*v, s.rank, name); !e.empty()) fail(e);
  // Keras 3 allows 'causal' on Conv1D only; tf.keras also on SeparableConv1D and
  // DepthwiseConv1D, and its files must load.
  bool causal_ok = s.kind != Kind::kTranspose && s.rank == 1;
  if (s.padding != "valid" && s.padding != "same" && !(causal_ok && s.padding == "causal"))
    fail(std::string("The `padding` argument must be a list/tuple or one of ") +
         (causal_ok ? "{'valid', 'same', 'causal'}" : "{'valid', 'same'}") + ". Received: " + s.padding);
  if (s.output_padding)
    if (std::string e = tuple_error(*s.output_padding, s.rank, "output_padding", /*allow_zero=*/true); !e.empty())
      fail(e);
  if (s.data_format != "channels_last" && s.data_format != "channels_first")
    fail("The `data_format` argument must be one of {'channels_first', 'channels_last'}. Received: data_format=" +
         s.data_format);
  if ((s.kind == Kind::kDepthwise || s.kind == Kind::kSeparable) && s.depth_multiplier <= 0)
    fail(
        "Invalid value for argument `depth_multiplier`. Expected a strictly positive value. Received "
        "depth_multiplier=" +
        std::to_string(s.depth_multiplier) + ".");
  if (s.kind != Kind::kDepthwise && s.filters <= 0)
    fail("Invalid value for argument `filters`. Expected a strictly positive value. Received filters=" +
         std::to_string(s.filters) + ".");
  if (s.groups <= 0)
    fail("The number of groups must be a positive integer. Received: groups=" + std::to_string(s.groups) + ".");
  if (s.kind == Kind::kConv && s.filters % s.groups != 0)
    fail("The number of filters must be evenly divisible by the number of groups. Received: groups=" +
         std::to_string(s.groups) + ", filters=" + std::to_string(s.filters) + ".");
  if (s.output_padding)
    for (int i = 0; i < s.rank; ++i)
      if ((*s.output_padding)[i] >= s.strides[i])
        fail("`output_padding` must be < `strides`. output_padding=" + tuple_str(*s.output_padding) +
             ", strides=" + tuple_str(s.strides));
  bool strided = *std::max_element(s.strides.begin(), s.strides.end()) > 1;
  bool dilated = *std::max_element(s.dilation_rate.begin(), s.dilation_rate.end()) > 1;
  if (strided && dilated)
    fail("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=" +
         tuple_str(s.strides) + " and dilation_rate=" + tuple_str(s.dilation_rate));
}

Dim ConvBase::channels_of(const Shape& s) const { return spec_.data_format == "channels_last" ? s[-1] : s[1]; }

std::vector<Dim> ConvBase::spatial_of(const Shape& s) const {
  int first = spec_.data_format == "channels_last" ? 1 : 2;
  return {s.dims().begin() + first, s.dims().begin() + first + spec_.rank};
}

void ConvBase::check_input(const Shape& s) const {
  int want = spec_.rank + 2;
  std::string head = "Input 0 of layer \"" + name() + "\" is incompatible with the layer: ";
  if (s.rank() < want)
    throw ValueError(head + "expected min_ndim=" + std::to_string(want) + ", found ndim=" + std::to_string(s.rank()) +
                     ". Full shape received: " + s.str());
  if (s.rank() > want)
    fail("Kernel shape must have the same length as input, but received kernel of shape " +
         tuple_str(spec_.kernel_size) + " and input of shape " + s.str() + ".");
  if (!built()) return;
  Dim expected = build_input_shapes()[0].rank() == want ? channels_of(build_input_shapes()[0]) : None;
  if (expected >= 0 && channels_of(s) != expected)
    throw ValueError(head + "expected axis " + (spec_.data_format == "channels_last" ? "-1" : "1") +
                     " of input shape to have value " + std::to_string(expected) + ", but received input with shape " +
                     s.str());
}

ops::Padding1D ConvBase::axis_geometry(int axis, Dim in, const Shape& full_input) const {
  Dim k = spec_.kernel_size[static_cast<size_t>(axis)], s = spec_.strides[static_cast<size_t>(axis)],
      d = spec_.dilation_rate[static_cast<size_t>(axis)];
  if (spec_.padding == "valid" && in >= 0 && in < d * (k - 1) + 1) {
    std::vector<Dim> kernel_shape = spec_.kernel_size;
    kernel_shape.push_back(channels_of(full_input));
    kernel_shape.push_back(output_channels(channels_of(full_input)));
    fail("Computed output size would be zero or negative. Received `inputs shape=" + full_input.str() +
         "`, `kernel shape=" + tuple_str(kernel_shape) + "`, `dilation_rate=" + numpy_str(spec_.dilation_rate) +
         "`, `strides=" + tuple_str(spec_.strides) + "`, `padding=valid`.");
  }
  return ops::conv_padding(in, k, s, d, spec_.padding);
}

std::vector<Shape> ConvBase::compute_output_shape(const std::vector<Shape>& in) const {
  expect_inputs(in, 1);
  check_input(in[0]);
  std::vector<Dim> spatial = spatial_of(in[0]);
  Dim c = channels_of(in[0]);
  std::vector<Dim> out{in[0][0]};
  if (spec_.data_format == "channels_first") out.push_back(c < 0 ? None : output_channels(c));
  for (int i = 0; i < spec_.rank; ++i) out.push_back(axis_geometry(i, spatial[static_cast<size_t>(i)], in[0]).out);
  if (spec_.data_format == "channels_last") out.push_back(c < 0 ? None : output_channels(c));
  return {Shape(std::move(out))};
}

void ConvBase::build_weights(const std::vector<Shape>& in) {
  expect_inputs(in, 1);
  check_input(in[0]);
  Dim c = channels_of(in[0]);
  int axis = spec_.data_format == "channels_last" ? in[0].rank() - 1 : 1;
  if (c < 0)
    fail("The channel dimension of the inputs should be defined. The input_shape received is " + in[0].str() +
         ", where axis " + std::to_string(axis) + " (0-based) is the channel dimension, which found to be `None`.");
  if (spec_.kind == Kind::kConv && c % spec_.groups != 0)
    fail("The number of input channels must be evenly divisible by the number of groups. Received groups=" +
         std::to_string(spec_.groups) + ", but the input has " + std::to_string(c) + " channels (full input shape is " +
         in[0].str() + ").");
  compute_output_shape(in);
  create_weights(c);
}

ops::Conv2DArgs ConvBase::kernel_args(const Shape& x) const {
  ops::Conv2DArgs a;
  a.batch = x[0];
  a.in_c = x[-1];
  a.out_c = output_channels(a.in_c);
  a.groups = spec_.kind == Kind::kConv ? spec_.groups : 1;
  // A 1-D convolution is a 2-D one with height 1: its only axis is the width.
  size_t w = spec_.rank == 2 ? 1 : 0;
  ops::Padding1D pw = axis_geometry(static_cast<int>(w), x[static_cast<int>(w) + 1], x);
  a.in_w = x[static_cast<int>(w) + 1];
  a.out_w = pw.out;
  a.pad_left = pw.pad_before;
  a.k_w = spec_.kernel_size[w];
  a.stride_w = spec_.strides[w];
  a.dilation_w = spec_.dilation_rate[w];
  if (spec_.rank == 2) {
    ops::Padding1D ph = axis_geometry(0, x[1], x);
    a.in_h = x[1];
    a.out_h = ph.out;
    a.pad_top = ph.pad_before;
    a.k_h = spec_.kernel_size[0];
    a.stride_h = spec_.strides[0];
    a.dilation_h = spec_.dilation_rate[0];
  }
  return a;
}

std::vector<Tensor> ConvBase::call(const std::vector<Tensor>& inputs, const CallContext& ctx) const {
  check_input(inputs.at(0).shape());
  return call_ops(inputs, ctx);
}

Gradients ConvBase::backward(const BackwardArgs& a) const { return backward_ops(a); }

int ConvBase::emit_op(graph::Lowering& g, ops::OpAttrs attrs, int x, const Shape& y, const Tensor& kernel) const {
  ops::Op op{.attrs = std::move(attrs), .inputs = {g.shape(x)}, .outputs = {y}, .weights = {&kernel}, .layer = name()};
  bool bias = std::visit(
      [](const auto& a) {
        if constexpr (requires { a.epilogue; })
          return a.epilogue.bias;
        else
          return false;
      },
      op.attrs);
  if (bias) op.weights.push_back(&variables().back()->value);
  return g.emit(std::move(op), {x})[0];
}

bool ConvBase::lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const {
  bool first = spec_.data_format == "channels_first";
  int x = first ? graph::to_channels_last(g, in.at(0), name()) : in.at(0);
  const Shape& xs = g.shape(x);
  check_input(g.shape(in[0]));
  ops::Conv2DArgs args = kernel_args(xs);
  std::vector<Dim> dims{args.batch};
  if (spec_.rank == 2) dims.push_back(args.out_h);
  dims.push_back(args.out_w);
  dims.push_back(args.out_c);
  Shape ys(std::move(dims));
  if (ys.num_elements() == 0) return false;
  // channels_first applies an axis-dependent activation (softmax) after moving back, as Keras,
  // so it sees its layout; one acting value by value stays in the product's epilogue.
  bool after = first && ops::acts_per_row(spec_.activation);
  int y = emit(g, x, args, ys, {spec_.use_bias, after ? "" : spec_.activation});
  if (first) y = graph::to_channels_first(g, y, name());
  if (after) y = graph::activation(g, y, spec_.activation, name());
  out = {y};
  return true;
}

nlohmann::json ConvBase::get_config() const {
  using saving::tuple_to_json;
  const ConvSpec& s = spec_;
  auto c = LayerImpl::get_config();
  if (s.kind == Kind::kDepthwise || s.kind == Kind::kSeparable) c["depth_multiplier"] = s.depth_multiplier;
  if (s.kind != Kind::kDepthwise) c["filters"] = s.filters;
  c["kernel_size"] = tuple_to_json(s.kernel_size);
  c["strides"] = tuple_to_json(s.strides);
  c["padding"] = s.padding;
  if (s.kind == Kind::kTranspose)
    c["output_padding"] = s.output_padding ? tuple_to_json(*s.output_padding) : nlohmann::json(nullptr);
  c["data_format"] = s.data_format;
  c["dilation_rate"] = tuple_to_json(s.dilation_rate);
  if (s.kind == Kind::kConv) c["groups"] = s.groups;
  c["activation"] = s.activation.empty() ? "linear" : s.activation;
  c["use_bias"] = s.use_bias;
  std::vector<std::string> weights;
  if (s.kind == Kind::kConv || s.kind == Kind::kTranspose) {
    c["kernel_initializer"] = initializer_to_config(s.kernel_initializer);
    weights = {"kernel", "bias"};
  } else {
    c["depthwise_initializer"] = initializer_to_config(s.kernel_initializer);
    weights = {"depthwise", "bias"};
    if (s.kind == Kind::kSeparable) {
      c["pointwise_initializer"] = initializer_to_config(s.pointwise_initializer);
      weights.insert(weights.begin() + 1, "pointwise");
    }
  }
  c["bias_initializer"] = initializer_to_config(s.bias_initializer);
  for (const std::string& w : weights) {
    c[w + "_regularizer"] = rule_config(w + "_regularizer");
    c[w + "_constraint"] = rule_config(w + "_constraint");
  }
  c["activity_regularizer"] = rule_config("activity_regularizer");
  return c;
}

}  // namespace keras::layers::conv
