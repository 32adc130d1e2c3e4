// Dot: Keras's batch_dot (keras/src/layers/merging/dot.py) of two inputs along one axis each.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "keras/layers/merging.h"
#include "layers/from_config.h"
#include "layers/merging/merge_utils.h"
#include "ops/kernels.h"
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

// x * min(rsqrt(sum(x^2)), 1/epsilon) along `axis` (keras.ops.normalize, order 2, epsilon 1e-7).
Tensor l2_normalize(const Tensor& x, int axis) {
  Tensor y = x;
  Dim n = x.dim(axis), inner = product(x.shape(), axis + 1, x.rank()), outer = product(x.shape(), 0, axis);
  for (Dim o = 0; o < outer; ++o)
    for (Dim i = 0; i < inner; ++i) {
      float* base = y.data() + o * n * inner + i;
      double sq = 0;
      for (Dim k = 0; k < n; ++k) sq += double(base[k * inner]) * base[k * inner];
      float inv = static_cast<float>(std::min(1.0 / std::sqrt(sq), 1e7));
      for (Dim k = 0; k < n; ++k) base[k * inner] *= inv;
    }
  return y;
}

// (B, pre, K, post) -> (B, pre, post, K) when k_last, else (B, K, pre, post).
Tensor move_axis(const Tensor& x, int axis, bool k_last) {
  Dim b = x.dim(0), pre = product(x.shape(), 1, axis), k = x.dim(axis), post = product(x.shape(), axis + 1, x.rank());
  Tensor out(Shape{b * pre * k * post});
  for (Dim bi = 0; bi < b; ++bi)
    for (Dim p = 0; p < pre; ++p)
      for (Dim ki = 0; ki < k; ++ki)
        for (Dim q = 0; q < post; ++q) {
          Dim src = ((bi * pre + p) * k + ki) * post + q;
          Dim dst = k_last ? ((bi * pre + p) * post + q) * k + ki : ((bi * k + ki) * pre + p) * post + q;
          out[dst] = x[src];
        }
  return out;
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
    if (in.size() != 2) fail("A `Dot` layer should be called on a list of 2 inputs. Received: input_shape=" + merging::shapes_repr(in));
    const Shape &s1 = in[0], &s2 = in[1];
    if (s1.rank() < 2 || s2.rank() < 2)
      fail("Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes " + s1.str() + " and " + s2.str() + ".");
    if (s1[0] >= 0 && s2[0] >= 0 && s1[0] != s2[0])
      fail("Cannot do batch_dot on inputs with different batch sizes. Received inputs with shapes " + s1.str() + " and " +
           s2.str() + ".");
    auto [a0, a1] = resolve(s1.rank(), s2.rank());
    if (a0 == 0 || a1 == 0)
      fail("Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy batch dimension to your "
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

  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext&) const override {
    Shape out_shape = compute_output_shape({inputs.at(0).shape(), inputs.at(1).shape()})[0];
    auto [a0, a1] = resolve(inputs[0].rank(), inputs[1].rank());
    Tensor x = normalize_ ? l2_normalize(inputs[0], a0) : inputs[0];
    Tensor y = normalize_ ? l2_normalize(inputs[1], a1) : inputs[1];
    Dim batch = x.dim(0), k = x.dim(a0);
    Dim m = x.size() / std::max<Dim>(batch * k, 1), n = y.size() / std::max<Dim>(batch * k, 1);
    Tensor xm = move_axis(x, a0, true), ym = move_axis(y, a1, false);
    Tensor out(out_shape);
    for (Dim b = 0; b < batch; ++b)
      ops::kernels().gemm(false, false, m, n, k, 1.0f, xm.data() + b * m * k, k, ym.data() + b * k * n, n, 0.0f,
                          out.data() + b * m * n, n);
    return {std::move(out)};
  }

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
