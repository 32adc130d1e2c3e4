// ZeroPadding1D/2D and Cropping1D/2D. Both copy a shifted window of the input: padding
// shifts it into a larger zero tensor, cropping shifts a smaller window out of the input.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "keras/layers/reshaping.h"
#include "layers/from_config.h"
#include "layers/shape_checks.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

// (batch, rows, cols, channels) view of a tensor. channels_first data is viewed as
// (batch*channels, rows, cols, 1) so neither layer needs to transpose; 1-D data has rows=1.
struct View {
  Dim batch, rows, cols, channels;
};

View view_of(const Shape& s, int spatial, bool channels_first) {
  Dim rows = spatial == 2 ? s[channels_first ? 2 : 1] : 1;
  Dim cols = s[-1 - (channels_first ? 0 : 1)];
  return channels_first ? View{s[0] * s[1], rows, cols, 1} : View{s[0], rows, cols, s[-1]};
}

// dst[b, i, j, :] = src[b, i - dy, j - dx, :] wherever that source cell exists; dst starts zero.
void shifted_copy(const float* src, const View& s, float* dst, const View& d, Dim dy, Dim dx) {
  Dim i0 = std::max<Dim>(dy, 0), i1 = std::min(d.rows, s.rows + dy);
  Dim j0 = std::max<Dim>(dx, 0), j1 = std::min(d.cols, s.cols + dx);
  if (i1 <= i0 || j1 <= j0) return;
  Dim run = (j1 - j0) * d.channels;
  for (Dim b = 0; b < d.batch; ++b)
    for (Dim i = i0; i < i1; ++i)
      std::copy_n(src + ((b * s.rows + i - dy) * s.cols + j0 - dx) * s.channels, run,
                  dst + ((b * d.rows + i) * d.cols + j0) * d.channels);
}

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

  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext&) const override {
    const Tensor& x = inputs.at(0);
    Tensor y(compute_output_shape({x.shape()})[0]);
    auto [dy, dx] = shift();
    shifted_copy(x.data(), view(x.shape()), y.data(), view(y.shape()), dy, dx);
    return {std::move(y)};
  }

  // Every output cell is one input cell or zero: the gradient is the copy shifted back.
  Gradients backward(const BackwardArgs& args) const override {
    const Tensor& grad = args.output_grads.at(0);
    Tensor dx(args.inputs.at(0).shape());
    auto [row_shift, col_shift] = shift();
    shifted_copy(grad.data(), view(grad.shape()), dx.data(), view(dx.shape()), -row_shift, -col_shift);
    Gradients g;
    g.inputs.push_back(std::move(dx));
    return g;
  }

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
  View view(const Shape& s) const { return view_of(s, spec_.spatial, channels_first()); }
  // Where the input's cell (0, 0) lands in the output: (rows, cols).
  std::pair<Dim, Dim> shift() const {
    return {spec_.spatial == 2 ? spec_.grow * spec_.rows.first : 0, spec_.grow * axis(spec_.spatial - 1).first};
  }
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
