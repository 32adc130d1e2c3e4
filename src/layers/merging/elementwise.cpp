// Add, Subtract, Multiply, Average, Maximum, Minimum: Keras's Merge base class
// (keras/src/layers/merging/base_merge.py) with one binary operation folded left to right.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/graph/lowering.h"
#include "keras/layers/merging.h"
#include "layers/from_config.h"
#include "layers/merging/merge_utils.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

enum class Op { add, subtract, multiply, average, maximum, minimum };

struct OpInfo {
  const char* class_name;
  const char* prefix;
};

OpInfo info(Op op) {
  switch (op) {
    case Op::add:
      return {"Add", "add"};
    case Op::subtract:
      return {"Subtract", "subtract"};
    case Op::multiply:
      return {"Multiply", "multiply"};
    case Op::average:
      return {"Average", "average"};
    case Op::maximum:
      return {"Maximum", "maximum"};
    case Op::minimum:
      return {"Minimum", "minimum"};
  }
  return {"", ""};
}

float apply(Op op, float a, float b) {
  switch (op) {
    case Op::add:
    case Op::average:
      return a + b;
    case Op::subtract:
      return a - b;
    case Op::multiply:
      return a * b;
    case Op::maximum:
      return std::max(a, b);
    case Op::minimum:
      return std::min(a, b);
  }
  return 0;
}

// numpy broadcasting of two same-rank shapes; false when they do not broadcast.
bool broadcast_shape(const Shape& a, const Shape& b, Shape& out) {
  std::vector<Dim> d(static_cast<size_t>(a.rank()));
  for (int i = 0; i < a.rank(); ++i) {
    if (a[i] == b[i] || b[i] == 1)
      d[static_cast<size_t>(i)] = a[i];
    else if (a[i] == 1)
      d[static_cast<size_t>(i)] = b[i];
    else
      return false;
  }
  out = Shape(std::move(d));
  return true;
}

Tensor broadcast_apply(Op op, const Tensor& a, const Tensor& b, const Shape& out_shape) {
  Tensor out(out_shape);
  if (a.shape() == b.shape()) {
    for (Dim i = 0; i < out.size(); ++i) out[i] = apply(op, a[i], b[i]);
    return out;
  }
  int r = out_shape.rank();
  // Strides that are 0 along broadcast axes.
  std::vector<Dim> sa(static_cast<size_t>(r)), sb(static_cast<size_t>(r));
  Dim ka = 1, kb = 1;
  for (int d = r - 1; d >= 0; --d) {
    sa[static_cast<size_t>(d)] = a.dim(d) == 1 ? 0 : ka;
    sb[static_cast<size_t>(d)] = b.dim(d) == 1 ? 0 : kb;
    ka *= a.dim(d);
    kb *= b.dim(d);
  }
  std::vector<Dim> index(static_cast<size_t>(r), 0);
  Dim ia = 0, ib = 0;
  for (Dim flat = 0; flat < out.size(); ++flat) {
    out[flat] = apply(op, a[ia], b[ib]);
    for (int d = r - 1; d >= 0; --d) {
      auto u = static_cast<size_t>(d);
      ia += sa[u];
      ib += sb[u];
      if (++index[u] < out_shape[d]) break;
      ia -= sa[u] * index[u];
      ib -= sb[u] * index[u];
      index[u] = 0;
    }
  }
  return out;
}

// Calls f(out_flat, t_flat) for every element of `out`, where t (same rank) broadcasts to out.
template <class F>
void for_each_broadcast(const Shape& t, const Shape& out, F f) {
  int r = out.rank();
  std::vector<Dim> st(static_cast<size_t>(r)), index(static_cast<size_t>(r), 0);
  for (Dim d = r - 1, k = 1; d >= 0; --d) {
    st[static_cast<size_t>(d)] = t[static_cast<int>(d)] == 1 ? 0 : k;
    k *= t[static_cast<int>(d)];
  }
  Dim it = 0, n = out.num_elements();
  for (Dim flat = 0; flat < n; ++flat) {
    f(flat, it);
    for (int d = r - 1; d >= 0; --d) {
      auto u = static_cast<size_t>(d);
      it += st[u];
      if (++index[u] < out[d]) break;
      it -= st[u] * index[u];
      index[u] = 0;
    }
  }
}

Tensor broadcast_to(const Tensor& t, const Shape& out) {
  if (t.shape() == out) return t;
  Tensor b(out);
  for_each_broadcast(t.shape(), out, [&](Dim o, Dim i) { b[o] = t[i]; });
  return b;
}

// The gradient of a broadcast: sums over the axes where `shape` has size 1.
Tensor reduce_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  Tensor r(shape);
  for_each_broadcast(shape, g.shape(), [&](Dim o, Dim i) { r[i] += g[o]; });
  return r;
}

class ElementwiseMergeImpl : public LayerImpl {
  ops::MergeOp::Kind merge_kind() const {
    using K = ops::MergeOp::Kind;
    switch (op_) {
      case Op::add:
        return K::kAdd;
      case Op::subtract:
        return K::kSubtract;
      case Op::multiply:
        return K::kMultiply;
      case Op::average:
        return K::kAverage;
      case Op::maximum:
        return K::kMaximum;
      case Op::minimum:
        return K::kMinimum;
    }
    return K::kAdd;
  }

 public:
  ElementwiseMergeImpl(Op op, const MergeOptions& o) : LayerImpl(o.name, info(op).prefix), op_(op) {}
  std::string class_name() const override { return info(op_).class_name; }
  bool takes_list_input() const override { return true; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    if (in.empty())
      fail(
          "A merge layer should be called on a list of at least 1 input. Received 0 inputs. Full input_shape "
          "received: []");
    std::set<Dim> batch_sizes;
    for (const Shape& s : in)
      if (s.rank() > 0 && s[0] >= 0) batch_sizes.insert(s[0]);
    if (batch_sizes.size() > 1)
      fail("Cannot merge tensors with different batch sizes. Received tensors with shapes " + merging::shapes_repr(in));
    Shape out = in[0].without_batch();
    for (size_t i = 1; i < in.size(); ++i) out = elementwise_shape(out, in[i].without_batch());
    if (op_ == Op::subtract && in.size() != 2)
      fail("A `Subtract` layer should be called on exactly 2 inputs. Received: input_shape=" +
           merging::shapes_repr(in));
    return {out.with_batch(batch_sizes.size() == 1 ? *batch_sizes.begin() : None)};
  }

  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext&) const override {
    std::vector<Shape> shapes;
    for (const Tensor& t : inputs) shapes.push_back(t.shape());
    compute_output_shape(shapes);
    int rank = 0;
    for (const Tensor& t : inputs) rank = std::max(rank, t.rank());
    Tensor out = expanded(inputs[0], rank);
    for (size_t i = 1; i < inputs.size(); ++i) {
      Tensor x = expanded(inputs[i], rank);
      Shape s;
      if (!broadcast_shape(out.shape(), x.shape(), s))
        fail("Inputs have incompatible shapes. Received shapes " + out.shape().str() + " and " + x.shape().str());
      out = broadcast_apply(op_, out, x, s);
    }
    if (op_ == Op::average) {
      float n = static_cast<float>(inputs.size());
      for (float& v : out.values()) v /= n;
    }
    return {std::move(out)};
  }

  // Equal shapes only; broadcasting merges run through call().
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape& s = g.shape(in.at(0));
    ops::Op op{.attrs = ops::MergeOp{merge_kind(), s.num_elements()}, .outputs = {s}, .layer = name()};
    for (int v : in) {
      if (g.shape(v) != s) return false;
      op.inputs.push_back(s);
    }
    out = g.emit(std::move(op), in);
    return true;
  }

  // Each input's share of the output gradient at the output's (broadcast) shape, summed
  // back over the axes the input was broadcast along.
  Gradients backward(const BackwardArgs& a) const override {
    const Tensor& g = a.output_grads.at(0);
    const Shape& out = g.shape();
    std::vector<Tensor> full;  // inputs broadcast to the output's shape
    if (op_ == Op::multiply || op_ == Op::maximum || op_ == Op::minimum)
      for (const Tensor& x : a.inputs) full.push_back(broadcast_to(expanded(x, out.rank()), out));
    std::vector<size_t> winner;
    if (op_ == Op::maximum || op_ == Op::minimum) winner = winners(full);
    Gradients grads;
    for (size_t i = 0; i < a.inputs.size(); ++i) {
      Tensor gi = g;
      if (op_ == Op::average) gi = g / static_cast<float>(a.inputs.size());
      if (op_ == Op::subtract && i == 1) gi = g * -1.0f;
      if (op_ == Op::multiply)
        for (size_t j = 0; j < full.size(); ++j)
          if (j != i)
            for (Dim k = 0; k < gi.size(); ++k) gi[k] *= full[j][k];
      if (!winner.empty())
        for (Dim k = 0; k < gi.size(); ++k)
          if (winner[static_cast<size_t>(k)] != i) gi[k] = 0;
      const Tensor& x = a.inputs[i];
      grads.inputs.push_back(reduce_to(gi, expanded(x, out.rank()).shape()).reshape(x.shape()));
    }
    return grads;
  }

 private:
  // Keras's _compute_elemwise_op_output_shape: shapes without batch, aligned on the right.
  Shape elementwise_shape(const Shape& a, const Shape& b) const {
    if (a.rank() < b.rank()) return elementwise_shape(b, a);
    std::vector<Dim> out(a.begin(), a.begin() + (a.rank() - b.rank()));
    for (int k = 0; k < b.rank(); ++k) {
      Dim i = a[a.rank() - b.rank() + k], j = b[k];
      if (i < 0 || j < 0)
        out.push_back(None);
      else if (i == 1)
        out.push_back(j);
      else if (j == 1 || i == j)
        out.push_back(i);
      else
        fail("Inputs have incompatible shapes. Received shapes " + a.str() + " and " + b.str());
    }
    return Shape(std::move(out));
  }

  // Inputs of lower rank get size-1 axes inserted after the batch axis.
  static Tensor expanded(const Tensor& t, int rank) {
    if (t.rank() == rank) return t;
    std::vector<Dim> d = t.shape().dims();
    d.insert(d.begin() + (d.empty() ? 0 : 1), static_cast<size_t>(rank - t.rank()), 1);
    return t.reshape(Shape(std::move(d)));
  }

  // Which input each output element came from. As TensorFlow's maximum/minimum gradients
  // folded left to right, a tie goes to the earlier input.
  std::vector<size_t> winners(const std::vector<Tensor>& full) const {
    std::vector<size_t> w(static_cast<size_t>(full[0].size()), 0);
    Tensor best = full[0];
    for (size_t j = 1; j < full.size(); ++j)
      for (Dim k = 0; k < best.size(); ++k) {
        float v = full[j][k];
        if (op_ == Op::maximum ? v > best[k] : v < best[k]) {
          best[k] = v;
          w[static_cast<size_t>(k)] = j;
        }
      }
    return w;
  }

  Op op_;
};

Layer make(Op op, const MergeOptions& o) { return Layer(std::make_shared<ElementwiseMergeImpl>(op, o)); }

Layer from_config(Op op, const nlohmann::json& c) {
  Layer l = make(op, MergeOptions{.name = saving::get_string(c, "name")});
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace

Layer Add(const MergeOptions& options) { return make(Op::add, options); }
Layer Subtract(const MergeOptions& options) { return make(Op::subtract, options); }
Layer Multiply(const MergeOptions& options) { return make(Op::multiply, options); }
Layer Average(const MergeOptions& options) { return make(Op::average, options); }
Layer Maximum(const MergeOptions& options) { return make(Op::maximum, options); }
Layer Minimum(const MergeOptions& options) { return make(Op::minimum, options); }

KerasTensor add(const std::vector<KerasTensor>& inputs) { return Add()(inputs); }
KerasTensor subtract(const std::vector<KerasTensor>& inputs) { return Subtract()(inputs); }
KerasTensor multiply(const std::vector<KerasTensor>& inputs) { return Multiply()(inputs); }
KerasTensor average(const std::vector<KerasTensor>& inputs) { return Average()(inputs); }
KerasTensor maximum(const std::vector<KerasTensor>& inputs) { return Maximum()(inputs); }
KerasTensor minimum(const std::vector<KerasTensor>& inputs) { return Minimum()(inputs); }

Layer add_from_config(const nlohmann::json& c, const ConfigContext&) { return from_config(Op::add, c); }
Layer subtract_from_config(const nlohmann::json& c, const ConfigContext&) { return from_config(Op::subtract, c); }
Layer multiply_from_config(const nlohmann::json& c, const ConfigContext&) { return from_config(Op::multiply, c); }
Layer average_from_config(const nlohmann::json& c, const ConfigContext&) { return from_config(Op::average, c); }
Layer maximum_from_config(const nlohmann::json& c, const ConfigContext&) { return from_config(Op::maximum, c); }
Layer minimum_from_config(const nlohmann::json& c, const ConfigContext&) { return from_config(Op::minimum, c); }

}  // namespace keras::layers
