#include <nlohmann/json.hpp>

#include "keras/layers/activations.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class PReLUImpl : public LayerImpl {
 public:
  explicit PReLUImpl(const PReLUOptions& o) : LayerImpl(o.name, "p_re_lu"), options_(o) {}
  std::string class_name() const override { return "PReLU"; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    if (built()) check_input(in[0]);
    return in;
  }

  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext&) const override {
    const Tensor& x = inputs.at(0);
    check_input(x.shape());
    std::vector<Dim> index = alpha_index(x.shape().without_batch());
    const Tensor& a = alpha();
    Tensor y = x;
    Dim per_sample = static_cast<Dim>(index.size());
    for (Dim i = 0; i < y.size(); ++i) {
      // Keras: relu(x) - alpha * relu(-x).
      float v = y[i];
      if (!(v > 0)) y[i] = a[index[static_cast<size_t>(i % per_sample)]] * v;
    }
    return {std::move(y)};
  }

  // dy/dx = 1 or alpha; dy/dalpha = x where x <= 0, summed over the batch and shared axes.
  Gradients backward(const BackwardArgs& args) const override {
    const Tensor& x = args.inputs.at(0);
    Tensor g = args.output_grads.at(0);
    std::vector<Dim> index = alpha_index(x.shape().without_batch());
    const Tensor& a = alpha();
    Tensor da(a.shape());
    Dim per_sample = static_cast<Dim>(index.size());
    for (Dim i = 0; i < g.size(); ++i) {
      if (x[i] > 0) continue;
      Dim k = index[static_cast<size_t>(i % per_sample)];
      da[k] += g[i] * x[i];
      g[i] *= a[k];
    }
    return {{std::move(g)}, {std::move(da)}};
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["alpha_initializer"] = initializer_to_config(options_.alpha_initializer);
    c["alpha_regularizer"] = nullptr;
    c["alpha_constraint"] = nullptr;
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
      throw ValueError(head + "expected ndim=" + std::to_string(a.rank() + 1) + ", found ndim=" + std::to_string(s.rank()) +
                       ". Full shape received: " + s.str());
    for (int i = 0; i < a.rank(); ++i)
      if (a[i] != 1 && s[i + 1] >= 0 && s[i + 1] != a[i])
        throw ValueError(head + "expected axis " + std::to_string(i + 1) + " of input shape to have value " +
                         std::to_string(a[i]) + ", but received input with shape " + s.str());
  }

  // For each element of one sample, the alpha element it uses (alpha repeats along its
  // size-1, shared, axes).
  std::vector<Dim> alpha_index(const Shape& sample) const {
    const Tensor& a = alpha();
    std::vector<Dim> out(static_cast<size_t>(sample.num_elements()));
    std::vector<Dim> index(static_cast<size_t>(sample.rank()), 0);
    for (Dim& src : out) {
      src = 0;
      for (int d = 0; d < sample.rank(); ++d) src = src * a.dim(d) + (a.dim(d) == 1 ? 0 : index[static_cast<size_t>(d)]);
      for (int d = sample.rank() - 1; d >= 0 && ++index[static_cast<size_t>(d)] == sample[d]; --d)
        index[static_cast<size_t>(d)] = 0;
    }
    return out;
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
