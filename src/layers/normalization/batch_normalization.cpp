#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/normalization.h"
#include "layers/from_config.h"
#include "ops/batch_norm.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

std::string ints_repr(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

class BatchNormalizationImpl : public LayerImpl {
 public:
  explicit BatchNormalizationImpl(const BatchNormalizationOptions& o)
      : LayerImpl(o.name, "batch_normalization"), options_(o) {
    // `synchronized` only matters across replicas; kept for the config.
    if (o.axis.size() == 0) throw ValueError("BatchNormalization needs at least one axis; received axis=[]");
  }
  std::string class_name() const override { return "BatchNormalization"; }
  bool supports_masking() const override { return true; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    if (built()) check_input(in[0]);
    return in;
  }

  // Described once, as ops: the parameter axes moved last (a transpose unless they are already),
  // then over rows of the parameters: at inference the moving statistics folded into one affine
  // op (which the plan folds into a product before it); in training the batch's statistics (a
  // BatchNormOp; the moving ones take them after the step); an inference-mode call recorded for
  // backward, or a frozen layer in training (Keras 3), by the moving statistics as variables.
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    check_input(inputs.at(0).shape());
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape s = g.shape(in.at(0));
    check_input(s);
    if (g.training() && trainable() && g.input_mask(0) >= 0)
      throw NotImplementedError("Layer \"" + name() +
                                "\": BatchNormalization's batch statistics over a masked input (Keras weighs them by "
                                "the mask) are not supported yet");
    std::vector<bool> param(static_cast<size_t>(s.rank()), false);
    for (int a : axes_) param[static_cast<size_t>(a)] = true;
    std::vector<int> perm;
    int x = graph::move_axes_last(g, in[0], param, perm, name());
    const Shape t = g.shape(x);
    Dim channels = param_count(), rows = t.num_elements() / std::max<Dim>(channels, 1);
    if (rows == 0) return false;
    // The ops see rows of the parameters; the value keeps its shape (a plan folds an affine op
    // into the product that writes it).
    int y = g.training() && trainable() ? batch_statistics(g, x, rows, channels)
            : g.weights_change()        ? moving_statistics(g, x, rows, channels)
                                        : folded(g, x);
    out = {graph::move_axes_back(g, y, perm, name())};
    return true;
  }
  Gradients backward(const BackwardArgs& a) const override { return backward_ops(a); }

  // Keras 3: moving = moving * momentum + batch * (1 - momentum), with the biased batch variance.
  void apply_state_updates(const SavedState& saved) override {
    if (saved.extra) return apply_state_updates_ops(saved);  // an eager call: its plan's updates
    if (saved.tensors.size() != 2) return;                   // an inference-mode call: nothing to fold in
    auto m = static_cast<float>(options_.momentum);
    for (Variable* v : variables()) {
      const Tensor* batch = v->name == "moving_mean"       ? &saved.tensors[0]
                            : v->name == "moving_variance" ? &saved.tensors[1]
                                                           : nullptr;
      if (!batch) continue;
      for (Dim p = 0; p < v->value.size(); ++p) v->value[p] = v->value[p] * m + (*batch)[p] * (1.0f - m);
    }
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    const auto& a = options_.axis.values;
    c["axis"] = a.size() == 1 ? nlohmann::json(a[0]) : nlohmann::json(a);
    c["momentum"] = options_.momentum;
    c["epsilon"] = options_.epsilon;
    c["center"] = options_.center;
    c["scale"] = options_.scale;
    c["beta_initializer"] = initializer_to_config(options_.beta_initializer);
    c["gamma_initializer"] = initializer_to_config(options_.gamma_initializer);
    c["moving_mean_initializer"] = initializer_to_config(options_.moving_mean_initializer);
    c["moving_variance_initializer"] = initializer_to_config(options_.moving_variance_initializer);
    for (const char* k : {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"})
      c[k] = rule_config(k);
    c["synchronized"] = options_.synchronized;
    return c;
  }

 protected:
  void build_weights(const std::vector<Shape>& in) override {
    expect_inputs(in, 1);
    const Shape& s = in[0];
    std::vector<int> axes;
    for (int a : options_.axis.values) {
      int r = a < 0 ? a + s.rank() : a;
      if (r < 0 || r >= s.rank())
        fail("Invalid axis. Expected 0 <= axis < inputs.rank (with inputs.rank=" + std::to_string(s.rank()) +
             "). Received: layer.axis=" + ints_repr(options_.axis.values));
      if (std::find(axes.begin(), axes.end(), r) != axes.end())
        fail("Duplicate axis: " + ints_repr(options_.axis.values));
      if (s[r] < 0)
        fail("Input has undefined `axis` dimension. Received input with shape " + s.str() +
             " Axis value: " + ints_repr(options_.axis.values));
      axes.push_back(r);
    }
    std::sort(axes.begin(), axes.end());
    axes_ = axes;
    rank_ = s.rank();
    // One axis: weights of shape (C,). Several (Keras 2): input rank with 1 on the other axes.
    Shape param;
    if (axes.size() == 1) {
      param = Shape{s[axes[0]]};
    } else {
      for (int d = 0; d < s.rank(); ++d)
        param.push_back(std::find(axes.begin(), axes.end(), d) != axes.end() ? s[d] : 1);
    }
    if (options_.scale) add_weight("gamma", param, options_.gamma_initializer);
    if (options_.center) add_weight("beta", param, options_.beta_initializer);
    add_weight("moving_mean", param, options_.moving_mean_initializer, false);
    add_weight("moving_variance", param, options_.moving_variance_initializer, false);
  }

 private:
  Dim param_count() const { return var_named("moving_mean").size(); }

  ops::BatchNormOp op_attrs(Dim rows, Dim channels, bool moving) const {
    return {.rows = rows,
            .channels = channels,
            .epsilon = options_.epsilon,
            .gamma = options_.scale,
            .beta = options_.center,
            .moving = moving};
  }
  std::vector<const Tensor*> affine_weights() const {
    std::vector<const Tensor*> w;
    if (options_.scale) w.push_back(&var_named("gamma"));
    if (options_.center) w.push_back(&var_named("beta"));
    return w;
  }

  // x normalized by the batch's statistics, which the layer folds into its
  // moving ones after the step.
  int batch_statistics(graph::Lowering& g, int x, Dim rows, Dim channels) const {
    const Shape& s = g.shape(x);
    ops::Op op{.attrs = op_attrs(rows, channels, false),
               .inputs = {s},
               .outputs = {s, Shape{channels}, Shape{channels}},
               .weights = affine_weights(),
               .layer = name()};
    std::vector<int> y = g.emit(std::move(op), {x});
    g.update_state(*this, {y[1], y[2]});  // apply_state_updates: the batch mean and variance
    return y[0];
  }

  // By the moving statistics, read as variables (a plan that differentiates, or whose weights
  // change under it).
  int moving_statistics(graph::Lowering& g, int x, Dim rows, Dim channels) const {
    std::vector<const Tensor*> w = affine_weights();
    w.push_back(&var_named("moving_mean"));
    w.push_back(&var_named("moving_variance"));
    return graph::emit1(g, op_attrs(rows, channels, true), {x}, g.shape(x), std::move(w), name());
  }

  // At inference: the moving statistics' affine map (ops::batch_norm_affine) as one affine op
  // on constants.
  int folded(graph::Lowering& g, int x) const {
    Dim params = param_count();
    const Tensor &mm = var_named("moving_mean"), &mv = var_named("moving_variance");
    ops::BatchNormArgs args{.epsilon = options_.epsilon};
    if (options_.scale) args.gamma = var_named("gamma").data();
    if (options_.center) args.beta = var_named("beta").data();
    Tensor scale(Shape{params}), shift(Shape{params});
    for (Dim p = 0; p < params; ++p) {
      ops::ChannelAffine f = ops::batch_norm_affine(args, mm[p], mv[p], p);
      scale[p] = f.scale;
      shift[p] = f.shift;
    }
    const Shape& s = g.shape(x);
    return graph::emit1(g, ops::AffineOp{s.num_elements(), params}, {x}, s,
                        {g.constant(std::move(scale)), g.constant(std::move(shift))}, name());
  }

  const Tensor& var_named(const std::string& n) const {
    for (const Variable* v : variables())
      if (v->name == n) return v->value;
    throw ValueError("BatchNormalization \"" + name() + "\" has no weight " + n);
  }

  void check_input(const Shape& s) const {
    std::string head = "Input 0 of layer \"" + name() + "\" is incompatible with the layer: ";
    if (s.rank() != rank_)
      throw ValueError(head + "expected ndim=" + std::to_string(rank_) + ", found ndim=" + std::to_string(s.rank()) +
                       ". Full shape received: " + s.str());
    const Shape& param = variables().back()->value.shape();
    for (size_t i = 0; i < axes_.size(); ++i) {
      int a = axes_[i];
      Dim want = axes_.size() == 1 ? param[0] : param[a];
      // Keras's InputSpec names the axis as the layer was given it (-1, not 3).
      int shown = axes_.size() == 1 ? options_.axis[0] : a;
      if (s[a] >= 0 && s[a] != want)
        throw ValueError(head + "expected axis " + std::to_string(shown) + " of input shape to have value " +
                         std::to_string(want) + ", but received input with shape " + s.str());
    }
  }

  BatchNormalizationOptions options_;
  std::vector<int> axes_;  // normalised, sorted; set by build
  int rank_ = 0;
};

}  // namespace

Layer BatchNormalization(const BatchNormalizationOptions& options) {
  return Layer(std::make_shared<BatchNormalizationImpl>(options));
}

Layer batch_normalization_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  std::string name = get_string(c, "name");
  // Keras 1's mode 1 (per-sample) and 2 (batch statistics at inference too) have no Keras 2/3 form.
  if (get_int(c, "mode", 0) != 0)
    throw ValueError("BatchNormalization \"" + name + "\": Keras 1 mode=" + std::to_string(get_int(c, "mode", 0)) +
                     " is not supported (only mode=0, feature-wise normalisation)");
  if (get_bool(c, "renorm", false))
    throw ValueError("BatchNormalization \"" + name + "\": renorm=True is not supported");
  if (c.contains("virtual_batch_size") && !c["virtual_batch_size"].is_null())
    throw ValueError("BatchNormalization \"" + name + "\": virtual_batch_size is not supported");
  BatchNormalizationOptions o;
  o.name = name;
  // Keras 2 writes the axis as a list once built ("axis": [3]).
  if (c.contains("axis") && c["axis"].is_array())
    o.axis = Axes(c["axis"].get<std::vector<int>>());
  else
    o.axis = static_cast<int>(get_int(c, "axis", -1));
  o.momentum = get_double(c, "momentum", 0.99);
  o.epsilon = get_double(c, "epsilon", 1e-3);
  o.center = get_bool(c, "center", true);
  o.scale = get_bool(c, "scale", true);
  // Keras 1 spelled the initializers gamma_init / beta_init.
  o.beta_initializer = get_initializer(c, "beta_initializer", get_initializer(c, "beta_init", "zeros"));
  o.gamma_initializer = get_initializer(c, "gamma_initializer", get_initializer(c, "gamma_init", "ones"));
  o.moving_mean_initializer = get_initializer(c, "moving_mean_initializer", "zeros");
  o.moving_variance_initializer = get_initializer(c, "moving_variance_initializer", "ones");
  o.synchronized = get_bool(c, "synchronized", false);
  Layer l = BatchNormalization(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
