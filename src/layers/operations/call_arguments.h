#pragma once
// The arguments of one call of a keras.ops operation or a tf.keras op layer, as a Keras 3
// functional config writes them (keras/src/models/functional.py serialize_node): {"args":
// [...], "kwargs": {...}}, each input tensor an {"class_name": "__keras_tensor__", ...} entry,
// everything else a constant (numbers, lists, None, slices...). tf.keras's node form
// (keras/engine/node.py serialize: [layer, node, tensor, kwargs], ["_CONSTANT_VALUE", -1,
// value, kwargs], or a list of those for a list argument) is read into the same form.
#include <nlohmann/json.hpp>
#include <vector>

namespace keras::layers::operations {

struct CallArguments {
  nlohmann::json args = nlohmann::json::array();
  nlohmann::json kwargs = nlohmann::json::object();
};

bool is_tensor_entry(const nlohmann::json& j);

// The call's tensors in Keras's order (tree.flatten((args, kwargs)): args depth first, then
// kwargs by key), as [layer, node, tensor] triples.
std::vector<nlohmann::json> tensor_refs(const CallArguments& call);

// The call with its i-th tensor (tensor_refs order) replaced by tensors[i].
CallArguments with_tensors(const CallArguments& call, const std::vector<nlohmann::json>& tensors);

// The call with each tensor replaced by {"__input__": i}, its place among the layer's inputs:
// what the operation computes with.
CallArguments numbered(const CallArguments& call);
bool is_input_entry(const nlohmann::json& j);
size_t input_index(const nlohmann::json& j);

// A functional config's inbound node of an op layer, in either form.
CallArguments read_node(const nlohmann::json& node);

}  // namespace keras::layers::operations
