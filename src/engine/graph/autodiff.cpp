#include "engine/graph/autodiff.h"

#include <utility>

#include "keras/errors.h"
#include "keras/layer.h"
#include "ops/activations.h"
#include "ops/recurrent.h"

namespace keras::graph {

namespace {

const ops::Epilogue* epilogue_of(const ops::Op& op) {
  if (const auto* d = std::get_if<ops::DenseOp>(&op.attrs)) return &d->epilogue;
  if (const auto* c = std::get_if<ops::Conv2DOp>(&op.attrs)) return &c->epilogue;
  if (const auto* t = std::get_if<ops::Conv2DTransposeOp>(&op.attrs)) return &t->epilogue;
  return nullptr;
}

// dz of y = f(z) from dy (the value itself for a linear f). `z` is the pre-activation value, or
// y where the gradient reads only the output.
ValueId activation_grad(Lowering& g, const std::string& name, ValueId z, ValueId y, ValueId dy,
                        const std::string& layer) {
  if (ops::is_linear(name)) return dy;
  const Shape& s = g.shape(y);
  return emit1(g, {ops::ActivationGradOp{name, s.num_elements(), s.rank() ? s[-1] : 1}}, {z, y, dy}, s, {}, layer);
}

ValueId bias_grad(Lowering& g, ValueId dz, Dim channels, const std::string& layer) {
  Dim rows = g.shape(dz).num_elements() / channels;
  return emit1(g, {ops::BiasGradOp{rows, channels}}, {dz}, Shape{channels}, {}, layer);
}

OpGradients dense(Lowering& g, const ops::Op& op, const ops::DenseOp& a, ValueId x, ValueId y, ValueId dy,
                  bool need_x) {
  OpGradients r{{-1}, {}};
  ValueId dz = activation_grad(g, a.epilogue.activation, y, y, dy, op.layer);
  // The product sees x and dz as matrices; the values may carry more axes.
  ValueId x2 = g.view(x, Shape{a.rows, a.in}), dz2 = g.view(dz, Shape{a.rows, a.units});
  if (need_x) {
    ValueId dx = emit1(g, {ops::MatMulOp{.m = a.rows, .n = a.in, .k = a.units, .trans_b = true}}, {dz2},
                       Shape{a.rows, a.in}, {op.weights[0]}, op.layer);
    r.inputs[0] = g.view(dx, op.inputs[0]);
  }
  r.weights.push_back(emit1(g, {ops::MatMulOp{.m = a.in, .n = a.units, .k = a.rows, .trans_a = true}}, {x2, dz2},
                            op.weights[0]->shape(), {}, op.layer));
  if (a.epilogue.bias) r.weights.push_back(bias_grad(g, dz2, a.units, op.layer));
  return r;
}

OpGradients conv2d(Lowering& g, const ops::Op& op, const ops::Conv2DOp& a, ValueId x, ValueId y, ValueId dy,
                   bool need_x) {
  OpGradients r{{-1}, {}};
  ValueId dz = activation_grad(g, a.epilogue.activation, y, y, dy, op.layer);
  using Wrt = ops::Conv2DGradOp::Wrt;
  if (need_x)
    r.inputs[0] = emit1(g, {ops::Conv2DGradOp{a.geometry, a.depthwise, Wrt::kInput}}, {dz}, op.inputs[0],
                        {op.weights[0]}, op.layer);
  r.weights.push_back(emit1(g, {ops::Conv2DGradOp{a.geometry, a.depthwise, Wrt::kKernel}}, {x, dz},
                            op.weights[0]->shape(), {}, op.layer));
  if (a.epilogue.bias) r.weights.push_back(bias_grad(g, dz, a.geometry.out_c, op.layer));
  return r;
}

// y = C^T x for the forward convolution C of the op's geometry (from y's shape to x's): dx = C dz
// and the kernel's gradient is C's, for C's input dz and output gradient x.
OpGradients conv2d_transpose(Lowering& g, const ops::Op& op, const ops::Conv2DTransposeOp& a, ValueId x, ValueId y,
                             ValueId dy, bool need_x) {
  OpGradients r{{-1}, {}};
  ValueId dz = activation_grad(g, a.epilogue.activation, y, y, dy, op.layer);
  if (need_x)
    r.inputs[0] = emit1(g, {ops::Conv2DOp{.geometry = a.geometry}}, {dz}, op.inputs[0], {op.weights[0]}, op.layer);
  r.weights.push_back(emit1(g, {ops::Conv2DGradOp{a.geometry, false, ops::Conv2DGradOp::Wrt::kKernel}}, {dz, x},
                            op.weights[0]->shape(), {}, op.layer));
  if (a.epilogue.bias) r.weights.push_back(bias_grad(g, dz, a.geometry.in_c, op.layer));
  return r;
}

// C = A B for two inputs (batched): dA = dC B^T, dB = A^T dC.
OpGradients matmul(Lowering& g, const ops::Op& op, const ops::MatMulOp& a, const std::vector<ValueId>& in, ValueId dc,
                   const std::vector<bool>& need) {
  OpGradients r{{-1, -1}, {}};
  if (need[0])
    r.inputs[0] =
        emit1(g, {ops::MatMulOp{a.m, a.k, a.n, false, true, a.batch}}, {dc, in[1]}, op.inputs[0], {}, op.layer);
  if (need[1])
    r.inputs[1] =
        emit1(g, {ops::MatMulOp{a.k, a.n, a.m, true, false, a.batch}}, {in[0], dc}, op.inputs[1], {}, op.layer);
  return r;
}

// dx, dgamma and dbeta in one op: the batch statistics make every dx read every dy of its
// channel.
OpGradients batch_norm(Lowering& g, const ops::Op& op, const ops::BatchNormOp& a, const std::vector<ValueId>& inputs,
                       const std::vector<ValueId>& outputs, const std::vector<ValueId>& dy) {
  ops::Op back{.attrs = ops::BatchNormGradOp{a}, .outputs = {op.inputs[0]}, .layer = op.layer};
  if (a.gamma) back.weights.push_back(op.weights[0]);
  if (a.moving) back.weights.insert(back.weights.end(), op.weights.end() - 2, op.weights.end());
  for (const Tensor* w : op.weights) back.outputs.push_back(w->shape());  // one gradient per weight
  std::vector<ValueId> in{inputs[0], dy[0]};
  if (!a.moving) in.insert(in.end(), {outputs[1], outputs[2]});
  for (ValueId v : in) back.inputs.push_back(g.shape(v));
  std::vector<ValueId> out = g.emit(std::move(back), in);
  return {{out[0]}, std::vector<ValueId>(out.begin() + 1, out.end())};
}

// dx, dgamma and dbeta of a LayerNormOp in one op.
OpGradients layer_norm(Lowering& g, const ops::Op& op, const ops::LayerNormOp& a, ValueId x, ValueId dy) {
  ops::Op back{.attrs = ops::LayerNormGradOp{a},
               .inputs = {op.inputs[0], op.inputs[0]},
               .outputs = {op.inputs[0]},
               .layer = op.layer};
  if (a.gamma) back.weights.push_back(op.weights[0]);
  for (const Tensor* w : op.weights) back.outputs.push_back(w->shape());
  std::vector<ValueId> out = g.emit(std::move(back), {x, dy});
  return {{out[0]}, std::vector<ValueId>(out.begin() + 1, out.end())};
}

// Backpropagation through time in one op, from the forward's saved outputs (after y and the
// final states).
OpGradients recurrent(Lowering& g, const ops::Op& op, const ops::RecurrentOp& a, const std::vector<ValueId>& inputs,
                      const std::vector<ValueId>& outputs, const std::vector<ValueId>& dy,
                      const std::vector<bool>& need) {
  if (!a.save) throw ValueError("Layer \"" + op.layer + "\": its recurrent op was not built to be differentiated");
  size_t results = 1 + static_cast<size_t>(ops::recurrent_states(a));
  ops::RecurrentGradOp grad{.forward = a};
  std::vector<ValueId> in = inputs;
  in.insert(in.end(), outputs.begin() + static_cast<std::ptrdiff_t>(results), outputs.end());
  for (size_t i = 0; i < results; ++i) {
    grad.output_grads.push_back(dy[i] >= 0);
    if (dy[i] >= 0) in.push_back(dy[i]);
  }
  // One gradient per input but the mask (the last input, when there is one).
  size_t graded = inputs.size() - (a.masked ? 1 : 0);
  ops::Op back{.attrs = std::move(grad),
               .outputs = {op.inputs.begin(), op.inputs.begin() + static_cast<std::ptrdiff_t>(graded)},
               .weights = op.weights,
               .layer = op.layer};
  for (ValueId v : in) back.inputs.push_back(g.shape(v));
  for (const Tensor* w : op.weights) back.outputs.push_back(w->shape());
  std::vector<ValueId> out = g.emit(std::move(back), in);
  OpGradients r;
  for (size_t i = 0; i < inputs.size(); ++i) r.inputs.push_back(i < graded && need[i] ? out[i] : -1);
  r.weights.assign(out.begin() + static_cast<std::ptrdiff_t>(graded), out.end());
  return r;
}

OpGradients layer_grad(Lowering& g, const ops::Op& op, const ops::LayerTrainOp& a, const std::vector<ValueId>& inputs,
                       const std::vector<ValueId>& outputs, const std::vector<ValueId>& dy,
                       const std::vector<bool>& need) {
  bool any_input = false;
  for (bool n : need) any_input = any_input || n;
  ops::LayerGradOp grad{.layer = a.layer, .slot = a.slot, .inputs = inputs.size(), .input_grads = any_input};
  std::vector<ValueId> in = inputs;
  in.insert(in.end(), outputs.begin(), outputs.end());
  for (ValueId d : dy) {
    grad.has_grad.push_back(d >= 0);
    if (d >= 0) in.push_back(d);
  }
  ops::Op back{.attrs = std::move(grad), .layer = op.layer};
  for (ValueId v : in) back.inputs.push_back(g.shape(v));
  if (any_input) back.outputs = op.inputs;
  std::vector<const Variable*> vars = std::as_const(*a.layer).variables();
  for (const Variable* v : vars) back.outputs.push_back(v->value.shape());
  std::vector<ValueId> out = g.emit(std::move(back), in);
  OpGradients r;
  size_t o = 0;
  for (size_t i = 0; i < inputs.size(); ++i) r.inputs.push_back(any_input ? out[o++] : -1);
  for (size_t v = 0; v < vars.size(); ++v) r.weights.push_back(out[o++]);
  return r;
}

// A product of two inputs, neither transposed: the Dot layer's.
bool is_plain_product(const ops::Op& op) {
  const auto* m = std::get_if<ops::MatMulOp>(&op.attrs);
  return m && op.weights.empty() && !m->trans_a && !m->trans_b;
}

}  // namespace

bool differentiable(const ops::Op& op) {
  if (const auto* c = std::get_if<ops::Conv2DOp>(&op.attrs)) return !c->pool;
  return std::holds_alternative<ops::DenseOp>(op.attrs) || std::holds_alternative<ops::Conv2DTransposeOp>(op.attrs) ||
         std::holds_alternative<ops::Pool2DOp>(op.attrs) || std::holds_alternative<ops::GlobalPoolOp>(op.attrs) ||
         std::holds_alternative<ops::ActivationOp>(op.attrs) || std::holds_alternative<ops::TransposeOp>(op.attrs) ||
         std::holds_alternative<ops::DropoutOp>(op.attrs) || std::holds_alternative<ops::BatchNormOp>(op.attrs) ||
         std::holds_alternative<ops::ConcatOp>(op.attrs) || std::holds_alternative<ops::ReverseOp>(op.attrs) ||
         std::holds_alternative<ops::L2NormalizeOp>(op.attrs) || is_plain_product(op) ||
         std::holds_alternative<ops::GatherOp>(op.attrs) || std::holds_alternative<ops::RectifierOp>(op.attrs) ||
         std::holds_alternative<ops::PReluOp>(op.attrs) || std::holds_alternative<ops::MergeOp>(op.attrs) ||
         std::holds_alternative<ops::BroadcastOp>(op.attrs) || std::holds_alternative<ops::PadOp>(op.attrs) ||
         std::holds_alternative<ops::CropOp>(op.attrs) || std::holds_alternative<ops::ResizeOp>(op.attrs) ||
         std::holds_alternative<ops::RecurrentOp>(op.attrs) || std::holds_alternative<ops::LayerTrainOp>(op.attrs) ||
         std::holds_alternative<ops::MaskOp>(op.attrs) || std::holds_alternative<ops::StateOp>(op.attrs) ||
         std::holds_alternative<ops::UnaryOp>(op.attrs) || std::holds_alternative<ops::ReduceOp>(op.attrs) ||
         std::holds_alternative<ops::StridedSliceOp>(op.attrs) || std::holds_alternative<ops::LayerNormOp>(op.attrs) ||
         std::holds_alternative<ops::VariableOp>(op.attrs);
}

bool split_activation(const ops::Op& op, ops::Op& product, ops::Op& activation, bool always) {
  const ops::Epilogue* e = epilogue_of(op);
  if (!e || ops::is_linear(e->activation) || (!always && ops::activation_grad_from_output(e->activation))) return false;
  product = op;
  const Shape& s = op.outputs[0];
  activation = ops::Op{.attrs = ops::ActivationOp{e->activation, s.num_elements(), s.rank() ? s[-1] : 1},
                       .inputs = {s},
                       .outputs = {s},
                       .layer = op.layer};
  if (auto* d = std::get_if<ops::DenseOp>(&product.attrs)) d->epilogue.activation.clear();
  if (auto* c = std::get_if<ops::Conv2DOp>(&product.attrs)) c->epilogue.activation.clear();
  if (auto* t = std::get_if<ops::Conv2DTransposeOp>(&product.attrs)) t->epilogue.activation.clear();
  return true;
}

ValueId sum_gradients(Lowering& g, const std::vector<ValueId>& parts, const std::string& layer) {
  if (parts.size() == 1) return parts[0];
  const Shape& s = g.shape(parts[0]);
  ops::Op op{.attrs = ops::MergeOp{ops::MergeOp::Kind::kAdd, s.num_elements()}, .outputs = {s}, .layer = layer};
  std::vector<ValueId> in;
  for (ValueId p : parts) {
    // Gradients of views reach here in their own shapes.
    in.push_back(g.view(p, s));
    op.inputs.push_back(s);
  }
  return g.emit(std::move(op), in)[0];
}

OpGradients emit_gradients(Lowering& g, const ops::Op& op, const std::vector<ValueId>& inputs,
                           const std::vector<ValueId>& outputs, const std::vector<ValueId>& dy,
                           const std::vector<bool>& need) {
  const std::string& layer = op.layer;
  if (const auto* t = std::get_if<ops::LayerTrainOp>(&op.attrs))
    return layer_grad(g, op, *t, inputs, outputs, dy, need);
  if (const auto* d = std::get_if<ops::DenseOp>(&op.attrs))
    return dense(g, op, *d, inputs[0], outputs[0], dy[0], need[0]);
  if (const auto* c = std::get_if<ops::Conv2DOp>(&op.attrs))
    return conv2d(g, op, *c, inputs[0], outputs[0], dy[0], need[0]);
  if (const auto* t = std::get_if<ops::Conv2DTransposeOp>(&op.attrs))
    return conv2d_transpose(g, op, *t, inputs[0], outputs[0], dy[0], need[0]);
  if (const auto* m = std::get_if<ops::MatMulOp>(&op.attrs)) return matmul(g, op, *m, inputs, dy[0], need);
  if (const auto* gather = std::get_if<ops::GatherOp>(&op.attrs))  // indices have no gradient
    return {{-1}, {emit1(g, {ops::GatherGradOp{*gather}}, {inputs[0], dy[0]}, op.weights[0]->shape(), {}, layer)}};
  if (std::holds_alternative<ops::PReluOp>(op.attrs)) {
    ops::Op back{.attrs = ops::PReluGradOp{},
                 .inputs = {op.inputs[0], op.inputs[0]},
                 .outputs = {op.inputs[0], op.weights[0]->shape()},
                 .weights = op.weights,
                 .layer = layer};
    std::vector<ValueId> d = g.emit(std::move(back), {inputs[0], dy[0]});
    return {{need[0] ? d[0] : -1}, {d[1]}};
  }
  if (std::holds_alternative<ops::VariableOp>(op.attrs)) return {{}, {dy[0]}};
  if (const auto* n = std::get_if<ops::BatchNormOp>(&op.attrs)) return batch_norm(g, op, *n, inputs, outputs, dy);
  if (const auto* ln = std::get_if<ops::LayerNormOp>(&op.attrs)) return layer_norm(g, op, *ln, inputs[0], dy[0]);
  if (const auto* rnn = std::get_if<ops::RecurrentOp>(&op.attrs))
    return recurrent(g, op, *rnn, inputs, outputs, dy, need);
  OpGradients r{std::vector<ValueId>(inputs.size(), -1), {}};
  if (const auto* p = std::get_if<ops::Pool2DOp>(&op.attrs)) {
    if (need[0]) r.inputs[0] = emit1(g, {ops::Pool2DGradOp{*p}}, {inputs[0], dy[0]}, op.inputs[0], {}, layer);
  } else if (const auto* gp = std::get_if<ops::GlobalPoolOp>(&op.attrs)) {
    std::vector<ValueId> in{inputs[0], outputs[0], dy[0]};
    if (gp->masked) in.push_back(inputs[1]);
    if (need[0]) r.inputs[0] = emit1(g, {ops::GlobalPoolGradOp{*gp}}, in, op.inputs[0], {}, layer);
  } else if (std::holds_alternative<ops::MaskOp>(op.attrs) || std::holds_alternative<ops::StateOp>(op.attrs)) {
    // No gradient: masks and RNN states are constants of the backward pass.
  } else if (const auto* a = std::get_if<ops::ActivationOp>(&op.attrs)) {
    ValueId z = ops::activation_grad_from_output(a->name) ? outputs[0] : inputs[0];
    if (need[0]) r.inputs[0] = activation_grad(g, a->name, z, outputs[0], dy[0], layer);
  } else if (const auto* t = std::get_if<ops::TransposeOp>(&op.attrs)) {
    if (need[0])
      r.inputs[0] = emit1(g, {ops::TransposeOp{inverse_permutation(t->perm)}}, {dy[0]}, op.inputs[0], {}, layer);
  } else if (const auto* c = std::get_if<ops::ConcatOp>(&op.attrs)) {
    Dim total = 0, offset = 0;
    for (Dim w : c->widths) total += w;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (need[i])
        r.inputs[i] = emit1(g, {ops::SliceOp{c->outer, c->widths[i], offset, total}}, {dy[0]}, op.inputs[i], {}, layer);
      offset += c->widths[i];
    }
  } else if (const auto* f = std::get_if<ops::RectifierOp>(&op.attrs)) {
    if (need[0]) r.inputs[0] = emit1(g, {ops::RectifierGradOp{*f}}, {inputs[0], dy[0]}, op.inputs[0], {}, layer);
  } else if (const auto* l2 = std::get_if<ops::L2NormalizeOp>(&op.attrs)) {
    if (need[0]) r.inputs[0] = emit1(g, {ops::L2NormalizeGradOp{*l2}}, {inputs[0], dy[0]}, op.inputs[0], {}, layer);
  } else if (const auto* u = std::get_if<ops::UnaryOp>(&op.attrs)) {
    if (need[0])
      r.inputs[0] = emit1(g, {ops::UnaryGradOp{*u}}, {inputs[0], outputs[0], dy[0]}, op.inputs[0], {}, layer);
  } else if (const auto* red = std::get_if<ops::ReduceOp>(&op.attrs)) {
    if (need[0])
      r.inputs[0] = emit1(g, {ops::ReduceGradOp{*red}}, {inputs[0], outputs[0], dy[0]}, op.inputs[0], {}, layer);
  } else if (const auto* sl = std::get_if<ops::StridedSliceOp>(&op.attrs)) {
    if (need[0]) r.inputs[0] = emit1(g, {ops::StridedSliceGradOp{*sl}}, {dy[0]}, op.inputs[0], {}, layer);
  } else if (const auto* rev = std::get_if<ops::ReverseOp>(&op.attrs)) {
    if (need[0]) r.inputs[0] = emit1(g, {*rev}, {dy[0]}, op.inputs[0], {}, layer);
  } else if (std::holds_alternative<ops::BroadcastOp>(op.attrs)) {
    if (need[0]) r.inputs[0] = emit1(g, {ops::ReduceToOp{}}, {dy[0]}, op.inputs[0], {}, layer);
  } else if (const auto* p = std::get_if<ops::PadOp>(&op.attrs)) {
    if (need[0]) r.inputs[0] = emit1(g, {ops::CropOp{p->before}}, {dy[0]}, op.inputs[0], {}, layer);
  } else if (const auto* c = std::get_if<ops::CropOp>(&op.attrs)) {
    if (need[0]) r.inputs[0] = emit1(g, {ops::PadOp{c->begin}}, {dy[0]}, op.inputs[0], {}, layer);
  } else if (const auto* z = std::get_if<ops::ResizeOp>(&op.attrs)) {
    if (need[0]) r.inputs[0] = emit1(g, {ops::ResizeGradOp{z->geometry}}, {dy[0]}, op.inputs[0], {}, layer);
  } else if (std::holds_alternative<ops::DropoutOp>(op.attrs)) {
    if (need[0])
      r.inputs[0] = emit1(g, {ops::MergeOp{ops::MergeOp::Kind::kMultiply, op.inputs[0].num_elements()}},
                          {dy[0], outputs[1]}, op.inputs[0], {}, layer);
  } else if (const auto* m = std::get_if<ops::MergeOp>(&op.attrs)) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!need[i]) continue;
      if (m->kind == ops::MergeOp::Kind::kAdd) {
        r.inputs[i] = dy[0];
      } else if (m->kind == ops::MergeOp::Kind::kMultiply && inputs.size() == 2) {  // dx0 = dy * x1, dx1 = dy * x0
        r.inputs[i] = emit1(g, {ops::MergeOp{ops::MergeOp::Kind::kMultiply, m->size}}, {dy[0], inputs[1 - i]},
                            op.inputs[i], {}, layer);
      } else {
        std::vector<ValueId> in = inputs;
        in.push_back(dy[0]);
        r.inputs[i] = emit1(g, {ops::MergeGradOp{*m, i}}, in, op.inputs[i], {}, layer);
      }
    }
  } else {
    throw NotImplementedError(std::string("No gradient for the ") + ops::kind_name(op) + " op of layer \"" + layer +
                              "\"");
  }
  return r;
}

}  // namespace keras::graph
