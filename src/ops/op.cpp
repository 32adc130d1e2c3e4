#include "ops/op.h"

namespace keras::ops {

const char* kind_name(const Op& op) {
  // In OpAttrs order.
  static constexpr const char* kNames[] = {"dense",  "conv2d", "pool2d",    "global_pool", "activation",
                                           "affine", "merge",  "concat",    "transpose",   "layer_call"};
  static_assert(std::size(kNames) == std::variant_size_v<OpAttrs>);
  return kNames[op.attrs.index()];
}

}  // namespace keras::ops
