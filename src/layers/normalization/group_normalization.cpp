// Keras's GroupNormalization (keras/src/layers/normalization/group_normalization.py).
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/normalization.h"
#include "layers/from_config.h"
#include "layers/ops_layer.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class GroupNormalizationImpl : public SameShapeLayerImpl {
 public:
  explicit GroupNormalizationImpl(const GroupNormalizationOptions& o)
      : SameShapeLayerImpl(o.name, "group_normalization"), options_(o) {}
  std::string class_name() const override { return "GroupNormalization"; }

  // Described once, as ops: channels moved last, then [N, spatial, G, C/G] transposed to [N, G,
  // spatial, C/G] so that each (sample, group) is one row of a LayerNormOp whose parameters
  // follow the channels.
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape s = g.shape(in.at(0));
    std::vector<bool> channel(static_cast<size_t>(s.rank()), false);
    channel[size_t(channel_axis(s))] = true;
    std::vector<int> perm;
    int x = graph::move_axes_last(g, in[0], channel, perm, name());
    const Shape t = g.shape(x);
    Dim groups = groups_, c = t[-1], n = t[0], spatial = t.num_elements() / std::max<Dim>(n * c, 1);
    if (t.num_elements() == 0) return false;
    Dim width = c / groups;
    int v = graph::transpose(g, g.view(x, Shape{n, spatial, groups, width}), {0, 2, 1, 3}, name());
    ops::LayerNormOp op{.rows = n * groups,
                        .n = spatial * width,
                        .epsilon = options_.epsilon,
                        .gamma = options_.scale,
                        .beta = options_.center,
                        .param_groups = groups,
                        .param_width = width};
    std::vector<const Tensor*> w;
    for (const Variable* var : variables()) w.push_back(&var->value);
    v = graph::emit1(g, op, {g.view(v, Shape{op.rows, op.n})}, Shape{op.rows, op.n}, std::move(w), name());
    v = graph::transpose(g, g.view(v, Shape{n, groups, spatial, width}), {0, 2, 1, 3}, name());
    out = {graph::move_axes_back(g, g.view(v, t), perm, name())};
    return true;
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["groups"] = groups_;
    c["axis"] = options_.axis;
    c["epsilon"] = options_.epsilon;
    c["center"] = options_.center;
    c["scale"] = options_.scale;
    c["beta_initializer"] = initializer_to_config(options_.beta_initializer);
    c["gamma_initializer"] = initializer_to_config(options_.gamma_initializer);
    for (const char* k : {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"})
      c[k] = rule_config(k);
    return c;
  }

 protected:
  void check_input(const Shape& s) const override { channel_axis(s); }
  // Keras's build: groups=-1 means one per channel; the channels must split evenly.
  void build_weights(const std::vector<Shape>& in) override {
    expect_inputs(in, 1);
    Dim dim = in[0][channel_axis(in[0])];
    if (dim < 0)
      fail("Axis " + std::to_string(options_.axis) +
           " of input tensor should have a defined dimension but the layer received an input with shape " +
           in[0].str() + ".");
    if (groups_ == -1) groups_ = dim;
    if (groups_ <= 0 || dim < groups_)
      fail("Number of groups (" + std::to_string(groups_) + ") cannot be more than the number of channels (" +
           std::to_string(dim) + ").");
    if (dim % groups_ != 0)
      fail("Number of groups (" + std::to_string(groups_) + ") must be a multiple of the number of channels (" +
           std::to_string(dim) + ").");
    if (options_.scale) add_weight("gamma", Shape{dim}, options_.gamma_initializer);
    if (options_.center) add_weight("beta", Shape{dim}, options_.beta_initializer);
  }

 private:
  int channel_axis(const Shape& s) const {
    int a = options_.axis < 0 ? options_.axis + s.rank() : options_.axis;
    if (a <= 0 || a >= s.rank())
      fail("axis " + std::to_string(options_.axis) + " is not a channel axis of an input of shape " + s.str());
    return a;
  }

  GroupNormalizationOptions options_;
  Dim groups_ = options_.groups;
};

}  // namespace

Layer GroupNormalization(const GroupNormalizationOptions& options) {
  return Layer(std::make_shared<GroupNormalizationImpl>(options));
}

Layer group_normalization_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  GroupNormalizationOptions o;
  o.name = get_string(c, "name");
  o.groups = get_int(c, "groups", 32);
  o.axis = static_cast<int>(get_int(c, "axis", -1));
  o.epsilon = get_double(c, "epsilon", 1e-3);
  o.center = get_bool(c, "center", true);
  o.scale = get_bool(c, "scale", true);
  o.beta_initializer = get_initializer(c, "beta_initializer", "zeros");
  o.gamma_initializer = get_initializer(c, "gamma_initializer", "ones");
  Layer l = GroupNormalization(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
