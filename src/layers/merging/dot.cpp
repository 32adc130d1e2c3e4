// Dot: Keras's batch_dot (keras/src/layers/merging/dot.py) of two inputs along one axis each.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/merging.h"
#include "layers/from_config.h"
#include "layers/merging/merge_utils.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

std::string ints_repr(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

int py_mod(int a, int n) { return ((a % n) + n) % n; }

Dim product(const Shape& s, int begin, int end) {
  Dim p = 1;
  for (int d = begin; d < end; ++d) p *= s[d];
  return p;
}

class DotImpl : public LayerImpl {
 public:
  explicit DotImpl(const DotOptions& o) : LayerImpl(o.name, "dot"), axes_(o.axes.values), normalize_(o.normalize) {
    if (axes_.size() != 1 && axes_.size() != 2)
      throw ValueError("Invalid format for argument `axes`: it should contain two elements. Received: axes=" +
                       ints_repr(axes_));
  }
  std::string class_name() const override { return "Dot"; }
  bool takes_list_input() const override { return true; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    if (in.size() != 2)
      fail("A `Dot` layer should be called on a list of 2 inputs. Received: input_shape=" + merging::shapes_repr(in));
    const Shape &s1 = in[0], &s2 = in[1];
    if (s1.rank() < 2 || s2.rank() < 2)
      fail("Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes " + s1.str() + " and " + s2.str() +
           ".");
    if (s1[0] >= 0 && s2[0] >= 0 && s1[0] != s2[0])
      fail("Cannot do batch_dot on inputs with different batch sizes. Received inputs with shapes " + s1.str() +
           " and " + s2.str() + ".");
    auto [a0, a1] = resolve(s1.rank(), s2.rank());
    if (a0 == 0 || a1 == 0)
      fail(
          "Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy batch dimension to your "
          "inputs using keras.ops.expand_dims(x, 0)");
    if (a0 >= s1.rank() || a1 >= s2.rank())
      fail("axes " + ints_repr({a0, a1}) + " are out of bounds for inputs of shapes " + s1.str() + " and " + s2.str());
    if (s1[a0] >= 0 && s2[a1] >= 0 && s1[a0] != s2[a1])
      fail("Incompatible input shapes: axis values " + std::to_string(s1[a0]) + " (at axis " + std::to_string(a0) +
           ") != " + std::to_string(s2[a1]) + " (at axis " + std::to_string(a1) + "). Full input shapes: " + s1.str() +
           ", " + s2.str());
    std::vector<Dim> out;
    for (int d = 0; d < s1.rank(); ++d)
      if (d != a0) out.push_back(s1[d]);
    for (int d = 1; d < s2.rank(); ++d)
      if (d != a1) out.push_back(s2[d]);
    if (out.size() == 1) out.push_back(1);
    return {Shape(std::move(out))};
  }

  // Described once, as ops: each input (normalized first when asked) as a batch of matrices,
  // x (B, pre, K, post) -> (B, pre*post, K) and y -> (B, K, pre*post) by transposes where the
  // axis is not already in place, then one batched product.
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    compute_output_shape({inputs.at(0).shape(), inputs.at(1).shape()});
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape s1 = g.shape(in.at(0)), s2 = g.shape(in.at(1));
    Shape y = compute_output_shape({s1, s2})[0];
    auto [a0, a1] = resolve(s1.rank(), s2.rank());
    Dim batch = s1[0], k = s1[a0];
    if (batch * k == 0) return false;
    Dim m = s1.num_elements() / (batch * k), n = s2.num_elements() / (batch * k);
    int x = as_matrices(g, in[0], a0, true, Shape{batch, m, k});
    int w = as_matrices(g, in[1], a1, false, Shape{batch, k, n});
    int p =
        graph::emit1(g, ops::MatMulOp{.m = m, .n = n, .k = k, .batch = batch}, {x, w}, Shape{batch, m, n}, {}, name());
    out = {g.view(p, y)};
    return true;
  }
  Gradients backward(const BackwardArgs& a) const override { return backward_ops(a); }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["axes"] = axes_.size() == 1 ? nlohmann::json(axes_[0]) : nlohmann::json(axes_);
    c["normalize"] = normalize_;
    return c;
  }

 private:
  std::pair<int, int> resolve(int r1, int r2) const {
    if (axes_.size() == 1) {
      int a = axes_[0];
      return a < 0 ? std::pair{py_mod(a, r1), py_mod(a, r2)} : std::pair{a, a};
    }
    return {axes_[0] < 0 ? py_mod(axes_[0], r1) : axes_[0], axes_[1] < 0 ? py_mod(axes_[1], r2) : axes_[1]};
  }

  // v normalized along `axis` when asked, its axis moved last (k_last) or next to the batch,
  // viewed as `matrices`.
  int as_matrices(graph::Lowering& g, int v, int axis, bool k_last, const Shape& matrices) const {
    const Shape s = g.shape(v);
    if (normalize_) {
      ops::L2NormalizeOp l2{.outer = product(s, 0, axis), .n = s[axis], .inner = product(s, axis + 1, s.rank())};
      v = graph::emit1(g, l2, {v}, s, {}, name());
    }
    std::vector<int> perm{0};
    if (!k_last) perm.push_back(axis);
    for (int d = 1; d < s.rank(); ++d)
      if (d != axis) perm.push_back(d);
    if (k_last) perm.push_back(axis);
    if (!std::is_sorted(perm.begin(), perm.end())) v = graph::transpose(g, v, perm, name());
    return g.view(v, matrices);
  }

  std::vector<int> axes_;
  bool normalize_;
};

}  // namespace

Layer Dot(const DotOptions& options) { return Layer(std::make_shared<DotImpl>(options)); }
Layer Dot(int axes, bool normalize) { return Dot(DotOptions{.axes = axes, .normalize = normalize}); }
Layer Dot(std::initializer_list<int> axes, bool normalize) {
  return Dot(DotOptions{.axes = Axes(axes), .normalize = normalize});
}

KerasTensor dot(const std::vector<KerasTensor>& inputs, Axes axes, bool normalize) {
  return Dot(DotOptions{.axes = std::move(axes), .normalize = normalize})(inputs);
}

Layer dot_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  DotOptions o{.axes = -1, .normalize = get_bool(c, "normalize", false), .name = get_string(c, "name")};
  if (c.contains("axes") && c["axes"].is_array())
    o.axes = Axes(c["axes"].get<std::vector<int>>());
  else
    o.axes = static_cast<int>(get_int(c, "axes", -1));
  Layer l = Dot(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
