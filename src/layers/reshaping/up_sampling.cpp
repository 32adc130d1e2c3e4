// UpSampling1D (repeat steps) and UpSampling2D (nearest repeat or bilinear resize).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "keras/layers/reshaping.h"
#include "layers/from_config.h"
#include "layers/shape_checks.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

// Source taps of one output index for a half-pixel-centre linear resize by an integer factor:
// src = (o + 0.5) / factor - 0.5, clamped to the edge (what TF, JAX and PyTorch's
// align_corners=False all compute when upscaling).
struct Taps {
  Dim lo, hi;
  float w_hi;
};

Taps linear_taps(Dim o, Dim factor, Dim in) {
  double src = std::max((static_cast<double>(o) + 0.5) / static_cast<double>(factor) - 0.5, 0.0);
  auto lo = std::min(static_cast<Dim>(std::floor(src)), in - 1);
  return {lo, std::min(lo + 1, in - 1), static_cast<float>(src - static_cast<double>(lo))};
}

// rows x cols images of `channels` values per cell, `batch` of them, resized by integer factors.
void resize(const float* x, float* y, Dim batch, Dim rows, Dim cols, Dim channels, Dim fy, Dim fx, bool bilinear) {
  Dim out_rows = rows * fy, out_cols = cols * fx;
  for (Dim b = 0; b < batch; ++b) {
    const float* img = x + b * rows * cols * channels;
    for (Dim i = 0; i < out_rows; ++i)
      for (Dim j = 0; j < out_cols; ++j) {
        float* out = y + ((b * out_rows + i) * out_cols + j) * channels;
        if (!bilinear) {
          std::copy_n(img + ((i / fy) * cols + j / fx) * channels, channels, out);
          continue;
        }
        Taps r = linear_taps(i, fy, rows), c = linear_taps(j, fx, cols);
        for (Dim ch = 0; ch < channels; ++ch) {
          auto at = [&](Dim ri, Dim ci) { return img[(ri * cols + ci) * channels + ch]; };
          float top = at(r.lo, c.lo) + c.w_hi * (at(r.lo, c.hi) - at(r.lo, c.lo));
          float bottom = at(r.hi, c.lo) + c.w_hi * (at(r.hi, c.hi) - at(r.hi, c.lo));
          out[ch] = top + r.w_hi * (bottom - top);
        }
      }
  }
}

// The adjoint of resize(): each output cell's gradient goes back to the cells it read, with
// the weights it read them with. dx must start zero.
void resize_backward(const float* dy, float* dx, Dim batch, Dim rows, Dim cols, Dim channels, Dim fy, Dim fx,
                     bool bilinear) {
  Dim out_rows = rows * fy, out_cols = cols * fx;
  for (Dim b = 0; b < batch; ++b) {
    float* img = dx + b * rows * cols * channels;
    for (Dim i = 0; i < out_rows; ++i)
      for (Dim j = 0; j < out_cols; ++j) {
        const float* grad = dy + ((b * out_rows + i) * out_cols + j) * channels;
        auto add = [&](Dim ri, Dim ci, float w) {
          float* cell = img + (ri * cols + ci) * channels;
          for (Dim ch = 0; ch < channels; ++ch) cell[ch] += w * grad[ch];
        };
        if (!bilinear) {
          add(i / fy, j / fx, 1.0f);
          continue;
        }
        Taps r = linear_taps(i, fy, rows), c = linear_taps(j, fx, cols);
        add(r.lo, c.lo, (1 - r.w_hi) * (1 - c.w_hi));
        add(r.lo, c.hi, (1 - r.w_hi) * c.w_hi);
        add(r.hi, c.lo, r.w_hi * (1 - c.w_hi));
        add(r.hi, c.hi, r.w_hi * c.w_hi);
      }
  }
}

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

  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext&) const override {
    const Tensor& x = inputs.at(0);
    Tensor y(compute_output_shape({x.shape()})[0]);
    Geometry g = geometry(x.shape());
    resize(x.data(), y.data(), g.batch, g.rows, g.cols, g.channels, g.fy, g.fx, bilinear());
    return {std::move(y)};
  }

  Gradients backward(const BackwardArgs& args) const override {
    Tensor dx(args.inputs.at(0).shape());
    Geometry g = geometry(dx.shape());
    resize_backward(args.output_grads.at(0).data(), dx.data(), g.batch, g.rows, g.cols, g.channels, g.fy, g.fx,
                    bilinear());
    Gradients grads;
    grads.inputs.push_back(std::move(dx));
    return grads;
  }

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
  struct Geometry {
    Dim batch, rows, cols, channels, fy, fx;
  };
  // channels_first images are (batch*channels) single-channel images: no transpose needed.
  Geometry geometry(const Shape& s) const {
    bool cf = channels_first();
    return {.batch = cf ? s[0] * s[1] : s[0],
            .rows = spec_.spatial == 2 ? s[cf ? 2 : 1] : 1,
            .cols = s[cf ? -1 : -2],
            .channels = cf ? 1 : s[-1],
            .fy = spec_.spatial == 2 ? factor(0) : 1,
            .fx = factor(spec_.spatial - 1)};
  }
  bool bilinear() const { return spec_.interpolation == "bilinear"; }
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
