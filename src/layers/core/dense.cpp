#include <nlohmann/json.hpp>
#include <utility>

#include "engine/graph/lowering.h"
#include "keras/layers/core.h"
#include "layers/from_config.h"
#include "ops/activations.h"
#include "ops/kernels.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class DenseImpl : public LayerImpl {
 public:
  explicit DenseImpl(const DenseOptions& o)
      : LayerImpl(o.name, "dense"), options_(o), activation_(ops::activation(o.activation)) {
    if (o.units <= 0)
      throw ValueError("Received an invalid value for `units`, expected a positive integer. Received: units=" +
                       std::to_string(o.units));
  }
  std::string class_name() const override { return "Dense"; }

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

  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    const Tensor& x = inputs.at(0);
    Dim in = kernel_in(), rows = x.size() / in;
    Shape out_shape = x.shape();
    out_shape[-1] = options_.units;
    Tensor y(out_shape);
    auto vars = variables();
    ops::kernels().gemm(false, false, rows, options_.units, in, 1.0f, x.data(), in, vars[0]->value.data(),
                        options_.units, 0.0f, y.data(), options_.units);
    if (options_.use_bias) {
      const float* b = vars[1]->value.data();
      for (Dim r = 0; r < rows; ++r)
        for (Dim u = 0; u < options_.units; ++u) y[r * options_.units + u] += b[u];
    }
    if (ctx.saved && !ops::is_linear(options_.activation) && !ops::activation_grad_from_output(options_.activation))
      ctx.saved->tensors = {y};  // pre-activation
    activation_(y);
    return {std::move(y)};
  }

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

  // z = x @ kernel + bias, y = activation(z): dz = activation'(z) dy, dx = dz @ kernel^T,
  // dkernel = x^T @ dz and dbias = sum of dz over all leading axes.
  Gradients backward(const BackwardArgs& a) const override {
    const Tensor& x = a.inputs.at(0);
    Tensor dz = a.output_grads.at(0);
    if (!ops::is_linear(options_.activation))
      ops::activation_grad(options_.activation)(a.saved.tensors.empty() ? a.outputs.at(0) : a.saved.tensors[0],
                                                a.outputs.at(0), dz);
    Dim in = kernel_in(), units = options_.units, rows = x.size() / in;
    auto vars = variables();
    Gradients g;
    g.inputs.emplace_back(a.need_input_grads ? Tensor(x.shape()) : Tensor());
    if (a.need_input_grads)
      ops::kernels().gemm(false, true, rows, in, units, 1.0f, dz.data(), units, vars[0]->value.data(), units, 0.0f,
                          g.inputs[0].data(), in);
    g.variables.emplace_back(vars[0]->value.shape());
    ops::kernels().gemm(true, false, in, units, rows, 1.0f, x.data(), in, dz.data(), units, 0.0f, g.variables[0].data(),
                        units);
    if (options_.use_bias) {
      Tensor db(Shape{units});
      const float* d = std::as_const(dz).data();
      float* sum = db.data();
      for (Dim r = 0; r < rows; ++r)
        for (Dim u = 0; u < units; ++u) sum[u] += d[r * units + u];
      g.variables.push_back(std::move(db));
    }
    return g;
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
      c[k] = nullptr;
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
  ops::ActivationFn activation_;
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
