#pragma once
// The CPU backend's elementwise and row-wise operators (activations and their gradients,
// merges, bias gradients, dropout, BatchNormalization in training): the reference backend's arithmetic, in the same
// order per value, split over the runtime's threads in chunks that never share an output, so results equal the
// reference backend's whatever the thread count.
#include <memory>

#include "backends/backend.h"

namespace keras::backends::cpu {

bool supports_elementwise(const ops::Op& op);
// Null for an op supports_elementwise() refuses.
std::unique_ptr<Operator> create_elementwise(const ops::Op& op);

}  // namespace keras::backends::cpu
