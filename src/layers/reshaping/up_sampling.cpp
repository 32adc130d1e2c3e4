// UpSampling1D (repeat steps) and UpSampling2D (nearest repeat or bilinear resize).
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/reshaping.h"
#include "layers/from_config.h"
#include "layers/shape_checks.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class UpSamplingImpl : public LayerImpl {
 public:
  struct Spec {
    std::string class_name, prefix, name, data_format, interpolation;
    int spatial;  // 1 or 2
    IntPair size;
  };
  explicit UpSamplingImpl(Spec s) : LayerImpl(s.name, s.prefix), spec_(std::move(s)) {
    spec_.data_format = detail::standardize_data_format(spec_.data_format);
    std::transform(spec_.interpolation.begin(), spec_.interpolation.end(), spec_.interpolation.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    const std::string& i = spec_.interpolation;
    if (i == "bicubic" || i == "lanczos3" || i == "lanczos5" || i == "area")
      throw ValueError("UpSampling2D interpolation=\"" + i +
                       "\" is not supported by keras.cpp; supported: "
                       "\"nearest\", \"bilinear\".");
    if (i != "nearest" && i != "bilinear")
      throw ValueError(
          "Invalid value for argument `interpolation`. Expected of one ('bilinear', 'nearest', "
          "'lanczos3', 'lanczos5', 'bicubic', 'area'). Received: interpolation=" +
          i);
  }
  std::string class_name() const override { return spec_.class_name; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    detail::check_ndim(name(), in[0], spec_.spatial + 2);
    Shape out = in[0];
    int first = channels_first() ? 2 : 1;
    for (int a = 0; a < spec_.spatial; ++a)
      if (out[first + a] >= 0) out[first + a] *= factor(a);
    return {out};
  }

  // Described once, as ops: a resize op (ops/resize.h).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape& x = g.shape(in.at(0));
    out = {graph::emit1(g, ops::ResizeOp{geometry(x)}, {in[0]}, compute_output_shape({x})[0], {}, name())};
    return true;
  }
  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    if (spec_.spatial == 1) {
      c["size"] = spec_.size.second;
    } else {
      c["size"] = spec_.size.vec();
      c["data_format"] = spec_.data_format;
      c["interpolation"] = spec_.interpolation;
    }
    return c;
  }

 private:
  // channels_first images are (batch*channels) single-channel images: no transpose needed.
  ops::ResizeArgs geometry(const Shape& s) const {
    bool cf = channels_first();
    return {.batch = cf ? s[0] * s[1] : s[0],
            .rows = spec_.spatial == 2 ? s[cf ? 2 : 1] : 1,
            .cols = s[cf ? -1 : -2],
            .channels = cf ? 1 : s[-1],
            .fy = spec_.spatial == 2 ? factor(0) : 1,
            .fx = factor(spec_.spatial - 1),
            .bilinear = spec_.interpolation == "bilinear"};
  }
  bool channels_first() const { return spec_.data_format == "channels_first"; }
  Dim factor(int a) const { return spec_.spatial == 2 && a == 0 ? spec_.size.first : spec_.size.second; }
  Spec spec_;
};

Layer finish(Layer l, const nlohmann::json& c) {
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace

Layer UpSampling1D(const UpSampling1DOptions& o) {
  if (o.size <= 0)
    throw ValueError("Argument `size` should be a positive integer. Received: size=" + std::to_string(o.size));
  UpSamplingImpl::Spec s{"UpSampling1D", "up_sampling1d", o.name, "channels_last", "nearest", 1, IntPair(1, o.size)};
  return Layer(std::make_shared<UpSamplingImpl>(std::move(s)));
}
Layer UpSampling1D(Dim size) { return UpSampling1D(UpSampling1DOptions{.size = size}); }

Layer UpSampling2D(const UpSampling2DOptions& o) {
  detail::check_tuple(o.size.vec(), "size", false);
  UpSamplingImpl::Spec s{"UpSampling2D", "up_sampling2d", o.name, o.data_format, o.interpolation, 2, o.size};
  return Layer(std::make_shared<UpSamplingImpl>(std::move(s)));
}
Layer UpSampling2D(IntPair size) { return UpSampling2D(UpSampling2DOptions{.size = size}); }

// Keras 1 called the 1-D factor `length`.
Layer up_sampling1d_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  Dim size = get_ints(c, "size", 1, {get_int(c, "length", 2)})[0];
  return finish(UpSampling1D({.size = size, .name = get_string(c, "name")}), c);
}

Layer up_sampling2d_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  auto size = get_ints(c, "size", 2, {2, 2});
  return finish(UpSampling2D({.size = IntPair(size[0], size[1]),
                              .data_format = get_data_format(c),
                              .interpolation = get_string(c, "interpolation", "nearest"),
                              .name = get_string(c, "name")}),
                c);
}

}  // namespace keras::layers
