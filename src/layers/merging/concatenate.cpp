#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/graph/lowering.h"
#include "keras/layers/merging.h"
#include "layers/from_config.h"
#include "layers/merging/merge_utils.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class ConcatenateImpl : public LayerImpl {
 public:
  explicit ConcatenateImpl(const ConcatenateOptions& o) : LayerImpl(o.name, "concatenate"), axis_(o.axis) {}
  std::string class_name() const override { return "Concatenate"; }
  bool takes_list_input() const override { return true; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    if (in.empty())
      fail("A `Concatenate` layer should be called on a list of at least 1 input. Received: input_shape=[]");
    int rank = in[0].rank();
    std::string mismatch =
        "A `Concatenate` layer requires inputs with matching shapes except for the concatenation "
        "axis. Received: input_shape=" +
        merging::shapes_repr(in);
    for (const Shape& s : in)
      if (s.rank() != rank) fail(mismatch);
    if (axis_ < -rank || axis_ >= rank)
      fail("axis " + std::to_string(axis_) + " is out of bounds for inputs of rank " + std::to_string(rank) +
           ". Received: input_shape=" + merging::shapes_repr(in));
    int axis = axis_ < 0 ? axis_ + rank : axis_;
    // Unknown sizes (None) match anything, as in Keras.
    for (int d = 0; d < rank; ++d) {
      if (d == axis) continue;
      std::set<Dim> sizes;
      for (const Shape& s : in)
        if (s[d] >= 0) sizes.insert(s[d]);
      if (sizes.size() > 1) fail(mismatch);
    }
    Shape out = in[0];
    for (size_t i = 1; i < in.size(); ++i) {
      if (out[axis] < 0 || in[i][axis] < 0) {
        out[axis] = None;
        break;
      }
      out[axis] += in[i][axis];
    }
    return {out};
  }

  // Described once, as ops: the inputs' blocks one after another per outer index.
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  Gradients backward(const BackwardArgs& a) const override { return backward_ops(a); }

  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    std::vector<Shape> shapes;
    for (int v : in) shapes.push_back(g.shape(v));
    Shape y = compute_output_shape(shapes)[0];
    int axis = y.normalize_axis(axis_);
    out = {concat(g, in, axis, y)};
    if (int m = lower_mask(g, in, axis); m >= 0) g.set_output_masks({m});
    return true;
  }

  // The values joined along `axis` into shape y, as one ConcatOp.
  int concat(graph::Lowering& g, const std::vector<int>& values, int axis, const Shape& y) const {
    std::vector<Shape> shapes;
    for (int v : values) shapes.push_back(g.shape(v));
    Dim outer = 1;
    for (int d = 0; d < axis; ++d) outer *= y[d];
    ops::ConcatOp op{.outer = outer};
    for (const Shape& s : shapes) op.widths.push_back(s.num_elements() / std::max<Dim>(outer, 1));
    return g.emit(ops::Op{.attrs = std::move(op), .inputs = shapes, .outputs = {y}, .layer = name()}, values)[0];
  }

  // Keras's compute_mask (tf.keras 2 and Keras 3.1): each mask with a last axis of 1 (an input
  // without one: all ones), concatenated along the axis, then ANDed over the last axis. So along
  // the last axis the masks are ANDed; along another they are concatenated.
  int lower_mask(graph::Lowering& g, const std::vector<int>& in, int axis) const {
    std::vector<int> masks;
    bool any = false;
    for (size_t i = 0; i < in.size(); ++i) {
      masks.push_back(g.input_mask(i));
      any = any || masks.back() >= 0;
    }
    if (!any) return -1;
    int rank = g.shape(in[0]).rank();
    for (size_t i = 0; i < in.size(); ++i) {
      const Shape s = g.shape(in[i]);  // a copy: new values move the plan's shapes
      if (masks[i] < 0) {
        if (axis == rank - 1) continue;  // all ones: no effect on the AND
        // NaN differs from every value: a mask of ones over the input's leading axes.
        masks[i] = graph::mask_where_not(g, in[i], std::numeric_limits<double>::quiet_NaN(), 1, name());
      }
      Shape lead(std::vector<Dim>(s.dims().begin(), s.dims().end() - 1));
      if (g.shape(masks[i]) != lead)
        throw NotImplementedError("Layer \"" + name() + "\": a mask of shape " + g.shape(masks[i]).str() +
                                  " for input " + s.str() + " (only masks of the input's leading axes are supported)");
    }
    if (axis == rank - 1) return graph::all_masks(g, masks, name());
    std::vector<Dim> dims = g.shape(masks[0]).dims();
    dims[static_cast<size_t>(axis)] = 0;
    for (int m : masks) dims[static_cast<size_t>(axis)] += g.shape(m)[axis];
    return concat(g, masks, axis, Shape(dims));
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["axis"] = axis_;
    return c;
  }

 private:
  int axis_;
};

}  // namespace

Layer Concatenate(const ConcatenateOptions& options) { return Layer(std::make_shared<ConcatenateImpl>(options)); }
Layer Concatenate(int axis) { return Concatenate(ConcatenateOptions{.axis = axis}); }

KerasTensor concatenate(const std::vector<KerasTensor>& inputs, int axis) { return Concatenate(axis)(inputs); }

Layer concatenate_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  Layer l =
      Concatenate(ConcatenateOptions{.axis = static_cast<int>(get_int(c, "axis", -1)), .name = get_string(c, "name")});
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
