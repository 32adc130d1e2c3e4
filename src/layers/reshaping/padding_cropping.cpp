// ZeroPadding1D/2D and Cropping1D/2D: a pad op and a crop op (ops/window.h).
#include <nlohmann/json.hpp>
#include <utility>

#include "engine/graph/lowering.h"
#include "keras/layers/reshaping.h"
#include "layers/from_config.h"
#include "layers/shape_checks.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

// One class for the four layers: `grow` is +1 for padding (sizes add) and -1 for cropping.
class PadCropImpl : public LayerImpl {
 public:
  struct Spec {
    std::string class_name, prefix, name, data_format;
    int spatial;         // 1 or 2
    int grow;            // +1 padding, -1 cropping
    IntPair rows, cols;  // (before, after) on each spatial axis; rows unused in 1-D
  };
  explicit PadCropImpl(Spec s) : LayerImpl(s.name, s.prefix), spec_(std::move(s)) {
    spec_.data_format = detail::standardize_data_format(spec_.data_format);
  }
  std::string class_name() const override { return spec_.class_name; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    detail::check_ndim(name(), in[0], spec_.spatial + 2);
    Shape out = in[0];
    int first = channels_first() ? 2 : 1;
    for (int a = 0; a < spec_.spatial; ++a) {
      const IntPair& p = axis(a);
      if (out[first + a] < 0) continue;
      if (spec_.grow < 0 && p.first + p.second >= out[first + a]) crop_error(in[0]);
      out[first + a] += spec_.grow * (p.first + p.second);
    }
    return {out};
  }

  // Described once, as ops: a pad or a crop op on the whole tensor, each the other's gradient.
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape& x = g.shape(in.at(0));
    Shape y = compute_output_shape({x})[0];
    std::vector<Dim> offset(static_cast<size_t>(x.rank()), 0);
    int first = channels_first() ? 2 : 1;
    for (int a = 0; a < spec_.spatial; ++a) offset[static_cast<size_t>(first + a)] = axis(a).first;
    ops::OpAttrs attrs = spec_.grow > 0 ? ops::OpAttrs{ops::PadOp{offset}} : ops::OpAttrs{ops::CropOp{offset}};
    out = {graph::emit1(g, std::move(attrs), {in[0]}, std::move(y), {}, name())};
    return true;
  }
  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    const char* key = spec_.grow > 0 ? "padding" : "cropping";
    c[key] = spec_.spatial == 2 ? detail::sides2d_to_json(Sides2D(spec_.rows, spec_.cols))
                                : nlohmann::json(spec_.cols.vec());
    if (spec_.class_name != "Cropping1D") c["data_format"] = spec_.data_format;
    return c;
  }

 private:
  bool channels_first() const { return spec_.data_format == "channels_first"; }
  const IntPair& axis(int a) const { return spec_.spatial == 2 && a == 0 ? spec_.rows : spec_.cols; }

  [[noreturn]] void crop_error(const Shape& in) const {
    if (spec_.spatial == 1)
      fail("`cropping` parameter of `Cropping1D` layer must be smaller than the input length. Received: input_shape=" +
           in.str() + ", cropping=" + spec_.cols.str());
    fail(
        "Values in `cropping` argument should be smaller than the corresponding spatial dimension of the input. "
        "Received: input_shape=" +
        in.str() + ", cropping=(" + spec_.rows.str() + ", " + spec_.cols.str() + ")");
  }

  Spec spec_;
};

Layer make(PadCropImpl::Spec s) { return Layer(std::make_shared<PadCropImpl>(std::move(s))); }

void check_sides(const Sides2D& s, const std::string& arg) {
  detail::check_tuple(s.rows.vec(), "1st entry of " + arg, true);
  detail::check_tuple(s.cols.vec(), "2nd entry of " + arg, true);
}

Layer finish(Layer l, const nlohmann::json& c) {
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace

Layer ZeroPadding1D(const ZeroPadding1DOptions& o) {
  detail::check_tuple(o.padding.vec(), "padding", true);
  return make({"ZeroPadding1D", "zero_padding1d", o.name, o.data_format, 1, +1, IntPair(0), o.padding});
}
Layer ZeroPadding1D(IntPair padding) { return ZeroPadding1D(ZeroPadding1DOptions{.padding = padding}); }

Layer ZeroPadding2D(const ZeroPadding2DOptions& o) {
  check_sides(o.padding, "padding");
  return make({"ZeroPadding2D", "zero_padding2d", o.name, o.data_format, 2, +1, o.padding.rows, o.padding.cols});
}
Layer ZeroPadding2D(Sides2D padding) { return ZeroPadding2D(ZeroPadding2DOptions{.padding = padding}); }

Layer Cropping1D(const Cropping1DOptions& o) {
  detail::check_tuple(o.cropping.vec(), "cropping", true);
  return make({"Cropping1D", "cropping1d", o.name, "channels_last", 1, -1, IntPair(0), o.cropping});
}
Layer Cropping1D(IntPair cropping) { return Cropping1D(Cropping1DOptions{.cropping = cropping}); }

Layer Cropping2D(const Cropping2DOptions& o) {
  check_sides(o.cropping, "cropping");
  return make({"Cropping2D", "cropping2d", o.name, o.data_format, 2, -1, o.cropping.rows, o.cropping.cols});
}
Layer Cropping2D(Sides2D cropping) { return Cropping2D(Cropping2DOptions{.cropping = cropping}); }

Layer zero_padding1d_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  ZeroPadding1DOptions o{.data_format = get_data_format(c), .name = get_string(c, "name")};
  if (c.contains("padding") && !c["padding"].is_null()) o.padding = detail::pair_from_json(c["padding"], "padding");
  return finish(ZeroPadding1D(o), c);
}

Layer zero_padding2d_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  ZeroPadding2DOptions o{.data_format = get_data_format(c), .name = get_string(c, "name")};
  if (c.contains("padding") && !c["padding"].is_null()) o.padding = detail::sides2d_from_json(c["padding"], "padding");
  return finish(ZeroPadding2D(o), c);
}

Layer cropping1d_from_config(const nlohmann::json& c, const ConfigContext&) {
  Cropping1DOptions o{.name = saving::get_string(c, "name")};
  if (c.contains("cropping") && !c["cropping"].is_null())
    o.cropping = detail::pair_from_json(c["cropping"], "cropping");
  return finish(Cropping1D(o), c);
}

Layer cropping2d_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  Cropping2DOptions o{.data_format = get_data_format(c), .name = get_string(c, "name")};
  if (c.contains("cropping") && !c["cropping"].is_null())
    o.cropping = detail::sides2d_from_json(c["cropping"], "cropping");
  return finish(Cropping2D(o), c);
}

}  // namespace keras::layers
