#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/normalization.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

std::string ints_repr(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// Calls f(flat_index, param_index) for every element of a tensor of shape `s`, where the
// parameter index runs over the normalised axes only (C order among them).
template <class F>
void for_each_param(const Shape& s, const std::vector<int>& axes, F f) {
  if (axes.size() == 1) {
    int a = axes[0];
    Dim outer = 1, inner = 1, c = s[a];
    for (int d = 0; d < a; ++d) outer *= s[d];
    for (int d = a + 1; d < s.rank(); ++d) inner *= s[d];
    Dim flat = 0;
    for (Dim o = 0; o < outer; ++o)
      for (Dim p = 0; p < c; ++p)
        for (Dim i = 0; i < inner; ++i) f(flat++, p);
    return;
  }
  std::vector<Dim> stride(static_cast<size_t>(s.rank()), 0), index(static_cast<size_t>(s.rank()), 0);
  Dim k = 1;
  for (int d = s.rank() - 1; d >= 0; --d)
    if (std::find(axes.begin(), axes.end(), d) != axes.end()) {
      stride[static_cast<size_t>(d)] = k;
      k *= s[d];
    }
  Dim total = 1;
  for (Dim d : s) total *= d;
  Dim p = 0;
  for (Dim flat = 0; flat < total; ++flat) {
    f(flat, p);
    for (int d = s.rank() - 1; d >= 0; --d) {
      auto u = static_cast<size_t>(d);
      p += stride[u];
      if (++index[u] < s[d]) break;
      p -= stride[u] * index[u];
      index[u] = 0;
    }
  }
}

class BatchNormalizationImpl : public LayerImpl {
 public:
  explicit BatchNormalizationImpl(const BatchNormalizationOptions& o)
      : LayerImpl(o.name, "batch_normalization"), options_(o) {
    // `synchronized` only matters across replicas; kept for the config.
    if (o.axis.size() == 0) throw ValueError("BatchNormalization needs at least one axis; received axis=[]");
  }
  std::string class_name() const override { return "BatchNormalization"; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    if (built()) check_input(in[0]);
    return in;
  }

  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    const Tensor& x = inputs.at(0);
    check_input(x.shape());
    Dim params = param_count();
    std::vector<double> mean(static_cast<size_t>(params)), var(static_cast<size_t>(params));
    // Keras 3 runs a frozen (trainable=False) layer in inference mode even when training.
    if (ctx.training && trainable()) {
      batch_moments(x, mean, var);
      // What backward() differentiates through and apply_state_updates() folds in.
      if (ctx.saved) ctx.saved->tensors = {to_tensor(mean), to_tensor(var)};
    } else {
      const Tensor &mm = var_named("moving_mean"), &mv = var_named("moving_variance");
      for (Dim p = 0; p < params; ++p) {
        mean[static_cast<size_t>(p)] = mm[p];
        var[static_cast<size_t>(p)] = mv[p];
      }
    }
    // As Keras 3: inv = gamma / sqrt(var + eps); y = x * inv + (beta - mean * inv).
    std::vector<float> inv(static_cast<size_t>(params)), shift(static_cast<size_t>(params));
    const Tensor* gamma = options_.scale ? &var_named("gamma") : nullptr;
    const Tensor* beta = options_.center ? &var_named("beta") : nullptr;
    for (Dim p = 0; p < params; ++p) {
      auto u = static_cast<size_t>(p);
      double g = gamma ? (*gamma)[p] : 1.0, b = beta ? (*beta)[p] : 0.0;
      double i = g / std::sqrt(var[u] + options_.epsilon);
      inv[u] = static_cast<float>(i);
      shift[u] = static_cast<float>(b - mean[u] * i);
    }
    Tensor y(x.shape());
    float* out = y.data();
    for_each_param(x.shape(), axes_, [&](Dim flat, Dim p) {
      out[flat] = x[flat] * inv[static_cast<size_t>(p)] + shift[static_cast<size_t>(p)];
    });
    return {std::move(y)};
  }

  // Over the last axis. At inference the moving statistics fold into one affine op (which the
  // plan folds into a product before it); in training, the batch's statistics normalize and
  // the moving ones take them after the step. A frozen layer trains as at inference, in
  // call() (Keras 3).
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape& s = g.shape(in.at(0));
    check_input(s);
    if (axes_.size() != 1 || axes_[0] != s.rank() - 1) return false;
    if (g.training()) return trainable() && lower_training(g, in.at(0), out);
    Dim params = param_count();
    const Tensor &mm = var_named("moving_mean"), &mv = var_named("moving_variance");
    const Tensor* gamma = options_.scale ? &var_named("gamma") : nullptr;
    const Tensor* beta = options_.center ? &var_named("beta") : nullptr;
    Tensor scale(Shape{params}), shift(Shape{params});
    for (Dim p = 0; p < params; ++p) {
      // As call(): inv = gamma / sqrt(var + eps), shift = beta - mean * inv, in double.
      double gm = gamma ? (*gamma)[p] : 1.0, b = beta ? (*beta)[p] : 0.0;
      double i = gm / std::sqrt(double(mv[p]) + options_.epsilon);
      scale[p] = static_cast<float>(i);
      shift[p] = static_cast<float>(b - mm[p] * i);
    }
    ops::Op op{.attrs = ops::AffineOp{s.num_elements(), params},
               .inputs = {s},
               .outputs = {s},
               .weights = {g.constant(std::move(scale)), g.constant(std::move(shift))},
               .layer = name()};
    out = g.emit(std::move(op), in);
    return true;
  }

  bool lower_training(graph::Lowering& g, int x, std::vector<int>& out) const {
    const Shape& s = g.shape(x);
    Dim channels = param_count();
    ops::Op op{.attrs = ops::BatchNormOp{.rows = s.num_elements() / channels,
                                         .channels = channels,
                                         .epsilon = options_.epsilon,
                                         .gamma = options_.scale,
                                         .beta = options_.center},
               .inputs = {s},
               .outputs = {s, Shape{channels}, Shape{channels}},
               .layer = name()};
    if (options_.scale) op.weights.push_back(&var_named("gamma"));
    if (options_.center) op.weights.push_back(&var_named("beta"));
    std::vector<int> y = g.emit(std::move(op), {x});
    g.update_state(*this, {y[1], y[2]});  // apply_state_updates: the batch mean and variance
    out = {y[0]};
    return true;
  }

  // With xh = (x - mean) * r, r = 1/sqrt(var + eps), y = gamma * xh + beta:
  // dgamma = sum(g * xh), dbeta = sum(g). With the moving statistics dx = gamma * r * g;
  // with batch statistics, which depend on x too, dx = gamma * r * (g - mean(g) - xh * mean(g * xh)).
  Gradients backward(const BackwardArgs& a) const override {
    const Tensor& x = a.inputs.at(0);
    const Tensor& g = a.output_grads.at(0);
    bool batch_stats = !a.saved.tensors.empty();
    const Tensor& mean = batch_stats ? a.saved.tensors.at(0) : var_named("moving_mean");
    const Tensor& var = batch_stats ? a.saved.tensors.at(1) : var_named("moving_variance");
    const Tensor* gamma = options_.scale ? &var_named("gamma") : nullptr;
    auto params = static_cast<size_t>(param_count());
    std::vector<double> r(params), sum_g(params, 0.0), sum_gx(params, 0.0), count(params, 0.0);
    for (size_t p = 0; p < params; ++p) r[p] = 1.0 / std::sqrt(double(var[static_cast<Dim>(p)]) + options_.epsilon);
    auto xh = [&](Dim flat, size_t p) { return (double(x[flat]) - mean[static_cast<Dim>(p)]) * r[p]; };
    for_each_param(x.shape(), axes_, [&](Dim flat, Dim p) {
      auto u = static_cast<size_t>(p);
      sum_g[u] += g[flat];
      sum_gx[u] += g[flat] * xh(flat, u);
      count[u] += 1;
    });
    Tensor dx(x.shape());
    float* dxs = dx.data();
    for_each_param(x.shape(), axes_, [&](Dim flat, Dim p) {
      auto u = static_cast<size_t>(p);
      double scale = (gamma ? (*gamma)[p] : 1.0) * r[u];
      double d = g[flat];
      if (batch_stats) d -= (sum_g[u] + xh(flat, u) * sum_gx[u]) / std::max(count[u], 1.0);
      dxs[flat] = static_cast<float>(scale * d);
    });
    // In inference mode the moving statistics shape the output too (they are not trained,
    // but their gradients are what they are): dL/dmean = -gamma*r*sum(g),
    // dL/dvar = -gamma*r^2/2 * sum(g*xh).
    std::vector<double> d_mean(params, 0.0), d_var(params, 0.0);
    if (!batch_stats)
      for (size_t p = 0; p < params; ++p) {
        double gm = gamma ? (*gamma)[static_cast<Dim>(p)] : 1.0;
        d_mean[p] = -gm * r[p] * sum_g[p];
        d_var[p] = -0.5 * gm * r[p] * r[p] * sum_gx[p];
      }
    Gradients grads{{std::move(dx)}, {}};
    for (const Variable* v : variables()) {
      const std::vector<double>& sums = v->name == "gamma"         ? sum_gx
                                        : v->name == "beta"        ? sum_g
                                        : v->name == "moving_mean" ? d_mean
                                                                   : d_var;
      Tensor dv(v->value.shape());
      for (size_t p = 0; p < params; ++p) dv[static_cast<Dim>(p)] = static_cast<float>(sums[p]);
      grads.variables.push_back(std::move(dv));
    }
    return grads;
  }

  // Keras 3: moving = moving * momentum + batch * (1 - momentum), with the biased batch variance.
  void apply_state_updates(const SavedState& saved) override {
    if (saved.tensors.size() != 2) return;  // an inference-mode call: nothing to fold in
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
      c[k] = nullptr;
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

  const Tensor& var_named(const std::string& n) const {
    for (const Variable* v : variables())
      if (v->name == n) return v->value;
    throw ValueError("BatchNormalization \"" + name() + "\" has no weight " + n);
  }

  static Tensor to_tensor(const std::vector<double>& v) {
    Tensor t(Shape{static_cast<Dim>(v.size())});
    for (size_t i = 0; i < v.size(); ++i) t[static_cast<Dim>(i)] = static_cast<float>(v[i]);
    return t;
  }

  // Mean and biased variance per parameter over every other axis, in double.
  void batch_moments(const Tensor& x, std::vector<double>& mean, std::vector<double>& var) const {
    std::vector<double> count(mean.size(), 0.0);
    std::fill(mean.begin(), mean.end(), 0.0);
    std::fill(var.begin(), var.end(), 0.0);
    for_each_param(x.shape(), axes_, [&](Dim flat, Dim p) {
      mean[static_cast<size_t>(p)] += x[flat];
      count[static_cast<size_t>(p)] += 1;
    });
    for (size_t p = 0; p < mean.size(); ++p) mean[p] /= std::max(count[p], 1.0);
    for_each_param(x.shape(), axes_, [&](Dim flat, Dim p) {
      double d = x[flat] - mean[static_cast<size_t>(p)];
      var[static_cast<size_t>(p)] += d * d;
    });
    for (size_t p = 0; p < var.size(); ++p) var[p] /= std::max(count[p], 1.0);
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
