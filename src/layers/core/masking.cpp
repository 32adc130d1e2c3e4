#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/core.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

// Keras's Masking: a step whose features all equal mask_value is masked (its mask 0) and
// zeroed; the mask rides along to the layers after it.
class MaskingImpl : public LayerImpl {
 public:
  explicit MaskingImpl(const MaskingOptions& o) : LayerImpl(o.name, "masking"), mask_value_(o.mask_value) {}
  std::string class_name() const override { return "Masking"; }
  bool supports_masking() const override { return true; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    if (in[0].rank() < 2) fail("expects inputs of rank >= 2 (a mask per step), received " + in[0].str());
    return in;
  }
  // Described once, as ops (lower()).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    compute_output_shape({g.shape(in.at(0))});
    // any(x != mask_value, axis=-1); the output is x times it.
    int mask = graph::mask_where_not(g, in[0], mask_value_, 1, name());
    out = {graph::apply_mask(g, in[0], mask, name())};
    g.set_output_masks({mask});
    return true;
  }
  Gradients backward(const BackwardArgs& a) const override { return backward_ops(a); }
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["mask_value"] = mask_value_;
    return c;
  }

 private:
  double mask_value_;
};

}  // namespace

Layer Masking(const MaskingOptions& options) { return Layer(std::make_shared<MaskingImpl>(options)); }
Layer Masking(double mask_value) { return Masking(MaskingOptions{.mask_value = mask_value}); }

Layer masking_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  Layer l = Masking(MaskingOptions{.mask_value = get_double(c, "mask_value", 0.0), .name = get_string(c, "name")});
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
