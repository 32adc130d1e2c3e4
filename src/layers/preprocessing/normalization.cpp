// Keras's Normalization (keras/src/layers/preprocessing/normalization.py): (x - mean) /
// max(sqrt(variance), epsilon), or its inverse, with statistics given in the config or held as
// non-trainable weights (mean, variance, count) that adapt() sets.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/preprocessing.h"
#include "layers/from_config.h"
#include "layers/ops_layer.h"
#include "ops/numpy_ops.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

constexpr float kEpsilon = 1e-7f;  // keras.backend.epsilon()

class NormalizationImpl : public SameShapeLayerImpl {
 public:
  explicit NormalizationImpl(const NormalizationOptions& o)
      : SameShapeLayerImpl(o.name, "normalization"), options_(o), epsilon_(Shape{1}, std::vector<float>{kEpsilon}) {
    if (o.mean.empty() != o.variance.empty())
      throw ValueError("When setting values directly, both `mean` and `variance` must be set. Received: mean=" +
                       std::string(o.mean.empty() ? "None" : "[...]") +
                       " and variance=" + (o.variance.empty() ? "None" : "[...]"));
  }
  std::string class_name() const override { return "Normalization"; }

  // Described once, as ops on the statistics' own shape (sqrt, max with epsilon), broadcast onto
  // the input, then subtract and divide (invert: multiply and add). The statistics are read when
  // the plan runs, so adapt() and loaded weights take effect without a rebuild.
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape s = g.shape(in.at(0));
    std::vector<bool> keep = kept_axes(s);
    std::vector<Dim> b;
    for (int d = 0; d < s.rank(); ++d) b.push_back(keep[size_t(d)] ? s[d] : 1);
    const Tensor &mean = statistic("mean"), &var = statistic("variance");
    Shape k{mean.size()}, flat{s.num_elements()};
    auto merge = [&](ops::MergeOp::Kind kind, int a, int c, const Shape& shape) {
      return graph::emit1(g, ops::MergeOp{kind, shape.num_elements()}, {a, c}, shape, {}, name());
    };
    // Weights are read as variables (their gradients exist, though fit() leaves non-trainable
    // ones alone); given statistics as constants.
    auto read = [&](const Tensor& t) {
      int v = given() ? graph::emit1(g, ops::StateOp{ops::StateOp::Mode::kRead}, {}, t.shape(), {&t}, name())
                      : graph::emit1(g, ops::VariableOp{}, {}, t.shape(), {&t}, name());
      return g.view(v, k);
    };
    int sd = read(var);
    sd = graph::emit1(g, ops::UnaryOp{.kind = ops::UnaryOp::Kind::kSqrt, .size = k[0]}, {sd}, k, {}, name());
    sd = merge(ops::MergeOp::Kind::kMaximum, sd, graph::broadcast_constant(g, epsilon_, Shape{}, k, name()), k);
    sd = g.view(graph::broadcast_to(g, g.view(sd, Shape(b)), Shape(b), s, name()), flat);
    int m = g.view(graph::broadcast_to(g, g.view(read(mean), Shape(b)), Shape(b), s, name()), flat);
    int x = g.view(in[0], flat);
    int y = options_.invert
                ? merge(ops::MergeOp::Kind::kAdd, m, merge(ops::MergeOp::Kind::kMultiply, x, sd, flat), flat)
                : merge(ops::MergeOp::Kind::kDivide, merge(ops::MergeOp::Kind::kSubtract, x, m, flat), sd, flat);
    out = {g.view(y, s)};
    return true;
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["axis"] = options_.axis.values;
    c["invert"] = options_.invert;
    auto listed = [](const std::vector<float>& v) {
      if (v.empty()) return nlohmann::json(nullptr);
      return v.size() == 1 ? nlohmann::json(v[0]) : nlohmann::json(v);
    };
    c["mean"] = listed(options_.mean);
    c["variance"] = listed(options_.variance);
    return c;
  }

  void adapt(const Tensor& data) {
    Shape s = data.shape();
    if (given()) fail("adapt() needs a layer without given mean and variance");
    if (built()) {
      std::vector<bool> keep = kept_axes(s);
      for (int d = 0; d < s.rank(); ++d)
        if (keep[size_t(d)] && s[d] != build_input_shapes()[0][d])
          fail("adapt() data of shape " + s.str() + " does not match the layer's input shape " +
               build_input_shapes()[0].str());
    } else {
      Shape b = s;
      if (b.rank() > 0) b[0] = None;
      build({b});
    }
    std::vector<double> mean, var;
    ops::moments(data.data(), s, kept_axes(s), mean, var);
    for (Variable* v : variables()) {
      const std::vector<double>* src = v->name == "mean" ? &mean : v->name == "variance" ? &var : nullptr;
      if (!src) continue;
      for (size_t i = 0; i < src->size(); ++i) v->value[Dim(i)] = static_cast<float>((*src)[i]);
      ++v->version;
    }
  }

 protected:
  void check_input(const Shape& s) const override { kept_axes(s); }
  void build_weights(const std::vector<Shape>& in) override {
    expect_inputs(in, 1);
    std::vector<bool> keep = kept_axes(in[0]);
    std::vector<Dim> dims;
    for (int d = 0; d < in[0].rank(); ++d)
      if (keep[size_t(d)]) {
        if (in[0][d] < 0) fail("all `axis` values to be kept must have a known shape; received " + in[0].str());
        dims.push_back(in[0][d]);
      }
    Shape kept(dims);
    if (given()) {
      // Keras reshapes the given values onto the kept axes: their count must match.
      for (const std::vector<float>* v : {&options_.mean, &options_.variance})
        if (Dim(v->size()) != kept.num_elements())
          fail("a given mean or variance of " + std::to_string(v->size()) + " values cannot be reshaped to " +
               kept.str());
      given_mean_ = Tensor(Shape{kept.num_elements()}, options_.mean);
      given_variance_ = Tensor(Shape{kept.num_elements()}, options_.variance);
      return;
    }
    add_weight("mean", kept, "zeros", false);
    add_weight("variance", kept, "ones", false);
    add_weight("count", Shape{}, "zeros", false);
  }

 private:
  bool given() const { return !options_.mean.empty(); }

  const Tensor& statistic(const std::string& n) const {
    if (given()) return n == "mean" ? given_mean_ : given_variance_;
    for (const Variable* v : variables())
      if (v->name == n) return v->value;
    fail("has no weight " + n);
  }

  std::vector<bool> kept_axes(const Shape& s) const {
    std::vector<bool> keep(static_cast<size_t>(s.rank()), false);
    for (int a : options_.axis.values) {
      if (a < -s.rank() || a >= s.rank())
        fail("All `axis` values must be in the range [-ndim, ndim). Received inputs with ndim=" +
             std::to_string(s.rank()) + ", while axis=" + std::to_string(a));
      keep[size_t(a < 0 ? a + s.rank() : a)] = true;
    }
    return keep;
  }

  NormalizationOptions options_;
  Tensor epsilon_, given_mean_, given_variance_;
};

std::vector<float> floats(const nlohmann::json& c, const char* key) {
  if (!c.contains(key) || c[key].is_null()) return {};
  std::vector<float> out;
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& v) {
    if (v.is_array()) {
      for (const auto& e : v) walk(e);
    } else if (v.is_number()) {
      out.push_back(v.get<float>());
    } else {
      throw ValueError(std::string("Normalization's ") + key + " must hold numbers, got " + c[key].dump());
    }
  };
  walk(c[key]);
  return out;
}

}  // namespace

Layer Normalization(const NormalizationOptions& options) { return Layer(std::make_shared<NormalizationImpl>(options)); }

void adapt(const Layer& normalization, const Tensor& data) {
  auto* n = normalization.as<NormalizationImpl>();
  if (!n)
    throw ValueError("adapt() takes a Normalization layer; \"" + normalization.name() + "\" is a " +
                     normalization->class_name());
  n->adapt(data);
}

Layer normalization_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  NormalizationOptions o{.name = get_string(c, "name")};
  if (c.contains("axis") && c["axis"].is_array())
    o.axis = Axes(c["axis"].get<std::vector<int>>());
  else if (c.contains("axis") && c["axis"].is_null())
    o.axis = Axes(std::vector<int>{});
  else
    o.axis = static_cast<int>(get_int(c, "axis", -1));
  o.mean = floats(c, "mean");
  o.variance = floats(c, "variance");
  o.invert = get_bool(c, "invert", false);
  Layer l = Normalization(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
