// GaussianNoise, GaussianDropout and AlphaDropout (keras/src/layers/regularization/): identity
// at inference; in training, one DropoutOp of their kind with Keras's formulas (ops/dropout.h).
// Keras's random streams cannot be reproduced, so the noise is keras.cpp's own (seeded as
// Dropout's), with Keras's distributions.
#include <atomic>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "engine/random.h"
#include "keras/layers/regularization.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

using Kind = ops::DropoutOp::Kind;

struct NoiseSpec {
  Kind kind;
  double rate;  // the stddev for GaussianNoise
  std::vector<Dim> noise_shape;
  std::optional<int64_t> seed;
  std::string name;
};

const char* class_of(Kind k) {
  return k == Kind::kGaussianNoise ? "GaussianNoise" : k == Kind::kGaussianDropout ? "GaussianDropout" : "AlphaDropout";
}
const char* prefix_of(Kind k) {
  return k == Kind::kGaussianNoise     ? "gaussian_noise"
         : k == Kind::kGaussianDropout ? "gaussian_dropout"
                                       : "alpha_dropout";
}

class NoiseImpl : public LayerImpl {
 public:
  explicit NoiseImpl(NoiseSpec s) : LayerImpl(s.name, prefix_of(s.kind)), spec_(std::move(s)) {
    const char* arg = spec_.kind == Kind::kGaussianNoise ? "stddev" : "rate";
    if (!(spec_.rate >= 0 && spec_.rate <= 1))
      throw ValueError(std::string("Invalid value received for argument `") + arg +
                       "`. Expected a float value between 0 and 1. Received: " + arg + "=" +
                       std::to_string(spec_.rate));
  }
  std::string class_name() const override { return class_of(spec_.kind); }
  bool supports_masking() const override { return true; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    return in;
  }

  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    if (!g.training() || spec_.rate == 0) {
      out = {in.at(0)};
      return true;
    }
    const Shape x = g.shape(in.at(0));
    ops::DropoutOp op{.kind = spec_.kind, .rate = spec_.rate, .noise = noise_shape(x)};
    if (spec_.seed) op.seed = engine::mix_seed(static_cast<uint64_t>(*spec_.seed), engine::hash_name("noise seed"));
    out = {g.emit(ops::Op{.attrs = std::move(op), .inputs = {x}, .outputs = {x, x}, .layer = name()}, in)[0]};
    return true;
  }
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    if (!ctx.training || spec_.rate == 0) return {inputs.at(0)};
    CallContext c = ctx;
    if (spec_.seed && c.seed == 0) c.seed = calls_.fetch_add(1, std::memory_order_relaxed);
    return call_ops(inputs, c);
  }
  Gradients backward(const BackwardArgs& a) const override {
    if (a.saved.extra) return backward_ops(a);
    return {{a.output_grads.at(0)}, {}};  // an inference call: the identity
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c[spec_.kind == Kind::kGaussianNoise ? "stddev" : "rate"] = spec_.rate;
    c["seed"] = spec_.seed ? nlohmann::json(*spec_.seed) : nlohmann::json(nullptr);
    if (spec_.kind == Kind::kAlphaDropout) {
      nlohmann::json ns = nullptr;
      if (!spec_.noise_shape.empty()) {
        ns = nlohmann::json::array();
        for (Dim d : spec_.noise_shape) ns.push_back(d < 0 ? nlohmann::json(nullptr) : nlohmann::json(d));
      }
      c["noise_shape"] = ns;
    }
    return c;
  }

 private:
  Shape noise_shape(const Shape& in) const {
    if (spec_.noise_shape.empty()) return in;
    if (static_cast<int>(spec_.noise_shape.size()) != in.rank())
      fail("noise_shape has " + std::to_string(spec_.noise_shape.size()) + " axes; the input " + in.str() + " has " +
           std::to_string(in.rank()));
    std::vector<Dim> d = in.dims();
    for (size_t i = 0; i < d.size(); ++i) {
      Dim v = spec_.noise_shape[i];
      if (v >= 0 && v != 1 && v != d[i])
        fail("noise_shape " + Shape(spec_.noise_shape).str() + " does not broadcast to " + in.str());
      if (v >= 0) d[i] = v;
    }
    return Shape(d);
  }

  NoiseSpec spec_;
  mutable std::atomic<uint64_t> calls_{1};
};

Layer make(NoiseSpec s) { return Layer(std::make_shared<NoiseImpl>(std::move(s))); }

NoiseSpec spec_from_config(Kind kind, const nlohmann::json& c) {
  using namespace saving;
  NoiseSpec s{
      kind, get_double(c, kind == Kind::kGaussianNoise ? "stddev" : "rate", 0.0), {}, {}, get_string(c, "name")};
  if (c.contains("seed") && c["seed"].is_number_integer()) s.seed = c["seed"].get<int64_t>();
  if (c.contains("noise_shape") && c["noise_shape"].is_array())
    for (const auto& d : c["noise_shape"]) s.noise_shape.push_back(d.is_number_integer() ? d.get<Dim>() : None);
  return s;
}

Layer from_config(Kind kind, const nlohmann::json& c) {
  Layer l = make(spec_from_config(kind, c));
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace

Layer GaussianNoise(const GaussianNoiseOptions& o) {
  return make({Kind::kGaussianNoise, o.stddev, {}, o.seed, o.name});
}
Layer GaussianNoise(double stddev) { return GaussianNoise(GaussianNoiseOptions{.stddev = stddev}); }
Layer GaussianDropout(const GaussianDropoutOptions& o) {
  return make({Kind::kGaussianDropout, o.rate, {}, o.seed, o.name});
}
Layer GaussianDropout(double rate) { return GaussianDropout(GaussianDropoutOptions{.rate = rate}); }
Layer AlphaDropout(const AlphaDropoutOptions& o) {
  return make({Kind::kAlphaDropout, o.rate, o.noise_shape, o.seed, o.name});
}
Layer AlphaDropout(double rate) { return AlphaDropout(AlphaDropoutOptions{.rate = rate}); }

Layer gaussian_noise_from_config(const nlohmann::json& c, const ConfigContext&) {
  return from_config(Kind::kGaussianNoise, c);
}
Layer gaussian_dropout_from_config(const nlohmann::json& c, const ConfigContext&) {
  return from_config(Kind::kGaussianDropout, c);
}
Layer alpha_dropout_from_config(const nlohmann::json& c, const ConfigContext&) {
  return from_config(Kind::kAlphaDropout, c);
}

}  // namespace keras::layers
