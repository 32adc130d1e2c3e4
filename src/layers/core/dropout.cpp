#include <nlohmann/json.hpp>
#include <random>

#include "engine/random.h"
#include "keras/layers/core.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class DropoutImpl : public LayerImpl {
 public:
  explicit DropoutImpl(const DropoutOptions& o) : LayerImpl(o.name, "dropout"), options_(o) {
    if (!(o.rate >= 0 && o.rate <= 1))
      throw ValueError("Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                       "Received: rate=" + std::to_string(o.rate));
  }
  std::string class_name() const override { return "Dropout"; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    return in;
  }
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    if (!ctx.training || options_.rate == 0) return {inputs.at(0)};
    // Inverted dropout: kept values scaled by 1/(1-rate) so the expectation is unchanged.
    Tensor mask = draw_mask(inputs.at(0).shape(), engine::layer_seed(ctx.seed, name()));
    Tensor y = inputs.at(0);
    for (Dim i = 0; i < y.size(); ++i) y[i] *= mask[i];
    if (ctx.saved) ctx.saved->tensors = {std::move(mask)};
    return {std::move(y)};
  }

  // y = x * mask: the same mask scales the gradient (identity when no mask was drawn).
  Gradients backward(const BackwardArgs& a) const override {
    Tensor g = a.output_grads.at(0);
    if (!a.saved.tensors.empty()) {
      const Tensor& mask = a.saved.tensors[0];
      for (Dim i = 0; i < g.size(); ++i) g[i] *= mask[i];
    }
    return {{std::move(g)}, {}};
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["rate"] = options_.rate;
    c["seed"] = options_.seed ? nlohmann::json(*options_.seed) : nlohmann::json(nullptr);
    c["noise_shape"] = nullptr;
    return c;
  }

 private:
  // 0 or 1/(1-rate) per element, from a generator of its own (engine::layer_seed), so
  // concurrent calls stay independent and a resumed fit() draws the masks it drew before.
  Tensor draw_mask(const Shape& shape, uint64_t seed) const {
    Tensor mask(shape);
    if (options_.rate >= 1) return mask;
    std::mt19937_64 rng(seed);
    std::bernoulli_distribution keep(1.0 - options_.rate);
    float scale = static_cast<float>(1.0 / (1.0 - options_.rate));
    for (float& m : mask.values()) m = keep(rng) ? scale : 0.0f;
    return mask;
  }

  DropoutOptions options_;
};

}  // namespace

Layer Dropout(const DropoutOptions& options) { return Layer(std::make_shared<DropoutImpl>(options)); }
Layer Dropout(double rate) { return Dropout(DropoutOptions{.rate = rate}); }

Layer dropout_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  DropoutOptions o{.rate = get_double(c, "rate", get_double(c, "p", 0.0)), .seed = {}, .name = get_string(c, "name")};
  if (c.contains("seed") && c["seed"].is_number_integer()) o.seed = c["seed"].get<int64_t>();
  Layer l = Dropout(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
