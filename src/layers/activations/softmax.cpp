#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "keras/layers/activations.h"
#include "layers/from_config.h"
#include "ops/activations.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

// The softmax group of each element (its flat index over the axes not reduced), and how many.
std::vector<Dim> softmax_groups(const Shape& s, const std::vector<int>& axes, Dim& groups) {
  std::vector<bool> reduced(static_cast<size_t>(s.rank()), false);
  for (int a : axes) reduced[static_cast<size_t>(s.normalize_axis(a))] = true;
  // Group of each element: its flat index over the kept axes.
  std::vector<Dim> group(static_cast<size_t>(s.num_elements()));
  groups = 1;
  for (int d = 0; d < s.rank(); ++d)
    if (!reduced[static_cast<size_t>(d)]) groups *= s[d];
  std::vector<Dim> index(static_cast<size_t>(s.rank()), 0);
  for (size_t flat = 0; flat < group.size(); ++flat) {
    Dim g = 0;
    for (int d = 0; d < s.rank(); ++d)
      if (!reduced[static_cast<size_t>(d)]) g = g * s[d] + index[static_cast<size_t>(d)];
    group[flat] = g;
    for (int d = s.rank() - 1; d >= 0 && ++index[static_cast<size_t>(d)] == s[d]; --d)
      index[static_cast<size_t>(d)] = 0;
  }
  return group;
}

// exp(x - logsumexp(x, axes)): Keras's softmax over several axes at once.
void softmax_over(Tensor& t, const std::vector<int>& axes) {
  Dim groups = 0;
  std::vector<Dim> group = softmax_groups(t.shape(), axes, groups);
  std::vector<float> max(static_cast<size_t>(groups), -std::numeric_limits<float>::infinity());
  std::vector<double> sum(static_cast<size_t>(groups), 0.0);
  for (Dim i = 0; i < t.size(); ++i)
    max[static_cast<size_t>(group[i])] = std::max(max[static_cast<size_t>(group[i])], t[i]);
  for (Dim i = 0; i < t.size(); ++i)
    sum[static_cast<size_t>(group[i])] += std::exp(double(t[i]) - max[static_cast<size_t>(group[i])]);
  for (Dim i = 0; i < t.size(); ++i) {
    auto g = static_cast<size_t>(group[i]);
    t[i] = static_cast<float>(std::exp(double(t[i]) - max[g] - std::log(sum[g])));
  }
}

// dx = y * (g - sum over the group of y * g).
void softmax_over_grad(const Tensor& y, Tensor& g, const std::vector<int>& axes) {
  Dim groups = 0;
  std::vector<Dim> group = softmax_groups(y.shape(), axes, groups);
  std::vector<double> dot(static_cast<size_t>(groups), 0.0);
  for (Dim i = 0; i < y.size(); ++i) dot[static_cast<size_t>(group[i])] += double(y[i]) * g[i];
  for (Dim i = 0; i < y.size(); ++i) g[i] = y[i] * static_cast<float>(g[i] - dot[static_cast<size_t>(group[i])]);
}

class SoftmaxImpl : public LayerImpl {
 public:
  explicit SoftmaxImpl(const SoftmaxOptions& o) : LayerImpl(o.name, "softmax"), axes_(o.axis.values) {
    if (axes_.empty()) throw ValueError("Softmax needs at least one axis; received axis=[]");
  }
  std::string class_name() const override { return "Softmax"; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    for (int a : axes_)
      if (a < -in[0].rank() || a >= in[0].rank())
        fail("axis " + std::to_string(a) + " is out of bounds for an input of rank " + std::to_string(in[0].rank()) +
             " (shape " + in[0].str() + ")");
    return in;
  }

  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext&) const override {
    Tensor y = inputs.at(0);
    compute_output_shape({y.shape()});
    if (axes_.size() == 1)
      ops::softmax(y, axes_[0]);
    else
      softmax_over(y, axes_);
    return {std::move(y)};
  }

  Gradients backward(const BackwardArgs& a) const override {
    const Tensor& y = a.outputs.at(0);
    Tensor g = a.output_grads.at(0);
    if (axes_.size() == 1)
      ops::softmax_grad(y, g, axes_[0]);
    else
      softmax_over_grad(y, g, axes_);
    return {{std::move(g)}, {}};
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["axis"] = axes_.size() == 1 ? nlohmann::json(axes_[0]) : nlohmann::json(axes_);
    return c;
  }

 private:
  std::vector<int> axes_;
};

}  // namespace

Layer Softmax(const SoftmaxOptions& options) { return Layer(std::make_shared<SoftmaxImpl>(options)); }
Layer Softmax(int axis) { return Softmax(SoftmaxOptions{.axis = axis}); }

Layer softmax_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  SoftmaxOptions o;
  o.name = get_string(c, "name");
  if (c.contains("axis") && c["axis"].is_array())
    o.axis = Axes(c["axis"].get<std::vector<int>>());
  else
    o.axis = static_cast<int>(get_int(c, "axis", -1));
  Layer l = Softmax(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
