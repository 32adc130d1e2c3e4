#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/core.h"
#include "layers/core/input_layer.h"
#include "layers/from_config.h"
#include "ops/activations.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class ActivationImpl : public LayerImpl {
 public:
  explicit ActivationImpl(const ActivationOptions& o)
      : LayerImpl(o.name, "activation"), activation_name_(o.activation) {
    ops::activation(o.activation);  // an unknown name fails here, not at the first call
  }
  std::string class_name() const override { return "Activation"; }
  bool supports_masking() const override { return true; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    return in;
  }
  // Described once, as ops (lower()).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    out = {graph::activation(g, in.at(0), activation_name_, name())};
    return true;
  }
  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["activation"] = activation_name_.empty() ? "linear" : activation_name_;
    return c;
  }

 private:
  std::string activation_name_;
};

}  // namespace

Layer Activation(const ActivationOptions& options) { return Layer(std::make_shared<ActivationImpl>(options)); }
Layer Activation(const std::string& activation) { return Activation(ActivationOptions{.activation = activation}); }

Layer activation_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  using namespace saving;
  Layer l =
      Activation(ActivationOptions{.activation = get_activation(c, "activation", ctx), .name = get_string(c, "name")});
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

Layer input_layer_from_config(const nlohmann::json& c, const ConfigContext&) {
  auto shape = saving::get_batch_shape(c);
  if (!shape) throw ValueError("InputLayer config needs batch_shape or batch_input_shape");
  return Layer(std::make_shared<InputLayerImpl>(*shape, saving::get_string(c, "name")));
}

}  // namespace keras::layers
