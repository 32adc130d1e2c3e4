#include "engine/graph/lowering.h"

#include <algorithm>
#include <numeric>

#include "keras/layer.h"
#include "ops/activations.h"

namespace keras::graph {

ValueId transpose(Lowering& g, ValueId v, std::vector<int> perm, const std::string& layer) {
  const Shape& s = g.shape(v);
  std::vector<Dim> dims;
  for (int p : perm) dims.push_back(s[p]);
  ops::Op op{.attrs = ops::TransposeOp{std::move(perm)}, .inputs = {s}, .outputs = {Shape(dims)}, .layer = layer};
  return g.emit(std::move(op), {v})[0];
}

ValueId emit1(Lowering& g, ops::OpAttrs attrs, const std::vector<ValueId>& inputs, Shape out,
              std::vector<const Tensor*> weights, const std::string& layer) {
  ops::Op op{.attrs = std::move(attrs), .outputs = {std::move(out)}, .weights = std::move(weights), .layer = layer};
  for (ValueId v : inputs) op.inputs.push_back(g.shape(v));
  return g.emit(std::move(op), inputs)[0];
}

std::vector<int> inverse_permutation(const std::vector<int>& perm) {
  std::vector<int> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[static_cast<size_t>(perm[i])] = static_cast<int>(i);
  return inv;
}

ValueId move_axes_last(Lowering& g, ValueId v, const std::vector<bool>& moved, std::vector<int>& perm,
                       const std::string& layer) {
  perm.clear();
  for (bool last : {false, true})
    for (size_t d = 0; d < moved.size(); ++d)
      if (moved[d] == last) perm.push_back(static_cast<int>(d));
  return std::is_sorted(perm.begin(), perm.end()) ? v : transpose(g, v, perm, layer);
}

ValueId move_axes_back(Lowering& g, ValueId v, const std::vector<int>& perm, const std::string& layer) {
  return std::is_sorted(perm.begin(), perm.end()) ? v : transpose(g, v, inverse_permutation(perm), layer);
}

ValueId broadcast_to(Lowering& g, ValueId v, const Shape& from, const Shape& to, const std::string& layer) {
  std::vector<Dim> d(static_cast<size_t>(to.rank() - from.rank()), 1);
  d.insert(d.end(), from.begin(), from.end());
  v = g.view(v, Shape(d));
  return Shape(d) == to ? v : emit1(g, ops::BroadcastOp{}, {v}, to, {}, layer);
}

ValueId broadcast_constant(Lowering& g, const Tensor& c, const Shape& shape, const Shape& to,
                           const std::string& layer) {
  ValueId v = emit1(g, ops::StateOp{ops::StateOp::Mode::kRead}, {}, c.shape(), {&c}, layer);
  return broadcast_to(g, v, shape, to, layer);
}

ValueId to_channels_last(Lowering& g, ValueId v, const std::string& layer) {
  int rank = g.shape(v).rank();
  std::vector<int> perm{0};
  for (int i = 2; i < rank; ++i) perm.push_back(i);
  perm.push_back(1);
  return transpose(g, v, std::move(perm), layer);
}

ValueId to_channels_first(Lowering& g, ValueId v, const std::string& layer) {
  int rank = g.shape(v).rank();
  std::vector<int> perm{0, rank - 1};
  for (int i = 1; i < rank - 1; ++i) perm.push_back(i);
  return transpose(g, v, std::move(perm), layer);
}

ValueId activation(Lowering& g, ValueId v, const std::string& name, const std::string& layer) {
  if (ops::is_linear(name)) return v;
  const Shape& s = g.shape(v);
  Dim size = 1;
  for (int i = 0; i < s.rank(); ++i) size *= s[i];
  ops::Op op{
      .attrs = ops::ActivationOp{name, size, s.rank() ? s[-1] : 1}, .inputs = {s}, .outputs = {s}, .layer = layer};
  return g.emit(std::move(op), {v})[0];
}

ValueId mask_where_not(Lowering& g, ValueId v, double value, int reduced, const std::string& layer) {
  const Shape& s = g.shape(v);
  std::vector<Dim> lead;
  Dim last = 1;
  for (int i = 0; i < s.rank(); ++i) {
    if (i < s.rank() - reduced)
      lead.push_back(s[i]);
    else
      last *= s[i];
  }
  Shape out(lead);
  return emit1(g, {ops::MaskOp{.rows = out.num_elements(), .last = last, .value = value}}, {v}, out, {}, layer);
}

ValueId apply_mask(Lowering& g, ValueId v, ValueId mask, const std::string& layer) {
  const Shape s = g.shape(v);  // a copy: new values move the plan's shapes
  std::vector<Dim> dims = g.shape(mask).dims();
  while (static_cast<int>(dims.size()) < s.rank()) dims.push_back(1);
  ValueId m = g.view(mask, Shape(dims));
  if (g.shape(m) != s) m = emit1(g, {ops::BroadcastOp{}}, {m}, s, {}, layer);
  return emit1(g, {ops::MergeOp{ops::MergeOp::Kind::kMultiply, s.num_elements()}}, {v, m}, s, {}, layer);
}

ValueId all_masks(Lowering& g, const std::vector<ValueId>& masks, const std::string& layer) {
  std::vector<ValueId> present;
  for (ValueId m : masks)
    if (m >= 0) present.push_back(m);
  if (present.size() <= 1) return present.empty() ? -1 : present[0];
  const Shape& s = g.shape(present[0]);
  return emit1(g, {ops::MergeOp{ops::MergeOp::Kind::kMultiply, s.num_elements()}}, present, s, {}, layer);
}

}  // namespace keras::graph
