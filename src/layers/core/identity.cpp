// Keras's Identity (keras/src/layers/core/identity.py).
#include <nlohmann/json.hpp>

#include "keras/layers/core.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class IdentityImpl : public LayerImpl {
 public:
  explicit IdentityImpl(const std::string& name) : LayerImpl(name, "identity") {}
  std::string class_name() const override { return "Identity"; }
  bool supports_masking() const override { return true; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    return in;
  }
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext&) const override {
    return {inputs.at(0)};
  }
  bool lower(graph::Lowering&, const std::vector<int>& in, std::vector<int>& out) const override {
    out = {in.at(0)};
    return true;
  }
  Gradients backward(const BackwardArgs& a) const override { return {{a.output_grads.at(0)}, {}}; }
};

}  // namespace

Layer Identity(const std::string& name) { return Layer(std::make_shared<IdentityImpl>(name)); }

Layer identity_from_config(const nlohmann::json& c, const ConfigContext&) {
  Layer l = Identity(saving::get_string(c, "name"));
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
