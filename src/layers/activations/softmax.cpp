#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/activations.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

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

  // Described once, as ops: the reduced axes moved last (a transpose, unless they are already
  // the trailing ones), a softmax over rows of their size, and the transpose back.
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    compute_output_shape({inputs.at(0).shape()});
    return call_ops(inputs, ctx);
  }
  bool supports_masking() const override { return true; }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape s = g.shape(in.at(0));
    compute_output_shape({s});
    if (g.input_mask(0) >= 0)
      throw NotImplementedError("Layer \"" + name() + "\": Softmax on an input with a mask of shape " +
                                g.shape(g.input_mask(0)).str() + " (Keras adds it to the logits, broadcast to " +
                                s.str() + ") is not supported");
    std::vector<bool> reduced(static_cast<size_t>(s.rank()), false);
    for (int a : axes_) reduced[static_cast<size_t>(s.normalize_axis(a))] = true;
    std::vector<int> perm;
    int v = graph::move_axes_last(g, in[0], reduced, perm, name());
    Shape t = g.shape(v);
    Dim n = 1;
    for (int d = 0; d < s.rank(); ++d)
      if (reduced[static_cast<size_t>(d)]) n *= s[d];
    if (n == 0) return false;
    v = g.view(graph::activation(g, g.view(v, Shape{t.num_elements() / n, n}), "softmax", name()), t);
    out = {graph::move_axes_back(g, v, perm, name())};
    // Keras 3: one axis goes through activations.softmax, whose output keeps its input as
    // logits; several take exp(x - logsumexp(x)), which keeps none.
    if (axes_.size() == 1) g.set_output_logits(in[0]);
    return true;
  }
  Gradients backward(const BackwardArgs& a) const override { return backward_ops(a); }

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
