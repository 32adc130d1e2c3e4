// Add, Subtract, Multiply, Average, Maximum, Minimum: Keras's Merge base class
// (keras/src/layers/merging/base_merge.py) with one binary operation folded left to right.
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

  // Described once, as ops: inputs of lower rank get size-1 axes after the batch axis, inputs
  // that broadcast are repeated to the output's shape, then one merge op (for Keras's fold
  // left to right, broadcasting first gives the same values).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    std::vector<Shape> shapes;
    for (int v : in) shapes.push_back(g.shape(v));
    Shape y = compute_output_shape(shapes)[0];
    ops::Op op{.attrs = ops::MergeOp{merge_kind(), y.num_elements()}, .outputs = {y}, .layer = name()};
    std::vector<int> full;
    for (int v : in) {
      std::vector<Dim> d = g.shape(v).dims();
      d.insert(d.begin() + (d.empty() ? 0 : 1), static_cast<size_t>(y.rank() - g.shape(v).rank()), 1);
      int e = g.view(v, Shape(d));
      if (g.shape(e) != y) e = graph::emit1(g, ops::BroadcastOp{}, {e}, y, {}, name());
      full.push_back(e);
      op.inputs.push_back(y);
    }
    out = g.emit(std::move(op), full);
    // Keras's merge compute_mask: the inputs' masks ANDed (those without one left out).
    std::vector<int> masks;
    for (size_t i = 0; i < in.size(); ++i) masks.push_back(g.input_mask(i));
    if (int m = graph::all_masks(g, masks, name()); m >= 0) g.set_output_masks({m});
    return true;
  }
  Gradients backward(const BackwardArgs& a) const override { return backward_ops(a); }

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
