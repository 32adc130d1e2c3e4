#pragma once
// keras.ops operations in Keras 3 functional configs (`x * 2.0`, `keras.ops.mean(x, axis=1)`:
// entries whose module is keras.src.ops.*) and tf.keras's op layers (TFOpLambda and
// SlicingOpLambda, `tf.math.multiply`, `x[:, 0]`) as layers: each one computes what Keras
// computes, with the constants of its call, and is written back as Keras writes it.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "keras/layer.h"
#include "layers/operations/call_arguments.h"

namespace keras::layers::operations {

// A functional config entry that is an operation (Keras 3) or an op layer (tf.keras).
bool is_operation_entry(const nlohmann::json& entry);
// Empty when keras.cpp computes the entry's operation, else why not ("keras.src.ops.numpy
// Einsum", "tf.signal.fft", "Cast to int32").
std::string unsupported_reason(const nlohmann::json& entry);
// The operation of `entry` as called with `call` (its first node's arguments).
Layer from_entry(const nlohmann::json& entry, const CallArguments& call);

// The same arguments but for their tensors (a layer called once per node: its nodes must agree).
bool same_constants(const CallArguments& a, const CallArguments& b);

}  // namespace keras::layers::operations
