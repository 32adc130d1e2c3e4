#include <nlohmann/json.hpp>
#include <utility>

#include "engine/graph/lowering.h"
#include "keras/layers/core.h"
#include "layers/from_config.h"
#include "ops/activations.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class DenseImpl : public LayerImpl {
 public:
  explicit DenseImpl(const DenseOptions& o) : LayerImpl(o.name, "dense"), options_(o) {
    ops::activation(o.activation);  // an unknown name fails here, not at the first call
    if (o.units <= 0)
      throw ValueError("Received an invalid value for `units`, expected a positive integer. Received: units=" +
                       std::to_string(o.units));
  }
  std::string class_name() const override { return "Dense"; }
  bool supports_masking() const override { return true; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    if (in[0].rank() < 2)
      fail("expected min_ndim=2, found ndim=" + std::to_string(in[0].rank()) + ". Full shape received: " + in[0].str());
    if (built() && in[0][-1] != kernel_in())
      throw ValueError("Input 0 of layer \"" + name() +
                       "\" is incompatible with the layer: expected axis -1 of input shape to have value " +
                       std::to_string(kernel_in()) + ", but received input with shape " + in[0].str());
    Shape out = in[0];
    out[-1] = options_.units;
    return {out};
  }

  // y = activation(x @ kernel + bias), as one op (the training plans differentiate it).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  Gradients backward(const BackwardArgs& a) const override { return backward_ops(a); }

  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape& x = g.shape(in.at(0));
    Shape y = x;
    y[-1] = options_.units;
    auto vars = variables();
    ops::Op op{.attrs = ops::DenseOp{.rows = x.num_elements() / kernel_in(),
                                     .in = kernel_in(),
                                     .units = options_.units,
                                     .epilogue = {options_.use_bias, options_.activation}},
               .inputs = {x},
               .outputs = {y},
               .weights = {&vars[0]->value},
               .layer = name()};
    if (options_.use_bias) op.weights.push_back(&vars[1]->value);
    out = g.emit(std::move(op), in);
    return true;
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["units"] = options_.units;
    c["activation"] = options_.activation.empty() ? "linear" : options_.activation;
    c["use_bias"] = options_.use_bias;
    c["kernel_initializer"] = initializer_to_config(options_.kernel_initializer);
    c["bias_initializer"] = initializer_to_config(options_.bias_initializer);
    for (const char* k :
         {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"})
      c[k] = rule_config(k);
    return c;
  }

 protected:
  void build_weights(const std::vector<Shape>& in) override {
    compute_output_shape(in);
    Dim last = in[0][-1];
    if (last < 0)
      fail(
          "The last dimension of the inputs to a Dense layer should be defined. Found None. Full input shape "
          "received: " +
          in[0].str());
    add_weight("kernel", {last, options_.units}, options_.kernel_initializer);
    if (options_.use_bias) add_weight("bias", {options_.units}, options_.bias_initializer);
  }

 private:
  Dim kernel_in() const { return variables()[0]->value.dim(0); }
  DenseOptions options_;
};

}  // namespace

Layer Dense(const DenseOptions& options) { return Layer(std::make_shared<DenseImpl>(options)); }
Layer Dense(Dim units, const std::string& activation) {
  return Dense(DenseOptions{.units = units, .activation = activation});
}

Layer dense_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  using namespace saving;
  DenseOptions o;
  o.name = get_string(c, "name");
  // Keras 1 spelled units output_dim and the initializers init.
  o.units = c.contains("units") ? get_int(c, "units", 0) : get_int(c, "output_dim", 0);
  o.activation = get_activation(c, "activation", ctx);
  o.use_bias = get_bool(c, "use_bias", get_bool(c, "bias", true));
  o.kernel_initializer = get_initializer(c, "kernel_initializer", get_initializer(c, "init", "glorot_uniform"));
  o.bias_initializer = get_initializer(c, "bias_initializer", "zeros");
  Layer l = Dense(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
