// GlobalAveragePooling1D/2D and GlobalMaxPooling1D/2D: a reduction over every spatial axis.
#include <limits>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/pooling.h"
#include "layers/from_config.h"
#include "layers/shape_checks.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

enum class Reduce { kMean, kMax };

class GlobalPoolingImpl : public LayerImpl {
 public:
  GlobalPoolingImpl(const GlobalPoolingOptions& o, Reduce reduce, int spatial, std::string class_name,
                    const std::string& prefix)
      : LayerImpl(o.name, prefix),
        data_format_(detail::standardize_data_format(o.data_format)),
        keepdims_(o.keepdims),
        reduce_(reduce),
        spatial_(spatial),
        class_name_(std::move(class_name)) {}
  std::string class_name() const override { return class_name_; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    detail::check_ndim(name(), in[0], spatial_ + 2);
    Dim channels = channels_first() ? in[0][1] : in[0][-1];
    Shape out{in[0][0]};
    if (channels_first()) out.push_back(channels);
    if (keepdims_)
      for (int i = 0; i < spatial_; ++i) out.push_back(1);
    if (!channels_first()) out.push_back(channels);
    return {out};
  }

  // Described once, as ops (lower()).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }

  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    int x = channels_first() ? graph::to_channels_last(g, in.at(0), name()) : in.at(0);
    const Shape& s = g.shape(x);
    Dim n = s[0], c = s[-1];
    if (n * c == 0) return false;
    Shape ys = compute_output_shape({g.shape(in[0])})[0];
    ops::Op op{.attrs = ops::GlobalPoolOp{n, s.num_elements() / (n * c), c, reduce_ == Reduce::kMax},
               .inputs = {s},
               .outputs = {Shape{n, c}},
               .layer = name()};
    std::vector<int> reads{x};
    // GlobalAveragePooling1D averages the unmasked steps (Keras's call(inputs, mask)); its
    // output has no mask. The other global poolings drop masks.
    if (int mask = g.input_mask(0); mask >= 0 && reduce_ == Reduce::kMean && spatial_ == 1) {
      if (g.shape(mask) != Shape{n, s[1]})
        throw ValueError("Layer \"" + name() + "\": a mask of shape " + g.shape(mask).str() +
                         " does not fit the steps of input " + g.shape(in[0]).str());
      std::get<ops::GlobalPoolOp>(op.attrs).masked = true;
      op.inputs.push_back(g.shape(mask));
      reads.push_back(mask);
    }
    out = {g.view(g.emit(std::move(op), reads)[0], ys)};
    return true;
  }

  // Mean: each cell gets dy / steps. Max: the first maximum gets dy (TensorFlow's rule).
  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["data_format"] = data_format_;
    c["keepdims"] = keepdims_;
    return c;
  }

 private:
  bool channels_first() const { return data_format_ == "channels_first"; }
  std::string data_format_;
  bool keepdims_;
  Reduce reduce_;
  int spatial_;
  std::string class_name_;
};

Layer make(const GlobalPoolingOptions& o, Reduce r, int spatial, const char* class_name, const char* prefix) {
  return Layer(std::make_shared<GlobalPoolingImpl>(o, r, spatial, class_name, prefix));
}

// Keras 1 had neither keepdims nor data_format on the 1-D layers (dim_ordering on 2-D).
GlobalPoolingOptions options_from(const nlohmann::json& c) {
  using namespace saving;
  return {.data_format = get_data_format(c), .keepdims = get_bool(c, "keepdims", false), .name = get_string(c, "name")};
}

Layer finish(Layer l, const nlohmann::json& c) {
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace

Layer GlobalAveragePooling1D(const GlobalPoolingOptions& o) {
  return make(o, Reduce::kMean, 1, "GlobalAveragePooling1D", "global_average_pooling1d");
}
Layer GlobalAveragePooling2D(const GlobalPoolingOptions& o) {
  return make(o, Reduce::kMean, 2, "GlobalAveragePooling2D", "global_average_pooling2d");
}
Layer GlobalMaxPooling1D(const GlobalPoolingOptions& o) {
  return make(o, Reduce::kMax, 1, "GlobalMaxPooling1D", "global_max_pooling1d");
}
Layer GlobalMaxPooling2D(const GlobalPoolingOptions& o) {
  return make(o, Reduce::kMax, 2, "GlobalMaxPooling2D", "global_max_pooling2d");
}

Layer global_average_pooling1d_from_config(const nlohmann::json& c, const ConfigContext&) {
  return finish(GlobalAveragePooling1D(options_from(c)), c);
}
Layer global_average_pooling2d_from_config(const nlohmann::json& c, const ConfigContext&) {
  return finish(GlobalAveragePooling2D(options_from(c)), c);
}
Layer global_max_pooling1d_from_config(const nlohmann::json& c, const ConfigContext&) {
  return finish(GlobalMaxPooling1D(options_from(c)), c);
}
Layer global_max_pooling2d_from_config(const nlohmann::json& c, const ConfigContext&) {
  return finish(GlobalMaxPooling2D(options_from(c)), c);
}

}  // namespace keras::layers
