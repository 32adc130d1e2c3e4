// Dropout and SpatialDropout1D/2D/3D (keras/src/layers/regularization/): identity at
// inference; in training, inverted dropout with a mask of the noise shape broadcast over the
// input (the spatial variants keep or drop whole feature maps).
#include <atomic>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "engine/random.h"
#include "keras/layers/core.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

// Which flavour: the noise shape each derives from the input's rank and data_format.
enum class Kind { Dropout, Spatial1D, Spatial2D, Spatial3D };

class DropoutImpl : public LayerImpl {
 public:
  DropoutImpl(Kind kind, const DropoutOptions& o, std::string data_format = "channels_last")
      : LayerImpl(o.name, default_name(kind)), kind_(kind), options_(o), data_format_(std::move(data_format)) {
    if (!(o.rate >= 0 && o.rate <= 1))
      throw ValueError(
          "Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
          "Received: rate=" +
          std::to_string(o.rate));
    if (data_format_ != "channels_last" && data_format_ != "channels_first")
      throw ValueError("The `data_format` argument must be one of \"channels_first\", \"channels_last\". Received: " +
                       data_format_);
  }
  bool supports_masking() const override { return true; }
  std::string class_name() const override {
    switch (kind_) {
      case Kind::Spatial1D:
        return "SpatialDropout1D";
      case Kind::Spatial2D:
        return "SpatialDropout2D";
      case Kind::Spatial3D:
        return "SpatialDropout3D";
      default:
        return "Dropout";
    }
  }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    if (int rank = spatial_rank(); rank > 0 && in[0].rank() != rank)
      throw ValueError("Input 0 of layer \"" + name() +
                       "\" is incompatible with the layer: expected ndim=" + std::to_string(rank) +
                       ", found ndim=" + std::to_string(in[0].rank()) + ". Full shape received: " + in[0].str());
    return in;
  }
  // At inference a dropout passes its input through.
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    if (!g.training() || options_.rate == 0) {
      out = {in.at(0)};
      return true;
    }
    const Shape& x = g.shape(in.at(0));
    ops::DropoutOp op{.rate = options_.rate, .noise = noise_shape(x)};
    if (options_.seed) op.seed = seed_base();
    out = {g.emit(ops::Op{.attrs = std::move(op), .inputs = {x}, .outputs = {x, x}, .layer = name()}, in)[0]};
    return true;
  }
  // In training, the lowering's DropoutOp (a layer with a seed of its own counts its calls
  // outside fit(), as Keras's SeedGenerator); its gradient scales by the same mask.
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    if (!ctx.training || options_.rate == 0) return {inputs.at(0)};
    CallContext c = ctx;
    if (options_.seed && c.seed == 0) c.seed = calls_.fetch_add(1, std::memory_order_relaxed);
    return call_ops(inputs, c);
  }
  Gradients backward(const BackwardArgs& a) const override {
    if (a.saved.extra) return backward_ops(a);
    return {{a.output_grads.at(0)}, {}};  // an inference call: the identity
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["rate"] = options_.rate;
    c["seed"] = options_.seed ? nlohmann::json(*options_.seed) : nlohmann::json(nullptr);
    if (kind_ == Kind::Dropout) {
      nlohmann::json ns = nullptr;
      if (!options_.noise_shape.empty()) {
        ns = nlohmann::json::array();
        for (Dim d : options_.noise_shape) ns.push_back(d < 0 ? nlohmann::json(nullptr) : nlohmann::json(d));
      }
      c["noise_shape"] = ns;
    }
    if (kind_ == Kind::Spatial2D || kind_ == Kind::Spatial3D) c["data_format"] = data_format_;
    return c;
  }

 private:
  static std::string default_name(Kind k) {
    switch (k) {
      case Kind::Spatial1D:
        return "spatial_dropout1d";
      case Kind::Spatial2D:
        return "spatial_dropout2d";
      case Kind::Spatial3D:
        return "spatial_dropout3d";
      default:
        return "dropout";
    }
  }
  int spatial_rank() const { return kind_ == Kind::Dropout ? 0 : static_cast<int>(kind_) + 2; }

  // The mask's shape for this input: every axis the mask does not vary along is 1.
  Shape noise_shape(const Shape& in) const {
    std::vector<Dim> dims = in.dims();
    if (kind_ == Kind::Dropout) {
      if (options_.noise_shape.empty()) return in;
      if (options_.noise_shape.size() != dims.size())
        throw ValueError("Layer \"" + name() + "\": noise_shape has " + std::to_string(options_.noise_shape.size()) +
                         " entries, but the input " + in.str() + " has rank " + std::to_string(in.rank()));
      for (size_t i = 0; i < dims.size(); ++i)
        if (options_.noise_shape[i] >= 0) dims[i] = options_.noise_shape[i];
    } else {
      // (batch, 1, ..., 1, channels), or (batch, channels, 1, ..., 1) for channels_first.
      size_t channel = data_format_ == "channels_first" && kind_ != Kind::Spatial1D ? 1 : dims.size() - 1;
      for (size_t i = 1; i < dims.size(); ++i)
        if (i != channel) dims[i] = 1;
    }
    for (size_t i = 0; i < dims.size(); ++i)
      if (dims[i] != 1 && dims[i] != in[static_cast<int>(i)])
        throw ValueError("Layer \"" + name() + "\": noise_shape " + Shape(dims).str() +
                         " does not broadcast to the input shape " + in.str());
    return Shape(dims);
  }

  uint64_t seed_base() const {
    return engine::mix_seed(static_cast<uint64_t>(*options_.seed), engine::hash_name("dropout seed"));
  }

  Kind kind_;
  DropoutOptions options_;
  mutable std::atomic<uint64_t> calls_{0};
  std::string data_format_;
};

Layer spatial(Kind kind, const SpatialDropoutOptions& o) {
  return Layer(std::make_shared<DropoutImpl>(kind, DropoutOptions{.rate = o.rate, .seed = o.seed, .name = o.name},
                                             o.data_format));
}

DropoutOptions common_options(const nlohmann::json& c) {
  using namespace saving;
  DropoutOptions o{.rate = get_double(c, "rate", get_double(c, "p", 0.0)), .seed = {}, .name = get_string(c, "name")};
  if (c.contains("seed") && c["seed"].is_number_integer()) o.seed = c["seed"].get<int64_t>();
  return o;
}

Layer with_trainable(Layer l, const nlohmann::json& c) {
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

Layer spatial_from_config(Kind kind, const nlohmann::json& c) {
  DropoutOptions d = common_options(c);
  SpatialDropoutOptions o{.rate = d.rate, .seed = d.seed, .name = d.name};
  if (kind != Kind::Spatial1D) o.data_format = saving::get_data_format(c);
  return with_trainable(spatial(kind, o), c);
}

}  // namespace

Layer Dropout(const DropoutOptions& options) { return Layer(std::make_shared<DropoutImpl>(Kind::Dropout, options)); }
Layer Dropout(double rate) { return Dropout(DropoutOptions{.rate = rate}); }
Layer SpatialDropout1D(const SpatialDropoutOptions& o) { return spatial(Kind::Spatial1D, o); }
Layer SpatialDropout1D(double rate) { return SpatialDropout1D(SpatialDropoutOptions{.rate = rate}); }
Layer SpatialDropout2D(const SpatialDropoutOptions& o) { return spatial(Kind::Spatial2D, o); }
Layer SpatialDropout2D(double rate) { return SpatialDropout2D(SpatialDropoutOptions{.rate = rate}); }
Layer SpatialDropout3D(const SpatialDropoutOptions& o) { return spatial(Kind::Spatial3D, o); }
Layer SpatialDropout3D(double rate) { return SpatialDropout3D(SpatialDropoutOptions{.rate = rate}); }

Layer dropout_from_config(const nlohmann::json& c, const ConfigContext&) {
  DropoutOptions o = common_options(c);
  if (c.contains("noise_shape") && c["noise_shape"].is_array())
    for (const auto& d : c["noise_shape"]) o.noise_shape.push_back(d.is_number_integer() ? d.get<Dim>() : None);
  return with_trainable(Dropout(o), c);
}
Layer spatial_dropout1d_from_config(const nlohmann::json& c, const ConfigContext&) {
  return spatial_from_config(Kind::Spatial1D, c);
}
Layer spatial_dropout2d_from_config(const nlohmann::json& c, const ConfigContext&) {
  return spatial_from_config(Kind::Spatial2D, c);
}
Layer spatial_dropout3d_from_config(const nlohmann::json& c, const ConfigContext&) {
  return spatial_from_config(Kind::Spatial3D, c);
}

}  // namespace keras::layers
