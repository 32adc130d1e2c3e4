#include "ops/op.h"

namespace keras::ops {

const char* kind_name(const Op& op) {
  // In OpAttrs order.
  static constexpr const char* kNames[] = {"dense",
                                           "conv2d",
                                           "conv2d_transpose",
                                           "pool2d",
                                           "global_pool",
                                           "activation",
                                           "rectifier",
                                           "prelu",
                                           "gather",
                                           "affine",
                                           "merge",
                                           "broadcast",
                                           "concat",
                                           "transpose",
                                           "reverse",
                                           "pad",
                                           "crop",
                                           "resize",
                                           "mask",
                                           "state",
                                           "variable",
                                           "unary",
                                           "reduce",
                                           "strided_slice",
                                           "layer_call",
                                           "matmul",
                                           "l2_normalize",
                                           "bias_grad",
                                           "activation_grad",
                                           "conv2d_grad",
                                           "pool2d_grad",
                                           "global_pool_grad",
                                           "dropout",
                                           "batch_norm",
                                           "batch_norm_grad",
                                           "layer_norm",
                                           "layer_norm_grad",
                                           "slice",
                                           "reduce_to",
                                           "merge_grad",
                                           "rectifier_grad",
                                           "prelu_grad",
                                           "gather_grad",
                                           "l2_normalize_grad",
                                           "resize_grad",
                                           "recurrent",
                                           "recurrent_grad",
                                           "unary_grad",
                                           "reduce_grad",
                                           "strided_slice_grad",
                                           "optimizer_update",
                                           "layer_train",
                                           "layer_grad"};
  static_assert(std::size(kNames) == std::variant_size_v<OpAttrs>);
  return kNames[op.attrs.index()];
}

double flops(const Op& op) {
  if (const auto* d = std::get_if<DenseOp>(&op.attrs)) return 2.0 * double(d->rows) * double(d->in) * double(d->units);
  if (const auto* c = std::get_if<Conv2DOp>(&op.attrs)) {
    const Conv2DArgs& g = c->geometry;
    double per_output = double(g.k_h * g.k_w) * double(c->depthwise ? 1 : g.in_c / g.groups);
    return 2.0 * double(g.batch * g.out_h * g.out_w) * double(g.out_c) * per_output;
  }
  if (const auto* c = std::get_if<Conv2DTransposeOp>(&op.attrs)) {
    const Conv2DArgs& g = c->geometry;
    return 2.0 * double(g.batch * g.out_h * g.out_w) * double(g.out_c) * double(g.k_h * g.k_w) * double(g.in_c);
  }
  if (const auto* m = std::get_if<MatMulOp>(&op.attrs))
    return 2.0 * double(m->batch) * double(m->m) * double(m->n) * double(m->k);
  if (const auto* r = std::get_if<RecurrentOp>(&op.attrs)) {
    double gates = r->cell == RecurrentOp::Cell::kLSTM ? 4 : r->cell == RecurrentOp::Cell::kGRU ? 3 : 1;
    double in = double(r->features), rec = double(r->units);
    if (r->conv) {
      in *= double(r->input_conv.k_h * r->input_conv.k_w);
      rec *= double(r->recurrent_conv.k_h * r->recurrent_conv.k_w);
    }
    return 2.0 * double(r->batch * r->steps * r->rows) * gates * double(r->units) * (in + rec);
  }
  if (const auto* c = std::get_if<Conv2DGradOp>(&op.attrs)) {
    const Conv2DArgs& g = c->geometry;
    double per_output = double(g.k_h * g.k_w) * double(c->depthwise ? 1 : g.in_c / g.groups);
    return 2.0 * double(g.batch * g.out_h * g.out_w) * double(g.out_c) * per_output;
  }
  return 0;
}

}  // namespace keras::ops
