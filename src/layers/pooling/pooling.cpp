// MaxPooling1D/2D and AveragePooling1D/2D: one implementation; 1-D pools are 2-D pools of
// height 1 so both run on the same kernels.
#include "keras/layers/pooling.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "layers/from_config.h"
#include "layers/shape_checks.h"
#include "ops/kernels.h"
#include "ops/transpose.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

enum class PoolMode { kMax, kAverage };

struct PoolSpec {
  PoolMode mode = PoolMode::kMax;
  std::vector<Dim> pool_size, strides;  // one entry per spatial axis
  std::string padding, data_format, name;
};

std::string to_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class PoolingImpl : public LayerImpl {
 public:
  PoolingImpl(PoolSpec spec, std::string class_name, const std::string& prefix)
      : LayerImpl(spec.name, prefix), spec_(std::move(spec)), class_name_(std::move(class_name)) {
    spec_.padding = to_lower(spec_.padding);
    spec_.data_format = detail::standardize_data_format(spec_.data_format);
    detail::check_tuple(spec_.pool_size, "pool_size", false);
    detail::check_tuple(spec_.strides, "strides", false);
    if (spec_.padding != "valid" && spec_.padding != "same")
      throw ValueError("Argument `padding` must be either 'valid' or 'same'. Received: padding=" + spec_.padding);
  }
  std::string class_name() const override { return class_name_; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    detail::check_ndim(name(), in[0], rank());
    Shape s = channels_first() ? ops::to_channels_last(in[0]) : in[0];
    for (int i = 0; i < spatial(); ++i) {
      Dim len = s[1 + i];
      if (len < 0) continue;  // unknown stays unknown
      if (spec_.padding == "valid" && len < spec_.pool_size[i])
        throw ValueError("Computed output size would be zero or negative. Received: `inputs.shape=" + in[0].str() +
                         "`, `pool_size=" + detail::tuple_str(spec_.pool_size) +
                         "`, `strides=" + detail::tuple_str(spec_.strides) + "`, `padding=" + spec_.padding + "`.");
      s[1 + i] = axis_padding(len, i).out;
    }
    return {channels_first() ? ops::to_channels_first(s) : s};
  }

  // Described once, as ops (lower()).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }

  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    Shape ys = compute_output_shape({g.shape(in.at(0))})[0];
    if (ys.num_elements() == 0) return false;
    int x = channels_first() ? graph::to_channels_last(g, in[0], name()) : in[0];
    if (channels_first()) ys = ops::to_channels_last(ys);
    auto mode = spec_.mode == PoolMode::kMax ? ops::Pool2DOp::Mode::kMax : ops::Pool2DOp::Mode::kAverage;
    ops::Op op{.attrs = ops::Pool2DOp{kernel_args(g.shape(x)), mode},
               .inputs = {g.shape(x)},
               .outputs = {ys},
               .layer = name()};
    int y = g.emit(std::move(op), {x})[0];
    out = {channels_first() ? graph::to_channels_first(g, y, name()) : y};
    return true;
  }

  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["pool_size"] = spec_.pool_size;
    c["padding"] = spec_.padding;
    c["strides"] = spec_.strides;
    c["data_format"] = spec_.data_format;
    return c;
  }

 private:
  // The kernels' geometry for a channels-last input shape. A 1-D pool is a 2-D pool of
  // height 1: (N, steps, C) is (N, 1, steps, C).
  ops::Pool2DArgs kernel_args(const Shape& x) const {
    bool one_d = spatial() == 1;
    ops::Pool2DArgs a;
    a.batch = x[0];
    a.channels = x[-1];
    a.in_h = one_d ? 1 : x[1];
    a.in_w = x[-2];
    a.pool_h = one_d ? 1 : spec_.pool_size[0];
    a.stride_h = one_d ? 1 : spec_.strides[0];
    a.pool_w = spec_.pool_size.back();
    a.stride_w = spec_.strides.back();
    auto rows = ops::conv_padding(a.in_h, a.pool_h, a.stride_h, 1, spec_.padding);
    auto cols = ops::conv_padding(a.in_w, a.pool_w, a.stride_w, 1, spec_.padding);
    a.out_h = rows.out;
    a.pad_top = rows.pad_before;
    a.out_w = cols.out;
    a.pad_left = cols.pad_before;
    return a;
  }
  int spatial() const { return static_cast<int>(spec_.pool_size.size()); }
  int rank() const { return spatial() + 2; }
  bool channels_first() const { return spec_.data_format == "channels_first"; }
  ops::Padding1D axis_padding(Dim len, int axis) const {
    auto i = static_cast<size_t>(axis);
    return ops::conv_padding(len, spec_.pool_size[i], spec_.strides[i], 1, spec_.padding);
  }

  PoolSpec spec_;
  std::string class_name_;
};

Layer make_pool1d(PoolMode mode, const Pooling1DOptions& o, const char* class_name, const char* prefix) {
  PoolSpec s{mode, {o.pool_size}, {o.strides.value_or(o.pool_size)}, o.padding, o.data_format, o.name};
  return Layer(std::make_shared<PoolingImpl>(std::move(s), class_name, prefix));
}

Layer make_pool2d(PoolMode mode, const Pooling2DOptions& o, const char* class_name, const char* prefix) {
  PoolSpec s{mode, o.pool_size.vec(), o.strides.value_or(o.pool_size).vec(), o.padding, o.data_format, o.name};
  return Layer(std::make_shared<PoolingImpl>(std::move(s), class_name, prefix));
}

// Keras 1 spelled the 1-D arguments pool_length/stride and padding border_mode.
Pooling1DOptions pool1d_options(const nlohmann::json& c) {
  using namespace saving;
  Pooling1DOptions o;
  o.name = get_string(c, "name");
  o.pool_size = get_ints(c, "pool_size", 1, {get_int(c, "pool_length", 2)})[0];
  auto strides = get_ints(c, "strides", 1, {get_int(c, "stride", -1)});
  if (strides[0] >= 0) o.strides = strides[0];
  o.padding = get_string(c, "padding", get_string(c, "border_mode", "valid"));
  o.data_format = get_data_format(c);
  return o;
}

Pooling2DOptions pool2d_options(const nlohmann::json& c) {
  using namespace saving;
  Pooling2DOptions o;
  o.name = get_string(c, "name");
  auto pool = get_ints(c, "pool_size", 2, {2, 2});
  o.pool_size = IntPair(pool[0], pool[1]);
  auto strides = get_ints(c, "strides", 2, {});
  if (!strides.empty()) o.strides = IntPair(strides[0], strides[1]);
  o.padding = get_string(c, "padding", get_string(c, "border_mode", "valid"));
  o.data_format = get_data_format(c);
  return o;
}

Layer finish(Layer l, const nlohmann::json& c) {
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace

Layer MaxPooling1D(const Pooling1DOptions& o) {
  return make_pool1d(PoolMode::kMax, o, "MaxPooling1D", "max_pooling1d");
}
Layer MaxPooling1D(Dim pool_size, std::optional<Dim> strides, const std::string& padding) {
  return MaxPooling1D(Pooling1DOptions{.pool_size = pool_size, .strides = strides, .padding = padding});
}
Layer AveragePooling1D(const Pooling1DOptions& o) {
  return make_pool1d(PoolMode::kAverage, o, "AveragePooling1D", "average_pooling1d");
}
Layer AveragePooling1D(Dim pool_size, std::optional<Dim> strides, const std::string& padding) {
  return AveragePooling1D(Pooling1DOptions{.pool_size = pool_size, .strides = strides, .padding = padding});
}
Layer MaxPooling2D(const Pooling2DOptions& o) {
  return make_pool2d(PoolMode::kMax, o, "MaxPooling2D", "max_pooling2d");
}
Layer MaxPooling2D(IntPair pool_size, std::optional<IntPair> strides, const std::string& padding) {
  return MaxPooling2D(Pooling2DOptions{.pool_size = pool_size, .strides = strides, .padding = padding});
}
Layer AveragePooling2D(const Pooling2DOptions& o) {
  return make_pool2d(PoolMode::kAverage, o, "AveragePooling2D", "average_pooling2d");
}
Layer AveragePooling2D(IntPair pool_size, std::optional<IntPair> strides, const std::string& padding) {
  return AveragePooling2D(Pooling2DOptions{.pool_size = pool_size, .strides = strides, .padding = padding});
}

Layer max_pooling1d_from_config(const nlohmann::json& c, const ConfigContext&) {
  return finish(MaxPooling1D(pool1d_options(c)), c);
}
Layer average_pooling1d_from_config(const nlohmann::json& c, const ConfigContext&) {
  return finish(AveragePooling1D(pool1d_options(c)), c);
}
Layer max_pooling2d_from_config(const nlohmann::json& c, const ConfigContext&) {
  return finish(MaxPooling2D(pool2d_options(c)), c);
}
Layer average_pooling2d_from_config(const nlohmann::json& c, const ConfigContext&) {
  return finish(AveragePooling2D(pool2d_options(c)), c);
}

}  // namespace keras::layers
