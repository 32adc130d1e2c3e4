// Keras's LayerNormalization (keras/src/layers/normalization/layer_normalization.py).
#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/normalization.h"
#include "layers/from_config.h"
#include "layers/ops_layer.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class LayerNormalizationImpl : public SameShapeLayerImpl {
 public:
  explicit LayerNormalizationImpl(const LayerNormalizationOptions& o)
      : SameShapeLayerImpl(o.name, "layer_normalization"), options_(o) {
    if (o.axis.size() == 0) throw ValueError("LayerNormalization needs at least one axis; received axis=[]");
  }
  std::string class_name() const override { return "LayerNormalization"; }

  // Described once, as ops: the normalized axes moved last in ascending order (a transpose unless
  // they are already; Keras reshapes gamma and beta onto them the same way), then one
  // LayerNormOp over rows of their size.
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape s = g.shape(in.at(0));
    std::vector<bool> normalized(static_cast<size_t>(s.rank()), false);
    for (int a : normalized_axes(s)) normalized[static_cast<size_t>(a)] = true;
    std::vector<int> perm;
    int x = graph::move_axes_last(g, in[0], normalized, perm, name());
    const Shape t = g.shape(x);
    Dim n = 1;
    for (int d = 0; d < s.rank(); ++d)
      if (normalized[size_t(d)]) n *= s[d];
    if (n == 0 || t.num_elements() == 0) return false;
    ops::LayerNormOp op{.rows = t.num_elements() / n,
                        .n = n,
                        .epsilon = options_.epsilon,
                        .gamma = has_gamma(),
                        .beta = has_beta(),
                        .rms = options_.rms_scaling};
    std::vector<const Tensor*> w;
    for (const Variable* v : variables()) w.push_back(&v->value);
    int y = graph::emit1(g, op, {g.view(x, Shape{op.rows, n})}, Shape{op.rows, n}, std::move(w), name());
    out = {graph::move_axes_back(g, g.view(y, t), perm, name())};
    return true;
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    const auto& a = options_.axis.values;
    // Keras turns an int axis into a list when it builds the layer.
    c["axis"] = a.size() == 1 && !built() ? nlohmann::json(a[0]) : nlohmann::json(a);
    c["epsilon"] = options_.epsilon;
    c["center"] = options_.center;
    c["scale"] = options_.scale;
    if (options_.rms_scaling) c["rms_scaling"] = true;  // Keras 3.1 does not write it; later ones do
    c["beta_initializer"] = initializer_to_config(options_.beta_initializer);
    c["gamma_initializer"] = initializer_to_config(options_.gamma_initializer);
    for (const char* k : {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"})
      c[k] = rule_config(k);
    return c;
  }

 protected:
  void check_input(const Shape& s) const override { normalized_axes(s); }
  void build_weights(const std::vector<Shape>& in) override {
    expect_inputs(in, 1);
    std::vector<int> axes = normalized_axes(in[0]);
    std::vector<Dim> dims;
    for (int a : options_.axis.values) {
      Dim d = in[0][a < 0 ? a + in[0].rank() : a];
      if (d < 0) fail("the normalized axes must have a known size; received an input of shape " + in[0].str());
      dims.push_back(d);
    }
    if (has_gamma()) add_weight("gamma", Shape(dims), options_.gamma_initializer);
    if (has_beta()) add_weight("beta", Shape(dims), options_.beta_initializer);
  }

 private:
  bool has_gamma() const { return options_.scale || options_.rms_scaling; }
  bool has_beta() const { return options_.center && !options_.rms_scaling; }

  // The axes, non-negative and ascending.
  std::vector<int> normalized_axes(const Shape& s) const {
    std::vector<int> axes;
    for (int a : options_.axis.values) {
      int r = a < 0 ? a + s.rank() : a;
      if (r < 0 || r >= s.rank())
        fail("axis " + std::to_string(a) + " is out of bounds for an input of rank " + std::to_string(s.rank()));
      if (std::find(axes.begin(), axes.end(), r) != axes.end()) fail("duplicate axis " + std::to_string(a));
      axes.push_back(r);
    }
    std::sort(axes.begin(), axes.end());
    return axes;
  }

  LayerNormalizationOptions options_;
};

}  // namespace

Layer LayerNormalization(const LayerNormalizationOptions& options) {
  return Layer(std::make_shared<LayerNormalizationImpl>(options));
}

Layer layer_normalization_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  LayerNormalizationOptions o;
  o.name = get_string(c, "name");
  if (c.contains("axis") && c["axis"].is_array())
    o.axis = Axes(c["axis"].get<std::vector<int>>());
  else
    o.axis = static_cast<int>(get_int(c, "axis", -1));
  o.epsilon = get_double(c, "epsilon", 1e-3);
  o.center = get_bool(c, "center", true);
  o.scale = get_bool(c, "scale", true);
  o.rms_scaling = get_bool(c, "rms_scaling", false);
  o.beta_initializer = get_initializer(c, "beta_initializer", "zeros");
  o.gamma_initializer = get_initializer(c, "gamma_initializer", "ones");
  Layer l = LayerNormalization(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
