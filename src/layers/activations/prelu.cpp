#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/activations.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class PReLUImpl : public LayerImpl {
 public:
  explicit PReLUImpl(const PReLUOptions& o) : LayerImpl(o.name, "p_re_lu"), options_(o) {}
  std::string class_name() const override { return "PReLU"; }
  bool supports_masking() const override { return true; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    if (built()) check_input(in[0]);
    return in;
  }

  // Described once, as ops: a PReluOp reading alpha (ops/rectifier.h).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    check_input(inputs.at(0).shape());
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    check_input(g.shape(in.at(0)));
    out = {graph::emit1(g, ops::PReluOp{}, {in[0]}, g.shape(in[0]), {&alpha()}, name())};
    return true;
  }
  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["alpha_initializer"] = initializer_to_config(options_.alpha_initializer);
    c["alpha_regularizer"] = rule_config("alpha_regularizer");
    c["alpha_constraint"] = rule_config("alpha_constraint");
    c["shared_axes"] = options_.shared_axes.empty() ? nlohmann::json(nullptr) : nlohmann::json(options_.shared_axes);
    return c;
  }

 protected:
  void build_weights(const std::vector<Shape>& in) override {
    expect_inputs(in, 1);
    std::vector<Dim> param(in[0].dims().begin() + (in[0].rank() > 0 ? 1 : 0), in[0].dims().end());
    for (int a : options_.shared_axes) {
      if (a < 1 || a > static_cast<int>(param.size()))
        fail("shared_axes must be 1-based axes of the input without the batch axis; received shared_axes containing " +
             std::to_string(a) + " for input shape " + in[0].str());
      param[static_cast<size_t>(a - 1)] = 1;
    }
    for (size_t i = 0; i < param.size(); ++i)
      if (param[i] < 0)
        fail("the alpha weight needs a defined size for axis " + std::to_string(i + 1) +
             " (not in shared_axes). Full input shape received: " + in[0].str());
    add_weight("alpha", Shape(param), options_.alpha_initializer);
  }

 private:
  const Tensor& alpha() const { return variables()[0]->value; }

  void check_input(const Shape& s) const {
    const Shape& a = alpha().shape();
    std::string head = "Input 0 of layer \"" + name() + "\" is incompatible with the layer: ";
    if (s.rank() != a.rank() + 1)
      throw ValueError(head + "expected ndim=" + std::to_string(a.rank() + 1) +
                       ", found ndim=" + std::to_string(s.rank()) + ". Full shape received: " + s.str());
    for (int i = 0; i < a.rank(); ++i)
      if (a[i] != 1 && s[i + 1] >= 0 && s[i + 1] != a[i])
        throw ValueError(head + "expected axis " + std::to_string(i + 1) + " of input shape to have value " +
                         std::to_string(a[i]) + ", but received input with shape " + s.str());
  }

  PReLUOptions options_;
};

}  // namespace

Layer PReLU(const PReLUOptions& options) { return Layer(std::make_shared<PReLUImpl>(options)); }

Layer prelu_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  PReLUOptions o;
  o.name = get_string(c, "name");
  // Keras 1 called the initializer `init`.
  o.alpha_initializer = get_initializer(c, "alpha_initializer", get_initializer(c, "init", "zeros"));
  if (c.contains("shared_axes") && !c["shared_axes"].is_null()) {
    const auto& s = c["shared_axes"];
    if (s.is_number_integer())
      o.shared_axes = {s.get<int>()};
    else
      for (const auto& a : s) o.shared_axes.push_back(a.get<int>());
  }
  Layer l = PReLU(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
