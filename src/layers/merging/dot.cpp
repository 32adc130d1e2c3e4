// Dot: Keras's batch_dot (keras/src/layers/merging/dot.py) of two inputs along one axis each.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <tuple>

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

// The gradient of l2_normalize: with n = |x| and u = x/n, dx = (g - u * sum(g*u)) / n; where
// the 1/epsilon cap is active the map is x * 1e7, so dx = g * 1e7.
Tensor l2_normalize_grad(const Tensor& x, int axis, const Tensor& g) {
  Tensor dx(x.shape());
  Dim n = x.dim(axis), inner = product(x.shape(), axis + 1, x.rank()), outer = product(x.shape(), 0, axis);
  for (Dim o = 0; o < outer; ++o)
    for (Dim i = 0; i < inner; ++i) {
      Dim base = o * n * inner + i;
      double sq = 0, dot = 0;
      for (Dim k = 0; k < n; ++k) sq += double(x[base + k * inner]) * x[base + k * inner];
      double inv = 1.0 / std::sqrt(sq);
      if (!(inv < 1e7)) {
        for (Dim k = 0; k < n; ++k) dx[base + k * inner] = static_cast<float>(g[base + k * inner] * 1e7);
        continue;
      }
      for (Dim k = 0; k < n; ++k) dot += double(g[base + k * inner]) * x[base + k * inner] * inv;
      for (Dim k = 0; k < n; ++k)
        dx[base + k * inner] = static_cast<float>(inv * (g[base + k * inner] - x[base + k * inner] * inv * dot));
    }
  return dx;
}

// (B, pre, K, post) -> (B, pre, post, K) when k_last, else (B, K, pre, post); `back` undoes it
// (x is then the moved tensor and `shape` the original shape).
Tensor move_axis(const Tensor& x, int axis, bool k_last, const Shape* back = nullptr) {
  const Shape& s = back ? *back : x.shape();
  Dim b = s[0], pre = product(s, 1, axis), k = s[axis], post = product(s, axis + 1, s.rank());
  Tensor out(back ? s : Shape{b * pre * k * post});
  for (Dim bi = 0; bi < b; ++bi)
    for (Dim p = 0; p < pre; ++p)
      for (Dim ki = 0; ki < k; ++ki)
        for (Dim q = 0; q < post; ++q) {
          Dim src = ((bi * pre + p) * k + ki) * post + q;
          Dim dst = k_last ? ((bi * pre + p) * post + q) * k + ki : ((bi * k + ki) * pre + p) * post + q;
          if (back)
            out[src] = x[dst];
          else
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
    Operands p = operands(inputs);
    Tensor out(out_shape);
    for (Dim b = 0; b < p.batch; ++b)
      ops::kernels().gemm(false, false, p.m, p.n, p.k, 1.0f, p.xm.data() + b * p.m * p.k, p.k,
                          p.ym.data() + b * p.k * p.n, p.n, 0.0f, out.data() + b * p.m * p.n, p.n);
    return {std::move(out)};
  }

  // out[b] = xm[b] @ ym[b]: dxm = g @ ym^T, dym = xm^T @ g, then undo the axis moves and the
  // normalisation.
  Gradients backward(const BackwardArgs& a) const override {
    const Tensor& g = a.output_grads.at(0);
    Operands p = operands(a.inputs);
    Tensor dxm(p.xm.shape()), dym(p.ym.shape());
    for (Dim b = 0; b < p.batch; ++b) {
      const float* gb = g.data() + b * p.m * p.n;
      ops::kernels().gemm(false, true, p.m, p.k, p.n, 1.0f, gb, p.n, p.ym.data() + b * p.k * p.n, p.n, 0.0f,
                          dxm.data() + b * p.m * p.k, p.k);
      ops::kernels().gemm(true, false, p.k, p.n, p.m, 1.0f, p.xm.data() + b * p.m * p.k, p.k, gb, p.n, 0.0f,
                          dym.data() + b * p.k * p.n, p.n);
    }
    Tensor dx = move_axis(dxm, p.a0, true, &a.inputs[0].shape());
    Tensor dy = move_axis(dym, p.a1, false, &a.inputs[1].shape());
    if (normalize_) {
      dx = l2_normalize_grad(a.inputs[0], p.a0, dx);
      dy = l2_normalize_grad(a.inputs[1], p.a1, dy);
    }
    return {{std::move(dx), std::move(dy)}, {}};
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

  // Both inputs as batches of matrices: xm (batch, m, k) and ym (batch, k, n).
  struct Operands {
    int a0 = 0, a1 = 0;
    Dim batch = 0, m = 0, k = 0, n = 0;
    Tensor xm, ym;
  };
  Operands operands(const std::vector<Tensor>& inputs) const {
    Operands p;
    std::tie(p.a0, p.a1) = resolve(inputs.at(0).rank(), inputs.at(1).rank());
    Tensor x = normalize_ ? l2_normalize(inputs[0], p.a0) : inputs[0];
    Tensor y = normalize_ ? l2_normalize(inputs[1], p.a1) : inputs[1];
    p.batch = x.dim(0);
    p.k = x.dim(p.a0);
    p.m = x.size() / std::max<Dim>(p.batch * p.k, 1);
    p.n = y.size() / std::max<Dim>(p.batch * p.k, 1);
    p.xm = move_axis(x, p.a0, true);
    p.ym = move_axis(y, p.a1, false);
    return p;
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
